"""How lifetime compute (or money) splits between training and inference (Epoch, seed 002).

If along a curve of constant quality inference falls as `I = c T^-r`, minimising `T + I`
spends the share `r / (1 + r)` of the total on training. For the Chinchilla law, along the
iso-loss curve `A N^-alpha + B D^-beta = l - E` with `T = k_tr N D` and `I = K N`,

    r = -d ln I / d ln T = 1 / (alpha A N^-alpha / (beta B D^-beta) - 1),

and at the lifetime optimum (where `alpha A N^-alpha = beta B D^-beta (1 + D_eff / (3 D))`)
this is `3 D / D_eff`, which is exactly `T / I`: training over inference equals the local
exchange rate. `tests/optimal/test_allocation.py` checks that property rather than assuming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._utils.arrays import as_float, check_on_invalid
from .._utils.checks import number, renamed
from .._utils.frames import Record
from ..errors import ScaleplanError
from ..laws.scaling import CHINCHILLA, ScalingLaw, resolve_law
from .costs import CostModel, CostOptimum, cost_optimal
from .lifetime import LifetimeOptimum, compute_optimal

__all__ = [
    "TRADEOFF_REGIMES",
    "Split",
    "TradeoffRegime",
    "exchange_rate",
    "lifetime_split",
    "share_sweep",
    "training_share",
]


def training_share(exchange_rate: Any) -> Any:
    """`r / (1 + r)`: the share of lifetime compute spent on training when inference
    compute falls as `T^-r` along a curve of constant quality (r > 0)."""
    r = np.asarray(exchange_rate, dtype=float)
    if np.any(~np.isfinite(r) | (r <= 0)):
        raise ScaleplanError("exchange_rate must be finite and > 0", "exchange_rate")
    out = r / (1.0 + r)
    return out.item() if out.ndim == 0 else out


def exchange_rate(
    params: Any,
    tokens: Any,
    *,
    law: ScalingLaw | str = CHINCHILLA,
    on_invalid: str = "raise",
) -> Any:
    """Local `r = -d ln I / d ln T` along the iso-loss curve through (params, tokens), with
    `I` proportional to N and `T` to N D: `1 / (alpha A N^-alpha / (beta B D^-beta) - 1)`.

    Defined (finite and > 0) only past the Chinchilla point, where a model has more tokens
    per parameter than the training-only optimum of its loss: there training trades
    against inference. At or before that point there is no trade (r would be infinite or
    negative), and that is an error (`on_invalid="raise"`) or NaN (`"nan"`), never a number.
    """
    law = resolve_law(law)
    on_invalid = check_on_invalid(on_invalid)
    n, d = np.broadcast_arrays(as_float("params", params), as_float("tokens", tokens))
    with np.errstate(all="ignore"):
        valid = np.isfinite(n) & (n > 0) & np.isfinite(d) & (d > 0)
        # In logs: N^-alpha and D^-beta underflow or overflow long before the ratio does.
        ln_ratio = (
            np.log(law.alpha * law.A / (law.beta * law.B))
            - law.alpha * np.log(np.where(valid, n, 1.0))
            + law.beta * np.log(np.where(valid, d, 1.0))
        )
        out = 1.0 / np.expm1(ln_ratio)
    in_range = valid & np.isfinite(out) & (out >= np.finfo(float).tiny)
    if on_invalid == "raise" and not np.all(in_range):
        i = int(np.flatnonzero(~in_range.reshape(-1))[0])
        at = f" at index {i}" if n.ndim else ""
        if not valid.reshape(-1)[i]:
            p, t = float(n.reshape(-1)[i]), float(d.reshape(-1)[i])
            raise ScaleplanError(
                f"params and tokens must be finite and > 0; got {p!r}, {t!r}{at}",
                "params" if not (np.isfinite(p) and p > 0) else "tokens",
                i if n.ndim else None,
            )
        raise ScaleplanError(
            "params and tokens must lie past the Chinchilla point of their loss (more tokens "
            f"per parameter than the training-only optimum), where training trades against "
            f"inference{at}",
            "tokens",
            i if n.ndim else None,
        )
    out = np.where(in_range, out, np.nan)
    return out.item() if out.ndim == 0 else out


@dataclass(frozen=True, repr=False)
class Split(Record):
    """Where a plan's lifetime FLOPs (and dollars, for cost plans) go."""

    training_flops: Any
    inference_flops: Any
    training_share_flops: Any
    exchange_rate: Any
    training_dollars: Any = None
    prefill_dollars: Any = None
    decode_dollars: Any = None
    training_share_dollars: Any = None


