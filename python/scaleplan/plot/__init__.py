"""Figures as matplotlib objects (extra `[plot]`: `pip install 'scaleplan[plot]'`).

Every function draws the figure of its name and returns the `matplotlib.figure.Figure`;
save it with `fig.savefig("name.pdf")` in any format matplotlib writes. Each takes the
data or the parameters that make it (losses, demands, a `CostModel`, a law), with the
settings of `scaleplan reproduce` as defaults.

Where to draw:

- a one-panel plot takes `ax=`, a matplotlib `Axes`, and draws there, returning
  `ax.figure`;
- a plot of several panels takes `axes=`, a sequence of exactly that many Axes (from
  `fig.subplots(...)`, a `subfigure`, a mosaic), one panel each, and returns the figure of
  the first;
- with neither, a new `Figure` (constrained layout, no pyplot, an Agg canvas: no display
  needed) is made, titled, and for the optimum against demand captioned. A caller's
  figure is never titled: the figure-level title and caption are theirs; what a panel
  needs to be read (axis labels with units and "(log scale)", panel titles, legends,
  colour bars) is drawn on the panel either way.

Importing `scaleplan.plot` does not import matplotlib; calling a function without it
raises an ImportError that says how to install it. Nothing here calls `pyplot.show()`
or touches pyplot's global figure list; text sizes (10 pt, 9 pt at the smallest) are set
only while a function draws.
"""

from .demand import optimum_vs_demand
from .experts import optimal_experts
from .finite import finite_data
from .isoflop import isoflop_profiles
from .share import training_share
from .steptime import step_time_fit
from .surfaces import cost_ratio_surfaces, flop_ratio_surfaces, ratio_surface

__all__ = [
    "cost_ratio_surfaces",
    "finite_data",
    "flop_ratio_surfaces",
    "isoflop_profiles",
    "optimal_experts",
    "optimum_vs_demand",
    "ratio_surface",
    "step_time_fit",
    "training_share",
]
