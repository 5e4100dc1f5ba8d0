"""The plan in GPUs and days: the shape of a model of N parameters (a fixed policy), what
training it on D tokens takes on real GPUs, and how many GPUs serve a request rate within a
latency target, by the serving roofline (`serving.py`).

Training: weights, gradients and Adam state take 16 bytes a parameter, sharded evenly over
the GPUs (ZeRO-3/FSDP), and each GPU holds one micro-batch of the shape's `batch_size` x
`seq_len` tokens with activation checkpointing (every layer's input, plus one layer's
activations, 2 bytes each); the time is
`6 N D / (k peak MFU)`. Serving: a replica is the power-of-two tensor-parallel group,
among those that hold the full context (prompt plus output) and meet the latency targets,
that needs the fewest GPUs in all; it decodes the largest batch meeting the TPOT target
and prefills each prompt on its own, so one request occupies it for
`output x TPOT / batch + TTFT` seconds; replicas are provisioned for the peak rate,
`peak_to_average` times the mean.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._utils.checks import (
    AT_LEAST_ONE,
    FRACTION,
    NON_NEGATIVE,
    POSITIVE,
    answer,
    choice,
    instance,
    number,
    optional,
    product,
    renamed,
    shown,
)
from ..arch.shapes import FIELDS, TransformerShape, shape_for_params, step_counts
from ..errors import ScaleplanError
from ..hardware.accelerators import PRECISIONS, Accelerator, accelerator
from ..hardware.cost_model import DEFAULT_INPUT_TOKENS, DEFAULT_OUTPUT_TOKENS
from ..laws.flops import TRAINING_FLOPS_PER_PARAM
from .serving import Efficiency, decode, prefill

__all__ = [
    "DEFAULT_PEAK_TO_AVERAGE",
    "DEFAULT_TPOT_SECONDS",
    "DEFAULT_TRAINING_DAYS",
    "MAX_TENSOR_PARALLEL",
    "SECONDS_PER_DAY",
    "TENSOR_PARALLEL",
    "TRAINING_BYTES_PER_PARAM",
    "PhysicalPlan",
    "Replicas",
    "ServingPlan",
    "TrainingPlan",
    "check_peak_to_average",
    "context_tokens",
    "hourly_price",
    "physical_plan",
    "replicas",
    "serving_plan",
    "serving_scalars",
    "training_plan",
]

SECONDS_PER_DAY = 86_400.0
# Weights (2) + gradients (2) + fp32 master weights and Adam's two moments (12).
TRAINING_BYTES_PER_PARAM = 16.0
# Training is planned to finish within this many days when no GPU count is given.
DEFAULT_TRAINING_DAYS = 30.0
MAX_TENSOR_PARALLEL = 64
# Serving defaults shared by every planner: a 50 ms TPOT target (a reading speed well above
# a person's) and capacity for twice the mean request rate.
DEFAULT_TPOT_SECONDS = 0.05
DEFAULT_PEAK_TO_AVERAGE = 2.0


@dataclass(frozen=True)
class TrainingPlan:
    """`gpus` GPUs for `days` days; `min_gpus` is the fewest whose memory holds the
    sharded training state and a micro-batch's activations."""

    gpu: str
    gpus: int
    min_gpus: int
    days: float
    memory_bytes_per_gpu: float
    dollars: float


@dataclass(frozen=True)
class ServingPlan:
    """Replicas of `tensor_parallel` GPUs decoding `batch_size` sequences within the TPOT
    target, enough for the peak request rate, for the whole serving life."""

    gpu: str
    tensor_parallel: int
    batch_size: float
    seconds_per_token: float
    ttft_seconds: float
    replicas: int
    gpus: int
    dollars: float
    dollars_per_million_output_tokens: float


@dataclass(frozen=True)
class PhysicalPlan:
    shape: TransformerShape
    params: float
    tokens: float
    training: TrainingPlan
    serving: ServingPlan

    @property
    def total_dollars(self) -> float:
        return self.training.dollars + self.serving.dollars


def hourly_price(gpu: Accelerator, price: float | None) -> float:
    """Dollars per GPU-hour: `price` if given (checked), else the catalogue's for `gpu`."""
    if price is not None:
        return number("price_per_hour", price, POSITIVE, unit="dollars")
    if gpu.price_per_hour is None:
        raise ScaleplanError(f"{gpu.name} has no catalogue price: give price_per_hour",
                             "price_per_hour")  # fmt: skip
    return float(gpu.price_per_hour)


