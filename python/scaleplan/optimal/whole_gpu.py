"""The cheapest plan in whole GPUs near a fluid optimum (`physical_optimum.py`): every
policy shape near it, trained on the tokens that reach the loss and served in whole
replicas by `systems.physical.physical_plan`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._utils.checks import number
from ..arch.counts import step_counts
from ..arch.policy import MODEL_SIZES, shape_for_params
from ..errors import ScaleplanError
from ..hardware.accelerators import Accelerator
from ..laws.family import route
from ..laws.scaling import CHINCHILLA, ScalingLaw, resolve_law
from ..systems.deployment import Deployment, deployment_of
from ..systems.physical import PhysicalPlan, physical_plan
from ..systems.training import Training, accepts_01_keywords, training_of

__all__ = ["WHOLE_GPU_PER_OCTAVE", "WHOLE_GPU_SPAN", "tokens_at_loss", "whole_gpu_plan"]


def tokens_at_loss(loss: float, params: Any, law: Any, unique_tokens: float | None) -> Any:
    """Training tokens reaching `loss` at each of `params`: the iso-loss curve

        D(N) = (B / (loss - E - A N^-alpha))^(1/beta),

    or the data-constrained law's under `unique_tokens`.

    Parameters
    ----------
    loss : float
        Target loss, nats/token.
    params : float or array_like
        Parameters N, count, > 0.
    law : ScalingLaw, DataConstrainedLaw or str
        The law, or a preset name.
    unique_tokens : float or None
        A supply of unique training tokens, tokens (None: unlimited).

    Returns
    -------
    numpy.ndarray
        Training tokens D, tokens, in the shape of `params`; NaN where no number of
        tokens reaches `loss` (the model is too small: `E + A N^-alpha >= loss`).

    Examples
    --------
    >>> from scaleplan.optimal.whole_gpu import tokens_at_loss
    >>> d = tokens_at_loss(2.1, [1e8, 7e9], "chinchilla", None)
    >>> print(f"{d[0]} at 100M (too small), {d[1]:.3g} tokens at 7B")
    nan at 100M (too small), 4.27e+11 tokens at 7B
    """
    kernel, law, given = route("tokens_for_params", law, unique_tokens=unique_tokens)
    if kernel is not None:
        return kernel(loss, params, law=law, **given)
    # Array coefficients: a batch of laws (one a row of `params`) as well as one law.
    e, a, b, alpha, beta = (np.asarray(v, dtype=float) for v in resolve_law(law).coefficients)
    reducible = loss - e - a * np.asarray(params) ** -alpha
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(reducible > 0, (b / reducible) ** (1.0 / beta), np.nan)


# How far `whole_gpu_plan` looks around the fluid optimum, and how finely: 128 sizes an
# octave (0.5% apart) step through every policy shape, whose sizes differ by whole layers.
WHOLE_GPU_SPAN = 2.5
WHOLE_GPU_PER_OCTAVE = 128


@accepts_01_keywords(training=True)
def whole_gpu_plan(
    loss: float,
    params: float,
    *,
    law: ScalingLaw | str = CHINCHILLA,
    unique_tokens: float | None = None,
    deployment: Deployment | str | Accelerator | None = None,
    training: Training | str | Accelerator | None = None,
    requests_per_day: float,
    days: float,
) -> PhysicalPlan:
    """The cheapest plan in whole GPUs near a fluid optimum of `params` parameters.

    `physical_optimal` prices serving as a fraction of a replica; a real plan rounds
    replicas (and training GPUs) up, which at a few replicas moves the cost by tens of
    percent. This evaluates every distinct policy shape within a factor `WHOLE_GPU_SPAN` of
    `params`, each trained on the tokens that reach `loss` at its exact parameter count,
    `D(N) = (B / (loss - E - A N^-alpha))^(1/beta)`, by `physical.physical_plan`, and
    returns the cheapest (the smaller model on a tie). Shapes that cannot reach the loss
    or meet the latency targets are skipped.

    Parameters
    ----------
    loss : float
        Target loss, nats/token, above the law's floor.
    params : float
        The fluid optimum's parameters, count (`physical_optimal(...).params`).
    law : ScalingLaw or str
        The law giving the tokens; with `unique_tokens`, the data-constrained law's
        (`law` may then be a `DataConstrainedLaw`).
    unique_tokens : float or None
        A supply of unique training tokens, tokens (None: unlimited).
    deployment : Deployment, str, Accelerator or None
        How the model is served (see `physical.serving_plan`).
    training : Training, str, Accelerator or None
        How it is trained (see `physical.physical_plan`; None: `Training()`).
    requests_per_day : float
        Mean request rate, requests/day, > 0.
    days : float
        Serving life, days, > 0.

    Returns
    -------
    PhysicalPlan
        The cheapest plan by `total_dollars` (USD).

    Examples
    --------
    >>> from scaleplan import Training, whole_gpu_plan
    >>> plan = whole_gpu_plan(2.1, 3e9, training=Training(mfu=0.45),
    ...                       requests_per_day=1e6, days=365)
    >>> plan.serving.gpus, plan.training.gpu
    (1, 'h100-sxm')

    Until 0.3 the training options are also taken as `train_*` keywords and the
    deployment's fields as keywords, with a `DeprecationWarning`.
    """
    dep = deployment_of(deployment, {})
    how = training_of(training)
    demand = dict(requests_per_day=number("requests_per_day", requests_per_day),
                  days=number("days", days))  # fmt: skip
    loss, params = number("loss", loss), number("params", params, MODEL_SIZES)
    steps = math.ceil(math.log2(WHOLE_GPU_SPAN) * WHOLE_GPU_PER_OCTAVE)
    sizes = params * 2.0 ** (np.arange(-steps, steps + 1) / WHOLE_GPU_PER_OCTAVE)
    shapes = list(dict.fromkeys(shape_for_params(n) for n in sizes if 1e6 <= n <= 1e15))
    exact = np.asarray(step_counts(shapes).params, dtype=np.float64)  # one Rust call
    best: PhysicalPlan | None = None
    last: ScaleplanError | None = None
    tokens = tokens_at_loss(loss, exact, law, unique_tokens)
    for shape, n, d in zip(shapes, exact, tokens, strict=True):
        if not d >= 1:  # no whole token reaches the loss at this size (or none at all)
            continue
        try:
            plan = physical_plan(n, float(d), shape=shape, deployment=dep, training=how,
                                 **demand)  # fmt: skip
        except ScaleplanError as err:
            # A latency target it cannot meet, or a micro-batch its GPU cannot hold: the
            # policy shape is unplannable, and another size may do.
            if err.argument not in ("tpot_seconds", "batch_size", "seq_len"):
                raise
            last = err
            continue
        if best is None or plan.total_dollars < best.total_dollars:
            best = plan
    if best is None and last is not None and last.argument != "tpot_seconds":
        raise ScaleplanError(f"params={params:.3g}: no policy shape near it can train: {last}",
                             "params")  # fmt: skip
    if best is None:
        raise last or _unreached(loss, params, tokens)
    return best


def _unreached(loss: float, params: float, tokens: np.ndarray) -> ScaleplanError:
    """Why no shape was plannable when none failed to plan: every size either never
    reaches the loss (NaN tokens: too small, or the loss at or below the floor) or reaches
    it in under one token (a target looser than one token of training gives)."""
    near = f"no policy shape within a factor {WHOLE_GPU_SPAN:g} of params={params:.3g}"
    if np.any(tokens < 1):  # NaN compares False: only the finite, sub-token sizes
        return ScaleplanError(f"{near} needs a whole training token to reach loss={loss} "
                              "(those that reach it do in under one): lower the loss",
                              "loss")  # fmt: skip
    return ScaleplanError(f"{near} reaches loss={loss}: raise params, or the loss if it is "
                          "below the law's floor", "loss")  # fmt: skip
