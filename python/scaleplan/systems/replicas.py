"""Serving options of each shape at each tensor-parallel degree a deployment allows, by the
serving roofline (`serving.py`) in one vectorised call per phase: what `serving_plan` and
`ServingCurve.roofline` choose among.
"""

from __future__ import annotations

import dataclasses
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
from .speculation import Speculation, speculative_decode

__all__ = ["Replicas", "context_tokens", "replicas"]


@dataclass(frozen=True, repr=False)
class Replicas(Tabular):
    """Serving options of each shape (rows) at each tensor-parallel degree in
    `tensor_parallel` (columns): what `replicas` returns.

    A request occupies a replica `busy_seconds = output_tokens x TPOT / batch + TTFT`; under
    an in-flight engine profile its prompt runs inside decode steps and adds only its
    FLOPs' time (`prefill FLOPs / (peak x compute)`) in place of the TTFT. Under
    speculative decoding the TPOT is the expected one (`speculation.speculative_decode`),
    a draft model prefills each prompt too, and its weights and cache share the memory; an
    option speculates only where that occupies a replica less.
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
    speculative : numpy.ndarray
        Whether the option decodes speculatively (the deployment's `speculation`, taken
        where it occupies a replica less than plain decoding), shape (shapes, degrees).

    Examples
    --------
    >>> from scaleplan import Deployment
    >>> from scaleplan.systems.replicas import replicas
    >>> r = replicas(["llama-2-70b"], Deployment("a100-80gb"))
    >>> for tp, b, busy in zip(r.tensor_parallel[:4], r.batch_size[0], r.busy_seconds[0]):
    ...     print(f"tp={tp:.0f}: batch {b:.0f}, {busy:.3f} s a request")
    tp=1: batch nan, nan s a request
    tp=2: batch nan, nan s a request
    tp=4: batch 71, 0.163 s a request
    tp=8: batch 216, 0.055 s a request
    """

    _INPUTS = ("tensor_parallel",)
    _OUTPUTS = ("batch_size", "seconds_per_token", "ttft_seconds", "busy_seconds",
                "speculative")  # fmt: skip

    tensor_parallel: Any
    batch_size: Any
    seconds_per_token: Any
    ttft_seconds: Any
    busy_seconds: Any
    speculative: Any


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
    batch 375, TPOT 33.0 ms
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
    plain = _option(grid, dep, common, None)
    speculative = np.zeros(plain[0].shape, dtype=bool)
    if dep.speculation is not None:
        # Each option is served with the draft where that occupies a replica less: at large
        # batches verifying drafted tokens costs compute the accepted ones do not repay.
        spec = _option(grid, dep, common, dep.speculation)
        speculative = np.isnan(plain[3]) & ~np.isnan(spec[3]) | (spec[3] < plain[3])
        plain = tuple(np.where(speculative, b, a) for a, b in zip(plain, spec, strict=True))
    batch, tpot, ttft, busy = plain
    return Replicas(tp[0], batch, tpot, ttft, busy, speculative)


def _option(
    grid: dict[str, Any], dep: Deployment, common: dict[str, Any], spec: Speculation | None
) -> tuple[Any, Any, Any, Any]:
    """Batch, TPOT, TTFT and busy seconds of every shape at every degree, with the draft
    `spec` or without one."""
    context = context_tokens(dep.input_tokens, dep.output_tokens)
    if spec is None:
        batch: Any = 1.0
        if dep.tpot_seconds is None:
            # Whole and at least 1 where one sequence fits, NaN where none does.
            batch = decode(grid, context_tokens=context, **common).max_batch_size
        step = decode(grid, context_tokens=context, batch_size=batch,
                      target_seconds=dep.tpot_seconds, **common)  # fmt: skip
        batch, tpot = step.batch_size, step.seconds
    else:
        batch, tpot = _speculative(grid, context, dep, spec)
    # The prompt is read in whole tokens, as the context is: a mean of 0.7 tokens is a
    # one-token prefill (its TTFT counted), a mean under a half no prefill at all.
    prompt = round(dep.input_tokens)
    ttft = prompt_busy = np.zeros_like(tpot)
    if prompt >= 1:
        first = prefill(grid, prompt_tokens=prompt, **common)
        ttft = prompt_busy = first.seconds
        flops = first.flops
        if spec is not None and not isinstance(spec.draft, str):
            # A draft model prefills the prompt as well, inside the same engine iteration.
            quiet = dataclasses.replace(dep.efficiency, overhead_seconds=0.0)
            draft = prefill(spec.draft, prompt_tokens=prompt, **{**common, "efficiency": quiet})
            ttft = prompt_busy = ttft + draft.seconds
            flops = flops + draft.flops
        if dep.engine is not None and ENGINES[dep.engine].batching == "inflight":
            # An in-flight engine runs each prompt inside a decode step, whose weights
            # read and per-step overhead are paid already: the prompt adds its FLOPs.
            peak = dep.accelerator.peak(dep.precision)
            prompt_busy = dep.efficiency.compute_seconds(flops, peak, dep.precision)
    if dep.ttft_seconds is not None:
        ttft = np.where(ttft <= dep.ttft_seconds, ttft, np.nan)
    busy = dep.output_tokens * tpot / batch + prompt_busy
    busy = np.where(np.isnan(ttft), np.nan, busy)  # a missed TTFT target: no option
    return batch, tpot, ttft, busy


def _speculative(
    grid: dict[str, Any], context: int, dep: Deployment, spec: Speculation
) -> tuple[Any, Any]:
    """Batch and expected TPOT of every shape at every degree under `spec`: one call per
    degree (a draft's weights on each GPU depend on it)."""
    columns = []
    for tp in dep.degrees:
        kwargs: dict[str, Any] = dict(gpu=dep.gpu, context_tokens=context,
                                      precision=dep.precision, kv_precision=dep.kv_precision,
                                      tensor_parallel=tp, efficiency=dep.efficiency,
                                      on_invalid="nan")  # fmt: skip
        if dep.tpot_seconds is None:
            most = speculative_decode(grid, spec, **kwargs).max_batch_size
            step = speculative_decode(grid, spec, batch_size=most, **kwargs)
        else:
            step = speculative_decode(grid, spec, target_seconds=dep.tpot_seconds,
                                      **kwargs)  # fmt: skip
        columns.append((step.batch_size[:, 0], step.seconds_per_token[:, 0]))
    batch = np.stack([c[0] for c in columns], axis=1)
    return batch, np.stack([c[1] for c in columns], axis=1)


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
