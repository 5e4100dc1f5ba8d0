"""What the lazy kernels share: the `compute()` of a lazy result, the broadcast shape of named
inputs, a law from its named coefficients, and the solver options (with the whole
problem's start rule) that every chunk is told.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import dask
import dask.array as da
import numpy as np

from .. import _core
from ..errors import ScaleplanError
from ..laws.scaling import ScalingLaw
from ..optimal.solver import check_start, solver_options

__all__ = [
    "OPTIMUM_DTYPES",
    "Lazy",
    "law_of",
    "row_count",
    "shape_of",
    "solver_kwargs",
    "start_rule",
]


OPTIMUM_DTYPES = (np.float64, np.float64, np.uint32, np.bool_)


class Lazy:
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


def row_count(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64))


def law_of(named: dict[str, Any]) -> ScalingLaw:
    return ScalingLaw(*(named.pop(c) for c in ("E", "A", "B", "alpha", "beta")))


def solver_kwargs(
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
        start=start_rule(start, law, row_count(shape)),
    )


def shape_of(named: dict[str, Any]) -> tuple[int, ...]:
    from ._chunks import as_input

    arrays = {k: as_input(k, v) for k, v in named.items()}
    try:
        return tuple(np.broadcast_shapes(*(a.shape for a in arrays.values())))
    except ValueError:
        shapes = ", ".join(f"{k} {a.shape}" for k, a in arrays.items())
        raise ScaleplanError(f"shapes do not broadcast together: {shapes}") from None
