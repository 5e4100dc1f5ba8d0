"""The lifetime optimum under a serving cost curve: `physical_optimal` and `ServingCurve`."""

import math

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from scaleplan import CostModel, Deployment, cost_optimal
from scaleplan.arch.counts import step_counts
from scaleplan.arch.policy import shape_for_params
from scaleplan.laws.scaling import CHINCHILLA
from scaleplan.optimal.physical_optimum import ServingCurve, physical_optimal, whole_gpu_plan
from scaleplan.systems import physical
from scaleplan.testing import reference as _reference

LAW = CHINCHILLA.coefficients


COSTS = [CostModel(), CostModel.sardana2024_table3(),
         CostModel(decode_mfu=0.2, inference_gpu="h100-sxm")]  # fmt: skip


@pytest.mark.parametrize("costs", COSTS)
def test_a_linear_curve_gives_cost_optimal(costs):
    loss = np.array([2.3, 2.1274, 2.0, 1.95])[:, None]
    requests = np.geomspace(1e6, 1e12, 13)[None, :]
    want = cost_optimal(loss, requests, 70.0, 215.0, costs=costs)
    got = physical_optimal(loss, requests, curve=ServingCurve.constant_mfu(costs), costs=costs)
    assert got.converged.all()
    np.testing.assert_allclose(got.params, want.params, rtol=1e-9)
    np.testing.assert_allclose(got.tokens, want.tokens, rtol=1e-9)
    np.testing.assert_allclose(got.total_dollars, want.total_dollars, rtol=1e-12)


@st.composite
def curves(draw):
    """Random piecewise log-log curves over 1e7..1e13 with slopes from -1 to 3."""
    k = draw(st.integers(2, 12))
    widths = np.array(draw(st.lists(st.floats(0.05, 1.0), min_size=k - 1, max_size=k - 1)))
    x = np.log(1e7) + np.concatenate([[0.0], widths.cumsum() / widths.sum()]) * np.log(1e6)
    slopes = draw(st.lists(st.floats(-1.0, 3.0), min_size=k - 1, max_size=k - 1))
    y = np.concatenate([[draw(st.floats(-40.0, -25.0))], np.diff(x) * slopes]).cumsum()
    return ServingCurve(np.exp(x), np.exp(y))


@given(curves(), st.floats(1.8, 3.0), st.floats(0.0, 15.0), st.floats(-20.0, -16.0))
def test_the_global_minimum_matches_the_exhaustive_reference(curve, loss, log_r, log_c):
    requests, per_flop = 10.0**log_r, 10.0**log_c
    costs = CostModel(train_price_per_hour=per_flop * 3600 * 312e12 * 0.5, train_mfu=0.5)
    per_flop = costs.train_dollars_per_flop / costs.train_mfu
    ref = _reference.physical_optimum(LAW, loss, requests, per_flop,
                                      list(np.log(curve.params)),
                                      list(np.log(curve.dollars_per_request)))  # fmt: skip
    got = physical_optimal(loss, requests, curve=curve, costs=costs, on_invalid="nan")
    event("outside the span" if ref is None else "inside")
    if ref is None:
        assert not got.converged
        return
    dollars = ref[2]
    assert got.converged
    # Two minima of nearly equal cost may be told apart differently; the cost may not.
    assert got.total_dollars == pytest.approx(dollars, rel=1e-11)
    assert CHINCHILLA.loss(got.params, got.tokens) == pytest.approx(loss, rel=1e-12)
    assert got.training_dollars == pytest.approx(6 * per_flop * got.params * got.tokens, rel=1e-12)
    assert got.serving_dollars == pytest.approx(requests * curve(got.params), rel=1e-12)


def test_the_roofline_curve_prices_the_cheapest_group():
    curve = ServingCurve.roofline(Deployment("h100-sxm", tpot_seconds=0.05))
    assert np.all(np.diff(curve.params) > 0) and curve.params[0] < 1.1e8
    for n, dollars, tp in list(zip(curve.params, curve.dollars_per_request,
                                   curve.tensor_parallel, strict=True))[::9]:  # fmt: skip
        shape = shape_for_params(n)
        # At a demand where replicas round to nothing, the serving plan's dollars per
        # request are the curve's.
        v = physical.serving_plan(shape, "h100-sxm", requests_per_day=1e15, days=1)
        assert v.tensor_parallel == tp
        assert v.dollars / 1e15 == pytest.approx(dollars, rel=1e-8)
    # Serving a bigger model costs more; the curve ends where no group meets the target.
    assert curve.dollars_per_request[-1] > 100 * curve.dollars_per_request[0]
    assert curve.params[-1] < 1e13
    # The curve stops at its first knot no group serves (knots: 16 a decade from 1e8 to
    # 1e13; a group's degree must divide the heads, so a larger knot may be served again).
    knots = np.geomspace(1e8, 1e13, 16 * 5 + 1)
    exact = physical.step_counts([shape_for_params(k) for k in knots]).params
    beyond = knots[np.flatnonzero(exact > curve.params[-1])[0]]
    with pytest.raises(ValueError, match="latency targets"):
        physical.serving_plan(shape_for_params(beyond), "h100-sxm", requests_per_day=1e6, days=1)


