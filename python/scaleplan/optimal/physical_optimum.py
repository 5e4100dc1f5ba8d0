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

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload

import numpy as np
from numpy.typing import NDArray

from .. import _core
from .._utils.arrays import as_float, broadcast, check_on_invalid, echoed, shaped
from .._utils.checks import POSITIVE, number, shown, whole
from .._utils.frames import Tabular
from .._utils.labels import labelled
from ..arch.counts import step_counts
from ..arch.policy import MODEL_SIZES, shape_for_params
from ..errors import ScaleplanError
from ..hardware.accelerators import Accelerator
from ..hardware.cost_model import (
    DEFAULT_INPUT_TOKENS,
    DEFAULT_OUTPUT_TOKENS,
    SECONDS_PER_HOUR,
    CostModel,
    resolve_costs,
)
from ..laws.family import route
from ..laws.scaling import CHINCHILLA, ScalingLaw, resolve_law
from ..systems.deployment import Deployment, deployment_of
from ..systems.physical import replicas
from ..systems.training import accepts_01_keywords
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

# The roofline curve's default span and density: 16 knots a decade from 100M to 10T
# parameters covers every Table 3 scenario and the demands of the README's figure.
CURVE_PARAMS = (1e8, 1e13)
CURVE_PER_DECADE = 16


