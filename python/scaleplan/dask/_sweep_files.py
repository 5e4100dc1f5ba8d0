"""How a sweep lives on disk: Zarr or Parquet writers, one task per block, a marker per
finished block (what `resume` reads), and the settings that identify a sweep.

Parquet parts are written under a temporary name and renamed, and the settings are
marked complete last, so a sweep killed at any moment leaves only whole chunks and says
that it is unfinished.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dask
import numpy as np

from .._core import __version__
from .._utils.progress import Progress
from ..errors import ScaleplanError
from ..laws.scaling import COEFFICIENTS, ScalingLaw
from ..optimal.costs import CostModel

if TYPE_CHECKING:
    from ._sweep_grid import SweepGrid as Grid

SETTINGS_FILE = "_scaleplan.json"
# One empty file per finished block, named by its first index along each dimension: what
# `resume=True` reads to skip finished work.
DONE_DIR = "_scaleplan_done"


@dataclass(frozen=True)
class Execution:
    """Where a sweep's block tasks run and who hears of their progress."""

    compute_kwargs: dict[str, Any]
    client: Any = None  # a dask.distributed Client running the work, or None for local
    progress: Progress | None = None  # (finished, total) blocks


def _run_blocks(
    task: Any,
    grid: Grid,
    extra: Any,
    blocks: list[tuple[tuple[int, int], ...]],
    execution: Execution,
) -> None:
    """`task(grid, block, extra)` for every block given, as one Dask task each; `grid` and
    `extra` are single graph keys that every task shares (not copied into each)."""
    shared = dask.delayed(grid, pure=True, traverse=False)
    other = dask.delayed(extra, pure=True, traverse=False)
    step = dask.delayed(task, pure=False)
    steps = [step(shared, b, other) for b in blocks]
    progress = execution.progress
    if progress is None:
        dask.compute(*steps, **execution.compute_kwargs)
    elif execution.client is not None:
        from distributed import as_completed

        futures = execution.client.compute(steps)
        for done, _ in enumerate(as_completed(futures), start=1):
            progress(done, len(steps))
        execution.client.gather(futures)  # raises a failed block's error, as compute does
    else:
        from dask.callbacks import Callback

        keys = {s.key for s in steps}
        done = 0

        def finished(key: Any, *_: Any) -> None:
            nonlocal done
            if key in keys:
                done += 1
                progress(done, len(steps))

        with Callback(posttask=finished):
            dask.compute(*steps, **execution.compute_kwargs)


# LZ4 with byte shuffling: measured on a 2048 x 2048 sweep it writes in half the time of
# Zarr's default Zstd and 20% smaller (floats that vary smoothly over the grid shuffle well).
def _compressors() -> Any:
    from zarr.codecs import BloscCodec

    return BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")


def _block_name(block: tuple[tuple[int, int], ...]) -> str:
    return "-".join(str(lo) for lo, _ in block) or "0"


def _done_marker(path: str, block: tuple[tuple[int, int], ...]) -> str:
    return os.path.join(path, DONE_DIR, _block_name(block))


def _zarr_block(
    grid: Grid, block: tuple[tuple[int, int], ...], extra: tuple[list[Any], str]
) -> None:
    # One task solves a block and writes every output: on a small cluster each task costs
    # milliseconds of scheduling, more than a task per output would be worth.
    arrays, path = extra
    _, outputs = grid.solve(block)
    region = tuple(slice(lo, hi) for lo, hi in block)
    for array, values in zip(arrays, outputs, strict=True):
        array[region] = values
    # After every output is written: a resumed sweep recomputes any block without one.
    with open(_done_marker(path, block), "w"):
        pass


