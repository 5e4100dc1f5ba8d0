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
class StepTimeModel(Record):
    """A training step's time: `seconds = c_flop * FLOPs + c_mem * bytes moved + c_0`.

    FLOPs and bytes moved per step are counted from the shape (`step_counts`); the model
    is fitted to measured steps (`fit_step_time`) or taken from the hardware's roofline
    (`from_hardware`).

    Parameters
    ----------
    c_flop : float
        Seconds per FLOP (>= 0).
    c_mem : float
        Seconds per byte moved (>= 0).
    c_0 : float, optional
        Fixed seconds per step (>= 0; default 0).
    bytes_per_element : float, optional
        Bytes per activation or weight element moved (default 2: bf16).
    source : str, optional
        Where the coefficients came from (not compared).

    Raises
    ------
    ScaleplanError
        If a coefficient is negative or not finite, or `bytes_per_element` is not > 0.

    Examples
    --------
    >>> model = StepTimeModel.from_hardware("h100-sxm", "bf16", mfu=0.5)
    >>> print(f"{model.predict('llama-2-7b'):.3f} s per step")
    1.860 s per step
    >>> print(f"{StepTimeModel(2e-15, 1e-12, 0.01).predict('llama-2-7b'):.3f} s")
    2.889 s
    """

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
        """The roofline before any measurement: `c_flop = 1 / (mfu * peak)` seconds per
        FLOP, `c_mem = 1 / bandwidth` seconds per byte, no overhead (both terms added:
        nothing overlaps, a pessimistic bound).

        Parameters
        ----------
        gpu : Accelerator or str
            The accelerator or its name ("h100-sxm").
        precision : str, optional
            The compute precision whose peak FLOP/s applies (default "bf16"); "fp8" and
            "int8" also move 1 byte per element instead of 2.
        mfu : float, optional
            Model FLOP utilisation in (0, 1] (default 1).

        Returns
        -------
        StepTimeModel

        Raises
        ------
        ScaleplanError
            If the GPU is unknown or `mfu` is outside (0, 1].

        Examples
        --------
        >>> m = StepTimeModel.from_hardware("h100-sxm", "bf16", mfu=0.5)
        >>> print(f"{1 / m.c_flop:.3g} FLOP/s, {1 / m.c_mem:.3g} B/s ({m.source})")
        4.94e+14 FLOP/s, 3.35e+12 B/s (roofline h100-sxm bf16)
        """
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
        """Seconds per training step of each shape.

        Parameters
        ----------
        shapes : ShapeLike
            A `TransformerShape`, a model name, a config path, or columns of shape fields.

        Returns
        -------
        float or numpy.ndarray
            Seconds per step, one per shape.

        Examples
        --------
        >>> model = StepTimeModel(c_flop=2e-15, c_mem=1e-12, c_0=0.01)
        >>> print(f"{model.predict('llama-2-7b'):.3f} s")
        2.889 s
        """
        c = step_counts(shapes)
        return (
            self.c_flop * c.flops + self.c_mem * c.memcpy_bytes(self.bytes_per_element) + self.c_0
        )


