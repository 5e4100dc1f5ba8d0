"""The dual of lifetime sizing (docs/design.md §1.3): the lowest loss a lifetime budget, in FLOPs
or dollars, buys, and the model that reaches it (Rust, `optimal/dual.rs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from .. import _core
from .._utils.arrays import broadcast, check_on_invalid, echoed, in_place, shaped
from .._utils.checks import restated
from .._utils.deprecation import deprecated
from .._utils.frames import Tabular
from .._utils.labels import labelled
from ..errors import ScaleplanError
from ..hardware.cost_model import (
    DEFAULT_INPUT_TOKENS,
    DEFAULT_OUTPUT_TOKENS,
    CostModel,
    resolve_costs,
)
from ..laws.family import route
from ..laws.flops import TRAINING_FLOPS_PER_PARAM
from ..laws.scaling import CHINCHILLA, ScalingLaw, resolve_law
from .solver import DEFAULT_MAX_ITER, DEFAULT_TOL, solver_options

if TYPE_CHECKING:  # for the overloads only
    from ..laws.data_constrained import DataConstrainedLaw
    from .constrained import BudgetOptimum

__all__ = ["BestQuality", "best_quality"]


@dataclass(frozen=True, repr=False)
class BestQuality(Tabular):
    """The lowest loss a lifetime budget buys, and the model that reaches it.

    What `best_quality` returns; arrays where the inputs were arrays.

    Parameters
    ----------
    loss : float or numpy.ndarray
        The lowest loss reachable, in nats/token.
    params : float or numpy.ndarray
        The model's parameters N (count).
    tokens : float or numpy.ndarray
        Its training tokens D.
    budget : float or numpy.ndarray
        The lifetime budget, in `unit`.
    effective_demand : float or numpy.ndarray
        The demand the solver saw, in training-token equivalents (the inference tokens
        for a FLOP budget).
    unit : {"FLOPs", "dollars"}, optional
        "FLOPs" (a budget with `inference_tokens`) or "dollars" (with `requests`).

    Examples
    --------
    >>> from scaleplan import best_quality
    >>> best = best_quality(dollar_budget=1e6, requests=1e9)
    >>> print(f"loss {best.loss:.4f} with N = {best.params:.3g}, budget in {best.unit}")
    loss 1.9676 with N = 1.53e+10, budget in dollars
    """

    _INPUTS = ("budget", "effective_demand")
    _OUTPUTS = ("loss", "params", "tokens")

    loss: Any
    params: Any
    tokens: Any
    budget: Any
    effective_demand: Any
    unit: str = "FLOPs"


@overload
def best_quality(
    flop_budget: Any = ...,
    inference_tokens: Any = ...,
    *,
    dollar_budget: Any = ...,
    requests: Any = ...,
    input_tokens: Any = ...,
    output_tokens: Any = ...,
    costs: CostModel | None = ...,
    law: ScalingLaw | DataConstrainedLaw | str = ...,
    on_invalid: str = ...,
    method: str = ...,
    unique_tokens: None = None,
    budget: Any = ...,
    experts: Any = None,
) -> BestQuality: ...
@overload
def best_quality(
    flop_budget: Any = ...,
    inference_tokens: Any = ...,
    *,
    dollar_budget: Any = ...,
    requests: Any = ...,
    input_tokens: Any = ...,
    output_tokens: Any = ...,
    costs: CostModel | None = ...,
    law: ScalingLaw | DataConstrainedLaw | str = ...,
    on_invalid: str = ...,
    method: str = ...,
    unique_tokens: float | np.ndarray | list[float],
    budget: Any = ...,
    experts: Any = None,
) -> BudgetOptimum: ...
@labelled
def best_quality(
    flop_budget: Any = None,
    inference_tokens: Any = None,
    *,
    dollar_budget: Any = None,
    requests: Any = None,
    input_tokens: Any = DEFAULT_INPUT_TOKENS,
    output_tokens: Any = DEFAULT_OUTPUT_TOKENS,
    costs: CostModel | None = None,
    law: ScalingLaw | DataConstrainedLaw | str = CHINCHILLA,
    on_invalid: str = "raise",
    method: str = "newton",
    unique_tokens: Any = None,
    budget: Any = None,
    experts: Any = None,
) -> BestQuality | BudgetOptimum:
    """Lowest loss reachable with a lifetime budget (docs/design.md §1.3, the dual problem).

    Minimises `L(N, D)` subject to `6 N D + 2 N inference_tokens = flop_budget`, or to the
    dollar budget with the demand `requests (w_in input_tokens + w_out output_tokens)`.
    `budget=` (0.1) and a dollar budget given as the first argument with `requests` still
    work through 0.2, with a `DeprecationWarning`.

    Parameters
    ----------
    flop_budget : float or array_like, optional
        A lifetime budget in FLOPs, with `inference_tokens`.
    inference_tokens : float or array_like, optional
        Lifetime inference demand, in tokens.
    dollar_budget : float or array_like, optional
        A lifetime budget in US dollars, with `requests`.
    requests : float or array_like, optional
        Lifetime requests (count).
    input_tokens, output_tokens : float or array_like, optional
        Prompt and generated tokens per request (defaults 70 and 215).
    costs : CostModel, optional
        Hardware, prices and MFUs for a dollar budget (default `CostModel()`).
    law : ScalingLaw or DataConstrainedLaw or str, optional
        The law (default `CHINCHILLA`).
    on_invalid : {"raise", "nan"}, optional
        What a row of bad input does.
    method : {"newton", "bisect"}, optional
        How the optimality condition along the budget curve is solved, an equation in the
        logit of the inference share `m / (D + m)` with bounded slope: "newton" (default,
        1-4 steps a row) or "bisect" (about 60 halvings; also the fallback for a row Newton
        leaves unsettled, which no known input does). Both stop at the f64 resolution of
        the root.
    unique_tokens : float or array_like, optional
        A supply of unique training tokens: the data-constrained law (Muennighoff et al.
        2023; see `compute_optimal`) and a `constrained.BudgetOptimum` (a dollar budget is
        solved as its training-FLOP equivalents, `budget` and `inference_tokens` then in
        those units).
    budget : float or array_like, optional
        The 0.1 spelling of the budget; deprecated.

    Returns
    -------
    BestQuality or BudgetOptimum
        The `loss` (nats/token), `params` and `tokens` of the best model.

    Raises
    ------
    ScaleplanError
        If not exactly one budget is given, a dollar budget lacks `requests`, or (with
        `on_invalid="raise"`) a value is out of range; the error names the argument as the
        caller spelled it.

    Examples
    --------
    1e23 FLOPs for training and serving 1T tokens:

    >>> from scaleplan import best_quality
    >>> best = best_quality(1e23, 1e12)
    >>> print(f"loss {best.loss:.4f}: N = {best.params:.3g}, D = {best.tokens:.3g}")
    loss 2.0192: N = 1.11e+10, D = 1.17e+12

    A million dollars for a model that serves a billion requests:

    >>> best = best_quality(dollar_budget=1e6, requests=1e9)
    >>> print(f"loss {best.loss:.4f}: N = {best.params:.3g}, D = {best.tokens:.3g}")
    loss 1.9676: N = 1.53e+10, D = 2.77e+12
    """
    plain = flop_budget is not None and budget is None and dollar_budget is None
    if plain and (inference_tokens is not None or requests is None):
        total, spelled = flop_budget, "flop_budget"  # the common case, checked below
    else:
        total, spelled = _budget(flop_budget, dollar_budget, budget, inference_tokens, requests)
    try:
        return _best_quality(total, inference_tokens, requests, input_tokens, output_tokens,
                             costs, law, on_invalid, method, unique_tokens,
                             experts)  # fmt: skip
    except ScaleplanError as exc:
        raise restated(exc, {"budget": spelled}) from None


def _budget(
    flop_budget: Any, dollar_budget: Any, budget: Any, inference_tokens: Any, requests: Any
) -> tuple[Any, str]:
    """The budget and the name the caller gave it by; the 0.1 spellings warn."""
    given = {k: v for k, v in (("flop_budget", flop_budget), ("dollar_budget", dollar_budget),
                               ("budget", budget)) if v is not None}  # fmt: skip
    if len(given) != 1:
        raise ScaleplanError(
            "best_quality takes one budget: flop_budget (with inference_tokens) or "
            f"dollar_budget (with requests); got {', '.join(given) or 'none'}",
            next(iter(given), "flop_budget"),
        )
    ((name, value),) = given.items()
    if name == "dollar_budget" and requests is None:
        raise ScaleplanError("dollar_budget is priced by requests (with input_tokens, "
                             "output_tokens and costs): give requests=", "requests")  # fmt: skip
    if name == "budget" or (name == "flop_budget" and requests is not None
                            and inference_tokens is None):  # fmt: skip
        deprecated(
            "best_quality's budget is now flop_budget (with inference_tokens) or "
            "dollar_budget (with requests); the 0.1 spelling goes in 0.3"
        )
    return value, name


def _best_quality(
    budget: Any, inference_tokens: Any, requests: Any, input_tokens: Any, output_tokens: Any,
    costs: CostModel | None, law: Any, on_invalid: str, method: str, unique_tokens: Any,
    experts: Any = None,
) -> BestQuality | BudgetOptimum:  # fmt: skip
    if (inference_tokens is None) == (requests is None):
        raise ScaleplanError(
            "best_quality takes exactly one of inference_tokens (FLOP budget) "
            "or requests (dollar budget)"
        )
    data = {"unique_tokens": unique_tokens, "experts": experts}
    if unique_tokens is not None or experts is not None or not isinstance(law, (ScalingLaw, str)):
        kernel, law, given = route("best_quality", law, **data)
        if kernel is not None:
            solver_options(method, DEFAULT_TOL, DEFAULT_MAX_ITER, on_invalid, "auto")
            return kernel(budget, inference_tokens, requests, input_tokens, output_tokens,
                          costs=costs, law=law, on_invalid=on_invalid,
                          **given)  # fmt: skip
    law = resolve_law(law)
    on_invalid = check_on_invalid(on_invalid)
    if requests is None:
        shape, cols = broadcast(
            budget=budget, inference_tokens=inference_tokens, **law.named_coefficients()
        )
        per_unit, demand, name = 6.0, cols[1], "inference_tokens"
    else:
        shape, cols, per_unit, demand = _dollar_problem(
            budget, requests, input_tokens, output_tokens, resolve_costs(costs), law, on_invalid
        )
        name = "effective_demand"
    # The kernel divides the budget by `per_unit` itself, so its errors quote the budget
    # as given (a FLOP budget of -1 once came back as "got -0.1667").
    n, d, lo, _ = _core.best_quality(
        cols[0],
        demand,
        tuple(cols[-5:]),
        on_invalid,
        name,
        broadcast_shape=shape,
        method=method if isinstance(method, str) else repr(method),
        per_unit=per_unit,
    )
    return BestQuality(
        shaped(lo, shape),
        shaped(n, shape),
        shaped(d, shape),
        echoed(cols[0], shape),
        echoed(in_place(demand), shape),
        "FLOPs" if requests is None else "dollars",
    )


def _dollar_problem(
    budget: Any,
    requests: Any,
    input_tokens: Any,
    output_tokens: Any,
    costs: CostModel,
    law: ScalingLaw,
    on_invalid: str,
) -> tuple[tuple[int, ...], list[Any], float, Any]:
    """A dollar budget as the FLOP problem the kernel solves: the shape, the inputs (budget,
    demand, law), `k_tr = 6 $/FLOP / MFU` (the kernel divides the budget by it) and the
    effective demand `requests (w_in input_tokens + w_out output_tokens)`."""
    shape, cols = broadcast(
        budget=budget,
        requests=requests,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        **law.named_coefficients(),
    )
    k_tr = TRAINING_FLOPS_PER_PARAM * costs.train_dollars_per_flop / costs.train_mfu
    demand = np.ascontiguousarray(costs.checked_demand(*cols[1:4], on_invalid), dtype=np.float64)
    cols = [cols[0], demand, *cols[4:]]
    return shape, cols, k_tr, demand
