"""Ratio surfaces over loss x demand: Figures 2 (FLOPs) and 6 (dollars) of Sardana et al.
2024, the lifetime optimum over the Chinchilla-style model of the same quality.

Colour bars carry ticks at both ends of their range (the range is part of the finding)
and round values between, never crowding an end; contours are labelled at round ratios,
and a label that would run off the panel is dropped rather than clipped; text on the
colour map has a dark outline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ScaleplanError
from ..hardware.cost_model import CostModel
from ..laws.closed_form import chinchilla_optimal
from ..laws.scaling import CHINCHILLA, ScalingLaw, resolve_law
from ..optimal.ratio_grids import RatioGrid, cost_ratio_grid, flop_ratio_grid
from ._figure import LOG, REQUESTS, SMALL, outlined, panels, prices, size_label, style, titled

__all__ = ["cost_ratio_surfaces", "flop_ratio_surfaces", "ratio_surface"]

LOSSES = (1.85, 2.6, 80)  # np.linspace: the paper's range of pre-training loss
SIZES = (7e9, 13e9, 30e9, 70e9)
_QUANTITIES = {
    "total": "lifetime {unit}: optimal / Chinchilla-style",
    "params": "parameters: optimal / Chinchilla-style",
    "tokens": "training tokens: optimal / Chinchilla-style",
}
_DEMANDS = {
    "inference_tokens": ("FLOPs", "lifetime inference demand, tokens" + LOG),
    "requests": ("dollars", REQUESTS),
}


def _short(v: float) -> str:
    """A ratio in three significant digits, plain below 10^4 (0.111, 17.7, 1000), else
    as 1.77e4 (no '+0')."""
    if 1e-3 <= abs(v) < 1e4:
        return f"{float(f'{v:.3g}'):g}"
    mantissa, _, exponent = f"{v:.3g}".partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa


def _levels(vmin: float, vmax: float) -> list[float]:
    """Round values strictly inside (vmin, vmax): 1-2-5 steps, or decades when those
    would crowd the range, at most six."""
    low, high = int(np.floor(np.log10(vmin))), int(np.ceil(np.log10(vmax)))
    for mantissas in ((1, 2, 5), (1, 3), (1,)):
        levels = [
            m * 10.0**e
            for e in range(low, high + 1)
            for m in mantissas
            if vmin < m * 10.0**e < vmax
        ]
        if len(levels) <= 6:
            return levels
    return levels[:: -(-len(levels) // 6)]


def _colorbar(fig: Any, mesh: Any, ax: Any, vmin: float, vmax: float) -> None:
    """A log colour bar ticked at both ends of its range, with round values between that
    keep a tenth of the bar's length from either end (so no two labels overlap)."""
    bar = fig.colorbar(mesh, ax=ax, label="ratio" + LOG)
    gap = 0.1 * np.log10(vmax / vmin)
    inner = [
        t for t in _levels(vmin, vmax) if np.log10(t / vmin) > gap and np.log10(vmax / t) > gap
    ]
    ticks = [vmin, *inner, vmax]
    bar.minorticks_off()
    bar.set_ticks(ticks, labels=[_short(t) for t in ticks])


def _contours(ax: Any, grid: RatioGrid, z: Any, vmin: float, vmax: float) -> list[Any]:
    levels = _levels(vmin, vmax)
    if not levels:
        return []
    lines = ax.contour(grid.demands, grid.losses, z, levels=levels, colors="white", linewidths=0.8)
    labels = ax.clabel(lines, fmt=_short, fontsize=SMALL, inline=True)
    for text in labels:
        text.set_path_effects(outlined())
    return list(labels)


def _drop_clipped(fig: Any, drawn: Sequence[tuple[Any, Sequence[Any]]]) -> None:
    """Remove contour labels that their panel's edge would cut (matplotlib places a label
    on its contour wherever it is straightest, which can be at the edge); `drawn` holds
    (Axes, labels) pairs. The figure is laid out once first, as it will be drawn."""
    if not any(labels for _, labels in drawn):
        return
    fig.figure.draw_without_rendering()  # the root figure: `fig` may be a SubFigure
    for ax, labels in drawn:
        box = ax.get_window_extent()
        for text in labels:
            e = text.get_window_extent()
            if e.x0 < box.x0 or e.x1 > box.x1 or e.y0 < box.y0 or e.y1 > box.y1:
                text.remove()