@dataclass(frozen=True, repr=False)
class StepTimeFit(Record):
    """A fitted step-time model, as `fit_step_time` returns it, with how well each
    explanation fits the same data.

    Parameters
    ----------
    model : StepTimeModel
        FLOPs, bytes moved and a constant, fitted.
    r2_flops, r2_memory, r2_both : float
        R² of the absolute times for FLOPs alone (with a constant), memory traffic alone
        (with a constant) and both, each fitted the same way.
    n_points : int
        Steps fitted.
    median_relative_error, worst_relative_error : float
        The fitted model's |predicted / measured - 1| on the data (fractions).

    Examples
    --------
    >>> import numpy as np
    >>> grid = shape_grid(d_model=(512, 1024, 2048), n_layers=(4, 8, 16), n_heads=(8,),
    ...                   mlp_ratio=(4.0,), batch_size=32, seq_len=2048)
    >>> truth = StepTimeModel(c_flop=2e-15, c_mem=1e-12, c_0=0.01)
    >>> noise = np.exp(np.random.default_rng(0).normal(0.0, 0.02, 9))  # 2% jitter
    >>> seconds = truth.predict(grid) * noise  # nine "measured" step times
    >>> fit = fit_step_time(grid, seconds)
    >>> print(f"R2: FLOPs {fit.r2_flops:.2f}, memory {fit.r2_memory:.2f}, "
    ...       f"both {fit.r2_both:.4f}; worst error {fit.worst_relative_error:.1%}")
    R2: FLOPs 0.90, memory 0.82, both 0.9991; worst error 2.2%
    """

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
    """Fit `seconds = c_flop * FLOPs + c_mem * bytes moved + c_0` to measured step times.

    Non-negative least squares on relative error by default, `sum ((pred - y) / y)^2` (a
    fit on absolute seconds is carried by the largest steps and over-predicted our
    smallest ones up to 10x); also the R² of FLOPs alone and of memory traffic alone (with
    a constant), fitted the same way.

    Parameters
    ----------
    shapes : ShapeLike
        The measured shapes (columns of shape fields, one row per measurement).
    measured_seconds : array_like
        Seconds per step, one per shape (at least 4, all > 0).
    bytes_per_element : float, optional
        Bytes per element moved (default 2: bf16).
    relative : bool, optional
        Minimise relative errors (default) rather than absolute seconds.

    Returns
    -------
    StepTimeFit

    Raises
    ------
    ScaleplanError
        If the times do not match the shapes one to one, or are fewer than 4, not finite
        or not > 0.

    Examples
    --------
    >>> import numpy as np
    >>> grid = shape_grid(d_model=(512, 1024, 2048), n_layers=(4, 8, 16), n_heads=(8,),
    ...                   mlp_ratio=(4.0,), batch_size=32, seq_len=2048)
    >>> truth = StepTimeModel(c_flop=2e-15, c_mem=1e-12, c_0=0.01)
    >>> noise = np.exp(np.random.default_rng(0).normal(0.0, 0.02, 9))  # 2% jitter
    >>> seconds = truth.predict(grid) * noise  # nine "measured" step times
    >>> fit = fit_step_time(grid, seconds)
    >>> m = fit.model
    >>> print(f"c_flop {m.c_flop:.2e} s/FLOP, c_mem {m.c_mem:.2e} s/B, c_0 {m.c_0:.3f} s")
    c_flop 2.04e-15 s/FLOP, c_mem 9.96e-13 s/B, c_0 0.011 s
    """
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
    """What each shape reaches in a wall-clock budget, as `loss_in_budget` returns it.

    Floats for one shape, arrays in the shapes' broadcast shape otherwise.

    Parameters
    ----------
    loss : float or numpy.ndarray
        `L(params, tokens)`, in nats/token.
    params : float or numpy.ndarray
        Parameters N (count).
    tokens : float or numpy.ndarray
        Training tokens reached in the budget.
    steps : float or numpy.ndarray
        Training steps in the budget.
    step_seconds : float or numpy.ndarray
        Seconds per step.
    memory_bytes : float or numpy.ndarray
        Training memory: weights, gradients and optimiser state plus activations, in bytes.

    Examples
    --------
    >>> r = loss_in_budget("llama-2-7b", 86400.0)  # one day, H100 at 50% MFU
    >>> print(f"{r.steps:,.0f} steps of {r.step_seconds:.2f} s, {r.tokens:.3g} tokens, "
    ...       f"loss {r.loss:.3f}")
    46,441 steps of 1.86 s, 7.61e+08 tokens, loss 3.152
    """

    loss: Any
    params: Any
    tokens: Any
    steps: Any
    step_seconds: Any
    memory_bytes: Any


