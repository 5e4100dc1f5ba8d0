"""The plan in GPUs and days: the shape of a model of N parameters (a fixed policy), what
training it on D tokens takes on real GPUs, and how many GPUs serve a request rate within a
latency target, by the serving roofline (`serving.py`).

Training: weights, gradients and Adam state take 16 bytes a parameter, sharded evenly over
the GPUs (ZeRO-3/FSDP), and each GPU holds one micro-batch of the shape's `batch_size` x
`seq_len` tokens with activation checkpointing (every layer's input, plus one layer's
activations, 2 bytes each); the time is
`6 N D / (k peak MFU)`. Serving (how, a `Deployment` says): a replica is the deployment's
tensor-parallel group, or else the power-of-two group, among those that hold the full
context (prompt plus output) and meet the latency targets, that needs the fewest GPUs in
all; it decodes the largest batch meeting the TPOT target
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
    FRACTION,
    POSITIVE,
    answer,
    choice,
    instance,
    number,
    product,
    renamed,
    shown,
)
from .._utils.frames import Record
from ..arch.shapes import FIELDS, TransformerShape, resolve_shape, shape_for_params, step_counts
from ..errors import ScaleplanError
from ..hardware.accelerators import PRECISIONS, Accelerator, accelerator, hourly_price
from ..laws.flops import TRAINING_FLOPS_PER_PARAM
from .deployment import Deployment, deployment_of
from .serving import decode, prefill

__all__ = [
    "DEFAULT_TRAINING_DAYS",
    "SECONDS_PER_DAY",
    "TRAINING_BYTES_PER_PARAM",
    "TRAINING_OPTIONS",
    "PhysicalPlan",
    "Replicas",
    "ServingPlan",
    "TrainingPlan",
    "context_tokens",
    "physical_plan",
    "plan_options",
    "replicas",
    "serving_plan",
    "training_plan",
]

SECONDS_PER_DAY = 86_400.0
# Weights (2) + gradients (2) + fp32 master weights and Adam's two moments (12).
TRAINING_BYTES_PER_PARAM = 16.0
# Training is planned to finish within this many days when no GPU count is given.
DEFAULT_TRAINING_DAYS = 30.0


@dataclass(frozen=True, repr=False)
class TrainingPlan(Record):
    """`gpus` GPUs for `days` days; `min_gpus` is the fewest whose memory holds the
    sharded training state and a micro-batch's activations."""

    gpu: str
    gpus: int
    min_gpus: int
    days: float
    memory_bytes_per_gpu: float
    dollars: float


@dataclass(frozen=True, repr=False)
class ServingPlan(Record):
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


@dataclass(frozen=True, repr=False)
class PhysicalPlan(Record):
    shape: TransformerShape
    params: float
    tokens: float
    training: TrainingPlan
    serving: ServingPlan

    @property
    def total_dollars(self) -> float:
        return self.training.dollars + self.serving.dollars


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
    shape = instance("shape", resolve_shape(shape), TransformerShape, "a TransformerShape")
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


@dataclass(frozen=True)
class Replicas:
    """Serving options of each shape (rows) at each tensor-parallel degree in
    `tensor_parallel` (columns): the decode batch meeting the TPOT target, its TPOT, the
    TTFT of one prompt, and the seconds one request occupies a replica,
    `output x TPOT / batch + TTFT`. NaN where the group cannot hold the model and its KV
    cache, does not divide its heads, or misses a latency target."""

    tensor_parallel: Any
    batch_size: Any
    seconds_per_token: Any
    ttft_seconds: Any
    busy_seconds: Any


def replicas(shapes: Sequence[TransformerShape], deployment: Deployment) -> Replicas:
    """`Replicas` of every shape on the deployment's GPU at each of its `degrees`, in one
    vectorised roofline call per phase.

    Without a TPOT target a replica decodes the largest batch its memory holds: the seconds
    a request occupies it, `output x TPOT(b) / b`, only fall as the batch grows (weights
    are read once a step however many sequences share it)."""
    dep = deployment
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


