"""One planning object: `plan(...)` gives a `Plan` that leads with one recommendation.

The recommendation is the optimum under the most physical cost model the package has: the
lifetime dollars with serving priced by the roofline on whole GPUs at a latency target
(`physical_optimal` in fractions of a replica, then the cheapest whole-GPU plan near it,
`whole_gpu_plan`). The other answers to the same question are carried as comparisons and
priced under the same prices: the Chinchilla-style model (the training-only optimum for the
loss), the compute-optimal one (lifetime FLOPs, `compute_optimal`) and the paper's
constant-MFU dollar optimum (`cost_optimal`). Each is built as the recommendation is: the
shape policy's shape for its size (`shape_for_params`), trained on the tokens that reach the
loss at that shape's exact parameter count (so every model is of the same quality), and
served on whole GPUs by the roofline. The constant-MFU dollars of the paper (Sardana et al.
2024) stay beside them under their own `paper_` names, never compared with the roofline's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._utils.checks import POSITIVE, instance, number, optional, product
from .._utils.text import si_number
from ..arch.counts import step_counts
from ..arch.policy import MODEL_SIZES, shape_for_params
from ..errors import ScaleplanError
from ..hardware.accelerators import Accelerator
from ..hardware.cost_model import CostModel
from ..hardware.formats import default_kv_format
from ..laws.closed_form import chinchilla_optimal
from ..laws.family import LawFamily
from ..laws.scaling import CHINCHILLA, ScalingLaw, resolve_law
from ..systems.deployment import Deployment, deployment_of
from ..systems.physical import PhysicalPlan, physical_plan
from ..systems.training import Training, training_of
from ._plan_experts import moe_inputs
from .costs import cost_optimal
from .expert_plan import expert_plan
from .lifetime import compute_optimal
from .lifetime_cost import lifetime_cost
from .physical_optimum import (
    CURVE_PARAMS,
    ServingCurve,
    physical_optimal,
    tokens_at_loss,
    whole_gpu_plan,
)
from .plan_result import Assumption, Comparison, Plan

__all__ = ["AS_GOOD_AS", "Assumption", "Comparison", "Plan", "plan"]

# The default quality target: as good as a Chinchilla-optimal model of this many parameters.
AS_GOOD_AS = 7e9
# The alternatives, in the order they are shown: key -> label.
_LABELS = {
    "chinchilla_style": "Chinchilla-style",
    "compute_optimal": "compute-optimal",
    "cost_optimal": "cost-optimal",
}


def _target(loss: Any, as_good_as: Any, law: Any) -> tuple[float, str]:
    """The loss to reach and how the plan describes it."""
    if loss is not None and as_good_as is not None:
        raise ScaleplanError("as_good_as: give loss or as_good_as, not both", "as_good_as")
    base = law.reduced()
    if loss is None:
        size = number("as_good_as", AS_GOOD_AS if as_good_as is None else as_good_as,
                      MODEL_SIZES, unit="parameters")  # fmt: skip
        loss = float(chinchilla_optimal(params=size, law=base).loss)
        return loss, f"as good as a Chinchilla-optimal {si_number(size)} model (loss {loss:.4f})"
    loss = number("loss", loss, POSITIVE, unit="nats/token")
    floor = float(base.E)
    if not loss > floor:
        raise ScaleplanError(f"loss must be finite and greater than the law's irreducible loss "
                             f"E = {floor:g}; got {loss!r}", "loss")  # fmt: skip
    return loss, f"loss {loss:.4f}"


def _deployment(deployment: Any, input_tokens: Any, output_tokens: Any) -> Deployment:
    """The serving deployment: the one given, or an A100-40GB in int8 (the paper's serving
    hardware) when none is; a GPU name gets `Deployment`'s defaults on that GPU."""
    if deployment is None:
        deployment = Deployment(gpu="a100-40gb", precision="int8")
    changes = {k: v for k, v in (("input_tokens", input_tokens),
                                 ("output_tokens", output_tokens)) if v is not None}  # fmt: skip
    return deployment_of(deployment, changes)


