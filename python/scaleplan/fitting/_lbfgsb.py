"""SciPy's L-BFGS-B driven from a lean loop: the local optimiser behind the grid of starts.

`minimise` runs it from each start on a `_core.FitRuns` objective (objective and exact
gradient from Rust). The grid's results are then polished by Newton's method in `fit.py`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize
from threadpoolctl import threadpool_limits

from .. import _core
from .._utils.progress import Progress

# SciPy's L-BFGS-B (its `setulb` routine, the C translation of the original Fortran) driven
# by a minimal reverse-communication loop. `scipy.optimize.minimize` wraps the same routine
# in a general-purpose layer (ScalarFunction, caching, array checks) that costs ~6x more
# than the routine and our objective together on this 5-parameter problem; the loop below
# reproduces its iterates exactly (tests/fitting/test_fit.py checks x, nfev and the message) with
# minimize's defaults: m=10, factr = 2.2e-9 / eps, pgtol = 1e-5, maxls = 20.
_M, _MAXLS, _MAXITER, _MAXFUN = 10, 20, 15000, 15000
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
        run_setulb(_lbfgsb.setulb, lambda v: (float(v[0] ** 2), 2 * v), x, SCIPY_TOLERANCES)
        return True
    except Exception:
        return False


def run_setulb(
    setulb: Any,
    fun: Any,
    x0: NDArray[np.float64],
    tolerances: tuple[float, float],
    maxiter: int = _MAXITER,
) -> tuple[float, NDArray[np.float64], bool, int]:
    """L-BFGS-B from `x0`: (f, x, converged, evaluations), the iterates and stopping rule of
    `scipy.optimize.minimize(method="L-BFGS-B")` with `maxiter` and its default maxfun.

    Like minimize's wrapper, an evaluation asked at the point just evaluated reuses it and
    is not counted, so the maxfun stop falls on the same iteration as SciPy's."""
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
    last: list[float] | None = None
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
            # As np.array_equal (0.0 equals -0.0, NaN equals nothing) at a tenth of its cost.
            point = x.tolist()
            if point != last:
                f, g = fun(x)
                last = point
                nfev += 1
        elif task[0] == 1:
            iterations += 1
            if iterations >= maxiter or nfev > _MAXFUN:
                return float(f), x, False, nfev
        else:
            return float(f), x, bool(task[0] == 4), nfev


SETULB = _setulb_driver_works()


def minimise(
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
        if SETULB:
            from scipy.optimize import _lbfgsb

            for x0 in starts:
                f, x, ok, _ = run_setulb(_lbfgsb.setulb, fun, x0, tolerances)
                out.append((f / scale, x, ok))
                if progress is not None:
                    progress(len(out), len(starts))
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
                    progress(len(out), len(starts))
    return out
