"""Fitting a loss law to training runs: Chinchilla "Approach 3".

Minimise `sum_i Huber_delta(LSE(a - alpha ln N_i, b - beta ln D_i, e) - ln L_i)` over
`theta = (a, b, e, alpha, beta)` with SciPy's L-BFGS-B from every point of a grid of starts
(Hoffmann et al. 2022, §D.2; Besiroglu et al. 2024; Sardana et al. 2024, Eq. 4), then
polish the best few results by Newton's method on the exact Hessian and keep the lowest
objective; `A, B, E = exp(a), exp(b), exp(e)`. The objective, gradient and Hessian come
from Rust.

Why the polish: L-BFGS-B stops when the objective's reduction falls below SciPy's `ftol`,
which in this flat valley happens at a point that depends on rounding, so the BLAS kernel
OpenBLAS picks for the CPU moved the Sardana all-runs fit by 5e-3 in beta and 10% in A.
Newton's method (Rust, no BLAS) runs each candidate to a minimum at f64 precision, and the
answer is the same on every machine.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _core
from .._utils.arrays import as_float
from .._utils.checks import OPEN_UNIT, Span, number, whole
from .._utils.frames import Record
from .._utils.progress import Progress
from ..errors import FitError, ScaleplanError
from ..laws.scaling import ScalingLaw
from .datasets import Runs
from .lbfgsb import SCIPY_TOLERANCES, minimise

__all__ = [
    "DEFAULT_DELTA",
    "DEFAULT_POLISH",
    "HUBER_DELTA",
    "NEWTON_MAX_ITER",
    "FitError",
    "FitResult",
    "aligned_float64",
    "chinchilla_grid",
    "fit_law",
    "law_from_theta",
    "laws_from_thetas",
    "newton_best",
    "newton_polish",
    "report_progress",
    "run_columns",
    "start_grid",
]

DEFAULT_DELTA = 1e-3
# How many of the lowest grid results Newton polishes: the grid's best few sit in the same
# valley; polishing several guards against the best one stopping beside a kink it cannot
# leave. Newton iterations allowed per candidate (most need < 30, a few near Huber's kinks
# several hundred; each costs one pass over the runs).
DEFAULT_POLISH = 8
NEWTON_MAX_ITER = 2000


# The Huber threshold: below 1e-12 the objective is delta * sum |r| at a scale no
# optimiser's tolerance resolves; above 1e3 it is already least squares on any data.
HUBER_DELTA = Span(1e-12, 1e3, low_closed=True, high_closed=True)


def chinchilla_grid() -> NDArray[np.float64]:
    """The 4,500 starts of Hoffmann et al.: alpha, beta in {0, .5, 1, 1.5, 2}, e in
    {-1, -.5, 0, .5, 1}, a, b in {0, 5, ..., 25}; rows are (a, b, e, alpha, beta)."""
    exps = (0.0, 0.5, 1.0, 1.5, 2.0)
    es = (-1.0, -0.5, 0.0, 0.5, 1.0)
    abs_ = (0.0, 5.0, 10.0, 15.0, 20.0, 25.0)
    return np.array(
        [(a, b, e, al, be) for a, b, e, al, be in itertools.product(abs_, abs_, es, exps, exps)]
    )


@dataclass(frozen=True, repr=False)
class FitResult(Record):
    """A law fitted by Approach 3: the best of all starts, as `fit_law` returns it.

    Parameters
    ----------
    law : ScalingLaw
        The fitted law, `E, A, B = exp(e), exp(a), exp(b)`.
    theta : numpy.ndarray
        `(a, b, e, alpha, beta)`.
    objective : float
        The summed Huber loss at `theta` (log-loss units).
    residuals : numpy.ndarray
        `LSE(...) - ln L` per run (log-loss units).
    n_points : int
        Runs fitted.
    n_starts : int
        L-BFGS-B starts run.
    n_converged : int
        Starts whose L-BFGS-B reported success.
    seconds : float
        Wall time of the whole fit, in seconds.
    delta : float
        The Huber threshold.
    n_polished : int, optional
        How many of the best were polished by Newton's method (0: the raw L-BFGS-B
        result, as in the published procedure).
    newton_iterations : int, optional
        Newton steps of the returned point's polish.

    Examples
    --------
    >>> import numpy as np
    >>> from scaleplan.fitting.datasets import chinchilla_runs
    >>> runs = chinchilla_runs()  # Hoffmann et al.'s 240 runs
    >>> start = np.array([[6.0, 7.0, 0.5, 0.34, 0.34]])  # one start: quick
    >>> fit = fit_law(runs, starts=start)
    >>> fit.n_points, fit.n_starts, fit.n_polished
    (240, 1, 1)
    >>> print(f"{fit.objective:.4g}")
    0.001018
    """

    law: ScalingLaw
    theta: NDArray[np.float64]
    objective: float
    residuals: NDArray[np.float64]
    n_points: int
    n_starts: int
    n_converged: int
    seconds: float
    delta: float
    n_polished: int = 0
    newton_iterations: int = 0


def run_columns(params: Any, tokens: Any, loss: Any, cols: tuple[str, str, str]) -> tuple[Any, ...]:
    """The runs as three checked float arrays (params, tokens, loss), from arrays or from
    one mapping, DataFrame or `Runs` whose columns `cols` names (every fit reads runs so)."""
    if tokens is None and loss is None:
        if isinstance(params, Runs):
            params = params.as_dict()
        if not isinstance(params, Mapping) and not hasattr(params, "columns"):
            raise ScaleplanError(
                "params: give params, tokens and loss as arrays, or one table (a mapping or "
                "a DataFrame) with the column names",
                "params",
            )
        table = params
        names = list(table.keys()) if isinstance(table, Mapping) else list(table.columns)
        missing = [c for c in cols if c not in names]
        if missing:
            raise ScaleplanError(f"params: column {missing[0]!r} not found; the table has "
                                 f"{names}", "params")  # fmt: skip
        params, tokens, loss = (table[c] for c in cols)
    elif tokens is None or loss is None:
        missing_one = "tokens" if tokens is None else "loss"
        raise ScaleplanError(f"{missing_one}: give all three of params, tokens and loss",
                             missing_one)  # fmt: skip
    p, t, l_ = (
        np.ravel(as_float(n, v))
        for n, v in zip(("params", "tokens", "loss"), (params, tokens, loss), strict=True)
    )
    if not len(p) == len(t) == len(l_):
        raise ScaleplanError(
            f"params, tokens and loss must have one length; got {len(p)}, {len(t)}, {len(l_)}",
            "params" if len(t) == len(l_) else "tokens" if len(p) == len(l_) else "loss",
        )
    if len(p) <= 5:
        raise ScaleplanError(
            f"params: a law has 5 parameters: need more than 5 runs; got {len(p)}", "params"
        )
    return p, t, l_


def start_grid(starts: Any) -> NDArray[np.float64]:
    """The L-BFGS-B starts as rows of (a, b, e, alpha, beta): "chinchilla" (the 4,500-point
    grid of Hoffmann et al.) or the caller's own rows, checked."""
    if isinstance(starts, str):
        if starts != "chinchilla":
            raise ScaleplanError(
                f"starts must be 'chinchilla' or an array of shape (k, 5); got {starts!r}",
                "starts",
            )
        return chinchilla_grid()
    arr = np.atleast_2d(as_float("starts", starts))
    if arr.ndim != 2 or arr.shape[1] != 5 or len(arr) == 0 or not np.all(np.isfinite(arr)):
        raise ScaleplanError(
            "starts must be a finite array of shape (k, 5): (a, b, e, alpha, beta)", "starts"
        )
    return arr


