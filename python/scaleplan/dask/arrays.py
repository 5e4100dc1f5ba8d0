"""Lazy versions of the batch functions: Dask arrays in, Dask arrays out.

Each function validates its options and shapes at once (so mistakes surface before any
work is scheduled), then builds one task per output chunk that runs the in-memory
function of the same name on that chunk: the Rust kernels, their checks and their
messages are the same ones. `compute()` on a result computes all of its arrays in one pass
and returns the in-memory result type, equal bit for bit to the in-memory call on the
whole arrays (Newton is told the start rule the whole problem would use; see
`compute_optimal`'s `start`).

Law coefficients stay in memory (a law with bootstrap arrays is small); the scenario
arrays (`loss`, demand, shapes) are what grows.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

import dask
import dask.array as da
import numpy as np

from .. import _core
from .._utils.arrays import check_on_invalid
from ..errors import ScaleplanError
from ..laws.scaling import CHINCHILLA, ChinchillaModel, ScalingLaw, chinchilla_given, resolve_law
from ..laws.scaling import chinchilla_optimal as _chinchilla_optimal
from ..optimal.costs import (
    DEFAULT_INPUT_TOKENS,
    DEFAULT_OUTPUT_TOKENS,
    CostModel,
    CostOptimum,
    LifetimeCost,
    resolve_costs,
)
from ..optimal.costs import cost_optimal as _cost_optimal
from ..optimal.lifetime import (
    DEFAULT_MAX_ITER,
    DEFAULT_TOL,
    LifetimeOptimum,
    check_start,
    solver_options,
)
from ..optimal.lifetime import compute_optimal as _compute_optimal
from ..systems.steptime import (
    FIELDS,
    BudgetResult,
    StepCounts,
    StepTimeModel,
    TransformerShape,
    check_seconds,
)
from ..systems.steptime import loss_in_budget as _loss_in_budget
from ..systems.steptime import step_counts as _step_counts
from ._chunks import lazy_outputs

__all__ = [
    "LazyBudgetResult",
    "LazyChinchillaModel",
    "LazyCostOptimum",
    "LazyLifetimeOptimum",
    "LazyStepCounts",
    "chinchilla_optimal",
    "compute_optimal",
    "cost_optimal",
    "loss_in_budget",
    "start_rule",
    "step_counts",
    "step_time",
]

_OPTIMUM_DTYPES = (np.float64, np.float64, np.uint32, np.bool_)


class _Lazy:
    """`compute()` for result dataclasses whose fields may be Dask arrays."""

    _eager: type

    def compute(self, **compute_kwargs: Any) -> Any:
        """The in-memory result: every Dask field computed in one pass (`dask.compute`
        keyword arguments, such as `scheduler=`, pass through)."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.init}  # type: ignore[arg-type]
        lazy = [k for k, v in values.items() if isinstance(v, da.Array)]
        done = dask.compute(*(values[k] for k in lazy), **compute_kwargs)
        for k, v in zip(lazy, done, strict=True):
            # In-memory results give Python scalars for scalar inputs; so do these.
            values[k] = v.item() if np.ndim(v) == 0 else v
        return self._eager(**values)


def start_rule(start: str, law: ScalingLaw, rows: int) -> str:
    """The start rule ("bound" or "table") that the in-memory solver would apply to the
    whole problem of `rows` rows; chunks are told it so that they reproduce the whole."""
    start = check_start(start)
    if start != "auto":
        return start
    shared = all(np.size(c) == 1 for c in law.coefficients)
    return "table" if shared and rows >= _core.TABLE_MIN_ROWS else "bound"


def _rows(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64))


@dataclass(frozen=True)
class LazyChinchillaModel(_Lazy, ChinchillaModel):
    """`ChinchillaModel` with Dask arrays; `compute()` gives the in-memory one."""

    _eager = ChinchillaModel


def _chinchilla_kernel(*, given: str, on_invalid: str, **named: Any) -> tuple[Any, ...]:
    law = _law_of(named)
    m = _chinchilla_optimal(**{given: named[given]}, law=law, on_invalid=on_invalid)
    return m.params, m.tokens, m.loss


