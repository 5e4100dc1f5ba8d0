"""A user's settings file read as one mapping: JSON, or TOML when the name ends in `.toml`
(`tomllib`, or `tomli` before Python 3.11). Every failure is a `ScaleplanError` naming the
argument the path came in and the file.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ..errors import ScaleplanError
from .files import read_json_file, read_text_file


def toml_module() -> Any:
    """The TOML reader of this Python (imported only when a TOML file is read)."""
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    import tomli  # type: ignore[import-not-found,unused-ignore]  # the 3.10 dependency

    return tomli


def read_mapping(path: str | Path, argument: str) -> dict[str, Any]:
    """The object (JSON) or table (TOML) at the top of the file at `path`."""
    shown = str(path)
    if shown.lower().endswith(".toml"):
        text = read_text_file(path, argument)
        toml = toml_module()
        try:
            value: Any = toml.loads(text)
        except toml.TOMLDecodeError as e:
            raise ScaleplanError(f"{argument}: {shown!r} is not valid TOML: {e}",
                                 argument) from None  # fmt: skip
    else:
        value = read_json_file(path, argument)
    if not isinstance(value, dict):
        raise ScaleplanError(
            f"{argument}: {shown!r} must hold one object of named fields; got a "
            f"{type(value).__name__}",
            argument,
        )
    return value


def field_number(mapping: dict[str, Any], key: str, where: str, argument: str) -> float:
    """`mapping[key]` as a float: present, and a JSON/TOML number (not a bool or a string)."""
    if key not in mapping:
        raise ScaleplanError(f"{where}: missing field {key!r}", argument)
    value = mapping[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScaleplanError(
            f"{where}: field {key!r} must be a number; got {value!r}"[:200], argument
        )
    return float(value)
