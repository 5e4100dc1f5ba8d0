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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize
from threadpoolctl import threadpool_limits

from . import _core
from ._arrays import as_float
from .datasets import Runs
from .laws import ScalingLaw

DEFAULT_DELTA = 1e-3
# A callback told how many more starts (or resamples) have finished: the command line
# passes a progress bar's update, so the library itself never draws one.
Progress = Callable[[int], None]
# How many of the lowest grid results Newton polishes: the grid's best few sit in the same
# valley; polishing several guards against the best one stopping beside a kink it cannot
# leave. Newton iterations allowed per candidate (most need < 30, a few near Huber's kinks
# several hundred; each costs one pass over the runs).
DEFAULT_POLISH = 8
NEWTON_MAX_ITER = 2000


class FitError(RuntimeError):
    """No start of a fit converged: there is no answer to report."""


def chinchilla_grid() -> NDArray[np.float64]:
    """The 4,500 starts of Hoffmann et al.: alpha, beta in {0, .5, 1, 1.5, 2}, e in
    {-1, -.5, 0, .5, 1}, a, b in {0, 5, ..., 25}; rows are (a, b, e, alpha, beta)."""
    exps = (0.0, 0.5, 1.0, 1.5, 2.0)
    es = (-1.0, -0.5, 0.0, 0.5, 1.0)
    abs_ = (0.0, 5.0, 10.0, 15.0, 20.0, 25.0)
    return np.array(
        [(a, b, e, al, be) for a, b, e, al, be in itertools.product(abs_, abs_, es, exps, exps)]
    )