def serving_plan(
    shape: TransformerShape,
    deployment: Deployment | str | Accelerator | None = None,
    *,
    requests_per_day: float,
    days: float,
    **changes: Any,
) -> ServingPlan:
    """GPUs and dollars to serve `requests_per_day` for `days` as `deployment` says (a
    `Deployment`; a GPU name for the default one on that GPU; `changes` are its fields as
    keywords): within its TPOT target (None: no target, the largest batch memory allows)
    and TTFT target if any, at its tensor-parallel degree, or the power of two that needs
    the fewest GPUs in all."""
    shape = instance("shape", resolve_shape(shape), TransformerShape, "a TransformerShape")
    dep = deployment_of(deployment, changes)
    requests_per_day = number("requests_per_day", requests_per_day, POSITIVE)
    days = number("days", days, POSITIVE)
    price = dep.hourly_price
    r = replicas([shape], dep)
    peak_rate = product(
        "peak_rate",
        requests_per_day=requests_per_day,
        peak_to_average=dep.peak_to_average,
        per_second=1.0 / SECONDS_PER_DAY,
    )
    busy = r.busy_seconds[0]
    if np.all(np.isnan(busy)):
        raise _unservable(shape, dep)
    tps = r.tensor_parallel
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
                        output_tokens=dep.output_tokens)  # fmt: skip
    per_million = answer("dollars_per_million_output_tokens", dollars / generated * 1e6,
                         blame="requests_per_day")  # fmt: skip
    return ServingPlan(dep.accelerator.name, tp, float(r.batch_size[0, k]),
                       float(r.seconds_per_token[0, k]), float(r.ttft_seconds[0, k]),
                       total // tp, total, dollars, per_million)  # fmt: skip


def _unservable(shape: TransformerShape, dep: Deployment) -> ScaleplanError:
    """Why no replica serves `shape`: memory, the latency targets, or a fixed degree."""
    tpot = "" if dep.tpot_seconds is None else f"tpot_seconds <= {dep.tpot_seconds:.3g}"
    ttft = "" if dep.ttft_seconds is None else f"ttft_seconds <= {dep.ttft_seconds:.3g}"
    targets = ", ".join(t for t in (tpot, ttft) if t) or "no latency target"
    n = float(step_counts(shape).params)
    context = dep.input_tokens + dep.output_tokens
    return ScaleplanError(
        f"no {dep.groups} {dep.accelerator.name}s holds this model (params={n:.3g}) with a "
        f"{context:.3g}-token context (input_tokens + output_tokens) and meets the latency "
        f"targets ({targets})"
        + ("" if dep.tensor_parallel is None else " (the degree must divide the heads)"),
        "tpot_seconds" if dep.tpot_seconds is not None else "shape",
    )


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


def physical_plan(
    params: float,
    tokens: float,
    *,
    shape: TransformerShape | None = None,
    deployment: Deployment | str | Accelerator | None = None,
    requests_per_day: float,
    days: float,
    **options: Any,
) -> PhysicalPlan:
    """`shape` (default: the policy's for `params`, `shape_for_params`), its training on
    `tokens` and its serving by `serving_plan` as `deployment` says. `options` are
    `training_plan`'s, prefixed `train_` (`train_gpu`, `train_gpus`, `train_precision`,
    `train_mfu`, `train_price_per_hour`), and the deployment's fields as keywords."""
    train, changes = plan_options(options)
    dep = deployment_of(deployment, changes)
    params, tokens = number("params", params), number("tokens", tokens)
    derived = shape is None
    shape = shape_for_params(params) if shape is None else resolve_shape(shape)
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
        serving=serving_plan(shape, dep, requests_per_day=requests_per_day, days=days),
    )


# `training_plan`'s options, as `physical_plan` takes them (prefixed `train_`).
TRAINING_OPTIONS = ("gpu", "gpus", "precision", "mfu", "price_per_hour")


def plan_options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`physical_plan`'s keywords split into `training_plan`'s (prefix removed) and the
    deployment's changes; a `train_` keyword training does not take is a TypeError here,
    not two calls deeper."""
    train = {k[len("train_") :]: v for k, v in options.items() if k.startswith("train_")}
    unknown = sorted(set(train) - set(TRAINING_OPTIONS))
    if unknown:
        raise TypeError(f"'train_{unknown[0]}' is not a training option; physical_plan takes "
                        f"{', '.join('train_' + k for k in TRAINING_OPTIONS)}")  # fmt: skip
    return train, {k: v for k, v in options.items() if not k.startswith("train_")}


def _training_plan_prefixed(
    shape: TransformerShape, tokens: float, gpu: Any, options: dict[str, Any]
) -> TrainingPlan:
    """`training_plan`, its errors named as `physical_plan`'s caller typed them."""
    with renamed(**{k: f"train_{k}" for k in TRAINING_OPTIONS}):
        return training_plan(shape, tokens, gpu, **options)
