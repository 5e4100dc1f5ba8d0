"""Machinery the fitting modules share: runs read from arrays or a table, the L-BFGS-B
starts checked, arrays made ready for the Rust kernels, progress over futures, and the
Newton polish that runs a candidate to a minimum at f64 precision (`fit.py`'s docstring
says why). Not public: `fit_law`, `bootstrap_law` and the likelihood fits are.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, as_completed
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _core
from .._utils.arrays import as_float
from .._utils.progress import Progress
from ..errors import FitError, ScaleplanError
from .datasets import Runs

# Newton iterations allowed per candidate (most need < 30, a few near Huber's kinks
# several hundred; each costs one pass over the runs).
NEWTON_MAX_ITER = 2000


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


def start_grid(starts: Any, chinchilla: Callable[[], NDArray[np.float64]]) -> NDArray[np.float64]:
    """The L-BFGS-B starts as rows of (a, b, e, alpha, beta): "chinchilla" (the 4,500-point
    grid of Hoffmann et al., `chinchilla()`: the caller passes `fit.chinchilla_grid`, as
    fit imports this module) or the caller's own rows, checked."""
    if isinstance(starts, str):
        if starts != "chinchilla":
            raise ScaleplanError(
                f"starts must be 'chinchilla' or an array of shape (k, 5); got {starts!r}",
                "starts",
            )
        return chinchilla()
    arr = np.atleast_2d(as_float("starts", starts))
    if arr.ndim != 2 or arr.shape[1] != 5 or len(arr) == 0 or not np.all(np.isfinite(arr)):
        raise ScaleplanError(
            "starts must be a finite array of shape (k, 5): (a, b, e, alpha, beta)", "starts"
        )
    return arr


def aligned_float64(a: NDArray[np.float64]) -> NDArray[np.float64]:
    # Arrays that crossed a process boundary (a Dask worker) may arrive unaligned; the
    # kernels read aligned, contiguous float64 in place.
    return np.require(a, np.float64, ["C", "A"])


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
