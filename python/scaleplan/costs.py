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

import sys
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from . import _core
from ._arrays import as_float, broadcast, check_on_invalid, real_float, shaped
from ._frames import Tabular
from .errors import ScaleplanError
from .hardware import Accelerator, accelerator
from .laws import CHINCHILLA, ScalingLaw, chinchilla_optimal, resolve_law
from .lifetime import DEFAULT_MAX_ITER, DEFAULT_TOL, check_start, solver_options

SECONDS_PER_HOUR = 3600.0
# Mean prompt and completion lengths of LMSYS-Chat-1M (Zheng et al. 2023), used by the paper.
DEFAULT_INPUT_TOKENS = 70.0
DEFAULT_OUTPUT_TOKENS = 215.0


# Lowest MFU accepted. Below it no deployment is meant, and an MFU near the bottom of
# the float range (5e-324 was tried) turns dollars per token into inf.
MIN_MFU = 1e-6


def _fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not MIN_MFU <= value <= 1:
        raise ScaleplanError(f"{name} must be a number in [{MIN_MFU:g}, 1]; got {value!r}", name)
    return float(value)


def resolve_costs(costs: Any) -> CostModel:
    """`costs` as a CostModel: None means the default one; anything else is refused (a
    string once failed deep inside with AttributeError, and 0 silently meant the default)."""
    if costs is None:
        return CostModel()
    if isinstance(costs, CostModel):
        return costs
    raise ScaleplanError(
        f"costs must be a CostModel or None; got {costs!r} "
        f"(for example CostModel(train_gpu='h100-sxm', inference_gpu='h100-sxm'))",
        "costs",
    )


@dataclass(frozen=True)
class CostModel:
    """Hardware, precision, price and utilisation of training, prefill and decode.

    The defaults are the paper's Figure 6 / Table 3 setting: train on A100-80GB in bf16 at
    50% MFU, serve on A100-40GB in int8 at 50% MFU for prompt tokens and 1% for generated
    tokens, at the catalogue's prices. Prices default to the accelerators' catalogue prices.
    """

    train_gpu: Accelerator | str = "a100-80gb"
    inference_gpu: Accelerator | str = "a100-40gb"
    train_precision: str = "bf16"
    inference_precision: str = "int8"
    train_price_per_hour: float | None = None
    inference_price_per_hour: float | None = None
    train_mfu: float = 0.5
    prefill_mfu: float = 0.5
    decode_mfu: float = 0.01

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "train_gpu", accelerator(self.train_gpu))
        set_(self, "inference_gpu", accelerator(self.inference_gpu))
        for phase in ("train", "inference"):
            gpu: Accelerator = getattr(self, f"{phase}_gpu")
            gpu.peak(getattr(self, f"{phase}_precision"))  # a ValueError if the chip lacks it
            price = getattr(self, f"{phase}_price_per_hour")
            if price is None:
                if gpu.price_per_hour is None:
                    raise ScaleplanError(
                        f"{phase}_price_per_hour is needed: {gpu.name} has no price"
                    )
                price = gpu.price_per_hour
            need = f"{phase}_price_per_hour must be a finite number > 0"
            if isinstance(price, bool) or not isinstance(price, (int, float)):
                raise ScaleplanError(f"{need}; got {price!r}")
            value = real_float(f"{phase}_price_per_hour", price)
            if not 0 < value < float("inf"):
                raise ScaleplanError(f"{need}; got {price!r}")
            # Dollars per FLOP must be a normal float: a price near 5e-324 once made them 0
            # and every cost a division by zero.
            per_flop = value / (SECONDS_PER_HOUR * gpu.peak(getattr(self, f"{phase}_precision")))
            if per_flop < sys.float_info.min:
                raise ScaleplanError(f"{need} and large enough to cost more than 0; got {price!r}")
            set_(self, f"{phase}_price_per_hour", value)
        for name in ("train_mfu", "prefill_mfu", "decode_mfu"):
            set_(self, name, _fraction(name, getattr(self, name)))

    @classmethod
    def sardana2024_table3(cls) -> CostModel:
        """The setting that reproduces Table 3 of Sardana et al. 2024 (within 2.4%).

        The paper states A100-40GB inference at $1.10/h; its Table 3 comes out only with
        $1.00/h (with $1.10/h every cost is ~10% higher and the optimal models ~3% larger
        and ~7% shorter-trained). See the README.
        """
        return cls(inference_price_per_hour=1.00)

    @property
    def train_dollars_per_flop(self) -> float:
        """`c_tr`: dollars per peak FLOP of the training hardware at its precision."""
        gpu: Accelerator = self.train_gpu  # type: ignore[assignment]
        return self.train_price_per_hour / (SECONDS_PER_HOUR * gpu.peak(self.train_precision))  # type: ignore[operator]

    @property
    def inference_dollars_per_flop(self) -> float:
        """`c_inf`: dollars per peak FLOP of the inference hardware at its precision."""
        gpu: Accelerator = self.inference_gpu  # type: ignore[assignment]
        return self.inference_price_per_hour / (  # type: ignore[operator]
            SECONDS_PER_HOUR * gpu.peak(self.inference_precision)
        )

    @property
    def demand_weights(self) -> tuple[float, float]:
        """`(w_in, w_out)`: training-token equivalents of one prompt and one generated token."""
        ratio = self.inference_dollars_per_flop / self.train_dollars_per_flop
        return ratio * self.train_mfu / self.prefill_mfu, ratio * self.train_mfu / self.decode_mfu


