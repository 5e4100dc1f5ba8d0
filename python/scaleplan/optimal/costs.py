"""Lifetime cost-optimal sizing in dollars (Sardana et al. 2024, §6 and App. B.2-B.3).

Training N parameters on D tokens and serving `requests` requests of `input_tokens` prompt
and `output_tokens` generated tokens costs

    dollars = 6 N D c_tr / MFU_tr + 2 N requests c_inf (input_tokens / MFU_prefill
                                                      + output_tokens / MFU_decode)

with `c = price_per_hour / (3600 * peak FLOP/s)` the dollars per peak FLOP of each phase's
hardware at its precision. Minimising it at a fixed loss is the FLOP problem with the
effective demand `D_eff = requests (w_in input_tokens + w_out output_tokens)`,
`w = (c_inf / c_tr) MFU_tr / MFU_phase`, solved by the same Rust kernel.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from .. import _core
from .._utils.arrays import broadcast, echoed, shaped
from .._utils.frames import Tabular
from .._utils.labels import labelled
from ..hardware.cost_model import (
    DEFAULT_INPUT_TOKENS,
    DEFAULT_OUTPUT_TOKENS,
    CostModel,
    default_costs,
    resolve_costs,
)
from ..laws.closed_form import chinchilla_optimal
from ..laws.family import route
from ..laws.scaling import CHINCHILLA, ScalingLaw, resolve_law
from .lifetime_cost import LifetimeCost, lifetime_cost
from .solver import DEFAULT_MAX_ITER, DEFAULT_TOL, MAX_ITER_LIMIT, solver_options

if TYPE_CHECKING:  # for the overloads only
    from ..laws.data_constrained import DataConstrainedLaw
    from .constrained import ConstrainedOptimum

__all__ = [
    "CostOptimum",
    "LifetimeCost",
    "cost_optimal",
    "lifetime_cost",
]


@dataclass(frozen=True, repr=False)
class CostOptimum(Tabular):
    """The model reaching `loss` with the lowest lifetime dollars, and its breakdown.

    What `cost_optimal` returns; floats for one scenario, arrays in the broadcast shape
    otherwise. `breakdown` and `chinchilla` are `LifetimeCost`s of this model and of the
    equal-quality Chinchilla-style model serving the same requests; `saving` is the
    fraction of the latter's dollars saved.

    Parameters
    ----------
    params : float or numpy.ndarray
        Parameters N (count).
    tokens : float or numpy.ndarray
        Training tokens D.
    loss : float or numpy.ndarray
        The target loss, in nats/token.
    requests : float or numpy.ndarray
        Lifetime inference requests (count).
    input_tokens, output_tokens : float or numpy.ndarray
        Prompt and generated tokens per request.
    iterations : int or numpy.ndarray
        Solver steps.
    converged : bool or numpy.ndarray
        Whether the row is an answer.
    law : ScalingLaw
        The law solved.
    costs : CostModel
        Hardware, prices and MFUs.

    Examples
    --------
    >>> from scaleplan import cost_optimal
    >>> opt = cost_optimal(2.0, 1e10)  # 10 billion requests of 70 + 215 tokens
    >>> print(f"N = {opt.params:.3g}, ${opt.total_dollars:,.0f}, saving {opt.saving:.1%}")
    N = 5.51e+09, $1,830,849, saving 58.6%
    >>> print(f"training ${opt.breakdown.training_dollars:,.0f}, "
    ...       f"decode ${opt.breakdown.decode_dollars:,.0f}")
    training $663,402, decode $1,159,894
    """

    _INPUTS = ("loss", "requests", "input_tokens", "output_tokens")
    _OUTPUTS = ("params", "tokens", "total_dollars", "saving", "iterations", "converged")

    params: Any
    tokens: Any
    loss: Any
    requests: Any
    input_tokens: Any
    output_tokens: Any
    iterations: Any
    converged: Any
    law: ScalingLaw
    costs: CostModel

    @classmethod
    def _of(
        cls,
        params: float,
        tokens: float,
        scenario: tuple[float, ...],
        iterations: int,
        converged: bool,
        law: ScalingLaw,
        costs: CostModel,
    ) -> CostOptimum:
        """Builds a one-scenario result without the frozen dataclass's per-field
        `object.__setattr__` (it costs more than the solve); equally immutable after."""
        self = object.__new__(cls)
        d = self.__dict__
        d["params"] = params
        d["tokens"] = tokens
        d["loss"], d["requests"], d["input_tokens"], d["output_tokens"] = scenario
        d["iterations"] = iterations
        d["converged"] = converged
        d["law"] = law
        d["costs"] = costs
        return self

    @cached_property
    def breakdown(self) -> LifetimeCost:
        """This model's lifetime FLOPs, dollars and GPU-hours by phase.

        Examples
        --------
        >>> from scaleplan import cost_optimal
        >>> print(f"{cost_optimal(2.0, 1e10).breakdown.training_gpu_hours:,.0f} GPU-hours")
        442,268 GPU-hours
        """
        return LifetimeCost(
            self.params,
            self.tokens,
            self.requests,
            self.input_tokens,
            self.output_tokens,
            self.costs,
        )

    @cached_property
    def chinchilla(self) -> LifetimeCost:
        """The equal-quality Chinchilla-style model's `LifetimeCost`, same requests.

        Examples
        --------
        >>> from scaleplan import cost_optimal
        >>> print(f"${cost_optimal(2.0, 1e10).chinchilla.total_dollars:,.0f}")
        $4,425,643
        """
        m = chinchilla_optimal(loss=self.loss, law=self.law, on_invalid="nan")
        return LifetimeCost(
            m.params, m.tokens, self.requests, self.input_tokens, self.output_tokens, self.costs
        )

    @property
    def total_dollars(self) -> Any:
        """Lifetime US dollars: training, prefill and decode (`breakdown.total_dollars`)."""
        return self.breakdown.total_dollars

    @property
    def saving(self) -> Any:
        """Fraction of the Chinchilla-style model's lifetime dollars saved (0.5 = 50%).

        `1 - total_dollars / chinchilla.total_dollars`.
        """
        return 1.0 - self.breakdown.total_dollars / self.chinchilla.total_dollars


@overload
def cost_optimal(
    loss: Any,
    requests: Any,
    input_tokens: Any = ...,
    output_tokens: Any = ...,
    *,
    costs: CostModel | None = ...,
    law: ScalingLaw | DataConstrainedLaw | str = ...,
    method: str = ...,
    tol: float = ...,
    max_iter: int = ...,
    on_invalid: str = ...,
    start: str = ...,
    unique_tokens: None = None,
    experts: Any = None,
) -> CostOptimum: ...
@overload
def cost_optimal(
    loss: Any,
    requests: Any,
    input_tokens: Any = ...,
    output_tokens: Any = ...,
    *,
    costs: CostModel | None = ...,
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
def cost_optimal(
    loss: Any,
    requests: Any,
    input_tokens: Any = DEFAULT_INPUT_TOKENS,
    output_tokens: Any = DEFAULT_OUTPUT_TOKENS,
    *,
    costs: CostModel | None = None,
    law: ScalingLaw | DataConstrainedLaw | str = CHINCHILLA,
    method: str = "newton",
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    on_invalid: str = "raise",
    start: str = "auto",
    unique_tokens: Any = None,
    experts: Any = None,
) -> CostOptimum | ConstrainedOptimum:
    """Parameters and training tokens minimising lifetime dollars at a given loss.

    Minimises `6 N D c_tr / MFU_tr + 2 N requests c_inf (input_tokens / MFU_prefill +
    output_tokens / MFU_decode)` subject to `L(N, D) = loss` (Sardana et al. 2024, §6 and
    App. B.2-B.3): the FLOP problem of `compute_optimal` at the effective demand
    `requests (w_in input_tokens + w_out output_tokens)` (`CostModel.demand_weights`). All
    of `loss`, `requests`, `input_tokens`, `output_tokens` and the law's coefficients
    broadcast.

    Parameters
    ----------
    loss : float or array_like
        Target pre-training loss, in nats/token; greater than the law's E.
    requests : float or array_like
        Lifetime inference requests (count); >= 0.
    input_tokens, output_tokens : float or array_like, optional
        Prompt and generated tokens per request (defaults 70 and 215, LMSYS-Chat-1M's
        means).
    costs : CostModel, optional
        Hardware, prices and MFUs (default `CostModel()`, the paper's setting).
    law : ScalingLaw or DataConstrainedLaw or str, optional
        The law or a preset name (default `CHINCHILLA`).
    method, tol, max_iter, on_invalid, start
        Solver options, as in `compute_optimal`.
    unique_tokens : float or array_like, optional
        A supply of unique training tokens; the result is then a
        `constrained.ConstrainedOptimum` at the effective demand, with `total_dollars`.

    Returns
    -------
    CostOptimum or ConstrainedOptimum
        `params`, `tokens`, `total_dollars` (US dollars), `saving` against the
        Chinchilla-style model and the `breakdown` by phase.

    Raises
    ------
    ScaleplanError
        With `on_invalid="raise"`, a loss at or below E, negative requests or tokens per
        request, a `costs` that is not a CostModel, or a bad solver option.

    Examples
    --------
    >>> from scaleplan import CostModel, cost_optimal
    >>> opt = cost_optimal(2.0, 1e10)
    >>> print(f"N = {opt.params:.3g}, D = {opt.tokens:.3g}, ${opt.total_dollars:,.0f}")
    N = 5.51e+09, D = 7.51e+12, $1,830,849

    On H100s, for two demands at once:

    >>> h100 = CostModel(train_gpu="h100-sxm", inference_gpu="h100-sxm")
    >>> print(cost_optimal(2.0, [1e8, 1e10], costs=h100).params.round(-7))
    [1.563e+10 5.150e+09]
    """
    costs = default_costs() if costs is None else resolve_costs(costs)
    data = {"unique_tokens": unique_tokens, "experts": experts}
    if unique_tokens is not None or experts is not None or not isinstance(law, (ScalingLaw, str)):
        kernel, law, given = route("cost_optimal", law, **data)
        if kernel is not None:
            # The family's kernel has its own solver: refuse bad options, use none.
            solver_options(method, tol, max_iter, on_invalid, start)
            return kernel(loss, requests, input_tokens, output_tokens, costs=costs, law=law,
                          on_invalid=on_invalid, **given)  # fmt: skip
    values = (
        _floats(loss, requests, input_tokens, output_tokens)
        if on_invalid == "raise"
        and start == "auto"
        and type(law) is ScalingLaw
        and law.scalar_coefficients is not None
        and type(tol) is float
        and type(max_iter) is int
        and 0 < max_iter <= MAX_ITER_LIMIT
        else None
    )
    if values is not None:
        # One scenario of plain numbers: the scheduler's path (one job priced at a time).
        n, d, it, ok = _core.cost_optimal_scalar(
            *values, *costs.demand_weights, *law.scalar_coefficients, method, tol, max_iter
        )
        return CostOptimum._of(n, d, values, it, ok, law, costs)  # type: ignore[arg-type]
    law = resolve_law(law)
    tol, max_iter, on_invalid = solver_options(method, tol, max_iter, on_invalid, start)
    w_in, w_out = costs.demand_weights
    shape, cols = broadcast(
        loss=loss,
        requests=requests,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        **law.named_coefficients(),
    )
    n, d, it, ok = _core.cost_optimal(
        cols[0],
        cols[1],
        cols[2],
        cols[3],
        w_in,
        w_out,
        tuple(cols[4:]),
        method,
        tol,
        max_iter,
        on_invalid,
        start=start,
        broadcast_shape=shape,
    )
    full = [echoed(c, shape) for c in cols[:4]]
    return CostOptimum(
        shaped(n, shape),
        shaped(d, shape),
        *full,
        shaped(it, shape),
        shaped(ok, shape),
        law,
        costs,
    )


def _floats(loss: Any, requests: Any, inp: Any, out: Any) -> tuple[float, ...] | None:
    """The four as Python floats when all are Python floats or ints (bools excluded), as
    the general path would convert them; None otherwise (arrays, NumPy scalars, ints
    beyond float64: the general path handles and names them)."""
    # Four floats, the scheduler's call: no generator, no conversion (0.6 us saved of 2.9).
    if (
        type(loss) is float
        and type(requests) is float
        and type(inp) is float
        and type(out) is float
    ):
        return loss, requests, inp, out
    if not all(type(v) in _NUMBER for v in (loss, requests, inp, out)):
        return None
    try:
        return float(loss), float(requests), float(inp), float(out)
    except OverflowError:
        return None


_NUMBER = frozenset((float, int))