def _chunk_job(
    data: tuple[NDArray[np.float64], ...],
    starts: NDArray[np.float64],
    delta: float,
    weights: NDArray[np.float64] | None,
    mean: bool,
    tolerances: tuple[float, float],
) -> list[tuple[float, NDArray[np.float64], bool]]:
    # Module level so that process pools can pickle it; rebuilds the Rust runs there.
    return minimise(
        _core.FitRuns(*map(aligned_float64, data)),
        aligned_float64(starts),
        delta,
        None if weights is None else aligned_float64(weights),
        mean,
        tolerances,
    )


def aligned_float64(a: NDArray[np.float64]) -> NDArray[np.float64]:
    # Arrays that crossed a process boundary (a Dask worker) may arrive unaligned; the
    # kernels read aligned, contiguous float64 in place.
    return np.require(a, np.float64, ["C", "A"])


def _run_starts(
    data: tuple[NDArray[np.float64], ...],
    starts: NDArray[np.float64],
    delta: float,
    weights: NDArray[np.float64] | None,
    executor: Executor | None,
    mean: bool,
    tolerances: tuple[float, float],
    progress: Progress | None = None,
) -> list[tuple[float, NDArray[np.float64], bool]]:
    if executor is None:
        runs = _core.FitRuns(*data)
        return minimise(runs, starts, delta, weights, mean, tolerances, progress)
    pieces = [p for p in np.array_split(starts, max(1, min(len(starts), 64))) if len(p)]
    futures = [
        executor.submit(_chunk_job, data, p, delta, weights, mean, tolerances) for p in pieces
    ]
    report_progress(futures, [len(p) for p in pieces], progress)
    return [r for f in futures for r in f.result()]


