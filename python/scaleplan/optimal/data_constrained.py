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
    """Minimise `6 N D + 2 N inference_tokens` at `L(N, D, U) = loss` (every argument
    broadcasts). `compute_optimal(..., unique_tokens=)` and `cost_optimal(...,
    unique_tokens=)` call this (the latter with its effective demand). A loss at or below
    the floor the law reaches with U unique tokens is a ValueError that says so."""
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
    """N and D with `N (6 D + 2 inference_tokens) = budget` minimising `L(N, D, U)`
    (`best_quality(..., unique_tokens=)` calls it)."""
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


def training_optimal(
    flops: Any, unique_tokens: Any, *, law: Any = "muennighoff2023", on_invalid: str = "raise"
) -> BudgetOptimum:
    """The paper's question solved exactly: the N and D with `6 N D = flops` that
    minimise `L(N, D, U)` (their repository uses a grid of 500 ratios)."""
    with renamed(budget="flops"):
        return budget_optimal(flops, 0.0, unique_tokens, law=law, on_invalid=on_invalid)


def physical_constrained(
    loss: Any, requests: Any, *, unique_tokens: Any, costs: Any, curve: Any, law: Any,
    on_invalid: str,
) -> ConstrainedPhysicalOptimum:  # fmt: skip
    """The Rust kernel behind `physical_optimal(..., unique_tokens=)`."""
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
    """The training tokens at which models of `params` parameters reach `loss` with
    `unique_tokens` (NaN where no number of tokens does): the loss falls with D, so 100
    halvings in ln D over 1e3..1e22 tokens, all sizes at once."""
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
