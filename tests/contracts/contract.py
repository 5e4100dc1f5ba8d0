"""The contract every public entry point keeps, and the hostile inputs that test it.

A call either raises a `ScaleplanError` that names the argument at fault (its `argument`,
or the name in its message), or a `TypeError` whose message names it, or returns an answer
with no inf, no NaN (except where a field documents NaN as "none") and no subnormal
number, within `SECONDS` of wall clock.
"""

from __future__ import annotations

import dataclasses
import math
import signal
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from scaleplan import ScaleplanError

SECONDS = 20.0
TINY = sys.float_info.min

# Every class of argument the issue lists: bool, str, None, nan, inf, 0, negative, the
# smallest subnormal, the largest floats, integers beyond float64, arrays of every dtype,
# masked and non-contiguous arrays, containers and plain objects.
HOSTILE: tuple[Any, ...] = (
    True,
    False,
    "1",
    "",
    None,
    math.nan,
    math.inf,
    -math.inf,
    0,
    0.0,
    -0.0,
    -1,
    -2.5,
    5e-324,
    -5e-324,
    1e-300,
    1e308,
    1.7976931348623157e308,
    10**400,
    -(10**400),
    2.5,
    complex(1, 1),
    np.float32(3.0),
    np.float16(3.0),
    np.int8(3),
    np.uint64(2**64 - 1),
    np.bool_(True),
    np.longdouble(3.0),
    np.array(3.0),
    np.array([1.0, 2.0, 3.0]),
    np.array([[math.nan]]),
    np.arange(6.0)[::2],
    np.arange(6.0).reshape(2, 3).T,
    np.array([], dtype=float),
    np.array([1, 2], dtype=np.int64),
    np.array([1.0, 2.0], dtype=np.float32),
    np.array([True, False]),
    np.array([1 + 1j]),
    np.array(["1"]),
    np.array([1.0], dtype=object),
    np.array(["2020-01-01"], dtype="datetime64[D]"),
    np.ma.masked_array([1.0, 2.0], mask=[False, True]),
    [1.0, 2.0],
    (3,),
    {"a": 1},
    object(),
)


def label(value: Any) -> str:
    """A short test id for a hostile value."""
    if isinstance(value, np.ndarray):
        return f"array-{value.dtype}-{value.shape}"
    text = repr(value)
    return text if len(text) < 24 else f"{type(value).__name__}-{len(text)}"


class Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise Timeout(f"over {SECONDS} s")


def call_within(fn: Callable[[], Any], seconds: float = SECONDS) -> Any:
    """`fn()`, or `Timeout` if it runs longer than `seconds` (Python-level: a Rust loop
    that never returns is caught by the suite's pytest-timeout instead)."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def bad_numbers(value: Any, path: str, nan_ok: frozenset[str], depth: int = 0) -> list[str]:
    """Where an answer holds inf, NaN (outside `nan_ok`) or a subnormal number."""
    if depth > 6:
        return []
    if isinstance(value, (bool, np.bool_, str, bytes, type(None))):
        return []
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if math.isnan(x):
            return [] if path.split(".")[-1] in nan_ok else [f"{path} = nan"]
        if math.isinf(x) or 0 < abs(x) < TINY:
            return [f"{path} = {x!r}"]
        return []
    if isinstance(value, np.ndarray):
        if value.dtype.kind != "f":
            return []
        finite_or_ok = np.isfinite(value) | (
            np.isnan(value) if path.split(".")[-1] in nan_ok else False
        )
        sub = (value != 0) & (np.abs(value) < TINY)
        if not np.all(finite_or_ok) or np.any(sub):
            return [f"{path} holds inf, nan or subnormal values"]
        return []
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = []
        for f in dataclasses.fields(value):
            out += bad_numbers(getattr(value, f.name), f"{path}.{f.name}", nan_ok, depth + 1)
        return out
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            out += bad_numbers(v, f"{path}.{k}", nan_ok, depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        out = []
        for i, v in enumerate(value[:50]):
            out += bad_numbers(v, f"{path}[{i}]", nan_ok, depth + 1)
        return out
    return []


def check(
    fn: Callable[..., Any], kwargs: dict[str, Any], argument: str, nan_ok: frozenset[str]
) -> str | None:
    """None if `fn(**kwargs)` keeps the contract for a hostile `argument`; else what broke."""
    try:
        result = call_within(lambda: fn(**kwargs))
    except ScaleplanError as exc:
        if exc.argument == argument or argument in str(exc):
            return None
        if exc.argument is None and "outside the float64 range" in str(exc):
            return None  # an answer that exists but no float64 holds: no argument at fault
        return f"ScaleplanError blames {exc.argument!r}: {exc}"
    except TypeError as exc:
        if argument in str(exc):
            return None
        return f"TypeError not naming {argument}: {exc}"
    except Timeout as exc:
        return f"took {exc}"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    problems = bad_numbers(result, "result", nan_ok)
    return "; ".join(problems) if problems else None
