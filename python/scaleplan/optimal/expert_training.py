"""The joint MoE paper's memory-constrained training question (Ludziejewski et al. 2025,
§4.3 and Table 2): the expert count with the lowest loss for a training budget when the
model and its KV cache must fit a memory."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._utils.checks import number
from ..errors import ScaleplanError
from ..laws.closed_form import chinchilla_optimal
from ..laws.flops import training_flops
from ..laws.moe import JOINT_MOE, JointMoELaw
from ._expert_memory import MAX_BYTES, MAX_MEMORY, MIN_BYTES, bounded, largest_fitting
from .experts import EXPERT_COUNTS, expert_counts, resolve_moe_law

__all__ = ["MAX_KV_TOKENS", "training_experts"]

# Tokens a cache may hold: far beyond any context.
MAX_KV_TOKENS = 1e9


def training_experts(
    compute: float,
    memory_bytes: float,
    *,
    law: JointMoELaw | str = JOINT_MOE,
    experts: Any = EXPERT_COUNTS,
    kv_tokens: float = 16384.0,
    bytes_per_element: float = 2.0,
) -> dict[str, Any]:
    """The paper's memory-constrained question (Ludziejewski et al. 2025, §4.3 and Table 2):
    the expert count with the lowest loss for a training budget when the model and its KV
    cache must fit a memory.

    For each count E: the iso-FLOP optimum (`6 N D = compute`, N active) of the law at E;
    if its memory exceeds `memory_bytes`, the largest N that fits (the loss is unimodal
    along the iso-FLOP curve). Memory is the paper's architecture's (its Eqs. 9-10, width
    d, d/64 blocks): `bytes_per_element (N_total + 2 kv_tokens (d/64) d)`, weights and a
    cache of `kv_tokens` tokens, both at `bytes_per_element` (bf16). The paper's text does
    not give every term of its memory count; docs/guide/moe.md sets our answers beside its
    table.

    Parameters
    ----------
    compute : float
        Training FLOPs.
    memory_bytes : float
        The memory, bytes.
    law : JointMoELaw or str, optional
        The MoE law (default the published joint law).
    experts : int or sequence of int, optional
        Counts compared (default 1 to 32).
    kv_tokens : float, optional
        Tokens the cache holds (default 16,384, the paper's "16k"; at most 1e9).
    bytes_per_element : float, optional
        Bytes a weight and a cache element take (default 2; at most 16).

    Returns
    -------
    dict
        `experts` (the best count) and, per count compared, arrays `candidates`,
        `params`, `tokens`, `loss` and `memory_bound`.

    Examples
    --------
    >>> from scaleplan.optimal.expert_training import training_experts
    >>> [training_experts(1e22, m)["experts"] for m in (24e9, 80e9, 640e9)]
    [4, 16, 32]
    """
    law = resolve_moe_law(law)
    counts = expert_counts(experts)
    compute = number("compute", compute)
    memory = bounded("memory_bytes", memory_bytes, 0.0, MAX_MEMORY)
    kv_tokens = bounded("kv_tokens", kv_tokens, 0.0, MAX_KV_TOKENS)
    width_bytes = bounded("bytes_per_element", bytes_per_element, MIN_BYTES, MAX_BYTES)

    laws = law.at(counts)
    n = np.asarray(chinchilla_optimal(compute=compute, law=laws).params, dtype=float)
    # The cache: 2 kv_tokens (d / 64) d elements, at width_bytes each.
    cap = largest_fitting(counts, memory, width_bytes, width_bytes * 2.0 * kv_tokens / 64.0)
    bound = ~(n <= cap)
    n = np.where(bound, cap, n)
    d = compute / training_flops(n, 1.0)
    loss = np.asarray(laws.loss(np.where(np.isfinite(n), n, 1.0), np.where(np.isfinite(d), d, 1.0)))
    loss = np.where(np.isfinite(n), loss, np.nan)
    if not np.any(np.isfinite(loss)):
        raise ScaleplanError("no expert count fits the memory at any size", "memory_bytes")
    best = int(np.nanargmin(loss))
    return dict(experts=int(counts[best]), candidates=counts, params=n, tokens=d, loss=loss,
                memory_bound=bound)  # fmt: skip
