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
    """The share of lifetime compute spent on training, `r / (1 + r)`, when inference
    compute falls as `I = c T^-r` along a curve of constant quality.

    Minimising `T + I` along that curve gives `T / I = r`.

    Parameters
    ----------
    exchange_rate : array_like
        `r = -d ln I / d ln T` (inference orders of magnitude per training order of
        magnitude), finite and > 0.

    Returns
    -------
    float or numpy.ndarray
        The training share, a fraction in (0, 1).

    Raises
    ------
    ScaleplanError
        If a rate is not finite or not > 0.

    Examples
    --------
    >>> training_share(1.0)
    0.5
    >>> training_share([0.5, 3.0]).round(3)
    array([0.333, 0.75 ])
    """
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

    Parameters
    ----------
    params : array_like
        Parameters N (count).
    tokens : array_like
        Training tokens D.
    law : ScalingLaw or str, optional
        The loss law (default Chinchilla's).
    on_invalid : {"raise", "nan"}, optional
        What a point at or before the Chinchilla point gives (default "raise").

    Returns
    -------
    float or numpy.ndarray
        `r`, dimensionless (inference orders of magnitude per training order of
        magnitude), in the broadcast shape.

    Raises
    ------
    ScaleplanError
        If `params` or `tokens` is not finite and > 0, or (with "raise") a point is not past
        the Chinchilla point.

    Examples
    --------
    >>> print(f"{exchange_rate(7e9, 2e12):.3f}")  # 7B on 2T tokens, past Chinchilla
    1.332
    >>> exchange_rate([7e9, 7e9], [2e12, 1e11], on_invalid="nan").round(3)
    array([1.332,   nan])
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
    """Where a plan's lifetime FLOPs (and dollars, for cost plans) go, as `lifetime_split`
    returns it.

    Parameters
    ----------
    training_flops, inference_flops : float or numpy.ndarray
        Lifetime FLOPs of each phase.
    training_share_flops : float or numpy.ndarray
        `training_flops / (training_flops + inference_flops)`.
    exchange_rate : float or numpy.ndarray
        The local `r` at the plan's `(N, D)` (`exchange_rate`).
    training_dollars, prefill_dollars, decode_dollars : float or numpy.ndarray, optional
        Dollars per phase (cost plans only; None otherwise).
    training_share_dollars : float or numpy.ndarray, optional
        Training's share of the dollars (cost plans only).

    Examples
    --------
    >>> from scaleplan import compute_optimal
    >>> split = lifetime_split(compute_optimal(2.0, 1e13))
    >>> print(f"training {split.training_share_flops:.1%} of FLOPs; "
    ...       f"r / (1 + r) = {training_share(split.exchange_rate):.1%}")
    training 50.7% of FLOPs; r / (1 + r) = 50.7%
    """

    training_flops: Any
    inference_flops: Any
    training_share_flops: Any
    exchange_rate: Any
    training_dollars: Any = None
    prefill_dollars: Any = None
    decode_dollars: Any = None
    training_share_dollars: Any = None


def lifetime_split(plan: LifetimeOptimum | CostOptimum) -> Split:
    """The training/inference split of a plan and its local exchange rate.

    At a lifetime optimum the training share of FLOPs equals `r / (1 + r)` with `r` the
    exchange rate at its `(N, D)` (the module's docstring).

    Parameters
    ----------
    plan : LifetimeOptimum or CostOptimum
        What `compute_optimal` or `cost_optimal` returned (dollars too for the latter).

    Returns
    -------
    Split

    Raises
    ------
    ScaleplanError
        If a one-scenario plan has no trade (no inference demand: the Chinchilla point);
        such rows of a batch are NaN.

    Examples
    --------
    >>> from scaleplan import cost_optimal
    >>> split = lifetime_split(cost_optimal(2.0, 1e10))  # 10 billion requests
    >>> print(f"training: {split.training_share_flops:.1%} of FLOPs, "
    ...       f"{split.training_share_dollars:.1%} of dollars")
    training: 88.8% of FLOPs, 36.2% of dollars
    """
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
    """Training's share of lifetime FLOPs (or dollars, with `costs`) at the optimum, for
    each demand.

    Parameters
    ----------
    loss : float
        The target loss, in nats/token.
    demands : array_like
        Lifetime inference tokens; with `costs`, lifetime requests.
    costs : CostModel, optional
        Hardware, prices and MFUs: shares of dollars (`cost_optimal`) instead of FLOPs
        (`compute_optimal`).
    law : ScalingLaw or str, optional
        The loss law (default Chinchilla's).

    Returns
    -------
    demands : numpy.ndarray
        The demands, as floats.
    shares : numpy.ndarray
        Training's share of each optimum's lifetime FLOPs (or dollars), a fraction.

    Raises
    ------
    ScaleplanError
        If `loss` or a demand is out of range.

    Examples
    --------
    >>> demands, shares = share_sweep(2.0, [1e11, 1e13, 1e15])
    >>> shares.round(3)
    array([0.967, 0.507, 0.164])
    """
    loss, demands = number("loss", loss), as_float("demands", demands)
    if costs is None:
        with renamed(inference_tokens="demands"):
            plan = compute_optimal(loss, demands, law=law)
        return demands, plan.training_flops / plan.total_flops
    with renamed(requests="demands"):
        c = cost_optimal(loss, demands, costs=costs, law=law)
    b = c.breakdown
    return demands, b.training_dollars / b.total_dollars


@dataclass(frozen=True, repr=False)
class TradeoffRegime(Record):
    """A documented span of the training/inference trade-off.

    Moving along it, inference compute per task changes by `inference_ooms` orders of
    magnitude while training compute changes the other way by `training_ooms` (low, high).
    The exchange rate is inference OOMs per training OOM; the implied training shares are
    `r / (1 + r)` at the ends of the span. `TRADEOFF_REGIMES` holds the four that
    Villalobos & Atkinson (2023) summarise.

    Parameters
    ----------
    name : str
        The regime.
    where : str
        The tasks it applies to.
    inference_ooms : (float, float)
        Orders of magnitude inference compute changes by (low, high).
    training_ooms : (float, float)
        Orders of magnitude training compute changes by the other way (low, high).

    Examples
    --------
    >>> regime = TRADEOFF_REGIMES[0]
    >>> regime.name, regime.exchange_rates
    ('more inference, most language tasks', (1.0, 2.0))
    >>> [round(s, 3) for s in regime.training_shares]
    [0.5, 0.667]
    """

    name: str
    where: str
    inference_ooms: tuple[float, float]
    training_ooms: tuple[float, float]

    @property
    def exchange_rates(self) -> tuple[float, float]:
        """The span's (lowest, highest) exchange rate, inference OOMs per training OOM."""
        lo = self.inference_ooms[0] / self.training_ooms[1]
        hi = self.inference_ooms[1] / self.training_ooms[0]
        return lo, hi

    @property
    def training_shares(self) -> tuple[float, float]:
        """The training shares `r / (1 + r)` at the span's two exchange rates."""
        lo, hi = self.exchange_rates
        return training_share(lo), training_share(hi)

    def record(self) -> dict[str, Any]:
        """Its one row: the name, the spans' ends and the shares they imply."""
        ends = {
            "inference_ooms": self.inference_ooms,
            "training_ooms": self.training_ooms,
            "exchange_rate": self.exchange_rates,
            "training_share": self.training_shares,
        }
        row: dict[str, Any] = {"name": self.name, "where": self.where}
        for k, (lo, hi) in ends.items():
            row.update({f"{k}.low": lo, f"{k}.high": hi})
        return row


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
