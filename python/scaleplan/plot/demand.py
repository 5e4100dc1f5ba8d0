"""The lifetime optimum against demand, with serving priced at the paper's constant MFU and
by the roofline on whole GPUs.

Why the roofline curves step: a replica is a whole group of GPUs (tensor parallel 1, 2,
4, ...). As a model's int8 weights fill one A100-40GB, the memory left for the KV cache
shrinks the batch (319 sequences at 24B parameters, 3 at 36B), and the next size up needs
twice the GPUs, so the serving cost per request jumps about twofold there. Over a range
of demands the optimum therefore sits just below a jump, then falls past it once smaller
models pay. The steps are the physics of whole GPUs, not numerical noise, so they are
drawn as they are and the group boundaries are marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..hardware.cost_model import CostModel
from ..laws.closed_form import chinchilla_optimal
from ..laws.scaling import CHINCHILLA, ScalingLaw, resolve_law
from ..optimal.costs import cost_optimal
from ..optimal.physical_optimum import physical_optimal
from ..optimal.serving_curve import ServingCurve
from ..systems.deployment import Deployment
from ._figure import LOG, REQUESTS, SMALL, one_of, panels, prices, size_label, style, titled

__all__ = ["optimum_vs_demand"]

CAPTION = (
    "Solid curves step where a replica needs twice the GPUs (dotted lines: tensor parallel "
    "1→2, 2→4): as int8 weights fill an A100-40GB,\nthe batch its memory holds shrinks and "
    "serving cost per request jumps about twofold, so the optimum stays just below a jump "
    "over a range\nof demands, then falls past it. These steps are whole GPUs, not noise; "
    "the 1B curve's smaller ones come from the discrete model shapes priced."
)


def _group_boundaries(ax: Any, curve: ServingCurve) -> None:
    """Dotted lines at the sizes where the curve's tensor-parallel group doubles, inside
    the panel's current range, labelled at its right edge."""
    if curve.tensor_parallel is None:
        return
    n, tp = curve.params, curve.tensor_parallel
    low, high = ax.get_ylim()
    for i in np.flatnonzero(np.diff(tp)):
        at = float(np.sqrt(n[i] * n[i + 1]))
        if low < at < high:
            ax.axhline(at, color="0.45", lw=0.8, ls=":")
            ax.text(
                0.99,
                at,
                f"{tp[i]:.0f}→{tp[i + 1]:.0f} GPUs",
                ha="right",
                va="bottom",
                color="0.3",
                fontsize=SMALL,
                transform=ax.get_yaxis_transform(),
            )


def optimum_vs_demand(
    requests: Any = None,
    *,
    sizes: Sequence[float] = (1e9, 7e9, 70e9),
    costs: CostModel | None = None,
    curve: ServingCurve | None = None,
    law: ScalingLaw | str = CHINCHILLA,
    axes: Sequence[Any] | None = None,
) -> Any:
    """The lifetime optimum's parameters (left) and training tokens per parameter (right)
    against lifetime requests, for a few qualities, with serving priced at the paper's
    constant MFU (`cost_optimal`, dashed) and by the roofline (`physical_optimal`, solid).

    The roofline curves step where a replica's GPU count doubles (see the module's
    docstring); the boundaries inside the left panel are dotted and labelled.

    Parameters
    ----------
    requests : array_like, optional
        Lifetime requests (70 input, 215 output tokens each); default 60 from 1e7 to 1e12.
    sizes : sequence of float
        Each colour's quality: the loss of the Chinchilla-style model of that many
        parameters.
    costs : CostModel, optional
        Prices and utilisations; default `CostModel.sardana2024_table3()`.
    curve : ServingCurve, optional
        The roofline's serving cost per request against parameters; default that of
        `Deployment.from_costs(costs, peak_to_average=1.0)` (TPOT 50 ms, mean-rate
        provisioning).
    law : ScalingLaw or str
        The loss law (default Chinchilla's).
    axes : sequence of 2 matplotlib.axes.Axes, optional
        Where to draw (parameters, tokens per parameter); None: a new `Figure` with a
        title stating the prices and a caption explaining the steps.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> fig = optimum_vs_demand(np.logspace(8, 11, 12), sizes=[7e9])
    >>> fig.axes[0].get_yscale(), fig.axes[0].get_ylabel()
    ('log', 'parameters of the lifetime optimum (log scale)')
    """
    one_of("sizes", sizes)
    costs = CostModel.sardana2024_table3() if costs is None else costs
    if curve is None:
        curve = ServingCurve.roofline(Deployment.from_costs(costs, peak_to_average=1.0))
    law = resolve_law(law)
    requests = np.logspace(7, 12, 60) if requests is None else np.asarray(requests, float)
    with style():
        fig, (left, right), own = panels(axes, 2, (13, 5.6), "axes")
        title = "Lifetime optimum against demand: constant MFU (dashed) or roofline (solid)"
        titled(fig, own, f"{title}\n{prices(costs)}", CAPTION)
        for size, color in zip(sizes, [f"C{i}" for i in range(len(sizes))], strict=True):
            loss = chinchilla_optimal(params=size, law=law).loss
            paper = cost_optimal(loss, requests, costs=costs, law=law)
            ours = physical_optimal(
                loss, requests, curve=curve, costs=costs, law=law, on_invalid="nan"
            )
            for opt, style_ in ((paper, "--"), (ours, "-")):
                left.plot(requests, opt.params, style_, color=color)
                right.plot(requests, opt.tokens / opt.params, style_, color=color)
            right.plot([], [], color=color, lw=6, label=size_label(size))
        right.plot([], [], "k--", label="paper's 1% decode MFU")
        right.plot([], [], "k-", label="roofline, TPOT 50 ms")
        left.set_ylabel("parameters of the lifetime optimum" + LOG)
        right.set_ylabel("training tokens per parameter" + LOG)
        for ax in (left, right):
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(REQUESTS)
        _group_boundaries(left, curve)
        # The right panel's upper left is empty (tokens per parameter rise with demand).
        right.legend(loc="upper left")
    return fig