def report_progress(
    futures: list[Future[Any]], sizes: list[int], progress: Progress | None
) -> None:
    """Calls `progress(finished, total)` as each future finishes, counting `sizes` units per
    future (results are read in order afterwards)."""
    if progress is None:
        return
    size_of = {id(f): n for f, n in zip(futures, sizes, strict=True)}
    done, total = 0, sum(sizes)
    for f in as_completed(futures):
        done += size_of[id(f)]
        progress(done, total)


def _best(
    results: Sequence[tuple[float, NDArray[np.float64], bool]], what: str
) -> tuple[float, NDArray[np.float64], int]:
    converged = [r for r in results if r[2] and math.isfinite(r[0])]
    if not converged:
        best = min((r for r in results if math.isfinite(r[0])), default=None, key=lambda r: r[0])
        hint = f"; the lowest objective reached was {best[0]:.6g}" if best else ""
        raise FitError(f"{what}: none of {len(results)} L-BFGS-B starts converged{hint}")
    f, theta, _ = min(converged, key=lambda r: r[0])
    return f, theta, len(converged)


def newton_best(
    runs: _core.FitRuns,
    thetas: Sequence[NDArray[np.float64]],
    delta: float,
    weights: NDArray[np.float64] | None,
) -> tuple[float, NDArray[np.float64], int] | None:
    """Newton from each of `thetas`; the lowest converged minimum as (objective, theta,
    Newton iterations), or None when none converges."""
    found = []
    for theta0 in thetas:
        theta, f, iterations, ok = runs.newton(theta0, delta, weights, NEWTON_MAX_ITER)
        if ok and math.isfinite(f):
            found.append((f, theta, iterations))
    return min(found, key=lambda r: r[0]) if found else None


def newton_polish(
    runs: _core.FitRuns,
    results: Sequence[tuple[float, NDArray[np.float64], bool]],
    delta: float,
    weights: NDArray[np.float64] | None,
    count: int,
    what: str,
    starts: NDArray[np.float64] | None = None,
) -> tuple[float, NDArray[np.float64], int]:
    """Newton from the `count` lowest finite results; the lowest converged minimum wins.
    If none converges, Newton from the starts those results came from, when given (`results[i]` is
    the L-BFGS-B run from `starts[i]`): L-BFGS-B can leave a good start for a far basin
    where its line search fails, while Newton from the start itself reaches the minimum.

    Returns (objective, theta, Newton iterations). Raises FitError when none converges:
    a point where an optimiser merely stopped is never reported as the optimum.
    """
    order = sorted(
        (i for i, r in enumerate(results) if math.isfinite(r[0])), key=lambda i: results[i][0]
    )[:count]
    best = newton_best(runs, [results[i][1] for i in order], delta, weights)
    if best is None and starts is not None:
        best = newton_best(runs, [starts[i] for i in order], delta, weights)
    if best is None:
        raise FitError(
            f"{what}: none of {len(results)} starts reached a minimum (L-BFGS-B, then "
            f"Newton from the best {len(order)} and from their starts)"
        )
    return best


def law_from_theta(theta: Sequence[float], name: str = "fitted") -> ScalingLaw:
    a, b, e, alpha, beta = theta
    return ScalingLaw(math.exp(e), math.exp(a), math.exp(b), alpha, beta, name=name)


def laws_from_thetas(thetas: NDArray[np.float64], name: str = "fitted") -> ScalingLaw:
    """One law per row of `(a, b, e, alpha, beta, ...)` (extra columns ignored), as a law
    whose coefficients are arrays."""
    a, b, e, alpha, beta = (thetas[:, k] for k in range(5))
    return ScalingLaw(E=np.exp(e), A=np.exp(a), B=np.exp(b), alpha=alpha, beta=beta, name=name)


def _settings(
    objective: Any, delta: Any, ftol: Any, gtol: Any, polish: Any
) -> tuple[float, tuple[float, float], bool]:
    """`fit_law`'s settings checked: (delta, (ftol, gtol), whether the objective is the mean)."""
    if objective not in ("sum", "mean"):
        raise ScaleplanError(f"objective must be 'sum' or 'mean'; got {objective!r}", "objective")
    delta = number("delta", delta, HUBER_DELTA)
    ftol, gtol = number("ftol", ftol, OPEN_UNIT), number("gtol", gtol, OPEN_UNIT)
    whole("polish", polish, 0, None)
    return delta, (ftol, gtol), objective == "mean"


