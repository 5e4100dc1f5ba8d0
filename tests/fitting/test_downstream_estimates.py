"""What `fit_downstream` reports beside the mapping (leave-one-out error, the share of runs
at chance, the length checks) and how `bootstrap_losses` draws, checks and inverts its
resampled mappings."""

import math
from fractions import Fraction

import numpy as np
import pytest

from scaleplan.fitting import downstream
from scaleplan.fitting.datasets import sardana2024_runs
from scaleplan.fitting.downstream import fit_downstream, sardana_downstream
from scaleplan.testing.reference_fits import downstream_fit as reference_fit

# Eight runs off the mapping e = 1.0, k = 18, g = 1.7 (close to Sardana's core average),
# with noise of about 0.01 written into the scores so the held-out error is not zero.
LOSS = [2.4, 2.6, 2.8, 3.0, 3.2, 3.4, 3.6, 3.8]
SCORE = [0.322, 0.228, 0.173, 0.114, 0.093, 0.048, 0.052, 0.021]


def test_held_out_error_is_the_leave_one_out_of_each_run():
    f = fit_downstream(LOSS, SCORE)
    error = [1.0 - s for s in SCORE]
    n = len(LOSS)
    # Each run predicted by the mapping fitted to the other seven (the Python oracle of
    # the Rust fit, which the other tests hold to the same bits).
    preds = []
    for i in range(n):
        e, k, g = reference_fit(LOSS[:i] + LOSS[i + 1 :], error[:i] + error[i + 1 :])
        preds.append(e - k * math.exp(-g * LOSS[i]))
    resid = np.array(preds) - np.array(error)
    # The baseline predicts each run by the mean of the other n - 1: its residual is
    # (sum - n y_i) / (n - 1), exact in rationals.
    total = sum(Fraction(y) for y in error)
    base_resid = [(total - n * Fraction(y)) / (n - 1) for y in error]
    baseline_mae = float(sum(abs(r) for r in base_resid) / n)
    base = float(sum(r * r for r in base_resid))
    press = float(np.sum(resid**2))
    # measured: all three equal to the last bit; 1e-13 leaves room for summation order
    assert f.held_out_mae == pytest.approx(np.mean(np.abs(resid)), rel=1e-13)
    assert f.baseline_mae == pytest.approx(baseline_mae, rel=1e-13)
    assert f.held_out_r2 == pytest.approx(1.0 - press / base, rel=1e-13)
    # The data follow the mapping up to their noise: far better than the mean.
    assert 0.9 < f.held_out_r2 < 1.0 and f.held_out_mae < 0.3 * f.baseline_mae


def test_constant_scores_have_no_held_out_r2():
    # Nothing to explain: every held-out mean is the score itself (0.5 sums exactly), so
    # the baseline's squared error is 0 and R^2 is defined as -inf, not 0/0.
    f = fit_downstream([2.5, 2.7, 2.9, 3.1, 3.3, 3.5], [0.5] * 6)
    assert f.baseline_mae == 0.0 and f.held_out_mae == 0.0
    assert f.held_out_r2 == -math.inf
    assert not f.usable


def test_at_chance_counts_scores_within_a_margin_of_chance_inclusive():
    # MMLU's chance is 0.25; 0.25 + 0.02 is 0.27 exactly in binary64, so the run scoring
    # 0.27 sits on the margin and counts, with 0.26, 0.25 and 0.24: 4 of 8.
    assert 0.25 + 0.02 == 0.27
    scores = [0.50, 0.40, 0.35, 0.30, 0.27, 0.26, 0.25, 0.24]
    f = fit_downstream(LOSS, scores, benchmark="mmlu", chance=0.25)
    assert f.at_chance == 0.5 and f.chance == 0.25
    assert "50% of runs score within 0.02 of chance" in f.verdict()
    # Chance 0: a score of 0.01 is at chance, 0.021 is not.
    low = fit_downstream(LOSS, [0.3, 0.2, 0.15, 0.1, 0.07, 0.05, 0.021, 0.01])
    assert low.at_chance == 1 / 8


