"""A loss law read from a file: the output of `scaleplan fit --json`, or any JSON or TOML
object with the five coefficients of `L(N, D) = E + A N^-alpha + B D^-beta`."""

from __future__ import annotations

from pathlib import Path

from .._utils.datafiles import field_number, read_mapping
from ..errors import ScaleplanError
from .scaling import COEFFICIENTS, ScalingLaw

__all__ = ["load_law"]


def load_law(path: str | Path) -> ScalingLaw:
    """The `ScalingLaw` in a JSON or TOML file, such as `scaleplan fit --json` writes.

    The law is `L(N, D) = E + A N^-alpha + B D^-beta`: L and E in nats/token, N in
    parameters, D in training tokens, A and B in nats/token at N = 1 and D = 1, the
    exponents dimensionless. The command line's `--law FILE` reads the same files.

    Parameters
    ----------
    path : str or pathlib.Path
        A JSON file (TOML when its name ends in `.toml`) holding one object with the
        numbers `E`, `A`, `B`, `alpha` and `beta`, each finite and > 0. Other fields are
        ignored, so the output of `scaleplan fit --json` is a law file as it stands; a
        string `name` names the law (default: the file's name).

    Returns
    -------
    ScalingLaw
        The law, its `source` saying which file it was read from.

    Raises
    ------
    ScaleplanError
        A missing or bad field, or a file that cannot be read or parsed; the message names
        the field and the file, and `argument` is the coefficient at fault or "law".

    Examples
    --------
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from scaleplan import compute_optimal
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = Path(tmp.name) / "law.json"
    >>> _ = path.write_text(json.dumps(
    ...     {"E": 1.82, "A": 514.0, "B": 2115.2, "alpha": 0.35, "beta": 0.37}))
    >>> law = load_law(path)
    >>> print(f"{law.name}: L(7e9, 1.4e11) = {law.loss(7e9, 1.4e11):.4f} nats/token")
    law.json: L(7e9, 1.4e11) = 2.1631 nats/token
    >>> print(f"{compute_optimal(2.2, 0, law=law).params:.3g} parameters")
    5.92e+09 parameters

    A missing coefficient is named:

    >>> _ = path.write_text(json.dumps({"E": 1.82, "A": 514.0, "B": 2115.2, "alpha": 0.35}))
    >>> load_law(path)
    Traceback (most recent call last):
    ...
    scaleplan.errors.ScaleplanError: law file '...': missing field 'beta'
    >>> tmp.cleanup()
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