@dataclass(frozen=True)
class LifetimeCost(Tabular):
    """FLOPs, dollars and GPU-hours of training one model and serving its demand.

    Arrays where the inputs were arrays. FLOPs are model FLOPs (6 N D to train, 2 N per
    served token); dollars and GPU-hours divide them by each phase's MFU and peak.
    """

    _INPUTS = ("params", "tokens", "requests", "input_tokens", "output_tokens")
    _OUTPUTS = (
        "training_flops",
        "prefill_flops",
        "decode_flops",
        "total_flops",
        "training_dollars",
        "prefill_dollars",
        "decode_dollars",
        "total_dollars",
        "training_gpu_hours",
        "prefill_gpu_hours",
        "decode_gpu_hours",
    )

    params: Any
    tokens: Any
    requests: Any
    input_tokens: Any
    output_tokens: Any
    costs: CostModel

    @property
    def training_flops(self) -> Any:
        return 6.0 * self.params * self.tokens

    @property
    def prefill_flops(self) -> Any:
        return 2.0 * self.params * self.requests * self.input_tokens

    @property
    def decode_flops(self) -> Any:
        return 2.0 * self.params * self.requests * self.output_tokens

    @property
    def inference_flops(self) -> Any:
        return self.prefill_flops + self.decode_flops

    @property
    def total_flops(self) -> Any:
        return self.training_flops + self.inference_flops

    def _gpu_hours(self, flops: Any, mfu: float, phase: str) -> Any:
        gpu: Accelerator = getattr(self.costs, f"{phase}_gpu")
        peak = gpu.peak(getattr(self.costs, f"{phase}_precision"))
        return flops / (mfu * peak * SECONDS_PER_HOUR)

    @property
    def training_gpu_hours(self) -> Any:
        return self._gpu_hours(self.training_flops, self.costs.train_mfu, "train")

    @property
    def prefill_gpu_hours(self) -> Any:
        return self._gpu_hours(self.prefill_flops, self.costs.prefill_mfu, "inference")

    @property
    def decode_gpu_hours(self) -> Any:
        return self._gpu_hours(self.decode_flops, self.costs.decode_mfu, "inference")

    @property
    def training_dollars(self) -> Any:
        return self.training_gpu_hours * self.costs.train_price_per_hour

    @property
    def prefill_dollars(self) -> Any:
        return self.prefill_gpu_hours * self.costs.inference_price_per_hour

    @property
    def decode_dollars(self) -> Any:
        return self.decode_gpu_hours * self.costs.inference_price_per_hour

    @property
    def inference_dollars(self) -> Any:
        return self.prefill_dollars + self.decode_dollars

    @property
    def total_dollars(self) -> Any:
        return self.training_dollars + self.inference_dollars


