"""Approach 2 of Hoffmann et al. 2022: IsoFLOP profiles and the power laws of their
minima."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..laws.scaling import EPOCH2024
from ._figure import LOG, panels, style, titled

__all__ = ["HOFFMANN_APPROACH_2", "HOFFMANN_APPROACH_3", "isoflop_profiles"]

# Hoffmann et al. 2022, Table 2: N_opt ~ C^a from Approach 2 and 3.
HOFFMANN_APPROACH_2 = (0.49, 0.51)
HOFFMANN_APPROACH_3 = (0.46, 0.54)


def isoflop_profiles(fit: Any = None, *, axes: Sequence[Any] | None = None) -> Any:
    """Each IsoFLOP profile's runs and fitted parabola in ln N, its minimum marked x
    (left); the minima and the fitted `N_opt ~ C^a`, `D_opt ~ C^b` (right), with
    Approach 3's exponent (Epoch's refit) and Hoffmann et al.'s in the legend.

    Parameters
    ----------
    fit : IsoFLOPFit, optional
        From `isoflop_fit`; default the recovered Chinchilla runs (`chinchilla_runs()`,
        1,000 bootstrap resamples, seed 0).
    axes : sequence of 2 matplotlib.axes.Axes, optional
        Where to draw (profiles, minima); None: a new `Figure` with a title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from scaleplan.fitting import isoflop_fit
    >>> from scaleplan.fitting.datasets import chinchilla_runs
    >>> fig = isoflop_profiles(isoflop_fit(chinchilla_runs(), n_resamples=20))
    >>> fig.axes[1].get_xlabel()
    'training FLOPs (log scale)'
    """
    if fit is None:
        from ..fitting.datasets import chinchilla_runs
        from ..fitting.isoflop import isoflop_fit

        fit = isoflop_fit(chinchilla_runs(), n_resamples=1000, seed=0)
    with style():
        fig, (left, right), own = panels(axes, 2, (14, 5.4), "axes")
        runs = sum(p.params.size for p in fit.profiles)
        title = f"Approach 2 (Hoffmann et al. 2022): {runs} runs in {len(fit.profiles)} profiles"
        titled(fig, own, title)
        _profiles(left, fit)
        _minima(right, fit)
    return fig


def _profiles(ax: Any, fit: Any) -> None:
    from matplotlib import colormaps

    colors = colormaps["viridis"](np.linspace(0, 0.9, len(fit.profiles)))
    for p, color in zip(fit.profiles, colors, strict=True):
        ax.scatter(p.params, p.loss, s=14, color=color)
        x = np.linspace(np.log(p.params.min()), np.log(p.params.max()), 60)
        c0, c1, c2 = p.coefficients
        ax.plot(np.exp(x), c0 + c1 * x + c2 * x * x, color=color, label=f"{p.budget:.0e}")
        ax.scatter([p.params_opt], [p.loss_opt], marker="x", color="k", zorder=3)
    ax.set_xscale("log")
    ax.set_xlabel("parameters" + LOG)
    ax.set_ylabel("loss (nats/token)")
    ax.legend(title="FLOP budget", ncols=2)


def _minima(ax: Any, fit: Any) -> None:
    flops = np.array([p.flops for p in fit.profiles])
    grid = np.logspace(np.log10(flops.min()) - 0.5, 24, 50)
    a_lo, a_hi = fit.intervals["a"]
    ax.scatter(flops, [p.params_opt for p in fit.profiles], color="C0")
    ax.scatter(flops, [p.tokens_opt for p in fit.profiles], color="C1")
    ax.plot(
        grid,
        fit.params_for(grid),
        color="C0",
        label=f"N_opt ~ C^{fit.a:.3f}, {fit.confidence:.0%} [{a_lo:.3f}, {a_hi:.3f}]",
    )
    ax.plot(grid, fit.tokens_for(grid), color="C1", label=f"D_opt ~ C^{fit.b:.3f}")
    a3 = EPOCH2024.beta / (EPOCH2024.alpha + EPOCH2024.beta)
    ax.plot([], [], " ", label=f"Approach 3 (Epoch refit): a = {a3:.3f}")
    ax.plot(
        [],
        [],
        " ",
        label=f"Hoffmann et al.: a = {HOFFMANN_APPROACH_2[0]} "
        f"(Approach 2), {HOFFMANN_APPROACH_3[0]} (Approach 3)",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training FLOPs" + LOG)
    ax.set_ylabel("optimal parameters and tokens" + LOG)
    ax.legend(loc="upper left")
