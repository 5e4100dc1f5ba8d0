"""The compute-optimal fine-grained MoE (Krajewski et al. 2024, its §6 and Table 2): for a
training budget, the granularity, the model and the tokens of the lowest loss under the
fine-grained law and its FLOP model (`laws.fine_grained`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._utils.checks import POSITIVE, number
from .._utils.frames import Record
from ..errors import ScaleplanError
from ..laws.fine_grained import KRAJEWSKI2024, FineGrainedMoELaw
from .experts import expert_counts

__all__ = ["GRANULARITIES", "FineGrainedOptimum", "fine_grained_optimal"]

# Granularities compared unless told: powers of two to 256 (the paper's span).
GRANULARITIES: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256)
# The budgets taken: beyond 1e35 FLOPs the model's blocks leave the span searched.
MAX_COMPUTE = 1e35


@dataclass(frozen=True, repr=False)
class FineGrainedOptimum(Record):
    """The lowest-loss fine-grained MoE for a budget, as `fine_grained_optimal` returns it.

    Parameters
    ----------
    granularity : int
        G of the optimum.
    params, active_params : float
        Total and active non-embedding parameters (count).
    tokens : float
        Training tokens.
    loss : float
        nats/token.
    blocks, d_model : float
        The architecture: `n_blocks` (continuous) and `d = 64 n_blocks`.
    compute : float
        The budget, FLOPs.
    candidates : dict of str to numpy.ndarray
        Per granularity compared: granularity, params, tokens, loss.

    Examples
    --------
    >>> from scaleplan.optimal.fine_grained import fine_grained_optimal
    >>> r = fine_grained_optimal(1.93e20)  # Table 2's "64 x 1B" row: G = 16
    >>> r.granularity, round(r.active_params / 1e9, 2), round(r.tokens / 1e9, 1)
    (16, 1.02, 28.3)
    """

    granularity: int
    params: float
    active_params: float
    tokens: float
    loss: float
    blocks: float
    d_model: float
    compute: float
    candidates: dict[str, Any]


# Ternary steps: each keeps 2/3 of the bracket, and (2/3)^90 of the 20.7-wide bracket of
# ln n_blocks is 3e-15, its float64 resolution; a fixed count, so every machine stops alike.
_SEARCH_STEPS = 90


def fine_grained_optimal(
    compute: float,
    *,
    law: FineGrainedMoELaw = KRAJEWSKI2024,
    granularities: Any = GRANULARITIES,
) -> FineGrainedOptimum:
    """The granularity, model and tokens of the lowest loss for `compute` training FLOPs.

    For each G, the loss along the budget (`D = compute / FLOPs a token`, both from the
    model's `n_blocks`) is minimised over `n_blocks` by a ternary search in its logarithm
    (the loss falls, then rises, along the budget); the lowest of all G wins (the paper
    optimises the same way, its §6.2, with Brent's method).

    Parameters
    ----------
    compute : float
        Training FLOPs, in (0, 1e35].
    law : FineGrainedMoELaw, optional
        Default the published fit (`KRAJEWSKI2024`).
    granularities : int or sequence of int, optional
        G compared (default powers of two, 1 to 256).

    Returns
    -------
    FineGrainedOptimum

    Raises
    ------
    ScaleplanError
        If `compute` or a granularity is out of range, or `law` is not a
        FineGrainedMoELaw.

    Examples
    --------
    Table 2's first row (2.95e18 FLOPs, printed "64 x 100M", 4.37B tokens, G = 8):

    >>> from scaleplan import fine_grained_optimal
    >>> r = fine_grained_optimal(2.95e18)
    >>> print(f"G = {r.granularity}, {r.active_params / 1e6:.0f}M active, "
    ...       f"{r.tokens / 1e9:.2f}B tokens, loss {r.loss:.3f}")
    G = 8, 103M active, 4.28B tokens, loss 3.109
    """
    if not isinstance(law, FineGrainedMoELaw):
        raise ScaleplanError("law must be a FineGrainedMoELaw", "law")
    compute = number("compute", compute, POSITIVE)
    if compute > MAX_COMPUTE:
        raise ScaleplanError(f"compute must be at most {MAX_COMPUTE:g} FLOPs", "compute")
    try:
        grans = expert_counts(granularities)
    except ScaleplanError as exc:
        raise ScaleplanError(
            str(exc).replace("experts", "granularities"), "granularities"
        ) from None
    lo, hi = np.full(grans.shape, np.log(1e-3)), np.full(grans.shape, np.log(1e6))
    for _ in range(_SEARCH_STEPS):
        m1, m2 = lo + (hi - lo) / 3.0, hi - (hi - lo) / 3.0
        first = _loss(law, compute, grans, m1)[0] < _loss(law, compute, grans, m2)[0]
        lo, hi = np.where(first, lo, m1), np.where(first, m2, hi)
    loss, params, tokens = _loss(law, compute, grans, 0.5 * (lo + hi))
    k = int(np.argmin(loss))
    blocks = float(law.blocks(params[k]))
    return FineGrainedOptimum(int(grans[k]), float(params[k]), float(law.active_params(params[k])),
                              float(tokens[k]), float(loss[k]), blocks, 64.0 * blocks, compute,
                              dict(granularity=grans, params=params, tokens=tokens,
                                   loss=loss))  # fmt: skip


def _loss(law: FineGrainedMoELaw, compute: float, grans: Any, ln_blocks: Any) -> tuple[Any, ...]:
    """(loss, total parameters, tokens) of the model of `exp(ln_blocks)` blocks at each G."""
    n = np.exp(ln_blocks)
    params = 4096.0 * (8.0 * law.expansion + 4.0) * n**3
    tokens = compute / law.training_flops(params, 1.0, grans)
    floor = law.c + (law.g / grans**law.gamma + law.a) / params**law.alpha
    return floor + law.b / tokens**law.beta, params, tokens
