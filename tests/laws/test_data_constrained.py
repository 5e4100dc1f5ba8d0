"""The data-constrained law (Muennighoff et al. 2023) and the optima that use it."""

import math

import numpy as np
import pytest
from conftest import examples
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import log_uniform

import scaleplan as sp
from scaleplan.laws.data_constrained import (
    MUENNIGHOFF2023,
    RD_STAR,
    RN_STAR,
    DataConstrainedLaw,
)
from scaleplan.optimal.data_constrained import training_optimal
from scaleplan.paper.tables import TABLE_3_PRINTED
from scaleplan.testing import reference as _reference


def test_the_repository_examples_to_every_printed_digit():
    # Figure 1 (right), as the authors' README prints it.
    assert MUENNIGHOFF2023.loss(6.34e9, 242e9, 25e9) == 2.2256440889984477
    assert MUENNIGHOFF2023.loss(8.67e9, 178e9, 25e9) == 2.2269634075087867


@given(
    st.sampled_from([MUENNIGHOFF2023, DataConstrainedLaw(sp.CHINCHILLA)]),
    log_uniform(1e6, 1e13),
    log_uniform(1e8, 1e15),
    log_uniform(1e8, 1e14),
)
def test_rust_matches_the_reference(law, n, d, u):
    loss, dn, dd, _, _ = law.evaluate(n, d, u)
    want = _reference.data_constrained_loss(law.law.coefficients, law.rd_star, law.rn_star,
                                            n, d, u)  # fmt: skip
    # measured at most: loss 4.2e-16; dn 1.6e-12 and dd 2.3e-15 relative (1.6e-15 absolute)
    assert loss == pytest.approx(want[0], rel=5e-14)
    assert dn == pytest.approx(want[1] * n, rel=1e-10, abs=1e-13)
    assert dd == pytest.approx(want[2] * d, rel=3e-13, abs=1e-13)


def test_an_ample_supply_changes_nothing():
    loss = np.linspace(1.9, 2.5, 7)[:, None]
    demand = np.geomspace(1e9, 1e14, 6)
    plain = sp.compute_optimal(loss, demand)
    got = sp.compute_optimal(loss, demand, unique_tokens=1.001 * plain.tokens.max())
    assert not got.binding.any()
    np.testing.assert_allclose(got.params, plain.params, rtol=1e-12)
    np.testing.assert_allclose(got.tokens, plain.tokens, rtol=1e-12)
    assert np.all(got.premium == 0.0)


def test_a_binding_supply_repeats_data_and_costs_more():
    costs = sp.CostModel.sardana2024_table3()
    loss = float(sp.chinchilla_optimal(params=70e9).loss)
    plain = sp.cost_optimal(loss, 35.1e9, costs=costs)
    got = sp.cost_optimal(loss, 35.1e9, costs=costs, unique_tokens=[5e12, 15e12])
    assert got.binding.all() and np.all(got.epochs > 1)
    assert np.all(got.premium > 0) and got.premium[0] > got.premium[1]
    law = DataConstrainedLaw(sp.CHINCHILLA)
    # measured: 1.2e-16 and 0 relative
    np.testing.assert_allclose(law.loss(got.params, got.tokens, [5e12, 15e12]), loss, rtol=1e-14)
    np.testing.assert_allclose(got.total_dollars / plain.total_dollars - 1, got.premium,
                               rtol=1e-13)  # fmt: skip


def test_below_the_floor_is_a_value_error():
    law = DataConstrainedLaw(sp.CHINCHILLA)
    floor = law.floor(1e10)
    with pytest.raises(ValueError, match="floor") as err:
        sp.compute_optimal(floor, 0.0, unique_tokens=1e10)
    assert err.value.argument == "loss"
    got = sp.compute_optimal([floor, floor + 0.01], 0.0, unique_tokens=1e10, on_invalid="nan")
    assert math.isnan(got.params[0]) and got.params[1] > 0
    for bad in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError) as err:
            sp.compute_optimal(2.0, 1e12, unique_tokens=bad)
        assert err.value.argument == "unique_tokens"
    for name, value in (("rd_star", 0.0), ("rn_star", -1.0), ("rd_star", math.nan)):
        with pytest.raises(ValueError, match=name):
            DataConstrainedLaw(sp.CHINCHILLA, **{name: value})


