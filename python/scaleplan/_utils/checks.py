"""One way to declare and check a public argument, for every Python entry point that does
not hand its input straight to a Rust kernel.

An argument is declared by the range it needs (`Span`) and checked by `number` (a real
scalar), `whole` (an integer count), `choice` (one of named options) or `column` (an array,
row by row, with the `on_invalid` policy). Every failure is a `ScaleplanError` whose
`argument` is the public name, with the same words the Rust kernels use ("must be finite
and > 0; got ..."), so the command line can restate it with the option's name.

Intermediates that can leave the float64 range (products of demands, prices, days and
tokens) are formed through `product`, which names the factors when it overflows; an answer
is let out only through `answer`, which refuses inf, NaN and subnormal numbers.

Decisions written down here:
- Bools are not numbers (`True` is not a batch size of 1), in Python as in NumPy's
  `operator.index`-style checks.
- A positive input must be a normal float64 (at least 2.2250738585072014e-308): a subnormal
  input carries fewer than 53 significant bits and its reciprocals overflow.
- Counts (GPUs, batch sizes, layers) are Python or NumPy integers; a float is refused even
  when integral, so `batch_size=2.5` and `batch_size=2.0` read the same way: not a count.
  Values read from JSON files are the exception (JSON has one number type):
  `whole(..., integral_floats=True)` admits 32.0 but never 32.9.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ScaleplanError

# The smallest positive normal float64; below it a positive input is refused.
TINY = sys.float_info.min


@dataclass(frozen=True)
class Span:
    """The values an argument needs: finite, between `low` and `high`, each end included
    or not. `words()` is the phrase every message uses ("finite and > 0", "in (0, 1]")."""

    low: float = -math.inf
    high: float = math.inf
    low_closed: bool = False
    high_closed: bool = False

    def admits(self, value: Any) -> Any:
        """Whether each value is in the span, as a boolean array (0-d for a scalar)."""
        v = np.asarray(value, dtype=float)
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(v)
            ok &= (v >= self.low) if self.low_closed else (v > self.low)
            ok &= (v <= self.high) if self.high_closed else (v < self.high)
            ok &= (v == 0) | (np.abs(v) >= TINY)  # subnormals: never an input
        return ok

    def words(self) -> str:
        """The range in the words the Python layer has always used ("a finite number >
        0", "a number in (0, 1]"); the Rust kernels say "finite and > 0"."""
        lo = "[" if self.low_closed else "("
        hi = "]" if self.high_closed else ")"
        if math.isinf(self.high) and math.isinf(self.low):
            return "a finite number"
        if math.isinf(self.high):
            return f"a finite number {'>=' if self.low_closed else '>'} {self.low:g}"
        if math.isinf(self.low):
            return f"a finite number {'<=' if self.high_closed else '<'} {self.high:g}"
        return f"a number in {lo}{self.low:g}, {self.high:g}{hi}"


POSITIVE = Span(0.0)
NON_NEGATIVE = Span(0.0, low_closed=True)
FRACTION = Span(0.0, 1.0, high_closed=True)  # an MFU, an efficiency, a share
OPEN_UNIT = Span(0.0, 1.0)  # a confidence level
AT_LEAST_ONE = Span(1.0, low_closed=True)  # a peak-to-average ratio
FINITE = Span()


# Shape fields above 2^53 are not exact in float64, and products of such sizes leave its
# range: no transformer is that wide (`shapes` and the HF config reader share the bound).
MAX_SHAPE_FIELD = 2**53


def shown(value: Any) -> str:
    """`repr(value)`, cut short for huge integers and long containers."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}... ({len(text)} characters)"


def is_number(value: Any) -> bool:
    """A Python or NumPy real scalar: not a bool, a string, None, a complex or an array."""
    if type(value) is float or type(value) is int:
        return True
    if isinstance(value, np.ndarray):
        return value.ndim == 0 and value.dtype.kind in "iuf"
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def number(name: str, value: Any, span: Span = POSITIVE, *, unit: str = "") -> float:
    """`value` as a Python float if it is a real scalar in `span`; otherwise a
    `ScaleplanError` naming `name` and the range (`unit` is added to the message)."""
    units = f" ({unit})" if unit else ""
    if not is_number(value):
        raise ScaleplanError(f"{name} must be {span.words()}{units}; got {shown(value)}", name)
    try:
        x = float(value)
    except OverflowError:
        raise ScaleplanError(
            f"{name} must be {span.words()}{units}; got an integer beyond float64", name
        ) from None
    if not span.admits(x):
        extra = " (a normal float64, >= 2.2e-308)" if 0 < abs(x) < TINY else ""
        raise ScaleplanError(f"{name} must be {span.words()}{units}{extra}; got {x!r}", name)
    return x


def optional(name: str, value: Any, span: Span = POSITIVE, *, unit: str = "") -> float | None:
    """`number`, with None meaning "not given"."""
    return None if value is None else number(name, value, span, unit=unit)


def whole(
    name: str,
    value: Any,
    low: int = 1,
    high: int | None = 2**53,
    *,
    integral_floats: bool = False,
) -> int:
    """`value` as a Python int in [low, high] (`high=None`: no upper bound): an int or
    NumPy integer (with `integral_floats`, also a float with no fractional part); never a
    bool."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if integral_floats and isinstance(value, float) and value.is_integer():
        ok, value = True, int(value)
    if not ok or value < low or (high is not None and value > high):
        top = "2**53" if high == 2**53 else str(high)
        span = f">= {low}" if high is None else f"in [{low}, {top}]"
        raise ScaleplanError(f"{name} must be an integer {span}; got {shown(value)}", name)
    return int(value)


def choice(name: str, value: Any, options: Any) -> str:
    """`value` if it is one of `options` (strings), else a message listing them."""
    names = tuple(options)
    if not isinstance(value, str) or value not in names:
        raise ScaleplanError(f"{name} must be one of {', '.join(names)}; got {shown(value)}", name)
    return value


def flag(name: str, value: Any) -> bool:
    """A Python or NumPy bool (not 0 or 1, not a string)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ScaleplanError(f"{name} must be True or False; got {shown(value)}", name)
    return bool(value)


def first_bad(
    name: str, arr: Any, bad: Any, span: Span, words: str | None = None
) -> ScaleplanError:
    """The error for the first flagged row of `arr` (`words`: the range as a message
    should say it, when not `span.words()`)."""
    i = int(np.flatnonzero(np.ravel(bad))[0])
    value = float(np.ravel(arr)[i])
    need = words or span.words()
    if np.ndim(arr) == 0:
        return ScaleplanError(f"{name} must be {need}; got {value!r}", name)
    return ScaleplanError(f"{name} must be {need}; got {value!r} at index {i}", name, index=i)


def product(name: str, **factors: float) -> float:
    """The product of named positive factors as a float, or a `ScaleplanError` naming
    every factor when it leaves the normal float64 range. The error's `argument` is the
    factor furthest from 1 in orders of magnitude: the one to change."""
    logs = {k: math.log(v) for k, v in factors.items()}
    total = sum(logs.values())
    if not math.log(TINY) <= total < math.log(sys.float_info.max):
        worst = max(logs, key=lambda k: abs(logs[k]))
        terms = " x ".join(f"{k} ({v:.3g})" for k, v in factors.items())
        side = "above 1.8e308" if total > 0 else "below 2.2e-308"
        raise ScaleplanError(
            f"{worst} is out of range: {name} = {terms} is {side}, outside float64", worst
        )
    # Multiply in an order that keeps every partial product near 1, so a representable
    # product is never lost to an overflowing or underflowing intermediate.
    left, running, acc = dict(logs), 0.0, 1.0
    while left:
        k = min(left, key=lambda name: abs(running + left[name]))
        running += left.pop(k)
        acc *= factors[k]
    return acc


def answer(name: str, value: float, *, blame: str | None = None) -> float:
    """`value` if it is a finite, normal float (or exactly 0); otherwise a `ScaleplanError`
    saying that `name` cannot be given for these inputs (`blame`: the argument at fault)."""
    x = float(value)
    if not math.isfinite(x) or 0 < abs(x) < TINY:
        raise ScaleplanError(
            f"{name} is outside the float64 range for these inputs ({x!r})", blame or name
        )
    return x


def instance(name: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    """`value` if it is an instance of `kind`; else a `ScaleplanError` naming `name` and
    saying what it must be (`what`, e.g. "a TransformerShape")."""
    if not isinstance(value, kind):
        raise ScaleplanError(f"{name} must be {what}; got {shown(value)}", name)
    return value


def seed(name: str, value: Any) -> int | None:
    """A random seed: None or an integer >= 0 (what NumPy's generators take)."""
    return None if value is None else whole(name, value, 0, 2**63 - 1)


@contextmanager
def renamed(**names: str) -> Iterator[None]:
    """Inside, an error about an inner function's argument (`inner=outer`) is restated
    with the caller's name for it, so every layer reports the name its user typed."""
    try:
        yield
    except ScaleplanError as exc:
        raise restated(exc, names) from None


def restated(exc: ScaleplanError, names: Mapping[str, str]) -> ScaleplanError:
    """`exc` under the caller's name for its argument (`names`: inner -> outer), or `exc`
    itself; `renamed` without the context manager, for hot paths (an `except` costs
    nothing until it runs)."""
    outer = names.get(exc.argument or "")
    if outer is None:
        return exc
    inner = str(exc.argument)
    text = str(exc)
    text = outer + text[len(inner) :] if text.startswith(inner) else f"{outer}: {text}"
    return ScaleplanError(text, outer, exc.index)
