"""Turning user input into the 1-D float64 columns the Rust kernels take, and back.

Every public function goes through here, so type errors and shape errors are reported the
same way everywhere: a ValueError that names the argument.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _core
from ..errors import ScaleplanError

FloatArray = NDArray[np.float64]

# The invalid-row policies, from the Rust core (their one definition).
ON_INVALID: tuple[str, ...] = tuple(_core.ON_INVALID)


def check_on_invalid(on_invalid: object) -> str:
    if on_invalid not in ON_INVALID:
        raise ScaleplanError(
            f"on_invalid must be one of {', '.join(ON_INVALID)}; got {on_invalid!r}", "on_invalid"
        )
    return str(on_invalid)


def is_real_scalar(value: object) -> bool:
    """A Python or NumPy real number (not a bool, not an array)."""
    if type(value) is float or type(value) is int:
        return True
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def real_float(name: str, value: Any) -> float:
    """A real scalar as a Python float; an integer beyond float64 is a ValueError naming
    `name`, not Python's OverflowError."""
    try:
        return float(value)
    except OverflowError:
        raise ScaleplanError(
            f"{name} must be a finite number; got an integer too large for float64",
            name,
        ) from None


def unmasked(name: str, value: Any) -> Any:
    """The data of a masked array with nothing masked; a ValueError if anything is masked.

    scaleplan's kernels do not honour masks, and silently solving a masked row (as an
    earlier version did) reports an answer the caller asked to leave out."""
    if isinstance(value, np.ma.MaskedArray):
        if np.ma.getmaskarray(value).any():
            raise ScaleplanError(
                f"{name} has masked elements, which scaleplan does not honour: fill them "
                f"(.filled(...)) or drop those rows; on_invalid='nan' then marks bad rows",
                name,
            )
        return np.ma.getdata(value)
    return value


def as_float(name: str, value: Any) -> FloatArray:
    """`value` as a float64 array, or a ValueError naming `name`."""
    if isinstance(value, (str, bytes)) or value is None:
        raise ScaleplanError(
            f"{name} must be a real number or an array of them; got {value!r}", name
        )
    value = unmasked(name, value)
    if type(value) is int:
        # An integer beyond float64 is a ValueError naming `name`; one beyond int64 would
        # otherwise become a NumPy object array.
        value = real_float(name, value)
    if isinstance(value, np.ndarray):
        arr = value
    else:
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError) as exc:
            raise ScaleplanError(
                f"{name} must be a real number or an array of them; {exc}", name
            ) from None
    if arr.dtype.kind == "f" and arr.dtype.itemsize == 8:
        if arr.flags.aligned and arr.dtype.isnative:
            return arr
        # Unaligned (np.frombuffer at an odd offset, buffers Dask ships between processes)
        # or byte-swapped data cannot be read in place by the kernels: copy once.
        return np.array(arr, dtype=np.float64)
    if arr.dtype.kind not in "iuf":
        raise ScaleplanError(
            f"{name} must be a real number or an array of them; got dtype {arr.dtype}", name
        )
    with np.errstate(over="ignore"):
        out = arr.astype(np.float64)
    if arr.dtype.kind == "f" and np.any(np.isinf(out) & np.isfinite(arr)):
        # float128 input beyond float64: say so rather than turning it into inf.
        raise ScaleplanError(f"{name} has values beyond the float64 range", name)
    return out


def in_place(arr: FloatArray) -> FloatArray:
    """`arr` as the kernels read it without copying: axes it is broadcast along (stride 0,
    as `np.broadcast_to` and Dask's chunks make them) cut to length 1, then C-contiguous.
    Only other strided layouts (a transpose, a step slice) are copied, at their own size."""
    if any(st == 0 and n > 1 for st, n in zip(arr.strides, arr.shape, strict=True)):
        arr = arr[
            tuple(
                slice(0, 1) if st == 0 and n > 1 else slice(None)
                for st, n in zip(arr.strides, arr.shape, strict=True)
            )
        ]
    return arr if arr.flags.c_contiguous else np.ascontiguousarray(arr)


def broadcast(**named: Any) -> tuple[tuple[int, ...], list[FloatArray]]:
    """The shape the named inputs broadcast to, and each input as the kernels read it.

    This is the one marshalling path of every batch kernel: the inputs keep their own
    shapes (see `in_place`) and the Rust grid walks the broadcast without writing any input
    out to the full shape; only the outputs are full size.
    """
    arrays = {name: as_float(name, v) for name, v in named.items()}
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{k} {a.shape}" for k, a in arrays.items())
        raise ScaleplanError(f"shapes do not broadcast together: {shapes}") from None
    return shape, [in_place(a) for a in arrays.values()]


def echoed(value: FloatArray, shape: tuple[int, ...]) -> Any:
    """An input as a result reports it: a read-only view broadcast to the result's shape
    (no copy), or a Python float for 0-d results."""
    if shape == ():
        return value.reshape(-1)[0].item()
    return np.broadcast_to(value, shape)


def shaped(column: NDArray[Any], shape: tuple[int, ...]) -> Any:
    """A kernel's 1-D output in the broadcast shape; a Python scalar for 0-d shapes."""
    if shape == ():
        return column[0].item()
    return column.reshape(shape)
