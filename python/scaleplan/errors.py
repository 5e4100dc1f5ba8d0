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
    """Bad input or an answer that cannot be given; `argument` and `index` say where.

    Every public call refuses bad input with this class: the message names the argument
    and the range it needs, and the attributes carry the same as data.

    Parameters
    ----------
    message : str
        What was wrong and the range needed, e.g. "loss must be finite and greater than
        the law's irreducible loss E; got 1.0".
    argument : str, optional
        The public name of the argument at fault (None when no single argument is).
    index : int, optional
        The row of a batch at fault, flat in the broadcast shape (None for scalars and
        options).

    Examples
    --------
    >>> import scaleplan as sp
    >>> try:
    ...     sp.compute_optimal([2.0, 1.0], 1e12)  # 1.0 nats/token is below E = 1.69
    ... except sp.ScaleplanError as e:
    ...     print(e.argument, e.index)
    ...     print(e)
    loss 1
    loss must be finite and greater than the law's irreducible loss E; got 1.0 at index 1

    It is a `ValueError`, and survives pickling (process pools, Dask workers):

    >>> import pickle
    >>> e = pickle.loads(pickle.dumps(sp.ScaleplanError("bad", "loss", 3)))
    >>> isinstance(e, ValueError), e.argument, e.index
    (True, 'loss', 3)
    """

    def __init__(self, message: str, argument: str | None = None, index: int | None = None):
        super().__init__(message)
        self.argument = argument
        self.index = index

    def __reduce__(self) -> tuple[Any, ...]:
        # Survives pickling (process pools, Dask workers) with its fields.
        return (type(self), (str(self), self.argument, self.index))


class FitError(ScaleplanError, RuntimeError):
    """No start of a fit converged: there is no answer to report.

    A `ScaleplanError`, so every failure of a public call is one class; a `RuntimeError`
    as it always was. Defined here, not beside the fits, so that catching it imports no
    SciPy. Its fields are `ScaleplanError`'s.

    Examples
    --------
    A start so far from the data that L-BFGS-B and Newton's method both fail from it:

    >>> import numpy as np
    >>> from scaleplan.fitting import fit_law
    >>> from scaleplan.fitting.datasets import chinchilla_runs
    >>> try:
    ...     fit_law(chinchilla_runs(), starts=np.full((1, 5), 1e6))
    ... except FitError as e:
    ...     print(e)
    fit_law: none of 1 starts reached a minimum (L-BFGS-B, then Newton ...)
    >>> issubclass(FitError, ScaleplanError), issubclass(FitError, RuntimeError)
    (True, True)
    """
