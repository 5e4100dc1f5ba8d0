"""Sweeps over the product of scenario axes, written chunk by chunk to Zarr or Parquet.

A sweep of 10^9 scenarios (losses x demands x prompt/answer lengths x law samples x cost
models) never exists in memory: each task builds its block of the product from the axes,
solves it with the in-memory kernel and writes it, so the memory a worker needs is set by
`chunk_rows`, not by the sweep.

Layout. The dimensions are, outermost first: `costs` (one `CostModel` per entry; a chunk
never spans two), `law` (the entries of a law whose coefficients are 1-D arrays, such as
bootstrap samples), then `loss`, the demand (`inference_tokens` or `requests`),
`input_tokens` and `output_tokens`; only the arguments given as 1-D arrays become axes,
scalars stay fixed. Zarr holds one N-D array per output, the axes as coordinate arrays
and the settings in the group's attributes (`dimension_names` are set, so xarray opens it).
Parquet holds one row per scenario with its axis values (axis indices for `law` and
`costs`) and the outputs; the settings are in `_scaleplan.json` beside the part files.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dask.array as da
import numpy as np

from .._arrays import as_float
from .._progress import Progress
from ..costs import DEFAULT_INPUT_TOKENS, DEFAULT_OUTPUT_TOKENS, CostModel
from ..costs import cost_optimal as _cost_optimal
from ..errors import ScaleplanError
from ..laws import CHINCHILLA, COEFFICIENTS, ScalingLaw, resolve_law
from ..lifetime import DEFAULT_MAX_ITER, DEFAULT_TOL, solver_options
from ..lifetime import compute_optimal as _compute_optimal
from ._chunks import chunk_error
from ._sweep_files import (
    Execution,
    check_path,
    check_resumable,
    format_of,
    read_settings,
    sweep_settings,
    write_parquet,
    write_zarr,
)
from .arrays import start_rule
from .fits import check_workers, current_client

__all__ = ["DEFAULT_CHUNK_ROWS", "OUTPUTS", "SweepResult", "open_sweep", "sweep"]

# 2^18 scenarios per task: ~15 ms of solving, ~40 MB of working memory, and a Dask
# overhead of about 1 ms per task (see benches/test_bench_dask.py).
DEFAULT_CHUNK_ROWS = 1 << 18

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


@dataclass(frozen=True)
class SweepResult:
    """A sweep on disk: where, its dimensions and settings, and how long it took."""

    path: str
    format: str
    kind: str
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    settings: dict[str, Any]
    seconds: float = math.nan

    @property
    def n_scenarios(self) -> int:
        return math.prod(self.shape)

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(name for name, _ in OUTPUTS[self.kind])

    def array(self, name: str) -> da.Array:
        """One output or axis of a Zarr sweep as a (lazy) Dask array."""
        if self.format != "zarr":
            raise ScaleplanError("array() reads Zarr sweeps; use frame() for Parquet")
        if name not in self.outputs and name not in self.settings["axes"]:
            raise ScaleplanError(
                f"name must be one of {', '.join(self.outputs + tuple(self.settings['axes']))}; "
                f"got {name!r}",
                "name",
            )
        return da.from_zarr(self.path, component=name)

    def frame(self) -> Any:
        """A Parquet sweep as a (lazy) Dask DataFrame."""
        if self.format != "parquet":
            raise ScaleplanError("frame() reads Parquet sweeps; use array() for Zarr")
        import dask.dataframe as dd

        return dd.read_parquet(self.path)


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


def _costs_axis(costs: Any) -> list[CostModel]:
    if costs is None:
        return [CostModel()]
    if isinstance(costs, CostModel):
        return [costs]
    if isinstance(costs, Sequence) and costs and all(isinstance(c, CostModel) for c in costs):
        return list(costs)
    raise ScaleplanError(
        f"costs must be a CostModel or a non-empty sequence of them; got {costs!r}", "costs"
    )


def _chunk_sizes(shape: tuple[int, ...], rows: int, whole_from: int) -> tuple[int, ...]:
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


def sweep(
    path: str | os.PathLike[str],
    *,
    loss: Any,
    inference_tokens: Any = None,
    requests: Any = None,
    input_tokens: Any = DEFAULT_INPUT_TOKENS,
    output_tokens: Any = DEFAULT_OUTPUT_TOKENS,
    law: ScalingLaw | str = CHINCHILLA,
    costs: CostModel | Sequence[CostModel] | None = None,
    format: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    method: str = "newton",
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    on_invalid: str = "raise",
    overwrite: bool = False,
    resume: bool = False,
    progress: Progress | None = None,
    **compute_kwargs: Any,
) -> SweepResult:
    """Solve every combination of the given axes and write the results to `path`.

    Give `inference_tokens` for a FLOP sweep (`compute_optimal`) or `requests` for a dollar
    sweep (`cost_optimal`, where `input_tokens`, `output_tokens` and `costs` may also be
    swept). Each of those arguments and `loss` is a number (fixed) or a 1-D array (an
    axis); `law` may carry 1-D coefficient arrays (an axis of laws); `costs` may be a
    list of `CostModel`s (an axis). `format` is "zarr" or "parquet" (default: from the
    suffix of `path`). Work runs on Dask's current scheduler (a distributed `Client` if one
    is active, after `check_workers` on it); `compute_kwargs` go to `dask.compute`.

    With `on_invalid="raise"` a bad scenario stops the sweep with a ValueError naming its
    chunk; "nan" writes NaN for it and goes on.

    `overwrite=True` replaces an existing sweep (and refuses to delete anything scaleplan
    did not write). `resume=True` finishes an interrupted sweep at `path` written with the
    same settings: only the chunks not yet written are computed. `progress(finished,
    total)`, if given, is called as each chunk is written, on a local scheduler or a
    distributed client (total: the chunks this call computes).
    """
    t0 = time.perf_counter()
    path = os.fspath(path)
    fmt = format_of(path, format)
    if (inference_tokens is None) == (requests is None):
        raise ScaleplanError(
            "sweep needs exactly one of inference_tokens (FLOPs) or requests (dollars)"
        )
    kind = "compute" if inference_tokens is not None else "cost"
    if kind == "compute" and (
        costs is not None
        or input_tokens is not DEFAULT_INPUT_TOKENS
        or output_tokens is not DEFAULT_OUTPUT_TOKENS
    ):
        raise ScaleplanError("costs, input_tokens and output_tokens belong to a requests sweep")
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ScaleplanError(
            f"chunk_rows must be an integer >= 1; got {chunk_rows!r}", "chunk_rows"
        )
    check_path(path, overwrite, resume)
    law = resolve_law(law)
    tol, max_iter, on_invalid = solver_options(method, tol, max_iter, on_invalid)
    models = _costs_axis(costs)
    values: dict[str, Any] = {"loss": loss}
    if kind == "compute":
        values["inference_tokens"] = inference_tokens
    else:
        values.update(requests=requests, input_tokens=input_tokens, output_tokens=output_tokens)
    axes, fixed = _axes_and_fixed(kind, values, law, models)
    dims = tuple(axes)
    shape = tuple(len(a) for a in axes.values())
    whole_from = 1 if "costs" in axes else 0
    chunk = _chunk_sizes(shape, chunk_rows, whole_from)
    options = dict(
        method=method,
        tol=tol,
        max_iter=max_iter,
        on_invalid=on_invalid,
        start=start_rule("auto", law, math.prod(shape)),
    )
    settings = sweep_settings(kind, dims, axes, fixed, law, models, options)
    static = {"kind": kind, "models": models, "options": options}
    grid = _grid(dims, axes, fixed, law, chunk, static)
    client = current_client() if "scheduler" not in compute_kwargs else None
    if client is not None:
        check_workers(client)  # a worker on another version would write other numbers
    resuming = resume and os.path.exists(path)
    if resuming:
        check_resumable(path, fmt, settings)
    elif os.path.exists(path):
        shutil.rmtree(path)  # overwrite=True, and _is_sweep said scaleplan wrote it
    execution = Execution(compute_kwargs, client, progress)
    if fmt == "zarr":
        write_zarr(path, grid, chunk, settings, resuming, execution)
    else:
        write_parquet(path, grid, settings, resuming, execution)
    settings["complete"] = True
    return SweepResult(path, fmt, kind, dims, shape, settings, time.perf_counter() - t0)


def _axes_and_fixed(
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
class _Grid:
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


def _grid(
    dims: tuple[str, ...],
    axes: dict[str, np.ndarray],
    fixed: dict[str, float],
    law: ScalingLaw,
    chunk: tuple[int, ...],
    static: dict[str, Any],
) -> _Grid:
    shape = tuple(len(a) for a in axes.values())
    chunks = tuple(da.core.normalize_chunks(chunk, shape)) if dims else ()
    return _Grid(dims, axes, fixed, law, static, shape, chunks)


def open_sweep(path: str | os.PathLike[str]) -> SweepResult:
    """A sweep written by `sweep`, from its settings on disk."""
    path = os.fspath(path)
    fmt, settings = read_settings(path)
    return SweepResult(
        path, fmt, settings["kind"], tuple(settings["dims"]), tuple(settings["shape"]), settings
    )
