"""The lifetime optimum under a finite supply of unique training tokens (Muennighoff et
al. 2023's data-constrained law): size, epochs and the premium over unlimited data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..hardware.cost_model import CostModel
from ..laws.closed_form import chinchilla_optimal
from ..laws.data_constrained import RD_STAR, RN_STAR
from ..optimal.costs import cost_optimal
from ._figure import LOG, REQUESTS, one_of, panels, prices, size_label, style, titled

__all__ = ["finite_data"]

# Red for the scarcest supply, as in the paper's order (1T, 5T, 15T).
_COLORS = ["C3", "C1", "C0", "C2", "C4"]


def finite_data(
    requests: Any = None,
    *,
    loss: float | None = None,
    unique_tokens: Sequence[float] = (1e12, 5e12, 15e12),
    costs: CostModel | None = None,
    axes: Sequence[Any] | None = None,
) -> Any:
    """The dollar optimum against lifetime requests for a few unique-token supplies:
    its parameters (left, with the unlimited-data optimum in black), the epochs it trains
    over the unique data (`D / U`, middle) and its lifetime dollars over the
    unlimited-data optimum's (the premium, %, right).

    Parameters
    ----------
    requests : array_like, optional
        Lifetime requests (70 input, 215 output tokens each); default 80 from 1e8 to 1e12.
    loss : float, optional
        Target loss (nats/token); default that of a 70B Chinchilla-style model under the
        Chinchilla law (1.8918).
    unique_tokens : sequence of float
        Supplies of unique training tokens `U`, one curve each.
    costs : CostModel, optional
        Prices and utilisations; default `CostModel.sardana2024_table3()`.
    axes : sequence of 3 matplotlib.axes.Axes, optional
        Where to draw (parameters, epochs, premium); None: a new `Figure` with a title
        stating the law's constants and the prices.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> fig = finite_data(np.logspace(9, 11, 10), unique_tokens=[5e12])
    >>> fig.axes[1].get_ylabel()
    'epochs over the unique data'
    """
    one_of("unique_tokens", unique_tokens)
    costs = CostModel.sardana2024_table3() if costs is None else costs
    if loss is None:
        loss = float(chinchilla_optimal(params=70e9).loss)
        quality = f"{loss:.4g} nats/token ({size_label(70e9)})"
    else:
        quality = f"{loss:.4g} nats/token"
    requests = np.logspace(8, 12, 80) if requests is None else requests
    with style():
        fig, (size, epochs, premium), own = panels(axes, 3, (16, 5.2), "axes")
        titled(
            fig,
            own,
            f"Finite data (Muennighoff et al. 2023, R_D* {RD_STAR:.2f}, "
            f"R_N* {RN_STAR:.2f}) at loss {quality}\n{prices(costs)}",
        )
        plain = cost_optimal(loss, requests, costs=costs)
        size.plot(requests, plain.params, color="k", label="unlimited data")
        for u, color in zip(unique_tokens, _COLORS * len(unique_tokens), strict=False):
            r = cost_optimal(loss, requests, costs=costs, unique_tokens=u, on_invalid="nan")
            label = f"{u / 1e12:g}T unique tokens"
            size.plot(requests, r.params, color=color, label=label)
            epochs.plot(requests, r.epochs, color=color, label=label)
            premium.plot(requests, 100 * r.premium, color=color, label=label)
        size.set_ylabel("parameters of the lifetime optimum" + LOG)
        size.set_yscale("log")
        epochs.set_ylabel("epochs over the unique data")
        premium.set_ylabel("lifetime dollars over unlimited data (%)")
        for ax in (size, epochs, premium):
            ax.set_xscale("log")
            ax.set_xlabel(REQUESTS)
            ax.legend()
    return fig
