"""The options every optimiser's solver takes, defined once in the Rust core: its methods,
start rules, tolerance and iteration defaults and limits, and their checks
(`solver_options`, `check_start`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from .._utils.arrays import is_real_scalar, real_float
from ..errors import ScaleplanError

__all__ = [
    "DEFAULT_MAX_ITER",
    "DEFAULT_TOL",
    "MAX_ITER_LIMIT",
    "METHODS",
    "STARTS",
    "check_start",
    "solver_options",
]


METHODS: tuple[str, ...] = tuple(_core.METHODS)
STARTS: tuple[str, ...] = tuple(_core.STARTS)
# Solver defaults and limits, from the Rust core (their one definition).
DEFAULT_TOL: float = _core.DEFAULT_TOL
DEFAULT_MAX_ITER: int = _core.DEFAULT_MAX_ITER
MAX_ITER_LIMIT: int = _core.MAX_ITER_LIMIT


def solver_options(
    method: Any, tol: Any, max_iter: Any, on_invalid: Any, start: Any = "auto"
) -> tuple[float, int, str]:
    """Validated solver options shared by every entry point that runs the solver.

    Types are checked here (Rust would read a bool as 1 and refuse a str with a TypeError);
    names, ranges and their messages are the core's (`Options::parse`), the one definition
    every layer uses.

    Parameters
    ----------
    method, tol, max_iter, on_invalid, start
        As `compute_optimal` takes them.

    Returns
    -------
    tuple of (float, int, str)
        `(tol, max_iter, on_invalid)` as plain Python values.

    Raises
    ------
    ScaleplanError
        If an option is of the wrong type or out of range, naming it.

    Examples
    --------
    >>> from scaleplan.optimal.solver import solver_options
    >>> solver_options("newton", 1e-10, 50, "raise")
    (1e-10, 50, 'raise')
    >>> solver_options("simplex", 1e-10, 50, "raise")
    Traceback (most recent call last):
    ...
    scaleplan.errors.ScaleplanError: method must be one of newton, ...; got "simplex"
    """
    if not is_real_scalar(tol):
        raise ScaleplanError(f"tol must be {_core.TOL_RANGE}; got {tol!r}", "tol")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)):
        raise ScaleplanError(
            f"max_iter must be {_core.MAX_ITER_RANGE}; got {max_iter!r}", "max_iter"
        )
    names = [v if isinstance(v, str) else repr(v) for v in (method, on_invalid, start)]
    _core.check_options(
        names[0], real_float("tol", tol), real_float("max_iter", max_iter), names[1], names[2]
    )
    return float(tol), int(max_iter), str(on_invalid)


def check_start(start: Any) -> str:
    """`start` checked against `STARTS`.

    Raises
    ------
    ScaleplanError
        If `start` is not one of "auto", "bound", "table".

    Examples
    --------
    >>> from scaleplan.optimal.solver import check_start
    >>> check_start("table")
    'table'
    """
    if start not in STARTS:
        raise ScaleplanError(f"start must be one of {', '.join(STARTS)}; got {start!r}", "start")
    return str(start)
