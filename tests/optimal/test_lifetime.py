import math

import numpy as np
import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st
from strategies import demands, gaps, laws, log_uniform

import scaleplan as sp
from scaleplan import _core
from scaleplan.paper.tables import table_2
from scaleplan.testing import reference as ref

LN_MAX = 709.78


def test_table_2_of_sardana_2024():
    for row in table_2():
        assert row.params == pytest.approx(row.paper_params, rel=0.01)
        assert row.tokens == pytest.approx(row.paper_tokens, rel=0.01)
        assert row.flops == pytest.approx(row.paper_flops, rel=0.01)
        assert row.chinchilla_tokens == pytest.approx(row.paper_chinchilla_tokens, rel=0.01)
        assert row.chinchilla_flops == pytest.approx(row.paper_chinchilla_flops, rel=0.01)
        assert abs(row.reduction - row.paper_reduction) < 0.005
        assert round(row.loss, 2) == row.paper_loss


def test_rounded_loss_misses_table_2():
    # Why the table is keyed by model size: at the printed (rounded) loss 2.13 the optimum
    # is 5.29B, 2% off the printed 5.4B. 5.29e9: snapshot of scaleplan's own output on
    # (2.13, 2e11), not an independent source (test_rust_matches_reference checks the solver).
    assert sp.compute_optimal(2.13, 2e11).params == pytest.approx(5.29e9, rel=2e-3)


def test_scalar_in_scalar_out():
    r = sp.compute_optimal(2.1274, 2e11)
    for field in ("params", "tokens", "loss", "inference_tokens", "training_flops"):
        assert type(getattr(r, field)) is float
    assert type(r.iterations) is int and r.converged is True
    assert r.total_flops == r.training_flops + r.inference_flops
    assert r.tokens_per_param == pytest.approx(r.tokens / r.params)
    assert r.chinchilla.params == pytest.approx(7e9, rel=1e-3)
    assert 0.02 < r.flop_saving < 0.03


@pytest.mark.parametrize("loss", [1.70, 1.9, 2.2, 3.0, 6.0])
def test_zero_demand_equals_chinchilla(loss):
    r = sp.compute_optimal(loss, 0.0)
    c = sp.chinchilla_optimal(loss=loss)
    assert r.params == pytest.approx(c.params, rel=1e-12)
    assert r.tokens == pytest.approx(c.tokens, rel=1e-12)
    assert r.iterations == 0 and r.flop_saving == pytest.approx(0.0, abs=1e-12)


@given(laws, gaps, demands)
def test_rust_matches_reference(law, gap, demand):
    event("zero demand" if demand == 0 else "positive demand")  # --hypothesis-show-statistics
    target = law[0] + gap
    ln_n, ln_d, _ = ref.lifetime_log_optimum(law, target, demand)
    in_range = all(-708.0 <= v <= LN_MAX for v in (ln_n, ln_d))
    event("in range" if in_range else "out of range")  # the latter: test_outside_float64_...
    if not in_range:
        with pytest.raises(ValueError, match="outside the float64 range"):
            sp.compute_optimal(target, demand, law=sp.ScalingLaw(*law))
        return
    r = sp.compute_optimal(target, demand, law=sp.ScalingLaw(*law))
    assert r.converged
    # measured at most (1,000 examples): tokens 1.1e-13, params 3.0e-13, loss 4.4e-14
    assert r.tokens == pytest.approx(math.exp(ln_d), rel=1e-11)
    assert r.params == pytest.approx(math.exp(ln_n), rel=3e-11)
    assert ref.eq12_residual(law, target, demand, r.tokens) < 1e-11
    assert sp.ScalingLaw(*law).loss(r.params, r.tokens) == pytest.approx(target, rel=5e-12)


@given(laws, gaps, log_uniform(1e3, 1e20), st.floats(1.01, 100.0))
def test_more_demand_smaller_and_longer(law, gap, demand, factor):
    target = law[0] + gap
    _, ln_d, _ = ref.lifetime_log_optimum(law, target, demand * factor)
    assume(-700 < ln_d < 700)
    a = sp.compute_optimal(target, demand, law=sp.ScalingLaw(*law))
    b = sp.compute_optimal(target, demand * factor, law=sp.ScalingLaw(*law))
    # Exact arithmetic gives strict monotonicity; when the demand is ~1e-16 of the tokens
    # the change is below the solver's resolution (tol = 1e-13 on ln D), so allow that much.
    assert b.params <= a.params * (1 + 1e-12) and b.tokens >= a.tokens * (1 - 1e-12)
    if demand * factor > 1e-6 * a.tokens:
        assert b.params < a.params and b.tokens > a.tokens


