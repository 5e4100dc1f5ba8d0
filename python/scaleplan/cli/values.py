"""Value types for the command line's options: each parses one option's text or says, in
one line, what the option needs. A 0, a negative number, inf or nan never reaches the
library as if it were meant, and never silently becomes a default.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number; got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number; got {text!r}")
    return value


def positive(text: str) -> float:
    """A finite number > 0."""
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0; got {text!r}")
    return value


def non_negative(text: str) -> float:
    """A finite number >= 0."""
    value = _number(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0; got {text!r}")
    return value


def fraction(text: str) -> float:
    """A number in (0, 1], such as an MFU."""
    value = _number(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1]; got {text!r}")
    return value


def integer(low: int, high: int | None = None) -> Callable[[str], int]:
    """An integer in [low, high]."""

    def parse(text: str) -> int:
        span = f">= {low}"
        if high is not None and text.lstrip("+-").isdigit() and int(text) > high:
            span = f"in [{low}, {high:.3g}]"
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer {span}; got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be an integer {span}; got {text!r}")
        return value

    parse.__name__ = "integer"
    return parse


positive_int = integer(1, 2**53)
non_negative_int = integer(0, 2**53)
