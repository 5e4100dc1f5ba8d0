"""`ServingCurve` at its edges: the knots it refuses, the span and density of a roofline
curve, and the paper's constant-MFU curve from its formula (mutation testing,
2026-12-07, found these untested)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import scaleplan as sp
from scaleplan import CostModel, ServingCurve


@pytest.mark.parametrize(
    ("params", "dollars", "argument"),
    [
        ([[1e9, 1e10]], [1e-4, 4e-4], "params"),  # 2-D
        (1e9, 1e-4, "params"),  # 0-D
        ([1e9, 1e10], [[1e-4, 4e-4]], "dollars_per_request"),
        ([1e9, 1e10], 1e-4, "dollars_per_request"),  # 0-D beside 1-D
        ([1e9], [1e-4], "params"),  # one knot
        ([1e9, 1e10], [1e-4, 2e-4, 4e-4], "params"),  # more dollars than params
        ([1e9, 1e10, 1e11], [1e-4, 4e-4], "params"),  # more params than dollars
        ([1e9, 1e9], [1e-4, 4e-4], "params"),  # not strictly increasing
        ([1e10, 1e9], [1e-4, 4e-4], "params"),
        ([1e9, 1e10], [0.0, 4e-4], "dollars_per_request"),
    ],
)
def test_a_curve_refuses_knots_it_cannot_interpolate(params, dollars, argument):
    with pytest.raises(sp.ScaleplanError) as err:
        ServingCurve(params, dollars)
    assert err.value.argument == argument


def test_a_curve_takes_any_strictly_increasing_knots():
    """Knots closer than one parameter, and more knots than small integers are cached
    for (a size compared by identity would pass below 257 knots and fail above)."""
    assert ServingCurve([1.0, 1.5], [1e-4, 2e-4])(1.5) == pytest.approx(2e-4, rel=1e-15)
    n = np.geomspace(1e9, 1e12, 300)
    assert len(ServingCurve(n, n * 1e-13).params) == 300


def test_a_curve_is_read_in_log_log_and_keeps_the_shape_of_its_argument():
    curve = ServingCurve([1e9, 1e10], [1e-4, 4e-4])
    # log-log: s(N) = 1e-4 (N / 1e9) ** log10(4).
    want = 1e-4 * np.array([[1.0, 3.0], [5.0, 10.0]]) ** math.log10(4.0)
    got = curve(np.array([[1e9, 3e9], [5e9, 1e10]]))
    assert got.shape == (2, 2)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    assert math.isnan(curve(1.1e10)) and math.isnan(curve(9e8))


def test_the_constant_mfu_curve_is_the_papers_formula():
    """`2 N c_inf (input / MFU_prefill + output / MFU_decode)` with MFUs that do not
    divide the token counts evenly (0.37, 0.21)."""
    costs = CostModel(prefill_mfu=0.37, decode_mfu=0.21)
    curve = ServingCurve.constant_mfu(costs, input_tokens=70, output_tokens=215)
    per_param = 2.0 * costs.inference_dollars_per_flop * (70 / 0.37 + 215 / 0.21)
    np.testing.assert_allclose(curve.dollars_per_request, per_param * curve.params, rtol=1e-15)


@pytest.mark.parametrize(
    ("span", "per_decade", "want"),
    [((1e9, 5e9), 1, 2), ((1e9, 1.9e9), 10, 4), ((1e9, 1e10), 1000, 1001)],
)
def test_the_roofline_curve_spans_its_pair_at_its_density(span, per_decade, want):
    """`ceil(per_decade log10(hi / lo)) + 1` sizes, at least the two ends (1.9 decades'
    worth of a tenth: 4 sizes, where a floored ratio would give 2); 1 to 1000 a decade."""
    curve = ServingCurve.roofline(params=span, per_decade=per_decade)
    # At 1000 a decade neighbouring targets round to one policy shape (75 distinct in
    # 1e9..1e10), each kept once.
    if per_decade < 1000:
        assert len(curve.params) == want
    assert 2 <= len(curve.params) <= want and np.all(np.diff(curve.params) > 0)


@pytest.mark.parametrize("per_decade", [0, 1001, 2.5, True])
def test_the_roofline_refuses_a_density_outside_1_to_1000(per_decade):
    with pytest.raises(sp.ScaleplanError) as err:
        ServingCurve.roofline(params=(1e9, 1e10), per_decade=per_decade)
    assert err.value.argument == "per_decade"


@pytest.mark.parametrize("params", [(1e9,), (1e9, 1e10, 1e11), (1e10, 1e10), (1e10, 1e9), "1e9"])
def test_the_roofline_refuses_a_span_that_is_not_lo_below_hi(params):
    with pytest.raises(sp.ScaleplanError, match="pair|lo < hi") as err:
        ServingCurve.roofline(params=params)
    assert err.value.argument == "params"


def test_the_roofline_takes_no_training_keywords():
    with pytest.raises(TypeError, match="train_mfu"):
        ServingCurve.roofline(train_mfu=0.4)


def test_the_roofline_needs_its_first_two_sizes_served_and_stops_at_the_first_unserved():
    """On one A100-40GB in bf16: 12B fits and 20B does not, so a curve from 12B to 20B
    is refused (naming the latency targets); 10B to 30B at 4 a decade serves 10B and
    17B, not 30B, and stops there."""
    dep = sp.Deployment(gpu="a100-40gb", tensor_parallel=1)
    with pytest.raises(sp.ScaleplanError, match="first two sizes") as err:
        ServingCurve.roofline(dep, params=(1.2e10, 2e10), per_decade=1)
    assert err.value.argument == "tpot_seconds"
    curve = ServingCurve.roofline(dep, params=(1e10, 3e10), per_decade=4)
    assert len(curve.params) == 2 and curve.params[1] < 2e10
    assert curve.tensor_parallel.tolist() == [1.0, 1.0]
