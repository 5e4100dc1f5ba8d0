"""Step time of a transformer shape and the best loss reachable in a wall-clock budget
(after "Time Matters", seed 003).

`TIME = c_flop * FLOPS + c_mem * MEMCPY_BYTES + c_0` per training step, with FLOPS and
memory traffic counted from the shape by the Rust core (`rust/core/src/arch/mod.rs` states every
term). In a budget of `seconds`, a shape trains on `seconds / TIME * batch * seq` tokens and
reaches `L(PARAMS, tokens)`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _core
from .._utils.arrays import as_float, shaped
from .._utils.checks import NON_NEGATIVE, POSITIVE, instance, number, optional, renamed, whole
from .._utils.frames import Record
from ..arch.shapes import (
    FIELDS,
    OPTIMIZER_BYTES_PER_PARAM,
    ShapeLike,
    StepCounts,
    TransformerShape,
    shape_columns,
    shape_inputs,
    step_counts,
)
from ..errors import ScaleplanError
from ..hardware.accelerators import Accelerator, accelerator
from ..laws.scaling import CHINCHILLA, ScalingLaw, resolve_law

# The shape API lives in `shapes`; it is part of this module's interface too (a step's
# time starts from its counts), so `scaleplan.systems.steptime.step_counts` keeps working.
__all__ = [
    "FIELDS",
    "OPTIMIZER_BYTES_PER_PARAM",
    "BudgetResult",
    "ShapeLike",
    "ShapeRanking",
    "StepCounts",
    "StepTimeFit",
    "StepTimeModel",
    "TransformerShape",
    "best_shapes",
    "check_seconds",
    "fit_step_time",
    "heldout_r2",
    "heldout_relative_errors",
    "loss_in_budget",
    "shape_columns",
    "shape_grid",
    "step_counts",
]


@dataclass(frozen=True)
class StepTimeModel:
    """`seconds per step = c_flop * FLOPs + c_mem * bytes moved + c_0`."""

    c_flop: float
    c_mem: float
    c_0: float = 0.0
    bytes_per_element: float = 2.0
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        for name in ("c_flop", "c_mem", "c_0"):
            object.__setattr__(self, name, number(name, getattr(self, name), NON_NEGATIVE))
        number("bytes_per_element", self.bytes_per_element, POSITIVE)

    @classmethod
    def from_hardware(
        cls, gpu: Accelerator | str, precision: str = "bf16", *, mfu: float = 1.0
    ) -> StepTimeModel:
        """The roofline before any measurement: `1 / (mfu * peak)` per FLOP, `1 / bandwidth`
        per byte, no overhead (both terms added: nothing overlaps, a pessimistic bound)."""
        acc = accelerator(gpu, argument="gpu")
        if not 0 < mfu <= 1:
            raise ScaleplanError(f"mfu must be in (0, 1]; got {mfu!r}", "mfu")
        bytes_per = 1.0 if precision in ("fp8", "int8") else 2.0
        return cls(
            1.0 / (mfu * acc.peak(precision)),
            1.0 / acc.memory_bandwidth,
            0.0,
            bytes_per,
            source=f"roofline {acc.name} {precision}",
        )

    def predict(self, shapes: ShapeLike) -> Any:
        """Seconds per training step of each shape."""
        c = step_counts(shapes)
        return (
            self.c_flop * c.flops + self.c_mem * c.memcpy_bytes(self.bytes_per_element) + self.c_0
        )


@dataclass(frozen=True, repr=False)
class StepTimeFit(Record):
    """A fitted model, how well each explanation fits the same data (R² of the absolute
    times, each explanation fitted the same way), and the fitted model's median and worst
    relative error on it."""

    model: StepTimeModel
    r2_flops: float
    r2_memory: float
    r2_both: float
    n_points: int
    median_relative_error: float = float("nan")
    worst_relative_error: float = float("nan")


def _nnls(x: NDArray[np.float64], y: NDArray[np.float64], relative: bool) -> NDArray[np.float64]:
    """Non-negative coefficients of `y ~ x`, minimising squared relative errors
    (`sum ((x c - y) / y)^2`) or absolute ones."""
    from scipy.optimize import nnls

    w = 1.0 / y if relative else np.ones_like(y)
    xw = x * w[:, None]
    # Scale columns so NNLS sees numbers near 1; undo afterwards.
    scale = np.maximum(np.abs(xw).max(axis=0), 1e-300)
    coef, _ = nnls(xw / scale, y * w)
    return coef / scale


def _nnls_r2(
    x: NDArray[np.float64], y: NDArray[np.float64], relative: bool = False
) -> tuple[NDArray[np.float64], float]:
    coef = _nnls(x, y, relative)
    resid = y - x @ coef
    r2 = 1.0 - float(resid @ resid) / float(((y - y.mean()) ** 2).sum())
    return coef, r2


def _designs(shapes: ShapeLike, bytes_per_element: float) -> Any:
    c = step_counts(shapes)
    flops = np.ravel(c.flops)
    mem = np.ravel(c.memcpy_bytes(bytes_per_element))
    one = np.ones_like(flops)
    return {
        "flops": np.column_stack([flops, one]),
        "memory": np.column_stack([mem, one]),
        "both": np.column_stack([flops, mem, one]),
    }


def fit_step_time(
    shapes: ShapeLike,
    measured_seconds: Any,
    *,
    bytes_per_element: float = 2.0,
    relative: bool = True,
) -> StepTimeFit:
    """Non-negative least squares of measured step times on FLOPs, bytes moved and a
    constant, on relative error by default (a fit on absolute seconds is carried by the
    largest steps and over-predicted our smallest ones up to 10x); also the R² of FLOPs
    alone and of memory traffic alone (with a constant), fitted the same way."""
    y = np.ravel(as_float("measured_seconds", measured_seconds))
    designs = _designs(shapes, bytes_per_element)
    if len(y) != len(designs["both"]):
        raise ScaleplanError(
            f"measured_seconds has {len(y)} values for {len(designs['both'])} shapes",
            "measured_seconds",
        )
    if len(y) < 4 or not np.all(np.isfinite(y) & (y > 0)):
        raise ScaleplanError(
            "measured_seconds must hold at least 4 finite times > 0", "measured_seconds"
        )
    _, r2_f = _nnls_r2(designs["flops"], y, relative)
    _, r2_m = _nnls_r2(designs["memory"], y, relative)
    coef, r2_b = _nnls_r2(designs["both"], y, relative)
    model = StepTimeModel(
        float(coef[0]),
        float(coef[1]),
        float(coef[2]),
        bytes_per_element,
        source=f"fitted to {len(y)} measured steps ({'relative' if relative else 'absolute'})",
    )
    err = np.abs(designs["both"] @ coef / y - 1.0)
    return StepTimeFit(model, r2_f, r2_m, r2_b, len(y), float(np.median(err)), float(err.max()))


@dataclass(frozen=True, repr=False)
class BudgetResult(Record):
    """What a shape reaches in a wall-clock budget."""

    loss: Any
    params: Any
    tokens: Any
    steps: Any
    step_seconds: Any
    memory_bytes: Any


def check_seconds(seconds: Any) -> float:
    """A wall-clock budget in seconds, or a ValueError naming it."""
    return number("seconds", seconds, POSITIVE)


def _time_model(time_model: Any) -> StepTimeModel:
    """`time_model`, or the default (H100 bf16 at 50% MFU) for None."""
    if time_model is None:
        return StepTimeModel.from_hardware("h100-sxm", "bf16", mfu=0.5)
    return instance("time_model", time_model, StepTimeModel, "a StepTimeModel or None")


def loss_in_budget(
    shapes: ShapeLike,
    seconds: float,
    *,
    law: ScalingLaw | str = CHINCHILLA,
    time_model: StepTimeModel | None = None,
) -> BudgetResult:
    """`tokens = seconds / TIME * batch * seq`, `loss = L(PARAMS, tokens)` for each shape."""
    seconds = check_seconds(seconds)
    law = resolve_law(law)
    model = _time_model(time_model)
    with renamed(shapes="shapes"):
        shape, cols = shape_inputs(shapes)
    p, f, m, a = (x.reshape(shape or (1,)) for x in _core.step_counts(cols, broadcast_shape=shape))
    step = model.c_flop * f + model.c_mem * m * model.bytes_per_element + model.c_0
    steps = seconds / step
    tokens = steps * cols[FIELDS.index("batch_size")] * cols[FIELDS.index("seq_len")]
    with renamed(tokens="seconds"):  # the tokens a budget of `seconds` trains on
        loss = law.loss(p, tokens)
    memory = OPTIMIZER_BYTES_PER_PARAM * p + model.bytes_per_element * a
    flat = shape or (1,)
    return BudgetResult(
        *(
            shaped(np.broadcast_to(x, flat).reshape(-1), shape)
            for x in (loss, p, tokens, steps, step, memory)
        )
    )


def shape_grid(
    d_model: Iterable[int] = (256, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192),
    n_layers: Iterable[int] = (2, 4, 6, 8, 12, 16, 24, 32, 48, 64),
    n_heads: Iterable[int] = (4, 8, 16, 32, 64),
    mlp_ratio: Iterable[float] = (1.0, 2.0, 8 / 3, 4.0),
    **fixed: Any,
) -> dict[str, NDArray[np.float64]]:
    """A Cartesian grid of shapes as columns (heads that do not divide the width dropped)."""
    rows = [
        (d, L, h, round(d * r))
        for d, L, h, r in itertools.product(d_model, n_layers, n_heads, mlp_ratio)
        if d % h == 0
    ]
    grid = np.array(rows, dtype=float)
    cols = {
        "d_model": grid[:, 0],
        "n_layers": grid[:, 1],
        "n_heads": grid[:, 2],
        "d_ff": grid[:, 3],
    }
    return {**cols, **{k: np.asarray(v, dtype=float) for k, v in fixed.items()}}


@dataclass(frozen=True, repr=False)
class ShapeRanking(Record):
    """The best shapes for a budget, best first."""

    shapes: dict[str, NDArray[np.float64]]
    result: BudgetResult
    considered: int
    feasible: int


def best_shapes(
    seconds: float,
    *,
    law: ScalingLaw | str = CHINCHILLA,
    time_model: StepTimeModel | None = None,
    candidates: Mapping[str, Any] | None = None,
    max_params: float | None = None,
    params: float | None = None,
    params_tolerance: float = 0.1,
    max_memory_bytes: float | None = None,
    top: int = 10,
) -> ShapeRanking:
    """The `top` lowest-loss shapes for a wall-clock budget, among `candidates` (columns as
    `shape_grid` returns; default `shape_grid()`), optionally with at most `max_params`,
    within `params_tolerance` of `params`, or at most `max_memory_bytes` of training memory."""
    top = whole("top", top)
    max_params = optional("max_params", max_params)
    params = optional("params", params)
    params_tolerance = number("params_tolerance", params_tolerance)
    max_memory_bytes = optional("max_memory_bytes", max_memory_bytes)
    if candidates is not None:
        instance("candidates", candidates, Mapping, "a mapping of shape fields to arrays")
    cand = dict(candidates) if candidates is not None else shape_grid()
    with renamed(shapes="candidates"):
        r = loss_in_budget(cand, seconds, law=law, time_model=time_model)
    loss = np.atleast_1d(np.asarray(r.loss, dtype=float))
    ok = np.isfinite(loss)
    p = np.atleast_1d(r.params)
    if max_params is not None:
        ok &= p <= max_params
    if params is not None:
        ok &= np.abs(p / params - 1.0) <= params_tolerance
    if max_memory_bytes is not None:
        ok &= np.atleast_1d(r.memory_bytes) <= max_memory_bytes
    idx = np.flatnonzero(ok)
    order = idx[np.argsort(loss[idx], kind="stable")[:top]]
    full, _ = shape_columns(cand)
    chosen = {
        k: full[i][order] if len(full[i]) > 1 else np.repeat(full[i], len(order))
        for i, k in enumerate(FIELDS)
    }
    pick = lambda x: np.atleast_1d(x)[order]  # noqa: E731
    result = BudgetResult(*(pick(getattr(r, f.name)) for f in fields(BudgetResult)))
    return ShapeRanking(chosen, result, len(loss), int(ok.sum()))


def _heldout(
    shapes: ShapeLike,
    measured_seconds: Any,
    folds: int,
    seed: int,
    bytes_per_element: float,
    relative: bool,
) -> tuple[NDArray[np.float64], dict[str, NDArray[np.float64]]]:
    """Measured times and each explanation's k-fold predictions of them: every fold's
    times predicted by NNLS fitted on the other folds."""
    y = np.ravel(as_float("measured_seconds", measured_seconds))
    designs = _designs(shapes, bytes_per_element)
    if len(y) != len(designs["both"]) or len(y) < 2 * folds:
        raise ScaleplanError(f"need one time per shape and at least {2 * folds} shapes")
    order = np.random.default_rng(seed).permutation(len(y))
    pred = {k: np.zeros_like(y) for k in designs}
    for test in np.array_split(order, folds):
        train = np.setdiff1d(order, test)
        for k, x in designs.items():
            pred[k][test] = x[test] @ _nnls(x[train], y[train], relative)
    return y, pred


def heldout_r2(
    shapes: ShapeLike,
    measured_seconds: Any,
    *,
    folds: int = 5,
    seed: int = 0,
    bytes_per_element: float = 2.0,
) -> dict[str, float]:
    """K-fold cross-validated R² of the FLOPs-only, memory-only and combined time models,
    each fitted on absolute seconds (the measure the seed uses)."""
    y, pred = _heldout(shapes, measured_seconds, folds, seed, bytes_per_element, False)
    total = float(((y - y.mean()) ** 2).sum())
    return {k: 1.0 - float(((y - p) ** 2).sum()) / total for k, p in pred.items()}


def heldout_relative_errors(
    shapes: ShapeLike,
    measured_seconds: Any,
    *,
    folds: int = 5,
    seed: int = 0,
    bytes_per_element: float = 2.0,
) -> dict[str, tuple[float, float]]:
    """K-fold cross-validated (median, worst) relative error of the FLOPs-only,
    memory-only and combined time models, each fitted on relative error."""
    y, pred = _heldout(shapes, measured_seconds, folds, seed, bytes_per_element, True)
    out = {}
    for k, p in pred.items():
        err = np.abs(p / y - 1.0)
        out[k] = (float(np.median(err)), float(err.max()))
    return out
