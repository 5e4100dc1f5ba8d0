"""Lifetime compute-optimal sizing (Sardana et al. 2024, "Beyond Chinchilla-Optimal").

For a target loss l and a lifetime inference demand of D_inf tokens, find the parameters N
and training tokens D that minimise training plus inference FLOPs,

    minimise 6 N D + 2 N D_inf   subject to   E + A N^-alpha + B D^-beta = l,

which has no closed form (the paper's Appendix A). The Rust core solves the equivalent
one-variable equation (the paper's Eq. 12) with a safeguarded Newton iteration in log space,
vectorised over any number of scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from .. import _core
from .._utils.arrays import broadcast, echoed, is_real_scalar, real_float, shaped
from .._utils.frames import Tabular
from .._utils.labels import labelled
from ..laws.closed_form import chinchilla_optimal
from ..laws.family import route
from ..laws.scaling import CHINCHILLA, ChinchillaModel, FlopAccounting, ScalingLaw, resolve_law

if TYPE_CHECKING:  # for the overloads only
    from ..laws.data_constrained import DataConstrainedLaw
    from .constrained import ConstrainedOptimum

from .solver import DEFAULT_MAX_ITER, DEFAULT_TOL, MAX_ITER_LIMIT, solver_options

__all__ = [
    "LifetimeOptimum",
    "compute_optimal",
]

_new = object.__new__


@dataclass(frozen=True, repr=False)
class LifetimeOptimum(FlopAccounting, Tabular):
    """The model that reaches `loss` with the fewest training + inference FLOPs.

    What `compute_optimal` returns. Floats for scalar inputs and arrays in the broadcast
    shape otherwise; rows rejected with `on_invalid="nan"` hold NaN and `converged=False`.
    The FLOP totals (`training_flops` `6 N D`, `inference_flops` `2 N D_inf`,
    `total_flops`) come from `FlopAccounting`; the equal-quality Chinchilla-style model is
    `chinchilla`, charged for the same inference demand.

    Parameters
    ----------
    params : float or numpy.ndarray
        Parameters N (count).
    tokens : float or numpy.ndarray
        Training tokens D.
    loss : float or numpy.ndarray
        The target loss, in nats/token.
    inference_tokens : float or numpy.ndarray
        The lifetime inference demand D_inf, in tokens.
    iterations : int or numpy.ndarray
        Solver steps (0 without demand, where the Chinchilla closed form applies).
    converged : bool or numpy.ndarray
        Whether the row is an answer.
    law : ScalingLaw
        The law solved.
    method : str, optional
        The solver used.

    Examples
    --------
    >>> from scaleplan import compute_optimal
    >>> opt = compute_optimal(2.0, 1e13)
    >>> print(f"N = {opt.params:.3g}, D = {opt.tokens:.3g}, saving {opt.flop_saving:.1%}")
    N = 7.72e+09, D = 3.43e+12, saving 37.3%
    >>> print(f"Chinchilla-style: N = {opt.chinchilla.params:.3g}")
    Chinchilla-style: N = 1.95e+10
    """

    _INPUTS = ("loss", "inference_tokens")
    _OUTPUTS = (
        "params",
        "tokens",
        "tokens_per_param",
        "training_flops",
        "inference_flops",
        "total_flops",
        "flop_saving",
        "iterations",
        "converged",
    )

    params: Any
    tokens: Any
    loss: Any
    inference_tokens: Any
    iterations: Any
    converged: Any
    law: ScalingLaw
    method: str = "newton"

    @classmethod
    def _of(
        cls,
        params: float,
        tokens: float,
        loss: float,
        inference_tokens: float,
        iterations: int,
        converged: bool,
        law: ScalingLaw,
        method: str,
    ) -> LifetimeOptimum:
        """Builds a result without the frozen dataclass's per-field `object.__setattr__`
        (that costs as much as the solve itself); same fields, equally immutable after."""
        self = _new(cls)
        d = self.__dict__
        d["params"] = params
        d["tokens"] = tokens
        d["loss"] = loss
        d["inference_tokens"] = inference_tokens
        d["iterations"] = iterations
        d["converged"] = converged
        d["law"] = law
        d["method"] = method
        return self

    @cached_property
    def chinchilla(self) -> ChinchillaModel:
        """The Chinchilla-style model of the same loss, serving the same demand.

        Examples
        --------
        >>> from scaleplan import compute_optimal
        >>> print(f"{compute_optimal(2.0, 1e13).chinchilla.total_flops:.3g}")
        4.99e+23
        """
        model = chinchilla_optimal(loss=self.loss, law=self.law, on_invalid="nan")
        return ChinchillaModel(model.params, model.tokens, model.loss, self.inference_tokens)

    @property
    def flop_saving(self) -> Any:
        """Fraction of the Chinchilla-style model's lifetime FLOPs saved (0.09 = 9%).

        `1 - total_flops / chinchilla.total_flops`.

        Examples
        --------
        >>> from scaleplan import compute_optimal
        >>> round(compute_optimal(2.0, 1e12).flop_saving, 4)
        0.0459
        """
        return 1.0 - self.total_flops / self.chinchilla.total_flops


@overload
def compute_optimal(
    loss: Any,
    inference_tokens: Any,
    *,
    law: ScalingLaw | DataConstrainedLaw | str = ...,
    method: str = ...,
    tol: float = ...,
    max_iter: int = ...,
    on_invalid: str = ...,
    start: str = ...,
    unique_tokens: None = None,
    experts: Any = None,
) -> LifetimeOptimum: ...
@overload
def compute_optimal(
    loss: Any,
    inference_tokens: Any,
    *,
    law: ScalingLaw | DataConstrainedLaw | str = ...,
    method: str = ...,
    tol: float = ...,
    max_iter: int = ...,
    on_invalid: str = ...,
    start: str = ...,
    unique_tokens: float | np.ndarray | list[float],
    experts: Any = None,
) -> ConstrainedOptimum: ...
@labelled
def compute_optimal(
    loss: Any,
    inference_tokens: Any,
    *,
    law: ScalingLaw | DataConstrainedLaw | str = CHINCHILLA,
    method: str = "newton",
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    on_invalid: str = "raise",
    start: str = "auto",
    unique_tokens: Any = None,
    experts: Any = None,
) -> LifetimeOptimum | ConstrainedOptimum:
    """Parameters and training tokens minimising lifetime FLOPs at a given loss.

    Minimises `6 N D + 2 N D_inf` subject to `E + A N^-alpha + B D^-beta = l`: solves
    `0 = (E - l) + B (1 + beta/alpha) D^-beta + (beta B D_inf / (3 alpha)) D^(-beta-1)`
    (Sardana et al. 2024, Eq. 12) for D, then `A N^-alpha = (beta B / alpha) D^-beta
    (1 + D_inf / (3 D))` for N. All array inputs broadcast together like NumPy arguments.

    Parameters
    ----------
    loss : float or array_like
        Target pre-training loss l, in nats/token; greater than the law's E.
    inference_tokens : float or array_like
        Lifetime inference demand D_inf, in tokens (input + output); >= 0.
    law : ScalingLaw or DataConstrainedLaw or str, optional
        A `ScalingLaw` (its coefficients may be arrays: many laws in one call) or a preset
        name (default `CHINCHILLA`).
    method : str, optional
        "newton" (default, vectorised), "halley", "bisect", "brent" or "secant-d" (the
        paper's secant iteration in raw D from D = 1e8).
    tol : float, optional
        Target relative accuracy of the tokens (an absolute tolerance on ln D).
    max_iter : int, optional
        Iteration cap per scenario.
    on_invalid : {"raise", "nan"}, optional
        "raise" (a ScaleplanError naming the argument and row) or "nan" (bad rows become
        NaN with converged False; the others are still solved).
    start : {"auto", "bound", "table"}, optional
        Where Newton starts when all rows share one law: "bound" (a monotone bound),
        "table" (a cached per-beta table of roots: one step per row) or "auto" (the table
        from 50,000 rows on). The start moves an answer by at most a few ulp; pass the rule
        of the whole problem when solving it in pieces so that the pieces equal it bit for
        bit (`scaleplan.dask` does).
    unique_tokens : float or array_like, optional
        A supply of unique training tokens U. Then the law is the data-constrained one
        (Muennighoff et al. 2023; `law` may be a `DataConstrainedLaw`, and a plain law
        takes the published R_D*, R_N*) and the result a `constrained.ConstrainedOptimum`
        (epochs, effective tokens, the premium over unlimited data); where U does not bind
        it is this function's answer without it.

    Returns
    -------
    LifetimeOptimum or ConstrainedOptimum
        `params` N, `tokens` D, FLOP totals, `flop_saving` against the Chinchilla-style
        model, `iterations` and `converged`.

    Raises
    ------
    ScaleplanError
        With `on_invalid="raise"`, a loss at or below E, a negative demand, or a bad
        solver option; the error names the argument and its row.

    Examples
    --------
    A model that reaches 2.0 nats/token and serves 10T tokens in its life is smaller and
    trained longer than the Chinchilla-optimal one:

    >>> from scaleplan import compute_optimal
    >>> opt = compute_optimal(2.0, 1e13)
    >>> print(f"N = {opt.params:.3g}, D = {opt.tokens:.3g}, "
    ...       f"{opt.tokens_per_param:.0f} tokens/param")
    N = 7.72e+09, D = 3.43e+12, 444 tokens/param

    Many scenarios in one call:

    >>> opt = compute_optimal(2.0, [0, 1e12, 1e13])
    >>> print(opt.params.round(-7))
    [1.951e+10 1.393e+10 7.720e+09]

    With only 200B unique tokens, the data-constrained law:

    >>> opt = compute_optimal(2.0, 1e13, unique_tokens=2e11)
    >>> print(f"N = {opt.params:.3g}, {opt.epochs:.1f} epochs")
    N = 1.11e+10, 14.4 epochs
    """
    data = {"unique_tokens": unique_tokens, "experts": experts}
    if unique_tokens is not None or experts is not None or not isinstance(law, (ScalingLaw, str)):
        kernel, law, given = route("compute_optimal", law, **data)
        if kernel is not None:
            # The family's kernel has its own solver: refuse bad options, use none.
            solver_options(method, tol, max_iter, on_invalid, start)
            return kernel(loss, inference_tokens, law=law, on_invalid=on_invalid,
                          **given)  # fmt: skip
    defaults = on_invalid == "raise" and start == "auto"
    if (
        defaults
        and type(loss) is float
        and type(inference_tokens) is float
        and type(law) is ScalingLaw
        and law.scalar_coefficients is not None
        and type(tol) is float
        and type(max_iter) is int
        and 0 < max_iter <= MAX_ITER_LIMIT
    ):
        # One scenario of plain floats: the path schedulers call in a loop. Rust validates
        # the method, tol and every value with the same messages as the general path.
        n, d, it, ok = _core.compute_optimal_scalar(
            loss, inference_tokens, *law.scalar_coefficients, method, tol, max_iter
        )
        return LifetimeOptimum._of(n, d, loss, inference_tokens, it, ok, law, method)
    law = resolve_law(law)
    tol, max_iter, on_invalid = solver_options(method, tol, max_iter, on_invalid, start)
    scalar = is_real_scalar(loss) and is_real_scalar(inference_tokens)
    if defaults and scalar and not law.is_batch:
        loss, inference_tokens = (
            real_float("loss", loss),
            real_float("inference_tokens", inference_tokens),
        )
        return compute_optimal(
            loss, inference_tokens, law=law, method=method, tol=tol, max_iter=max_iter
        )
    shape, cols = broadcast(
        loss=loss, inference_tokens=inference_tokens, **law.named_coefficients()
    )
    n, d, it, ok = _core.compute_optimal(
        *cols[:2],
        tuple(cols[2:]),
        method,
        tol,
        max_iter,
        on_invalid,
        start=start,
        broadcast_shape=shape,
    )
    outputs = (shaped(n, shape), shaped(d, shape))
    echoes = (echoed(cols[0], shape), echoed(cols[1], shape))
    return LifetimeOptimum(*outputs, *echoes, shaped(it, shape), shaped(ok, shape), law, method)