def lifetime_cost(
    params: Any,
    tokens: Any,
    requests: Any,
    input_tokens: Any = DEFAULT_INPUT_TOKENS,
    output_tokens: Any = DEFAULT_OUTPUT_TOKENS,
    *,
    costs: CostModel | None = None,
) -> LifetimeCost:
    """The lifetime cost breakdown of any model (params N trained on tokens D)."""
    costs = resolve_costs(costs)
    named = {
        "params": params,
        "tokens": tokens,
        "requests": requests,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
    }
    values = {}
    for name, v in named.items():
        arr = as_float(name, v)
        low = 0.0 if name in ("requests", "input_tokens", "output_tokens") else None
        bad = ~np.isfinite(arr) | (arr < 0 if low is not None else arr <= 0)
        if np.any(bad):
            need = "finite and >= 0" if low is not None else "finite and > 0"
            raise ScaleplanError(f"{name} must be {need}; got {arr[bad].flat[0]}", name)
        values[name] = arr.item() if arr.ndim == 0 else arr
    cost = LifetimeCost(**values, costs=costs)
    _check_in_range(cost)
    return cost


def _check_in_range(cost: LifetimeCost) -> None:
    """Every total of `cost` must be finite: a product such as 6 N D beyond float64 once
    came back as inf dollars without a word."""
    with np.errstate(over="ignore", invalid="ignore"):
        totals = (cost.total_flops, cost.total_dollars, cost.decode_gpu_hours)
        bad = np.zeros(np.shape(totals[0]), bool)
        for t in totals:
            bad |= ~np.isfinite(np.asarray(t))
    if np.any(bad):
        index = int(np.flatnonzero(bad)[0]) if bad.ndim else None
        where = f" at index {index}" if index is not None else ""
        raise ScaleplanError(
            "params, tokens and requests are too large together: the lifetime FLOPs or "
            f"dollars overflow float64{where}",
            "params",
            index,
        )


@dataclass(frozen=True)
class CostOptimum(Tabular):
    """The model reaching `loss` with the lowest lifetime dollars, and its breakdown.

    `breakdown` and `chinchilla` are `LifetimeCost`s of this model and of the equal-quality
    Chinchilla-style model serving the same requests; `saving` is the fraction of the
    latter's dollars saved.
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

    @cached_property
    def breakdown(self) -> LifetimeCost:
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
        m = chinchilla_optimal(loss=self.loss, law=self.law, on_invalid="nan")
        return LifetimeCost(
            m.params, m.tokens, self.requests, self.input_tokens, self.output_tokens, self.costs
        )

    @property
    def total_dollars(self) -> Any:
        return self.breakdown.total_dollars

    @property
    def saving(self) -> Any:
        """Fraction of the Chinchilla-style model's lifetime dollars saved (0.5 = 50%)."""
        return 1.0 - self.breakdown.total_dollars / self.chinchilla.total_dollars


def cost_optimal(
    loss: Any,
    requests: Any,
    input_tokens: Any = DEFAULT_INPUT_TOKENS,
    output_tokens: Any = DEFAULT_OUTPUT_TOKENS,
    *,
    costs: CostModel | None = None,
    law: ScalingLaw | str = CHINCHILLA,
    method: str = "newton",
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    on_invalid: str = "raise",
    start: str = "auto",
) -> CostOptimum:
    """Parameters and training tokens minimising lifetime dollars at a given loss.

    `requests` is the lifetime number of inference requests, each with `input_tokens`
    prompt and `output_tokens` generated tokens (defaults: 70 and 215). All of `loss`,
    `requests`, `input_tokens`, `output_tokens` and the law's coefficients broadcast.
    Other arguments (`start` included) as in `compute_optimal`.
    """
    costs = resolve_costs(costs)
    law = resolve_law(law)
    tol, max_iter, on_invalid = solver_options(method, tol, max_iter, on_invalid)
    start = check_start(start)
    w_in, w_out = costs.demand_weights
    shape, cols = broadcast(
        loss=loss,
        requests=requests,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        **law._named(),
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
    )
    full = [shaped(np.broadcast_to(c, n.shape) if n.size else c[:0], shape) for c in cols[:4]]
    return CostOptimum(
        shaped(n, shape),
        shaped(d, shape),
        *full,
        shaped(it, shape),
        shaped(ok, shape),
        law,
        costs,
    )


