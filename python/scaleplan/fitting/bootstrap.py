"""Bootstrap intervals for a fitted loss law: refits on resamples of the runs.

Each resample is a vector of counts passed to Rust as weights, refitted by Newton's method
from the full fit's optimum; the coefficients' spread gives percentile intervals and
standard errors, and the laws (one per resample) carry the uncertainty into a plan.
"""

from __future__ import annotations

import time
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _core
from .._utils.checks import OPEN_UNIT as CONFIDENCE
from .._utils.checks import number, whole
from .._utils.checks import seed as check_seed
from .._utils.frames import Record
from .._utils.progress import Progress
from ..laws.scaling import COEFFICIENTS, ScalingLaw
from ._lbfgsb import BOOTSTRAP_TOLERANCES, minimise
from ._solver import (
    aligned_float64,
    newton_best,
    newton_polish,
    report_progress,
    run_columns,
    start_grid,
)
from .fit import DEFAULT_DELTA, DEFAULT_POLISH, FitError, FitResult, chinchilla_grid, fit_law
from .thetas import laws_from_thetas

__all__ = ["MAX_RESAMPLES", "BootstrapResult", "bootstrap_law", "resample_counts"]

# Resamples accepted by every bootstrap: a million refits is days of work already.
MAX_RESAMPLES = 1_000_000


@dataclass(frozen=True, repr=False)
class BootstrapResult(Record):
    """Laws refitted on resamples of the runs, as `bootstrap_law` returns them.

    Parameters
    ----------
    fit : FitResult
        The fit to all runs.
    laws : ScalingLaw
        One law whose coefficients are arrays (one entry per successful resample): pass it
        to `compute_optimal` or `cost_optimal` to carry the uncertainty forward.
    intervals : dict of str to (float, float)
        Percentile bounds `(low, high)` of E, A, B, alpha and beta.
    standard_errors : dict of str to float
        Their standard errors.
    confidence : float
        The intervals' coverage (0.95 = 95%).
    n_resamples : int
        Resamples drawn.
    n_failed : int
        Resamples that did not converge (left out of `laws`).
    seconds : float
        Wall time, in seconds.

    Examples
    --------
    The spread of the fitted law, carried into the lifetime optimum:

    >>> import numpy as np
    >>> from scaleplan import bootstrap_law, compute_optimal
    >>> from scaleplan.fitting.datasets import chinchilla_runs
    >>> start = np.array([[6.0, 7.0, 0.5, 0.34, 0.34]])
    >>> boot = bootstrap_law(chinchilla_runs(), n_resamples=20, seed=0, starts=start)
    >>> opt = compute_optimal(2.0, 1e13, law=boot.laws)  # one optimum per resample
    >>> opt.params.shape
    (20,)
    """

    fit: FitResult
    laws: ScalingLaw
    intervals: dict[str, tuple[float, float]]
    standard_errors: dict[str, float]
    confidence: float
    n_resamples: int
    n_failed: int
    seconds: float


