"""The cost model's own checks, each tested at its edge (mutation testing, 2026-12-07:
every case here survived the suite before, in `hardware/cost_model.py`)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import scaleplan as sp
from scaleplan.hardware.cost_model import default_costs

# A100-80GB's dense bf16 peak (NVIDIA's data sheet, as the catalogue ships it), in FLOP/s.
A100_BF16 = 312e12


def test_a_price_is_refused_exactly_when_its_dollars_per_flop_are_subnormal():
    """Dollars per FLOP = price / (3600 s x peak FLOP/s) must be a normal float: the
    smallest normal one is accepted, three quarters of it refused, naming the price."""
    edge = sys.float_info.min * (3600.0 * A100_BF16)
    assert edge / (3600.0 * A100_BF16) == sys.float_info.min  # the edge is exact
    assert sp.CostModel(train_price_per_hour=edge).train_price_per_hour == edge
    with pytest.raises(sp.ScaleplanError, match="large enough to cost more than 0") as err:
        sp.CostModel(train_price_per_hour=0.75 * edge)
    assert err.value.argument == "train_price_per_hour"
    with pytest.raises(sp.ScaleplanError) as err:
        sp.CostModel(inference_price_per_hour=1e-300)
    assert err.value.argument == "inference_price_per_hour"


@pytest.mark.parametrize(
    ("train", "inference", "blamed"),
    [(1e-200, 1e200, "inference_price_per_hour"), (1e200, 1e-200, "train_price_per_hour")],
)
def test_prices_too_far_apart_blame_the_one_that_made_the_weight_overflow(train, inference, blamed):
    """Each price alone is fine; together a served token would cost inf (or 0) tokens of
    training. The dearer side's price is named: the inference price when the weight
    overflows, the training price when it underflows."""
    with pytest.raises(sp.ScaleplanError, match="too far apart") as err:
        sp.CostModel(train_price_per_hour=train, inference_price_per_hour=inference)
    assert err.value.argument == blamed


def test_an_overflowing_demand_names_requests_and_its_row_only_for_arrays():
    c = sp.CostModel()
    with pytest.raises(sp.ScaleplanError, match="stays in float64: lower") as err:
        c.checked_demand(1e307, 70, 215)
    assert err.value.argument == "requests" and err.value.index is None
    assert "at index" not in str(err.value)
    with pytest.raises(sp.ScaleplanError, match="stays in float64 at index 1") as err:
        c.checked_demand([1e9, 1e307, 1e308], 70, 215)
    assert err.value.argument == "requests" and err.value.index == 1


def test_a_bad_request_count_in_an_array_names_its_row():
    with pytest.raises(sp.ScaleplanError, match=r"got -1\.0 at index 2$") as err:
        sp.CostModel().checked_demand([1e9, 2e9, -1.0, -2.0], 70, 215)
    assert err.value.argument == "requests" and err.value.index == 2


def test_a_scalar_demand_is_a_float_and_an_array_stays_an_array():
    c = sp.CostModel()
    one = c.checked_demand(1e9, 70, 215)
    assert type(one) is float
    w_in, w_out = c.demand_weights
    assert one == 1e9 * (w_in * 70 + w_out * 215)
    many = c.checked_demand(np.array([1e9]), 70, 215)
    assert isinstance(many, np.ndarray) and many.shape == (1,)


def test_the_default_cost_model_is_built_once():
    assert default_costs() is default_costs()
    assert default_costs() == sp.CostModel()


def test_in_nan_mode_a_bad_row_is_nan_and_the_rest_are_answered():
    """`on_invalid="nan"` marks a row NaN when an input is negative or not finite or the
    demand leaves float64, and answers the other rows as `"raise"` would; before
    2026-12-07 it returned a negative demand for a negative request count and an
    infinite one for an infinite count."""
    c = sp.CostModel()
    good = c.checked_demand(1e9, 70, 215)
    got = c.checked_demand([1e9, np.inf, np.nan, -1.0, 1e307], 70, 215, on_invalid="nan")
    np.testing.assert_array_equal(got, [good, np.nan, np.nan, np.nan, np.nan])
    got = c.checked_demand(1e9, [70, -1.0, 70], [215, 215, np.inf], on_invalid="nan")
    np.testing.assert_array_equal(got, [good, np.nan, np.nan])
    assert np.isnan(c.checked_demand(-1.0, 70, 215, on_invalid="nan"))
    got = c.checked_demand(1e9, 70, [215, -1.0], on_invalid="nan")  # a bad output length
    np.testing.assert_array_equal(got, [good, np.nan])


@pytest.mark.parametrize("mode", ["ignore", "NaN", None, 1])
def test_an_unknown_on_invalid_is_refused_by_name(mode):
    with pytest.raises(sp.ScaleplanError, match="on_invalid must be one of raise, nan") as err:
        sp.CostModel().checked_demand(1e9, 70, 215, on_invalid=mode)
    assert err.value.argument == "on_invalid"