def write_zarr(
    path: str,
    grid: Grid,
    chunk: tuple[int, ...],
    settings: dict[str, Any],
    resuming: bool,
    execution: Execution,
) -> None:
    import zarr

    names = [name for name, _ in grid.outputs]
    if resuming:
        root = zarr.open_group(path, mode="r+")
        arrays = [root[name] for name in names]
    else:
        # Marked incomplete until every chunk is written: a sweep stopped midway (a bad
        # scenario, a lost cluster) leaves its finished chunks, and open_sweep says so.
        root = zarr.open_group(path, mode="w-", attributes={**settings, "complete": False})
        for name, values in grid.axes.items():
            root.create_array(name, data=values, dimension_names=[name])
        arrays = [
            root.create_array(
                name,
                shape=grid.shape,
                dtype=dt,
                chunks=chunk or (),
                compressors=_compressors(),
                dimension_names=list(grid.dims),
                fill_value=np.nan if np.dtype(dt).kind == "f" else 0,
            )
            for name, dt in grid.outputs
        ]
    os.makedirs(os.path.join(path, DONE_DIR), exist_ok=True)
    _run_blocks(_zarr_block, grid, (arrays, path), missing_blocks(grid, path), execution)
    root.attrs.update({"complete": True})


def _parquet_block(grid: Grid, block: tuple[tuple[int, int], ...], path: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    _, outputs = grid.solve(block)
    axes = np.meshgrid(
        *(grid.axes[d][lo:hi] for d, (lo, hi) in zip(grid.dims, block, strict=True)),
        indexing="ij",
    )
    columns: dict[str, Any] = {}
    for d, values in zip(grid.dims, axes, strict=True):
        columns[d] = values.ravel().astype(np.int64) if d in ("law", "costs") else values.ravel()
    for (name, _), values in zip(grid.outputs, outputs, strict=True):
        columns[name] = np.ravel(values)
    final = os.path.join(path, f"part-{_block_name(block)}.parquet")
    # Written under a temporary name and renamed: a killed worker leaves no torn file
    # under a final name (a rename within one directory is atomic on POSIX).
    temporary = os.path.join(path, f".{os.path.basename(final)}.{os.getpid()}.tmp")
    pq.write_table(pa.table(columns), temporary)
    os.replace(temporary, final)
    with open(_done_marker(path, block), "w"):
        pass


def write_parquet(
    path: str,
    grid: Grid,
    settings: dict[str, Any],
    resuming: bool,
    execution: Execution,
) -> None:
    if not resuming:
        os.makedirs(path)
        _write_settings(path, {**settings, "complete": False})
    os.makedirs(os.path.join(path, DONE_DIR), exist_ok=True)
    for name in os.listdir(path):  # torn temporaries of a killed run
        if name.startswith(".part-") and name.endswith(".tmp"):
            os.remove(os.path.join(path, name))
    _run_blocks(_parquet_block, grid, path, missing_blocks(grid, path), execution)
    # Marked complete last: until then open_sweep reports a sweep that stopped midway.
    _write_settings(path, {**settings, "complete": True})


def _write_settings(path: str, settings: dict[str, Any]) -> None:
    final = os.path.join(path, SETTINGS_FILE)
    temporary = f"{final}.tmp"
    with open(temporary, "w") as f:
        json.dump(settings, f, indent=1)
    os.replace(temporary, final)


def missing_blocks(grid: Grid, path: str) -> list[tuple[tuple[int, int], ...]]:
    """The blocks of `grid` not yet written under `path` (all of them for a new sweep)."""
    return [b for b in grid.blocks() if not os.path.exists(_done_marker(path, b))]


def stored_settings(path: str) -> dict[str, Any] | None:
    """The settings a sweep at `path` was written with, or None if it is not one."""
    sidecar = os.path.join(path, SETTINGS_FILE)
    if os.path.isfile(sidecar):
        try:
            with open(sidecar) as f:
                stored = json.load(f)
        except (OSError, ValueError):
            return None
        return stored if isinstance(stored, dict) and "kind" in stored else None
    if os.path.isfile(os.path.join(path, "zarr.json")):
        import zarr

        try:
            stored = dict(zarr.open_group(path, mode="r").attrs)
        except Exception:  # zarr raises several types for "not a group"
            return None
        return stored if "kind" in stored and "dims" in stored else None
    return None


def is_sweep(path: str) -> bool:
    return os.path.isdir(path) and stored_settings(path) is not None


def check_resumable(path: str, fmt: str, settings: dict[str, Any]) -> None:
    stored = stored_settings(path) or {}
    on_disk = sweep_format(path)
    if on_disk != fmt:
        raise ScaleplanError(f"cannot resume {path!r}: it is a {on_disk} sweep, not {fmt}")
    # Through JSON so both sides compare as plain lists, numbers and strings.
    now = json.loads(json.dumps(settings))
    differ = sorted(k for k in {*now, *stored} - {"complete"} if now.get(k) != stored.get(k))
    if differ:
        raise ScaleplanError(
            f"cannot resume {path!r}: it was written with other settings "
            f"(they differ in {', '.join(differ)})"
        )


def sweep_format(path: str) -> str:
    """ "zarr" or "parquet": the format of the sweep (finished or not) at `path`."""
    return "zarr" if os.path.isfile(os.path.join(path, "zarr.json")) else "parquet"


def read_settings(path: str) -> tuple[str, dict[str, Any]]:
    """(format, settings) of the finished sweep at `path`; a ValueError otherwise."""
    stored = stored_settings(path)
    if stored is None:
        if (
            os.path.isdir(path)
            and not os.path.exists(os.path.join(path, "zarr.json"))
            and all(f.startswith("part-") and f.endswith(".parquet") for f in os.listdir(path))
        ):
            # Written by a version that kept no settings until the end.
            raise ScaleplanError(f"{path!r} is an unfinished Parquet sweep (it stopped midway)")
        raise ScaleplanError(f"{path!r} is not a sweep written by scaleplan")
    fmt = sweep_format(path)
    if not stored.get("complete"):
        raise ScaleplanError(
            f"{path!r} is an unfinished {fmt.capitalize()} sweep (it stopped midway; "
            "sweep(..., resume=True) finishes it)"
        )
    return fmt, stored


def format_of(path: str, format: str | None) -> str:
    """ "zarr" or "parquet": `format`, or the suffix of `path`."""
    suffix = os.path.splitext(path.rstrip("/"))[1].lower()
    fmt = format or {".zarr": "zarr", ".parquet": "parquet", ".pq": "parquet"}.get(suffix)
    if fmt is None:
        raise ScaleplanError(
            f"path must end in .zarr or .parquet, or give format=; got {path!r}", "path"
        )
    if fmt not in ("zarr", "parquet"):
        raise ScaleplanError(f"format must be zarr or parquet; got {format!r}", "format")
    return fmt


def check_path(path: str, overwrite: bool, resume: bool) -> None:
    """What may happen at `path`: a new sweep, a replaced one, or a resumed one; never the
    deletion of something scaleplan did not write."""
    if overwrite and resume:
        raise ScaleplanError("give at most one of overwrite and resume", "resume")
    if not os.path.exists(path):
        return
    if not (overwrite or resume):
        raise ScaleplanError(
            f"path {path!r} exists; pass overwrite=True to replace it, or resume=True to "
            "finish an interrupted sweep",
            "path",
        )
    if not is_sweep(path):
        raise ScaleplanError(
            f"path {path!r} exists and is not a sweep written by scaleplan: refusing to "
            "replace or resume it",
            "path",
        )


def sweep_settings(
    kind: str,
    dims: tuple[str, ...],
    axes: dict[str, np.ndarray],
    fixed: dict[str, float],
    law: ScalingLaw,
    models: list[CostModel],
    options: dict[str, Any],
) -> dict[str, Any]:
    def plain(v: Any) -> Any:
        return v.tolist() if isinstance(v, np.ndarray) else v

    return {
        "scaleplan": __version__,
        "kind": kind,
        "dims": list(dims),
        "shape": [len(a) for a in axes.values()],
        "axes": list(axes),
        "fixed": fixed,
        "law": {"name": law.name, **{c: plain(getattr(law, c)) for c in COEFFICIENTS}},
        "costs": [_cost_settings(m) for m in models],
        "options": options,
    }


def _cost_settings(model: CostModel) -> dict[str, Any]:
    out = {}
    for f in dataclasses.fields(model):
        v = getattr(model, f.name)
        out[f.name] = getattr(v, "name", v)  # accelerators by catalogue name
    return out
