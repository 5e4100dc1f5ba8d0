"""The training share of the lifetime optimum against demand, in FLOPs and in dollars."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..hardware.cost_model import CostModel
from ..laws.closed_form import chinchilla_optimal
from ..laws.scaling import CHINCHILLA, ScalingLaw, resolve_law
from ..optimal.allocation import share_sweep
from ._figure import LOG, REQUESTS, SMALL, one_of, panels, prices, size_label, style, titled

__all__ = ["training_share"]


def training_share(
    inference_tokens: Any = None,
    requests: Any = None,
    *,
    sizes: Sequence[float] = (7e9, 30e9, 70e9),
    costs: CostModel | None = None,
    law: ScalingLaw | str = CHINCHILLA,
    axes: Sequence[Any] | None = None,
) -> Any:
    """The training share of lifetime cost at the lifetime optimum, `r / (1 + r)` with
    `r` the training-to-inference ratio (Epoch), against demand: of FLOPs (`6 N D` over
    `6 N D + 2 N D_inf`, left) and of dollars (right), one curve per quality.

    Parameters
    ----------
    inference_tokens : array_like, optional
        Lifetime inference demand (tokens) of the FLOP panel; default 100 from 1e8 to 1e17.
    requests : array_like, optional
        Lifetime requests (70 input, 215 output tokens) of the dollar panel; default 100
        from 1e5 to 1e14.
    sizes : sequence of float
        Each curve's quality: the loss of the Chinchilla-style model of that many
        parameters.
    costs : CostModel, optional
        The dollar panel's prices; default `CostModel.sardana2024_table3()`, the prices of
        every dollar figure of `scaleplan reproduce`. The panel's title states them.
    law : ScalingLaw or str
        The loss law (default Chinchilla's).
    axes : sequence of 2 matplotlib.axes.Axes, optional
        Where to draw (FLOPs, dollars); None: a new `Figure` with a title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> fig = training_share(np.logspace(9, 15, 20), np.logspace(6, 12, 20), sizes=[7e9])
    >>> fig.axes[0].get_ylabel()
    'training share of lifetime FLOPs (%)'
    """
    one_of("sizes", sizes)
    costs = CostModel.sardana2024_table3() if costs is None else costs
    law = resolve_law(law)
    tokens = np.logspace(8, 17, 100) if inference_tokens is None else inference_tokens
    requests = np.logspace(5, 14, 100) if requests is None else requests
    with style():
        fig, (flops, dollars), own = panels(axes, 2, (13, 5), "axes")
        titled(
            fig,
            own,
            "Training share at the lifetime optimum, r / (1 + r): it falls as demand grows",
        )
        for size in sizes:
            loss = chinchilla_optimal(params=size, law=law).loss
            d, share = share_sweep(loss, tokens, law=law)
            flops.plot(d, 100 * share, label=size_label(size))
            r, share_d = share_sweep(loss, requests, costs=costs, law=law)
            dollars.plot(r, 100 * share_d, label=size_label(size))
        flops.set_xlabel("lifetime inference demand, tokens" + LOG)
        flops.set_ylabel("training share of lifetime FLOPs (%)")
        flops.set_title("FLOPs (no prices)")
        dollars.set_xlabel(REQUESTS)
        dollars.set_ylabel("training share of lifetime dollars (%)")
        dollars.set_title(prices(costs, "\n"), fontsize=SMALL)
        for ax in (flops, dollars):
            ax.set_xscale("log")
            ax.axhline(50, color="grey", lw=0.7, ls=":")
            ax.legend(loc="lower left")
            ax.set_ylim(0, 100)
    return fig
