"""What every plot shares: matplotlib loaded on first use, the panels a plot draws on (the
caller's Axes or a new `Figure`), one text style, and the labels the figures repeat.

No pyplot: a `matplotlib.figure.Figure` with an Agg canvas draws and saves with no
display, no backend switch and no global list of open figures to close.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from ..errors import ScaleplanError
from ..hardware.cost_model import CostModel

__all__ = [
    "INSTALL",
    "LOG",
    "REQUESTS",
    "SMALL",
    "TEXT",
    "matplotlib",
    "one_of",
    "outlined",
    "panels",
    "prices",
    "size_label",
    "style",
    "titled",
]

INSTALL = "pip install 'scaleplan[plot]'"
# Smallest text anywhere in a figure (points): labels, ticks, legends, annotations.
TEXT = 10.0
SMALL = 9.0
LOG = " (log scale)"
REQUESTS = "lifetime requests, 70 in + 215 out tokens each" + LOG

_RC = {
    "font.size": TEXT,
    "axes.titlesize": TEXT + 1,
    "axes.labelsize": TEXT,
    "xtick.labelsize": TEXT,
    "ytick.labelsize": TEXT,
    "legend.fontsize": SMALL,
    "legend.title_fontsize": SMALL,
    "figure.titlesize": TEXT + 2,
}


def matplotlib() -> Any:
    """The matplotlib module, or an ImportError that says how to install it."""
    try:
        import matplotlib as mpl
    except ImportError:
        raise ImportError(
            f"scaleplan.plot needs matplotlib: {INSTALL}", name="matplotlib"
        ) from None
    return mpl


@contextlib.contextmanager
def style() -> Iterator[None]:
    """The figures' text sizes while a plot draws (restored after; matplotlib reads them
    when each text and tick is made, so they must be in force while drawing)."""
    mpl = matplotlib()
    with mpl.rc_context(_RC):
        yield


def panels(
    given: Any, count: int, figsize: tuple[float, float], argument: str
) -> tuple[Any, list[Any], bool]:
    """(figure, `count` Axes, whether the figure is ours): the caller's Axes (`given`, one
    Axes when `count` is 1, else a sequence of `count`), or a new `Figure` of `figsize`
    inches in a row of `count` panels with matplotlib's constrained layout."""
    matplotlib()
    from matplotlib.axes import Axes
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if given is None:
        fig = Figure(figsize=figsize, layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, count, squeeze=False)[0]
        return fig, list(axes), True
    axes = [given] if isinstance(given, Axes) else list(given)
    if len(axes) != count or not all(isinstance(a, Axes) for a in axes):
        what = "a matplotlib Axes" if count == 1 else f"a sequence of {count} matplotlib Axes"
        raise ScaleplanError(f"{argument} must be {what} (or None for a new figure)", argument)
    return axes[0].figure, axes, False


def titled(fig: Any, own: bool, title: str, caption: str | None = None) -> Any:
    """The figure-level title and caption, on figures the plot made only (a caller's
    figure is theirs to title); returns `fig`."""
    if own:
        fig.suptitle(title)
        if caption:
            fig.supxlabel(caption, fontsize=SMALL, ha="left", x=0.01, color="0.25")
    return fig


def outlined() -> list[Any]:
    """A dark outline for text on a colour map, so it reads on every colour."""
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=2.4, foreground="black")]


def prices(costs: CostModel, sep: str = "; ") -> str:
    """The prices and utilisations a dollar figure assumes, parts joined by `sep`: the
    training GPU, the serving GPU, and for Table 3's cost model a note that its $1.00/h is
    the price that reproduces Table 3, not the stated $1.10/h (dollar signs escaped:
    matplotlib reads a pair of them as mathematics)."""
    train, serve = costs.train_gpu, costs.inference_gpu
    parts = [
        f"train {train.name} {costs.train_precision} \\${costs.train_price_per_hour:.2f}/h, "  # type: ignore[union-attr]
        f"{costs.train_mfu:.0%} MFU",
        f"serve {serve.name} {costs.inference_precision} "  # type: ignore[union-attr]
        f"\\${costs.inference_price_per_hour:.2f}/h, {costs.prefill_mfu:.0%} prefill / "
        f"{costs.decode_mfu:.0%} decode MFU",
    ]
    text = sep.join(parts)
    if costs == CostModel.sardana2024_table3():
        note = "(\\$1.00/h reproduces Table 3; the paper states \\$1.10/h)"
        text += ("\n" if "\n" in sep else " ") + note
    return text


def size_label(params: float) -> str:
    """'7B-Chinchilla quality': the loss of the Chinchilla-style model of that size."""
    return f"{params / 1e9:g}B-Chinchilla quality"


def one_of(name: str, values: Sequence[Any]) -> None:
    """Refuse an empty sequence of curves."""
    if len(values) == 0:
        raise ScaleplanError(f"{name} must hold at least one value", name)