def training_plan(
    shape: TransformerShape,
    tokens: float,
    gpu: str | Accelerator = "h100-sxm",
    *,
    gpus: int | None = None,
    precision: str = "bf16",
    mfu: float = 0.4,
    price_per_hour: float | None = None,
) -> TrainingPlan:
    """Memory, minimum GPU count, days and dollars of training `shape` on `tokens`."""
    instance("shape", shape, TransformerShape, "a TransformerShape")
    tokens = number("tokens", tokens, POSITIVE)
    acc = accelerator(gpu, argument="gpu")
    mfu = number("mfu", mfu, FRACTION)
    peak = acc.peak(choice("precision", precision, PRECISIONS))
    price = hourly_price(acc, price_per_hour)
    c = step_counts(shape)
    state = TRAINING_BYTES_PER_PARAM * float(c.params)
    # Activation checkpointing at every layer boundary, as large runs train: each layer's
    # input is kept and one layer's activations at a time are rebuilt in the backward pass
    # (the rebuild's FLOPs are not counted in the 6 N D of the MFU convention).
    micro_tokens = shape.batch_size * shape.seq_len
    kept = shape.n_layers * micro_tokens * shape.d_model
    activations = 2.0 * (kept + float(c.activation_elements) / shape.n_layers)
    room = 0.9 * acc.memory_bytes - activations
    if room <= 0:
        raise ScaleplanError(
            f"one micro-batch's activations ({activations / 1e9:.3g} GB) do not fit a "
            f"{acc.name}: lower the shape's batch_size or seq_len",
            "batch_size",
        )
    min_gpus = max(1, math.ceil(state / room))
    per_token = TRAINING_FLOPS_PER_PARAM * float(c.params)
    gpu_seconds = product("GPU-seconds", flops_per_token=per_token, tokens=tokens,
                          seconds_per_flop=1.0 / (peak * mfu))  # fmt: skip
    if gpus is None:
        gpus = max(min_gpus, math.ceil(gpu_seconds / (DEFAULT_TRAINING_DAYS * SECONDS_PER_DAY)))
        gpus = 8 * math.ceil(gpus / 8) if gpus > 8 else gpus
        if gpus > 2**53:
            raise ScaleplanError(f"tokens: training on {tokens:.3g} tokens within "
                                 f"{DEFAULT_TRAINING_DAYS:g} days needs more than 2**53 GPUs",
                                 "tokens")  # fmt: skip
    elif not (isinstance(gpus, (int, np.integer)) and not isinstance(gpus, (bool, np.bool_))
              and min_gpus <= gpus <= 2**53):  # fmt: skip
        raise ScaleplanError(
            f"gpus must be a whole number >= {min_gpus} (the training state does not fit fewer "
            f"{acc.name}s) and <= 2**53; got {shown(gpus)}",
            "gpus",
        )
    days = answer("days", gpu_seconds / int(gpus) / SECONDS_PER_DAY, blame="tokens")
    dollars = product("dollars", gpus=float(gpus), days=days, hours_per_day=24.0,
                      price_per_hour=price)  # fmt: skip
    return TrainingPlan(acc.name, int(gpus), min_gpus, days, state / int(gpus) + activations,
                        dollars)  # fmt: skip


# The tensor-parallel degrees a replica may use: powers of two up to MAX_TENSOR_PARALLEL.
TENSOR_PARALLEL = tuple(2**k for k in range(int(math.log2(MAX_TENSOR_PARALLEL)) + 1))


@dataclass(frozen=True)
class Replicas:
    """Serving options of each shape (rows) at each of `TENSOR_PARALLEL` (columns): the
    decode batch meeting the TPOT target, its TPOT, the TTFT of one prompt, and the
    seconds one request occupies a replica, `output x TPOT / batch + TTFT`. NaN where the
    group cannot hold the model and its KV cache or misses a latency target."""

    batch_size: Any
    seconds_per_token: Any
    ttft_seconds: Any
    busy_seconds: Any


