"""Step time of a transformer shape and the best loss reachable in a wall-clock budget
(after "Time Matters", seed 003).

`TIME = c_flop * FLOPS + c_mem * MEMCPY_BYTES + c_0` per training step, with FLOPS and
memory traffic counted from the shape by the Rust core (`rust/core/src/arch/mod.rs` states every
term). In a budget of `seconds`, a shape trains on `seconds / TIME * batch * seq` tokens and
reaches `L(PARAMS, tokens)`. The model's fit to measured steps is in `steptime_fit`, the
search for the best shapes in a budget in `shape_search`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _core
from .._utils.arrays import shaped
from .._utils.checks import NON_NEGATIVE, POSITIVE, instance, number, renamed, whole
from .._utils.frames import Record
from ..arch.counts import StepCounts, step_counts
from ..arch.shapes import (
    FIELDS,
    OPTIMIZER_BYTES_PER_PARAM,
    ShapeLike,
    TransformerShape,
    shape_columns,
    shape_inputs,
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
    "StepCounts",
    "StepTimeModel",
    "TransformerShape",
    "check_seconds",
    "loss_in_budget",
    "shape_columns",
    "shape_grid",
    "step_counts",
]


@dataclass(frozen=True, repr=False)
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
    outputs = _core.step_counts(cols, broadcast_shape=shape)
    p, f, m, a, active = (x.reshape(shape or (1,)) for x in outputs)
    if np.any(active != p):
        # The law prices one parameter count; an MoE's loss needs its experts too.
        raise ScaleplanError(
            "loss_in_budget takes dense shapes: a dense law cannot price a mixture of "
            "experts (for those, use a law of the MoE family with its experts)",
            "shapes",
        )
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


def _values(name: str, values: Iterable[Any]) -> list[Any]:
    """An iterable's items (at least one), or the error naming the argument."""
    try:
        items = list(values)
    except TypeError:
        raise ScaleplanError(f"{name} must be an iterable of numbers; got "
                             f"{type(values).__name__}", name) from None  # fmt: skip
    if not items:
        raise ScaleplanError(f"{name} must hold at least one value", name)
    return items


def _counts(name: str, values: Iterable[Any]) -> list[int]:
    # The grid is float64 columns: a count is whole and exact there up to 2**53.
    return [whole(name, v, 1, 2**53) for v in _values(name, values)]


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
    widths, depths, heads = (_counts(n, v) for n, v in (("d_model", d_model),
                             ("n_layers", n_layers), ("n_heads", n_heads)))  # fmt: skip
    ratios = [number("mlp_ratio", r) for r in _values("mlp_ratio", mlp_ratio)]
    rows = [
        (d, L, h, round(d * r))
        for d, L, h, r in itertools.product(widths, depths, heads, ratios)
        if d % h == 0
    ]
    if not rows:
        raise ScaleplanError(f"n_heads: no head count in {heads} divides a width in "
                             f"d_model {widths}", "n_heads")  # fmt: skip
    grid = np.array(rows, dtype=float)
    cols = {
        "d_model": grid[:, 0],
        "n_layers": grid[:, 1],
        "n_heads": grid[:, 2],
        "d_ff": grid[:, 3],
    }
    return {**cols, **{k: np.asarray(v, dtype=float) for k, v in fixed.items()}}