def lifetime_split(plan: LifetimeOptimum | CostOptimum) -> Split:
    """The training/inference split of a plan and its local exchange rate."""
    # A scalar plan without a trade (no demand) is an error; in a batch such rows are NaN,
    # as the plan's own invalid rows are.
    policy = "raise" if np.ndim(plan.params) == 0 else "nan"
    r = exchange_rate(plan.params, plan.tokens, law=plan.law, on_invalid=policy)
    if isinstance(plan, CostOptimum):
        b = plan.breakdown
        return Split(
            b.training_flops,
            b.inference_flops,
            b.training_flops / b.total_flops,
            r,
            b.training_dollars,
            b.prefill_dollars,
            b.decode_dollars,
            b.training_dollars / b.total_dollars,
        )
    return Split(
        plan.training_flops, plan.inference_flops, plan.training_flops / plan.total_flops, r
    )


def share_sweep(
    loss: float,
    demands: Any,
    *,
    costs: CostModel | None = None,
    law: ScalingLaw | str = CHINCHILLA,
) -> tuple[Any, Any]:
    """Training share of lifetime FLOPs (or dollars, with `costs`; demands are then
    requests) at the optimum, for each demand. Returns (demands, shares)."""
    loss, demands = number("loss", loss), as_float("demands", demands)
    if costs is None:
        with renamed(inference_tokens="demands"):
            plan = compute_optimal(loss, demands, law=law)
        return demands, plan.training_flops / plan.total_flops
    with renamed(requests="demands"):
        c = cost_optimal(loss, demands, costs=costs, law=law)
    b = c.breakdown
    return demands, b.training_dollars / b.total_dollars


@dataclass(frozen=True)
class TradeoffRegime:
    """A documented span of the training/inference trade-off.

    Moving along it, inference compute per task changes by `inference_ooms` orders of
    magnitude while training compute changes the other way by `training_ooms` (low, high).
    The exchange rate is inference OOMs per training OOM; the implied training shares are
    `r / (1 + r)` at the ends of the span.
    """

    name: str
    where: str
    inference_ooms: tuple[float, float]
    training_ooms: tuple[float, float]

    @property
    def exchange_rates(self) -> tuple[float, float]:
        lo = self.inference_ooms[0] / self.training_ooms[1]
        hi = self.inference_ooms[1] / self.training_ooms[0]
        return lo, hi

    @property
    def training_shares(self) -> tuple[float, float]:
        lo, hi = self.exchange_rates
        return training_share(lo), training_share(hi)


# Villalobos & Atkinson 2023 (Epoch, "Trading off compute in training and inference"), key
# takeaways, from evidence on five techniques: model scaling (overtraining), Monte Carlo tree
# search, pruning, resampling and chain of thought. Their per-technique table is not in the
# material we have; these are the four regimes they summarise it into.
TRADEOFF_REGIMES: tuple[TradeoffRegime, ...] = (
    TradeoffRegime(
        "more inference, most language tasks",
        "tasks not needing specific knowledge or narrow skills",
        (1.0, 2.0),
        (1.0, 1.0),
    ),
    TradeoffRegime(
        "more inference, decomposable reasoning",
        "tasks with sequential reasoning or that split into easier subtasks",
        (2.0, 3.0),
        (2.0, 2.0),
    ),
    TradeoffRegime(
        "more inference, cheap verification",
        "many parallel attempts, cheap checks: coding, formal proofs",
        (5.0, 6.0),
        (3.0, 4.0),
    ),
    TradeoffRegime(
        "less inference (pruning, overtraining)",
        "most tasks",
        (1.0, 1.0),
        (1.0, 2.0),
    ),
)