def test_the_roofline_optimum_beats_the_constant_mfu_optimum_under_the_roofline():
    costs = CostModel.sardana2024_table3()
    curve = ServingCurve.roofline(Deployment.from_costs(costs))
    requests = np.geomspace(1e8, 1e12, 9)
    got = physical_optimal(2.1274, requests, curve=curve, costs=costs)
    paper = cost_optimal(2.1274, requests, 70.0, 215.0, costs=costs)
    per_flop = costs.train_dollars_per_flop / costs.train_mfu
    theirs = 6 * per_flop * paper.params * paper.tokens + requests * curve(paper.params)
    assert np.all(got.total_dollars <= theirs * (1 + 1e-12))
    assert np.all(np.diff(got.params) < 0)  # more demand, smaller model


def test_batches_equal_their_rows_bit_for_bit():
    curve = ServingCurve.roofline()
    loss = np.linspace(1.95, 2.4, 7)[:, None]
    requests = np.geomspace(1e7, 1e11, 5)
    grid = physical_optimal(loss, requests, curve=curve)
    for i in range(7):
        for j in range(5):
            one = physical_optimal(float(loss[i, 0]), float(requests[j]), curve=curve)
            assert (one.params, one.tokens) == (grid.params[i, j], grid.tokens[i, j])


def test_bad_inputs_name_their_argument():
    curve = ServingCurve.linear(1e-12)
    cases = [((1.69, 1e9), "loss"), ((float("nan"), 1e9), "loss"), ((2.0, -1.0), "requests"),
             ((2.0, math.inf), "requests")]  # fmt: skip
    for args, name in cases:
        with pytest.raises(ValueError, match=name) as err:
            physical_optimal(*args, curve=curve)
        assert err.value.argument == name
    got = physical_optimal([1.69, 2.0], [1e9, 1e9], curve=curve, on_invalid="nan")
    assert np.isnan(got.params[0]) and not got.converged[0] and got.converged[1]
    # The optimum beyond the curve's span is refused, not clamped to its end.
    short = ServingCurve(np.array([1e9, 2e9]), np.array([1e-3, 2e-3]))
    with pytest.raises(ValueError, match="extend the curve"):
        physical_optimal(2.1274, 1e6, curve=short)
    for params, dollars in (([1e9], [1.0]), ([2e9, 1e9], [1.0, 1.0]), ([1e9, 2e9], [1.0, -1.0]),
                            ([1e9, 2e9], [1.0])):  # fmt: skip
        with pytest.raises(ValueError):
            ServingCurve(np.array(params), np.array(dollars))
    with pytest.raises(ValueError, match="curve"):
        physical_optimal(2.0, 1e9, curve="roofline")
    with pytest.raises(ValueError, match="params"):
        ServingCurve.roofline(params=(1e9, 1e8))


def test_dollars_beyond_float64_name_what_made_them():
    """Issue 23: `plan --peak-to-average 1e308` blamed the loss target. A request priced
    beyond float64 names peak_to_average; lifetime serving dollars beyond it name the
    requests and a request's price, not the target."""
    with pytest.raises(ValueError, match="peak_to_average .* exceed float64") as err:
        ServingCurve.roofline(Deployment(peak_to_average=1e308))
    assert err.value.argument == "peak_to_average"
    curve = ServingCurve.linear(1e-3)  # dollars a request per parameter
    with pytest.raises(ValueError, match="serving dollars, outside the float64 range; the "
                       "lifetime requests times the dollars of one request"):  # fmt: skip
        physical_optimal(2.1, 1e308, curve=curve)
    # The same target with a representable demand is an answer.
    assert physical_optimal(2.1, 1e9, curve=curve).converged


