"""Value types for the command line's options: each parses one option's text or says, in
one line, what the option needs. A 0, a negative number, inf or nan never reaches the
library as if it were meant, and never silently becomes a default.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from typing import Any


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number; got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number; got {text!r}")
    if 0 < abs(value) < sys.float_info.min:
        raise argparse.ArgumentTypeError(
            f"must be 0 or at least 2.2e-308 in size (a subnormal number); got {text!r}"
        )
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


def probability(text: str) -> float:
    """A number in [0, 1], such as an acceptance rate."""
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1]; got {text!r}")
    return value


def integer(low: int, high: int | None = None) -> Callable[[str], int]:
    """An integer in [low, high]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        bounded = high is not None and (high < 2**53 or (value is not None and value > high))
        span = f"in [{low}, {high:.3g}]" if bounded else f">= {low}"
        if value is None or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be an integer {span}; got {text!r}")
        return value

    parse.__name__ = "integer"
    return parse


positive_int = integer(1, 2**53)
non_negative_int = integer(0, 2**53)
# Routed experts: the MoE law's Ê saturates long before this.
expert_count = integer(1, 2**20)


def experts_or_auto(text: str) -> int | str:
    """An expert count, or "auto" (the cheapest of the counts compared)."""
    return "auto" if text == "auto" else expert_count(text)


# Local worker processes: four per CPU core at most. Past that they only compete for the
# cores, and a typo (1_000 for 10) once started a thousand processes and ran the machine
# out of memory.
MAX_PROCESSES = 4 * (os.cpu_count() or 1)
processes = integer(1, MAX_PROCESSES)


def address(text: str) -> str:
    """A network address: not empty (an empty one once fell through to a missing client)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must be an address such as tcp://host:8786; got ''")
    return text.strip()


def law(text: str) -> Any:
    """A loss-law preset's name (kept as the name), or the path of a JSON/TOML law file (read
    here, so a bad file is a usage error naming the field and the file)."""
    from ..laws.files import load_law
    from ..laws.scaling import PRESETS

    if text in PRESETS or text == "joint-moe":
        return text
    if not os.path.exists(text):
        raise argparse.ArgumentTypeError(
            f"must be a preset ({', '.join(PRESETS)}), joint-moe or a law file; got {text!r}, "
            "which is none of them"
        )
    try:
        return load_law(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def gpu(text: str) -> Any:
    """An accelerator's catalogue name (kept as the name), or the path of a JSON/TOML
    accelerator file (read here: a bad file is a usage error naming the field)."""
    from ..hardware.accelerators import ACCELERATORS
    from ..hardware.files import load_accelerator

    if text in ACCELERATORS:
        return text
    if not os.path.exists(text):
        raise argparse.ArgumentTypeError(
            f"must be an accelerator ({', '.join(ACCELERATORS)}) or an accelerator file; got "
            f"{text!r}, which is neither"
        )
    try:
        return load_accelerator(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