def replicas(
    shapes: Sequence[TransformerShape],
    gpu: Accelerator,
    *,
    input_tokens: float,
    output_tokens: float,
    precision: str,
    tpot_seconds: float,
    ttft_seconds: float | None,
    efficiency: Efficiency | None,
) -> Replicas:
    """`Replicas` of every shape on `gpu`, in one vectorised roofline call per phase.

    Without a TPOT target a replica decodes the largest batch its memory holds: the seconds
    a request occupies it, `output x TPOT(b) / b`, only fall as the batch grows (weights
    are read once a step however many sequences share it)."""
    input_tokens, output_tokens, tpot_seconds, ttft_seconds = serving_scalars(
        input_tokens, output_tokens, tpot_seconds, ttft_seconds
    )
    grid = {f: np.array([float(getattr(s, f)) for s in shapes])[:, None] for f in FIELDS}
    tp = np.array(TENSOR_PARALLEL, dtype=float)[None, :]
    if gpu.link_bandwidth is None:
        tp = tp[:, :1]
    common: dict[str, Any] = dict(gpu=gpu, precision=precision, efficiency=efficiency,
                                  tensor_parallel=tp, on_invalid="nan")  # fmt: skip
    # A row is NaN where the group cannot hold the weights and one sequence's cache, or no
    # batch meets the TPOT target: the only row-dependent failures once the scalars passed.
    context, batch = context_tokens(input_tokens, output_tokens), 1.0
    if tpot_seconds is None:
        room = decode(grid, context_tokens=context, **common).max_batch_size
        batch = np.where(room >= 1, np.floor(room), np.nan)
    step = decode(grid, context_tokens=context, batch_size=batch, target_seconds=tpot_seconds,
                  **common)  # fmt: skip
    ttft = np.zeros_like(step.seconds)
    if input_tokens >= 1:
        ttft = prefill(grid, prompt_tokens=round(input_tokens), **common).seconds
    if ttft_seconds is not None:
        ttft = np.where(ttft <= ttft_seconds, ttft, np.nan)
    busy = output_tokens * step.seconds / step.batch_size + ttft
    return Replicas(step.batch_size, step.seconds, ttft, busy)


def serving_plan(
    shape: TransformerShape,
    gpu: str | Accelerator = "h100-sxm",
    *,
    requests_per_day: float,
    days: float,
    input_tokens: float = DEFAULT_INPUT_TOKENS,
    output_tokens: float = DEFAULT_OUTPUT_TOKENS,
    precision: str = "bf16",
    tpot_seconds: float = DEFAULT_TPOT_SECONDS,
    ttft_seconds: float | None = None,
    peak_to_average: float = DEFAULT_PEAK_TO_AVERAGE,
    efficiency: Efficiency | None = None,
    price_per_hour: float | None = None,
) -> ServingPlan:
    """GPUs and dollars to serve `requests_per_day` for `days` within `tpot_seconds` per
    output token (and `ttft_seconds` to the first, if given), at the power-of-two
    tensor-parallel degree that needs the fewest GPUs in all (`tpot_seconds=None`: no
    latency target, the largest batch memory allows)."""
    instance("shape", shape, TransformerShape, "a TransformerShape")
    acc = accelerator(gpu, argument="gpu")
    requests_per_day = number("requests_per_day", requests_per_day, POSITIVE)
    days = number("days", days, POSITIVE)
    peak_to_average = check_peak_to_average(peak_to_average)
    price = hourly_price(acc, price_per_hour)
    input_tokens, output_tokens, tpot_seconds, ttft_seconds = serving_scalars(
        input_tokens, output_tokens, tpot_seconds, ttft_seconds
    )
    r = replicas([shape], acc, input_tokens=input_tokens, output_tokens=output_tokens,
                 precision=precision, tpot_seconds=tpot_seconds, ttft_seconds=ttft_seconds,
                 efficiency=efficiency)  # fmt: skip
    peak_rate = product(
        "peak_rate",
        requests_per_day=requests_per_day,
        peak_to_average=peak_to_average,
        per_second=1.0 / SECONDS_PER_DAY,
    )
    busy = r.busy_seconds[0]
    if np.all(np.isnan(busy)):
        tpot = "" if tpot_seconds is None else f"tpot_seconds <= {tpot_seconds:.3g}"
        ttft = "" if ttft_seconds is None else f"ttft_seconds <= {ttft_seconds:.3g}"
        targets = ", ".join(t for t in (tpot, ttft) if t) or "no latency target"
        n = float(step_counts(shape).params)
        raise ScaleplanError(
            f"no tensor-parallel group of up to {MAX_TENSOR_PARALLEL} {acc.name}s holds this "
            f"model (params={n:.3g}) with a {input_tokens + output_tokens:.3g}-token context "
            f"(input_tokens + output_tokens) and meets the latency targets ({targets})",
            "tpot_seconds" if tpot_seconds is not None else "shape",
        )
    tps = np.array(TENSOR_PARALLEL[: busy.size], dtype=float)
    gpus = np.where(np.isnan(busy), np.inf, np.maximum(1, np.ceil(peak_rate * busy)) * tps)
    k = int(np.argmin(gpus))  # the smallest degree among equals
    if not gpus[k] <= 2**53:
        raise ScaleplanError(
            f"requests_per_day x peak_to_average needs more than 2**53 GPUs at peak "
            f"({peak_rate:.3g} requests/s)",
            "requests_per_day",
        )
    tp, total = int(tps[k]), int(gpus[k])
    dollars = product("dollars", gpus=float(total), days=days, hours_per_day=24.0,
                      price_per_hour=price)  # fmt: skip
    generated = product("output tokens", requests_per_day=requests_per_day, days=days,
                        output_tokens=output_tokens)  # fmt: skip
    per_million = answer("dollars_per_million_output_tokens", dollars / generated * 1e6,
                         blame="requests_per_day")  # fmt: skip
    return ServingPlan(acc.name, tp, float(r.batch_size[0, k]), float(r.seconds_per_token[0, k]),
                       float(r.ttft_seconds[0, k]), total // tp, total, dollars,
                       per_million)  # fmt: skip


