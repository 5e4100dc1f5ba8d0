"""Serving cost from the roofline of the real model (docs/design.md §1.7). One decode step
of `batch_size` sequences at `context_tokens` (or one prefill of prompts of
`prompt_tokens`) on a GPU or a tensor-parallel group takes

    max(FLOPs / (peak * compute), bytes / (bandwidth * memory)) + comm + overhead_seconds

seconds per GPU (`comm`: two all-reduces a layer, bytes over the links plus
`collective_seconds`), by the Rust core (`rust/core/src/systems/serving.rs` states every
term): weights read once a step for the whole batch, each sequence's KV cache
(`2 n_layers n_kv_heads head_dim` elements a token) once a step, and a group of
`tensor_parallel` GPUs splitting weights, heads and cache. Every argument broadcasts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _core
from .._utils.arrays import as_float, check_on_invalid, echoed, shaped
from .._utils.checks import choice, flag, instance
from .._utils.frames import Tabular
from .._utils.labels import labelled
from ..arch.shapes import FIELDS, ShapeLike
from ..errors import ScaleplanError
from ..hardware.accelerators import Accelerator, accelerator
from ..hardware.formats import KV_FORMATS, PRECISION_BYTES, default_kv_format
from ._serving_inputs import broadcast_columns, errors_named
from .efficiency import IDEAL, Efficiency
from .engines import default_efficiency

__all__ = ["IDEAL", "PHASES", "Efficiency", "ServingStep", "decode", "prefill"]

PHASES: tuple[str, ...] = tuple(_core.PHASES)


@dataclass(frozen=True, repr=False)
class ServingStep(Tabular):
    """One decode or prefill step, per GPU of the group: `seconds` is a decode's TPOT or a
    prefill's TTFT, `mfu` is `2 N tokens / (seconds * peak * tensor_parallel)`, `bound`
    which of compute and memory set the time. Floats for one step, arrays in the
    broadcast shape otherwise.

    Parameters
    ----------
    phase : str
        "decode" or "prefill".
    gpu, precision : str
        The accelerator and the weights' precision.
    batch_size : float or numpy.ndarray
        Sequences in the step (with a target, the largest that meets it).
    tokens : float or numpy.ndarray
        Context tokens (decode) or prompt tokens (prefill) per sequence.
    tensor_parallel : float or numpy.ndarray
        GPUs in the group.
    expert_parallel : float or numpy.ndarray
        GPUs the routed experts are split over.
    attention_data_parallel : bool
        Whether attention ran data parallel (then `batch_size` and `max_batch_size` are
        the group's, `1 / tensor_parallel` of them on each GPU).
    seconds : float or numpy.ndarray
        The step's wall clock, in seconds.
    tokens_per_second : float or numpy.ndarray
        Tokens produced (decode) or taken in (prefill) per second per GPU.
    mfu : float or numpy.ndarray
        Model FLOP utilisation, a fraction of dense peak.
    memory_bound : bool or numpy.ndarray
        Whether memory traffic set the step's time.
    flops, bytes : float or numpy.ndarray
        FLOPs and bytes moved per GPU in the step.
    comm_seconds : float or numpy.ndarray
        Seconds of the group's all-reduces (0 on one GPU).
    max_batch_size : float or numpy.ndarray
        The largest batch whose weights and cache fit memory.

    Examples
    --------
    >>> step = decode("llama-2-7b", batch_size=32, context_tokens=2048)
    >>> print(f"{step.seconds * 1e3:.2f} ms per token, {step.tokens_per_second:,.0f} "
    ...       f"tokens/s, {step.bound}-bound, MFU {step.mfu:.1%}, "
    ...       f"batch up to {step.max_batch_size:.0f}")
    23.14 ms per token, 1,383 tokens/s, memory-bound, MFU 1.9%, batch up to 52
    """

    _INPUTS = ("batch_size", "tokens", "tensor_parallel", "expert_parallel")
    _OUTPUTS = ("seconds", "tokens_per_second", "mfu", "memory_bound", "flops", "bytes",
                "comm_seconds", "max_batch_size")  # fmt: skip

    phase: str
    gpu: str
    precision: str
    batch_size: Any
    tokens: Any
    tensor_parallel: Any
    seconds: Any
    tokens_per_second: Any
    mfu: Any
    memory_bound: Any
    flops: Any
    bytes: Any
    comm_seconds: Any
    max_batch_size: Any
    expert_parallel: Any = 1.0
    attention_data_parallel: bool = False

    @property
    def bound(self) -> Any:
        """ "memory" or "compute": which set the step's time (an array of them for a grid;
        "" where a row has no answer).

        Examples
        --------
        >>> prefill("llama-2-7b", prompt_tokens=[8, 2048]).bound.tolist()
        ['memory', 'compute']
        """
        b = np.where(np.asarray(self.memory_bound), "memory", "compute")
        # A row without an answer (on_invalid="nan") is bound by nothing.
        b = np.where(np.isnan(np.asarray(self.seconds, dtype=float)), "", b)
        return str(b) if b.ndim == 0 else b


@labelled
def decode(
    shape: ShapeLike,
    gpu: str | Accelerator = "h100-sxm",
    *,
    batch_size: Any = 1,
    context_tokens: Any = 0,
    precision: str = "bf16",
    kv_precision: str | None = None,
    tensor_parallel: Any = 1,
    efficiency: Efficiency | None = None,
    target_seconds: Any = None,
    draft_tokens: Any = 0,
    draft_kv_bytes: Any = 0,
    draft_weight_bytes: Any = 0,
    expert_parallel: Any = 1,
    attention_data_parallel: bool = False,
    on_invalid: str = "raise",
) -> ServingStep:
    """One decode step: every sequence of the batch adds a token after `context_tokens`.

    `seconds = max(FLOPs / (peak * compute), bytes / (bandwidth * memory)) + comm +
    overhead_seconds` per GPU (the module's docstring), its time per output token (TPOT).
    With `target_seconds` the batch is the largest that meets it and fits memory
    (`batch_size` is then ignored). Every argument broadcasts.

    Parameters
    ----------
    shape : ShapeLike
        The model: a `TransformerShape`, a model name ("llama-2-7b") or a config path.
    gpu : str or Accelerator, optional
        The accelerator (default "h100-sxm").
    batch_size : array_like, optional
        Sequences decoded together (default 1).
    context_tokens : array_like, optional
        Tokens already in each sequence's KV cache (default 0).
    precision : str, optional
        The weights' number format (default "bf16"; any of `hardware.formats.FORMATS`:
        its bytes are read, its matmuls run at the peak of its compute precision).
    kv_precision : str, optional
        The KV cache's format (default: `formats.default_kv_format(precision)`).
    tensor_parallel : array_like, optional
        GPUs the model is split over (default 1).
    efficiency : Efficiency, optional
        The serving stack's fractions of peak and overheads (default: the default
        engine profile's, `engines.DEFAULT_ENGINE`).
    target_seconds : array_like, optional
        A TPOT to meet, in seconds: the batch is then the largest meeting it.
    draft_tokens : array_like, optional
        Drafted tokens a sequence, in [0, 64] (default 0): the step is then speculative
        decoding's verification of `1 + draft_tokens` positions a sequence, weights and
        cache read once; `tokens_per_second` counts positions verified
        (`speculation.speculative_decode` gives tokens accepted and the draft's cost).
    draft_kv_bytes, draft_weight_bytes : array_like, optional
        A draft model's cache bytes a token and weight bytes on each GPU (default 0).
    expert_parallel : array_like, optional
        GPUs of the group the routed experts are split over (default 1): a whole number
        dividing `tensor_parallel` and the shape's routed experts, 1 for a dense shape.
        Alone it costs what tensor parallelism does (uniform routing: the same bytes per
        GPU in expectation, the same all-reduce).
    attention_data_parallel : bool, optional
        Whether attention runs data parallel (default False): each GPU of the group holds
        all but the routed experts whole and `1 / tensor_parallel` of the sequences with
        their whole cache, and an MoE layer dispatches and combines its tokens by two
        all-to-alls; needs `expert_parallel == tensor_parallel` for a mixture of experts
        (a dense shape so served is `tensor_parallel` replicas). `batch_size` is the
        group's.
    on_invalid : {"raise", "nan"}, optional
        What an input without an answer gives: a ScaleplanError (default) or NaN in its row.

    Returns
    -------
    ServingStep

    Raises
    ------
    ScaleplanError
        If an input is out of range, the weights and cache do not fit memory, or batch 1
        misses `target_seconds` (with `on_invalid="raise"`).

    Examples
    --------
    >>> step = decode("llama-2-7b", batch_size=32, context_tokens=2048)
    >>> print(f"TPOT {step.seconds * 1e3:.2f} ms, {step.tokens_per_second:,.0f} tokens/s")
    TPOT 23.14 ms, 1,383 tokens/s
    >>> fast = decode("llama-2-7b", context_tokens=2048, target_seconds=0.015)
    >>> print(f"batch {fast.batch_size:.0f} meets 15 ms ({fast.seconds * 1e3:.2f} ms)")
    batch 15 meets 15 ms (14.84 ms)
    """
    layout = (expert_parallel, flag("attention_data_parallel", attention_data_parallel))
    with errors_named("context_tokens"):
        return _step("decode", shape, gpu, batch_size, context_tokens, precision, kv_precision,
                     tensor_parallel, efficiency, target_seconds, on_invalid,
                     (draft_tokens, draft_kv_bytes, draft_weight_bytes), layout)  # fmt: skip


@labelled
def prefill(
    shape: ShapeLike,
    gpu: str | Accelerator = "h100-sxm",
    *,
    prompt_tokens: Any,
    batch_size: Any = 1,
    precision: str = "bf16",
    kv_precision: str | None = None,
    tensor_parallel: Any = 1,
    efficiency: Efficiency | None = None,
    target_seconds: Any = None,
    expert_parallel: Any = 1,
    attention_data_parallel: bool = False,
    on_invalid: str = "raise",
) -> ServingStep:
    """One prefill of `batch_size` prompts of `prompt_tokens`: its `seconds` is the time to
    first token (TTFT).

    `seconds = max(FLOPs / (peak * compute), bytes / (bandwidth * memory)) + comm +
    overhead_seconds` per GPU (the module's docstring). With `target_seconds` the batch is
    the largest that meets it. Every argument broadcasts.

    Parameters
    ----------
    shape : ShapeLike
        The model: a `TransformerShape`, a model name ("llama-2-7b") or a config path.
    gpu : str or Accelerator, optional
        The accelerator (default "h100-sxm").
    prompt_tokens : array_like
        Tokens per prompt.
    batch_size : array_like, optional
        Prompts prefilled together (default 1).
    precision, kv_precision : str, optional
        The weights' and the KV cache's formats (default "bf16", and
        `formats.default_kv_format(precision)`), as for `decode`.
    tensor_parallel : array_like, optional
        GPUs the model is split over (default 1).
    efficiency : Efficiency, optional
        The serving stack's fractions of peak and overheads (default: the default
        engine profile's, `engines.DEFAULT_ENGINE`).
    target_seconds : array_like, optional
        A TTFT to meet, in seconds: the batch is then the largest meeting it.
    expert_parallel, attention_data_parallel : optional
        The group's layout, as for `decode` (default 1 and False).
    on_invalid : {"raise", "nan"}, optional
        What an input without an answer gives: a ScaleplanError (default) or NaN in its row.

    Returns
    -------
    ServingStep

    Raises
    ------
    ScaleplanError
        If an input is out of range, the weights and cache do not fit memory, or batch 1
        misses `target_seconds` (with `on_invalid="raise"`).

    Examples
    --------
    >>> step = prefill("llama-2-7b", prompt_tokens=1024, batch_size=4)
    >>> print(f"TTFT {step.seconds * 1e3:.1f} ms, {step.bound}-bound, MFU {step.mfu:.1%}")
    TTFT 86.9 ms, compute-bound, MFU 64.2%
    """
    layout = (expert_parallel, flag("attention_data_parallel", attention_data_parallel))
    with errors_named("prompt_tokens"):
        return _step("prefill", shape, gpu, batch_size, prompt_tokens, precision, kv_precision,
                     tensor_parallel, efficiency, target_seconds, on_invalid,
                     (0, 0, 0), layout)  # fmt: skip


def _bytes_of(name: str, precision: str) -> float:
    return PRECISION_BYTES[choice(name, precision, PRECISION_BYTES)]


def _step(
    phase: str,
    shapes: ShapeLike,
    gpu: str | Accelerator,
    batch_size: Any,
    tokens: Any,
    precision: str,
    kv_precision: str | None,
    tensor_parallel: Any,
    efficiency: Efficiency | None,
    target_seconds: Any,
    on_invalid: str,
    draft: tuple[Any, Any, Any],
    layout: tuple[Any, bool] = (1, False),
) -> ServingStep:
    """The step of `decode` or `prefill`; `draft` is `(draft_tokens, draft_kv_bytes,
    draft_weight_bytes)`: tokens verified beyond the new one, and a draft model's cache
    bytes a token and weight bytes on each GPU (`speculation.py`), which share memory;
    `layout` is `(expert_parallel, attention_data_parallel)`."""
    acc = accelerator(gpu, argument="gpu")
    eff = default_efficiency() if efficiency is None else efficiency
    instance("efficiency", eff, Efficiency, "an Efficiency or None")
    on_invalid = check_on_invalid(on_invalid)
    weight_bytes = _bytes_of("precision", precision)
    kv = default_kv_format(precision) if kv_precision is None else kv_precision
    kv_bytes = PRECISION_BYTES[choice("kv_precision", kv, KV_FORMATS)]
    peak = acc.peak(precision)
    tp = as_float("tensor_parallel", tensor_parallel)
    if acc.link_bandwidth is None and np.any(tp > 1):
        raise ScaleplanError(
            f"{acc.name} has no link_bandwidth, which tensor_parallel > 1 needs",
            "tensor_parallel",
        )
    shape, cols = broadcast_columns(shapes, batch_size, tokens, tp, target_seconds, draft,
                                    (layout[0], float(layout[1])))  # fmt: skip
    n_shape = len(FIELDS)
    constants = (weight_bytes, kv_bytes, peak, acc.memory_bandwidth, acc.memory_bytes,
                 (acc.link_bandwidth or 1.0) * eff.link, eff.compute_for(precision), eff.memory,
                 eff.overhead_seconds, eff.memory_fraction, eff.collective_seconds,
                 weight_bytes if eff.edge_bytes is None else eff.edge_bytes, eff.gemm_half_tokens,
                 eff.memory if eff.kv_memory is None else eff.kv_memory)  # fmt: skip
    # The runtime's reserve and a draft's weights: memory neither cache may take.
    reserve = np.asarray(eff.reserve_bytes + cols[n_shape + 5], dtype=float)
    load_cols = [*cols[n_shape : n_shape + 3], *(np.array([float(c)]) for c in constants),
                 reserve, *cols[n_shape + 3 : n_shape + 5], np.array([eff.kv_share]),
                 *cols[n_shape + 6 : n_shape + 8]]  # fmt: skip
    target = cols[n_shape + 8] if target_seconds is not None else None
    (s, f), (b, c), (mb, bt), (per_gpu, mfu), mem = _core.serving_step(
        phase, cols[:n_shape], load_cols, target_seconds=target, on_invalid=on_invalid,
        broadcast_shape=shape,
    )  # fmt: skip
    return ServingStep(
        phase=phase,
        gpu=acc.name,
        precision=precision,
        batch_size=shaped(bt, shape),
        tokens=echoed(cols[n_shape + 1], shape),
        tensor_parallel=echoed(cols[n_shape + 2], shape),
        seconds=shaped(s, shape),
        tokens_per_second=shaped(per_gpu, shape),
        mfu=shaped(mfu, shape),
        memory_bound=shaped(mem == 1.0, shape),
        flops=shaped(f, shape),
        bytes=shaped(b, shape),
        comm_seconds=shaped(c, shape),
        max_batch_size=shaped(mb, shape),
        expert_parallel=echoed(cols[n_shape + 6], shape),
        attention_data_parallel=bool(layout[1]),
    )
