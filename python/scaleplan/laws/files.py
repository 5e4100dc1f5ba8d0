"""A loss law read from a file: the output of `scaleplan fit --json`, or any JSON or TOML
object with the five coefficients of `L(N, D) = E + A N^-alpha + B D^-beta`."""

from __future__ import annotations

from pathlib import Path

from .._utils.datafiles import field_number, read_mapping
from ..errors import ScaleplanError
from .scaling import COEFFICIENTS, ScalingLaw

__all__ = ["load_law"]


def load_law(path: str | Path) -> ScalingLaw:
    """The `ScalingLaw` in the file at `path`: `L(N, D) = E + A N^-alpha + B D^-beta` with
    E in nats/token, N in parameters, D in training tokens.

    The file is JSON (TOML when its name ends in `.toml`) holding one object with the
    numbers `E`, `A`, `B`, `alpha` and `beta`, each finite and > 0 (checked by
    `ScalingLaw`). Other fields are ignored, so the output of `scaleplan fit --json` is a
    law file as it stands; a string `name` names the law (default: the file's name).
    A missing or bad field is a `ScaleplanError` naming the field and the file.

    >>> law = load_law("law.json")  # doctest: +SKIP
    """
    where = f"law file {str(path)!r}"
    data = read_mapping(path, "law")
    values = {c: field_number(data, c, where, "law") for c in COEFFICIENTS}
    name = data.get("name")
    if not isinstance(name, str) or not name:
        name = Path(path).name
    try:
        return ScalingLaw(**values, name=name, source=f"read from {path}")
    except ScaleplanError as e:
        raise ScaleplanError(f"{where}: {e}", e.argument or "law") from None