def breakeven_requests(
    params: Any,
    tokens: Any,
    smaller_params: Any,
    input_tokens: Any = DEFAULT_INPUT_TOKENS,
    output_tokens: Any = DEFAULT_OUTPUT_TOKENS,
    *,
    costs: CostModel | None = None,
    law: ScalingLaw | str = CHINCHILLA,
) -> Any:
    """Lifetime requests above which a smaller model of equal quality is cheaper.

    The smaller model (`smaller_params`) is trained on the tokens that give it the loss of
    the given one, `D_s = (B / (L(params, tokens) - E - A N_s^-alpha))^(1/beta)`. Lifetime
    cost is linear in requests for both, so they cross once:
    `r* = (train_s - train) / (per_request - per_request_s)`; 0 when the smaller one is
    also cheaper to train.
    """
    costs = resolve_costs(costs)
    law = resolve_law(law)
    base = lifetime_cost(params, tokens, 1.0, input_tokens, output_tokens, costs=costs)
    small_n = as_float("smaller_params", smaller_params)
    if np.any(~np.isfinite(small_n) | (small_n <= 0)) or np.any(small_n >= base.params):
        raise ScaleplanError(
            "smaller_params must be finite, > 0 and below params", "smaller_params"
        )
    target = law.loss(base.params, base.tokens)
    room = target - law.E - law.A * small_n**-law.alpha
    if np.any(room <= 0):
        raise ScaleplanError(
            "smaller_params is too small to reach the loss of the given model at any data size",
            "smaller_params",
        )
    small_d = (law.B / room) ** (1.0 / law.beta)
    small = lifetime_cost(small_n, small_d, 1.0, input_tokens, output_tokens, costs=costs)
    extra_training = small.training_dollars - base.training_dollars
    per_request_saving = base.inference_dollars - small.inference_dollars
    out = np.maximum(extra_training, 0.0) / per_request_saving
    return out.item() if np.ndim(out) == 0 else out


@dataclass(frozen=True)
class BestQuality(Tabular):
    """The lowest loss a lifetime budget buys, and the model that reaches it.

    `budget` is in `unit`: "FLOPs" (a budget with `inference_tokens`) or "dollars" (with
    `requests`); `effective_demand` is in tokens either way."""

    _INPUTS = ("budget", "effective_demand")
    _OUTPUTS = ("loss", "params", "tokens")

    loss: Any
    params: Any
    tokens: Any
    budget: Any
    effective_demand: Any
    unit: str = "FLOPs"


