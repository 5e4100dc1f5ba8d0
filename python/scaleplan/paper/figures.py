"""The figures of `scaleplan reproduce`: Figures 2 and 6 of Sardana et al. 2024, the
training share at the optimum, and the step-time fit (matplotlib, extra `[plot]`).

Conventions, for figures read in print and on screen: colour bars carry ticks at both
ends (the range is part of the finding), ratio surfaces carry labelled contours, text on
a colour map has a dark outline so it reads on every colour, and a title states the
prices a dollar figure assumes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..hardware.cost_model import CostModel
from ..laws.scaling import CHINCHILLA, chinchilla_optimal
from ..optimal.ratio_grids import RatioGrid, cost_ratio_grid, flop_ratio_grid

__all__ = [
    "FIGURES",
    "figure_2",
    "figure_6",
    "finite_data",
    "headless_pyplot",
    "optimum_vs_demand",
    "step_time_fit",
    "training_share",
]

_LOSSES = np.linspace(1.85, 2.6, 80)
_SIZES = (7e9, 13e9, 30e9, 70e9)


def headless_pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (files only, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _outlined() -> list[Any]:
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=2.2, foreground="black")]


def _levels(vmin: float, vmax: float) -> list[float]:
    """Round values strictly inside (vmin, vmax) for ticks and contours: 1-2-5 steps, or
    decades when those would crowd the range, at most six."""
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
    """A log colour bar with ticks at both ends of its range and round values between."""
    bar = fig.colorbar(mesh, ax=ax, label="ratio")
    inner = [t for t in _levels(vmin, vmax) if vmin * 1.15 < t < vmax / 1.15]
    ticks = [vmin, *inner, vmax]
    bar.minorticks_off()
    bar.set_ticks(ticks, labels=[f"{t:.3g}" for t in ticks])


def _contours(ax: Any, grid: RatioGrid, z: np.ndarray, vmin: float, vmax: float) -> None:
    levels = _levels(vmin, vmax)
    if not levels:
        return
    lines = ax.contour(grid.demands, grid.losses, z, levels=levels, colors="white", linewidths=0.7)
    labels = ax.clabel(lines, fmt=lambda v: f"{v:g}", fontsize=7, inline=True)
    for text in labels:
        text.set_path_effects(_outlined())


def _surfaces(path: Path, grid: RatioGrid, xlabel: str, title: str, total_label: str) -> Path:
    plt = headless_pyplot()
    from matplotlib.colors import LogNorm

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.9), constrained_layout=True)
    panels = (
        (grid.total, total_label),
        (grid.params, "parameters, optimal / Chinchilla-style"),
        (grid.tokens, "training tokens, optimal / Chinchilla-style"),
    )
    for ax, (z, label) in zip(axes, panels, strict=True):
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
        ax.set_title(label, fontsize=10)
        _colorbar(fig, mesh, ax, vmin, vmax)
        _contours(ax, grid, z, vmin, vmax)
        for size in _SIZES:
            loss = chinchilla_optimal(params=size, law=CHINCHILLA).loss
            if grid.losses.min() <= loss <= grid.losses.max():
                ax.axhline(loss, color="white", lw=0.6, ls=":")
                ax.text(
                    grid.demands[0],
                    loss,
                    f" {size / 1e9:.0f}B-Chinchilla quality",
                    color="white",
                    fontsize=7,
                    va="bottom",
                    path_effects=_outlined(),
                )
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _prices(costs: CostModel, sep: str = "; ") -> str:
    """The prices and utilisations a dollar figure assumes (dollar signs escaped: matplotlib
    reads a pair of them as mathematics)."""
    train, serve = costs.train_gpu, costs.inference_gpu
    return (
        f"train {train.name} {costs.train_precision} \\${costs.train_price_per_hour:.2f}/h at "  # type: ignore[union-attr]
        f"{costs.train_mfu:.0%} MFU{sep}serve {serve.name} {costs.inference_precision} "  # type: ignore[union-attr]
        f"\\${costs.inference_price_per_hour:.2f}/h at {costs.prefill_mfu:.0%} prefill, "
        f"{costs.decode_mfu:.0%} decode MFU"
    )


def figure_2(out: Path) -> Path:
    return _surfaces(
        out / "figure2.png",
        flop_ratio_grid(_LOSSES, np.logspace(9, 16, 90)),
        "lifetime inference demand (tokens)",
        "Figure 2: compute-optimal vs Chinchilla-style models (Chinchilla law; FLOPs, no prices)",
        "lifetime FLOPs, optimal / Chinchilla-style",
    )


def figure_6(out: Path) -> Path:
    costs = CostModel.sardana2024_table3()
    return _surfaces(
        out / "figure6.png",
        cost_ratio_grid(_LOSSES, np.logspace(6, 13, 90), costs=costs),
        "lifetime inference requests (70 in + 215 out tokens)",
        f"Figure 6: cost-optimal vs Chinchilla-style\n{_prices(costs)} (the Table 3 "
        "assumption, see README)",
        "lifetime dollars, optimal / Chinchilla-style",
    )


def training_share(out: Path) -> Path:
    from ..optimal.allocation import share_sweep

    plt = headless_pyplot()
    costs = CostModel()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), constrained_layout=True)
    for size in (7e9, 30e9, 70e9):
        loss = chinchilla_optimal(params=size).loss
        d, share = share_sweep(loss, np.logspace(8, 17, 100))
        axes[0].plot(d, 100 * share, label=f"{size / 1e9:.0f}B-Chinchilla quality")
        r, share_d = share_sweep(loss, np.logspace(5, 14, 100), costs=costs)
        axes[1].plot(r, 100 * share_d, label=f"{size / 1e9:.0f}B-Chinchilla quality")
    axes[0].set_xlabel("lifetime inference demand (tokens)")
    axes[0].set_ylabel("training share of lifetime FLOPs (%)")
    axes[0].set_title("FLOPs (no prices)\n", fontsize=8)
    axes[1].set_xlabel("lifetime inference requests (70 in + 215 out tokens)")
    axes[1].set_ylabel("training share of lifetime dollars (%)")
    axes[1].set_title(_prices(costs, "\n"), fontsize=8)
    for ax in axes:
        ax.set_xscale("log")
        ax.axhline(50, color="grey", lw=0.6, ls=":")
        ax.legend(fontsize=8)
        ax.set_ylim(0, 100)
    fig.suptitle("Training share at the lifetime optimum = r/(1+r) (Epoch): it falls with demand")
    path = out / "training_share.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def step_time_fit(out: Path) -> Path:
    from ..systems.measure import load_measurements
    from ..systems.steptime import fit_step_time, heldout_r2, step_counts

    plt = headless_pyplot()
    shapes, seconds = load_measurements()
    c = step_counts(shapes)
    fit = fit_step_time(shapes, seconds)
    held = heldout_r2(shapes, seconds)
    m = fit.model
    fig, ax = plt.subplots(figsize=(5.8, 5.4), constrained_layout=True)
    predicted = m.c_flop * c.flops + m.c_mem * c.memcpy_bytes(m.bytes_per_element) + m.c_0
    ax.loglog(
        seconds,
        predicted,
        "o",
        ms=4,
        label=f"FLOPs + memory (R² {fit.r2_both:.3f}, held out {held['both']:.3f})",
    )
    lo, hi = seconds.min() / 1.5, seconds.max() * 1.5
    ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8, label="y = x (prediction = measurement)")
    ax.set_xlabel("measured seconds per training step (2-core CPU, JAX)")
    ax.set_ylabel("predicted seconds per step")
    ax.set_title(
        f"Step-time model on {len(seconds)} shapes\n"
        f"in-sample R²: FLOPs {fit.r2_flops:.3f}, memory {fit.r2_memory:.3f}, both "
        f"{fit.r2_both:.3f}\n5-fold held-out R²: FLOPs {held['flops']:.3f}, memory "
        f"{held['memory']:.3f}, both {held['both']:.3f}",
        fontsize=9,
    )
    ax.legend(fontsize=8)
    path = out / "steptime_fit.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def optimum_vs_demand(out: Path) -> Path:
    """The lifetime optimum's size and tokens per parameter against demand, with serving
    priced by the paper's constant MFU and by the roofline (Table 3's cost model)."""
    from ..optimal.costs import cost_optimal
    from ..optimal.physical_optimum import ServingCurve, physical_optimal
    from ..systems.deployment import Deployment

    plt = headless_pyplot()
    costs = CostModel.sardana2024_table3()
    curve = ServingCurve.roofline(Deployment.from_costs(costs, peak_to_average=1.0))
    requests = np.logspace(7, 12, 60)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), constrained_layout=True)
    for size, color in ((1e9, "C0"), (7e9, "C1"), (70e9, "C2")):
        loss = chinchilla_optimal(params=size).loss
        paper = cost_optimal(loss, requests, costs=costs)
        ours = physical_optimal(loss, requests, curve=curve, costs=costs, on_invalid="nan")
        label = f"{size / 1e9:.0f}B-Chinchilla quality"
        for opt, style, how in ((paper, "--", "constant MFU"), (ours, "-", "roofline")):
            axes[0].plot(requests, opt.params, style, color=color, label=f"{label}, {how}")
            axes[1].plot(requests, opt.tokens / opt.params, style, color=color)
    axes[0].set_ylabel("parameters of the lifetime optimum")
    axes[1].set_ylabel("training tokens per parameter")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("lifetime requests (70 in + 215 out tokens)")
    axes[0].legend(fontsize=7)
    fig.suptitle(
        "Lifetime optimum against demand: serving at the paper's 1% decode MFU (dashed) or by "
        f"the roofline at TPOT 50 ms (solid)\n{_prices(costs)}",
        fontsize=9,
    )
    path = out / "optimum_vs_demand.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def finite_data(out: Path) -> Path:
    """The lifetime optimum's size and epochs against demand for a few unique-token
    supplies (the data-constrained law; Table 3's cost model, 70B-Chinchilla quality)."""
    from ..optimal.costs import cost_optimal

    plt = headless_pyplot()
    costs = CostModel.sardana2024_table3()
    loss = float(chinchilla_optimal(params=70e9).loss)
    requests = np.logspace(8, 12, 80)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4), constrained_layout=True)
    plain = cost_optimal(loss, requests, costs=costs)
    axes[0].plot(requests, plain.params, color="k", label="unlimited data")
    for u, color in ((1e12, "C3"), (5e12, "C1"), (15e12, "C0")):
        r = cost_optimal(loss, requests, costs=costs, unique_tokens=u, on_invalid="nan")
        label = f"{u / 1e12:.0f}T unique tokens"
        axes[0].plot(requests, r.params, color=color, label=label)
        axes[1].plot(requests, r.epochs, color=color, label=label)
        axes[2].plot(requests, 100 * r.premium, color=color, label=label)
    axes[0].set_ylabel("parameters of the lifetime optimum")
    axes[1].set_ylabel("epochs over the unique data")
    axes[2].set_ylabel("lifetime dollars over unlimited data (%)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("lifetime requests (70 in + 215 out tokens)")
        ax.legend(fontsize=7)
    axes[0].set_yscale("log")
    fig.suptitle(
        f"Finite data (Muennighoff et al. 2023, R_D* 15.39, R_N* 5.31) at the loss of a "
        f"70B Chinchilla-style model\n{_prices(costs)}",
        fontsize=9,
    )
    path = out / "finite_data.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


FIGURES: tuple[Callable[[Path], Path], ...] = (
    figure_2,
    figure_6,
    training_share,
    step_time_fit,
    optimum_vs_demand,
    finite_data,
)