def check_seconds(seconds: Any) -> float:
    """A wall-clock budget checked: `seconds` as a float if finite and > 0.

    Parameters
    ----------
    seconds : float
        The budget, in seconds.

    Returns
    -------
    float

    Raises
    ------
    ScaleplanError
        If `seconds` is not a finite number > 0 (naming `seconds`).

    Examples
    --------
    >>> check_seconds(3600)
    3600.0
    >>> check_seconds(0)
    Traceback (most recent call last):
    ...
    scaleplan.errors.ScaleplanError: seconds must be a finite number > 0; got 0.0
    """
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
    """The loss each shape reaches in a wall-clock budget.

    `tokens = seconds / TIME * batch * seq` and `loss = L(PARAMS, tokens)`, with `TIME`
    the step time of `time_model`.

    Parameters
    ----------
    shapes : ShapeLike
        A `TransformerShape`, a model name, a config path, or columns of shape fields.
    seconds : float
        The training budget, in seconds of wall clock.
    law : ScalingLaw or str, optional
        The loss law (default Chinchilla's).
    time_model : StepTimeModel, optional
        Seconds per step (default: the H100 bf16 roofline at 50% MFU).

    Returns
    -------
    BudgetResult

    Raises
    ------
    ScaleplanError
        If `seconds` is not > 0, a shape field is out of range, or `time_model` is not a
        `StepTimeModel`.

    Examples
    --------
    >>> r = loss_in_budget("llama-2-7b", 86400.0)  # one day, H100 at 50% MFU
    >>> print(f"N = {r.params:.3g}, D = {r.tokens:.3g}, loss {r.loss:.3f} nats/token")
    N = 6.74e+09, D = 7.61e+08, loss 3.152 nats/token
    """
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
    """A Cartesian grid of shapes as columns: every width, depth, head count and MLP ratio
    (`d_ff = round(d_model * mlp_ratio)`), dropping head counts that do not divide the
    width; `best_shapes` searches it.

    Parameters
    ----------
    d_model, n_layers, n_heads : iterable of int, optional
        Widths, depths and head counts to combine.
    mlp_ratio : iterable of float, optional
        `d_ff / d_model` values.
    **fixed
        Other shape fields, the same for every row (`batch_size=32`, `seq_len=2048`).

    Returns
    -------
    dict of str to numpy.ndarray
        Columns `d_model`, `n_layers`, `n_heads`, `d_ff` (one row per shape) and the fixed
        fields.

    Examples
    --------
    >>> grid = shape_grid(d_model=(512, 768), n_layers=(4,), n_heads=(8, 16, 32),
    ...                   mlp_ratio=(4.0,), seq_len=2048)
    >>> grid["d_model"].tolist(), grid["n_heads"].tolist()
    ([512.0, 512.0, 512.0, 768.0, 768.0, 768.0], [8.0, 16.0, 32.0, 8.0, 16.0, 32.0])
    >>> len(shape_grid()["d_model"])  # the default grid
    2000
    """
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
    """The best shapes for a wall-clock budget, best first, as `best_shapes` returns them.

    Parameters
    ----------
    shapes : dict of str to numpy.ndarray
        The chosen shapes' fields as columns, best first.
    result : BudgetResult
        What each reaches in the budget (loss in nats/token, tokens, seconds per step).
    considered : int
        Candidate shapes.
    feasible : int
        Candidates within the limits on parameters and memory.

    Examples
    --------
    >>> best = best_shapes(86400.0, top=3)
    >>> best.considered, best.feasible
    (2000, 2000)
    >>> print(f"{best.result.loss[0]:.3f} nats/token")
    2.718 nats/token
    """

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
    """The `top` lowest-loss shapes for a wall-clock budget.

    Each candidate's loss in the budget is `loss_in_budget`'s; candidates outside the
    limits are dropped, the rest ranked by loss.

    Parameters
    ----------
    seconds : float
        The training budget, in seconds of wall clock.
    law : ScalingLaw or str, optional
        The loss law (default Chinchilla's).
    time_model : StepTimeModel, optional
        Seconds per step (default: the H100 bf16 roofline at 50% MFU).
    candidates : mapping of str to array_like, optional
        Shapes as columns, as `shape_grid` returns them (default `shape_grid()`).
    max_params : float, optional
        At most this many parameters.
    params : float, optional
        Parameters to aim at, within `params_tolerance` (a fraction, default 0.1).
    params_tolerance : float, optional
        Relative tolerance on `params`.
    max_memory_bytes : float, optional
        At most this much training memory, in bytes.
    top : int, optional
        How many shapes to return (default 10).

    Returns
    -------
    ShapeRanking

    Raises
    ------
    ScaleplanError
        If `seconds` is not > 0, a limit is out of range, or `candidates` is not a mapping.

    Examples
    --------
    >>> best = best_shapes(86400.0, max_params=1e9, top=3)  # a day on one H100
    >>> s, r = best.shapes, best.result
    >>> for i in range(3):
    ...     print(f"{s['d_model'][i]:.0f} wide, {s['n_layers'][i]:.0f} layers, "
    ...           f"{s['n_heads'][i]:.0f} heads, d_ff {s['d_ff'][i]:.0f}: "
    ...           f"N = {r.params[i]:.3g}, loss {r.loss[i]:.3f}")
    4096 wide, 2 layers, 4 heads, d_ff 4096: N = 4.97e+08, loss 2.718
    4096 wide, 2 layers, 8 heads, d_ff 4096: N = 4.97e+08, loss 2.721
    4096 wide, 2 layers, 4 heads, d_ff 8192: N = 5.98e+08, loss 2.722
    """
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
    """K-fold cross-validated R² of the FLOPs-only, memory-only and combined step-time
    models, each fitted on absolute seconds (the measure the seed uses).

    Each fold's times are predicted by non-negative least squares fitted on the other
    folds; `R² = 1 - sum (y - pred)^2 / sum (y - mean y)^2`.

    Parameters
    ----------
    shapes : ShapeLike
        The measured shapes, one row per measurement.
    measured_seconds : array_like
        Seconds per step, one per shape (at least `2 * folds`).
    folds : int, optional
        k (default 5).
    seed : int, optional
        Seeds the folds (default 0).
    bytes_per_element : float, optional
        Bytes per element moved (default 2: bf16).

    Returns
    -------
    dict of str to float
        R² for "flops", "memory" and "both".

    Raises
    ------
    ScaleplanError
        If the times do not match the shapes or are fewer than `2 * folds`.

    Examples
    --------
    >>> import numpy as np
    >>> grid = shape_grid(d_model=(512, 1024, 2048), n_layers=(4, 8, 16), n_heads=(8,),
    ...                   mlp_ratio=(4.0,), batch_size=32, seq_len=2048)
    >>> truth = StepTimeModel(c_flop=2e-15, c_mem=1e-12, c_0=0.01)
    >>> noise = np.exp(np.random.default_rng(0).normal(0.0, 0.02, 9))  # 2% jitter
    >>> seconds = truth.predict(grid) * noise  # nine "measured" step times
    >>> r2 = heldout_r2(grid, seconds, folds=3)
    >>> {k: round(v, 2) for k, v in r2.items()}
    {'flops': 0.84, 'memory': 0.74, 'both': 1.0}
    """
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
    memory-only and combined step-time models, each fitted on relative error.

    Each fold's times are predicted by non-negative least squares fitted on the other
    folds; the error is `|pred / y - 1|`.

    Parameters
    ----------
    shapes : ShapeLike
        The measured shapes, one row per measurement.
    measured_seconds : array_like
        Seconds per step, one per shape (at least `2 * folds`).
    folds : int, optional
        k (default 5).
    seed : int, optional
        Seeds the folds (default 0).
    bytes_per_element : float, optional
        Bytes per element moved (default 2: bf16).

    Returns
    -------
    dict of str to (float, float)
        (median, worst) relative error, as fractions, for "flops", "memory" and "both".

    Raises
    ------
    ScaleplanError
        If the times do not match the shapes or are fewer than `2 * folds`.

    Examples
    --------
    >>> import numpy as np
    >>> grid = shape_grid(d_model=(512, 1024, 2048), n_layers=(4, 8, 16), n_heads=(8,),
    ...                   mlp_ratio=(4.0,), batch_size=32, seq_len=2048)
    >>> truth = StepTimeModel(c_flop=2e-15, c_mem=1e-12, c_0=0.01)
    >>> noise = np.exp(np.random.default_rng(0).normal(0.0, 0.02, 9))  # 2% jitter
    >>> seconds = truth.predict(grid) * noise  # nine "measured" step times
    >>> errors = heldout_relative_errors(grid, seconds, folds=3)
    >>> print(", ".join(f"{k} {m:.1%} (worst {w:.1%})" for k, (m, w) in errors.items()))
    flops 26.0% (worst 51.6%), memory 25.5% (worst 35.2%), both 1.6% (worst 3.4%)
    """
    y, pred = _heldout(shapes, measured_seconds, folds, seed, bytes_per_element, True)
    out = {}
    for k, p in pred.items():
        err = np.abs(p / y - 1.0)
        out[k] = (float(np.median(err)), float(err.max()))
    return out
