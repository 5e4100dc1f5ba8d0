"""The step-time model's predictions against measured training steps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._figure import LOG, panels, style

__all__ = ["step_time_fit"]


def step_time_fit(
    shapes: Sequence[Any] | None = None,
    seconds: Any = None,
    *,
    folds: int = 5,
    ax: Any = None,
) -> Any:
    """Predicted against measured seconds per training step, with the fitted model
    `t = c_flop FLOPs + c_mem bytes + c_0` (`fit_step_time`), the line y = x, and the
    in-sample and `folds`-fold held-out R² of the FLOP-only, memory-only and joint fits.

    Parameters
    ----------
    shapes : sequence of TransformerShape, optional
        The measured shapes; with `seconds`, or both None for the measurements shipped
        with scaleplan (a 2-core CPU under JAX, `load_measurements()`).
    seconds : array_like, optional
        Measured seconds per training step, one per shape.
    folds : int
        Folds of the held-out R² (`heldout_r2`).
    ax : matplotlib.axes.Axes, optional
        Where to draw; None: a new `Figure` with one Axes.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = step_time_fit()
    >>> fig.axes[0].get_xlabel()
    'measured seconds per training step (log scale)'
    """
    from ..systems.measure import load_measurements
    from ..systems.steptime import step_counts
    from ..systems.steptime_fit import fit_step_time, heldout_r2

    where = ""
    if shapes is None and seconds is None:
        shapes, seconds = load_measurements()
        where = " (2-core CPU, JAX)"
    seconds = np.asarray(seconds, dtype=float)
    fit = fit_step_time(shapes, seconds)
    held = heldout_r2(shapes, seconds, folds=folds)
    m, c = fit.model, step_counts(shapes)
    predicted = m.c_flop * c.flops + m.c_mem * c.memcpy_bytes(m.bytes_per_element) + m.c_0
    with style():
        fig, (axis,), _ = panels(ax, 1, (6.4, 6.2), "ax")
        axis.loglog(
            seconds,
            predicted,
            "o",
            ms=4,
            label=f"FLOPs + memory: R² {fit.r2_both:.3f}, held out {held['both']:.3f}",
        )
        lo, hi = seconds.min() / 1.5, seconds.max() * 1.5
        axis.plot(
            [lo, hi], [lo, hi], color="grey", lw=0.8, label="y = x (prediction = measurement)"
        )
        axis.set_xlabel("measured seconds per training step" + LOG)
        axis.set_ylabel("predicted seconds per training step" + LOG)
        axis.set_title(
            f"Step-time model on {len(seconds)} shapes{where}\n"
            f"in-sample R²: FLOPs {fit.r2_flops:.3f}, memory {fit.r2_memory:.3f}, "
            f"both {fit.r2_both:.3f}\n{folds}-fold held-out R²: FLOPs {held['flops']:.3f}, "
            f"memory {held['memory']:.3f}, both {held['both']:.3f}"
        )
        axis.legend(loc="upper left")
    return fig