def _training(training: Training | str | Accelerator | None) -> Training:
    """How the plan trains: a `Training`, a GPU (`Training`'s defaults on it), or None for
    the plan's default, an A100-80GB in bf16 at 50% MFU (the paper's setting)."""
    if training is None:
        return Training(gpu="a100-80gb", precision="bf16", mfu=0.5)
    return training_of(training)


def _costs(train: Training, dep: Deployment, prefill_mfu: Any, decode_mfu: Any) -> CostModel:
    """The paper's cost model at the plan's prices: its training hardware and the
    deployment's GPU, format and hourly price; constant MFUs for prefill and decode."""
    return CostModel(train_gpu=train.accelerator, inference_gpu=dep.accelerator,
                     train_precision=train.precision, inference_precision=dep.precision,
                     train_price_per_hour=train.hourly_price,
                     inference_price_per_hour=dep.hourly_price, train_mfu=train.mfu,
                     prefill_mfu=prefill_mfu, decode_mfu=decode_mfu)  # fmt: skip


def plan(
    loss: float | None = None,
    *,
    as_good_as: float | None = None,
    law: ScalingLaw | str = CHINCHILLA,
    requests_per_day: float = 1e7,
    days: float = 365.0,
    input_tokens: float | None = None,
    output_tokens: float | None = None,
    deployment: Deployment | str | Accelerator | None = None,
    training: Training | str | Accelerator | None = None,
    prefill_mfu: float = 0.5,
    decode_mfu: float = 0.01,
    unique_tokens: float | None = None,
    experts: Any = None,
) -> Plan:
    """Size a model for its whole life: one recommendation and the alternatives.

    The recommendation minimises lifetime dollars, training plus serving, with serving
    priced by the roofline on whole GPUs at the deployment's latency target,
    `6 N D c_tr / MFU_tr + GPUs x days x 24 x price`, along the iso-loss curve
    `L(N, D) = loss`: `physical_optimal` gives the optimum in fractions of a replica, and
    `whole_gpu_plan` the cheapest whole-GPU plan among the shape policy's shapes within a
    factor 2.5 of it. The Chinchilla-style, compute-optimal and cost-optimal models are
    built and priced the same way (`Plan.alternatives`); should one of them come out
    cheaper (it lies outside that span), it is the recommendation instead, so that no
    alternative ever costs less than the recommendation under the same prices.

    Parameters
    ----------
    loss : float, optional
        Target pre-training loss, nats/token, above the law's irreducible loss E.
    as_good_as : float, optional
        Target the loss of a Chinchilla-optimal model of this many parameters (count).
        Give `loss` or `as_good_as`, not both; neither means `as_good_as=7e9`.
    law : ScalingLaw or str
        The loss law `L(N, D) = E + A N^-alpha + B D^-beta`, or a preset name.
    requests_per_day : float
        Mean inference requests per day, > 0.
    days : float
        Days the model serves, > 0. Lifetime requests are `requests_per_day x days`.
    input_tokens, output_tokens : float, optional
        Prompt and generated tokens per request (None: the deployment's, 70 and 215 by
        default, the LMSYS-Chat-1M means the paper uses).
    deployment : Deployment or str, optional
        How the model is served (GPU and price, formats, tensor-parallel degree, latency
        targets, peak over mean rate), or a GPU name for `Deployment`'s defaults on it.
        None: an A100-40GB in int8 at the catalogue price, TPOT <= 50 ms, sized for 2x
        the mean rate.
    training : Training or str, optional
        How the model is trained (GPU and price, number format, MFU, GPU count), or a GPU
        name for `Training`'s defaults on it. None: an A100-80GB in bf16 at 50% MFU at
        the catalogue price, on enough GPUs to finish within 30 days (a multiple of 8
        above 8).
    prefill_mfu, decode_mfu : float
        Constant MFUs of the paper's cost model, fractions in (0, 1]: they price the
        `paper_*` dollars and choose the cost-optimal alternative, nothing else.
    unique_tokens : float, optional
        Unique training tokens available (Muennighoff et al. 2023's data-constrained law;
        a plain law takes their R_D*, R_N*). Every model, alternatives included, is then
        trained to the loss under this supply.
    experts : "auto", int or sequence of int, optional
        Also choose the expert count (`expert_plan`), with `law` a mixture-of-experts law
        ("joint-moe" or a `JointMoELaw`): "auto" compares 1 to 32 experts, a count N
        compares N with the dense model. The recommendation and alternatives are then the
        dense models of the law's E = 1 limit, and `Plan.experts` holds the count chosen
        and why (`summary()` adds its table); with `unique_tokens` every count is trained
        under that supply.

    Returns
    -------
    Plan
        `recommendation` (a `PhysicalPlan`), `cost_model`, `assumptions`, `alternatives`;
        `summary()` is the text `scaleplan plan` prints, `to_pandas()` one row per model.

    Examples
    --------
    >>> import scaleplan as sp
    >>> p = sp.plan(as_good_as=7e9, requests_per_day=1e7, days=365)
    >>> print(p)  # doctest: +ELLIPSIS
    Plan: 4.59B params, 449B tokens (4096 x 25, 32/4), lifetime $52.3k
      training $33.0k (32 a100-80gb x 28.7 days), serving $19.3k (2 a100-40gb)
      roofline serving on whole GPUs at TPOT <= 50 ms, sized for 2x the mean rate; ...
      alternatives, same prices: Chinchilla-style $69.6k, compute-optimal $55.6k, ...
    >>> all(a.total_dollars >= p.recommendation.total_dollars
    ...     for a in p.alternatives.values())
    True
    >>> p.alternatives["cost_optimal"].paper_total_dollars < p.alternatives[
    ...     "compute_optimal"].paper_total_dollars      # the paper's own ranking
    True
    """
    moe, counts = moe_inputs(law, experts)
    law = law if moe is None else moe.at(1)
    s = _setting(loss, as_good_as, law, requests_per_day, days, unique_tokens,
                 _deployment(deployment, input_tokens, output_tokens),
                 _training(training),
                 prefill_mfu, decode_mfu)  # fmt: skip
    sizes = _sizes(s)
    fluid = _fluid(s, [n for n, _ in sizes.values()])  # refuses a target off the policy
    alternatives = {k: _compared(s, _LABELS[k], n, d) for k, (n, d) in sizes.items()}
    best = whole_gpu_plan(s.loss, float(fluid.params), law=s.law, unique_tokens=s.unique_tokens,
                          deployment=s.deployment, **s.demand, training=s.train)  # fmt: skip
    cheapest = min((a.plan for a in alternatives.values()), key=lambda p: p.total_dollars)
    if cheapest.total_dollars < best.total_dollars:
        best = cheapest  # an alternative outside the span whole_gpu_plan searches
    return Plan(
        recommendation=best,
        cost_model=_describe(s),
        assumptions=_assumptions(s),
        alternatives=alternatives,
        loss=s.loss,
        target=s.target,
        requests=s.requests,
        inference_tokens=s.inference_tokens,
        fluid=fluid,
        recommended=_compared(s, "recommended", best.params, best.tokens, best),
        experts=None
        if moe is None
        else expert_plan(
            s.loss,
            s.requests,
            deployment=s.deployment,
            costs=s.costs,
            law=moe,
            experts=counts,
            unique_tokens=s.unique_tokens,
        ),
    )