@dataclass(frozen=True, repr=False)
class ServingCurve(Tabular):
    """Dollars to serve one request on a model of N parameters, `s(N)`, at knots.

    `ln s` is linear in `ln N` between knots, NaN off the curve. `roofline` prices the
    policy's models on a `Deployment`, `constant_mfu` is the paper's (linear in N).

    Parameters
    ----------
    params : array_like
        The knots' parameter counts N, count: 1-D, finite, > 0, strictly increasing, at
        least two.
    dollars_per_request : array_like
        Serving dollars a request at each knot, USD, finite and > 0.
    tensor_parallel : numpy.ndarray or None
        The group each knot was priced at, GPUs (None for curves not from the roofline).

    Raises
    ------
    ScaleplanError
        If a knot is not finite and > 0, or the params are not strictly increasing.

    Examples
    --------
    >>> from scaleplan import ServingCurve
    >>> curve = ServingCurve([1e9, 1e10], [1e-4, 4e-4])  # USD a request at 1B and 10B
    >>> print(f"${curve(3e9):.3g} a request at 3B; {curve(1e11)} beyond the last knot")
    $0.000194 a request at 3B; nan beyond the last knot
    >>> paper = ServingCurve.constant_mfu()  # 2 N c_inf (70 / MFU_pre + 215 / MFU_dec)
    >>> print(f"${paper(7e9):.3g} a request at 7B")
    $0.000148 a request at 7B
    """

    _INPUTS = ("params",)
    _OUTPUTS = ("dollars_per_request",)

    params: NDArray[np.float64]
    dollars_per_request: NDArray[np.float64]
    tensor_parallel: NDArray[np.float64] | None = field(default=None, compare=False)

    def columns(self) -> dict[str, np.ndarray]:
        """The knots by name, with the degree each was priced at when known."""
        cols = {"params": self.params, "dollars_per_request": self.dollars_per_request}
        if self.tensor_parallel is not None:
            cols["tensor_parallel"] = np.asarray(self.tensor_parallel)
        return cols

    def __post_init__(self) -> None:
        for name in ("params", "dollars_per_request"):
            v = as_float(name, getattr(self, name))
            if v.ndim != 1 or not np.all(POSITIVE.admits(v)):
                raise ScaleplanError(f"{name} must be a 1-D array of finite values > 0", name)
            object.__setattr__(self, name, v)
        n, s = self.params, self.dollars_per_request
        if n.size < 2 or n.size != s.size or not np.all(np.diff(n) > 0):
            raise ScaleplanError(
                "params must be strictly increasing, at least two knots, with one "
                f"dollars_per_request each; got {n.size} params and {s.size} dollars",
                "params",
            )

    def log_knots(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(ln params, ln dollars_per_request): the knots as the Rust kernels take them."""
        return np.log(self.params), np.log(self.dollars_per_request)

    def __call__(self, params: Any) -> Any:
        """Dollars per request at `params`, interpolated in log-log (NaN off the curve)."""
        x = np.log(as_float("params", params))
        y = np.interp(x, *self.log_knots(), left=np.nan, right=np.nan)
        return shaped(np.exp(y).reshape(-1), np.shape(x))

    @classmethod
    def linear(
        cls, dollars_per_param: float, params: tuple[float, float] = (1e6, 1e15)
    ) -> ServingCurve:
        """`s(N) = dollars_per_param * N`: the constant-MFU cost, as a two-knot curve."""
        lo, hi = params
        return cls(np.array([lo, hi]), dollars_per_param * np.array([lo, hi]))

    @classmethod
    def constant_mfu(cls, costs: CostModel | None = None,
                     input_tokens: float = DEFAULT_INPUT_TOKENS,
                     output_tokens: float = DEFAULT_OUTPUT_TOKENS) -> ServingCurve:  # fmt: skip
        """The paper's serving cost (`costs.py`): `2 N c_inf (input / MFU_prefill +
        output / MFU_decode)` dollars a request."""
        c = resolve_costs(costs)
        per = (
            2.0
            * c.inference_dollars_per_flop
            * (input_tokens / c.prefill_mfu + output_tokens / c.decode_mfu)
        )
        return cls.linear(per)

    @classmethod
    @accepts_01_keywords(training=False)
    def roofline(
        cls,
        deployment: Deployment | str | Accelerator | None = None,
        *,
        params: tuple[float, float] = CURVE_PARAMS,
        per_decade: int = CURVE_PER_DECADE,
    ) -> ServingCurve:
        """The serving roofline's dollars per request against N, as `deployment` serves.

        The shape policy's model (`shape_for_params`) at `per_decade` sizes a decade over
        `params`, each served by the deployment's tensor-parallel group, or else the power
        of two with the fewest GPU-seconds a request (`physical.replicas`), provisioned for
        `peak_to_average` times the mean rate: `busy_seconds x GPUs x peak_to_average x
        price / 3600` USD a request. Knots sit at each shape's exact parameter count. The
        curve stops below the first size no group serves within the targets; it is an
        error if the first two are not served.

        Parameters
        ----------
        deployment : Deployment, str, Accelerator or None
            How each size is served; a GPU for the default deployment on it; None for
            `Deployment()`. Until 0.3 its fields are also taken as keywords, with a
            `DeprecationWarning`.
        params : (float, float)
            The span of parameter counts (lo, hi), count, lo < hi.
        per_decade : int
            Sizes a decade, 1 to 1000.

        Returns
        -------
        ServingCurve
            Knots of (params, dollars_per_request) and the degree each was priced at.

        Examples
        --------
        >>> from scaleplan import Deployment, ServingCurve
        >>> curve = ServingCurve.roofline(Deployment(tpot_seconds=0.1), params=(1e9, 1e11))
        >>> len(curve.params), bool(curve(7e9) > 0)
        (33, True)
        """
        dep = deployment_of(deployment, {})
        price = dep.hourly_price / SECONDS_PER_HOUR
        lo, hi = _span_of_sizes(params)
        per_decade = whole("per_decade", per_decade, 1, 1000)
        count = max(2, math.ceil(per_decade * math.log10(hi / lo)) + 1)
        shapes = [shape_for_params(n) for n in np.geomspace(lo, hi, count)]
        n = np.asarray(step_counts(shapes).params, dtype=np.float64)
        r = replicas(shapes, dep)
        tp = r.tensor_parallel
        gpu_seconds = np.where(np.isnan(r.busy_seconds), np.inf, r.busy_seconds * tp)
        best = np.argmin(gpu_seconds, axis=1)
        seconds = gpu_seconds[np.arange(len(shapes)), best]
        with np.errstate(over="ignore"):
            cost = seconds * dep.peak_to_average * price
        served = np.isfinite(cost)
        if np.any(np.isfinite(seconds) & ~served):
            # Served, but priced beyond float64: not the same as a size no GPU serves.
            raise ScaleplanError(
                f"peak_to_average ({dep.peak_to_average!r}) x the GPU price makes a request's "
                "serving dollars exceed float64; lower peak_to_average or the GPU's hourly price",
                "peak_to_average",
            )
        if not served[:2].all():  # a curve needs two served sizes
            raise ScaleplanError(
                f"no {dep.groups} {dep.accelerator.name}s serves the curve's first two sizes from "
                f"{lo:.3g} parameters within the latency targets (tpot_seconds, ttft_seconds) "
                "at these request lengths (input_tokens, output_tokens)",
                "tpot_seconds",
            )
        end = len(shapes) if served.all() else int(np.argmin(served))
        # Policy shapes for nearby targets can round to the same model: keep the first.
        keep = np.flatnonzero(np.diff(n[:end], prepend=-np.inf) > 0)
        return cls(n[keep], cost[keep], tp[best][keep])


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
    N = 2.17e+09, D = 3.77e+12, $717,131
    >>> many = physical_optimal(2.1, [0, 1e9, 1e11])  # more requests, a smaller model
    >>> print(", ".join(f"{n:.3g}" for n in many.params))
    8.49e+09, 6.6e+09, 2.17e+09
    """
    if unique_tokens is not None or not isinstance(law, (ScalingLaw, str)):
        kernel, law = route("physical_optimal", law, unique_tokens=unique_tokens)
        if kernel is not None:
            c = resolve_costs(costs)
            return kernel(loss, requests, costs=c, curve=_default_curve(curve, c), law=law,
                          on_invalid=on_invalid, unique_tokens=unique_tokens)  # fmt: skip
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


def _span_of_sizes(params: Any) -> tuple[float, float]:
    """The (lo, hi) parameter counts of a curve, within `MODEL_SIZES`, lo < hi."""
    if not (isinstance(params, (tuple, list)) and len(params) == 2):
        raise ScaleplanError(f"params must be a pair (lo, hi); got {shown(params)}", "params")
    lo, hi = (number("params", v, MODEL_SIZES) for v in params)
    if not lo < hi:
        raise ScaleplanError(f"params must be (lo, hi) with lo < hi; got {params!r}", "params")
    return lo, hi
