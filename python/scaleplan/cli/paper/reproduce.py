"""`scaleplan reproduce`: its options (`add`) and what it prints (`run`, data and text)."""

from __future__ import annotations

import argparse
from typing import Any

from ..commands import SUMMARIES
from ..options import output
from ..progress import progress_bar


def add(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "reproduce",
        help=SUMMARIES["reproduce"],
        description="Writes the tables and figures of Sardana et al. 2024, ours beside the "
        "published numbers, into a folder. Figures need the [plot] extra (matplotlib).",
    )
    p.add_argument("--out", default="reproduction", help="output folder")
    # The choices are said here, not imported: the parser must load no plotting code.
    p.add_argument(
        "--format",
        choices=("png", "pdf", "svg"),
        default="png",
        help="the figures' file type, one per run: png (200 dpi), pdf or svg (vector)",
    )
    output(p)
    return p


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from ...paper.reproduce import reproduce

    with progress_bar("steps", args.json) as tick:
        written = reproduce(args.out, format=args.format, progress=tick)
    return {"out": str(args.out), "files": [str(p) for p in written]}, (
        f"Wrote {len(written)} files to {args.out}:\n" + "\n".join(f"  {p}" for p in written)
    )
