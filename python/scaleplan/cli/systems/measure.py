"""`scaleplan measure`: time real training steps of small transformers (JAX) into a CSV
that `scaleplan step-time --measured` and `systems.measure.load_measurements` read."""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from ..commands import SUMMARIES
from ..options import output
from ..shared import CliError
from ..values import non_negative_int, positive_int

# The default sweep's size (`systems.measure.default_sweep`).
SWEEP_SHAPES = 72


def add(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "measure",
        help=SUMMARIES["measure"],
        description="Compile and time one training step (forward, backward, Adam) of each "
        "shape of the default sweep on the device JAX finds, and write a CSV of the shapes "
        "and their median seconds (the extra [measure] installs JAX).",
    )
    p.add_argument("out", metavar="OUT", help="CSV file to write")
    p.add_argument(
        "--shapes",
        type=positive_int,
        default=SWEEP_SHAPES,
        help=f"time the first this many of the {SWEEP_SHAPES} sweep shapes",
    )
    p.add_argument(
        "--warmup",
        type=non_negative_int,
        default=2,
        help="steps run before timing (compilation happens in the first)",
    )
    p.add_argument("--repeats", type=positive_int, default=5, help="timed steps per shape")
    p.add_argument("--seed", type=non_negative_int, default=0, help="random weights' seed")
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    output(p)
    return p


def run(args: argparse.Namespace) -> tuple[Any, str]:
    from ...systems.measure import default_sweep, load_measurements, sweep

    if args.shapes > SWEEP_SHAPES:
        raise CliError(f"--shapes must be at most {SWEEP_SHAPES}; got {args.shapes}")
    if os.path.exists(args.out) and not args.overwrite:
        raise CliError(f"{args.out} exists; pass --overwrite to replace it")
    start = time.perf_counter()
    path = sweep(default_sweep()[: args.shapes], args.out, warmup=args.warmup,
                 repeats=args.repeats, seed=args.seed)  # fmt: skip
    seconds = time.perf_counter() - start
    _, measured = load_measurements(path)
    data = {"out": str(path), "shapes": len(measured), "wall_seconds": seconds,
            "min_step_seconds": float(measured.min()),
            "max_step_seconds": float(measured.max())}  # fmt: skip
    text = (f"timed {len(measured)} shapes in {seconds:.1f} s (steps of "
            f"{measured.min() * 1e3:.3g} ms to {measured.max() * 1e3:.3g} ms): {path}")  # fmt: skip
    return data, text
