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
from ..errors import ScaleplanError
from ..laws.family import route
from ..laws.scaling import (
    CHINCHILLA,
    ChinchillaModel,
    FlopAccounting,
    ScalingLaw,
    chinchilla_optimal,
    resolve_law,
)

if TYPE_CHECKING:  # for the overloads only
    from ..laws.data_constrained import DataConstrainedLaw
    from .constrained import ConstrainedOptimum

__all__ = [
    "DEFAULT_MAX_ITER",
    "DEFAULT_TOL",
    "MAX_ITER_LIMIT",
    "METHODS",
    "STARTS",
    "LifetimeOptimum",
    "check_start",
    "compute_optimal",
    "solver_options",
]

METHODS: tuple[str, ...] = tuple(_core.METHODS)
STARTS: tuple[str, ...] = tuple(_core.STARTS)
_new = object.__new__
# Solver defaults and limits, from the Rust core (their one definition).
DEFAULT_TOL: float = _core.DEFAULT_TOL
DEFAULT_MAX_ITER: int = _core.DEFAULT_MAX_ITER
MAX_ITER_LIMIT: int = _core.MAX_ITER_LIMIT


@dataclass(frozen=True, repr=False)
class LifetimeOptimum(FlopAccounting, Tabular):
    """The model that reaches `loss` with the fewest training + inference FLOPs.

    `params` (N) and `tokens` (D, training tokens) are floats for scalar inputs and arrays
    in the broadcast shape otherwise; rows rejected with `on_invalid="nan"` hold NaN and
    `converged=False`. `iterations` counts solver steps (0 without demand, where the
    Chinchilla closed form applies). The equal-quality Chinchilla-style model is
    `chinchilla`, charged for the same inference demand.
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
        """The Chinchilla-style model of the same loss, serving the same demand."""
        model = chinchilla_optimal(loss=self.loss, law=self.law, on_invalid="nan")
        return ChinchillaModel(model.params, model.tokens, model.loss, self.inference_tokens)

    @property
    def flop_saving(self) -> Any:
        """Fraction of the Chinchilla-style model's lifetime FLOPs saved (0.09 = 9%)."""
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
) -> ConstrainedOptimum: ...
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
) -> LifetimeOptimum | ConstrainedOptimum:
    """Parameters and training tokens minimising lifetime FLOPs at a given loss.

    Solves `0 = (E - l) + B (1 + beta/alpha) D^-beta + (beta B D_inf / (3 alpha)) D^(-beta-1)`
    (Sardana et al. 2024, Eq. 12) for D, then `A N^-alpha = (beta B / alpha) D^-beta
    (1 + D_inf / (3 D))` for N.

    Args:
        loss: target pre-training loss l (nats/token), greater than the law's E.
        inference_tokens: lifetime inference demand D_inf in tokens (input + output), >= 0.
        law: a `ScalingLaw` (its coefficients may be arrays: many laws in one call) or a
            preset name.
        method: "newton" (default, vectorised), "halley", "bisect", "brent" or "secant-d"
            (the paper's secant iteration in raw D from D = 1e8).
        tol: target relative accuracy of the tokens (an absolute tolerance on ln D).
        max_iter: iteration cap per scenario.
        on_invalid: "raise" (ValueError naming the argument and row) or "nan" (bad rows
            become NaN with converged False; the others are still solved).
        start: where Newton starts when all rows share one law: "bound" (a monotone
            bound), "table" (a cached per-beta table of roots: one step per row) or "auto"
            (the table from 50,000 rows on). The start moves an answer by at most a few
            ulp; pass the rule of the whole problem when solving it in pieces so that the
            pieces equal it bit for bit (`scaleplan.dask` does).
        unique_tokens: a supply of unique training tokens U. Then the law is the
            data-constrained one (Muennighoff et al. 2023; `law` may be a
            `DataConstrainedLaw`, and a plain law takes the published R_D*, R_N*) and the
            result a `constrained.ConstrainedOptimum` (epochs, effective tokens, the
            premium over unlimited data); where U does not bind it is this function's
            answer without it.

    All array inputs broadcast together like NumPy arguments.
    """
    if unique_tokens is not None or not isinstance(law, (ScalingLaw, str)):
        kernel, law = route("compute_optimal", law, unique_tokens=unique_tokens)
        if kernel is not None:
            # The family's kernel has its own solver: refuse bad options, use none.
            solver_options(method, tol, max_iter, on_invalid, start)
            return kernel(loss, inference_tokens, law=law, on_invalid=on_invalid,
                          unique_tokens=unique_tokens)  # fmt: skip
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


def solver_options(
    method: Any, tol: Any, max_iter: Any, on_invalid: Any, start: Any = "auto"
) -> tuple[float, int, str]:
    """Validated solver options shared by every entry point that runs the solver.

    Types are checked here (Rust would read a bool as 1 and refuse a str with a TypeError);
    names, ranges and their messages are the core's (`Options::parse`), the one definition
    every layer uses."""
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
    if start not in STARTS:
        raise ScaleplanError(f"start must be one of {', '.join(STARTS)}; got {start!r}", "start")
    return str(start)
