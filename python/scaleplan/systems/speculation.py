"""Speculative decoding on the serving roofline: a draft proposes tokens, the served model
verifies them in one decode step, and a sequence keeps the accepted ones.

Each step a draft proposes `g = draft_tokens` tokens for every sequence in `g` sequential
decode steps of its own; the served model then decodes `1 + g` positions a sequence at once
(`serving.decode(draft_tokens=g)`: `1 + g` times the FLOPs, the weights and the cache read
once). If each drafted token is accepted with probability `a` given the ones before it
were (the i.i.d. model of Leviathan et al. 2023, arXiv 2211.17192, eq. 1), a sequence
gains on average

    E = (1 - a^(g + 1)) / (1 - a)        (g + 1 at a = 1)

tokens a step, so `TPOT = (verify + g draft) / E`. The draft is

- "mtp": multi-token-prediction heads (DeepSeek-V3's MTP module, EAGLE): one transformer
  layer of the served model's shape that reuses its embedding and output head; a draft
  token costs a decode step of that one layer and the head, and memory holds the layer and
  its cache;
- a model (a catalogue name, a `TransformerShape` or an HF config) sharing the served
  model's vocabulary, on the same tensor-parallel group: its weights and cache take memory
  beside the served model's, and it prefills each prompt too.

Decisions the module makes, stated where they are made: draft steps pay no per-step
`overhead_seconds` (an engine runs drafting and verification as one iteration, whose
overhead the verification pays); every draft step is costed at the context the step starts
from; acceptance is one number, not a function of position or of the batch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._utils.arrays import check_on_invalid
from .._utils.checks import Span, instance, number, whole
from .._utils.frames import Record, Tabular
from ..arch.shapes import FIELDS, ShapeLike, TransformerShape, resolve_shape, shape_inputs
from ..errors import ScaleplanError
from ..hardware.accelerators import Accelerator, accelerator
from ..hardware.formats import KV_FORMATS, PRECISION_BYTES, default_kv_format
from .efficiency import Efficiency
from .engines import default_efficiency
from .serving import decode

__all__ = ["MTP", "Speculation", "SpeculativeStep", "speculative_decode", "tokens_per_step"]

# The draft made of multi-token-prediction heads on the served model itself.
MTP = "mtp"

# The most tokens one verification takes (the Rust core's MAX_DRAFT_TOKENS).
MAX_DRAFT_TOKENS = 64
# Batches `_largest_batch` tries a row in one round, at most; and the rows times batches a
# round may cost before it tries fewer (10k rows: bisection).
FAN = 32
FAN_ROWS = 4096
# An acceptance is a probability; 0 (every draft rejected) and 1 are both allowed.
PROBABILITY = Span(0.0, 1.0, low_closed=True, high_closed=True)


def tokens_per_step(acceptance: Any, draft_tokens: Any) -> Any:
    """Expected tokens a sequence gains per verification step, `(1 - a^(g+1)) / (1 - a)`
    (Leviathan et al. 2023, eq. 1), `g + 1` at `a = 1`.

    Parameters
    ----------
    acceptance : array_like
        Probability `a` that a drafted token is accepted, given the ones before it were.
    draft_tokens : array_like
        Tokens `g` drafted a step.

    Returns
    -------
    numpy.ndarray or float
        Tokens a step, in [1, g + 1].

    Examples
    --------
    >>> from scaleplan.systems.speculation import tokens_per_step
    >>> print(f"{tokens_per_step(0.8, 4):.4f}", tokens_per_step(1.0, 4), tokens_per_step(0.0, 4))
    3.3616 5.0 1.0
    """
    a, g = np.asarray(acceptance, dtype=float), np.asarray(draft_tokens, dtype=float)
    # The geometric series summed term by term near a = 1, where the closed form cancels.
    powers = a[..., None] ** np.arange(MAX_DRAFT_TOKENS + 1)
    gained = np.where(np.arange(MAX_DRAFT_TOKENS + 1) <= g[..., None], powers, 0.0).sum(-1)
    return float(gained) if gained.ndim == 0 else gained


@dataclass(frozen=True, repr=False)
class Speculation(Record):
    """Speculative decoding as a serving option: a draft, its length and its acceptance.

    Parameters
    ----------
    draft : str or TransformerShape, optional
        "mtp" (default): multi-token-prediction heads, one layer of the served model's
        shape on its embedding and head; or the draft model: a catalogue name, a
        `TransformerShape` or an HF config path, sharing the served model's vocabulary.
    draft_tokens : int, optional
        Tokens drafted for each sequence per verification, 1 to 64 (default 1).
    acceptance : float, optional
        Probability that a drafted token is accepted given the ones before it were, in
        [0, 1] (default 0.85: DeepSeek-V3's MTP module accepts its second token 85-90% of
        the time, DeepSeek-AI 2024, arXiv 2412.19437 §5.4.3). It depends on the draft,
        the data and the sampling; measure it on your traffic.

    Examples
    --------
    >>> from scaleplan.systems.speculation import Speculation
    >>> s = Speculation(draft_tokens=3, acceptance=0.7)
    >>> s.draft, f"{s.tokens_per_step:.3f}"
    ('mtp', '2.533')
    """

    draft: TransformerShape | str = MTP
    draft_tokens: int = 1
    acceptance: float = 0.85

    def __post_init__(self) -> None:
        if not (isinstance(self.draft, str) and self.draft == MTP):
            try:
                shape = resolve_shape(self.draft, "draft")
                instance("draft", shape, TransformerShape, "a TransformerShape")
                object.__setattr__(self, "draft", shape)
            except ScaleplanError as exc:
                raise ScaleplanError(f'{exc} (or "mtp": multi-token-prediction heads)',
                                     "draft") from None  # fmt: skip
        object.__setattr__(
            self, "draft_tokens", whole("draft_tokens", self.draft_tokens, 1, MAX_DRAFT_TOKENS)
        )
        object.__setattr__(self, "acceptance", number("acceptance", self.acceptance, PROBABILITY))

    @property
    def tokens_per_step(self) -> float:
        """Expected tokens a sequence gains per verification (`tokens_per_step`)."""
        return float(tokens_per_step(self.acceptance, self.draft_tokens))


@dataclass(frozen=True, repr=False)
class SpeculativeStep(Tabular):
    """Decode under speculative decoding: what `speculative_decode` returns.

    Parameters
    ----------
    batch_size : numpy.ndarray
        Sequences decoded together.
    seconds_per_token : numpy.ndarray
        Expected time per output token of a sequence (TPOT), `step_seconds /
        tokens_per_step`, s.
    step_seconds : numpy.ndarray
        One verification and the draft steps before it, s.
    draft_seconds : numpy.ndarray
        The `draft_tokens` draft steps of `step_seconds`, s.
    tokens_per_step : numpy.ndarray
        Expected tokens a sequence gains a step.
    tokens_per_second : numpy.ndarray
        Expected output tokens per second per GPU.
    max_batch_size : numpy.ndarray
        Most sequences whose caches (the served model's and the draft's) fit beside both
        models' weights.

    Examples
    --------
    >>> from scaleplan.systems.speculation import Speculation, speculative_decode
    >>> s = speculative_decode("llama-2-7b", Speculation("mtp", 2, 0.8), batch_size=[1, 64],
    ...                        context_tokens=1024)
    >>> print(s.seconds_per_token.round(4), s.tokens_per_step.round(3))
    [0.0034 0.0101] [2.44 2.44]
    """

    _INPUTS = ("batch_size",)
    _OUTPUTS = ("seconds_per_token", "step_seconds", "draft_seconds", "tokens_per_step",
                "tokens_per_second", "max_batch_size")  # fmt: skip

    batch_size: Any
    seconds_per_token: Any
    step_seconds: Any
    draft_seconds: Any
    tokens_per_step: Any
    tokens_per_second: Any
    max_batch_size: Any


def speculative_decode(
    shape: ShapeLike,
    speculation: Speculation,
    gpu: str | Accelerator = "h100-sxm",
    *,
    batch_size: Any = 1,
    context_tokens: Any = 0,
    precision: str = "bf16",
    kv_precision: str | None = None,
    tensor_parallel: int = 1,
    efficiency: Efficiency | None = None,
    target_seconds: float | None = None,
    on_invalid: str = "raise",
) -> SpeculativeStep:
    """Decode with a draft: `TPOT = (verify + draft_tokens x draft step) / E` (the module's
    docstring), each step on the serving roofline of `serving.decode`.

    Parameters
    ----------
    shape : ShapeLike
        The served model(s): a shape, a model name, a config path or a grid of fields.
    speculation : Speculation
        The draft, the tokens it proposes a step and their acceptance.
    gpu : str or Accelerator, optional
        The accelerator (default "h100-sxm").
    batch_size, context_tokens : array_like, optional
        Sequences decoded together (default 1) and the context each holds (default 0).
    precision, kv_precision : str, optional
        The formats of both models' weights and caches, as for `serving.decode`.
    tensor_parallel : int, optional
        GPUs of the group that serves both models (default 1).
    efficiency : Efficiency, optional
        The serving stack (default: the default engine profile's); draft steps pay no
        `overhead_seconds`.
    target_seconds : float, optional
        A TPOT to meet, s: the batch is then the largest meeting it (`batch_size` ignored).
    on_invalid : {"raise", "nan"}, optional
        What an input without an answer gives: a ScaleplanError (default) or NaN rows.

    Returns
    -------
    SpeculativeStep

    Raises
    ------
    ScaleplanError
        If an input is out of range, a draft model's vocabulary differs from the served
        model's, both models and the caches do not fit memory, or batch 1 misses
        `target_seconds` (with `on_invalid="raise"`).

    Examples
    --------
    Llama-2-70B on four H100s at batch 8: three MTP tokens accepted 70% of the time make
    the step 4% longer and give 2.5 tokens a sequence.

    >>> from scaleplan.systems.serving import decode
    >>> from scaleplan.systems.speculation import Speculation, speculative_decode
    >>> plain = decode("llama-2-70b", batch_size=8, context_tokens=2048, tensor_parallel=4)
    >>> spec = speculative_decode("llama-2-70b", Speculation(draft_tokens=3, acceptance=0.7),
    ...                           batch_size=8, context_tokens=2048, tensor_parallel=4)
    >>> print(f"TPOT {plain.seconds * 1e3:.1f} ms -> {spec.seconds_per_token * 1e3:.1f} ms")
    TPOT 26.2 ms -> 10.9 ms
    """
    instance("speculation", speculation, Speculation, "a Speculation")
    on_invalid = check_on_invalid(on_invalid)
    acc = accelerator(gpu, argument="gpu")
    eff = default_efficiency() if efficiency is None else efficiency
    tp = whole("tensor_parallel", tensor_parallel, 1, 1024)
    served = _fields(shape)
    draft = _draft_fields(served, speculation.draft)
    kv = default_kv_format(precision) if kv_precision is None else kv_precision
    kv_bytes = PRECISION_BYTES[kv] if kv in KV_FORMATS else np.nan  # checked by _step
    # A draft token: a decode step of the draft, its overhead paid by the verification.
    quiet = dataclasses.replace(eff, overhead_seconds=0.0)
    common: dict[str, Any] = dict(gpu=acc, precision=precision, kv_precision=kv_precision,
                                  tensor_parallel=tp, on_invalid=on_invalid)  # fmt: skip
    weights = decode(draft, efficiency=quiet, **common).bytes  # read a step, per GPU
    held = _held_weights(draft, weights, speculation.draft, precision, eff, tp)
    cache_bytes = _cache_elements(draft, tp) * kv_bytes
    gained = speculation.tokens_per_step

    def at(batch: Any, fan: bool = False) -> tuple[Any, Any, Any]:
        # fan: `batch` has one more trailing axis than the rest, several batches a row.
        x = (lambda v: np.asarray(v, dtype=float)[..., None]) if fan else (lambda v: v)
        own, other = ({f: x(v) for f, v in fields.items()} for fields in (served, draft))
        context = x(context_tokens)
        verify = decode(own, batch_size=batch, context_tokens=context, efficiency=eff,
                        draft_tokens=speculation.draft_tokens, draft_kv_bytes=x(cache_bytes),
                        draft_weight_bytes=x(held), **common)  # fmt: skip
        drafted = decode(other, batch_size=batch, context_tokens=context, efficiency=quiet,
                         **common).seconds  # fmt: skip
        return verify, speculation.draft_tokens * drafted, verify.max_batch_size

    if target_seconds is not None:
        batch_size = _largest_batch(at, target_seconds, gained, on_invalid)
    verify, drafted, most = at(batch_size)
    seconds = verify.seconds + drafted
    return SpeculativeStep(
        batch_size=verify.batch_size,
        seconds_per_token=seconds / gained,
        step_seconds=seconds,
        draft_seconds=drafted,
        tokens_per_step=np.where(np.isnan(seconds), np.nan, gained),
        tokens_per_second=verify.batch_size * gained / (seconds * tp),
        max_batch_size=most,
    )


def _cache_elements(draft: dict[str, Any], tp: Any) -> Any:
    """Elements a token of the draft's cache takes on one GPU, as the serving roofline
    counts them: keys and values of the group's share of the KV heads, or under latent
    attention the latent and rotary key, whole on every GPU."""
    layers, rank = draft["n_layers"], np.asarray(draft["kv_lora_rank"])
    heads = np.ceil(draft["n_kv_heads"] / tp) * (draft["head_dim"] + draft["v_head_dim"])
    return layers * np.where(rank > 0, rank + draft["rope_head_dim"], heads)


def _fields(shape: ShapeLike) -> dict[str, Any]:
    """The served shape(s) as a grid of fields, which `decode` takes and a draft copies."""
    grid, cols = shape_inputs(shape)
    return {f: c.reshape(grid) for f, c in zip(FIELDS, cols, strict=True)}


def _draft_fields(served: dict[str, Any], draft: TransformerShape | str) -> dict[str, Any]:
    """The draft's fields: one layer of each served shape (MTP heads, without the served
    model's biases and position tables), or the draft model's, whose vocabulary must be
    the served model's (it proposes token ids the served model scores)."""
    if isinstance(draft, str):
        ones = np.ones_like(served["n_layers"])
        # One layer, an MoE layer where the served model has any (DeepSeek-V3's MTP
        # module is one).
        moe = np.minimum(np.asarray(served["moe_layers"]), 1)
        return {**served, "n_layers": ones, "extra_params": 0 * ones, "moe_layers": moe}
    differs = np.asarray(served["vocab"]) != draft.vocab
    if np.any(differs):
        raise ScaleplanError(
            f"a draft model must share the served model's vocabulary; the draft has "
            f"{draft.vocab} tokens, the served model "
            f"{int(np.asarray(served['vocab'])[differs].flat[0])}",
            "draft",
        )
    return {f: float(getattr(draft, f)) for f in FIELDS}


def _held_weights(
    draft: dict[str, Any],
    read: Any,
    kind: TransformerShape | str,
    precision: str,
    eff: Efficiency,
    tp: int,
) -> Any:
    """Bytes of the draft's weights on each GPU, from the bytes a draft step reads: MTP
    heads hold their layer (the head and final norm they read are the served model's); a
    draft model holds what it reads and its input embedding (none when tied)."""
    edge = PRECISION_BYTES[precision] if eff.edge_bytes is None else eff.edge_bytes
    head = np.asarray(draft["vocab"], dtype=float) * draft["d_model"] * edge / tp
    if isinstance(kind, str):
        return read - head - np.asarray(draft["d_model"], dtype=float) * edge / tp
    return read + (0.0 if kind.tied else head)


def _largest_batch(at: Any, target: float, gained: float, on_invalid: str) -> Any:
    """The largest whole batch, at most the memory's, whose TPOT meets `target`, by a
    search over the integers that tries `fan` batches a row a round (TPOT grows with the
    batch: each step's time does and `gained` does not move); NaN where batch 1 misses
    it. A round shrinks the interval `fan + 1` times: up to `FAN` for a few rows (a batch
    of 10^5 in 4 rounds, each a Python call), down to bisection for many (fewer rows
    costed in all). Every `fan` finds the same batch."""
    target = number("target_seconds", target)
    one, drafted, most = at(1.0)
    meets = (one.seconds + drafted) / gained <= target
    if on_invalid == "raise" and not np.all(meets):
        raise ScaleplanError(
            "even a batch of one takes longer than the TPOT target with this draft on this "
            "hardware (raise the target or the tensor-parallel degree)",
            "target_seconds",
        )
    # lo meets the target; hi does not, or is one past the memory's largest batch.
    lo = np.where(meets, 1.0, np.nan)
    hi = np.where(meets, most + 1.0, np.nan)
    fan = int(np.clip(FAN_ROWS // max(lo.size, 1), 1, FAN))
    k = np.arange(1, fan + 1)
    while np.any(hi - lo > 1):
        open_ = (hi - lo > 1)[..., None]
        tried = np.floor(lo[..., None] + k * (hi - lo)[..., None] / (fan + 1))
        tried = np.where(open_, np.clip(tried, lo[..., None] + 1, hi[..., None] - 1), 1.0)
        verify, drafted, _ = at(tried, fan=True)
        ok = (verify.seconds + drafted) / gained <= target
        # NaN rows (batch 1 missed the target) stay NaN: np.maximum keeps a NaN.
        lo = np.maximum(lo, np.where(open_ & ok, tried, -np.inf).max(-1))
        hi = np.minimum(hi, np.where(open_ & ~ok, tried, np.inf).min(-1))
    return lo