def ratio_surface(
    grid: RatioGrid,
    quantity: str = "total",
    *,
    demand: str = "inference_tokens",
    law: ScalingLaw | str = CHINCHILLA,
    sizes: Sequence[float] = SIZES,
    ax: Any = None,
) -> Any:
    """One panel of Figure 2 or 6: a ratio of `grid` over loss x demand, on a log colour
    scale, with labelled contours and the losses of Chinchilla-style models marked.

    Parameters
    ----------
    grid : RatioGrid
        From `flop_ratio_grid` (demand in inference tokens) or `cost_ratio_grid` (demand
        in requests).
    quantity : {"total", "params", "tokens"}
        Which ratio: lifetime FLOPs or dollars, parameters, or training tokens, each the
        optimum's over the Chinchilla-style model's.
    demand : {"inference_tokens", "requests"}
        What the grid's demand axis counts: tokens for a FLOP grid, requests for a dollar
        grid (it names the axis and the ratio's unit).
    law : ScalingLaw or str
        The law whose Chinchilla-optimal losses at `sizes` are marked.
    sizes : sequence of float
        Model sizes (parameters) whose Chinchilla-style loss is drawn as a dotted line.
    ax : matplotlib.axes.Axes, optional
        Where to draw; None: a new `Figure` with one Axes.

    Returns
    -------
    matplotlib.figure.Figure
        `ax.figure`, or the new figure.

    Examples
    --------
    >>> import numpy as np
    >>> from scaleplan.optimal.ratio_grids import flop_ratio_grid
    >>> grid = flop_ratio_grid(np.linspace(1.9, 2.5, 12), np.logspace(9, 15, 12))
    >>> fig = ratio_surface(grid, "params")
    >>> fig.axes[0].get_xlabel()
    'lifetime inference demand, tokens (log scale)'
    """
    if quantity not in _QUANTITIES:
        raise ScaleplanError(f"quantity must be one of {sorted(_QUANTITIES)}", "quantity")
    if demand not in _DEMANDS:
        raise ScaleplanError(f"demand must be one of {sorted(_DEMANDS)}", "demand")
    with style():
        fig, (axis,), _ = panels(ax, 1, (5.6, 4.6), "ax")
        labels = _panel(fig, axis, grid, quantity, demand, resolve_law(law), sizes)
        _drop_clipped(fig, [(axis, labels)])
    return fig


def _panel(
    fig: Any,
    ax: Any,
    grid: RatioGrid,
    quantity: str,
    demand: str,
    law: ScalingLaw,
    sizes: Sequence[float],
) -> list[Any]:
    """Draw one surface; returns its contour labels (to drop any the edge cuts)."""
    from matplotlib.colors import LogNorm

    unit, xlabel = _DEMANDS[demand]
    z = getattr(grid, quantity)
    vmin, vmax = float(np.nanmin(z)), float(np.nanmax(z))
    mesh = ax.pcolormesh(
        grid.demands,
        grid.losses,
        z,
        norm=LogNorm(vmin=vmin, vmax=vmax),
        shading="auto",
        cmap="viridis",
    )
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("pre-training loss (nats/token)")
    ax.set_title(_QUANTITIES[quantity].format(unit=unit))
    _colorbar(fig, mesh, ax, vmin, vmax)
    labels = _contours(ax, grid, z, vmin, vmax)
    for size in sizes:
        loss = float(chinchilla_optimal(params=size, law=law).loss)
        if grid.losses.min() <= loss <= grid.losses.max():
            ax.axhline(loss, color="white", lw=0.7, ls=":")
            ax.text(
                0.01,
                loss,
                f"{size_label(size)}",
                color="white",
                fontsize=SMALL,
                va="bottom",
                transform=ax.get_yaxis_transform(),
                path_effects=outlined(),
            )
    return labels


