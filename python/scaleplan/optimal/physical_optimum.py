"""The lifetime optimum under the physical serving cost.

At a target loss l the training tokens follow from N along the iso-loss curve,
`D(N) = (B / (l - E - A N^-alpha))^(1/beta)`, and the lifetime costs

    dollars(N) = 6 N D(N) c_tr / MFU_tr  +  requests * s(N)

where `s(N)` is the dollars one request costs to serve on a model of N parameters. The
paper's cost model makes `s` linear in N (a constant MFU per phase); the serving roofline
does not: decode reads all weights once a step for the whole batch, the latency target
caps the batch, and bigger models need tensor-parallel groups. `ServingCurve` tabulates
`s` at knots (the roofline of the shape policy's model at each, or any curve you give),
joined by straight lines in log-log; `physical_optimal` finds the global minimum of the
lifetime dollars along the iso-loss curve for every (loss, requests) row at once, in Rust
(`rust/core/src/optimal/physical.rs` gives the argument that the minimum is global).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

import numpy as np
from numpy.typing import NDArray

from .. import _core
from .._utils.arrays import broadcast, check_on_invalid, echoed, shaped
from .._utils.frames import Tabular
from .._utils.labels import labelled
from ..errors import ScaleplanError
from ..hardware.cost_model import (
    CostModel,
    resolve_costs,
)
from ..laws.family import route
from ..laws.scaling import CHINCHILLA, ScalingLaw, resolve_law
from ..systems.deployment import Deployment
from .serving_curve import CURVE_PARAMS, CURVE_PER_DECADE, ServingCurve
from .whole_gpu import WHOLE_GPU_PER_OCTAVE, WHOLE_GPU_SPAN, tokens_at_loss, whole_gpu_plan

if TYPE_CHECKING:  # for the overloads only
    from ..laws.data_constrained import DataConstrainedLaw
    from .constrained import ConstrainedPhysicalOptimum

__all__ = [
    "CURVE_PARAMS",
    "CURVE_PER_DECADE",
    "WHOLE_GPU_PER_OCTAVE",
    "WHOLE_GPU_SPAN",
    "PhysicalOptimum",
    "ServingCurve",
    "physical_optimal",
    "tokens_at_loss",
    "whole_gpu_plan",
]


def _law_columns(law: ScalingLaw) -> list[NDArray[np.float64]]:
    return [np.array([float(v)]) for v in law.coefficients]


@dataclass(frozen=True, repr=False)
class PhysicalOptimum(Tabular):
    """The model reaching `loss` with the fewest lifetime dollars when serving costs
    `curve(N)` a request: what `physical_optimal` returns.

    `total_dollars = training_dollars + serving_dollars`, with `training_dollars =
    6 N D c_tr / MFU_tr` and `serving_dollars = requests * curve(N)`. Floats for one
    scenario, arrays in the broadcast shape of `loss` and `requests` otherwise; rows
    rejected with `on_invalid="nan"` hold NaN and `converged=False`.

    Parameters
    ----------
    params, tokens : float or numpy.ndarray
        Parameters N, count, and training tokens D, tokens.
    loss : float or numpy.ndarray
        The target loss, nats/token.
    requests : float or numpy.ndarray
        Lifetime requests, count.
    training_dollars, serving_dollars : float or numpy.ndarray
        The lifetime dollars of each phase, USD.
    iterations, converged : int, bool or numpy.ndarray
        Newton steps taken (0 at a knot of the curve); whether the row is an answer.
    law, curve : ScalingLaw, ServingCurve
        The law solved and the serving dollars a request against N.

    Examples
    --------
    >>> from scaleplan import ServingCurve, physical_optimal
    >>> opt = physical_optimal(2.1, 1e11, curve=ServingCurve.constant_mfu())
    >>> print(f"N = {opt.params:.3g}: training ${opt.training_dollars:,.0f} + "
    ...       f"serving ${opt.serving_dollars:,.0f} = ${opt.total_dollars:,.0f}")
    N = 1.39e+09: training $569,089 + serving $2,952,697 = $3,521,786
    """

    _INPUTS = ("loss", "requests")
    _OUTPUTS = ("params", "tokens", "training_dollars", "serving_dollars", "total_dollars",
                "iterations", "converged")  # fmt: skip

    params: Any
    tokens: Any
    loss: Any
    requests: Any
    training_dollars: Any
    serving_dollars: Any
    iterations: Any
    converged: Any
    law: ScalingLaw
    curve: ServingCurve

    @property
    def total_dollars(self) -> Any:
        return self.training_dollars + self.serving_dollars


def _default_curve(curve: Any, costs: CostModel) -> ServingCurve:
    """`curve`, or the roofline on the costs' inference GPU, precision and price."""
    if curve is None:
        curve = ServingCurve.roofline(Deployment.from_costs(costs))
    if not isinstance(curve, ServingCurve):
        raise ScaleplanError(f"curve must be a ServingCurve; got {curve!r}", "curve")
    return curve


