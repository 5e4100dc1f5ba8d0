"""Serving options of each shape at each tensor-parallel degree a deployment allows, by the
serving roofline (`serving.py`) in one vectorised call per phase: what `serving_plan` and
`ServingCurve.roofline` choose among.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._utils.frames import Tabular
from ..arch.shapes import FIELDS, TransformerShape, resolve_shape
from ..errors import ScaleplanError
from .deployment import Deployment
from .serving import decode, prefill

__all__ = ["Replicas", "context_tokens", "replicas"]


@dataclass(frozen=True, repr=False)
class Replicas(Tabular):
    """Serving options of each shape (rows) at each tensor-parallel degree in
    `tensor_parallel` (columns): the decode batch meeting the TPOT target, its TPOT, the
    TTFT of one prompt, and the seconds one request occupies a replica,
    `output x TPOT / batch + TTFT`. NaN where the group cannot hold the model and its KV
    cache, does not divide its heads, or misses a latency target."""

    _INPUTS = ("tensor_parallel",)
    _OUTPUTS = ("batch_size", "seconds_per_token", "ttft_seconds", "busy_seconds")

    tensor_parallel: Any
    batch_size: Any
    seconds_per_token: Any
    ttft_seconds: Any
    busy_seconds: Any


def replicas(shapes: Sequence[TransformerShape | str], deployment: Deployment) -> Replicas:
    """`Replicas` of every shape on the deployment's GPU at each of its `degrees`, in one
    vectorised roofline call per phase.

    Without a TPOT target a replica decodes the largest batch its memory holds: the seconds
    a request occupies it, `output x TPOT(b) / b`, only fall as the batch grows (weights
    are read once a step however many sequences share it)."""
    dep = deployment
    shapes = [resolve_shape(s, "shapes") for s in shapes]  # names and HF configs too
    grid = {f: np.array([float(getattr(s, f)) for s in shapes])[:, None] for f in FIELDS}
    tp = np.array(dep.degrees, dtype=float)[None, :]
    common: dict[str, Any] = dict(gpu=dep.gpu, precision=dep.precision,
                                  kv_precision=dep.kv_precision, efficiency=dep.efficiency,
                                  tensor_parallel=tp, on_invalid="nan")  # fmt: skip
    # A row is NaN where the group cannot hold the weights and one sequence's cache, or no
    # batch meets the TPOT target: the only row-dependent failures once the scalars passed.
    context = context_tokens(dep.input_tokens, dep.output_tokens)
    batch: Any = 1.0
    if dep.tpot_seconds is None:
        room = decode(grid, context_tokens=context, **common).max_batch_size
        batch = np.where(room >= 1, np.floor(room), np.nan)
    step = decode(grid, context_tokens=context, batch_size=batch,
                  target_seconds=dep.tpot_seconds, **common)  # fmt: skip
    ttft = np.zeros_like(step.seconds)
    if dep.input_tokens >= 1:
        ttft = prefill(grid, prompt_tokens=round(dep.input_tokens), **common).seconds
    if dep.ttft_seconds is not None:
        ttft = np.where(ttft <= dep.ttft_seconds, ttft, np.nan)
    busy = dep.output_tokens * step.seconds / step.batch_size + ttft
    return Replicas(tp[0], step.batch_size, step.seconds, ttft, busy)


def context_tokens(input_tokens: float, output_tokens: float) -> int:
    """The whole-token context a request reaches, prompt plus output."""
    total = input_tokens + output_tokens
    if not total < 2**53:
        raise ScaleplanError(
            f"output_tokens: a request of input_tokens + output_tokens = {total:.3g} tokens is "
            "beyond any context (at most 2**53)",
            "output_tokens",
        )
    return round(total)
