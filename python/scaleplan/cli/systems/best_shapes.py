"""`scaleplan best-shapes`: its options (`add`) and what it prints (`run`, data and text)."""

from __future__ import annotations

import argparse
from typing import Any

from ..commands import SUMMARIES
from ..options import group, timing
from ..render import render_table, si_number
from ..shared import CliError, preset_law
from ..values import positive, positive_int
from .step_time import time_model


def add(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "best-shapes",
        help=SUMMARIES["best-shapes"],
        description="Searches a grid of transformer shapes for the lowest loss reachable in "
        "--hours on one accelerator.",
    )
    g = group(p, "search")
    g.add_argument("--hours", type=positive, required=True, help="wall-clock budget in hours")
    g.add_argument("--max-params", type=positive, help="largest model, in parameters")
    g.add_argument("--max-memory", type=positive, help="training memory limit in bytes")
    g.add_argument("--top", type=positive_int, default=10, help="shapes to list (count)")
    timing(p)
    return p


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from ...systems.shape_search import best_shapes
    from ...systems.steptime import shape_grid

    if not args.hours > 0:
        raise CliError(f"--hours must be > 0; got {args.hours}")
    model = time_model(args)
    grid = shape_grid(
        vocab=float(args.vocab), seq_len=float(args.seq_len), batch_size=float(args.batch_size)
    )
    r = best_shapes(
        args.hours * 3600.0,
        law=preset_law(args.law),
        time_model=model,
        candidates=grid,
        max_params=args.max_params,
        max_memory_bytes=args.max_memory,
        top=args.top,
    )
    rows = []
    items = []
    for i in range(len(r.result.loss)):
        sh = {k: int(v[i]) for k, v in r.shapes.items()}
        items.append(
            sh
            | {
                "loss": float(r.result.loss[i]),
                "params": float(r.result.params[i]),
                "tokens": float(r.result.tokens[i]),
            }
        )
        rows.append(
            (
                str(sh["d_model"]),
                str(sh["n_layers"]),
                str(sh["n_heads"]),
                f"{sh['d_ff'] / sh['d_model']:.2g}",
                si_number(r.result.params[i]),
                si_number(r.result.tokens[i]),
                f"{r.result.loss[i]:.4f}",
            )
        )
    data = {
        "hours": args.hours,
        "time_model": model.source,
        "considered": r.considered,
        "feasible": r.feasible,
        "best": items,
    }
    text = (
        f"Best of {r.feasible} feasible shapes ({r.considered} considered) for "
        f"{args.hours:g} h on {model.source}\n\n"
        + render_table(("d_model", "layers", "heads", "d_ff/d", "params", "tokens", "loss"), rows)
    )
    return data, text
