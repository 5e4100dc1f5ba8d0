"""`whole_gpu_plan` at the ends of its search and `tokens_at_loss` at the law's floor
(mutation testing, 2026-12-07: the span, the grid's ends and the whole-token skip were
untested). The search covers policy shapes at `params * 2**(k / 128)` for
`|k| <= ceil(128 log2 2.5) = 170`, documented in the module."""

from __future__ import annotations

import math

import numpy as np
import pytest

import scaleplan as sp
from scaleplan.arch.counts import step_counts
from scaleplan.arch.policy import shape_for_params
from scaleplan.optimal.whole_gpu import tokens_at_loss


def _policy_params(n: float) -> float:
    return float(step_counts(shape_for_params(n)).params)


def test_heavy_demand_takes_the_smallest_size_of_the_span():
    """At 1e9 requests a day for ten years serving dominates: the smallest candidate wins.
    At 7.175e9 parameters the grid's last step down (k = -170) is a policy shape of its
    own (2.905e9; one step further is 2.809e9), so a span one step wider or narrower
    shows."""
    params = 7.175e9
    assert _policy_params(params * 2 ** (-171 / 128)) < _policy_params(params * 2 ** (-170 / 128))
    plan = sp.whole_gpu_plan(2.3, params, requests_per_day=1e9, days=3650)
    assert plan.params == _policy_params(params * 2 ** (-170 / 128)) == 2905254912.0


@pytest.mark.parametrize(
    ("params", "want", "k_other"),
    [(6e9, 15096821760.0, 169), (5.575e9, 13894149120.0, 171)],
)
def test_a_trickle_of_demand_takes_the_largest_size_of_the_span(params, want, k_other):
    """One request in one day: training dominates, and it falls with N up to the
    Chinchilla optimum of loss 2.0 (1.95e10), beyond the span. At 6e9 the last step up
    (k = 170) is a policy shape of its own, at 5.575e9 the step beyond it (k = 171)
    would be: a span one step narrower or wider shows."""
    assert _policy_params(params * 2 ** (k_other / 128)) != want
    plan = sp.whole_gpu_plan(2.0, params, requests_per_day=1, days=1)
    assert plan.params == _policy_params(params * 2 ** (170 / 128)) == want


def test_sizes_short_of_one_whole_token_are_skipped():
    """Loss 402 (a law's floor plus nearly B): every size reaches it on 1.1 tokens, a plan;
    at loss 1000 none needs one whole token, which is refused naming the loss and asking
    for a lower one (a larger model would need still fewer tokens); below the floor no
    size reaches the loss at all, and the advice is the other way."""
    plan = sp.whole_gpu_plan(402.0, 7e9, requests_per_day=1e6, days=365)
    assert 1 <= plan.tokens < 2
    with pytest.raises(sp.ScaleplanError, match="in under one.*: lower the loss$") as err:
        sp.whole_gpu_plan(1000.0, 7e9, requests_per_day=1e6, days=365)
    assert err.value.argument == "loss"
    with pytest.raises(sp.ScaleplanError, match="reaches loss=1.5: raise params") as err:
        sp.whole_gpu_plan(1.5, 7e9, requests_per_day=1e6, days=365)
    assert err.value.argument == "loss"


def test_tokens_at_loss_with_round_constants():
    """With E = A = B = alpha = beta = 1, `D = 1 / (L - 1 - 1/N)`: at L = 2.5 and N = 4,
    D = 0.8; at N = 2 and L = 1.5 the gap is exactly 0 and at N = 1 it is negative, both
    NaN (no number of tokens reaches the loss)."""
    law = sp.ScalingLaw(E=1.0, A=1.0, B=1.0, alpha=1.0, beta=1.0)
    assert tokens_at_loss(2.5, np.array([4.0]), law, None)[0] == pytest.approx(0.8, rel=1e-15)
    got = tokens_at_loss(1.5, np.array([1.0, 2.0, 4.0]), law, None)
    assert math.isnan(got[0]) and math.isnan(got[1]) and got[2] == 4.0
