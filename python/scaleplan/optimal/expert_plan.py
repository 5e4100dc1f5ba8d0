"""The lifetime optimum over expert counts in dollars under the MoE serving roofline: for
each count, the physical optimum of the joint MoE law on the roofline curve of that count's
mixture (`ServingCurve.roofline(experts=)`: every expert in memory, the experts a step's
tokens reach read), and the cheapest count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._utils.checks import NON_NEGATIVE, POSITIVE, number, optional
from .._utils.frames import Record
from ..arch.counts import step_counts
from ..arch.policy import moe_shape, shape_for_params
from ..errors import ScaleplanError
from ..hardware.cost_model import CostModel, default_costs, resolve_costs
from ..laws.moe import JOINT_MOE, JointMoELaw
from ..systems.deployment import Deployment
from .experts import EXPERT_COUNTS, expert_counts, resolve_moe_law
from .physical_optimum import physical_optimal
from .serving_curve import ServingCurve

__all__ = ["ExpertPlan", "expert_plan"]


@dataclass(frozen=True, repr=False)
class ExpertPlan(Record):
    """The cheapest expert count over a model's life, as `expert_plan` returns it.

    Parameters
    ----------
    experts : int
        The chosen count.
    params, total_params : float
        Its active and total parameters (count; the total by the policy shape's ratio of
        total to active parameters, `arch.policy.moe_shape`).
    tokens : float
        Training tokens.
    training_dollars, serving_dollars, total_dollars : float
        Lifetime US dollars.
    dense_total_dollars : float
        The dense optimum's (E = 1) lifetime dollars at the same loss and demand.
    candidates : dict of str to numpy.ndarray
        Per count compared: experts, params, total_params, tokens, training_dollars,
        serving_dollars, total_dollars (NaN where a count's curve does not reach).

    Examples
    --------
    >>> from scaleplan.optimal.expert_plan import expert_plan
    >>> p = expert_plan(2.3, 1e10, experts=[1, 8])
    >>> p.experts, p.total_dollars <= p.dense_total_dollars
    (8, True)
    """

    experts: int
    params: float
    total_params: float
    tokens: float
    training_dollars: float
    serving_dollars: float
    total_dollars: float
    dense_total_dollars: float
    candidates: dict[str, Any]

    @property
    def saving(self) -> float:
        """`1 - total_dollars / dense_total_dollars`: what the experts save over dense."""
        return 1.0 - self.total_dollars / self.dense_total_dollars


def expert_plan(
    loss: float,
    requests: float,
    *,
    deployment: Deployment | str | None = None,
    costs: CostModel | None = None,
    law: JointMoELaw | str = JOINT_MOE,
    experts: Any = EXPERT_COUNTS,
    unique_tokens: float | None = None,
) -> ExpertPlan:
    """The expert count, active parameters and tokens with the fewest lifetime dollars.

    For each count E: the serving roofline's dollars a request for Switch-style mixtures
    of the shape policy's models (`ServingCurve.roofline(deployment, experts=E)`: E
    experts of each layer's MLP, one a token, every expert held in the deployment's memory),
    and `physical_optimal` under the joint MoE law at E on that curve: training at the cost
    model's price per FLOP (`6 N D`, N active) plus serving. The cheapest count wins; one
    expert is the dense model, which memory and the curve price alike.

    Parameters
    ----------
    loss : float
        Target loss, nats/token, under the MoE law.
    requests : float
        Lifetime requests (the deployment's input and output tokens each).
    deployment : Deployment or str or None, optional
        How each size is served (`ServingCurve.roofline`); None: `Deployment()`.
    costs : CostModel, optional
        The training price (default: the default cost model).
    law : JointMoELaw or str, optional
        The MoE law (default the published joint law).
    experts : sequence of int, optional
        Counts compared (default 1 to 32); 1 must be among them (the dense comparison).
    unique_tokens : float, optional
        Unique training tokens available (None: unlimited): every count is then trained
        to the loss under that supply (`physical_optimal(unique_tokens=)`, Muennighoff et
        al.'s repetition law), its `tokens` the tokens seen, repeats included.

    Returns
    -------
    ExpertPlan

    Raises
    ------
    ScaleplanError
        If an argument is out of range, 1 is not among `experts`, or no count's curve
        reaches the loss.

    Examples
    --------
    A 2.3-nat model (under the joint law) serving 3.65 billion requests, dense or with
    8 experts, on the default deployment:

    >>> from scaleplan import expert_plan
    >>> p = expert_plan(2.3, 3.65e9, experts=[1, 8])
    >>> print(f"E = {p.experts}: ${p.total_dollars:,.0f} against ${p.dense_total_dollars:,.0f}")
    E = 8: $8,835 against $16,402
    """
    law = resolve_moe_law(law)
    loss = number("loss", loss)
    if loss <= law.c:
        raise ScaleplanError(f"loss must be above the law's floor {law.c}; got {loss!r}", "loss")
    requests = number("requests", requests, NON_NEGATIVE)
    unique_tokens = optional("unique_tokens", unique_tokens, POSITIVE, unit="tokens")
    counts = [int(e) for e in expert_counts(experts)]
    if 1 not in counts:
        raise ScaleplanError("experts must include 1, the dense model compared", "experts")
    costs = default_costs() if costs is None else resolve_costs(costs)
    rows = [_one(law, loss, requests, deployment, costs, e, unique_tokens) for e in counts]
    table = {k: np.array([r[k] for r in rows], dtype=float) for k in rows[0]}
    total = table["total_dollars"]
    if not np.any(np.isfinite(total)):
        raise ScaleplanError("no expert count reaches the loss on its serving curve", "loss")
    best = int(np.nanargmin(total))
    dense = float(total[counts.index(1)])
    pick = {k: float(v[best]) for k, v in table.items()}
    return ExpertPlan(counts[best], pick["params"], pick["total_params"], pick["tokens"],
                      pick["training_dollars"], pick["serving_dollars"], pick["total_dollars"],
                      dense, table)  # fmt: skip


def _one(law: JointMoELaw, loss: float, requests: float, deployment: Any, costs: CostModel,
         experts: int, unique_tokens: float | None) -> dict[str, float]:  # fmt: skip
    """One count's optimum on its own curve (NaN where the curve does not reach it)."""
    curve = ServingCurve.roofline(deployment, experts=experts)
    r = physical_optimal(loss, requests, law=law, experts=experts, curve=curve, costs=costs,
                         on_invalid="nan", unique_tokens=unique_tokens)  # fmt: skip
    n = float(r.params)
    total = np.nan
    if np.isfinite(n):
        # The optimum lies between the curve's knots: its total is its active count times
        # the policy shape's total-to-active ratio (1 for the dense model).
        c = step_counts(moe_shape(shape_for_params(n), experts))
        total = n * float(c.params) / float(c.active_params)
    train, serve = float(r.training_dollars), float(r.serving_dollars)
    return dict(
        experts=experts,
        params=n,
        total_params=total,
        tokens=float(r.tokens),
        training_dollars=train,
        serving_dollars=serve,
        total_dollars=train + serve,
    )
