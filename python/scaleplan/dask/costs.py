"""Lazy dollar optima: `cost_optimal` on Dask arrays, one task per output chunk running
`scaleplan.optimal.costs.cost_optimal` (the in-memory function) on that chunk; `compute()`
gives its `CostOptimum`, equal bit for bit to the in-memory call on the whole arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import dask.array as da

from ..laws.scaling import CHINCHILLA, ScalingLaw, resolve_law
from ..optimal.costs import (
    DEFAULT_INPUT_TOKENS,
    DEFAULT_OUTPUT_TOKENS,
    CostModel,
    CostOptimum,
    LifetimeCost,
    resolve_costs,
)
from ..optimal.costs import cost_optimal as _cost_optimal
from ..optimal.solver import DEFAULT_MAX_ITER, DEFAULT_TOL
from ._chunks import lazy_outputs
from ._lazy import OPTIMUM_DTYPES, Lazy, law_of, shape_of, solver_kwargs
from .arrays import chinchilla_optimal

__all__ = ["LazyCostOptimum", "cost_optimal"]


@dataclass(frozen=True)
class LazyCostOptimum(Lazy, CostOptimum):
    """`CostOptimum` with Dask arrays; `compute()` gives the in-memory one.

    What `cost_optimal` returns: the fields of `scaleplan.CostOptimum` (same units), its
    arrays lazy.

    Examples
    --------
    >>> import dask.array as da
    >>> lazy = cost_optimal(da.from_array([2.0, 2.2], chunks=1), 1e10)
    >>> type(lazy).__name__, type(lazy.compute()).__name__
    ('LazyCostOptimum', 'CostOptimum')
    """

    _eager = CostOptimum

    @cached_property
    def chinchilla(self) -> LifetimeCost:
        m = chinchilla_optimal(loss=self.loss, law=self.law, on_invalid="nan")
        return LifetimeCost(
            m.params, m.tokens, self.requests, self.input_tokens, self.output_tokens, self.costs
        )


def _cost_kernel(
    *,
    loss: Any,
    requests: Any,
    input_tokens: Any,
    output_tokens: Any,
    costs: CostModel,
    options: dict[str, Any],
    **coefficients: Any,
) -> tuple[Any, ...]:
    r = _cost_optimal(
        loss,
        requests,
        input_tokens,
        output_tokens,
        costs=costs,
        law=law_of(coefficients),
        **options,
    )
    return r.params, r.tokens, r.iterations, r.converged


def cost_optimal(
    loss: Any,
    requests: Any,
    input_tokens: Any = DEFAULT_INPUT_TOKENS,
    output_tokens: Any = DEFAULT_OUTPUT_TOKENS,
    *,
    costs: CostModel | None = None,
    law: ScalingLaw | str = CHINCHILLA,
    method: str = "newton",
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    on_invalid: str = "raise",
    start: str = "auto",
) -> LazyCostOptimum:
    """`scaleplan.cost_optimal` on Dask arrays: the same arguments, lazy results.

    Parameters
    ----------
    loss : array_like or dask.array.Array
        The target loss, in nats/token.
    requests : array_like or dask.array.Array
        Lifetime inference requests.
    input_tokens, output_tokens : array_like or dask.array.Array, optional
        Prompt and generated tokens per request.
    costs, law, method, tol, max_iter, on_invalid, start
        As `scaleplan.cost_optimal`; checked at once.

    Returns
    -------
    LazyCostOptimum
        Lazy; `compute()` gives the in-memory `CostOptimum`.

    Raises
    ------
    ScaleplanError
        At once if an option is bad or the shapes do not broadcast; on `compute()` if a
        row is out of range (with "raise").

    Examples
    --------
    >>> import dask.array as da
    >>> opt = cost_optimal(da.from_array([2.0, 2.2], chunks=1), 1e10).compute()
    >>> [f"N = {n:.3g}: ${d:,.0f}" for n, d in zip(opt.params, opt.total_dollars)]
    ['N = 5.51e+09: $1,830,849', 'N = 8.96e+08: $248,190']
    """
    costs = resolve_costs(costs)
    law = resolve_law(law)
    named = {
        "loss": loss,
        "requests": requests,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        **law.named_coefficients(),
    }
    shape = shape_of(named)
    options = solver_kwargs(method, tol, max_iter, on_invalid, start, law, shape)
    shape, (n, d, it, ok) = lazy_outputs(
        _cost_kernel, named, OPTIMUM_DTYPES, {"costs": costs, "options": options}
    )
    full = [
        da.broadcast_to(da.asarray(v), shape) for v in (loss, requests, input_tokens, output_tokens)
    ]
    return LazyCostOptimum(n, d, *full, it, ok, law, costs)
