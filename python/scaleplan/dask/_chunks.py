"""Running an in-memory kernel chunk by chunk over broadcast Dask arrays.

A kernel is a function of named NumPy arrays that returns a tuple of arrays, one per output
(the public in-memory functions, adapted). `lazy_outputs` makes one Dask task per output
chunk that calls the kernel once and returns all its outputs, so computing all outputs
together runs the kernel once per chunk, and no task is added per output: Dask fuses the
selection of each output into its consumer. Errors raised inside a chunk
name the chunk and translate the kernel's row index ("at index i") into the index in the
whole array, so the message ends exactly as the in-memory call on the whole array would.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

import dask.array as da
import numpy as np
from numpy.typing import DTypeLike, NDArray

from .._utils.arrays import as_float
from ..errors import ScaleplanError

Kernel = Callable[..., tuple[Any, ...]]

_AT_INDEX = re.compile(r"\bat index (\d+)")


def as_input(name: str, value: Any) -> Any:
    """A Dask array of real numbers, or an in-memory float64 array (a ValueError naming
    `name` otherwise)."""
    if isinstance(value, da.Array):
        if value.dtype.kind not in "iuf":
            raise ScaleplanError(
                f"{name} must be a real number or an array of them; got dtype {value.dtype}",
                name,
            )
        if any(np.isnan(s) for s in value.shape):
            raise ScaleplanError(
                f"{name} has unknown chunk sizes; call {name}.compute_chunk_sizes() first",
                name,
            )
        return value
    return as_float(name, value)


def lazy_outputs(
    kernel: Kernel,
    named: Mapping[str, Any],
    dtypes: tuple[DTypeLike, ...],
    static: Mapping[str, Any] | None = None,
) -> tuple[tuple[int, ...], tuple[da.Array, ...]]:
    """The broadcast shape of `named` and one lazy Dask array per kernel output.

    `named` values are Dask arrays or in-memory values that broadcast together; values of
    size 1 go to every chunk as they are, the others are split into chunks (in-memory
    arrays take the chunking of the Dask arrays they meet). `static` values are passed
    to every call unchanged (options, a cost model).
    """
    arrays = {k: as_input(k, v) for k, v in named.items()}
    try:
        shape = tuple(int(s) for s in np.broadcast_shapes(*(a.shape for a in arrays.values())))
    except ValueError:
        shapes = ", ".join(f"{k} {a.shape}" for k, a in arrays.items())
        raise ScaleplanError(f"shapes do not broadcast together: {shapes}") from None
    ndim = len(shape)
    fixed = {k: a for k, a in arrays.items() if not isinstance(a, da.Array) and a.size == 1}
    if len(fixed) == len(arrays):  # nothing lazy was given: one chunk of everything
        fixed = {}
    split = {k: da.asarray(a) for k, a in arrays.items() if k not in fixed}
    pairs: list[Any] = []
    for a in split.values():
        pairs += [a, tuple(range(ndim - a.ndim, ndim))]
    chunkss, aligned = da.core.unify_chunks(*pairs)
    split = dict(zip(split, aligned, strict=True))
    chunks = tuple(tuple(chunkss[i]) if i in chunkss else (shape[i],) for i in range(ndim))
    if ndim and max(a.ndim for a in split.values()) < ndim:
        # Only a fixed value has the leading axes: give one lazy input all of them.
        first = next(iter(split))
        split[first] = split[first][(None,) * (ndim - split[first].ndim)]
    # One task per chunk returns every output at once, as a tuple (the multi-output form
    # `apply_gufunc` uses inside Dask); each output is a `getitem` on it, which Dask fuses
    # into whatever consumes it. A record array would do the same at the cost of copying
    # every output once (25-40% of a chunk's solve, measured).
    metas = tuple(np.empty((0,) * ndim, dtype=np.dtype(d)) for d in dtypes)
    parts = da.map_blocks(
        _run_chunk,
        *split.values(),
        dtype=metas[0].dtype,
        chunks=chunks,
        meta=metas,
        kernel=kernel,
        names=tuple(split),
        fixed={**fixed, **(static or {})},
        dtypes=tuple(m.dtype for m in metas),
        whole=(shape, chunks),
    )
    return shape, tuple(
        parts.map_blocks(operator.getitem, i, dtype=m.dtype, meta=m) for i, m in enumerate(metas)
    )


def _run_chunk(
    *blocks: NDArray[Any],
    kernel: Kernel,
    names: tuple[str, ...],
    fixed: Mapping[str, Any],
    dtypes: tuple[np.dtype[Any], ...],
    whole: tuple[tuple[int, ...], tuple[tuple[int, ...], ...]],
    block_info: dict[Any, Any] | None = None,
) -> tuple[NDArray[Any], ...]:
    location = block_info[None]["array-location"] if block_info else []
    starts = tuple(int(lo) for lo, _ in location)
    block_shape = tuple(int(hi - lo) for lo, hi in location)
    try:
        results = kernel(**fixed, **dict(zip(names, blocks, strict=True)))
    except ValueError as exc:
        raise chunk_error(exc, starts, block_shape, *whole) from None
    out = []
    for r, dtype in zip(results, dtypes, strict=True):
        a = np.asarray(r, dtype=dtype)
        out.append(a if a.shape == block_shape else np.broadcast_to(a, block_shape))
    return tuple(out)


def whole_index(
    local: int, starts: tuple[int, ...], block_shape: tuple[int, ...], shape: tuple[int, ...]
) -> int:
    """The flat index in the whole array of flat index `local` within a chunk."""
    if not block_shape:
        return 0
    at = tuple(
        int(s + i) for s, i in zip(starts, np.unravel_index(local, block_shape), strict=True)
    )
    return int(np.ravel_multi_index(at, shape)) if shape else 0


def chunk_error(
    exc: ValueError,
    starts: tuple[int, ...],
    block_shape: tuple[int, ...],
    shape: tuple[int, ...],
    chunks: tuple[tuple[int, ...], ...],
) -> ScaleplanError:
    """A kernel's error on one chunk as the whole array's: its row re-indexed from the
    error's `index` (a number, not parsed from text), its message naming the chunk."""
    local = getattr(exc, "index", None)
    index = None if local is None else whole_index(local, starts, block_shape, shape)
    message = chunk_message(str(exc), starts, block_shape, shape, chunks, local)
    return ScaleplanError(message, getattr(exc, "argument", None), index)


def chunk_message(
    message: str,
    starts: tuple[int, ...],
    block_shape: tuple[int, ...],
    shape: tuple[int, ...],
    chunks: tuple[tuple[int, ...], ...],
    local: int | None = None,
) -> str:
    """`message` from a kernel run on one chunk, as the whole array's message plus where.

    With `local` (the error's own row index) exactly that index is rewritten; without it
    (an error that carries no index, not raised by scaleplan) any "at index i" is."""
    block_id = tuple(
        int(np.searchsorted(np.cumsum(c), s, side="right"))
        for c, s in zip(chunks, starts, strict=True)
    )

    def rewritten(m: re.Match[str]) -> str:
        if local is not None and int(m.group(1)) != local:
            return m.group(0)
        return f"at index {whole_index(int(m.group(1)), starts, block_shape, shape)}"

    where = ", ".join(f"{s}:{s + n}" for s, n in zip(starts, block_shape, strict=True))
    text = _AT_INDEX.sub(rewritten, message) if block_shape else message
    if not shape:
        return f"in the only chunk (a single scenario): {text}"
    return f"in chunk {block_id} (elements [{where}] of {shape}): {text}"