def bootstrap_law(
    params: Any,
    tokens: Any = None,
    loss: Any = None,
    *,
    n_resamples: int = 1000,
    seed: int | None = None,
    confidence: float = 0.95,
    params_col: str = "params",
    tokens_col: str = "tokens",
    loss_col: str = "loss",
    delta: float = DEFAULT_DELTA,
    starts: Any = "chinchilla",
    resample_starts: Any = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> BootstrapResult:
    """Resample the runs with replacement, refit, and summarise the spread.

    The full fit uses `starts`; each resample runs Newton's method from the full fit's
    optimum (or from `resample_starts`), since a resample's optimum lies near it, to a
    minimum at f64 precision; if that fails, L-BFGS-B to `BOOTSTRAP_TOLERANCES` first (see
    the note at their definition), then Newton. A resample is a vector of counts passed to
    Rust as weights, so no data are copied. The resamples are drawn up front from `seed`,
    so an executor changes where the work runs, never the result.

    Parameters
    ----------
    params, tokens, loss
        The runs, as `fit_law` takes them (arrays, or one table).
    n_resamples : int, optional
        Resamples to refit, 2 to 1,000,000 (default 1000).
    seed : int, optional
        Seeds the resamples; None draws fresh entropy.
    confidence : float, optional
        The intervals' coverage, in (0, 1) (default 0.95).
    params_col, tokens_col, loss_col, delta, starts, executor
        As in `fit_law`.
    resample_starts : array_like, optional
        Starts of each resample's fit (default: the full fit's optimum).
    progress : callable, optional
        Called as `progress(finished, total)`: the full fit's starts, then the resamples.

    Returns
    -------
    BootstrapResult

    Raises
    ------
    ScaleplanError
        If a run or setting is out of range.
    FitError
        If the full fit fails, or fewer than 2 resamples converge.

    Examples
    --------
    >>> import numpy as np
    >>> from scaleplan import bootstrap_law
    >>> from scaleplan.fitting.datasets import chinchilla_runs
    >>> start = np.array([[6.0, 7.0, 0.5, 0.34, 0.34]])  # one start: quick
    >>> boot = bootstrap_law(chinchilla_runs(), n_resamples=20, seed=0, starts=start)
    >>> low, high = boot.intervals["alpha"]
    >>> print(f"alpha in [{low:.2f}, {high:.2f}], {boot.n_failed} failed")
    alpha in [0.32, 0.37], 0 failed
    """
    t0 = time.perf_counter()
    n_resamples = whole("n_resamples", n_resamples, 2, MAX_RESAMPLES)
    confidence = number("confidence", confidence, CONFIDENCE)
    seed = check_seed("seed", seed)
    cols = (params_col, tokens_col, loss_col)
    full = fit_law(
        params,
        tokens,
        loss,
        params_col=params_col,
        tokens_col=tokens_col,
        loss_col=loss_col,
        delta=delta,
        starts=starts,
        executor=executor,
        progress=None if progress is None else lambda d, t: progress(d, t + n_resamples),
    )
    after_fit = (
        None if progress is None else lambda d, t: progress(full.n_starts + d, full.n_starts + t)
    )
    data = run_columns(params, tokens, loss, cols)
    local_starts = (
        full.theta[None, :]
        if resample_starts is None
        else start_grid(resample_starts, chinchilla_grid)
    )
    counts = resample_counts(len(data[0]), n_resamples, seed)
    # Tasks of ~50 resamples: large enough that a process pool's per-task cost is noise.
    batches = np.array_split(counts, max(1, n_resamples // 50))
    jobs = [(data, local_starts, full.delta, b, BOOTSTRAP_TOLERANCES) for b in batches]
    outcomes = _refit_all(jobs, executor, after_fit)
    thetas = np.array([t for t in outcomes if t is not None])
    if len(thetas) == 0:
        raise FitError("bootstrap_law: no resample converged")
    if len(thetas) == 1:  # one value has no spread: the errors would be NaN, with warnings
        raise FitError(f"bootstrap_law: 1 of {n_resamples} resamples converged; an interval "
                       "and a standard error need at least 2")  # fmt: skip
    return _summary(full, thetas, confidence, n_resamples, time.perf_counter() - t0)


def resample_counts(n: int, n_resamples: int, seed: int | None) -> np.ndarray:
    """Bootstrap resamples as counts: how often each of `n` runs is drawn.

    Parameters
    ----------
    n : int
        Runs.
    n_resamples : int
        Resamples.
    seed : int or None
        Seeds the draws (None: fresh entropy).

    Returns
    -------
    numpy.ndarray
        Shape `(n_resamples, n)`, float counts; each row sums to `n` (the weights Rust
        reads, so no data are copied).

    Examples
    --------
    >>> from scaleplan.fitting.bootstrap import resample_counts
    >>> resample_counts(5, 3, seed=0).sum(axis=1)
    array([5., 5., 5.])
    """
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples).astype(float)


def _summary(
    full: FitResult, thetas: np.ndarray, confidence: float, n_resamples: int, seconds: float
) -> BootstrapResult:
    """Percentile intervals and standard errors of the refitted coefficients."""
    laws = laws_from_thetas(thetas, name="bootstrap")
    coefficients = dict(zip(COEFFICIENTS, laws.coefficients, strict=True))
    tail = 50.0 * (1.0 - confidence)
    intervals = {
        k: (float(np.percentile(v, tail)), float(np.percentile(v, 100.0 - tail)))
        for k, v in coefficients.items()
    }
    ses = {k: float(np.std(v, ddof=1)) for k, v in coefficients.items()}
    return BootstrapResult(
        fit=full,
        laws=laws,
        intervals=intervals,
        standard_errors=ses,
        confidence=confidence,
        n_resamples=n_resamples,
        n_failed=n_resamples - len(thetas),
        seconds=seconds,
    )


def _refit_all(
    jobs: list[tuple[Any, ...]], executor: Executor | None, progress: Progress | None
) -> list[NDArray[np.float64] | None]:
    """Every job's refits in job order, here or on `executor`; `progress(finished, total)`
    in resamples."""
    total = sum(len(j[3]) for j in jobs)
    if executor is None:
        outcomes: list[NDArray[np.float64] | None] = []
        for j in jobs:
            outcomes += _resample_job(*j)
            if progress is not None:
                progress(len(outcomes), total)
        return outcomes
    futures = [executor.submit(_resample_job, *j) for j in jobs]
    report_progress(futures, [len(j[3]) for j in jobs], progress)
    return [t for f in futures for t in f.result()]


def _resample_job(
    data: tuple[NDArray[np.float64], ...],
    starts: NDArray[np.float64],
    delta: float,
    counts: NDArray[np.float64],
    tolerances: tuple[float, float],
) -> list[NDArray[np.float64] | None]:
    runs = _core.FitRuns(*map(aligned_float64, data))
    starts, counts = aligned_float64(starts), aligned_float64(counts)
    return [_resample_fit(runs, starts, delta, c, tolerances) for c in counts]


def _resample_fit(
    runs: _core.FitRuns,
    starts: NDArray[np.float64],
    delta: float,
    counts: NDArray[np.float64],
    tolerances: tuple[float, float],
) -> NDArray[np.float64] | None:
    """The minimum for one resample, or None if none is reached.

    Newton straight from each start (by default the full fit's optimum, next to which a
    resample's optimum lies): a handful of steps each. Only if that fails does L-BFGS-B
    run from the starts first, followed by the same polish.
    """
    best = newton_best(runs, list(starts), delta, counts)
    if best is not None:
        return best[1]
    results = minimise(runs, starts, delta, counts, False, tolerances)
    try:
        # Newton from the starts themselves was tried above: no fallback to them here.
        return newton_polish(runs, results, delta, counts, DEFAULT_POLISH, "resample")[1]
    except FitError:
        return None
