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
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _core
from .._utils.checks import OPEN_UNIT, Span, number, whole
from .._utils.frames import Record
from .._utils.progress import Progress
from ..errors import FitError, ScaleplanError
from ..laws.scaling import ScalingLaw
from ._lbfgsb import SCIPY_TOLERANCES, minimise
from ._solver import (
    NEWTON_MAX_ITER,
    aligned_float64,
    newton_polish,
    report_progress,
    run_columns,
    start_grid,
)
from .thetas import law_from_theta

__all__ = [
    "DEFAULT_DELTA",
    "DEFAULT_POLISH",
    "HUBER_DELTA",
    "NEWTON_MAX_ITER",
    "FitError",
    "FitResult",
    "chinchilla_grid",
    "fit_law",
]

DEFAULT_DELTA = 1e-3
# How many of the lowest grid results Newton polishes: the grid's best few sit in the same
# valley; polishing several guards against the best one stopping beside a kink it cannot
# leave.
DEFAULT_POLISH = 8


# The Huber threshold: below 1e-12 the objective is delta * sum |r| at a scale no
# optimiser's tolerance resolves; above 1e3 it is already least squares on any data.
HUBER_DELTA = Span(1e-12, 1e3, low_closed=True, high_closed=True)


def chinchilla_grid() -> NDArray[np.float64]:
    """The 4,500 L-BFGS-B starts of Hoffmann et al. (2022, §D.2), `fit_law`'s default.

    Every combination of `alpha, beta in {0, 0.5, 1, 1.5, 2}`, `e in {-1, -0.5, 0, 0.5,
    1}` and `a, b in {0, 5, ..., 25}`, where `A, B, E = exp(a), exp(b), exp(e)`. A slice
    of it (`chinchilla_grid()[::100]`) is a cheaper set of starts for `fit_law(starts=)`.

    Returns
    -------
    numpy.ndarray
        Shape (4500, 5): rows of `(a, b, e, alpha, beta)`; `a, b, e` in log nats/token,
        the exponents dimensionless.

    Examples
    --------
    >>> grid = chinchilla_grid()
    >>> grid.shape
    (4500, 5)
    >>> grid[0].tolist(), grid[-1].tolist()
    ([0.0, 0.0, -1.0, 0.0, 0.0], [25.0, 25.0, 1.0, 2.0, 2.0])
    """
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
    grid = start_grid(starts, chinchilla_grid)
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
