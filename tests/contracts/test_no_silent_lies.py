"""Regression tests for answers that were wrong without saying so (issue 11, part 2)."""

from __future__ import annotations

import numpy as np
import pytest

import scaleplan as sp
from scaleplan.optimal import allocation
from scaleplan.systems import steptime

TOP_LAW = sp.ScalingLaw(1, 1, 1, 0.01, 0.5)
TOP_LOSS = 1.0008449255  # its optimum has N ~ 1.5e308, inside (e^709, e^709.78]


@pytest.mark.parametrize("method", ["newton", "halley", "bisect", "brent", "secant-d"])
def test_the_top_of_the_float_range_is_not_clamped(method):
    # exp clamped at 709 once returned exactly 8.2184e307, converged=True, 1.8x too small.
    want = sp.chinchilla_optimal(loss=TOP_LOSS, law=TOP_LAW).params
    assert want > 1.5e308
    got = sp.compute_optimal(TOP_LOSS, 0.0, law=TOP_LAW, method=method, on_invalid="nan")
    if got.converged:
        assert got.params == pytest.approx(want, rel=1e-9)
    else:
        assert np.isnan(got.params)
    cost = sp.cost_optimal(TOP_LOSS, 0.0, law=TOP_LAW, method=method, on_invalid="nan")
    if cost.converged:
        assert cost.params == pytest.approx(want, rel=1e-9)


def test_best_quality_never_returns_a_fractional_model_or_an_infinite_loss():
    with pytest.raises(ValueError, match="budget is too small for the demand"):
        sp.best_quality(1.0, 1e308, law=sp.ScalingLaw(1, 1, 1, 1, 1))
    with pytest.raises(ValueError, match="budget is too small for the demand"):
        sp.best_quality(1e10, inference_tokens=1e12)
    rows = sp.best_quality(np.array([1e10, 1e23]), 1e12, on_invalid="nan")
    assert np.isnan(rows.loss[0]) and rows.params[1] > 1e9 and np.isfinite(rows.loss[1])


@pytest.mark.parametrize(
    "params, tokens", [(-1.0, 1e9), (0.0, 1e9), (1e9, 0.0), (np.nan, 1e9), (1e9, np.inf)]
)
def test_exchange_rate_refuses_what_is_not_a_model(params, tokens):
    with pytest.raises(ValueError, match="params and tokens must be finite and > 0"):
        allocation.exchange_rate(params, tokens)


def test_exchange_rate_only_where_training_trades_against_inference():
    n, d = sp.chinchilla_optimal(params=7e9).params, sp.chinchilla_optimal(params=7e9).tokens
    with pytest.raises(ValueError, match="past the Chinchilla point"):
        allocation.exchange_rate(n, d / 10)  # fewer tokens than Chinchilla: no trade
    r = allocation.exchange_rate([n, n], [d / 10, 10 * d], on_invalid="nan")
    assert np.isnan(r[0]) and 0 < r[1] < np.inf
    assert allocation.exchange_rate(n, 10 * d) == pytest.approx(r[1])


def test_masked_arrays_are_refused_not_ignored():
    m = np.ma.masked_array([2.0, -1.0], mask=[False, True])
    with pytest.raises(ValueError, match="loss has masked elements"):
        sp.compute_optimal(m, 1e9)
    with pytest.raises(ValueError, match="E has masked elements"):
        sp.ScalingLaw(np.ma.masked_array([1.69, -1.0], mask=[0, 1]), 406.4, 410.7, 0.34, 0.28)
    # Nothing masked: the data are used as they are.
    plain = sp.compute_optimal(np.ma.masked_array([2.0, 2.1]), 1e9)
    assert np.array_equal(plain.params, sp.compute_optimal([2.0, 2.1], 1e9).params)


def test_overflowing_costs_and_shapes_are_errors():
    with pytest.raises(ValueError, match="overflow float64"):
        sp.lifetime_cost(1e300, 1e300, requests=1e300)
    with pytest.raises(ValueError, match="at index 1"):
        sp.lifetime_cost(np.array([1e9, 1e300]), 1e12, requests=1.0)
    with pytest.raises(ValueError, match="counts overflow float64"):
        steptime.step_counts({"d_model": 1e200, "n_layers": 2, "n_heads": 1})


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: sp.compute_optimal(10**400, 1e9), "loss must be a finite number"),
        (lambda: sp.compute_optimal(2.0, 10**400), "inference_tokens must be a finite number"),
        (lambda: sp.compute_optimal(2.0, 1e9, tol=10**400), "tol must be a finite number"),
        (lambda: sp.CostModel(train_price_per_hour=10**400), "train_price_per_hour must be"),
        (
            lambda: sp.CostModel(train_price_per_hour=5e-324),
            "2.2e-308",
        ),
        (lambda: sp.CostModel(decode_mfu=5e-324), "decode_mfu must be a number in"),
        (lambda: steptime.check_seconds(10**400), "seconds must be a finite number"),
        (
            lambda: steptime.TransformerShape(d_model=10**400, n_layers=2, n_heads=1),
            "d_model must be an integer in",
        ),
        (lambda: sp.cost_optimal(2.0, 1e9, costs="h100-sxm"), "costs must be a CostModel"),
        (lambda: sp.cost_optimal(2.0, 1e9, costs=0), "costs must be a CostModel or None; got 0"),
        (lambda: sp.lifetime_cost(7e9, 1e12, 1e9, costs=0), "costs must be a CostModel"),
        (
            lambda: sp.best_quality(dollar_budget=1e6, requests=1e9, costs="h100"),
            "costs must be a CostModel",
        ),
    ],
)
def test_value_errors_not_other_exceptions(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_fit_on_losses_near_the_top_of_the_range_is_a_fit_error():
    n = np.logspace(8, 10, 7)
    with pytest.raises((sp.FitError, ValueError)):
        sp.fit_law(n, 20 * n, np.full(7, 1.7e308), starts=sp.fit.chinchilla_grid()[::500])


def test_an_overflow_names_the_first_row_that_overflows():
    """Of two rows that overflow, the message names the first (mutation testing found the
    last would pass: the test above has one bad row)."""
    with pytest.raises(ValueError, match="at index 0") as err:
        sp.lifetime_cost(np.array([1e300, 1e9, 1e300]), 1e12, requests=1.0)
    assert err.value.index == 0