def test_length_checks_count_runs_in_both_directions():
    scores = [0.4, 0.35, 0.3, 0.26, 0.22, 0.2]
    # A mismatch either way is caught here and named on the score (the Rust fit has its
    # own check, but it names neither count).
    for n_loss, n_score in ((5, 6), (6, 5)):
        with pytest.raises(ValueError, match=f"got {n_loss} losses, {n_score} scores") as err:
            fit_downstream(LOSS[:n_loss], scores[:n_score])
        assert err.value.argument == "score"
    with pytest.raises(ValueError, match="at least 5 runs; got 4") as err:
        fit_downstream(LOSS[:4], scores[:4])
    assert err.value.argument == "loss"
    assert fit_downstream(LOSS[:5], scores[:5]).n == 5
    # Lengths are compared as numbers: 257 runs (beyond CPython's cached small ints) of
    # equal length pass, and the bad loss at the end is the error reported.
    many = np.linspace(2.4, 3.8, 257)
    many[-1] = 0.0
    with pytest.raises(ValueError, match="loss must be") as err:
        fit_downstream(many, np.linspace(0.3, 0.02, 257))
    assert err.value.argument == "loss" and err.value.index == 256


def _fixed_mappings(monkeypatch, mappings, seeds=None):
    """Replace the resampled refits by `mappings`, recording the seed of each call."""

    def fake(benchmark, n_resamples, seed):
        if seeds is not None:
            seeds.append(seed)
        return tuple(mappings)

    monkeypatch.setattr(downstream, "_resampled_fits", fake)


def test_bootstrap_keeps_only_mappings_that_reach_the_score(monkeypatch):
    # A score of 0.25 is an error of 0.75; the loss is -ln((e - 0.75) / k) / g when that
    # ratio is positive and finite. Each mapping is one a least-squares fit can return:
    # k = 0 (constant errors), k < 0 (errors falling with loss), a floor e at or below
    # the target error, or k so small the ratio overflows.
    mappings = [
        (1.0, 0.5, 2.0),  # ratio 0.5, k below 1: ln 2 / 2
        (2.0, 4.0, 1.0),  # ratio 1.25 / 4 = 0.3125 (e beyond twice the error)
        (1.0, 0.0, 1.0),  # flat: no loss reaches any score
        (0.5, -0.5, 1.0),  # the ratio would be 0.5 but the mapping runs backwards
        (0.75, 1.0, 1.0),  # the floor is the score: ratio 0, loss infinite
        (0.5, 1.0, 1.0),  # the floor is above the score: ratio -0.25
        (1.0, 5e-324, 1.0),  # ratio overflows to inf
    ]
    _fixed_mappings(monkeypatch, mappings)
    got = downstream.bootstrap_losses(sardana_downstream(), 0.25, n_resamples=7, seed=3)
    want = [math.log(2.0) / 2.0, -math.log(0.3125)]
    np.testing.assert_allclose(got, want, rtol=1e-15)  # measured: exact


def test_unseeded_bootstraps_draw_seeds_over_the_whole_range(monkeypatch):
    seeds = []
    _fixed_mappings(monkeypatch, [(1.0, 0.5, 2.0)], seeds)
    fit = sardana_downstream()
    for _ in range(64):
        downstream.bootstrap_losses(fit, 0.25, n_resamples=1, seed=None)
    assert all(isinstance(s, int) and 0 <= s < 2**63 for s in seeds)
    assert len(set(seeds)) == 64
    # Half of [0, 2**63) lies above 2**62: missing it 64 times has probability 2**-64.
    assert max(seeds) >= 2**62


def test_bootstrap_seed_and_count_bounds():
    fit = sardana_downstream()
    # The largest seed is accepted, one more is refused with the range in the message.
    top = downstream.bootstrap_losses(fit, 0.3, n_resamples=1, seed=2**63 - 1)
    assert top.shape in ((0,), (1,)) and np.all(np.isfinite(top))
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 9223372036854775807\]"):
        downstream.bootstrap_losses(fit, 0.3, n_resamples=1, seed=2**63)
    # One resample is enough, and its loss is its own mapping's inverse at the score.
    one = downstream.bootstrap_losses(fit, 0.3, n_resamples=1, seed=11)
    runs = sardana2024_runs()
    idx = np.random.default_rng(11).integers(0, 47, 47)
    error = [1.0 - float(v) for v in runs.extra["core_average"][idx]]
    e, k, g = reference_fit([float(v) for v in runs.loss[idx]], error)
    np.testing.assert_allclose(one, [-math.log((e - 0.7) / k) / g], rtol=1e-14)


def test_resampled_mappings_are_kept_for_the_sixteen_latest_keys():
    # A sweep over up to 16 (count, seed) pairs refits nothing the second time round.
    fits = downstream._resampled_fits
    fits.cache_clear()
    for seed in range(16):
        fits("core_average", 1, seed)
    fits("core_average", 1, 0)  # still held: a hit, and now the most recent
    fits("core_average", 1, 16)  # the 17th key pushes out the oldest, seed 1
    fits("core_average", 1, 1)
    info = fits.cache_info()
    assert (info.hits, info.misses, info.currsize) == (1, 18, 16)
    fits.cache_clear()
