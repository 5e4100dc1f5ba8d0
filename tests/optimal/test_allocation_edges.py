"""The allocation module at its edges: Epoch's regimes as printed, the exchange rate from
its closed form and its refusals, and the splits' shares from their definitions
(mutation testing, 2026-12-07, found these loose)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import scaleplan as sp
from scaleplan.optimal.allocation import (
    TRADEOFF_REGIMES,
    exchange_rate,
    lifetime_split,
    share_sweep,
    training_share,
)

# Villalobos & Atkinson 2023, key takeaways: (inference OOMs, training OOMs) spans, and
# the exchange rates they imply worked by hand (lowest = least inference over most
# training).
REGIMES = [
    ((1.0, 2.0), (1.0, 1.0), (1.0, 2.0)),
    ((2.0, 3.0), (2.0, 2.0), (1.0, 1.5)),
    ((5.0, 6.0), (3.0, 4.0), (1.25, 2.0)),
    ((1.0, 1.0), (1.0, 2.0), (0.5, 1.0)),
]


def test_the_regimes_are_epochs_spans_and_their_rates():
    assert len(TRADEOFF_REGIMES) == len(REGIMES)
    for regime, (inference, training, rates) in zip(TRADEOFF_REGIMES, REGIMES, strict=True):
        assert regime.inference_ooms == inference and regime.training_ooms == training
        assert regime.exchange_rates == rates
        assert regime.training_shares == (rates[0] / (1 + rates[0]), rates[1] / (1 + rates[1]))
        row = regime.record()
        assert row["name"] == regime.name and row["where"] == regime.where
        assert (row["exchange_rate.low"], row["exchange_rate.high"]) == rates
        assert (row["inference_ooms.low"], row["inference_ooms.high"]) == inference
        assert (row["training_ooms.low"], row["training_ooms.high"]) == training
        assert row["training_share.high"] == rates[1] / (1 + rates[1])


@pytest.mark.parametrize("rate", [0.0, -1.0, math.inf, -math.inf, math.nan])
def test_training_share_refuses_a_rate_that_is_not_finite_and_positive(rate):
    with pytest.raises(sp.ScaleplanError) as err:
        training_share(rate)
    assert err.value.argument == "exchange_rate"
    with pytest.raises(sp.ScaleplanError):
        training_share([1.0, rate])


def test_training_share_keeps_floats_and_arrays_apart():
    assert type(training_share(3.0)) is float and training_share(3.0) == 0.75
    assert training_share(np.array([3.0])).shape == (1,)
    assert training_share(1e-300) == pytest.approx(1e-300, rel=1e-15)


def _rate(law, n, d):
    """`1 / (alpha A N^-alpha / (beta B D^-beta) - 1)`, straight from the docstring."""
    ratio = (law.alpha * law.A * n**-law.alpha) / (law.beta * law.B * d**-law.beta)
    return 1.0 / (ratio - 1.0)


@pytest.mark.parametrize("law", [sp.CHINCHILLA, sp.ScalingLaw(E=1.8, A=500.0, B=900.0,
                                                               alpha=0.3, beta=0.4)])  # fmt: skip
def test_the_exchange_rate_is_its_closed_form(law):
    """Measured 2026-12-07: 4e-15 relative against the direct form (the code works in
    logs); the bound is 5e-14."""
    n = np.array([1e9, 7e9, 7e9, 7e10])
    d = np.array([1e12, 2e12, 1e13, 1e14])
    got = exchange_rate(n, d, law=law)
    np.testing.assert_allclose(got, _rate(law, n, d), rtol=5e-14)
    one = exchange_rate(7e9, 2e12, law=law)
    assert type(one) is float and one == pytest.approx(_rate(law, 7e9, 2e12), rel=5e-14)
    # Under one parameter or one token is still a model (past its Chinchilla point here).
    for n, d in ((0.5, 10.0), (1e-3, 0.5)):
        assert exchange_rate(n, d, law=law) == pytest.approx(_rate(law, n, d), rel=5e-14)


def test_the_exchange_rate_names_the_first_bad_row():
    with pytest.raises(sp.ScaleplanError, match="against inference at index 1$") as err:
        exchange_rate([7e9, 7e9, 7e9], [2e12, 1e11, 1e10])
    assert (err.value.argument, err.value.index) == ("tokens", 1)
    with pytest.raises(
        sp.ScaleplanError, match=r"finite and > 0; got 0.0, 2000000000000.0 at index 1"
    ) as err:
        exchange_rate([7e9, 0.0], [2e12, 2e12])
    assert (err.value.argument, err.value.index) == ("params", 1)
    for n, d, argument in ((7e9, math.inf, "tokens"), (7e9, -1.0, "tokens"),
                           (-1.0, 2e12, "params"), (0.5, -1.0, "tokens")):  # fmt: skip
        with pytest.raises(sp.ScaleplanError, match="finite and > 0") as err:
            exchange_rate(n, d)
        assert (err.value.argument, err.value.index) == (argument, None)
    with pytest.raises(sp.ScaleplanError, match="against inference$") as err:
        exchange_rate(7e9, 1e11)
    assert err.value.index is None
    got = exchange_rate([7e9, 7e9, -1.0], [2e12, 1e11, 2e12], on_invalid="nan")
    assert got[0] > 0 and np.isnan(got[1:]).all()


def test_a_split_of_one_plan_and_of_a_batch():
    """A scalar plan at zero demand has no trade and is refused; in a batch its row is
    NaN and the rest kept. Shares are training over total, in FLOPs and in dollars."""
    with pytest.raises(sp.ScaleplanError):
        lifetime_split(sp.compute_optimal(2.0, 0.0))
    split = lifetime_split(sp.compute_optimal(2.0, np.array([0.0, 1e12])))
    assert np.isnan(split.exchange_rate[0]) and split.exchange_rate[1] > 0
    plan = sp.cost_optimal(2.0, 1e10)
    s = lifetime_split(plan)
    b = plan.breakdown
    assert s.training_share_flops == b.training_flops / b.total_flops
    assert s.training_share_dollars == b.training_dollars / b.total_dollars
    assert s.exchange_rate == exchange_rate(plan.params, plan.tokens)


def test_a_share_sweep_is_training_over_total():
    demands, shares = share_sweep(2.0, [1e11, 1e13])
    plan = sp.compute_optimal(2.0, np.array([1e11, 1e13]))
    np.testing.assert_array_equal(shares, plan.training_flops / plan.total_flops)
    np.testing.assert_array_equal(demands, [1e11, 1e13])
    _, dollars = share_sweep(2.0, [1e9], costs=sp.CostModel())
    b = sp.cost_optimal(2.0, np.array([1e9])).breakdown
    np.testing.assert_array_equal(dollars, b.training_dollars / b.total_dollars)