@dataclass(frozen=True)
class _Setting:
    """A plan's inputs, checked: the target, the law, the demand, the hardware."""

    loss: float
    target: str
    law: Any
    unique_tokens: float | None
    deployment: Deployment
    train: Training
    costs: CostModel  # the paper's constant-MFU model at the same prices
    demand: Mapping[str, float]  # requests_per_day, days
    requests: float
    inference_tokens: float


def _setting(loss: Any, as_good_as: Any, law: Any, requests_per_day: Any, days: Any,
             unique_tokens: Any, dep: Deployment, train: Training, prefill_mfu: Any,
             decode_mfu: Any) -> _Setting:  # fmt: skip
    """Every input checked, each error naming its argument."""
    law = resolve_law(law) if isinstance(law, str) else law
    instance("law", law, LawFamily, "a ScalingLaw, another law family or a preset name")
    loss, target = _target(loss, as_good_as, law)
    requests_per_day = number("requests_per_day", requests_per_day, POSITIVE, unit="requests")
    days = number("days", days, POSITIVE, unit="days")
    unique_tokens = optional("unique_tokens", unique_tokens, POSITIVE, unit="tokens")
    costs = _costs(train, dep, prefill_mfu, decode_mfu)
    requests = product("requests", requests_per_day=requests_per_day, days=days)
    tokens = product("inference_tokens", requests_per_day=requests_per_day, days=days,
                     output_tokens=dep.input_tokens + dep.output_tokens)  # fmt: skip
    demand = {"requests_per_day": requests_per_day, "days": days}
    return _Setting(loss, target, law, unique_tokens, dep, train, costs, demand, requests,
                    tokens)  # fmt: skip