@given(st.sampled_from(["halley", "bisect", "brent", "secant-d"]), laws, gaps, demands)
def test_variants_agree_with_newton_where_converged(method, law, gap, demand):
    target = law[0] + gap
    ln_n, ln_d, _ = ref.lifetime_log_optimum(law, target, demand)
    assume(all(-700 <= v <= 700 for v in (ln_n, ln_d)))
    base = sp.compute_optimal(target, demand, law=sp.ScalingLaw(*law))
    r = sp.compute_optimal(
        np.array([target]), demand, law=sp.ScalingLaw(*law), method=method, on_invalid="nan"
    )
    if method != "secant-d":
        assert r.converged[0]
    if r.converged[0]:
        # measured at most (879 examples): tokens 1.1e-13, params 8.0e-13 relative
        assert r.tokens[0] == pytest.approx(base.tokens, rel=1e-11)
        assert r.params[0] == pytest.approx(base.params, rel=5e-11)


# Optima that exist but that no float64 holds (README: "an optimum beyond 1.8e308 is an
# error whose .argument is None and whose message says 'outside the float64 range'"; with
# on_invalid="nan" the row is NaN and not converged). The strategies above never get there:
# every law and gap they draw has |ln N|, |ln D| < 709.
OUT_OF_RANGE = [
    # A target one ulp above E with beta 0.05: ln D = 844 (tokens overflow).
    (sp.ScalingLaw(1.69, 406.4, 410.7, 0.336, 0.05), math.nextafter(1.69, 2.0)),
    # A target 1e300 above E: ln D = -2417 at zero demand, ln N = -2038 (underflow).
    (sp.ScalingLaw(1e-3, 406.4, 410.7, 0.336, 0.283), 1e300),
    # alpha 0.02 and a target 1e-12 above E: ln N = 1958 (params overflow), ln D = 32.
    (sp.ScalingLaw(1.69, 1e5, 1.0, 0.02, 1.0), 1.69 + 1e-12),
]


@pytest.mark.parametrize("law, target", OUT_OF_RANGE)
@pytest.mark.parametrize("demand", [0.0, 1e12, 1e300])
def test_outside_float64_range_is_an_error_or_nan(law, target, demand):
    # The reference (pure Python, in logs) agrees that the optimum exists and is out of range.
    ln_n, ln_d, _ = ref.lifetime_log_optimum(law.coefficients, target, demand)
    assert math.isfinite(ln_n) and math.isfinite(ln_d)
    assert not all(-708.0 <= v <= LN_MAX for v in (ln_n, ln_d))
    with pytest.raises(sp.ScaleplanError, match="outside the float64 range") as err:
        sp.compute_optimal(target, demand, law=law)
    assert err.value.argument is None
    # In a batch the error names the row; with on_invalid="nan" only that row is NaN.
    targets = np.array([law.E + 0.5, target])
    with pytest.raises(sp.ScaleplanError, match="outside the float64 range") as err:
        sp.compute_optimal(targets, demand, law=law)
    assert err.value.argument is None and err.value.index == 1
    r = sp.compute_optimal(targets, demand, law=law, on_invalid="nan")
    assert math.isnan(r.params[1]) and math.isnan(r.tokens[1]) and not r.converged[1]
    assert r.converged[0] and np.isfinite([r.params[0], r.tokens[0]]).all()
    one = sp.compute_optimal(law.E + 0.5, demand, law=law)
    assert (r.params[0], r.tokens[0]) == (one.params, one.tokens)


def test_secant_d_fails_honestly_far_from_its_start():
    # From its fixed start D = 1e8 the secant leaves D > 0 for small models and light
    # demand; the flag says so. Where it converges it needs far more steps than Newton.
    r = sp.compute_optimal(np.array([8.0, 2.0]), 1e6, method="secant-d", on_invalid="nan")
    assert not r.converged[0] and math.isnan(r.params[0])
    assert r.converged[1] and r.iterations[1] > 10
    stopped = r"did not converge at index 0 \(stopped after 1 iterations\)"
    with pytest.raises(ValueError, match=stopped):
        sp.compute_optimal(8.0, 1e6, method="secant-d")


def test_arrays_broadcast_over_loss_demand_and_laws():
    loss = np.array([[1.9], [2.0], [2.1]])
    demand = np.array([0.0, 1e10, 1e12, 1e14])
    r = sp.compute_optimal(loss, demand)
    assert r.params.shape == (3, 4) and r.iterations.dtype == np.uint32
    for i in range(3):
        for j in range(4):
            one = sp.compute_optimal(float(loss[i, 0]), float(demand[j]))
            assert r.params[i, j] == one.params and r.tokens[i, j] == one.tokens
    # Many laws in one call: one per row, as bootstrap samples will be.
    law = sp.ScalingLaw(np.array([1.69, 1.7]), 406.4, np.array([410.7, 420.0]), 0.336, 0.283)
    many = sp.compute_optimal(2.1, 1e12, law=law)
    single = sp.compute_optimal(2.1, 1e12, law=sp.ScalingLaw(1.7, 406.4, 420.0, 0.336, 0.283))
    assert many.params.shape == (2,) and many.params[1] == single.params
    assert many.chinchilla.params.shape == (2,)


