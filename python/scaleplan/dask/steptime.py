"""Lazy step counts, step times and losses in a wall-clock budget: Dask arrays of shape
fields in, one task per output chunk running `scaleplan.systems.steptime`'s function of
the same name on that chunk; `compute()` gives the in-memory result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dask.array as da
import numpy as np

from ..errors import ScaleplanError
from ..laws.scaling import CHINCHILLA, ScalingLaw, resolve_law
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
from ._lazy import Lazy

__all__ = ["LazyBudgetResult", "LazyStepCounts", "loss_in_budget", "step_counts", "step_time"]


@dataclass(frozen=True)
class LazyStepCounts(Lazy, StepCounts):
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
    return c.params, c.flops, c.memcpy_elements, c.activation_elements, c.active_params


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
    _, counts = lazy_outputs(_counts_kernel, _shape_fields(shapes), (np.float64,) * 5)
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
class LazyBudgetResult(Lazy, BudgetResult):
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
