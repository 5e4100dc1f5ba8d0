"""Optimal-over-Chinchilla ratio grids over loss x demand: the paper's Figures 2 and 6."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._utils.arrays import as_float
from .._utils.checks import renamed
from .._utils.frames import Tabular
from ..errors import ScaleplanError
from ..hardware.cost_model import DEFAULT_INPUT_TOKENS, DEFAULT_OUTPUT_TOKENS, CostModel
from ..laws.scaling import CHINCHILLA, ScalingLaw
from .costs import cost_optimal
from .lifetime import compute_optimal

__all__ = ["RatioGrid", "cost_ratio_grid", "flop_ratio_grid"]


@dataclass(frozen=True, repr=False)
class RatioGrid(Tabular):
    """Optimal over Chinchilla-style ratios on a loss x demand grid (rows: losses).

    Parameters
    ----------
    losses : numpy.ndarray
        The grid's rows: target losses, in nats/token.
    demands : numpy.ndarray
        Its columns: lifetime inference tokens (FLOP grid) or requests (dollar grid).
    total : numpy.ndarray
        Lifetime FLOPs (or dollars) of the optimal model over those of the
        Chinchilla-style one.
    params, tokens : numpy.ndarray
        The optimal model's parameters and training tokens over the Chinchilla-style
        one's.

    Examples
    --------
    >>> from scaleplan import flop_ratio_grid
    >>> grid = flop_ratio_grid([2.0, 2.2], [1e11, 1e13])
    >>> print(grid.tokens.round(2))
    [[ 1.06  3.67]
     [ 1.29 10.2 ]]
    """

    _INPUTS = ("loss", "demand")
    _OUTPUTS = ("total", "params", "tokens")

    losses: Any
    demands: Any
    total: Any
    """Lifetime FLOPs (or dollars) of the optimal model / of the Chinchilla-style one."""
    params: Any
    tokens: Any

    @property
    def loss(self) -> Any:
        """`losses` down the rows (nats/token), for the table."""
        return np.asarray(self.losses)[:, None]

    @property
    def demand(self) -> Any:
        """`demands` along the columns (tokens or requests), for the table."""
        return np.asarray(self.demands)[None, :]


def _axis(name: str, values: Any) -> Any:
    """One axis of a grid: a scalar or a 1-D array (its rows are checked by the solver,
    which names the argument and the row of any bad value)."""
    arr = np.atleast_1d(as_float(name, values))
    if arr.ndim != 1 or arr.size == 0:
        raise ScaleplanError(f"{name} must be a number or a non-empty 1-D array; got shape "
                             f"{np.shape(values)}", name)  # fmt: skip
    return arr


def _finite(blame: str, ratio: Any) -> Any:
    """`ratio` if every cell is finite: lifetime totals beyond float64 (a demand near the
    top of the range) are an error naming the demand, not inf/inf = NaN in the figure."""
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(ratio)
    if np.any(bad):
        row, col = np.argwhere(bad)[0]
        raise ScaleplanError(f"{blame}: the lifetime total at losses[{row}], {blame}[{col}] is "
                             "beyond float64", blame)  # fmt: skip
    return ratio


def flop_ratio_grid(
    losses: Any, inference_tokens: Any, *, law: ScalingLaw | str = CHINCHILLA
) -> RatioGrid:
    """The surfaces of the paper's Figure 2: compute-optimal over Chinchilla-style.

    For each loss (rows) and inference demand in tokens (columns), the ratios of total
    lifetime FLOPs, parameters and training tokens (`compute_optimal` against
    `chinchilla_optimal`).

    Parameters
    ----------
    losses : float or array_like
        Target losses, in nats/token (a number or a 1-D array).
    inference_tokens : float or array_like
        Lifetime inference demands, in tokens (a number or a 1-D array).
    law : ScalingLaw or str, optional
        The law (default `CHINCHILLA`).

    Returns
    -------
    RatioGrid

    Raises
    ------
    ScaleplanError
        If an axis is not a number or a non-empty 1-D array, a value is out of range, or a
        lifetime total leaves float64.

    Examples
    --------
    At 10T tokens served, the 2.0-nats model needs 63% of the Chinchilla-style lifetime
    FLOPs:

    >>> from scaleplan import flop_ratio_grid
    >>> grid = flop_ratio_grid([2.0, 2.2], [1e11, 1e13])
    >>> print(grid.total.round(3))
    [[0.999 0.627]
     [0.979 0.37 ]]
    """

    losses, demands = _axis("losses", losses), _axis("inference_tokens", inference_tokens)
    with renamed(loss="losses"):
        r = compute_optimal(losses[:, None], demands[None, :], law=law)
    c = r.chinchilla
    total = _finite("inference_tokens", r.total_flops / c.total_flops)
    return RatioGrid(losses, demands, total, r.params / c.params, r.tokens / c.tokens)


def cost_ratio_grid(
    losses: Any,
    requests: Any,
    *,
    input_tokens: float = DEFAULT_INPUT_TOKENS,
    output_tokens: float = DEFAULT_OUTPUT_TOKENS,
    costs: CostModel | None = None,
    law: ScalingLaw | str = CHINCHILLA,
) -> RatioGrid:
    """The surfaces of the paper's Figure 6: cost-optimal over Chinchilla-style.

    For each loss (rows) and number of lifetime requests (columns), the ratios of lifetime
    dollars, parameters and training tokens (`cost_optimal` against the Chinchilla-style
    model serving the same requests).

    Parameters
    ----------
    losses : float or array_like
        Target losses, in nats/token (a number or a 1-D array).
    requests : float or array_like
        Lifetime requests (a number or a 1-D array).
    input_tokens, output_tokens : float, optional
        Prompt and generated tokens per request (defaults 70 and 215).
    costs : CostModel, optional
        Hardware, prices and MFUs (default `CostModel()`).
    law : ScalingLaw or str, optional
        The law (default `CHINCHILLA`).

    Returns
    -------
    RatioGrid

    Raises
    ------
    ScaleplanError
        If an axis is not a number or a non-empty 1-D array, a value is out of range, or a
        lifetime total leaves float64.

    Examples
    --------
    >>> from scaleplan import cost_ratio_grid
    >>> grid = cost_ratio_grid([2.0, 2.2], [1e8, 1e10])
    >>> print(grid.total.round(3))
    [[0.989 0.414]
     [0.874 0.261]]
    """
    losses, demands = _axis("losses", losses), _axis("requests", requests)
    with renamed(loss="losses"):
        r = cost_optimal(losses[:, None], demands[None, :], input_tokens, output_tokens,
                         costs=costs, law=law)  # fmt: skip
    c = r.chinchilla
    total = _finite("requests", r.total_dollars / c.total_dollars)
    return RatioGrid(losses, demands, total, r.params / c.params, r.tokens / c.tokens)