def check_peak_to_average(value: float) -> float:
    return number("peak_to_average", value, AT_LEAST_ONE)


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


def serving_scalars(
    input_tokens: Any, output_tokens: Any, tpot_seconds: Any, ttft_seconds: Any
) -> tuple[float, float, float | None, float | None]:
    """The serving options every planner takes, checked once: request lengths in tokens
    (the prompt may be empty) and the latency targets in seconds (None: no target)."""
    return (
        number("input_tokens", input_tokens, NON_NEGATIVE),
        number("output_tokens", output_tokens, POSITIVE),
        optional("tpot_seconds", tpot_seconds, POSITIVE),
        optional("ttft_seconds", ttft_seconds, POSITIVE),
    )


def physical_plan(
    params: float, tokens: float, *, shape: TransformerShape | None = None, **options: Any
) -> PhysicalPlan:
    """`shape` (default: the policy's for `params`, `shape_for_params`), its training on
    `tokens` and its serving. `options` go to `training_plan` (prefixed `train_`:
    `train_gpu`, `train_gpus`, `train_precision`, `train_mfu`) and to `serving_plan`
    (the rest)."""
    params, tokens = number("params", params), number("tokens", tokens)
    derived = shape is None
    shape = shape_for_params(params) if shape is None else shape
    train = {k[len("train_") :]: options.pop(k) for k in list(options) if k.startswith("train_")}
    train_gpu = train.pop("gpu", "h100-sxm")
    try:
        training = _training_plan_prefixed(shape, tokens, train_gpu, train)
    except ScaleplanError as exc:
        if not derived or exc.argument not in ("batch_size", "seq_len", "shape"):
            raise
        # The caller gave params, not a shape: the fault is the size the policy shape has.
        raise ScaleplanError(
            f"params={params:.3g}: the policy's shape for it ({shape.n_layers} layers of "
            f"width {shape.d_model}, micro-batch {shape.batch_size} x {shape.seq_len}) "
            f"cannot train: {exc}; pass shape= to choose another",
            "params",
        ) from None
    return PhysicalPlan(
        shape=shape,
        params=float(step_counts(shape).params),
        tokens=tokens,
        training=training,
        serving=serving_plan(shape, **options),
    )


def _training_plan_prefixed(
    shape: TransformerShape, tokens: float, gpu: Any, options: dict[str, Any]
) -> TrainingPlan:
    """`training_plan`, its errors named as `physical_plan`'s caller typed them."""
    names = {k: f"train_{k}" for k in ("gpu", "gpus", "precision", "mfu", "price_per_hour")}
    with renamed(**names):
        return training_plan(shape, tokens, gpu, **options)