def fit_law(
    params: Any,
    tokens: Any = None,
    loss: Any = None,
    *,
    params_col: str = "params",
    tokens_col: str = "tokens",
    loss_col: str = "loss",
    delta: float = DEFAULT_DELTA,
    starts: Any = "chinchilla",
    executor: Executor | None = None,
    objective: str = "sum",
    ftol: float = SCIPY_TOLERANCES[0],
    gtol: float = SCIPY_TOLERANCES[1],
    polish: int = DEFAULT_POLISH,
    progress: Progress | None = None,
) -> FitResult:
    """Fit `L = E + A N^-alpha + B D^-beta` to runs by Chinchilla's Approach 3.

    Minimises `sum_i Huber_delta(LSE(a - alpha ln N_i, b - beta ln D_i, e) - ln L_i)` over
    `theta = (a, b, e, alpha, beta)` from every start, then polishes the best few by
    Newton's method (the module's docstring says why).

    Parameters
    ----------
    params : array_like or mapping or DataFrame or Runs
        The runs' parameter counts; or one table (mapping, DataFrame or `datasets.Runs`)
        with the columns named by `params_col`, `tokens_col` and `loss_col`, and then no
        `tokens` or `loss`.
    tokens : array_like, optional
        Training tokens, one per run.
    loss : array_like, optional
        Final losses, in nats/token, one per run.
    params_col, tokens_col, loss_col : str, optional
        The table's column names.
    delta : float, optional
        The Huber threshold, in log-loss units (1e-3 in every paper that uses this
        procedure).
    starts : "chinchilla" or array_like, optional
        "chinchilla" (the 4,500-point grid) or an array of shape (k, 5) of
        (a, b, e, alpha, beta).
    executor : concurrent.futures.Executor, optional
        Spreads the starts over workers.
    objective : {"sum", "mean"}, optional
        "sum" (correct) or "mean", kept only to demonstrate the early-stopping trap: with
        the mean, L-BFGS-B's gradient test fires far from the optimum.
    ftol, gtol : float, optional
        L-BFGS-B's stopping tolerances on the objective's reduction and on the projected
        gradient (SciPy's defaults).
    polish : int, optional
        How many of the lowest grid results to run to a minimum by Newton's method on the
        exact Hessian (default 8). 0 returns the best point where L-BFGS-B stopped, as the
        published fits did: that point moves with the BLAS kernel.
    progress : callable, optional
        Called as `progress(finished, total)` while the starts run.

    Returns
    -------
    FitResult

    Raises
    ------
    ScaleplanError
        If a run or a setting is out of range (naming it).
    FitError
        If no start converges (with `polish`, if no polished candidate reaches a minimum),
        or the best fit is not a valid law.

    Examples
    --------
    The full grid of 4,500 starts takes a few seconds; one start near the optimum,
    polished by Newton's method, reaches the same law:

    >>> import numpy as np
    >>> from scaleplan.fitting.datasets import chinchilla_runs
    >>> runs = chinchilla_runs()  # Hoffmann et al.'s 240 runs
    >>> start = np.array([[6.0, 7.0, 0.5, 0.34, 0.34]])  # one start: quick
    >>> from scaleplan import fit_law
    >>> law = fit_law(runs, starts=start).law
    >>> print(f"E={law.E:.4f} A={law.A:.1f} B={law.B:.0f} "
    ...       f"alpha={law.alpha:.4f} beta={law.beta:.4f}")
    E=1.8172 A=477.8 B=2143 alpha=0.3473 beta=0.3672
    """
    t0 = time.perf_counter()
    delta, tolerances, mean = _settings(objective, delta, ftol, gtol, polish)
    data = run_columns(params, tokens, loss, (params_col, tokens_col, loss_col))
    runs = _core.FitRuns(*data)  # validates every run, naming the bad one
    grid = start_grid(starts)
    results = _run_starts(data, grid, delta, None, executor, mean, tolerances, progress)
    n_ok = sum(1 for r in results if r[2] and math.isfinite(r[0]))
    newton_iterations = 0
    if polish:
        # The mean and the sum share their minimiser: the polish runs on the sum.
        f, theta, newton_iterations = newton_polish(
            runs, results, delta, None, polish, "fit_law", grid
        )
    else:
        f, theta, _ = _best(results, "fit_law")
    try:
        law = law_from_theta(theta)
    except ValueError as exc:
        # The Huber objective does not constrain the exponents' sign: data that do not
        # fall with scale can be fitted best by a law that rises with it.
        raise FitError(f"fit_law: the best fit is not a valid scaling law ({exc})") from None
    return FitResult(
        law=law,
        theta=theta,
        objective=f,
        residuals=runs.residuals(theta),
        n_points=len(runs),
        n_starts=len(grid),
        n_converged=n_ok,
        seconds=time.perf_counter() - t0,
        delta=delta,
        n_polished=min(polish, len(results)),
        newton_iterations=newton_iterations,
    )
