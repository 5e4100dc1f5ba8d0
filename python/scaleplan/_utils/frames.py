"""Results as tables: every result type converts to a pandas DataFrame (one row per
scenario, inputs beside outputs) and a broadcast grid to an xarray Dataset (the inputs
that vary along one axis become that axis's coordinate), and a scalar result shows as a
small table in Jupyter. pandas and xarray are optional (`pip install 'scaleplan[frames]'`).
"""

from __future__ import annotations

import csv
import html
import importlib
import io
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np


def _need(package: str) -> Any:
    try:
        return importlib.import_module(package)
    except ImportError:
        raise ImportError(
            f"this needs {package}: pip install 'scaleplan[frames]'", name=package
        ) from None


def _axis_of(values: np.ndarray) -> int | None:
    """The one axis along which `values` varies, or None (constant, or several axes)."""
    varying = [
        k
        for k in range(values.ndim)
        if not np.array_equal(
            values, np.broadcast_to(values.take([0], axis=k), values.shape), equal_nan=True
        )
    ]
    return varying[0] if len(varying) == 1 else None


def _cell(value: Any) -> str:
    v = value.item()
    return str(v) if isinstance(v, bool) else f"{v:.6g}"


def _text(value: Any) -> str:
    """A CSV cell: floats with every digit (repr), so a reader gets the same number back."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


def csv_table(columns: Mapping[str, Sequence[Any] | np.ndarray]) -> str:
    """Equal-length columns as CSV text, a header then one line per row.

    The one table writer: `Tabular.to_csv` (the columns `to_pandas` gets) and the command
    line's `--csv` both go through it."""
    names = list(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for row in zip(*(columns[n] for n in names), strict=True):
        writer.writerow([_text(v) for v in row])
    return buffer.getvalue().rstrip("\n")


class Tabular:
    """Mixin for result dataclasses. `_INPUTS` and `_OUTPUTS` name fields or properties,
    inputs first; every column is broadcast to the result's shape."""

    _INPUTS: ClassVar[tuple[str, ...]] = ()
    _OUTPUTS: ClassVar[tuple[str, ...]] = ()

    def columns(self) -> dict[str, np.ndarray]:
        """Every input and output, broadcast to one shape, by name."""
        names = (*self._INPUTS, *self._OUTPUTS)
        arrays = np.broadcast_arrays(*(np.asarray(getattr(self, n)) for n in names))
        return dict(zip(names, arrays, strict=True))

    def table(self) -> dict[str, np.ndarray]:
        """One flat column per input and output: one row per scenario, C order of the
        broadcast shape. What `to_pandas` and `to_csv` are made of."""
        return {k: np.ravel(v) for k, v in self.columns().items()}

    def to_pandas(self) -> Any:
        """A DataFrame with one row per scenario (C order of the broadcast shape)."""
        pd = _need("pandas")
        return pd.DataFrame(self.table())

    def to_csv(self) -> str:
        """The `to_pandas` table as CSV text (no pandas needed; floats keep every digit)."""
        return csv_table(self.table())

    def to_xarray(self) -> Any:
        """A Dataset over the broadcast shape. An input that varies along exactly one axis
        names that axis and is its coordinate (loss (50, 1) x demand (1, 60) gives dims
        `loss` and `inference_tokens`); other axes are `dim_k`."""
        xr = _need("xarray")
        cols = self.columns()
        shape = next(iter(cols.values())).shape
        dims = [f"dim_{k}" for k in range(len(shape))]
        coords = {}
        for name in self._INPUTS:
            axis = _axis_of(cols[name])
            if axis is not None and dims[axis].startswith("dim_"):
                dims[axis] = name
                index = [0] * len(shape)
                index[axis] = slice(None)
                coords[name] = cols[name][tuple(index)]
        variables = {n: (dims, v) for n, v in cols.items() if n not in coords}
        return xr.Dataset(variables, coords={n: (n, v) for n, v in coords.items()})

    def _repr_html_(self) -> str:
        cols = self.columns()
        shape = next(iter(cols.values())).shape
        title = html.escape(type(self).__name__)
        if shape:
            return (
                f"<p><b>{title}</b>: {int(np.prod(shape)):,} scenarios, shape {shape}; "
                "<code>.to_pandas()</code> or <code>.to_xarray()</code> for the table</p>"
            )
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{_cell(v)}</td></tr>"
            for k, v in cols.items()
        )
        return f"<table><caption>{title}</caption>{rows}</table>"
