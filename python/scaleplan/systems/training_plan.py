"""What training a model takes on real GPUs: the fewest GPUs whose memory holds the
training state, the GPU count that finishes within the default days, the days and the
dollars (`training_plan`, `TrainingPlan`; `physical.physical_plan` puts it beside serving).

Weights, gradients and Adam state take 16 bytes a parameter, sharded evenly over the GPUs
(ZeRO-3/FSDP), and each GPU holds one micro-batch of the shape's `batch_size` x `seq_len`
tokens with activation checkpointing (every layer's input, plus one layer's activations,
2 bytes each); the time is `6 N D / (k peak MFU)`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._utils.checks import FRACTION, POSITIVE, answer, choice, instance, number, product, shown
from .._utils.frames import Record
from ..arch.counts import step_counts
from ..arch.shapes import TransformerShape, resolve_shape
from ..errors import ScaleplanError
from ..hardware.accelerators import PRECISIONS, Accelerator, accelerator, hourly_price
from ..laws.flops import TRAINING_FLOPS_PER_PARAM
from .training import DEFAULT_TRAINING_DAYS

__all__ = ["SECONDS_PER_DAY", "TRAINING_BYTES_PER_PARAM", "TrainingPlan", "training_plan"]

SECONDS_PER_DAY = 86_400.0
# Weights (2) + gradients (2) + fp32 master weights and Adam's two moments (12).
TRAINING_BYTES_PER_PARAM = 16.0


@dataclass(frozen=True, repr=False)
class TrainingPlan(Record):
    """Training on `gpus` GPUs for `days` days: what `training_plan` returns.

    Parameters
    ----------
    gpu : str
        The GPU's catalogue name.
    gpus, min_gpus : int
        GPUs, and the fewest whose memory holds the state and a micro-batch, count.
    days, dollars : float
        `6 N D / (gpus x peak x mfu)`, days, and `gpus x 24 days x price_per_hour`, USD.
    memory_bytes_per_gpu : float
        Training state and activations on each GPU, bytes.

    Examples
    --------
    >>> from scaleplan.systems.physical import training_plan
    >>> t = training_plan("llama-2-7b", 2e12)  # 2T tokens on H100s within 30 days
    >>> print(f"{t.gpus} x {t.gpu} for {t.days:.1f} days, ${t.dollars:,.0f}")
    80 x h100-sxm for 29.6 days, $152,733
    """

    gpu: str
    gpus: int
    min_gpus: int
    days: float
    memory_bytes_per_gpu: float
    dollars: float


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
    """Memory, minimum GPU count, days and dollars of training `shape` on `tokens`:
    16 bytes a parameter sharded over the GPUs beside one micro-batch's checkpointed
    activations, in 90% of a GPU's memory, for `6 N D / (gpus x peak x mfu)` seconds.

    Parameters
    ----------
    shape : TransformerShape or str
        The model: a shape, a catalogue name or an HF `config.json` path.
    tokens : float
        Training tokens D, tokens, > 0.
    gpu, precision, mfu, price_per_hour
        As the fields of `Training` (USD per GPU-hour; mfu a fraction in (0, 1]).
    gpus : int or None
        GPUs, count, at least `min_gpus` (None: the fewest that finish within 30 days,
        rounded up to a multiple of 8 above 8).

    Returns
    -------
    TrainingPlan
        GPUs, days, bytes a GPU and USD.

    Raises
    ------
    ScaleplanError
        If a micro-batch's activations do not fit a GPU (`batch_size`), `gpus` is too
        few for the state, or an argument is out of range.

    Examples
    --------
    >>> from scaleplan.systems.physical import training_plan
    >>> t = training_plan("llama-2-7b", 2e12, "a100-80gb", gpus=512, mfu=0.5)
    >>> print(f"{t.days:.2f} days, ${t.dollars:,.0f}, {t.min_gpus} GPUs at least")
    11.72 days, $215,975, 2 GPUs at least
    """
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
    # FLOPs follow the parameters a token uses (a mixture of experts: its active ones);
    # memory above holds them all.
    per_token = TRAINING_FLOPS_PER_PARAM * float(c.active_params)
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