@dataclass(frozen=True)
class FitResult:
    """The best of all starts.

    `objective` is the summed Huber loss at `theta = (a, b, e, alpha, beta)`; `residuals`
    are `LSE(...) - ln L` per run (log-loss units); `n_converged` of `n_starts` L-BFGS-B
    starts reported success; `n_polished` of the best were polished by Newton's method
    (0: the raw L-BFGS-B result, as in the published procedure), `newton_iterations` is the
    polish of the returned point; `seconds` is the wall time of the whole fit.
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


def _runs(params: Any, tokens: Any, loss: Any, cols: tuple[str, str, str]) -> tuple[Any, ...]:
    if tokens is None and loss is None:
        if isinstance(params, Runs):
            params = params.as_dict()
        if not isinstance(params, Mapping) and not hasattr(params, "columns"):
            raise ValueError(
                "give params, tokens and loss as arrays, or one table (a mapping or a "
                "DataFrame) with the column names"
            )
        table = params
        names = list(table.keys()) if isinstance(table, Mapping) else list(table.columns)
        missing = [c for c in cols if c not in names]
        if missing:
            raise ValueError(f"column {missing[0]!r} not found; the table has {names}")
        params, tokens, loss = (np.asarray(table[c], dtype=float) for c in cols)
    elif tokens is None or loss is None:
        raise ValueError("give all three of params, tokens and loss")
    p, t, l_ = (
        np.ravel(as_float(n, v))
        for n, v in zip(("params", "tokens", "loss"), (params, tokens, loss), strict=True)
    )
    if not len(p) == len(t) == len(l_):
        raise ValueError(
            f"params, tokens and loss must have one length; got {len(p)}, {len(t)}, {len(l_)}"
        )
    if len(p) <= 5:
        raise ValueError(f"a law has 5 parameters: need more than 5 runs; got {len(p)}")
    return p, t, l_


def _starts(starts: Any) -> NDArray[np.float64]:
    if isinstance(starts, str):
        if starts != "chinchilla":
            raise ValueError(
                f"starts must be 'chinchilla' or an array of shape (k, 5); got {starts!r}"
            )
        return chinchilla_grid()
    arr = np.atleast_2d(np.asarray(starts, dtype=float))
    if arr.ndim != 2 or arr.shape[1] != 5 or len(arr) == 0 or not np.all(np.isfinite(arr)):
        raise ValueError("starts must be a finite array of shape (k, 5): (a, b, e, alpha, beta)")
    return arr


# SciPy's L-BFGS-B (its `setulb` routine, the C translation of the original Fortran) driven
# by a minimal reverse-communication loop. `scipy.optimize.minimize` wraps the same routine
# in a general-purpose layer (ScalarFunction, caching, array checks) that costs ~6x more
# than the routine and our objective together on this 5-parameter problem; the loop below
# reproduces its iterates exactly (tests/test_fit.py checks x, nfev and the message) with
# minimize's defaults: m=10, factr = 2.2e-9 / eps, pgtol = 1e-5, maxls = 20.
_M, _MAXLS, _MAXITER = 10, 20, 15000
_EPS = float(np.finfo(float).eps)
# SciPy's defaults for L-BFGS-B: stop when the reduction of f is below ftol * max(|f|, 1),
# or the projected gradient below gtol. The grid fit keeps them, as every published fit
# did. A bootstrap refit starts at the optimum of the full data, where the objective is
# ~1e-3: an *absolute* reduction of 2.2e-9 then ends it after a step or two and the
# intervals come out 100-1000x too narrow (A: +-0.06 instead of +-120). Resamples use
# BOOTSTRAP_TOLERANCES instead.
SCIPY_TOLERANCES = (2.2204460492503131e-09, 1e-5)
BOOTSTRAP_TOLERANCES = (1e-15, 1e-10)


def _setulb_driver_works() -> bool:
    """Whether this SciPy has the `setulb` signature the loop below was written for
    (SciPy >= 1.15); otherwise fits use `scipy.optimize.minimize`, same algorithm."""
    try:
        from scipy.optimize import _lbfgsb

        x = np.array([1.0])
        _run_setulb(_lbfgsb.setulb, lambda v: (float(v[0] ** 2), 2 * v), x, SCIPY_TOLERANCES)
        return True
    except Exception:
        return False


def _run_setulb(
    setulb: Any, fun: Any, x0: NDArray[np.float64], tolerances: tuple[float, float]
) -> tuple[float, NDArray[np.float64], bool, int]:
    factr, pgtol = tolerances[0] / _EPS, tolerances[1]
    n = len(x0)
    x = np.array(x0, dtype=np.float64)
    f = np.array(0.0)
    g = np.zeros(n)
    zeros = np.zeros(n)
    nbd = np.zeros(n, np.int32)
    wa = np.zeros(2 * _M * n + 5 * n + 11 * _M * _M + 8 * _M)
    iwa = np.zeros(3 * n, np.int32)
    task = np.zeros(2, np.int32)
    ln_task = np.zeros(2, np.int32)
    lsave = np.zeros(4, np.int32)
    isave = np.zeros(44, np.int32)
    dsave = np.zeros(29)
    nfev = iterations = 0
    while True:
        setulb(
            _M,
            x,
            zeros,
            zeros,
            nbd,
            f,
            g,
            factr,
            pgtol,
            wa,
            iwa,
            task,
            lsave,
            isave,
            dsave,
            _MAXLS,
            ln_task,
        )
        if task[0] == 3:
            f, g = fun(x)
            nfev += 1
        elif task[0] == 1:
            iterations += 1
            if iterations >= _MAXITER or nfev > _MAXITER:
                return float(f), x, False, nfev
        else:
            return float(f), x, bool(task[0] == 4), nfev


_SETULB = _setulb_driver_works()


def _minimise(
    runs: _core.FitRuns,
    starts: NDArray[np.float64],
    delta: float,
    weights: NDArray[np.float64] | None,
    mean: bool,
    tolerances: tuple[float, float] = SCIPY_TOLERANCES,
    progress: Progress | None = None,
) -> list[tuple[float, NDArray[np.float64], bool]]:
    """L-BFGS-B from each start: (objective, theta, success) each."""
    scale = 1.0 / len(runs) if mean else 1.0
    objective = runs.objective

    def fun(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        f, g = objective(theta, delta, weights)
        return (f * scale, g * scale) if mean else (f, g)

    out = []
    # L-BFGS-B calls BLAS on vectors of 5: OpenBLAS's worker threads only spin-wait, and
    # in a process pool they starve the other workers (25 s instead of 2 s for the grid).
    with threadpool_limits(1, user_api="blas"):
        if _SETULB:
            from scipy.optimize import _lbfgsb

            for x0 in starts:
                f, x, ok, _ = _run_setulb(_lbfgsb.setulb, fun, x0, tolerances)
                out.append((f / scale, x, ok))
                if progress is not None:
                    progress(1)
        else:
            for x0 in starts:
                r = optimize.minimize(
                    fun,
                    x0,
                    jac=True,
                    method="L-BFGS-B",
                    options={"ftol": tolerances[0], "gtol": tolerances[1]},
                )
                out.append((float(r.fun) / scale, np.asarray(r.x), bool(r.success)))
                if progress is not None:
                    progress(1)
    return out


def _chunk_job(
    data: tuple[NDArray[np.float64], ...],
    starts: NDArray[np.float64],
    delta: float,
    weights: NDArray[np.float64] | None,
    mean: bool,
    tolerances: tuple[float, float],
) -> list[tuple[float, NDArray[np.float64], bool]]:
    # Module level so that process pools can pickle it; rebuilds the Rust runs there.
    return _minimise(
        _core.FitRuns(*map(_native, data)),
        _native(starts),
        delta,
        None if weights is None else _native(weights),
        mean,
        tolerances,
    )


def _native(a: NDArray[np.float64]) -> NDArray[np.float64]:
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
        return _minimise(runs, starts, delta, weights, mean, tolerances, progress)
    pieces = [p for p in np.array_split(starts, max(1, min(len(starts), 64))) if len(p)]
    futures = [
        executor.submit(_chunk_job, data, p, delta, weights, mean, tolerances) for p in pieces
    ]
    _report(futures, [len(p) for p in pieces], progress)
    return [r for f in futures for r in f.result()]


def _report(futures: list[Future[Any]], sizes: list[int], progress: Progress | None) -> None:
    """Calls `progress(size)` as each future finishes (results are read in order later)."""
    if progress is None:
        return
    size_of = {id(f): n for f, n in zip(futures, sizes, strict=True)}
    for f in as_completed(futures):
        progress(size_of[id(f)])


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


def _polish(
    runs: _core.FitRuns,
    results: Sequence[tuple[float, NDArray[np.float64], bool]],
    delta: float,
    weights: NDArray[np.float64] | None,
    count: int,
    what: str,
) -> tuple[float, NDArray[np.float64], int]:
    """Newton from the `count` lowest finite results; the lowest converged minimum wins.

    Returns (objective, theta, Newton iterations). Raises FitError when none converges:
    a point where an optimiser merely stopped is never reported as the optimum.
    """
    finite = sorted((r for r in results if math.isfinite(r[0])), key=lambda r: r[0])
    polished = []
    for _, theta0, _ in finite[:count]:
        theta, f, iterations, ok = runs.newton(theta0, delta, weights, NEWTON_MAX_ITER)
        if ok and math.isfinite(f):
            polished.append((f, theta, iterations))
    if not polished:
        raise FitError(
            f"{what}: none of {len(results)} starts reached a minimum (L-BFGS-B, then "
            f"Newton from the best {min(count, len(finite))})"
        )
    return min(polished, key=lambda r: r[0])


def law_from_theta(theta: Sequence[float], name: str = "fitted") -> ScalingLaw:
    a, b, e, alpha, beta = theta
    return ScalingLaw(math.exp(e), math.exp(a), math.exp(b), alpha, beta, name=name)


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

    Args:
        params, tokens, loss: arrays of parameter counts, training tokens and final losses;
            or pass one table (mapping, DataFrame or `datasets.Runs`) as `params` with the
            column names.
        delta: the Huber threshold (1e-3 in every paper that uses this procedure).
        starts: "chinchilla" (the 4,500-point grid) or an array of shape (k, 5) of
            (a, b, e, alpha, beta).
        executor: any `concurrent.futures.Executor` to spread the starts over.
        objective: "sum" (correct) or "mean", kept only to demonstrate the early-stopping
            trap: with the mean, L-BFGS-B's gradient test fires far from the optimum.
        ftol, gtol: L-BFGS-B's stopping tolerances (SciPy's defaults).
        polish: how many of the lowest grid results to run to a minimum by Newton's method
            on the exact Hessian (default 8). 0 returns the best point where L-BFGS-B
            stopped, as the published fits did: that point moves with the BLAS kernel.
        progress: called with the number of starts finished since the last call.

    Raises `FitError` if no start converges (with `polish`, if no polished candidate
    reaches a minimum).
    """
    t0 = time.perf_counter()
    if objective not in ("sum", "mean"):
        raise ValueError(f"objective must be 'sum' or 'mean'; got {objective!r}")
    if not (
        isinstance(delta, (int, float)) and not isinstance(delta, bool) and 0 < delta < math.inf
    ):
        raise ValueError(f"delta must be a finite number > 0; got {delta!r}")
    data = _runs(params, tokens, loss, (params_col, tokens_col, loss_col))
    runs = _core.FitRuns(*data)  # validates every run, naming the bad one
    grid = _starts(starts)
    for name, tol in (("ftol", ftol), ("gtol", gtol)):
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 < tol < 1:
            raise ValueError(f"{name} must be a number in (0, 1); got {tol!r}")
    if isinstance(polish, bool) or not isinstance(polish, int) or polish < 0:
        raise ValueError(f"polish must be an integer >= 0; got {polish!r}")
    tolerances = (float(ftol), float(gtol))
    mean = objective == "mean"
    results = _run_starts(data, grid, float(delta), None, executor, mean, tolerances, progress)
    n_ok = sum(1 for r in results if r[2] and math.isfinite(r[0]))
    newton_iterations = 0
    if polish:
        # The mean and the sum share their minimiser: the polish runs on the sum.
        f, theta, newton_iterations = _polish(runs, results, float(delta), None, polish, "fit_law")
    else:
        f, theta, n_ok = _best(results, "fit_law")
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
        delta=float(delta),
        n_polished=min(polish, len(results)),
        newton_iterations=newton_iterations,
    )