def _three(
    grid: RatioGrid,
    demand: str,
    law: ScalingLaw,
    sizes: Sequence[float],
    axes: Any,
    title: str,
) -> Any:
    with style():
        fig, row, own = panels(axes, 3, (16, 5.2), "axes")
        titled(fig, own, title)
        _drop_clipped(
            fig,
            [
                (ax, _panel(fig, ax, grid, q, demand, law, sizes))
                for ax, q in zip(row, _QUANTITIES, strict=True)
            ],
        )
    return fig


def flop_ratio_surfaces(
    losses: Any = None,
    inference_tokens: Any = None,
    *,
    law: ScalingLaw | str = CHINCHILLA,
    sizes: Sequence[float] = SIZES,
    axes: Sequence[Any] | None = None,
) -> Any:
    """Figure 2 of Sardana et al. 2024: the compute-optimal model over the Chinchilla-style
    model of the same loss, in lifetime FLOPs (`6 N D + 2 N D_inf`), parameters and
    training tokens, over loss x lifetime inference demand (three panels; no prices).

    Parameters
    ----------
    losses : array_like, optional
        Pre-training losses (nats/token), the rows; default 80 from 1.85 to 2.6.
    inference_tokens : array_like, optional
        Lifetime inference demand (tokens), the columns; default 90 from 1e9 to 1e16.
    law : ScalingLaw or str
        The loss law (default Chinchilla's, the paper's).
    sizes : sequence of float
        Model sizes (parameters) whose Chinchilla-style loss is marked.
    axes : sequence of 3 matplotlib.axes.Axes, optional
        Where to draw the three panels; None: a new `Figure` with a title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> fig = flop_ratio_surfaces(np.linspace(1.9, 2.5, 10), np.logspace(9, 15, 10))
    >>> len(fig.axes)  # three panels and their colour bars
    6
    """
    losses = np.linspace(*LOSSES) if losses is None else losses
    inference_tokens = np.logspace(9, 16, 90) if inference_tokens is None else inference_tokens
    law = resolve_law(law)
    grid = flop_ratio_grid(losses, inference_tokens, law=law)
    title = (
        "Figure 2 (Sardana et al. 2024): compute-optimal over Chinchilla-style models of "
        "the same loss (lifetime FLOPs, no prices)"
    )
    return _three(grid, "inference_tokens", law, sizes, axes, title)


def cost_ratio_surfaces(
    losses: Any = None,
    requests: Any = None,
    *,
    costs: CostModel | None = None,
    law: ScalingLaw | str = CHINCHILLA,
    sizes: Sequence[float] = SIZES,
    axes: Sequence[Any] | None = None,
) -> Any:
    """Figure 6 of Sardana et al. 2024: the cost-optimal model over the Chinchilla-style
    model of the same loss, in lifetime dollars (training plus serving, the paper's
    constant MFU), parameters and training tokens, over loss x lifetime requests (70
    input and 215 output tokens each).

    Parameters
    ----------
    losses : array_like, optional
        Pre-training losses (nats/token), the rows; default 80 from 1.85 to 2.6.
    requests : array_like, optional
        Lifetime requests, the columns; default 90 from 1e6 to 1e13.
    costs : CostModel, optional
        Prices and utilisations; default `CostModel.sardana2024_table3()` (inference at
        $1.00/h, the price that reproduces Table 3). The title states them.
    law : ScalingLaw or str
        The loss law (default Chinchilla's).
    sizes : sequence of float
        Model sizes (parameters) whose Chinchilla-style loss is marked.
    axes : sequence of 3 matplotlib.axes.Axes, optional
        Where to draw the three panels; None: a new `Figure` whose title states the prices.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> fig = cost_ratio_surfaces(np.linspace(1.9, 2.5, 10), np.logspace(7, 12, 10))
    >>> "$1.00/h" in fig.get_suptitle().replace("\\\\", "")
    True
    """
    costs = CostModel.sardana2024_table3() if costs is None else costs
    losses = np.linspace(*LOSSES) if losses is None else losses
    requests = np.logspace(6, 13, 90) if requests is None else requests
    law = resolve_law(law)
    grid = cost_ratio_grid(losses, requests, costs=costs, law=law)
    title = (
        "Figure 6 (Sardana et al. 2024): cost-optimal over Chinchilla-style models of the "
        f"same loss\n{prices(costs)}"
    )
    return _three(grid, "requests", law, sizes, axes, title)
