"""Fits the suite repeats, computed once per test process.

`fit_law`'s grid stage (L-BFGS-B from each of 4,500 starts, `fitting.fit._run_starts`) is
a pure function of its arguments and the most repeated work of the suite: the same
shipped runs are fitted by the fit tests, the command-line tests, the documentation's
examples, the next-run and family tests and `reproduce` (224 grid fits, 127 s of CPU,
when each ran). `run_starts_once` computes each distinct grid fit once per test process
and hands every caller its own copy, so a caller that changes its arrays changes nothing
for the next; everything after the grid (Newton's polish, the bootstrap, the plans) runs
for real in every test. tests/conftest.py installs it for the whole session.

Not memoized: a fit with an executor or a progress callback (what those tests check is
the pool and the callbacks), and anything other than arrays of float64 and plain numbers.
A fit that fails raises in every test that asks for it (nothing is stored).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

from scaleplan.fitting import fit

_REAL_RUN_STARTS = fit._run_starts
# About 0.7 MB an entry for the full grid: the last 48 distinct fits are kept.
_LIMIT = 48
_FITS: OrderedDict[tuple[Any, ...], list[tuple[float, Any, bool]]] = OrderedDict()


def _array_key(a: Any) -> tuple[Any, ...]:
    a = np.asarray(a)
    return (a.dtype.str, a.shape, a.tobytes())


def _key(
    data: Any, starts: Any, delta: float, weights: Any, mean: bool, tolerances: Any
) -> tuple[Any, ...]:
    return (
        tuple(_array_key(c) for c in data),
        _array_key(starts),
        float(delta),
        None if weights is None else _array_key(weights),
        bool(mean),
        tuple(float(t) for t in tolerances),
    )


def _copies(results: list[tuple[float, Any, bool]]) -> list[tuple[float, Any, bool]]:
    return [(f, np.array(x, copy=True), ok) for f, x, ok in results]


def run_starts_once(
    data: Any,
    starts: Any,
    delta: float,
    weights: Any,
    executor: Any,
    mean: bool,
    tolerances: Any,
    progress: Any = None,
) -> list[tuple[float, Any, bool]]:
    """`fit._run_starts`, each distinct serial call computed once in this process."""
    columns = [np.asarray(c) for c in (*data, starts)]
    if executor is not None or progress is not None or any(c.dtype.kind != "f" for c in columns):
        return _REAL_RUN_STARTS(data, starts, delta, weights, executor, mean, tolerances, progress)
    key = _key(data, starts, delta, weights, mean, tolerances)
    if key not in _FITS:
        _FITS[key] = _copies(
            _REAL_RUN_STARTS(data, starts, delta, weights, None, mean, tolerances, None)
        )
        if len(_FITS) > _LIMIT:
            _FITS.popitem(last=False)
    _FITS.move_to_end(key)
    return _copies(_FITS[key])


def install() -> None:
    """Route `fit_law`'s grid stage through `run_starts_once` (it looks the name up in
    its module at call time)."""
    fit._run_starts = run_starts_once