def best_quality(
    budget: Any,
    inference_tokens: Any = None,
    *,
    requests: Any = None,
    input_tokens: Any = DEFAULT_INPUT_TOKENS,
    output_tokens: Any = DEFAULT_OUTPUT_TOKENS,
    costs: CostModel | None = None,
    law: ScalingLaw | str = CHINCHILLA,
    on_invalid: str = "raise",
) -> BestQuality:
    """Lowest loss reachable with a lifetime budget (DESIGN §1.3, the dual problem).

    Give `inference_tokens` for a budget in FLOPs (`6 N D + 2 N inference_tokens = budget`),
    or `requests` (with `input_tokens`, `output_tokens` and `costs`) for a budget in dollars.
    """
    law = resolve_law(law)
    on_invalid = check_on_invalid(on_invalid)
    if (inference_tokens is None) == (requests is None):
        raise ScaleplanError(
            "best_quality takes exactly one of inference_tokens (FLOP budget) "
            "or requests (dollar budget)"
        )
    if requests is None:
        shape, cols = broadcast(budget=budget, inference_tokens=inference_tokens, **law._named())
        scaled, demand, name = cols[0] / 6.0, cols[1], "inference_tokens"
    else:
        costs = resolve_costs(costs)
        w_in, w_out = costs.demand_weights
        shape, cols = broadcast(
            budget=budget,
            requests=requests,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            **law._named(),
        )
        for name, col in zip(("requests", "input_tokens", "output_tokens"), cols[1:4], strict=True):
            bad = ~np.isfinite(col) | (col < 0)
            if on_invalid == "raise" and np.any(bad):
                raise ScaleplanError(f"{name} must be finite and >= 0; got {col[bad][0]}", name)
        k_tr = 6.0 * costs.train_dollars_per_flop / costs.train_mfu
        # Overflow to inf is caught below (raise) or by the kernel (a NaN row), not warned.
        with np.errstate(over="ignore", invalid="ignore"):
            demand = cols[1] * (w_in * cols[2] + w_out * cols[3])
            scaled, name = cols[0] / k_tr, "effective_demand"
        if on_invalid == "raise":
            for what, derived, source in (
                ("requests", demand, cols[1]),
                ("budget", scaled, cols[0]),
            ):
                big = np.isinf(derived) & np.isfinite(source)
                if np.any(big):
                    raise ScaleplanError(
                        f"{what} must be small enough that the problem stays in float64 range; "
                        f"got {source[big][0]}",
                        what,
                    )
        cols = [cols[0], demand, *cols[4:]]
    n, d, lo, _ = _core.best_model(scaled, demand, tuple(cols[-5:]), on_invalid, name)
    budget_out = np.broadcast_to(cols[0], n.shape) if n.size else cols[0][:0]
    demand_out = np.broadcast_to(demand, n.shape) if n.size else demand[:0]
    return BestQuality(
        shaped(lo, shape),
        shaped(n, shape),
        shaped(d, shape),
        shaped(budget_out, shape),
        shaped(demand_out, shape),
        "FLOPs" if requests is None else "dollars",
    )


@dataclass(frozen=True)
class RatioGrid:
    """Optimal over Chinchilla-style ratios on a loss x demand grid (rows: losses)."""

    losses: Any
    demands: Any
    total: Any
    """Lifetime FLOPs (or dollars) of the optimal model / of the Chinchilla-style one."""
    params: Any
    tokens: Any


def flop_ratio_grid(
    losses: Any, inference_tokens: Any, *, law: ScalingLaw | str = CHINCHILLA
) -> RatioGrid:
    """The surfaces of the paper's Figure 2: for each loss (rows) and inference demand in
    tokens (columns), compute-optimal over Chinchilla-style total FLOPs, params, tokens."""
    from .lifetime import compute_optimal

    losses = np.asarray(losses, dtype=float)
    demands = np.asarray(inference_tokens, dtype=float)
    r = compute_optimal(losses[:, None], demands[None, :], law=law, on_invalid="nan")
    c = r.chinchilla
    return RatioGrid(
        losses, demands, r.total_flops / c.total_flops, r.params / c.params, r.tokens / c.tokens
    )


def cost_ratio_grid(
    losses: Any,
    requests: Any,
    *,
    input_tokens: float = DEFAULT_INPUT_TOKENS,
    output_tokens: float = DEFAULT_OUTPUT_TOKENS,
    costs: CostModel | None = None,
    law: ScalingLaw | str = CHINCHILLA,
) -> RatioGrid:
    """The surfaces of the paper's Figure 6: cost-optimal over Chinchilla-style lifetime
    dollars, params and tokens, for each loss (rows) and number of requests (columns)."""
    losses = np.asarray(losses, dtype=float)
    demands = np.asarray(requests, dtype=float)
    r = cost_optimal(
        losses[:, None],
        demands[None, :],
        input_tokens,
        output_tokens,
        costs=costs,
        law=law,
        on_invalid="nan",
    )
    c = r.chinchilla
    return RatioGrid(
        losses, demands, r.total_dollars / c.total_dollars, r.params / c.params, r.tokens / c.tokens
    )
