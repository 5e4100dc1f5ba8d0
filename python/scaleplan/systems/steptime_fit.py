"""The step-time model fitted to measured step times, and checked on held-out folds.

`TIME = c_flop * FLOPS + c_mem * MEMCPY_BYTES + c_0` per step (`steptime`), its three
coefficients fitted by non-negative least squares; `heldout_r2` and
`heldout_relative_errors` score the FLOPs-only, memory-only and combined models on k folds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._utils.arrays import as_float
from .._utils.frames import Record
from ..arch.counts import step_counts
from ..arch.shapes import ShapeLike
from ..errors import ScaleplanError
from .steptime import StepTimeModel

__all__ = ["StepTimeFit", "fit_step_time", "heldout_r2", "heldout_relative_errors"]


@dataclass(frozen=True, repr=False)
class StepTimeFit(Record):
    """A fitted step-time model, as `fit_step_time` returns it, with how well each
    explanation fits the same data.

    Parameters
    ----------
    model : StepTimeModel
        FLOPs, bytes moved and a constant, fitted.
    r2_flops, r2_memory, r2_both : float
        R² of the absolute times for FLOPs alone (with a constant), memory traffic alone
        (with a constant) and both, each fitted the same way.
    n_points : int
        Steps fitted.
    median_relative_error, worst_relative_error : float
        The fitted model's |predicted / measured - 1| on the data (fractions).

    Examples
    --------
    >>> import numpy as np
    >>> from scaleplan.systems.steptime import shape_grid
    >>> grid = shape_grid(d_model=(512, 1024, 2048), n_layers=(4, 8, 16), n_heads=(8,),
    ...                   mlp_ratio=(4.0,), batch_size=32, seq_len=2048)
    >>> truth = StepTimeModel(c_flop=2e-15, c_mem=1e-12, c_0=0.01)
    >>> noise = np.exp(np.random.default_rng(0).normal(0.0, 0.02, 9))  # 2% jitter
    >>> seconds = truth.predict(grid) * noise  # nine "measured" step times
    >>> fit = fit_step_time(grid, seconds)
    >>> print(f"R2: FLOPs {fit.r2_flops:.2f}, memory {fit.r2_memory:.2f}, "
    ...       f"both {fit.r2_both:.4f}; worst error {fit.worst_relative_error:.1%}")
    R2: FLOPs 0.90, memory 0.82, both 0.9991; worst error 2.2%
    """

    model: StepTimeModel
    r2_flops: float
    r2_memory: float
    r2_both: float
    n_points: int
    median_relative_error: float = float("nan")
    worst_relative_error: float = float("nan")


def _nnls(x: NDArray[np.float64], y: NDArray[np.float64], relative: bool) -> NDArray[np.float64]:
    """Non-negative coefficients of `y ~ x`, minimising squared relative errors
    (`sum ((x c - y) / y)^2`) or absolute ones."""
    from scipy.optimize import nnls

    w = 1.0 / y if relative else np.ones_like(y)
    xw = x * w[:, None]
    # Scale columns so NNLS sees numbers near 1; undo afterwards.
    scale = np.maximum(np.abs(xw).max(axis=0), 1e-300)
    coef, _ = nnls(xw / scale, y * w)
    return coef / scale


def _nnls_r2(
    x: NDArray[np.float64], y: NDArray[np.float64], relative: bool = False
) -> tuple[NDArray[np.float64], float]:
    coef = _nnls(x, y, relative)
    resid = y - x @ coef
    r2 = 1.0 - float(resid @ resid) / float(((y - y.mean()) ** 2).sum())
    return coef, r2


def _designs(shapes: ShapeLike, bytes_per_element: float) -> Any:
    c = step_counts(shapes)
    flops = np.ravel(c.flops)
    mem = np.ravel(c.memcpy_bytes(bytes_per_element))
    one = np.ones_like(flops)
    return {
        "flops": np.column_stack([flops, one]),
        "memory": np.column_stack([mem, one]),
        "both": np.column_stack([flops, mem, one]),
    }


def _timed_designs(shapes: ShapeLike, measured_seconds: Any, bytes_per_element: float) -> Any:
    """The measured times, flat, and the designs of their shapes: one time per shape."""
    y = np.ravel(as_float("measured_seconds", measured_seconds))
    designs = _designs(shapes, bytes_per_element)
    if len(y) != len(designs["both"]):
        raise ScaleplanError(
            f"measured_seconds has {len(y)} values for {len(designs['both'])} shapes",
            "measured_seconds",
        )
    return y, designs


def fit_step_time(
    shapes: ShapeLike,
    measured_seconds: Any,
    *,
    bytes_per_element: float = 2.0,
    relative: bool = True,
) -> StepTimeFit:
    """Fit `seconds = c_flop * FLOPs + c_mem * bytes moved + c_0` to measured step times.

    Non-negative least squares on relative error by default, `sum ((pred - y) / y)^2` (a
    fit on absolute seconds is carried by the largest steps and over-predicted our
    smallest ones up to 10x); also the R² of FLOPs alone and of memory traffic alone (with
    a constant), fitted the same way.

    Parameters
    ----------
    shapes : ShapeLike
        The measured shapes (columns of shape fields, one row per measurement).
    measured_seconds : array_like
        Seconds per step, one per shape (at least 4, all > 0).
    bytes_per_element : float, optional
        Bytes per element moved (default 2: bf16).
    relative : bool, optional
        Minimise relative errors (default) rather than absolute seconds.

    Returns
    -------
    StepTimeFit

    Raises
    ------
    ScaleplanError
        If the times do not match the shapes one to one, or are fewer than 4, not finite
        or not > 0.

    Examples
    --------
    >>> import numpy as np
    >>> from scaleplan.systems.steptime import shape_grid
    >>> grid = shape_grid(d_model=(512, 1024, 2048), n_layers=(4, 8, 16), n_heads=(8,),
    ...                   mlp_ratio=(4.0,), batch_size=32, seq_len=2048)
    >>> truth = StepTimeModel(c_flop=2e-15, c_mem=1e-12, c_0=0.01)
    >>> noise = np.exp(np.random.default_rng(0).normal(0.0, 0.02, 9))  # 2% jitter
    >>> seconds = truth.predict(grid) * noise  # nine "measured" step times
    >>> fit = fit_step_time(grid, seconds)
    >>> m = fit.model
    >>> print(f"c_flop {m.c_flop:.2e} s/FLOP, c_mem {m.c_mem:.2e} s/B, c_0 {m.c_0:.3f} s")
    c_flop 2.04e-15 s/FLOP, c_mem 9.96e-13 s/B, c_0 0.011 s
    """
    y, designs = _timed_designs(shapes, measured_seconds, bytes_per_element)
    if len(y) < 4 or not np.all(np.isfinite(y) & (y > 0)):
        raise ScaleplanError(
            "measured_seconds must hold at least 4 finite times > 0", "measured_seconds"
        )
    _, r2_f = _nnls_r2(designs["flops"], y, relative)
    _, r2_m = _nnls_r2(designs["memory"], y, relative)
    coef, r2_b = _nnls_r2(designs["both"], y, relative)
    model = StepTimeModel(
        float(coef[0]),
        float(coef[1]),
        float(coef[2]),
        bytes_per_element,
        source=f"fitted to {len(y)} measured steps ({'relative' if relative else 'absolute'})",
    )
    err = np.abs(designs["both"] @ coef / y - 1.0)
    return StepTimeFit(model, r2_f, r2_m, r2_b, len(y), float(np.median(err)), float(err.max()))


def _heldout(
    shapes: ShapeLike,
    measured_seconds: Any,
    folds: int,
    seed: int,
    bytes_per_element: float,
    relative: bool,
) -> tuple[NDArray[np.float64], dict[str, NDArray[np.float64]]]:
    """Measured times and each explanation's k-fold predictions of them: every fold's
    times predicted by NNLS fitted on the other folds."""
    y, designs = _timed_designs(shapes, measured_seconds, bytes_per_element)
    if len(y) < 2 * folds:
        raise ScaleplanError(f"shapes: {folds} folds need at least {2 * folds} shapes (two "
                             f"a fold); got {len(y)}", "shapes")  # fmt: skip
    order = np.random.default_rng(seed).permutation(len(y))
    pred = {k: np.zeros_like(y) for k in designs}
    for test in np.array_split(order, folds):
        train = np.setdiff1d(order, test)
        for k, x in designs.items():
            pred[k][test] = x[test] @ _nnls(x[train], y[train], relative)
    return y, pred


def heldout_r2(
    shapes: ShapeLike,
    measured_seconds: Any,
    *,
    folds: int = 5,
    seed: int = 0,
    bytes_per_element: float = 2.0,
) -> dict[str, float]:
    """K-fold cross-validated R² of the FLOPs-only, memory-only and combined step-time
    models, each fitted on absolute seconds (the measure the seed uses).

    Each fold's times are predicted by non-negative least squares fitted on the other
    folds; `R² = 1 - sum (y - pred)^2 / sum (y - mean y)^2`.

    Parameters
    ----------
    shapes : ShapeLike
        The measured shapes, one row per measurement.
    measured_seconds : array_like
        Seconds per step, one per shape (at least `2 * folds`).
    folds : int, optional
        k (default 5).
    seed : int, optional
        Seeds the folds (default 0).
    bytes_per_element : float, optional
        Bytes per element moved (default 2: bf16).

    Returns
    -------
    dict of str to float
        R² for "flops", "memory" and "both".

    Raises
    ------
    ScaleplanError
        If the times do not match the shapes or are fewer than `2 * folds`.

    Examples
    --------
    >>> import numpy as np
    >>> from scaleplan.systems.steptime import shape_grid
    >>> grid = shape_grid(d_model=(512, 1024, 2048), n_layers=(4, 8, 16), n_heads=(8,),
    ...                   mlp_ratio=(4.0,), batch_size=32, seq_len=2048)
    >>> truth = StepTimeModel(c_flop=2e-15, c_mem=1e-12, c_0=0.01)
    >>> noise = np.exp(np.random.default_rng(0).normal(0.0, 0.02, 9))  # 2% jitter
    >>> seconds = truth.predict(grid) * noise  # nine "measured" step times
    >>> r2 = heldout_r2(grid, seconds, folds=3)
    >>> {k: round(v, 2) for k, v in r2.items()}
    {'flops': 0.84, 'memory': 0.74, 'both': 1.0}
    """
    y, pred = _heldout(shapes, measured_seconds, folds, seed, bytes_per_element, False)
    total = float(((y - y.mean()) ** 2).sum())
    return {k: 1.0 - float(((y - p) ** 2).sum()) / total for k, p in pred.items()}


def heldout_relative_errors(
    shapes: ShapeLike,
    measured_seconds: Any,
    *,
    folds: int = 5,
    seed: int = 0,
    bytes_per_element: float = 2.0,
) -> dict[str, tuple[float, float]]:
    """K-fold cross-validated (median, worst) relative error of the FLOPs-only,
    memory-only and combined step-time models, each fitted on relative error.

    Each fold's times are predicted by non-negative least squares fitted on the other
    folds; the error is `|pred / y - 1|`.

    Parameters
    ----------
    shapes : ShapeLike
        The measured shapes, one row per measurement.
    measured_seconds : array_like
        Seconds per step, one per shape (at least `2 * folds`).
    folds : int, optional
        k (default 5).
    seed : int, optional
        Seeds the folds (default 0).
    bytes_per_element : float, optional
        Bytes per element moved (default 2: bf16).

    Returns
    -------
    dict of str to (float, float)
        (median, worst) relative error, as fractions, for "flops", "memory" and "both".

    Raises
    ------
    ScaleplanError
        If the times do not match the shapes or are fewer than `2 * folds`.

    Examples
    --------
    >>> import numpy as np
    >>> from scaleplan.systems.steptime import shape_grid
    >>> grid = shape_grid(d_model=(512, 1024, 2048), n_layers=(4, 8, 16), n_heads=(8,),
    ...                   mlp_ratio=(4.0,), batch_size=32, seq_len=2048)
    >>> truth = StepTimeModel(c_flop=2e-15, c_mem=1e-12, c_0=0.01)
    >>> noise = np.exp(np.random.default_rng(0).normal(0.0, 0.02, 9))  # 2% jitter
    >>> seconds = truth.predict(grid) * noise  # nine "measured" step times
    >>> errors = heldout_relative_errors(grid, seconds, folds=3)
    >>> print(", ".join(f"{k} {m:.1%} (worst {w:.1%})" for k, (m, w) in errors.items()))
    flops 26.0% (worst 51.6%), memory 25.5% (worst 35.2%), both 1.6% (worst 3.4%)
    """
    y, pred = _heldout(shapes, measured_seconds, folds, seed, bytes_per_element, True)
    out = {}
    for k, p in pred.items():
        err = np.abs(p / y - 1.0)
        out[k] = (float(np.median(err)), float(err.max()))
    return out