def test_the_training_optimum_is_exact_where_the_repository_uses_a_grid():
    # optimal_allocation(10**22, 25e9) in the authors' README: 237,336,955,477.55 tokens,
    # 9.4935 epochs, 7,022,364,735.88 parameters, from a grid of 500 ratios.
    got = training_optimal(1e22, 25e9)
    grid = MUENNIGHOFF2023.loss(7022364735.879969, 237336955477.55075, 25e9)
    assert got.loss <= grid
    assert got.tokens == pytest.approx(237336955477.55075, rel=1e-3)
    assert got.params == pytest.approx(7022364735.879969, rel=1e-3)
    assert 6 * got.params * got.tokens == pytest.approx(1e22, rel=1e-12)
    # Unlimited data: the Chinchilla split of the same law.
    free = training_optimal(1e20, 1e15)
    chin = sp.chinchilla_optimal(compute=1e20, law=MUENNIGHOFF2023.law)
    assert not free.binding and free.epochs < 1
    assert (free.params, free.tokens) == pytest.approx((chin.params, chin.tokens), rel=1e-12)


def test_published_constants():
    assert (RD_STAR, RN_STAR) == (15.387756, 5.309743)
    assert MUENNIGHOFF2023.law.E == math.exp(0.6254804)


def test_table_3_premiums():
    # The closing note's numbers: the finite-data premium of Table 3's scenarios.
    costs = sp.CostModel.sardana2024_table3()
    premiums = {}
    for requests, chin, *_ in TABLE_3_PRINTED:
        loss = float(sp.chinchilla_optimal(params=chin).loss)
        o = sp.cost_optimal(loss, requests, costs=costs, unique_tokens=[5e12, 15e12])
        premiums[chin] = o.premium
    assert all(p[0] == 0 for c, p in premiums.items() if c <= 13e9)
    assert 0 < premiums[30e9][0] < premiums[70e9][0] < 0.1


def run_cli(*args):
    import json

    from inprocess import run_cli as run_in_process

    r = run_in_process(args)
    return r, (json.loads(r.stdout) if r.returncode == 0 and "--json" in args else None)


