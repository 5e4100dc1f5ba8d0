"""`scaleplan presets`: its options (`add`) and what it prints (`run`, data and text)."""

from __future__ import annotations

import argparse
from typing import Any

from ...laws.scaling import PRESETS
from ..commands import SUMMARIES
from ..options import output
from ..render import render_table


def add(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "presets",
        help=SUMMARIES["presets"],
        description="Coefficients and sources of the loss laws that --law accepts.",
    )
    output(p)
    return p


def run(args: argparse.Namespace) -> tuple[Any, str]:
    data = {
        name: dict(zip(("E", "A", "B", "alpha", "beta"), law.coefficients, strict=True))
        | {"source": law.source}
        for name, law in PRESETS.items()
    }
    rows = [(n, *(f"{v:g}" for v in law.coefficients)) for n, law in PRESETS.items()]
    return data, render_table(("preset", "E", "A", "B", "alpha", "beta"), rows)
