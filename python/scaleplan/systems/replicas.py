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
from .engines import ENGINES
from .serving import decode, prefill

__all__ = ["Replicas", "context_tokens", "replicas"]


@dataclass(frozen=True, repr=False)
class Replicas(Tabular):
    """Serving options of each shape (rows) at each tensor-parallel degree in
    `tensor_parallel` (columns): what `replicas` returns.

    A request occupies a replica `busy_seconds = output_tokens x TPOT / batch + TTFT`; under
    an in-flight engine profile its prompt runs inside decode steps and adds only its
    FLOPs' time (`prefill FLOPs / (peak x compute)`) in place of the TTFT.
    NaN where the group cannot hold the model and its KV cache, does not divide its
    heads, or misses a latency target.

    Parameters
    ----------
    tensor_parallel : numpy.ndarray
        The degrees compared, GPUs a replica, shape (degrees,).
    batch_size : numpy.ndarray
        The decode batch meeting the TPOT target (or the largest memory holds),
        sequences, shape (shapes, degrees).
    seconds_per_token, ttft_seconds : numpy.ndarray
        Its TPOT and the TTFT of one prompt, s, shape (shapes, degrees).
    busy_seconds : numpy.ndarray
        Seconds one request occupies a replica, s, shape (shapes, degrees).

    Examples
    --------
    >>> from scaleplan import Deployment
    >>> from scaleplan.systems.replicas import replicas
    >>> r = replicas(["llama-2-70b"], Deployment("a100-80gb"))
    >>> for tp, b, busy in zip(r.tensor_parallel[:4], r.batch_size[0], r.busy_seconds[0]):
    ...     print(f"tp={tp:.0f}: batch {b:.0f}, {busy:.3f} s a request")
    tp=1: batch nan, nan s a request
    tp=2: batch nan, nan s a request
    tp=4: batch 84, 0.177 s a request
    tp=8: batch 164, 0.106 s a request
    """

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
    are read once a step however many sequences share it).

    Parameters
    ----------
    shapes : sequence of TransformerShape or str
        The models: shapes, catalogue names or HF `config.json` paths.
    deployment : Deployment
        The GPU, formats, efficiency, latency targets and request lengths.

    Returns
    -------
    Replicas
        Batch, TPOT (s), TTFT (s) and busy seconds a request (s), shape (shapes, degrees).

    Raises
    ------
    ScaleplanError
        If a shape is not a shape, catalogue name or readable HF config.

    Examples
    --------
    >>> from scaleplan import Deployment
    >>> from scaleplan.systems.replicas import replicas
    >>> r = replicas(["llama-2-7b"], Deployment(tensor_parallel=1))
    >>> print(f"batch {r.batch_size[0, 0]:.0f}, TPOT {r.seconds_per_token[0, 0] * 1e3:.1f} ms")
    batch 390, TPOT 26.9 ms
    """
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
        # Whole and at least 1 where one sequence fits, NaN where none does.
        batch = decode(grid, context_tokens=context, **common).max_batch_size
    step = decode(grid, context_tokens=context, batch_size=batch,
                  target_seconds=dep.tpot_seconds, **common)  # fmt: skip
    # The prompt is read in whole tokens, as the context is: a mean of 0.7 tokens is a
    # one-token prefill (its TTFT counted), a mean under a half no prefill at all.
    prompt = round(dep.input_tokens)
    ttft = prompt_busy = np.zeros_like(step.seconds)
    if prompt >= 1:
        first = prefill(grid, prompt_tokens=prompt, **common)
        ttft = prompt_busy = first.seconds
        if dep.engine is not None and ENGINES[dep.engine].batching == "inflight":
            # An in-flight engine runs each prompt inside a decode step, whose weights
            # read and per-step overhead are paid already: the prompt adds its FLOPs.
            peak = dep.accelerator.peak(dep.precision)
            prompt_busy = first.flops / (peak * dep.efficiency.compute)
    if dep.ttft_seconds is not None:
        ttft = np.where(ttft <= dep.ttft_seconds, ttft, np.nan)
    busy = dep.output_tokens * step.seconds / step.batch_size + prompt_busy
    busy = np.where(np.isnan(ttft), np.nan, busy)  # a missed TTFT target: no option
    return Replicas(tp[0], step.batch_size, step.seconds, ttft, busy)


def context_tokens(input_tokens: float, output_tokens: float) -> int:
    """The whole-token context a request reaches, `round(input_tokens + output_tokens)`.

    Parameters
    ----------
    input_tokens, output_tokens : float
        A request's prompt and output lengths, tokens.

    Returns
    -------
    int
        The context, tokens.

    Raises
    ------
    ScaleplanError
        If the sum is not below 2**53 (blamed on `output_tokens`).

    Examples
    --------
    >>> from scaleplan.systems.replicas import context_tokens
    >>> context_tokens(70, 215.4)
    285
    """
    total = input_tokens + output_tokens
    if not total < 2**53:
        raise ScaleplanError(
            f"output_tokens: a request of input_tokens + output_tokens = {total:.3g} tokens is "
            "beyond any context (at most 2**53)",
            "output_tokens",
        )
    return round(total)
