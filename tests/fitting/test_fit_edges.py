"""`fit_law`'s edges: the published grid of starts, the Huber threshold's closed range, the
"mean" objective, the wall time, how the starts are split over an executor, and what the
unpolished fit (`polish=0`) keeps, counts and says when no start converged."""

import itertools
import math
from concurrent.futures import Executor, ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pytest

import scaleplan as sp
from scaleplan.fitting import fit

RUNS = sp.datasets.chinchilla_runs()
# One start near the optimum: one L-BFGS-B run instead of 4,500.
START = [[6.0, 7.0, 0.5, 0.34, 0.34]]
HOFFMANN = [math.log(406.4), math.log(410.7), math.log(1.69), 0.34, 0.28]


def test_chinchilla_grid_is_the_published_product_of_starts():
    # Hoffmann et al. 2022, Appendix D.2: a, b in {0, 5, ..., 25}, e in {-1, -0.5, ..., 1},
    # alpha, beta in {0, 0.5, ..., 2}, every combination, rows (a, b, e, alpha, beta) in
    # itertools.product order. Built here from integer steps, so no literal is shared.
    ab = [5.0 * k for k in range(6)]
    e = [0.5 * k - 1.0 for k in range(5)]
    exps = [0.5 * k for k in range(5)]
    want = np.array(list(itertools.product(ab, ab, e, exps, exps)))
    got = fit.chinchilla_grid()
    assert got.shape == (4500, 5) and got.dtype == np.float64
    np.testing.assert_array_equal(got, want)


def test_huber_delta_range_includes_both_ends():
    # polish=0 at the lower end: Newton cannot converge on an objective that is delta times
    # the L1 norm, but L-BFGS-B's stop still gives a fit with delta as asked.
    low = sp.fit_law(RUNS, starts=START, delta=1e-12, polish=0)
    high = sp.fit_law(RUNS, starts=START, delta=1e3)
    assert low.delta == 1e-12 and high.delta == 1e3
    for bad in (0.0, 1e-13, 1e3 * (1 + 2**-52)):
        with pytest.raises(ValueError) as info:
            sp.fit_law(RUNS, starts=START, delta=bad)
        assert str(info.value) == f"delta must be a number in [1e-12, 1000]; got {bad!r}"


def test_mean_objective_is_chosen_by_value_not_by_identity():
    # A "mean" built at run time is a different object from the literal: the choice must
    # compare the text. With ftol out of the way the mean stops early, far above the sum's
    # optimum (tests/fitting/test_fit.py says why), so choosing the sum would show.
    built = "".join(["me", "an"])
    kw = dict(starts=[HOFFMANN], ftol=1e-15, polish=0)
    mean = sp.fit_law(RUNS, objective=built, **kw)
    literal = sp.fit_law(RUNS, objective="mean", **kw)
    total = sp.fit_law(RUNS, objective="sum", **kw)
    np.testing.assert_array_equal(mean.theta, literal.theta)
    assert mean.objective == literal.objective
    assert mean.objective > 1.1 * total.objective


def test_seconds_is_the_clock_difference_across_the_call(monkeypatch):
    # perf_counter's reference point is undefined: a clock that read 2.0 s at the start
    # and 5.0 s at the end means 3.0 s of work, whatever the start's value.
    ticks = iter([2.0, 5.0])
    monkeypatch.setattr(fit, "time", SimpleNamespace(perf_counter=lambda: next(ticks)))
    assert sp.fit_law(RUNS, starts=START).seconds == 3.0


class _Recording(Executor):
    """Runs each task at once and records how many starts each one was given."""

    def __init__(self):
        self.sizes = []
        self._pool = ThreadPoolExecutor(1)

    def submit(self, fn, *args, **kwargs):
        self.sizes.append(len(args[1]))
        return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait=True, **kwargs):
        self._pool.shutdown(wait)


