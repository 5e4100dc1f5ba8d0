"""Latency of an in-flight engine under a steady request rate, by the serving roofline:
what the published online-serving rows (`serving_published`, mode `online_rate`) are
predicted with.

At `rate` requests/s, each of `input_tokens` in and `output_tokens` out, an engine that
batches in flight keeps `n` sequences decoding (Little's law, solved as a fixed point):

    n = max(1, rate (TTFT + (output_tokens - 1) step))
    step = decode(n) / (1 - rate t_prompt)       TTFT = 1.5 step + t_prompt

`decode(n)` is the roofline's decode step at batch `n` (linear between whole batches) and
the mean context of a request's life (`input + output / 2`); `t_prompt = prefill FLOPs /
(peak compute)` is one prompt's compute, which arriving prompts add to the steps they join
(`rate step` of them a step on average, the charge `replicas` makes under an in-flight
profile); a new request waits half a step for the running one to end, then runs a step
with its prompt in it. There is no answer (None) where the prompts alone would fill the
engine (`rate t_prompt >= 1`), `n` outgrows the memory, or the fixed point does not settle:
the engine is saturated and requests queue, which the measured rows outside this mode do.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .engines import default_efficiency
from .serving import decode, prefill

__all__ = ["online_latency"]

# Fixed-point iterations: each raises n by a factor below one of the last rise, so the
# unsaturated rows settle in a few dozen.
_ITERATIONS = 200


def online_latency(
    shape: Any,
    rate: float,
    input_tokens: float,
    output_tokens: float,
    peak: float,
    **step: Any,
) -> tuple[float, float] | None:
    """Mean (TTFT, TPOT), s, of `rate` requests/s on one replica (the module's docstring),
    or None where the engine saturates.

    Parameters
    ----------
    shape : TransformerShape or str
        The model.
    rate : float
        Requests completed per second by the replica.
    input_tokens, output_tokens : float
        A request's prompt and output, tokens.
    peak : float
        The GPU's dense peak at the weights' format, FLOP/s.
    **step
        The keywords of `serving.decode` other than the batch and the context (gpu,
        precision, tensor_parallel, efficiency).

    Returns
    -------
    tuple of float, or None

    Examples
    --------
    Llama-3.1-8B on one H100 at two requests a second (TensorRT-LLM 0.14 measured 23 ms
    and 8 ms):

    >>> from scaleplan.hardware.accelerators import accelerator
    >>> from scaleplan.systems.engines import ENGINES
    >>> eff = ENGINES["trtllm-2025"].efficiency
    >>> ttft, tpot = online_latency("llama-3-8b", 2.0, 467, 256,
    ...                             accelerator("h100-sxm").peak("bf16"), efficiency=eff)
    >>> print(f"TTFT {ttft * 1e3:.0f} ms, TPOT {tpot * 1e3:.1f} ms")
    TTFT 23 ms, TPOT 8.5 ms
    """
    context = input_tokens + output_tokens / 2.0
    first = prefill(shape, prompt_tokens=round(input_tokens), **step)
    eff = step.get("efficiency") or default_efficiency()
    prompt = eff.compute_seconds(float(first.flops), peak, step.get("precision", "bf16"))
    busy = rate * prompt  # the share of the engine's time arriving prompts take
    if not busy < 1.0:
        return None
    n = 1.0
    for _ in range(_ITERATIONS):
        per_step = _decode(shape, n, context, step) / (1.0 - busy)
        ttft = 1.5 * per_step + prompt
        # Fewer than one sequence on average decodes at batch 1's step.
        following = max(rate * (ttft + (output_tokens - 1.0) * per_step), 1.0)
        if not math.isfinite(following):
            return None  # the batch outgrew the memory
        if abs(following - n) <= 1e-9 * n:
            return ttft, per_step
        n = following
    return None


def _decode(shape: Any, n: float, context: float, step: dict[str, Any]) -> float:
    """The decode step at a fractional batch `n` (at least 1), linear between the whole
    batches around it; NaN where they do not fit."""
    low = math.floor(n)
    seconds = decode(shape, batch_size=np.array([low, low + 1.0]), context_tokens=context,
                     on_invalid="nan", **step).seconds  # fmt: skip
    return float(seconds[0] + (n - low) * (seconds[1] - seconds[0]))
