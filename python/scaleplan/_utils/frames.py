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
from dataclasses import fields, is_dataclass
from typing import Any, ClassVar

import numpy as np

from .labels import units_of


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
        `loss` and `inference_tokens`); other axes are `dim_k`. Every variable and
        coordinate has a `units` attribute ("count", "tokens", "FLOP", "USD",
        "nats/token"; "1" for ratios: `scaleplan._utils.labels.UNITS`)."""
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
        variables = {n: (dims, v, {"units": units_of(n)}) for n, v in cols.items()
                     if n not in coords}  # fmt: skip
        return xr.Dataset(variables, coords={n: (n, v, {"units": units_of(n)})
                                             for n, v in coords.items()})  # fmt: skip

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

    def __repr__(self) -> str:
        """Inputs and outputs, short, for one scenario; the shape and the column names for
        many (the table is `.to_pandas()`)."""
        names = (*self._INPUTS, *self._OUTPUTS)
        shape = np.broadcast_shapes(*(np.shape(self._safe(n)) for n in names))
        title = type(self).__name__
        if shape:
            return (f"<{title}: {int(np.prod(shape)):,} scenarios, shape {shape}; "
                    f"{', '.join(names)}; .to_pandas() for the table>")  # fmt: skip
        return short_repr(title, {n: self._safe(n) for n in names})

    def _safe(self, name: str) -> Any:
        """A column for the repr, which must never raise (a derived column may need what
        this result was not given)."""
        try:
            return getattr(self, name)
        except Exception:  # a repr shows what it can
            return None


def _short(value: Any) -> str:
    """A value as a repr shows it: numbers to four significant digits, arrays by shape."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_, str)) or value is None:
        return repr(value.item() if isinstance(value, np.bool_) else value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    if isinstance(value, np.ndarray):
        return f"<{value.dtype} array {value.shape}>"
    if isinstance(value, Record):  # a nested record, indented under its field
        text = repr(value)
        # A long one (a bootstrap's full fit) by name: the result's own repr stays short.
        return text.replace("\n", "\n    ") if text.count("\n") < 3 else f"<{type(value).__name__}>"
    if isinstance(value, Mapping) and all(_scalar(v) for v in value.values()):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    text = repr(value)
    if len(text) <= 100:  # a small value object (a shape) as itself
        return text
    if is_dataclass(value):  # its numbers short (a fitted law's coefficients)
        scalars = {f.name: getattr(value, f.name) for f in fields(value) if f.repr}
        text = short_repr(type(value).__name__, {k: v for k, v in scalars.items() if _scalar(v)})
        if len(text) <= 100:
            return text
    name = getattr(value, "name", None)
    kind = type(value).__name__
    return f"<{kind} {name}>" if isinstance(name, str) else f"<{kind}>"


def short_repr(title: str, items: Mapping[str, Any]) -> str:
    """`Title(a=1.234e+09, b='x', ...)`, wrapped at 88 columns: what a result shows at a
    prompt, its numbers short and its objects (laws, cost models) by name only."""
    parts = [f"{k}={_short(v)}" for k, v in items.items()]
    lines, line = [], f"{title}("
    for part in parts:
        if len(line) + len(part) + 2 > 88 and not line.endswith("("):
            lines.append(line + ",")
            line = "    "
        line += ("" if line.endswith(("(", "    ")) else ", ") + part
    return "\n".join([*lines, line + ")"])


def _scalar(value: Any) -> bool:
    value = value.item() if isinstance(value, np.ndarray) and value.ndim == 0 else value
    return value is None or isinstance(value, (bool, int, float, str, np.generic))


class Record:
    """Mixin for result dataclasses that are one record (a plan, a fit's summary): a
    short repr, and its scalar fields as a one-row table (nested records' fields under
    dotted names, like the command line's --csv); arrays and objects stay attributes."""

    def record(self) -> dict[str, Any]:
        """The scalar fields by name, nested records flattened (`training.days`)."""
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, Record):
                out.update({f"{f.name}.{k}": v for k, v in value.record().items()})
            elif _scalar(value):
                out[f.name] = value.item() if isinstance(value, np.ndarray) else value
        return out

    def to_pandas(self) -> Any:
        """A one-row DataFrame of `record()`."""
        return _need("pandas").DataFrame([self.record()])

    def to_csv(self) -> str:
        """`record()` as CSV text, a header and one row (floats keep every digit)."""
        return csv_table({k: [v] for k, v in self.record().items()})

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td>{html.escape(_short(v))}</td></tr>"
            for k, v in self.record().items()
        )
        return f"<table><caption>{html.escape(type(self).__name__)}</caption>{rows}</table>"

    def __repr__(self) -> str:
        items = {f.name: getattr(self, f.name) for f in fields(self) if f.repr}  # type: ignore[arg-type]
        return short_repr(type(self).__name__, items)


def value_repr(self: Any) -> str:
    """A value object's repr in a few lines (a `__repr__` for dataclasses whose own
    repr is long: an `Accelerator` inside a `Deployment` printed in full), its numbers
    to four digits and nested objects by name."""
    items = {f.name: getattr(self, f.name) for f in fields(self) if f.repr}
    return short_repr(type(self).__name__, items)
