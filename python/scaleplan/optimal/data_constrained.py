"""Finite unique data inside the optima: the lifetime optimum, the best model for a budget
and the physical optimum under the data-constrained law of Muennighoff et al. 2023
(`laws.data_constrained`, which states the law), solved by the Rust core
(`rust/core/src/optimal/data_constrained/`). This module registers them as that family's kernels
(`laws.family`), so the optimisers reach them without importing it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from .._utils.arrays import as_float, broadcast, check_on_invalid, echoed, shaped
from .._utils.checks import renamed
from .._utils.labels import labelled
from ..hardware.cost_model import resolve_costs
from ..laws.data_constrained import DataConstrainedLaw, resolve_data_law
from ..laws.family import register
from ..laws.scaling import CHINCHILLA
from .constrained import BudgetOptimum, ConstrainedOptimum, ConstrainedPhysicalOptimum
from .lifetime import compute_optimal
from .physical_optimum import physical_optimal

__all__ = [
    "budget_optimal",
    "constrained_optimal",
    "physical_constrained",
    "tokens_for_params",
    "training_optimal",
]


def constrained_optimal(
    loss: Any,
    inference_tokens: Any,
    unique_tokens: Any,
    *,
    law: Any = CHINCHILLA,
    on_invalid: str = "raise",
    costs: Any = None,
) -> ConstrainedOptimum:
    """The lifetime FLOP optimum with finite unique data.

    Minimises `6 N D + 2 N inference_tokens` at `L(N, D, U) = loss` (every argument
    broadcasts). `compute_optimal(..., unique_tokens=)` and `cost_optimal(...,
    unique_tokens=)` call this (the latter with its effective demand).

    Parameters
    ----------
    loss : float or array_like
        Target loss, in nats/token.
    inference_tokens : float or array_like
        Lifetime inference demand, in tokens (training-token equivalents for dollars).
    unique_tokens : float or array_like
        The supply of unique training tokens U.
    law : DataConstrainedLaw or ScalingLaw or str, optional
        The law; a plain one takes the published R_D*, R_N* (default `CHINCHILLA`).
    on_invalid : {"raise", "nan"}, optional
        What a row of bad input does.
    costs : CostModel, optional
        Carried to the result for its dollars (`cost_optimal`'s path).

    Returns
    -------
    ConstrainedOptimum
        `params`, `tokens`, `effective_tokens`, `epochs`, whether the supply is `binding`
        and the `premium` over unlimited data.

    Raises
    ------
    ScaleplanError
        With `on_invalid="raise"`: a loss at or below the floor the law reaches with U
        unique tokens (the message says so), or another value out of range.

    Examples
    --------
    >>> from scaleplan.optimal.data_constrained import constrained_optimal
    >>> opt = constrained_optimal(2.0, 1e13, 2e11)
    >>> print(f"N = {opt.params:.3g}, {opt.epochs:.1f} epochs, premium {opt.premium:.1%}")
    N = 1.11e+10, 14.4 epochs, premium 32.4%
    """
    data_law = resolve_data_law(law)
    shape, cols = broadcast(loss=loss, inference_tokens=inference_tokens,
                            unique_tokens=unique_tokens)  # fmt: skip
    out = _core.data_constrained_optimal(*cols, *data_law.kernel_columns(),
                                         on_invalid=check_on_invalid(on_invalid),
                                         broadcast_shape=shape)  # fmt: skip
    n, d, d_eff, it, bind = (out[:, k].copy() for k in range(5))
    return ConstrainedOptimum(
        shaped(n, shape), shaped(d, shape), shaped(d_eff, shape), echoed(cols[0], shape),
        echoed(cols[1], shape), echoed(cols[2], shape),
        shaped(np.nan_to_num(it).astype(np.uint32), shape), shaped(bind == 1.0, shape),
        data_law, costs, compute_optimal,
    )  # fmt: skip


def budget_optimal(
    budget: Any,
    inference_tokens: Any,
    unique_tokens: Any,
    *,
    law: Any = CHINCHILLA,
    on_invalid: str = "raise",
) -> BudgetOptimum:
    """The best model for a lifetime FLOP budget with finite unique data.

    N and D with `N (6 D + 2 inference_tokens) = budget` minimising `L(N, D, U)`
    (`best_quality(..., unique_tokens=)` calls it).

    Parameters
    ----------
    budget : float or array_like
        Lifetime budget, in FLOPs.
    inference_tokens : float or array_like
        Lifetime inference demand, in tokens.
    unique_tokens : float or array_like
        The supply of unique training tokens U.
    law : DataConstrainedLaw or ScalingLaw or str, optional
        The law (default `CHINCHILLA`, with the published R_D*, R_N*).
    on_invalid : {"raise", "nan"}, optional
        What a row of bad input does.

    Returns
    -------
    BudgetOptimum
        `loss` (nats/token), `params`, `tokens` and `epochs`.

    Raises
    ------
    ScaleplanError
        With `on_invalid="raise"`, a value out of range (naming it and its row).

    Examples
    --------
    >>> from scaleplan.optimal.data_constrained import budget_optimal
    >>> best = budget_optimal(1e23, 1e12, 1e11)
    >>> print(f"loss {best.loss:.4f}, N = {best.params:.3g}, {best.epochs:.1f} epochs")
    loss 2.0432, N = 1.13e+10, 11.4 epochs
    """
    data_law = resolve_data_law(law)
    shape, cols = broadcast(budget=budget, inference_tokens=inference_tokens,
                            unique_tokens=unique_tokens)  # fmt: skip
    out = _core.data_constrained_budget(*cols, *data_law.kernel_columns(),
                                        on_invalid=check_on_invalid(on_invalid),
                                        broadcast_shape=shape)  # fmt: skip
    n, d, d_eff, _, bind = (out[:, k].copy() for k in range(5))
    return BudgetOptimum(shaped(n, shape), shaped(d, shape), shaped(d_eff, shape),
                         echoed(cols[0], shape), echoed(cols[1], shape), echoed(cols[2], shape),
                         shaped(bind == 1.0, shape), data_law)  # fmt: skip


@labelled
def training_optimal(
    flops: Any, unique_tokens: Any, *, law: Any = "muennighoff2023", on_invalid: str = "raise"
) -> BudgetOptimum:
    """The training-only optimum with finite unique data (Muennighoff et al.'s question).

    Solved exactly: the N and D with `6 N D = flops` that minimise `L(N, D, U)` (their
    repository uses a grid of 500 ratios).

    Parameters
    ----------
    flops : float or array_like
        Training budget, in FLOPs.
    unique_tokens : float or array_like
        The supply of unique training tokens U.
    law : DataConstrainedLaw or ScalingLaw or str, optional
        The law (default the authors' fit, "muennighoff2023").
    on_invalid : {"raise", "nan"}, optional
        What a row of bad input does.

    Returns
    -------
    BudgetOptimum

    Raises
    ------
    ScaleplanError
        With `on_invalid="raise"`, a value out of range (naming `flops` or the other
        argument, and its row).

    Examples
    --------
    1e22 FLOPs with 10B unique tokens: a smaller model, 27 epochs:

    >>> from scaleplan import training_optimal
    >>> best = training_optimal(1e22, 1e10)
    >>> print(f"N = {best.params:.3g}, D = {best.tokens:.3g}, {best.epochs:.1f} epochs")
    N = 6.13e+09, D = 2.72e+11, 27.2 epochs
    """
    with renamed(budget="flops"):
        return budget_optimal(flops, 0.0, unique_tokens, law=law, on_invalid=on_invalid)


def physical_constrained(
    loss: Any, requests: Any, *, unique_tokens: Any, costs: Any, curve: Any, law: Any,
    on_invalid: str,
) -> ConstrainedPhysicalOptimum:  # fmt: skip
    """The lifetime optimum under a serving curve with finite unique data.

    The Rust kernel behind `physical_optimal(..., unique_tokens=)`: training dollars
    `6 N D c_tr / MFU_tr` plus the curve's serving dollars, at `L(N, D, U) = loss`.

    Parameters
    ----------
    loss : float or array_like
        Target loss, in nats/token.
    requests : float or array_like
        Lifetime requests (count).
    unique_tokens : float or array_like
        The supply of unique training tokens U.
    costs : CostModel
        Training hardware, price and MFU.
    curve : ServingCurve
        Serving dollars per request against N.
    law : DataConstrainedLaw or ScalingLaw or str
        The law.
    on_invalid : {"raise", "nan"}
        What a row of bad input does.

    Returns
    -------
    ConstrainedPhysicalOptimum

    Examples
    --------
    Called through `physical_optimal`:

    >>> from scaleplan import physical_optimal
    >>> opt = physical_optimal(2.0, 1e9, unique_tokens=1e11)
    >>> print(f"N = {opt.params:.3g}, {opt.epochs:.1f} epochs")
    N = 2.55e+10, 21.9 epochs
    """
    data_law = resolve_data_law(law)
    per_flop = costs.train_dollars_per_flop / costs.train_mfu
    shape, cols = broadcast(loss=loss, requests=requests, unique_tokens=unique_tokens)
    out = _core.data_constrained_physical(
        cols[0], cols[1], np.array([per_flop]), cols[2], *data_law.kernel_columns(),
        *curve.log_knots(), on_invalid=check_on_invalid(on_invalid), broadcast_shape=shape,
    )  # fmt: skip
    n, d, tr, sv, d_eff, bind, it = (out[:, k].copy() for k in range(7))
    return ConstrainedPhysicalOptimum(
        shaped(n, shape), shaped(d, shape), shaped(d_eff, shape), echoed(cols[0], shape),
        echoed(cols[1], shape), echoed(cols[2], shape), shaped(tr, shape), shaped(sv, shape),
        shaped(np.nan_to_num(it).astype(np.uint32), shape), shaped(bind == 1.0, shape),
        data_law, curve, costs, physical_optimal,
    )  # fmt: skip


def tokens_for_params(loss: float, params: Any, *, unique_tokens: float, law: Any) -> Any:
    """The training tokens at which models of `params` parameters reach `loss` with U.

    The loss falls with D, so 100 halvings in ln D over 1e3..1e22 tokens, all sizes at
    once; NaN where no number of tokens does (`whole_gpu_plan` prices these).

    Parameters
    ----------
    loss : float
        Target loss, in nats/token.
    params : float or array_like
        Model sizes N (count).
    unique_tokens : float
        The supply of unique training tokens U.
    law : DataConstrainedLaw or ScalingLaw or str
        The law.

    Returns
    -------
    numpy.ndarray
        Training tokens D for each size.

    Examples
    --------
    >>> from scaleplan.optimal.data_constrained import tokens_for_params
    >>> d = tokens_for_params(2.3, [1e9, 3e9], unique_tokens=1e11, law="chinchilla")
    >>> print(d.round(-9))
    [3.51e+11 7.50e+10]
    """
    data_law = resolve_data_law(law)
    n = np.atleast_1d(np.asarray(params, dtype=np.float64))
    lo, hi = np.full(n.shape, np.log(1e3)), np.full(n.shape, np.log(1e22))
    reached = data_law.loss(n, np.exp(hi), unique_tokens) < loss
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        above = data_law.loss(n, np.exp(mid), unique_tokens) > loss
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    return np.where(reached, np.exp(hi), np.nan)


# The family's kernels, behind the entry points of the same names (`law_family.route`):
# each takes its entry point's arguments; dollars become training-FLOP equivalents.


def _cost_optimal(
    loss: Any, requests: Any, input_tokens: Any, output_tokens: Any, *, costs: Any, law: Any,
    on_invalid: str, unique_tokens: Any,
) -> ConstrainedOptimum:  # fmt: skip
    demand = costs.checked_demand(requests, input_tokens, output_tokens, on_invalid)
    with renamed(inference_tokens="requests"):
        return constrained_optimal(loss, demand, unique_tokens, law=law,
                                   on_invalid=on_invalid, costs=costs)  # fmt: skip


def _best_quality(
    budget: Any, inference_tokens: Any, requests: Any, input_tokens: Any, output_tokens: Any,
    *, costs: Any, law: Any, on_invalid: str, unique_tokens: Any,
) -> BudgetOptimum:  # fmt: skip
    if requests is None:
        return budget_optimal(budget, inference_tokens, unique_tokens, law=law,
                              on_invalid=on_invalid)  # fmt: skip
    c = resolve_costs(costs)
    demand = c.checked_demand(requests, input_tokens, output_tokens, on_invalid)
    flops = as_float("budget", budget) * c.train_mfu / c.train_dollars_per_flop
    with renamed(inference_tokens="requests"):
        return budget_optimal(flops, demand, unique_tokens, law=law, on_invalid=on_invalid)


register(
    DataConstrainedLaw,
    adopt=resolve_data_law,
    kernels={
        "compute_optimal": constrained_optimal,
        "cost_optimal": _cost_optimal,
        "best_quality": _best_quality,
        "physical_optimal": physical_constrained,
        "tokens_for_params": tokens_for_params,
    },
)
