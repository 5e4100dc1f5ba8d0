"""The lazy grid of a sweep: its axes and fixed values, its chunks, and the kernel that
builds and solves one block of the product from the axes (see `sweeps` for the layout)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dask.array as da
import numpy as np

from .._utils.arrays import as_float
from ..errors import ScaleplanError
from ..laws.scaling import COEFFICIENTS, ScalingLaw
from ..optimal.costs import CostModel
from ..optimal.costs import cost_optimal as _cost_optimal
from ..optimal.lifetime import compute_optimal as _compute_optimal
from ._chunks import chunk_error

_SOLVED: tuple[tuple[str, Any], ...] = (
    ("params", np.float64),
    ("tokens", np.float64),
    ("iterations", np.uint32),
    ("converged", np.bool_),
)
OUTPUTS: dict[str, tuple[tuple[str, Any], ...]] = {
    "compute": (
        *_SOLVED,
        *((name, np.float64) for name in ("training_flops", "inference_flops", "total_flops")),
        ("flop_saving", np.float64),
    ),
    "cost": (
        *_SOLVED,
        *((name, np.float64) for name in ("training_dollars", "inference_dollars")),
        ("total_dollars", np.float64),
        ("saving", np.float64),
    ),
}


def _axis(name: str, value: Any) -> np.ndarray | None:
    """`value` as a 1-D axis, or None when it is one fixed number."""
    arr = as_float(name, value)
    if arr.ndim == 0:
        return None
    if arr.ndim != 1 or arr.size == 0:
        raise ScaleplanError(
            f"{name} must be a number or a non-empty 1-D array; got shape {arr.shape}", name
        )
    return np.ascontiguousarray(arr)


def _law_axis(law: ScalingLaw) -> int | None:
    if not law.is_batch:
        return None
    sizes = {np.size(c) for c in law.coefficients} - {1}
    shapes = {np.ndim(c) for c in law.coefficients if np.size(c) != 1}
    if len(sizes) != 1 or shapes != {1}:
        raise ScaleplanError(
            "a swept law's coefficients must be numbers or 1-D arrays of one length; got "
            + ", ".join(
                f"{c} {np.shape(v)}" for c, v in zip(COEFFICIENTS, law.coefficients, strict=True)
            )
        )
    return sizes.pop()


def costs_axis(costs: Any) -> list[CostModel]:
    if costs is None:
        return [CostModel()]
    if isinstance(costs, CostModel):
        return [costs]
    if isinstance(costs, Sequence) and costs and all(isinstance(c, CostModel) for c in costs):
        return list(costs)
    raise ScaleplanError(
        f"costs must be a CostModel or a non-empty sequence of them; got {costs!r}", "costs"
    )


def chunk_sizes(shape: tuple[int, ...], rows: int, whole_from: int) -> tuple[int, ...]:
    """Chunk sizes with the inner dimensions whole while they fit in `rows` scenarios, the
    next one split to fill `rows`, the outer ones (and those before `whole_from`) by one."""
    sizes = [1] * len(shape)
    inner = 1
    for i in range(len(shape) - 1, -1, -1):
        if i < whole_from:
            break
        if inner * shape[i] <= rows:
            sizes[i] = shape[i]
            inner *= shape[i]
        else:
            sizes[i] = max(1, rows // inner)
            break
    return tuple(sizes)


def _sweep_kernel(
    *,
    kind: str,
    models: list[CostModel],
    options: dict[str, Any],
    costs: Any = None,
    **named: Any,
) -> tuple[Any, ...]:
    law = ScalingLaw(*(named.pop(c) for c in COEFFICIENTS))
    if kind == "compute":
        r = _compute_optimal(named["loss"], named["inference_tokens"], law=law, **options)
        # Each product once (the result's properties would recompute them), in the same
        # order of operations as `total_flops` and `flop_saving`, so the bits agree.
        training, inference = r.training_flops, r.inference_flops
        total = training + inference
        saving = 1.0 - total / r.chinchilla.total_flops
        return (r.params, r.tokens, r.iterations, r.converged, training, inference, total, saving)
    model = models[int(np.ravel(costs)[0]) if costs is not None else 0]
    c = _cost_optimal(
        named["loss"],
        named["requests"],
        named["input_tokens"],
        named["output_tokens"],
        costs=model,
        law=law,
        **options,
    )
    b = c.breakdown
    training, inference = b.training_dollars, b.inference_dollars
    total = training + inference
    saving = 1.0 - total / c.chinchilla.total_dollars
    return (c.params, c.tokens, c.iterations, c.converged, training, inference, total, saving)


def axes_and_fixed(
    kind: str, values: dict[str, Any], law: ScalingLaw, models: list[CostModel]
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """The swept axes, outermost first (costs, law, then the given values that are 1-D
    arrays), and the values held fixed."""
    axes: dict[str, np.ndarray] = {}
    fixed: dict[str, float] = {}
    if kind == "cost" and len(models) > 1:
        axes["costs"] = np.arange(len(models), dtype=np.float64)
    n_laws = _law_axis(law)
    if n_laws is not None:
        axes["law"] = np.arange(n_laws, dtype=np.float64)
    for name, v in values.items():
        a = _axis(name, v)
        if a is None:
            fixed[name] = float(as_float(name, v))
        else:
            axes[name] = a
    return axes, fixed


def _named_inputs(
    dims: tuple[str, ...],
    axes: dict[str, np.ndarray],
    fixed: dict[str, float],
    law: ScalingLaw,
    pick: Any,
) -> dict[str, Any]:
    """The kernel's named inputs, each axis laid along its dimension; `pick(name, values)`
    turns an axis into what the kernel gets (a Dask array, or one block's slice)."""
    ndim = len(dims)

    def along(dim: str, v: Any) -> Any:
        i = dims.index(dim)
        return pick(dim, v)[(None,) * i + (slice(None),) + (None,) * (ndim - 1 - i)]

    named: dict[str, Any] = {k: np.float64(v) for k, v in fixed.items()}
    for dim in dims:
        if dim in ("law", "costs"):
            continue
        named[dim] = along(dim, axes[dim])
    for c in COEFFICIENTS:
        v = getattr(law, c)
        named[c] = along("law", np.asarray(v)) if np.size(v) != 1 else np.float64(np.ravel(v)[0])
    if "costs" in dims:
        named["costs"] = along("costs", axes["costs"])
    return named


@dataclass(frozen=True)
class SweepGrid:
    """What every block task of one sweep shares; sent to each worker once."""

    dims: tuple[str, ...]
    axes: dict[str, np.ndarray]
    fixed: dict[str, float]
    law: ScalingLaw
    static: dict[str, Any]
    shape: tuple[int, ...]
    chunks: tuple[tuple[int, ...], ...]

    @property
    def outputs(self) -> tuple[tuple[str, Any], ...]:
        """(name, dtype) of each output column."""
        return OUTPUTS[self.static["kind"]]

    def blocks(self) -> list[tuple[tuple[int, int], ...]]:
        edges = [np.cumsum((0, *c)) for c in self.chunks]
        return [
            tuple((int(e[i]), int(e[i + 1])) for e, i in zip(edges, idx, strict=True))
            for idx in np.ndindex(*(len(c) for c in self.chunks))
        ]

    def solve(self, block: tuple[tuple[int, int], ...]) -> tuple[tuple[int, ...], list[Any]]:
        """The block's shape and its outputs, each broadcast to that shape."""

        def piece(dim: str, v: np.ndarray) -> np.ndarray:
            lo, hi = block[self.dims.index(dim)]
            return v[lo:hi]

        named = _named_inputs(self.dims, self.axes, self.fixed, self.law, piece)
        block_shape = tuple(hi - lo for lo, hi in block)
        try:
            results = _sweep_kernel(**self.static, **named)
        except ValueError as exc:
            starts = tuple(lo for lo, _ in block)
            raise (chunk_error(exc, starts, block_shape, self.shape, self.chunks)) from None
        kinds = self.outputs
        return block_shape, [
            np.broadcast_to(np.asarray(r, dtype=dt), block_shape)
            for (_, dt), r in zip(kinds, results, strict=True)
        ]


def sweep_grid(
    dims: tuple[str, ...],
    axes: dict[str, np.ndarray],
    fixed: dict[str, float],
    law: ScalingLaw,
    chunk: tuple[int, ...],
    static: dict[str, Any],
) -> SweepGrid:
    shape = tuple(len(a) for a in axes.values())
    chunks = tuple(da.core.normalize_chunks(chunk, shape)) if dims else ()
    return SweepGrid(dims, axes, fixed, law, static, shape, chunks)
