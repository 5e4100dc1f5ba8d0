"""An accelerator read from a file: one not in the catalogue, or a catalogue chip at your
own price, as JSON or TOML with the fields of `Accelerator` (`load_accelerator`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._utils.datafiles import field_number, read_mapping
from ..errors import ScaleplanError
from .accelerators import PRECISIONS, Accelerator

__all__ = ["load_accelerator"]

# Field name -> required; the numbers of `Accelerator` (peak_flops is read apart).
_NUMBERS = {
    "memory_bytes": True,
    "memory_bandwidth": True,
    "price_per_hour": False,
    "link_bandwidth": False,
    "spot_price_per_hour": False,
}
_TEXTS = ("name", "price_source", "source")


def load_accelerator(path: str | Path) -> Accelerator:
    """The `Accelerator` in a JSON or TOML file: a chip not in the catalogue, or one at
    your own price.

    The file holds one JSON object (a TOML table when the name ends in `.toml`) with the
    fields of `Accelerator`; the command line's `--gpu` and `--train-gpu` read the same
    files.

    Parameters
    ----------
    path : str or pathlib.Path
        The file. Its fields:

        - `peak_flops`: dense peak FLOP/s per precision, an object such as
          `{"bf16": 989e12, "fp8": 1979e12}` (precisions: bf16, fp16, fp8, int8);
        - `memory_bytes`: memory per GPU, in bytes; `memory_bandwidth`: in bytes/s;
        - optional: `price_per_hour` (US dollars per GPU-hour; needed to plan in dollars
          unless a price option is given), `link_bandwidth` (bytes/s one GPU sends to its
          tensor-parallel peers, one way), `spot_price_per_hour` (US dollars per
          GPU-hour), and the texts `name` (default: the file's name without its
          extension), `price_source`, `source`.

    Returns
    -------
    Accelerator
        The chip, its numbers in the units above.

    Raises
    ------
    ScaleplanError
        An unknown, missing or bad field (every number must be finite and > 0), or a file
        that cannot be read or parsed; the message names the field and the file, and
        `argument` is "gpu".

    Examples
    --------
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = Path(tmp.name) / "my-gpu.json"
    >>> _ = path.write_text(json.dumps({
    ...     "peak_flops": {"bf16": 989e12, "fp8": 1979e12},
    ...     "memory_bytes": 80e9, "memory_bandwidth": 3.35e12, "price_per_hour": 2.5}))
    >>> gpu = load_accelerator(path)
    >>> print(f"{gpu.name}: {gpu.peak_flops['bf16']:.3g} FLOP/s bf16, ${gpu.price_per_hour}/h")
    my-gpu: 9.89e+14 FLOP/s bf16, $2.5/h

    A missing field is named:

    >>> _ = path.write_text(json.dumps({"peak_flops": {"bf16": 989e12}, "memory_bytes": 80e9}))
    >>> load_accelerator(path)
    Traceback (most recent call last):
    ...
    scaleplan.errors.ScaleplanError: accelerator file '...': missing field 'memory_bandwidth'
    >>> tmp.cleanup()
    """
    where = f"accelerator file {str(path)!r}"
    data = read_mapping(path, "gpu")
    known = {"peak_flops", *_NUMBERS, *_TEXTS}
    for key in data:
        if key not in known:
            raise ScaleplanError(
                f"{where}: unknown field {key!r}; the fields are {', '.join(sorted(known))}",
                "gpu",
            )
    fields: dict[str, Any] = {"peak_flops": _peaks(data, where)}
    for key, required in _NUMBERS.items():
        if required or key in data:
            fields[key] = field_number(data, key, where, "gpu")
    for key in _TEXTS:
        if key in data and not isinstance(data[key], str):
            raise ScaleplanError(f"{where}: field {key!r} must be text; got {data[key]!r}", "gpu")
    fields["name"] = data.get("name") or Path(path).stem
    fields["price_source"] = data.get("price_source", f"read from {path}")
    fields["source"] = data.get("source", f"read from {path}")
    try:
        return Accelerator(**fields)
    except ScaleplanError as e:
        raise ScaleplanError(f"{where}: {e}", "gpu") from None


def _peaks(data: dict[str, Any], where: str) -> dict[str, float]:
    peaks = data.get("peak_flops")
    if not isinstance(peaks, dict) or not peaks:
        raise ScaleplanError(
            f"{where}: field 'peak_flops' must map precisions ({', '.join(PRECISIONS)}) to "
            f"FLOP/s; got {peaks!r}"[:300],
            "gpu",
        )
    return {str(p): field_number(peaks, p, f"{where}, peak_flops", "gpu") for p in peaks}