def test_the_whole_gpu_plan_is_the_cheapest_shape_near_the_fluid_optimum():
    loss = CHINCHILLA.loss(3e9, 4e11)
    serve = Deployment("a100-40gb", precision="int8")
    options = dict(deployment=serve, requests_per_day=3e6, days=365, training="a100-80gb")
    fluid = physical_optimal(loss, 3e6 * 365, curve=ServingCurve.roofline(serve),
                             costs=CostModel())  # fmt: skip
    plan = whole_gpu_plan(loss, float(fluid.params), **options)
    assert CHINCHILLA.loss(plan.params, plan.tokens) == pytest.approx(loss, rel=1e-12)
    assert plan.params == step_counts(plan.shape).params
    # Any policy shape in the span, trained to the same loss, costs at least as much.
    for n in np.geomspace(fluid.params / 2.4, fluid.params * 2.4, 15):
        shape = shape_for_params(n)
        p = step_counts(shape).params
        d = (CHINCHILLA.B / (loss - CHINCHILLA.E - CHINCHILLA.A * p**-CHINCHILLA.alpha)) ** (
            1 / CHINCHILLA.beta
        )
        other = physical.physical_plan(p, d, shape=shape, **options)
        assert plan.total_dollars <= other.total_dollars
    with pytest.raises(ValueError, match="latency targets") as err:
        whole_gpu_plan(loss, float(fluid.params),
                       **{**options, "deployment": serve.replace(tpot_seconds=1e-4)})  # fmt: skip
    assert err.value.argument == "tpot_seconds"


def test_whole_gpu_plan_is_the_cheapest_feasible_shape_found_by_brute_force():
    """Mutation testing found both of the search's `continue`s could be `break`s unnoticed.
    Near the smallest size that can reach the loss the data blow up, and between 1.79e11
    and 2.16e11 the policy's 104-head shapes cannot meet 50 ms a token (a tensor-parallel
    degree must divide 104, so at most 8): the cheapest plan lies beyond sizes that cannot
    reach the loss and sizes that cannot be served. Every candidate is priced here."""
    from scaleplan import ScaleplanError
    from scaleplan.optimal.physical_optimum import WHOLE_GPU_PER_OCTAVE, WHOLE_GPU_SPAN

    law = CHINCHILLA
    loss = law.E + law.A * 1.75e11**-law.alpha * 1.0005  # reachable from about 1.76e11
    params = 2e11
    got = whole_gpu_plan(loss, params, requests_per_day=1e6, days=365)
    steps = math.ceil(math.log2(WHOLE_GPU_SPAN) * WHOLE_GPU_PER_OCTAVE)
    sizes = params * 2.0 ** (np.arange(-steps, steps + 1) / WHOLE_GPU_PER_OCTAVE)
    shapes = list(dict.fromkeys(shape_for_params(n) for n in sizes))
    costs, refused = [], 0
    for shape, n in zip(shapes, step_counts(shapes).params, strict=True):
        room = loss - law.E - law.A * float(n) ** -law.alpha
        if room <= 0:
            continue
        tokens = (law.B / room) ** (1 / law.beta)
        try:
            plan = physical.physical_plan(float(n), tokens, shape=shape, requests_per_day=1e6,
                                          days=365)  # fmt: skip
        except ScaleplanError:
            refused += 1
            continue
        costs.append(plan.total_dollars)
    assert refused > 0 and len(costs) > 10
    assert got.total_dollars == pytest.approx(min(costs), rel=1e-9)


def test_a_roofline_curve_samples_both_ends_and_per_decade_sizes_between():
    """`ceil(per_decade x decades) + 1` sizes, ends included (mutation testing found an
    odd count could lose two sizes unnoticed)."""
    for span, per_decade, want in (((1e9, 1e10), 3, 4), ((1e9, 1e11), 4, 9), ((1e9, 2e9), 5, 3)):
        curve = ServingCurve.roofline(params=span, per_decade=per_decade)
        assert len(curve.params) == want, (span, per_decade)


def test_the_optimum_echoes_its_loss_and_requests_in_their_places():
    """Mutation testing (2026-12-07): the echoed inputs could be swapped unnoticed."""
    loss, requests = np.array([2.0, 2.1]), np.array([1e9, 3e9])
    r = physical_optimal(loss, requests)
    np.testing.assert_array_equal(r.loss, loss)
    np.testing.assert_array_equal(r.requests, requests)
    one = physical_optimal(2.1, 3e9)
    assert (one.loss, one.requests) == (2.1, 3e9)
