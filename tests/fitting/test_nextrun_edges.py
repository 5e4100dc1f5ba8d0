"""The next run to train at its edges: the smallest budget a candidate can have, the fewest
runs a ranking takes, and a ranking whose update overflows (mutation testing,
2026-12-07)."""

import math
import warnings

import numpy as np
import pytest

import scaleplan as sp
from scaleplan.fitting import nextrun

CHINCHILLA = sp.datasets.chinchilla_runs()
THETA = np.array([6.17, 7.67, 0.6, 0.34, 0.28])  # (ln A, ln B, ln E, alpha, beta)
OPTIONS = {"flops": 1e21, "target_loss": 2.2, "inference_tokens": 1e12}


def test_the_smallest_budget_trains_one_parameter_at_ten_thousand_tokens_each():
    # The candidates span 1 to 10,000 tokens per parameter, so the smallest is
    # N = sqrt(C / (6 * 10,000)): one parameter exactly at C = 6e4, fewer below it.
    params, tokens = nextrun.candidates(nextrun.RUN_FLOPS.low, count=41)
    assert params.min() == 1.0 and tokens.max() == 1e4
    assert params.max() == 100.0 and tokens.min() == 100.0  # 1 token per parameter


def test_next_run_takes_6e4_flops_and_refuses_anything_below():
    just_below = math.nextafter(6e4, 0.0)
    with pytest.raises(sp.ScaleplanError, match=r"^flops must be a finite number >= 60000;"):
        sp.next_run(CHINCHILLA, **{**OPTIONS, "flops": just_below})
    # At 6e4 the budget passes and the next check, on the runs, is the one that fails
    # (three runs, so no fit is made).
    with pytest.raises(sp.ScaleplanError, match="need more than 5 runs") as caught:
        sp.next_run(
            CHINCHILLA.params[:3],
            CHINCHILLA.tokens[:3],
            CHINCHILLA.loss[:3],
            **{**OPTIONS, "flops": 6e4},
        )
    assert "flops" not in str(caught.value)


@pytest.mark.parametrize("k", [0, 1, 4])
def test_rank_runs_refuses_fewer_than_five_runs_too(k):
    # Not only exactly five: with fewer, s^2 = sum r^2 / (n - 5) is not a variance at all.
    n, d, loss = CHINCHILLA.params[:k], CHINCHILLA.tokens[:k], CHINCHILLA.loss[:k]
    with pytest.raises(sp.ScaleplanError, match="^ranking needs more than 5 runs"):
        nextrun.rank_runs(THETA, n, d, loss, **OPTIONS)


def test_an_update_past_the_square_root_of_the_float_range_is_computed_without_overflow():
    # Runs trained on 1e295 to 1e300 tokens, where B D^-beta is below 3e-80 of the loss,
    # measure b and beta only at that scale (the covariance reaches 1.3e163); a candidate
    # at 1e21 FLOPs, where the data term is a quarter to 0.6 of the loss, measures them at
    # once. So w = g^T I^-1 u reaches 5.0e158 for every candidate, four orders above
    # sqrt(max float), 1.3e154; its square overflowed and every sd_after came out 0 with
    # an overflow warning (before 2026-12-07). Exact rational arithmetic gives sd_after =
    # 0.0513 sd_now for every candidate (np.linalg.inv agrees with exact inversion to
    # 1.5e-9 here; measured after the fix: 0.05134 to 0.05135).
    n = np.geomspace(1e8, 1e11, 8)
    d = np.geomspace(1e295, 1e300, 8)[::-1].copy()
    a, b, e, alpha, beta = THETA
    law = np.exp(a - alpha * np.log(n)) + np.exp(b - beta * np.log(d)) + np.exp(e)
    loss = law * np.exp(0.01 * np.array([1, -1, 2, -2, 1, 1, -1, -2]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow is a RuntimeWarning
        ranked = nextrun.rank_runs(THETA, n, d, loss, **OPTIONS, count=9)
    assert math.isfinite(ranked.sd_now) and ranked.sd_now > 0
    assert len(ranked.sd_after) == 9
    np.testing.assert_allclose(ranked.sd_after / ranked.sd_now, 0.0513, atol=1e-4)
