"""Lazy versions of the batch functions: Dask arrays in, Dask arrays out.

Each function validates its options and shapes at once (so mistakes surface before any
work is scheduled), then builds one task per output chunk that runs the in-memory
function of the same name on that chunk: the Rust kernels, their checks and their
messages are the same ones. `compute()` on a result computes all of its arrays in one pass
and returns the in-memory result type, equal bit for bit to the in-memory call on the
whole arrays (Newton is told the start rule the whole problem would use; see
`compute_optimal`'s `start`).

Law coefficients stay in memory (a law with bootstrap arrays is small); the scenario
arrays (`loss`, demand, shapes) are what grows. Here the FLOP optima; the dollar optimum
is in `costs`, the step counts, step times and losses in a budget in `steptime`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import dask.array as da
import numpy as np

from .._utils.arrays import check_on_invalid
from ..laws.closed_form import chinchilla_given
from ..laws.closed_form import chinchilla_optimal as _chinchilla_optimal
from ..laws.scaling import CHINCHILLA, ChinchillaModel, ScalingLaw, resolve_law
from ..optimal.lifetime import LifetimeOptimum
from ..optimal.lifetime import compute_optimal as _compute_optimal
from ..optimal.solver import DEFAULT_MAX_ITER, DEFAULT_TOL
from ._chunks import lazy_outputs
from ._lazy import OPTIMUM_DTYPES, Lazy, law_of, shape_of, solver_kwargs

__all__ = [
    "LazyChinchillaModel",
    "LazyLifetimeOptimum",
    "chinchilla_optimal",
    "compute_optimal",
]


@dataclass(frozen=True)
class LazyChinchillaModel(Lazy, ChinchillaModel):
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
    law = law_of(named)
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


@dataclass(frozen=True)
class LazyLifetimeOptimum(Lazy, LifetimeOptimum):
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
    r = _compute_optimal(loss, inference_tokens, law=law_of(coefficients), **options)
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
    shape = shape_of(named)
    options = solver_kwargs(method, tol, max_iter, on_invalid, start, law, shape)
    shape, (n, d, it, ok) = lazy_outputs(
        _optimum_kernel, named, OPTIMUM_DTYPES, {"options": options}
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