@pytest.mark.parametrize("k", [1, 64, 100])
def test_an_executor_gets_at_most_64_tasks_of_near_equal_size(k):
    # The starts go out in min(k, 64) tasks, sizes differing by at most one, in order, so
    # the pooled fit is the plain one (progress is then reported 64 times, not k times).
    starts = np.repeat(START, k, axis=0)
    with _Recording() as ex:
        seen = []
        pooled = sp.fit_law(RUNS, starts=starts, executor=ex, progress=lambda d, t: seen.append(d))
    tasks = min(k, 64)
    assert len(ex.sizes) == tasks and sum(ex.sizes) == k
    assert sorted(ex.sizes, reverse=True) == ex.sizes
    assert ex.sizes[0] - ex.sizes[-1] <= 1 and ex.sizes[-1] >= 1
    assert len(seen) == tasks and seen[-1] == k
    assert pooled.n_converged == k


# The grid stage's results, as `_run_starts` returns them: (objective, theta, converged).
# Valid laws near Hoffmann et al.'s, each a little different, so which one is kept shows.
def _theta(shift):
    return np.array([6.0 + shift, 7.0, 0.5, 0.34, 0.34])


def _fit_on(monkeypatch, results, starts=1):
    def fake(data, grid, delta, weights, executor, mean, tolerances, progress=None):
        assert len(grid) == starts
        return [(f, np.array(x), ok) for f, x, ok in results]

    monkeypatch.setattr(fit, "_run_starts", fake)
    return sp.fit_law(RUNS, starts=np.repeat(START, starts, axis=0), polish=0)


@pytest.mark.parametrize(
    "results, kept, converged",
    [
        # L-BFGS-B stopped (maxiter, a failed line search) at a lower but unconverged point:
        # not a fit, however low.
        ([(0.5, _theta(0.1), False), (1.0, _theta(0.2), True)], 1, 1),
        # A converged flag on a non-finite objective is not a fit either.
        ([(math.inf, _theta(0.1), True), (1.0, _theta(0.2), True)], 1, 1),
        ([(math.nan, _theta(0.1), True), (1.0, _theta(0.2), True)], 1, 1),
        # The lowest converged wins, wherever it sits in the list.
        ([(2.0, _theta(0.1), True), (1.0, _theta(0.2), True), (3.0, _theta(0.3), True)], 1, 3),
        ([(1.0, _theta(0.1), True), (2.0, _theta(0.2), True), (0.5, _theta(0.3), False)], 0, 2),
    ],
)
def test_unpolished_fit_keeps_the_lowest_converged_finite_start(
    monkeypatch, results, kept, converged
):
    r = _fit_on(monkeypatch, results, starts=len(results))
    f, theta, _ = results[kept]
    assert r.objective == f and r.n_polished == 0
    np.testing.assert_array_equal(r.theta, theta)
    assert r.n_converged == converged and r.n_starts == len(results)


@pytest.mark.parametrize(
    "results, hint",
    [
        # The lowest finite objective among the failed starts, wherever it sits.
        ([(2.0, _theta(0.1), False), (0.25, _theta(0.2), False)], "0.25"),
        ([(0.125, _theta(0.1), False), (2.0, _theta(0.2), False)], "0.125"),
        # Non-finite objectives are no hint, even with a converged flag.
        ([(math.inf, _theta(0.1), True), (3.0, _theta(0.2), False)], "3"),
        ([(math.nan, _theta(0.1), False), (1.5, _theta(0.2), False)], "1.5"),
        ([(math.nan, _theta(0.1), False), (math.inf, _theta(0.2), True)], None),
    ],
)
def test_no_converged_start_names_the_lowest_objective_reached(monkeypatch, results, hint):
    tail = f"; the lowest objective reached was {hint}" if hint else ""
    with pytest.raises(sp.FitError) as info:
        _fit_on(monkeypatch, results, starts=len(results))
    assert str(info.value) == f"fit_law: none of {len(results)} L-BFGS-B starts converged{tail}"


def test_no_converged_start_without_any_finite_objective_has_no_hint():
    # A start so far out that every exponential overflows: the real grid stage, no number
    # to report.
    with pytest.raises(sp.FitError) as info:
        sp.fit_law(RUNS, starts=[[1e308, 1e308, 1e308, -1e308, -1e308]], polish=0)
    assert str(info.value) == "fit_law: none of 1 L-BFGS-B starts converged"
