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
    whole problem of `rows` rows; chunks are told it so that they reproduce the whole.

    "auto" is "table" for a law with one set of coefficients and at least
    `_core.TABLE_MIN_ROWS` rows, "bound" otherwise; any other rule is kept.

    Parameters
    ----------
    start : {"auto", "bound", "table"}
        The rule asked for (`compute_optimal`'s `start`).
    law : ScalingLaw
        The law solved.
    rows : int
        Rows of the whole problem.

    Returns
    -------
    str
        "bound" or "table".

    Raises
    ------
    ScaleplanError
        If `start` is not one of the rules.

    Examples
    --------
    >>> from scaleplan import CHINCHILLA
    >>> start_rule("auto", CHINCHILLA, 10), start_rule("auto", CHINCHILLA, 10**6)
    ('bound', 'table')
    """
    start = check_start(start)
    if start != "auto":
        return start
    shared = all(np.size(c) == 1 for c in law.coefficients)
    return "table" if shared and rows >= _core.TABLE_MIN_ROWS else "bound"


def _rows(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64))


@dataclass(frozen=True)
class LazyChinchillaModel(_Lazy, ChinchillaModel):
    """`ChinchillaModel` with Dask arrays; `compute()` gives the in-memory one.

    What `chinchilla_optimal` returns: `params`, `tokens` and `loss` as Dask arrays (the
    fields of `scaleplan.ChinchillaModel`, same units).

    Examples
    --------
    >>> import dask.array as da
    >>> lazy = chinchilla_optimal(compute=da.from_array([1e21, 1e23, 1e25], chunks=2))
    >>> type(lazy).__name__, type(lazy.compute()).__name__
    ('LazyChinchillaModel', 'ChinchillaModel')
    """

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
    """`scaleplan.chinchilla_optimal`, lazily, chunk by chunk: the training-only optimum
    `(N, D)` for a compute budget, a loss or a size, given by exactly one keyword.

    Parameters
    ----------
    compute : array_like or dask.array.Array, optional
        Training FLOPs `C = 6 N D`.
    loss : array_like or dask.array.Array, optional
        The target loss, in nats/token.
    params : array_like or dask.array.Array, optional
        Parameters N (count).
    law : ScalingLaw or str, optional
        The loss law (default Chinchilla's).
    on_invalid : {"raise", "nan"}, optional
        What a row without an answer gives when computed (default "raise").

    Returns
    -------
    LazyChinchillaModel

    Raises
    ------
    ScaleplanError
        At once if not exactly one of `compute`, `loss`, `params` is given or an option is
        bad; on `compute()` if a row is out of range (with "raise").

    Examples
    --------
    >>> import dask.array as da
    >>> budgets = da.from_array([1e21, 1e23, 1e25], chunks=2)
    >>> model = chinchilla_optimal(compute=budgets).compute()
    >>> [f"{n:.3g}" for n in model.params]
    ['2.28e+09', '1.87e+10', '1.54e+11']
    """
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
    """`LifetimeOptimum` with Dask arrays; `compute()` gives the in-memory one.

    What `compute_optimal` returns: the fields of `scaleplan.LifetimeOptimum` (same
    units), its arrays lazy.

    Examples
    --------
    >>> import dask.array as da
    >>> lazy = compute_optimal(da.linspace(1.9, 2.5, 1000, chunks=250), 1e13)
    >>> type(lazy).__name__, lazy.params.chunks
    ('LazyLifetimeOptimum', ((250, 250, 250, 250),))
    >>> type(lazy.compute()).__name__
    'LifetimeOptimum'
    """

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

    Parameters
    ----------
    loss : array_like or dask.array.Array
        The target loss, in nats/token.
    inference_tokens : array_like or dask.array.Array
        Lifetime inference tokens.
    law, method, tol, max_iter, on_invalid, start
        As `scaleplan.compute_optimal`; checked at once.

    Returns
    -------
    LazyLifetimeOptimum
        Lazy; `compute()` gives the `LifetimeOptimum` equal bit for bit to the in-memory
        call on the whole arrays.

    Raises
    ------
    ScaleplanError
        At once if an option is bad or the shapes do not broadcast; on `compute()` if a
        row is out of range (with "raise").

    Examples
    --------
    >>> import dask.array as da
    >>> loss = da.linspace(1.9, 2.5, 1000, chunks=250)  # four chunks
    >>> opt = compute_optimal(loss, 1e13).compute()
    >>> print(f"N = {opt.params[0]:.4g} at loss 1.9, {opt.params[-1]:.4g} at 2.5")
    N = 3.558e+10 at loss 1.9, 2.174e+08 at 2.5
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
    """`StepCounts` with Dask arrays; `compute()` gives the in-memory one.

    What `step_counts` returns: the fields of `scaleplan.StepCounts` (parameters, FLOPs
    and elements moved per step), lazy.

    Examples
    --------
    >>> import dask.array as da
    >>> widths = da.from_array([512.0, 1024.0, 2048.0], chunks=2)
    >>> shapes = {"d_model": widths, "n_layers": 8, "n_heads": 8, "seq_len": 2048,
    ...           "batch_size": 32}
    >>> type(step_counts(shapes)).__name__, type(step_counts(shapes).compute()).__name__
    ('LazyStepCounts', 'StepCounts')
    """

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
    """`scaleplan.step_counts` for a mapping of shape fields to Dask arrays: parameters,
    FLOPs and memory traffic per training step, chunk by chunk.

    Parameters
    ----------
    shapes : TransformerShape or mapping of str to array_like
        Shape fields (`d_model`, `n_layers` and `n_heads` required) as Dask arrays, NumPy
        arrays or numbers.

    Returns
    -------
    LazyStepCounts

    Raises
    ------
    ScaleplanError
        If `shapes` is not a shape or a mapping, names an unknown field, or lacks a
        required one.

    Examples
    --------
    >>> import dask.array as da
    >>> widths = da.from_array([512.0, 1024.0, 2048.0], chunks=2)
    >>> shapes = {"d_model": widths, "n_layers": 8, "n_heads": 8, "seq_len": 2048,
    ...           "batch_size": 32}
    >>> counts = step_counts(shapes).compute()
    >>> [f"{n:.3g}" for n in counts.params], [f"{f:.3g}" for f in counts.flops]
    (['6.63e+07', '2e+08', '6.68e+08'], ['2.62e+13', '7.89e+13', '2.63e+14'])
    """
    _, counts = lazy_outputs(_counts_kernel, _shape_fields(shapes), (np.float64,) * 4)
    return LazyStepCounts(*counts)


def step_time(model: StepTimeModel, shapes: Any) -> da.Array:
    """`model.predict(shapes)` lazily: seconds per training step of each shape,
    `c_flop * FLOPs + c_mem * bytes moved + c_0`.

    Parameters
    ----------
    model : StepTimeModel
        The step-time model.
    shapes : TransformerShape or mapping of str to array_like
        Shape fields, as `step_counts` takes them.

    Returns
    -------
    dask.array.Array
        Seconds per step.

    Raises
    ------
    ScaleplanError
        If `model` is not a `StepTimeModel` or `shapes` is bad.

    Examples
    --------
    >>> from scaleplan.systems.steptime import StepTimeModel
    >>> import dask.array as da
    >>> widths = da.from_array([512.0, 1024.0, 2048.0], chunks=2)
    >>> shapes = {"d_model": widths, "n_layers": 8, "n_heads": 8, "seq_len": 2048,
    ...           "batch_size": 32}
    >>> seconds = step_time(StepTimeModel(2e-15, 1e-12, 0.01), shapes)
    >>> seconds.compute().round(3)
    array([0.383, 0.566, 1.095])
    """
    if not isinstance(model, StepTimeModel):
        raise ScaleplanError(f"model must be a StepTimeModel; got {model!r}", "model")
    c = step_counts(shapes)
    return (
        model.c_flop * c.flops + model.c_mem * c.memcpy_bytes(model.bytes_per_element) + model.c_0
    )


@dataclass(frozen=True)
class LazyBudgetResult(_Lazy, BudgetResult):
    """`BudgetResult` with Dask arrays; `compute()` gives the in-memory one.

    What `loss_in_budget` returns: the fields of `scaleplan.systems.steptime.BudgetResult`
    (same units), lazy.

    Examples
    --------
    >>> import dask.array as da
    >>> widths = da.from_array([512.0, 1024.0, 2048.0], chunks=2)
    >>> shapes = {"d_model": widths, "n_layers": 8, "n_heads": 8, "seq_len": 2048,
    ...           "batch_size": 32}
    >>> type(loss_in_budget(shapes, 3600.0)).__name__
    'LazyBudgetResult'
    """

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
    """`scaleplan.loss_in_budget` for a mapping of shape fields to Dask arrays: the loss
    `L(N, seconds / TIME * batch * seq)` each shape reaches in a wall-clock budget.

    Parameters
    ----------
    shapes : TransformerShape or mapping of str to array_like
        Shape fields, as `step_counts` takes them.
    seconds : float
        The training budget, in seconds of wall clock.
    law : ScalingLaw or str, optional
        The loss law (default Chinchilla's).
    time_model : StepTimeModel, optional
        Seconds per step (default: the H100 bf16 roofline at 50% MFU).

    Returns
    -------
    LazyBudgetResult

    Raises
    ------
    ScaleplanError
        If `seconds` is not > 0 or `shapes` is bad.

    Examples
    --------
    >>> import dask.array as da
    >>> widths = da.from_array([512.0, 1024.0, 2048.0], chunks=2)
    >>> shapes = {"d_model": widths, "n_layers": 8, "n_heads": 8, "seq_len": 2048,
    ...           "batch_size": 32}
    >>> loss_in_budget(shapes, 3600.0).compute().loss.round(3)  # one hour
    array([3.67 , 3.572, 3.715])
    """
    seconds = check_seconds(seconds)
    law = resolve_law(law)
    _, out = lazy_outputs(
        _budget_kernel,
        _shape_fields(shapes),
        (np.float64,) * 6,
        {"seconds": float(seconds), "law": law, "time_model": time_model},
    )
    return LazyBudgetResult(*out)
