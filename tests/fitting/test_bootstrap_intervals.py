"""`bootstrap_law`'s summary of its resamples: percentile intervals, standard errors, the
count of failed resamples, its wall time, its limits and its progress reports."""

import math
import re
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pytest

import scaleplan as sp
from scaleplan.fitting import bootstrap

RUNS = sp.datasets.chinchilla_runs()
# One start near the optimum: the full fit takes one L-BFGS-B run, not 4,500.
START = np.array([[6.0, 7.0, 0.5, 0.34, 0.34]])
NAMES = ("E", "A", "B", "alpha", "beta")


def _boot(**kw):
    return sp.bootstrap_law(RUNS, starts=START, **kw)


@pytest.fixture(scope="module")
def boot21():
    return _boot(n_resamples=21, seed=5)


def _sorted(boot, name):
    values = np.sort(np.asarray(getattr(boot.laws, name), dtype=float))
    assert values.shape == (21,)
    return values


@pytest.mark.parametrize(
    "confidence, rank",
    # 21 values: NumPy's default (linear) percentile p sits at index 20 * p / 100, so the
    # tails 5% (90% confidence), 25% (50%) and 40% (20%) land on the 2nd, 6th and 9th
    # smallest value exactly, and their mirrors on the 2nd, 6th and 9th largest. A
    # coverage under one half too: above it, 1 % c and 1 - c are the same double.
    [(0.9, 1), (0.5, 5), (0.2, 8)],
)
def test_intervals_are_the_order_statistics_at_each_tail(boot21, confidence, rank):
    # The coverage changes the summary only: the same seed refits the same 21 laws.
    boot = _boot(n_resamples=21, seed=5, confidence=confidence)
    assert boot.n_failed == 0 and boot.confidence == confidence
    for name in NAMES:
        np.testing.assert_array_equal(getattr(boot.laws, name), getattr(boot21.laws, name))
        values = _sorted(boot, name)
        # Neighbouring order statistics differ by ~1e-3 relative, so an index off by
        # 0.02 moves the bound far beyond 1e-12, which allows the interpolation's
        # rounding (measured: exact).
        low, high = boot.intervals[name]
        assert low == pytest.approx(values[rank], rel=1e-12), name
        assert high == pytest.approx(values[20 - rank], rel=1e-12), name
        assert low < high


def test_standard_errors_are_the_sample_deviation_with_n_minus_1(boot21):
    assert boot21.n_failed == 0
    for name in NAMES:
        x = [float(v) for v in getattr(boot21.laws, name)]
        mean = math.fsum(x) / len(x)
        sd = math.sqrt(math.fsum((v - mean) ** 2 for v in x) / (len(x) - 1))
        # ddof 0 or 2 would be off by a factor sqrt(21/20) or sqrt(19/20): 2.5%.
        # Measured difference from the hand sum: < 1e-15 relative.
        assert boot21.standard_errors[name] == pytest.approx(sd, rel=1e-12), name
        assert sd > 0


def test_failed_resamples_are_counted_and_left_out(monkeypatch):
    reference = _boot(n_resamples=8, seed=2)
    assert reference.n_failed == 0
    real = bootstrap._resample_fit
    calls = iter(range(8))

    def fails_three_in_four(*args):
        # Resamples 0 and 4 converge; the rest report no minimum, as a refit that fails.
        theta = real(*args)
        return theta if next(calls) % 4 == 0 else None

    monkeypatch.setattr(bootstrap, "_resample_fit", fails_three_in_four)
    boot = _boot(n_resamples=8, seed=2)
    # 8 drawn, 2 kept: 6 failed (not 8 % 2 = 0, 8 ^ 2 = 10 or 8 >> 2 = 2).
    assert boot.n_resamples == 8 and boot.n_failed == 6
    for name in NAMES:
        kept = np.asarray(getattr(reference.laws, name))[[0, 4]]
        np.testing.assert_array_equal(getattr(boot.laws, name), kept)


def test_one_converged_resample_is_a_fit_error(monkeypatch):
    # One value has no sample deviation: NaN standard errors and ten RuntimeWarnings
    # before 2026-12-07, a point "interval" of that one value.
    real = bootstrap._resample_fit
    calls = iter(range(3))
    monkeypatch.setattr(
        bootstrap, "_resample_fit", lambda *a: real(*a) if next(calls) == 0 else None
    )
    with pytest.raises(sp.FitError, match="^bootstrap_law: 1 of 3 resamples converged; an"):
        _boot(n_resamples=3, seed=0)


def test_no_converged_resample_is_a_fit_error():
    # Every exponential overflows at this start: neither Newton nor L-BFGS-B can begin.
    hopeless = [[1e308, 1e308, 1e308, -1e308, -1e308]]
    with pytest.raises(sp.FitError, match="^bootstrap_law: no resample converged$"):
        _boot(n_resamples=2, seed=0, resample_starts=hopeless)


@pytest.mark.parametrize("n", [1, 0, 1_000_001])
def test_n_resamples_is_checked_against_two_and_a_million(n):
    # The docstring's range, 2 to 1,000,000, quoted in the message. Checked before any fit,
    # so even the refused million-and-one costs nothing.
    message = f"n_resamples must be an integer in [2, 1000000]; got {n}"
    with pytest.raises(sp.ScaleplanError, match=re.escape(message)):
        _boot(n_resamples=n, seed=0)
    assert bootstrap.MAX_RESAMPLES == 1_000_000


def test_seconds_is_the_clock_difference_across_the_call(monkeypatch):
    before = time.perf_counter()
    boot = _boot(n_resamples=2, seed=0)
    after = time.perf_counter()
    assert boot.n_resamples == 2 and len(boot.laws.A) == 2 - boot.n_failed
    assert 0 < boot.seconds <= after - before
    # perf_counter's reference point is undefined: a clock that read 2.0 s at the start
    # and 5.0 s at the end means 3.0 s of work, whatever the start's value.
    ticks = iter([2.0, 5.0])
    monkeypatch.setattr(bootstrap, "time", SimpleNamespace(perf_counter=lambda: next(ticks)))
    assert _boot(n_resamples=2, seed=0).seconds == 3.0


@pytest.mark.parametrize(
    "n, batches",
    # Work units of about 50 resamples: n // 50 of them, at least one, as equal as can be.
    [(40, [40]), (98, [98]), (100, [50, 50]), (149, [75, 74])],
)
def test_progress_counts_resamples_in_units_of_about_fifty(n, batches):
    seen = []
    _boot(n_resamples=n, seed=1, progress=lambda d, t: seen.append((d, t)))
    # The full fit's one start first, then the resamples as each unit finishes.
    total = 1 + n
    expected = [(1, total)] + [(1 + int(d), total) for d in np.cumsum(batches)]
    assert seen == expected


def test_progress_on_an_executor_counts_resamples_not_tasks():
    seen = []
    with ThreadPoolExecutor(2) as ex:
        _boot(n_resamples=100, seed=1, executor=ex, progress=lambda d, t: seen.append((d, t)))
    # Two units of 50 finish in either order; each report adds 50 resamples.
    assert seen == [(1, 101), (51, 101), (101, 101)]