def chinchilla_optimal(
    *,
    compute: Any = None,
    loss: Any = None,
    params: Any = None,
    law: ScalingLaw | str = CHINCHILLA,
    on_invalid: str = "raise",
) -> LazyChinchillaModel:
    """`scaleplan.chinchilla_optimal`, lazily, chunk by chunk."""
    kind, value = chinchilla_given(compute, loss, params)
    law = resolve_law(law)
    _, (n, d, reached) = lazy_outputs(
        _chinchilla_kernel,
        {kind: value, **law.named_coefficients()},
        (np.float64,) * 3,
        {"given": kind, "on_invalid": check_on_invalid(on_invalid)},
    )
    return LazyChinchillaModel(n, d, reached)


def _law_of(named: dict[str, Any]) -> ScalingLaw:
    return ScalingLaw(*(named.pop(c) for c in ("E", "A", "B", "alpha", "beta")))


@dataclass(frozen=True)
class LazyLifetimeOptimum(_Lazy, LifetimeOptimum):
    """`LifetimeOptimum` with Dask arrays; `compute()` gives the in-memory one."""

    _eager = LifetimeOptimum

    @cached_property
    def chinchilla(self) -> ChinchillaModel:
        m = chinchilla_optimal(loss=self.loss, law=self.law, on_invalid="nan")
        return LazyChinchillaModel(m.params, m.tokens, m.loss, self.inference_tokens)


def _optimum_kernel(
    *,
    loss: Any,
    inference_tokens: Any,
    options: dict[str, Any],
    **coefficients: Any,
) -> tuple[Any, ...]:
    r = _compute_optimal(loss, inference_tokens, law=_law_of(coefficients), **options)
    return r.params, r.tokens, r.iterations, r.converged


def compute_optimal(
    loss: Any,
    inference_tokens: Any,
    *,
    law: ScalingLaw | str = CHINCHILLA,
    method: str = "newton",
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    on_invalid: str = "raise",
    start: str = "auto",
) -> LazyLifetimeOptimum:
    """`scaleplan.compute_optimal` on Dask arrays: the same arguments, lazy results.

    With `on_invalid="raise"` a bad row fails the computation with the in-memory
    ValueError prefixed by the chunk it is in; with several bad rows in different chunks,
    the chunk that runs first is the one reported.
    """
    law = resolve_law(law)
    named = {"loss": loss, "inference_tokens": inference_tokens, **law.named_coefficients()}
    shape = _shape_of(named)
    options = _solver_kwargs(method, tol, max_iter, on_invalid, start, law, shape)
    shape, (n, d, it, ok) = lazy_outputs(
        _optimum_kernel, named, _OPTIMUM_DTYPES, {"options": options}
    )
    return LazyLifetimeOptimum(
        n,
        d,
        da.broadcast_to(da.asarray(loss), shape),
        da.broadcast_to(da.asarray(inference_tokens), shape),
        it,
        ok,
        law,
        method,
    )


def _solver_kwargs(
    method: Any,
    tol: Any,
    max_iter: Any,
    on_invalid: Any,
    start: Any,
    law: ScalingLaw,
    shape: tuple[int, ...],
) -> dict[str, Any]:
    """Validated solver options for every chunk, with the whole problem's start rule."""
    tol, max_iter, on_invalid = solver_options(method, tol, max_iter, on_invalid)
    return dict(
        method=method,
        tol=tol,
        max_iter=max_iter,
        on_invalid=on_invalid,
        start=start_rule(start, law, _rows(shape)),
    )


def _shape_of(named: dict[str, Any]) -> tuple[int, ...]:
    from ._chunks import as_input

    arrays = {k: as_input(k, v) for k, v in named.items()}
    try:
        return tuple(np.broadcast_shapes(*(a.shape for a in arrays.values())))
    except ValueError:
        shapes = ", ".join(f"{k} {a.shape}" for k, a in arrays.items())
        raise ScaleplanError(f"shapes do not broadcast together: {shapes}") from None


