"""Optimal-over-Chinchilla ratio grids over loss x demand: the paper's Figures 2 and 6."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .cost_model import DEFAULT_INPUT_TOKENS, DEFAULT_OUTPUT_TOKENS, CostModel
from .costs import cost_optimal
from .laws import CHINCHILLA, ScalingLaw
from .lifetime import compute_optimal


@dataclass(frozen=True)
class RatioGrid:
    """Optimal over Chinchilla-style ratios on a loss x demand grid (rows: losses)."""

    losses: Any
    demands: Any
    total: Any
    """Lifetime FLOPs (or dollars) of the optimal model / of the Chinchilla-style one."""
    params: Any
    tokens: Any


def flop_ratio_grid(
    losses: Any, inference_tokens: Any, *, law: ScalingLaw | str = CHINCHILLA
) -> RatioGrid:
    """The surfaces of the paper's Figure 2: for each loss (rows) and inference demand in
    tokens (columns), compute-optimal over Chinchilla-style total FLOPs, params, tokens."""

    losses = np.asarray(losses, dtype=float)
    demands = np.asarray(inference_tokens, dtype=float)
    r = compute_optimal(losses[:, None], demands[None, :], law=law, on_invalid="nan")
    c = r.chinchilla
    return RatioGrid(
        losses, demands, r.total_flops / c.total_flops, r.params / c.params, r.tokens / c.tokens
    )


def cost_ratio_grid(
    losses: Any,
    requests: Any,
    *,
    input_tokens: float = DEFAULT_INPUT_TOKENS,
    output_tokens: float = DEFAULT_OUTPUT_TOKENS,
    costs: CostModel | None = None,
    law: ScalingLaw | str = CHINCHILLA,
) -> RatioGrid:
    """The surfaces of the paper's Figure 6: cost-optimal over Chinchilla-style lifetime
    dollars, params and tokens, for each loss (rows) and number of requests (columns)."""
    losses = np.asarray(losses, dtype=float)
    demands = np.asarray(requests, dtype=float)
    r = cost_optimal(
        losses[:, None],
        demands[None, :],
        input_tokens,
        output_tokens,
        costs=costs,
        law=law,
        on_invalid="nan",
    )
    c = r.chinchilla
    return RatioGrid(
        losses, demands, r.total_dollars / c.total_dollars, r.params / c.params, r.tokens / c.tokens
    )
