"""The figures of `scaleplan reproduce`, written to files: Figures 2 and 6 of Sardana et al.
2024, the training share at the optimum, the step-time fit, the optimum against demand
and finite data (matplotlib, extra `[plot]`).

Each is drawn by `scaleplan.plot` at its defaults and saved in one of `FORMATS`, PNG at
`PNG_DPI`; the figure is then released (no pyplot: nothing global is left open).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ScaleplanError
from ..plot import demand, finite, share, steptime, surfaces

__all__ = [
    "FIGURES",
    "FORMATS",
    "PNG_DPI",
    "figure_2",
    "figure_6",
    "finite_data",
    "optimum_vs_demand",
    "save",
    "step_time_fit",
    "training_share",
]

FORMATS = ("png", "pdf", "svg")
# Raster resolution: 200 dpi keeps 9-10 pt text sharp when a figure is shown at half width.
PNG_DPI = 200


def save(fig: Any, out: Path, name: str, format: str = "png") -> Path:
    """Write `fig` to `out/name.format` (PNG at `PNG_DPI`; PDF and SVG are vector) and
    return the path."""
    if format not in FORMATS:
        raise ScaleplanError(
            f"format must be one of {', '.join(FORMATS)}; got {format!r}", "format"
        )
    path = Path(out) / f"{name}.{format}"
    fig.savefig(path, format=format, dpi=PNG_DPI if format == "png" else None)
    return path


def figure_2(out: Path, format: str = "png") -> Path:
    """Figure 2's ratio surfaces over loss x inference tokens (`plot.flop_ratio_surfaces`)."""
    return save(surfaces.flop_ratio_surfaces(), out, "figure2", format)


def figure_6(out: Path, format: str = "png") -> Path:
    """Figure 6's ratio surfaces over loss x requests under Table 3's cost model
    (`plot.cost_ratio_surfaces`)."""
    return save(surfaces.cost_ratio_surfaces(), out, "figure6", format)


def training_share(out: Path, format: str = "png") -> Path:
    """The training share against demand, in FLOPs and dollars (`plot.training_share`)."""
    return save(share.training_share(), out, "training_share", format)


def step_time_fit(out: Path, format: str = "png") -> Path:
    """The step-time model against the shipped CPU measurements (`plot.step_time_fit`)."""
    return save(steptime.step_time_fit(), out, "steptime_fit", format)


def optimum_vs_demand(out: Path, format: str = "png") -> Path:
    """The optimum against demand at constant MFU and by the roofline
    (`plot.optimum_vs_demand`)."""
    return save(demand.optimum_vs_demand(), out, "optimum_vs_demand", format)


def finite_data(out: Path, format: str = "png") -> Path:
    """The optimum under 1T, 5T and 15T unique tokens (`plot.finite_data`)."""
    return save(finite.finite_data(), out, "finite_data", format)


FIGURES: tuple[Callable[..., Path], ...] = (
    figure_2,
    figure_6,
    training_share,
    step_time_fit,
    optimum_vs_demand,
    finite_data,
)
