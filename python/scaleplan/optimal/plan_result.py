"""What `plan` gives (`optimal/plan.py`): a `Plan`, its recommendation first, the
`Comparison` of each alternative under the same prices, and each `Assumption` with its
unit. The text, HTML and plain-data forms are written by the private `_plan_text` and
reached through `Plan`'s methods."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .._utils.frames import Record, short_repr
from ..systems.physical import PhysicalPlan
from ._plan_text import plan_dict, plan_html, plan_repr, plan_summary

__all__ = ["Assumption", "Comparison", "Plan"]


class Assumption(NamedTuple):
    """An input that moved the answer, with its unit.

    `Plan.assumptions` maps each input's name to one.

    Attributes
    ----------
    value : float or str or None
        The input as the plan used it (None: the plan chose, as the unit says).
    unit : str
        Its unit, e.g. "requests/day", "$/GPU-hour" ("" for a name or a format).

    Examples
    --------
    >>> a = Assumption(1.5, "$/GPU-hour")
    >>> print(f"{a.value} {a.unit}")
    1.5 $/GPU-hour
    >>> value, unit = a
    """

    value: Any
    unit: str


@dataclass(frozen=True, repr=False)
class Comparison(Record):
    """One model of the given quality, built and priced as the recommendation is.

    `Plan.alternatives` holds one per alternative (Chinchilla-style, compute-optimal,
    the paper's constant-MFU cost optimum) and `Plan.recommended` the recommendation's.
    Its dollars by the roofline (`training_dollars`, `serving_dollars`, `total_dollars`,
    US dollars) are those of `plan`; the derived `tokens_per_param` is `D / N` and
    `total_flops` the sum of the FLOPs.

    Parameters
    ----------
    label : str
        The model's name in the tables, e.g. "Chinchilla-style".
    params : float
        Parameters N (count) as its optimiser gives them.
    tokens : float
        Training tokens D as its optimiser gives them.
    plan : PhysicalPlan
        That model built (the policy's shape for N, trained on the tokens reaching the
        loss at the shape's exact parameter count) on whole GPUs, priced by the roofline.
    training_flops : float
        `6 N D`, in FLOPs.
    inference_flops : float
        `2 N` per served token, times the lifetime tokens, in FLOPs.
    paper_training_dollars, paper_inference_dollars : float
        The same (N, D) under the paper's constant-MFU cost model (Sardana et al. 2024),
        in US dollars, for reproducing it; not comparable with the roofline's.

    Examples
    --------
    >>> import scaleplan as sp
    >>> p = sp.plan(as_good_as=7e9, requests_per_day=1e7, days=365)
    >>> c = p.alternatives["chinchilla_style"]
    >>> print(f"{c.label}: N = {c.params:.3g}, {c.tokens_per_param:.0f} tokens/param, "
    ...       f"${c.total_dollars / 1e3:.1f}k (paper's model ${c.paper_total_dollars / 1e3:.0f}k)")
    Chinchilla-style: N = 7e+09, 39 tokens/param, $69.6k (paper's model $572k)
    >>> c.plan.serving.gpus, c.plan.serving.gpu
    (4, 'a100-40gb')
    """

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

    Every dollar figure but the `paper_*` ones is the roofline's on whole GPUs, so the
    recommendation is compared like with like; `models` lists it first, then the
    alternatives. `summary()` is the text `scaleplan plan` prints, `to_dict()` its
    `--json`, `to_pandas()` one row per model.

    Parameters
    ----------
    recommendation : PhysicalPlan
        The whole-GPU plan: shape, params, tokens, training GPUs x days, serving
        replicas, dollars (US dollars).
    cost_model : str
        The cost model of the recommendation and of every comparison's `*_dollars`, in
        one line.
    assumptions : Mapping[str, Assumption]
        Every input that moved the answer, name -> `Assumption(value, unit)`.
    alternatives : Mapping[str, Comparison]
        "chinchilla_style", "compute_optimal", "cost_optimal" -> `Comparison`, each under
        the recommendation's prices.
    loss : float
        The target loss, in nats/token.
    target : str
        How the target was set, in words.
    requests : float
        Lifetime requests (count).
    inference_tokens : float
        Lifetime tokens served.
    fluid : PhysicalOptimum or ConstrainedPhysicalOptimum
        The optimum in fractions of a replica that the recommendation rounds (the latter
        with `unique_tokens`).
    recommended : Comparison
        The recommendation as a `Comparison` (with its paper's dollars).
    experts : ExpertPlan or None
        With `plan(experts=...)`: the expert count chosen over the counts compared, its
        candidates and `saving` (None otherwise); `summary()` and `to_dict()["experts"]`
        say why it was chosen.

    Examples
    --------
    >>> import scaleplan as sp
    >>> p = sp.plan(as_good_as=7e9, requests_per_day=1e7, days=365)
    >>> r = p.recommendation
    >>> print(f"{r.params:.3g} params, {r.tokens:.3g} tokens, ${r.total_dollars / 1e3:.1f}k")
    4.59e+09 params, 4.49e+11 tokens, $52.3k
    >>> print(p.assumptions["train_price_per_hour"])
    Assumption(value=1.5, unit='$/GPU-hour')
    >>> text = p.summary()  # what `scaleplan plan` prints
    >>> print(text.splitlines()[0])
    Recommended: 4.59B parameters trained on 449B tokens, lifetime $52.3k (training $33.0k, ...
    >>> print(text[text.index("The recommendation saves"):].split(" It is")[0])
    The recommendation saves 24.8% against the Chinchilla-style model, 6.0% against the
    compute-optimal model and 42.0% against the cost-optimal model, in lifetime dollars by
    the roofline.
    >>> sorted(p.to_dict()["models"]) == sorted(p.models)
    True
    >>> p.to_pandas()[["name", "total_dollars"]].round(-2)
                   name  total_dollars
    0    recommendation        52300.0
    1  chinchilla_style        69600.0
    2   compute_optimal        55600.0
    3      cost_optimal        90200.0
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
    experts: Any = field(default=None, repr=False)

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
        if self.experts is not None:
            out |= {"experts.experts": self.experts.experts, "experts.saving": self.experts.saving,
                    "experts.total_dollars": self.experts.total_dollars}  # fmt: skip
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
