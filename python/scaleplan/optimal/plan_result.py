"""What `plan` gives (`optimal/plan.py`): a `Plan`, its recommendation first, the
`Comparison` of each alternative under the same prices, and each `Assumption` with its
unit. The text, HTML and plain-data forms are `plan_text`'s."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .._utils.frames import Record, short_repr
from ..systems.physical import PhysicalPlan
from .plan_text import plan_dict, plan_html, plan_repr, plan_summary

__all__ = ["Assumption", "Comparison", "Plan"]


class Assumption(NamedTuple):
    """An input that moved the answer, with its unit ("" for a name or a format)."""

    value: Any
    unit: str


@dataclass(frozen=True, repr=False)
class Comparison(Record):
    """One model of the given quality, built and priced as the recommendation is.

    `params`, `tokens`: the model as its optimiser gives it (N, D). `plan`: that model
    built (the policy's shape for N, trained on the tokens reaching the loss at the shape's
    exact parameter count) on whole GPUs, its dollars by the roofline: `training_dollars`,
    `serving_dollars`, `total_dollars` (US dollars). `paper_*_dollars`: the same (N, D)
    under the paper's constant-MFU cost model (Sardana et al. 2024), for reproducing it;
    not comparable with the roofline's. FLOPs: `6 N D` and `2 N` per served token."""

    label: str
    params: float
    tokens: float
    plan: PhysicalPlan
    training_flops: float
    inference_flops: float
    paper_training_dollars: float
    paper_inference_dollars: float

    @property
    def tokens_per_param(self) -> float:
        return self.tokens / self.params

    @property
    def total_flops(self) -> float:
        return self.training_flops + self.inference_flops

    @property
    def training_dollars(self) -> float:
        return self.plan.training.dollars

    @property
    def serving_dollars(self) -> float:
        return self.plan.serving.dollars

    @property
    def total_dollars(self) -> float:
        return self.plan.total_dollars

    @property
    def paper_total_dollars(self) -> float:
        return self.paper_training_dollars + self.paper_inference_dollars

    def record(self) -> dict[str, Any]:
        """Scalars by name: the model, its built plan (`plan.*`, the shape's fields under
        `plan.shape.*`), the roofline's dollars and the paper's."""
        shape = {f"plan.shape.{k}": v for k, v in vars(self.plan.shape).items()}
        derived = ("tokens_per_param", "total_flops", "training_dollars", "serving_dollars",
                   "total_dollars", "paper_total_dollars")  # fmt: skip
        return {**super().record(), **shape, **{k: getattr(self, k) for k in derived}}

    def __repr__(self) -> str:
        return short_repr("Comparison", {k: getattr(self, k) for k in (
            "label", "params", "tokens", "total_dollars", "paper_total_dollars")})  # fmt: skip


@dataclass(frozen=True, repr=False)
class Plan:
    """What `plan` gives: one recommendation, its cost model and assumptions, and the
    alternatives priced the same way.

    Attributes:
        recommendation: the whole-GPU plan (`PhysicalPlan`: shape, params, tokens,
            training GPUs x days, serving replicas, dollars).
        cost_model: the cost model of the recommendation and of every comparison's
            `*_dollars`, in one line.
        assumptions: every input that moved the answer, name -> `Assumption(value, unit)`.
        alternatives: "chinchilla_style", "compute_optimal", "cost_optimal" ->
            `Comparison`, each under the recommendation's prices.
        loss: the target loss (nats/token); `target`: how it was set, in words.
        requests: lifetime requests; `inference_tokens`: lifetime tokens served.
        fluid: the optimum in fractions of a replica (`PhysicalOptimum`, or with
            `unique_tokens` a `ConstrainedPhysicalOptimum`) the recommendation rounds.
        recommended: the recommendation as a `Comparison` (with its paper's dollars).
    """

    recommendation: PhysicalPlan
    cost_model: str
    assumptions: Mapping[str, Assumption]
    alternatives: Mapping[str, Comparison]
    loss: float
    target: str
    requests: float
    inference_tokens: float
    fluid: Any = field(repr=False)
    recommended: Comparison = field(repr=False)

    @property
    def models(self) -> dict[str, Comparison]:
        """Every model by key, the recommendation first (key "recommendation")."""
        return {"recommendation": self.recommended, **self.alternatives}

    def to_pandas(self) -> Any:
        """A DataFrame, one row per model (the recommendation first), `name` the key."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("this needs pandas: pip install 'scaleplan[frames]'",
                              name="pandas") from None  # fmt: skip
        return pd.DataFrame([{"name": k, **m.record()} for k, m in self.models.items()])

    def record(self) -> dict[str, Any]:
        """The plan as one flat record: the target and assumptions, then each model's
        scalars under `<name>.` (`recommendation.total_dollars`, ...)."""
        out: dict[str, Any] = {"loss": self.loss, "requests": self.requests,
                               "cost_model": self.cost_model}  # fmt: skip
        out |= {f"assumptions.{k}": a.value for k, a in self.assumptions.items()}
        for name, model in self.models.items():
            out |= {f"{name}.{k}": v for k, v in model.record().items()}
        return out

    def to_dict(self) -> dict[str, Any]:
        """The plan as plain JSON-able data (what `scaleplan plan --json` prints)."""
        return plan_dict(self)

    def summary(self) -> str:
        """The plan as text (what `scaleplan plan` prints): the recommendation, its cost
        model, the comparison table, then the paper's constant-MFU dollars on their own."""
        return plan_summary(self)

    def __repr__(self) -> str:
        return plan_repr(self)

    def _repr_html_(self) -> str:
        return plan_html(self)
