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

from dataclasses import dataclass
from typing import cast

import numpy as np

from .._utils.checks import (
    POSITIVE,
    answer,
    instance,
    number,
    product,
    renamed,
)
from .._utils.frames import Record
from ..arch.counts import step_counts
from ..arch.policy import shape_for_params
from ..arch.shapes import TransformerShape, resolve_shape
from ..errors import ScaleplanError
from ..hardware.accelerators import Accelerator
from .deployment import Deployment, deployment_of
from .replicas import Replicas, context_tokens, replicas
from .training import (
    DEFAULT_TRAINING_DAYS,
    TRAINING_OPTIONS,
    Training,
    accepts_01_keywords,
    plan_options,
    training_of,
)
from .training_plan import SECONDS_PER_DAY, TRAINING_BYTES_PER_PARAM, TrainingPlan, training_plan

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


@dataclass(frozen=True, repr=False)
class ServingPlan(Record):
    """Replicas of `tensor_parallel` GPUs decoding `batch_size` sequences within the TPOT
    target, enough for the peak request rate, for the serving life (`serving_plan`).

    Parameters
    ----------
    gpu : str
        The GPU's catalogue name.
    tensor_parallel, replicas, gpus : int
        GPUs a replica, replicas for the peak rate, and GPUs in all, count.
    batch_size : float
        Sequences a replica decodes at once.
    seconds_per_token, ttft_seconds : float
        Time per output token and to the first token, s.
    dollars, dollars_per_million_output_tokens : float
        `gpus x 24 days x price_per_hour`, USD, and per million output tokens, USD.
    speculative : bool
        Whether the replicas decode with the deployment's draft (taken where it makes
        them cheaper; `seconds_per_token` is then the expected TPOT).

    Examples
    --------
    >>> from scaleplan.systems.physical import serving_plan
    >>> s = serving_plan("llama-2-7b", requests_per_day=1e7, days=365)
    >>> print(f"{s.replicas} x {s.tensor_parallel} GPU, batch {s.batch_size:.0f}, "
    ...       f"${s.dollars:,.0f}, ${s.dollars_per_million_output_tokens:.3f}/M tokens")
    5 x 1 GPU, batch 375, $117,822, $0.150/M tokens
    """

    gpu: str
    tensor_parallel: int
    batch_size: float
    seconds_per_token: float
    ttft_seconds: float
    replicas: int
    gpus: int
    dollars: float
    dollars_per_million_output_tokens: float
    speculative: bool = False


@dataclass(frozen=True, repr=False)
class PhysicalPlan(Record):
    """A model trained and served in whole GPUs (`physical_plan`, `whole_gpu_plan`);
    `total_dollars = training.dollars + serving.dollars`, USD.

    Parameters
    ----------
    shape : TransformerShape
        The model's shape.
    params, tokens : float
        Its exact parameter count N, count, and training tokens D, tokens.
    training, serving : TrainingPlan, ServingPlan
        GPUs, days and USD of each phase.

    Examples
    --------
    >>> from scaleplan.systems.physical import physical_plan
    >>> plan = physical_plan(7e9, 1.4e11, requests_per_day=1e6, days=365)
    >>> print(f"N = {plan.params:.3g}: ${plan.training.dollars:,.0f} training + "
    ...       f"${plan.serving.dollars:,.0f} serving = ${plan.total_dollars:,.0f}")
    N = 7.01e+09: $11,122 training + $23,564 serving = $34,687
    """

    shape: TransformerShape
    params: float
    tokens: float
    training: TrainingPlan
    serving: ServingPlan

    @property
    def total_dollars(self) -> float:
        """Lifetime US dollars: training plus serving."""
        return self.training.dollars + self.serving.dollars


@accepts_01_keywords(training=False)
def serving_plan(
    shape: TransformerShape | str,
    deployment: Deployment | str | Accelerator | None = None,
    *,
    requests_per_day: float,
    days: float,
) -> ServingPlan:
    """GPUs and dollars to serve `requests_per_day` for `days` as `deployment` says.

    Within its TPOT target (None: the largest batch memory allows) and TTFT target, at
    its tensor-parallel degree or the power of two needing the fewest GPUs; replicas are
    provisioned for `requests_per_day x peak_to_average / 86,400` requests/s, each busy
    `output_tokens x TPOT / batch + TTFT` seconds a request.

    Parameters
    ----------
    shape : TransformerShape or str
        The model: a shape, a catalogue name (`"llama-2-7b"`) or an HF `config.json`
        path (`arch.shapes.resolve_shape`).
    deployment : Deployment, str, Accelerator or None
        How it is served; a GPU (name or `Accelerator`) for the default deployment on
        it; None for `Deployment()` (H100 SXM, bf16, TPOT 50 ms, 70 + 215 tokens).
    requests_per_day : float
        Mean request rate, requests/day, > 0.
    days : float
        Serving life, days, > 0.

    Returns
    -------
    ServingPlan
        GPU, tensor-parallel degree, decode batch, TPOT (s), TTFT (s), replicas, GPUs,
        USD and USD per million output tokens.

    Examples
    --------
    >>> from scaleplan import Deployment
    >>> from scaleplan.systems.physical import serving_plan
    >>> plan = serving_plan("llama-2-7b", Deployment(tpot_seconds=0.03),
    ...                     requests_per_day=1e6, days=365)
    >>> plan.gpu, plan.gpus, plan.tensor_parallel
    ('h100-sxm', 1, 1)

    Until 0.3 the deployment's fields are also keywords, with a `DeprecationWarning`.
    """
    shape = cast(TransformerShape, instance("shape", resolve_shape(shape), TransformerShape,
                                            "a TransformerShape"))  # fmt: skip
    dep = deployment_of(deployment, {})
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
                       total // tp, total, dollars, per_million,
                       bool(r.speculative[0, k]))  # fmt: skip


