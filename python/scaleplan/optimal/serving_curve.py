"""`ServingCurve`: the dollars one request costs to serve against the model's parameters,
tabulated at knots and joined by straight lines in log-log: the paper's linear curve, its
constant-MFU one, or the serving roofline of the shape policy's model at each knot. The
lifetime optimum under a curve is `physical_optimum.physical_optimal`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._utils.arrays import as_float, shaped
from .._utils.checks import POSITIVE, number, shown, whole
from .._utils.frames import Tabular
from ..arch.counts import step_counts
from ..arch.policy import MODEL_SIZES, moe_shape, shape_for_params
from ..errors import ScaleplanError
from ..hardware.accelerators import Accelerator
from ..hardware.cost_model import (
    DEFAULT_INPUT_TOKENS,
    DEFAULT_OUTPUT_TOKENS,
    SECONDS_PER_HOUR,
    CostModel,
    resolve_costs,
)
from ..systems.deployment import Deployment, deployment_of
from ..systems.physical import replicas
from ..systems.training import accepts_01_keywords

__all__ = ["CURVE_PARAMS", "CURVE_PER_DECADE", "ServingCurve"]

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
        experts: int = 1,
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
        experts : int, optional
            Serve each size as a mixture of `experts` experts of its MLP, one a token
            (`arch.policy.moe_shape`); the knots are then at the active parameters, and
            memory holds every expert (default 1: dense).

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
        shapes = [moe_shape(shape_for_params(n), experts) for n in np.geomspace(lo, hi, count)]
        n = np.asarray(step_counts(shapes).active_params, dtype=np.float64)
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


def _span_of_sizes(params: Any) -> tuple[float, float]:
    """The (lo, hi) parameter counts of a curve, within `MODEL_SIZES`, lo < hi."""
    if not (isinstance(params, (tuple, list)) and len(params) == 2):
        raise ScaleplanError(f"params must be a pair (lo, hi); got {shown(params)}", "params")
    lo, hi = (number("params", v, MODEL_SIZES) for v in params)
    if not lo < hi:
        raise ScaleplanError(f"params must be (lo, hi) with lo < hi; got {params!r}", "params")
    return lo, hi
