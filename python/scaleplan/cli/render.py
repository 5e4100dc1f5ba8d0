"""Numbers and tables as the command line prints them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._utils.frames import csv_table
from .._utils.text import money, render_table, si_number

__all__ = ["cell", "csv_text", "money", "render_table", "si_number"]


def cell(key: str, v: float) -> str:
    if key == "tokens_per_param":
        return f"{v:.1f}"
    return f"{v:.3g}" if "flops" in key else si_number(v)


def _flat(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys; lists of scalars as space-separated text."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out |= _flat(value, f"{name}.")
        elif isinstance(value, (list, tuple)):
            out[name] = " ".join(repr(v) if isinstance(v, float) else str(v) for v in value)
        else:
            out[name] = repr(value) if isinstance(value, float) else value
    return out


def _records(value: Any) -> list[dict[str, Any]] | None:
    """`value` as rows if it is a list of mappings or a mapping of mappings."""
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        return [_flat(v) for v in value]
    if isinstance(value, Mapping) and value and all(isinstance(v, Mapping) for v in value.values()):
        return [{"name": k, **_flat(v)} for k, v in value.items()]
    return None


def csv_text(data: Any) -> str:
    """A command's data as CSV: one row per record when the data hold one collection of
    records (shapes, models, accelerators, presets), the other fields repeated on each row;
    otherwise one row. Nested fields get dotted names; floats keep every digit."""
    rows = _records(data) if isinstance(data, Mapping) else None
    if rows is None and isinstance(data, Mapping):
        found = {k: r for k, v in data.items() if (r := _records(v)) is not None}
        if len(found) == 1:
            ((key, records),) = found.items()
            shared = _flat({k: v for k, v in data.items() if k != key})
            rows = [{**shared, **r} for r in records]
        else:
            rows = [_flat(data)]
    if rows is None:
        rows = [_flat({"value": data})]
    names = list(dict.fromkeys(k for r in rows for k in r))
    return csv_table({n: [r.get(n) for r in rows] for n in names})