def test_the_command_line_takes_unique_tokens():
    r, data = run_cli("cost-optimal", "--chinchilla-params", "70e9", "--requests", "35.1e9",
                      "--table3", "--unique-tokens", "5e12", "--json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    limited = data["data_constrained"]
    want = sp.cost_optimal(data["loss"], 35.1e9, costs=sp.CostModel.sardana2024_table3(),
                           unique_tokens=5e12)  # fmt: skip
    assert limited["params"] == want.params and limited["binding"]
    assert limited["premium"] == pytest.approx(float(want.premium), rel=1e-12)
    r, data = run_cli("compute-optimal", "--unique-tokens", "1e15", "--json")
    assert data["data_constrained"]["binding"] is False
    assert data["data_constrained"]["params"] == data["optimal"]["params"]
    r, data = run_cli("plan", "--unique-tokens", "1e11", "--json")
    assert data["data_constrained"]["epochs"] > 1
    for args in (("plan", "--unique-tokens", "0"), ("compute-optimal", "--unique-tokens", "-1"),
                 ("compute-optimal", "--loss", "1.75", "--unique-tokens", "1e9")):  # fmt: skip
        r, _ = run_cli(*args)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r, data = run_cli("presets", "--json")
    assert data["muennighoff2023"]["alpha"] == 0.3526596


def test_best_quality_takes_a_supply():
    budget, demand = np.array([1e23, 1e24, 1e25]), 1e13
    plain = sp.best_quality(budget, demand)
    free = sp.best_quality(budget, demand, unique_tokens=1.01 * plain.tokens.max())
    assert not free.binding.any()
    np.testing.assert_allclose(free.params, plain.params, rtol=1e-12)
    tight = sp.best_quality(budget, demand, unique_tokens=1e12)
    assert tight.binding.all() and np.all(tight.loss > plain.loss)
    np.testing.assert_allclose(tight.params * (6 * tight.tokens + 2 * demand), budget, rtol=1e-12)
    # A dollar budget is the FLOP problem of its training-FLOP equivalents, counted here by
    # hand: A100 dense peaks from NVIDIA's datasheet (bf16 312 TFLOP/s, int8 624 TOP/s),
    # $1.50/h to train at 50% MFU, $1.10/h to serve at 50% (prompt) and 1% (generated).
    costs = sp.CostModel(train_gpu="a100-80gb", inference_gpu="a100-40gb",
                         train_precision="bf16", inference_precision="int8",
                         train_price_per_hour=1.50, inference_price_per_hour=1.10,
                         train_mfu=0.5, prefill_mfu=0.5, decode_mfu=0.01)  # fmt: skip
    c_tr, c_inf = 1.50 / (3600 * 312e12), 1.10 / (3600 * 624e12)  # dollars per peak FLOP
    # A served token costs 2 N FLOPs at its phase's MFU, a trained one 6 N at training's;
    # the demand counts a token 2 N (3 of them make a trained token's 6 N).
    w_in, w_out = (c_inf / 0.5) / (c_tr / 0.5), (c_inf / 0.01) / (c_tr / 0.5)
    dollars = sp.best_quality(dollar_budget=1e6, requests=1e10, costs=costs, unique_tokens=2e11)
    flops = sp.best_quality(1e6 * 0.5 / c_tr, 1e10 * (70 * w_in + 215 * w_out),
                            unique_tokens=2e11)  # fmt: skip
    assert dollars.binding and dollars.params == pytest.approx(flops.params, rel=1e-12)
    # Below 2**53 FLOPs a budget keeps its fraction of a FLOP: pi nanodollars are
    # 1,176,212,289.504 FLOPs, and a floor would move N by 2.2e-10 (measured: the two
    # paths agree exactly, 2026-12-07).
    small = sp.best_quality(dollar_budget=math.pi * 1e-9, requests=1.0, costs=costs,
                            unique_tokens=2e11)  # fmt: skip
    exact = sp.best_quality(math.pi * 1e-9 * 0.5 / c_tr, 70 * w_in + 215 * w_out,
                            unique_tokens=2e11)  # fmt: skip
    assert small.params == pytest.approx(exact.params, rel=1e-12)
    with pytest.raises(ValueError, match="exactly one"):
        sp.best_quality(1e6, unique_tokens=1e12)
    with pytest.raises(ValueError) as err:
        sp.best_quality(-1.0, demand, unique_tokens=1e12)
    assert err.value.argument == "flop_budget"


def _cheapest_on_a_grid(law, loss, demand, unique):
    """Brute force: for 3,000 values of D on both sides of U, the N reaching the loss (by
    bisection on all of them at once; the loss falls with N), and the least cost."""
    d = unique * np.geomspace(0.1, 1000.0, 3000)
    lo, hi = np.full(d.shape, np.log(1e3)), np.full(d.shape, np.log(1e17))
    reachable = law.loss(np.exp(hi), d, unique) < loss
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        above = law.loss(np.exp(mid), d, unique) > loss
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    cost = np.exp(hi) * (6 * d + 2 * demand)
    return cost[reachable].min() if reachable.any() else None


@settings(max_examples=examples(40 / 300))
@given(st.floats(1.85, 2.6), log_uniform(1e10, 1e16), st.floats(0.0, 1.0))
def test_the_optimum_is_the_cheapest_point_of_the_curve(loss, demand, fraction):
    law = DataConstrainedLaw(sp.CHINCHILLA)
    tokens = float(sp.compute_optimal(loss, demand).tokens)
    # The supply is drawn between the least one that reaches the loss (the floor falls as U
    # grows; bisection in ln U) and 0.98 of the unconstrained tokens. A fraction of the
    # tokens (0.02 to 0.98) put 20% of the draws below the floor, assumed away.
    lo, hi = math.log(1e-3 * tokens), math.log(tokens)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if law.floor(math.exp(mid)) > loss - 1e-5 else (lo, mid)
    least = math.exp(hi)
    unique = least + fraction * (0.98 * tokens - least)
    assume(loss > law.floor(unique) + 1e-6)
    got = sp.compute_optimal(loss, demand, unique_tokens=unique)
    assert got.binding
    brute = _cheapest_on_a_grid(law, loss, demand, unique)
    assert brute is not None
    assert got.total_flops <= brute * (1 + 1e-9)
    # measured: 3.7e-16 relative at most
    assert law.loss(got.params, got.tokens, unique) == pytest.approx(loss, rel=5e-14)


def test_the_physical_optimum_takes_a_supply():
    from scaleplan.optimal.physical_optimum import ServingCurve, physical_optimal, whole_gpu_plan

    costs = sp.CostModel.sardana2024_table3()
    curve = ServingCurve.roofline(sp.Deployment.from_costs(costs))
    loss = float(sp.chinchilla_optimal(params=70e9).loss)
    plain = physical_optimal(loss, 35.1e9, curve=curve, costs=costs)
    got = physical_optimal(loss, 35.1e9, curve=curve, costs=costs,
                           unique_tokens=[1e12, 5e12, 1e15])  # fmt: skip
    assert list(got.binding) == [True, True, False]
    assert (got.params[2], got.tokens[2]) == (plain.params, plain.tokens)
    assert np.all(got.total_dollars[:2] > plain.total_dollars)
    np.testing.assert_allclose(got.premium, got.total_dollars / plain.total_dollars - 1,
                               rtol=1e-12)  # fmt: skip
    assert got.premium[2] == 0 and got.premium[0] > got.premium[1] > 0
    law = DataConstrainedLaw(sp.CHINCHILLA)
    # measured: 1.2e-16 relative
    np.testing.assert_allclose(law.loss(got.params, got.tokens, [1e12, 5e12, 1e15]), loss,
                               rtol=1e-14)  # fmt: skip
    # The whole-GPU plan trains each candidate shape to the loss under the supply.
    options = dict(deployment=sp.Deployment(costs.inference_gpu, precision="int8"),
                   requests_per_day=35.1e9 / 365, days=365, training=costs.train_gpu)  # fmt: skip
    plan = whole_gpu_plan(loss, float(got.params[1]), unique_tokens=5e12, **options)
    # measured: 0 (the same bits); rel 1e-13 leaves room for rounding
    assert law.loss(plan.params, plan.tokens, 5e12) == pytest.approx(loss, rel=1e-13)
    with pytest.raises(ValueError, match="floor"):
        physical_optimal(law.floor(1e10), 1e9, curve=curve, costs=costs, unique_tokens=1e10)
    _, data = run_cli("plan", "--as-good-as", "70e9", "--requests-per-day", "1e8",
                      "--unique-tokens", "2e12", "--json")  # fmt: skip
    fluid = data["models"]["recommendation"]["physical"]["fluid"]
    assert fluid["binding"] and fluid["epochs"] > 1 and fluid["premium"] > 0


def test_a_budget_optimum_echoes_its_inputs_in_their_places():
    """Mutation testing found the echoed budget could be the demand column unnoticed."""
    budget, demand, supply = np.array([1e23, 3e24]), np.array([1e12, 5e13]), 2e11
    got = sp.best_quality(budget, demand, unique_tokens=supply)
    np.testing.assert_array_equal(got.budget, budget)
    np.testing.assert_array_equal(got.inference_tokens, demand)
    np.testing.assert_array_equal(got.unique_tokens, [supply, supply])
    trained = sp.training_optimal(np.array([1e22, 1e23]), supply)
    np.testing.assert_array_equal(trained.budget, [1e22, 1e23])
    np.testing.assert_array_equal(trained.inference_tokens, [0.0, 0.0])


def test_the_muennighoff_preset_is_the_published_c4_fit():
    """Muennighoff et al. 2023's repository prints the C4 fit as logs: a = 6.255414,
    b = 7.3049974, e = 0.6254804, and alpha = beta = 0.3526596 (mutation testing found
    beta could change unnoticed)."""
    law = sp.laws.PRESETS["muennighoff2023"]
    assert (law.alpha, law.beta) == (0.3526596, 0.3526596)
    assert (law.E, law.A, law.B) == (math.exp(0.6254804), math.exp(6.255414),
                                     math.exp(7.3049974))  # fmt: skip


def test_the_law_is_frozen_named_by_its_base_law_and_labels_its_losses():
    """Mutation gaps (full run, 2026-12-07): the dataclass's `frozen`, `name` as a property
    and `loss`'s labelling each survived every test."""
    import dataclasses

    pd = pytest.importorskip("pandas")
    law = sp.DataConstrainedLaw(sp.CHINCHILLA)
    with pytest.raises(dataclasses.FrozenInstanceError):
        law.rd_star = 1.0  # type: ignore[misc]
    assert law.name == sp.CHINCHILLA.name == "chinchilla"
    params = pd.Series([7e9, 1e10], index=["small", "large"], name="params")
    out = law.loss(params, 2e12, 1e12)
    assert isinstance(out, pd.Series) and list(out.index) == ["small", "large"]
    assert out.name == "loss"
    np.testing.assert_array_equal(out.to_numpy(), law.loss(params.to_numpy(), 2e12, 1e12))


def test_tokens_for_params_is_nan_where_the_loss_is_out_of_reach():
    """Below the floor that 7e9 parameters reach on 1e11 unique tokens no token count
    reaches the loss: NaN, not the bisection's upper end (mutation testing, 2026-12-07)."""
    from scaleplan.optimal.data_constrained import tokens_for_params

    law = sp.DataConstrainedLaw(sp.CHINCHILLA)
    d = tokens_for_params(np.array([1.5, 2.3]), 7e9, unique_tokens=1e11, law=law)
    assert np.isnan(d[0]) and 1e10 < d[1] < 1e12
    np.testing.assert_allclose(law.loss(7e9, d[1], 1e11), 2.3, rtol=1e-12)


def test_the_physical_optimum_under_a_supply_echoes_its_inputs_in_their_places():
    loss, requests, unique = np.array([2.2, 2.3]), np.array([1e9, 3e9]), np.array([5e10, 2e11])
    r = sp.physical_optimal(loss, requests, unique_tokens=unique)
    np.testing.assert_array_equal(r.loss, loss)
    np.testing.assert_array_equal(r.requests, requests)
    np.testing.assert_array_equal(r.unique_tokens, unique)


def test_the_derived_quantities_of_every_constrained_result():
    """Epochs, premiums, totals and the reached loss of the three data-constrained results,
    each from its definition (mutation testing, 2026-12-07, found them untested)."""
    law = sp.DataConstrainedLaw(sp.CHINCHILLA)
    unique = np.array([1e11, 2e11])
    lifetime = sp.compute_optimal(np.array([2.1, 2.2]), 1e12, unique_tokens=unique)
    np.testing.assert_array_equal(lifetime.epochs, lifetime.tokens / unique)
    plain = sp.compute_optimal(np.array([2.1, 2.2]), 1e12)
    np.testing.assert_array_equal(lifetime.unlimited.params, plain.params)
    np.testing.assert_allclose(lifetime.premium, lifetime.total_flops / plain.total_flops - 1,
                               rtol=1e-12)  # fmt: skip
    assert np.all(lifetime.premium > 0) and lifetime.converged.tolist() == [True, True]
    budget = sp.best_quality(flop_budget=np.array([1e22, 1e23]), inference_tokens=1e12,
                             unique_tokens=1e11)  # fmt: skip
    np.testing.assert_array_equal(budget.epochs, budget.tokens / 1e11)
    np.testing.assert_array_equal(budget.loss, law.loss(budget.params, budget.tokens, 1e11))
    served = sp.physical_optimal(np.array([2.1, 2.2]), 1e9, unique_tokens=unique)
    np.testing.assert_array_equal(served.epochs, served.tokens / unique)
    free = served.unlimited
    np.testing.assert_allclose(served.premium, served.total_dollars / free.total_dollars - 1,
                               rtol=1e-12)  # fmt: skip
    assert np.all(served.premium > 0) and served.converged.tolist() == [True, True]
    # A scarce supply (47 epochs) costs several times the unlimited optimum: the premium
    # passes 1, where a remainder would no longer pass for a difference.
    scarce = sp.compute_optimal(2.1, 1e12, unique_tokens=3e10)
    assert scarce.premium == pytest.approx(
        scarce.total_flops / sp.compute_optimal(2.1, 1e12).total_flops - 1, rel=1e-12
    )
    assert scarce.premium > 1
    served = sp.physical_optimal(2.1, 1e9, unique_tokens=3e10)
    free = sp.physical_optimal(2.1, 1e9)
    assert served.premium == pytest.approx(served.total_dollars / free.total_dollars - 1,
                                           rel=1e-12)  # fmt: skip
    assert served.premium > 1