def _compared(s: _Setting, label: str, n: float, d: float,
              built: PhysicalPlan | None = None) -> Comparison:  # fmt: skip
    """The model (N, D) built as the recommendation is (or `built`), with its FLOPs and
    the paper's constant-MFU dollars at (N, D)."""
    built = built or _built(s, n, d)
    dep = s.deployment
    paper = lifetime_cost(n, d, s.requests, dep.input_tokens, dep.output_tokens, costs=s.costs)
    return Comparison(label, n, d, built, float(paper.training_flops),
                      float(paper.prefill_flops + paper.decode_flops),
                      float(paper.training_dollars), float(paper.inference_dollars))  # fmt: skip


def _sizes(s: _Setting) -> dict[str, tuple[float, float]]:
    """(N, D) of the Chinchilla-style, compute-optimal and cost-optimal models; under a
    supply, the Chinchilla-style size is trained on the tokens reaching the loss with it."""
    loss, law, u = s.loss, s.law, s.unique_tokens
    chin = chinchilla_optimal(loss=loss, law=law.reduced())
    n_ch = float(chin.params)
    d_ch = float(chin.tokens) if u is None else _reaching(loss, n_ch, law, u)
    flops = compute_optimal(loss, s.inference_tokens, law=law, unique_tokens=u)
    dep = s.deployment
    dollars = cost_optimal(loss, s.requests, dep.input_tokens, dep.output_tokens, costs=s.costs,
                           law=law, unique_tokens=u)  # fmt: skip
    return {
        "chinchilla_style": (n_ch, d_ch),
        "compute_optimal": (float(flops.params), float(flops.tokens)),
        "cost_optimal": (float(dollars.params), float(dollars.tokens)),
    }


def _fluid(s: _Setting, sizes: list[float]) -> Any:
    """The optimum in fractions of a replica on the roofline curve, the curve's span
    widened to take in the alternatives' sizes with room (a factor 4 each way)."""
    lo = max(MODEL_SIZES.low, min((CURVE_PARAMS[0], *(n / 4 for n in sizes))))
    hi = min(MODEL_SIZES.high, max((CURVE_PARAMS[1], *(n * 4 for n in sizes))))
    curve = ServingCurve.roofline(s.deployment, params=(lo, hi))
    try:
        return physical_optimal(s.loss, s.requests, curve=curve, costs=s.costs, law=s.law,
                                unique_tokens=s.unique_tokens)  # fmt: skip
    except ScaleplanError as exc:
        if "serving curve" not in str(exc):
            raise
        # The curve ends where the largest model a group serves ends, often short of the
        # span asked for: the message gives both, so the reader sees which one bound it.
        served = (float(curve.params[0]), float(curve.params[-1]))
        raise ScaleplanError(
            f"loss: the physical optimum of this target lies outside {served[0]:.3g} to "
            f"{served[1]:.3g} parameters, the policy shapes this deployment serves (of "
            f"{lo:.3g} to {hi:.3g} searched)",
            "loss",
        ) from None