@dataclass(frozen=True)
class BootstrapResult:
    """Laws refitted on resamples of the runs.

    `laws` is one `ScalingLaw` whose coefficients are arrays (one entry per successful
    resample): pass it to `compute_optimal` or `cost_optimal` to carry the uncertainty
    forward. `intervals[name] = (low, high)` percentile bounds, `standard_errors[name]`,
    for name in E, A, B, alpha, beta.
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
    so an executor changes where the work runs, never the result. `progress` is called with
    the number of resamples finished since the last call (the full fit is not counted).
    """
    t0 = time.perf_counter()
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 2:
        raise ValueError(f"n_resamples must be an integer >= 2; got {n_resamples!r}")
    if not (isinstance(confidence, float) and 0 < confidence < 1):
        raise ValueError(f"confidence must be a float in (0, 1); got {confidence!r}")
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
    )
    data = _runs(params, tokens, loss, cols)
    local_starts = full.theta[None, :] if resample_starts is None else _starts(resample_starts)
    rng = np.random.default_rng(seed)
    n = len(data[0])
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples).astype(float)
    # Tasks of ~50 resamples: large enough that a process pool's per-task cost is noise.
    batches = np.array_split(counts, max(1, n_resamples // 50))
    jobs = [(data, local_starts, full.delta, b, BOOTSTRAP_TOLERANCES) for b in batches]
    if executor is None:
        outcomes = []
        for j in jobs:
            outcomes += _resample_job(*j)
            if progress is not None:
                progress(len(j[3]))
    else:
        futures = [executor.submit(_resample_job, *j) for j in jobs]
        _report(futures, [len(j[3]) for j in jobs], progress)
        outcomes = [t for f in futures for t in f.result()]
    thetas = np.array([t for t in outcomes if t is not None])
    if len(thetas) == 0:
        raise FitError("bootstrap_law: no resample converged")
    coefficients = {
        "E": np.exp(thetas[:, 2]),
        "A": np.exp(thetas[:, 0]),
        "B": np.exp(thetas[:, 1]),
        "alpha": thetas[:, 3],
        "beta": thetas[:, 4],
    }
    tail = 50.0 * (1.0 - confidence)
    intervals = {
        k: (float(np.percentile(v, tail)), float(np.percentile(v, 100.0 - tail)))
        for k, v in coefficients.items()
    }
    ses = {k: float(np.std(v, ddof=1)) for k, v in coefficients.items()}
    return BootstrapResult(
        fit=full,
        laws=ScalingLaw(**coefficients, name="bootstrap"),
        intervals=intervals,
        standard_errors=ses,
        confidence=confidence,
        n_resamples=n_resamples,
        n_failed=n_resamples - len(thetas),
        seconds=time.perf_counter() - t0,
    )


def _resample_job(
    data: tuple[NDArray[np.float64], ...],
    starts: NDArray[np.float64],
    delta: float,
    counts: NDArray[np.float64],
    tolerances: tuple[float, float],
) -> list[NDArray[np.float64] | None]:
    runs = _core.FitRuns(*map(_native, data))
    starts, counts = _native(starts), _native(counts)
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
    found = []
    for theta0 in starts:
        theta, f, _, ok = runs.newton(theta0, delta, counts, NEWTON_MAX_ITER)
        if ok and math.isfinite(f):
            found.append((f, theta))
    if found:
        return min(found, key=lambda r: r[0])[1]
    results = _minimise(runs, starts, delta, counts, False, tolerances)
    try:
        return _polish(runs, results, delta, counts, DEFAULT_POLISH, "resample")[1]
    except FitError:
        return None
