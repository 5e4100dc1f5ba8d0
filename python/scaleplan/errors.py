"""`ScaleplanError`: every bad input, from Rust or from Python, as data.

A `ValueError` (so existing `except ValueError` code keeps working) that also carries the
public name of the argument at fault (`argument`, e.g. "loss"; None when no single argument
is) and the row of a batch (`index`, flat in the broadcast shape; None for scalars and
options). The message is the same text as before.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FitError", "ScaleplanError"]


class ScaleplanError(ValueError):
    """Bad input or an answer that cannot be given; `argument` and `index` say where."""

    def __init__(self, message: str, argument: str | None = None, index: int | None = None):
        super().__init__(message)
        self.argument = argument
        self.index = index

    def __reduce__(self) -> tuple[Any, ...]:
        # Survives pickling (process pools, Dask workers) with its fields.
        return (type(self), (str(self), self.argument, self.index))


class FitError(ScaleplanError, RuntimeError):
    """No start of a fit converged: there is no answer to report (a `ScaleplanError`, so
    every failure of a public call is one class; a `RuntimeError` as it always was).
    Defined here, not beside the fits, so that catching it imports no SciPy."""
