"""What the MoE optima share about memory: the most active parameters of the joint MoE
paper's architecture that fit a memory, and bounded inputs (`experts`, `expert_training`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._utils.checks import number
from ..errors import ScaleplanError
from ..laws.moe import GPT2_VOCAB, cubic_root

__all__ = ["MAX_BYTES", "MAX_MEMORY", "MIN_BYTES", "bounded", "largest_fitting"]

# Bytes a weight or a cache element may take: from a 1-bit weight's 0.125 (less, 0.01, for
# what a format's scales amortise) to 16 (fp128, beyond any format).
MIN_BYTES, MAX_BYTES = 0.01, 16.0
# Memory taken: an exabyte is beyond any machine (and keeps the width's cube in float64).
MAX_MEMORY = 1e18


def bounded(name: str, value: Any, low: float, high: float) -> float:
    """`value` as a float in (low, high], or the error naming it."""
    x = number(name, value)
    if not low < x <= high:
        raise ScaleplanError(f"{name} must be in ({low:g}, {high:g}]; got {x!r}", name)
    return x


def largest_fitting(experts: Any, memory_bytes: float, bytes_per_param: float,
                    cache_per_d2: float = 0.0) -> Any:  # fmt: skip
    """The most active parameters of the paper's architecture whose memory fits
    `memory_bytes`, per expert count: `bytes_per_param (2 d V + (4 + 9 E) d^3 / 64) +
    cache_per_d2 d^2 = memory` solved for the width d (`laws.moe.cubic_root`), then
    `N = 2 d V + 13 d^3 / 64`. NaN where not even a thousand parameters fit."""
    e = np.asarray(experts, dtype=float)
    v, b = float(GPT2_VOCAB), bytes_per_param
    d = cubic_root(2.0 * b * v, cache_per_d2, b * (4.0 + 9.0 * e) / 64.0, memory_bytes)
    n = 2.0 * d * v + 13.0 * d**3 / 64.0
    return np.where(n >= 1e3, n, np.nan)