def _unservable(shape: TransformerShape, dep: Deployment) -> ScaleplanError:
    """Why no replica serves `shape`: memory, the latency targets, or a fixed degree."""
    tpot = "" if dep.tpot_seconds is None else f"tpot_seconds <= {dep.tpot_seconds:.3g}"
    ttft = "" if dep.ttft_seconds is None else f"ttft_seconds <= {dep.ttft_seconds:.3g}"
    targets = ", ".join(t for t in (tpot, ttft) if t) or "no latency target"
    n = float(step_counts(shape).params)
    context = dep.input_tokens + dep.output_tokens
    # A fixed degree that does not split the heads evenly is the reason; one that does
    # (1 always does) is not worth a word.
    split = dep.tensor_parallel is None or shape.n_heads % dep.tensor_parallel == 0
    return ScaleplanError(
        f"no {dep.groups} {dep.accelerator.name}s holds this model (params={n:.3g}) with a "
        f"{context:.3g}-token context (input_tokens + output_tokens) and meets the latency "
        f"targets ({targets})" + ("" if split else " (the degree must divide the heads)"),
        "tpot_seconds" if dep.tpot_seconds is not None else "shape",
    )


@accepts_01_keywords(training=True)
def physical_plan(
    params: float,
    tokens: float,
    *,
    shape: TransformerShape | str | None = None,
    deployment: Deployment | str | Accelerator | None = None,
    training: Training | str | Accelerator | None = None,
    requests_per_day: float,
    days: float,
) -> PhysicalPlan:
    """A model of `params` parameters trained on `tokens` and served, in GPUs and dollars.

    Training by `training_plan` (`6 N D / (gpus x peak x mfu)` seconds on the training's
    GPUs), serving by `serving_plan` as `deployment` says.

    Parameters
    ----------
    params : float
        Parameters N, count, > 0; the shape is the policy's for it (`shape_for_params`)
        unless `shape` is given.
    tokens : float
        Training tokens D, tokens, > 0.
    shape : TransformerShape, str or None
        The model's shape, a catalogue name or an HF `config.json` path (None: the
        policy's for `params`).
    deployment : Deployment, str, Accelerator or None
        How it is served (see `serving_plan`).
    training : Training, str, Accelerator or None
        How it is trained: a `Training`, a GPU for the default training on it, or None
        for `Training()` (H100 SXM, bf16, MFU 0.4, enough GPUs to finish in 30 days).
        Errors about it name `training.<field>` (`training.gpus`).
    requests_per_day : float
        Mean request rate, requests/day, > 0.
    days : float
        Serving life, days, > 0.

    Returns
    -------
    PhysicalPlan
        The shape, its exact parameter count, the tokens, a `TrainingPlan` (GPUs, days,
        USD) and a `ServingPlan`; `total_dollars` is their sum (USD).

    Examples
    --------
    >>> from scaleplan import Training
    >>> from scaleplan.systems.physical import physical_plan
    >>> plan = physical_plan(7e9, 1.4e11, training=Training("a100-80gb", mfu=0.45),
    ...                      requests_per_day=1e6, days=365)
    >>> plan.training.gpu, plan.training.gpus
    ('a100-80gb', 24)

    Until 0.3 it also takes `train_*` and the deployment's fields as keywords, with a
    `DeprecationWarning` (`training.accepts_01_keywords`).
    """
    dep = deployment_of(deployment, {})
    how = training_of(training)
    params, tokens = number("params", params), number("tokens", tokens)
    derived = shape is None
    shape = shape_for_params(params) if shape is None else resolve_shape(shape)
    try:
        with renamed(**{k: f"training.{k}" for k in TRAINING_OPTIONS}):
            trained = training_plan(shape, tokens, how.accelerator, gpus=how.gpus,
                                    precision=how.precision, mfu=how.mfu,
                                    price_per_hour=how.price_per_hour)  # fmt: skip
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
        training=trained,
        serving=serving_plan(shape, dep, requests_per_day=requests_per_day, days=days),
    )