def _built(s: _Setting, n: float, d: float) -> PhysicalPlan:
    """The model of N parameters built: the policy's shape, trained on the tokens that
    reach the loss at its exact parameter count (the model's own D where the rounded
    shape cannot reach it), on whole GPUs."""
    if not MODEL_SIZES.admits(n):
        raise ScaleplanError(
            f"loss: a model of this quality has {n:.3g} parameters, outside the "
            f"{MODEL_SIZES.low:g} to {MODEL_SIZES.high:g} where the shape policy is defined",
            "loss",
        )
    shape = shape_for_params(n)
    exact = float(step_counts(shape).params)
    reach = _reaching(s.loss, exact, s.law, s.unique_tokens)
    tokens = reach if reach >= 1 else d
    return physical_plan(exact, tokens, shape=shape, deployment=s.deployment, **s.demand,
                         training=s.train)  # fmt: skip


def _reaching(loss: float, params: float, law: Any, u: float | None) -> float:
    """The training tokens reaching `loss` at `params` (NaN where none do)."""
    return float(np.ravel(tokens_at_loss(loss, np.array([params]), law, u))[0])


def _describe(s: _Setting) -> str:
    """The cost model in one line."""
    dep = s.deployment
    tpot = (
        "no TPOT target" if dep.tpot_seconds is None else f"TPOT <= {dep.tpot_seconds * 1e3:g} ms"
    )
    ttft = "" if dep.ttft_seconds is None else f", TTFT <= {dep.ttft_seconds * 1e3:g} ms"
    mfu = 100 * s.train.mfu
    return (f"roofline serving on whole GPUs at {tpot}{ttft}, sized for "
            f"{dep.peak_to_average:g}x the mean rate; training at {mfu:g}% MFU")  # fmt: skip


def _speculation_words(spec: Any) -> str | None:
    """A deployment's speculative decoding in words (None without it)."""
    if spec is None:
        return None
    draft = spec.draft if isinstance(spec.draft, str) else f"a {spec.draft.d_model}-wide draft"
    return f"{draft}, {spec.draft_tokens} tokens a step, acceptance {spec.acceptance:g}"


def _assumptions(s: _Setting) -> dict[str, Assumption]:
    """Every input that moved the answer, with its unit."""
    a, dep, train, costs = Assumption, s.deployment, s.train, s.costs
    return {
        "loss": a(s.loss, "nats/token"),
        "law": a(s.law.name, ""),
        "requests_per_day": a(s.demand["requests_per_day"], "requests/day"),
        "days": a(s.demand["days"], "days"),
        "input_tokens": a(dep.input_tokens, "tokens/request"),
        "output_tokens": a(dep.output_tokens, "tokens/request"),
        "serving_gpu": a(dep.accelerator.name, ""),
        "serving_precision": a(dep.precision, ""),
        "kv_precision": a(dep.kv_precision or default_kv_format(dep.precision), ""),
        "serving_price_per_hour": a(dep.hourly_price, "$/GPU-hour"),
        "engine": a(dep.engine or "custom Efficiency", "profile of systems.engines"),
        "speculation": a(_speculation_words(dep.speculation), "draft, tokens a step, acceptance"),
        "tensor_parallel": a(dep.tensor_parallel, "GPUs/replica (None: the cheapest)"),
        "tpot_seconds": a(dep.tpot_seconds, "s"),
        "ttft_seconds": a(dep.ttft_seconds, "s"),
        "peak_to_average": a(dep.peak_to_average, "x the mean rate"),
        "train_gpu": a(costs.train_gpu.name, ""),  # type: ignore[union-attr]
        "train_precision": a(train.precision, ""),
        "train_mfu": a(train.mfu, "fraction of peak"),
        "train_price_per_hour": a(train.hourly_price, "$/GPU-hour"),
        "train_gpus": a(train.gpus, "GPUs (None: within 30 days)"),
        "unique_tokens": a(s.unique_tokens, "tokens (None: unlimited)"),
        "prefill_mfu": a(costs.prefill_mfu, "fraction of peak (the paper's model only)"),
        "decode_mfu": a(costs.decode_mfu, "fraction of peak (the paper's model only)"),
    }