def test_empty_arrays_give_empty_results():
    r = sp.compute_optimal(np.array([]), 1e12)
    assert r.params.shape == (0,) and r.converged.shape == (0,)
    r2 = sp.compute_optimal(np.zeros((0, 3)) + 2.0, np.ones(3))
    assert r2.tokens.shape == (0, 3)


def test_serial_and_parallel_paths_are_identical():
    n = 3 * _core.PARALLEL_THRESHOLD + 17
    rng = np.random.default_rng(0)
    loss = 1.7 + rng.uniform(0.01, 2.0, n)
    demand = 10.0 ** rng.uniform(0, 16, n)
    c = tuple(np.array([v]) for v in sp.CHINCHILLA.coefficients)
    serial = _core.compute_optimal(loss, demand, c, parallel=False)
    parallel = _core.compute_optimal(loss, demand, c, parallel=True)
    auto = sp.compute_optimal(loss, demand)
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(serial[0], auto.params)
    # An error in the parallel path names the lowest bad row, like the serial one.
    loss[[n - 5, 40_000, 20_000]] = 1.0
    for flag in (False, True):
        with pytest.raises(ValueError, match="at index 20000$"):
            _core.compute_optimal(loss, demand, c, parallel=flag)


def test_iterations_stay_small():
    rng = np.random.default_rng(1)
    n = 200_000
    r = sp.compute_optimal(1.69 + 10 ** rng.uniform(-6, 1, n), 10 ** rng.uniform(0, 22, n))
    assert r.converged.all()
    assert r.iterations.max() <= 7


def test_fast_scalar_result_is_a_normal_frozen_result():
    fast = sp.compute_optimal(2.0, 1e12)
    slow = sp.compute_optimal(np.float64(2.0), 1e12)  # goes through the general path
    assert fast == slow and repr(fast) == repr(slow)
    with pytest.raises(AttributeError):
        fast.params = 1.0  # type: ignore[misc]


def test_native_defaults_match_python_defaults():
    from scaleplan.optimal import lifetime

    sig = _core.compute_optimal.__text_signature__
    assert f"tol={lifetime.DEFAULT_TOL!r}" in sig
    assert f"max_iter={lifetime.DEFAULT_MAX_ITER}" in sig


def test_start_rules_agree_to_rounding_and_auto_follows_the_batch_size():
    loss = np.random.default_rng(5).uniform(1.75, 3.5, sp._core.TABLE_MIN_ROWS)
    auto, table = sp.compute_optimal(loss, 1e12), sp.compute_optimal(loss, 1e12, start="table")
    bound = sp.compute_optimal(loss, 1e12, start="bound")
    assert np.array_equal(auto.tokens, table.tokens)  # auto takes the table from here on
    assert np.allclose(bound.tokens, table.tokens, rtol=1e-12, atol=0)
    assert table.iterations.max() <= 2 < bound.iterations.max()
    small = sp.compute_optimal(loss[:100], 1e12)
    assert np.array_equal(small.tokens, bound.tokens[:100])  # and the bound below it
    one = sp.compute_optimal(2.0, 1e12, start="table")
    assert one.tokens == pytest.approx(sp.compute_optimal(2.0, 1e12).tokens, rel=1e-12)
    cost = sp.cost_optimal(loss[:100], 1e9, start="table")
    assert np.allclose(cost.params, sp.cost_optimal(loss[:100], 1e9).params, rtol=1e-12)
    for bad in ("fast", None, 1):
        with pytest.raises(ValueError, match="start must be one of auto, bound, table"):
            sp.compute_optimal(loss[:3], 1e12, start=bad)
        with pytest.raises(ValueError, match="start must be one of auto, bound, table"):
            sp.cost_optimal(2.0, 1e9, start=bad)


def test_start_rules_differ_only_within_the_tolerance():
    # README: a batch of 50,000 rows or more starts Newton from a table, a smaller one from
    # a bound; the answers differ by at most 1.2e-13 relative (measured over 600k random
    # scenarios; ~530 ulp), within twice the solver's tolerance on ln D (1e-13) plus rounding.
    rng = np.random.default_rng(1)
    loss = 1.69 + np.exp(rng.uniform(np.log(1e-3), np.log(3), 100_000))
    demand = np.exp(rng.uniform(np.log(1e6), np.log(1e16), 100_000))
    a = sp.compute_optimal(loss, demand, start="bound")
    b = sp.compute_optimal(loss, demand, start="table")
    for x, y in ((a.params, b.params), (a.tokens, b.tokens)):
        assert np.max(np.abs(x / y - 1)) <= 2.5e-13