@dataclass(frozen=True)
class LazyCostOptimum(_Lazy, CostOptimum):
    """`CostOptimum` with Dask arrays; `compute()` gives the in-memory one."""

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
        law=_law_of(coefficients),
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
    """`scaleplan.cost_optimal` on Dask arrays: the same arguments, lazy results."""
    costs = resolve_costs(costs)
    law = resolve_law(law)
    named = {
        "loss": loss,
        "requests": requests,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        **law.named_coefficients(),
    }
    shape = _shape_of(named)
    options = _solver_kwargs(method, tol, max_iter, on_invalid, start, law, shape)
    shape, (n, d, it, ok) = lazy_outputs(
        _cost_kernel, named, _OPTIMUM_DTYPES, {"costs": costs, "options": options}
    )
    full = [
        da.broadcast_to(da.asarray(v), shape) for v in (loss, requests, input_tokens, output_tokens)
    ]
    return LazyCostOptimum(n, d, *full, it, ok, law, costs)


@dataclass(frozen=True)
class LazyStepCounts(_Lazy, StepCounts):
    """`StepCounts` with Dask arrays; `compute()` gives the in-memory one."""

    _eager = StepCounts


def _shape_fields(shapes: Any) -> dict[str, Any]:
    if isinstance(shapes, TransformerShape):
        return {f: getattr(shapes, f) for f in FIELDS}
    if not hasattr(shapes, "items"):
        raise ScaleplanError(
            "shapes must be a TransformerShape or a mapping from shape field to arrays "
            "(Dask or NumPy)",
            "shapes",
        )
    unknown = set(shapes) - set(FIELDS)
    if unknown:
        raise ScaleplanError(
            f"unknown shape field {sorted(unknown)[0]!r}; fields: {', '.join(FIELDS)}"
        )
    for k in ("d_model", "n_layers", "n_heads"):
        if k not in shapes:
            raise ScaleplanError(f"shape field {k!r} is required")
    return dict(shapes)


def _counts_kernel(**shape: Any) -> tuple[Any, ...]:
    c = _step_counts(shape)
    return c.params, c.flops, c.memcpy_elements, c.activation_elements


def step_counts(shapes: Any) -> LazyStepCounts:
    """`scaleplan.step_counts` for a mapping of shape fields to Dask arrays."""
    _, counts = lazy_outputs(_counts_kernel, _shape_fields(shapes), (np.float64,) * 4)
    return LazyStepCounts(*counts)


def step_time(model: StepTimeModel, shapes: Any) -> da.Array:
    """`model.predict(shapes)` lazily: seconds per training step of each shape."""
    if not isinstance(model, StepTimeModel):
        raise ScaleplanError(f"model must be a StepTimeModel; got {model!r}", "model")
    c = step_counts(shapes)
    return (
        model.c_flop * c.flops + model.c_mem * c.memcpy_bytes(model.bytes_per_element) + model.c_0
    )


@dataclass(frozen=True)
class LazyBudgetResult(_Lazy, BudgetResult):
    """`BudgetResult` with Dask arrays; `compute()` gives the in-memory one."""

    _eager = BudgetResult


def _budget_kernel(
    *, seconds: float, law: ScalingLaw, time_model: StepTimeModel | None, **shape: Any
) -> tuple[Any, ...]:
    r = _loss_in_budget(shape, seconds, law=law, time_model=time_model)
    return r.loss, r.params, r.tokens, r.steps, r.step_seconds, r.memory_bytes


def loss_in_budget(
    shapes: Any,
    seconds: float,
    *,
    law: ScalingLaw | str = CHINCHILLA,
    time_model: StepTimeModel | None = None,
) -> LazyBudgetResult:
    """`scaleplan.loss_in_budget` for a mapping of shape fields to Dask arrays."""
    seconds = check_seconds(seconds)
    law = resolve_law(law)
    _, out = lazy_outputs(
        _budget_kernel,
        _shape_fields(shapes),
        (np.float64,) * 6,
        {"seconds": float(seconds), "law": law, "time_model": time_model},
    )
    return LazyBudgetResult(*out)