@overload
def physical_optimal(
    loss: Any,
    requests: Any,
    *,
    curve: ServingCurve | None = ...,
    law: ScalingLaw | DataConstrainedLaw | str = ...,
    costs: CostModel | None = ...,
    on_invalid: str = ...,
    unique_tokens: None = None,
    experts: Any = None,
) -> PhysicalOptimum: ...
@overload
def physical_optimal(
    loss: Any,
    requests: Any,
    *,
    curve: ServingCurve | None = ...,
    law: ScalingLaw | DataConstrainedLaw | str = ...,
    costs: CostModel | None = ...,
    on_invalid: str = ...,
    unique_tokens: float | np.ndarray | list[float],
    experts: Any = None,
) -> ConstrainedPhysicalOptimum: ...
@labelled
def physical_optimal(
    loss: Any,
    requests: Any,
    *,
    curve: ServingCurve | None = None,
    law: ScalingLaw | DataConstrainedLaw | str = CHINCHILLA,
    costs: CostModel | None = None,
    on_invalid: str = "raise",
    unique_tokens: Any = None,
    experts: Any = None,
) -> PhysicalOptimum | ConstrainedPhysicalOptimum:
    """Parameters and tokens reaching `loss` with the fewest lifetime dollars when serving
    costs `curve(N)` a request: the global minimum over the span of `curve` of

        dollars(N) = 6 N D(N) c_tr / MFU_tr + requests * curve(N),
        D(N) = (B / (loss - E - A N^-alpha))^(1/beta)   (on the iso-loss curve).

    Every (loss, requests) row is solved at once in Rust. An optimum outside the curve's
    span is an error (or NaN), never clamped to its end.

    Parameters
    ----------
    loss : float or array_like
        Target loss, nats/token, above the law's E.
    requests : float or array_like
        Lifetime requests, count, >= 0 (0 gives the Chinchilla-style model); broadcast
        against `loss`.
    curve : ServingCurve or None
        Dollars a request against N (None: `ServingCurve.roofline` on the costs'
        inference GPU, precision and price, TPOT 50 ms, 70 + 215 tokens).
    law : ScalingLaw, DataConstrainedLaw or str
        A law with scalar coefficients, or a preset name.
    costs : CostModel or None
        Training GPU, price (USD/GPU-hour) and MFU, its `train_*` fields (None:
        `CostModel()`).
    on_invalid : {"raise", "nan"}
        "raise" stops at the first bad row; "nan" gives it NaN and solves the others.
    unique_tokens : float, array_like or None
        A supply of unique training tokens, tokens (None: unlimited). With it the
        data-constrained law applies (`law` may be a `DataConstrainedLaw`): where the
        supply binds, a scan of the iso-loss curve in steps of 0.01 in ln D refined by
        golden section (ln D to ~1e-8).

    Returns
    -------
    PhysicalOptimum or ConstrainedPhysicalOptimum
        N (count), D (tokens) and the training and serving dollars (USD); a
        `constrained.ConstrainedPhysicalOptimum` when `unique_tokens` is given.

    Raises
    ------
    ScaleplanError
        If `loss` is not above E, `requests` is negative, the optimum lies outside the
        curve's span (with `on_invalid="raise"`), `curve` is not a `ServingCurve`, or
        the law has batched coefficients.

    Examples
    --------
    >>> from scaleplan import physical_optimal
    >>> opt = physical_optimal(2.1, 1e11)  # 100 billion requests, roofline on an H100
    >>> print(f"N = {opt.params:.3g}, D = {opt.tokens:.3g}, ${opt.total_dollars:,.0f}")
    N = 2.21e+09, D = 3.53e+12, $357,722
    >>> many = physical_optimal(2.1, [0, 1e9, 1e11])  # more requests, a smaller model
    >>> print(", ".join(f"{n:.3g}" for n in many.params))
    8.49e+09, 6.58e+09, 2.21e+09
    """
    if unique_tokens is not None or experts is not None or not isinstance(law, (ScalingLaw, str)):
        data = {"unique_tokens": unique_tokens, "experts": experts}
        kernel, law, given = route("physical_optimal", law, **data)
        if kernel is not None:
            c = resolve_costs(costs)
            return kernel(loss, requests, costs=c, curve=_default_curve(curve, c), law=law,
                          on_invalid=on_invalid, **given)  # fmt: skip
    law = resolve_law(law)
    if law.is_batch:
        raise ScaleplanError("physical_optimal takes a law with scalar coefficients", "law")
    c = resolve_costs(costs)
    curve = _default_curve(curve, c)
    on_invalid = check_on_invalid(on_invalid)
    per_flop = c.train_dollars_per_flop / c.train_mfu
    shape, cols = broadcast(loss=loss, requests=requests)
    (n, d), (tr, sv), (it, ok) = _core.physical_optimal(
        cols[0], cols[1], np.array([per_flop]), tuple(_law_columns(law)), *curve.log_knots(),
        on_invalid=on_invalid, broadcast_shape=shape,
    )  # fmt: skip
    return PhysicalOptimum(
        shaped(n, shape), shaped(d, shape), echoed(cols[0], shape), echoed(cols[1], shape),
        shaped(tr, shape), shaped(sv, shape), shaped(it, shape), shaped(ok, shape), law, curve,
    )  # fmt: skip
