"""`scaleplan isoflop`: Chinchilla's Approach 2 (IsoFLOP profiles) on runs."""

from __future__ import annotations

import argparse
from typing import Any

from ..commands import SUMMARIES
from ..options import output, runs_source
from ..render import render_table, si_number
from ..shared import CliError
from ..values import non_negative_int, positive


def add(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "isoflop",
        help=SUMMARIES["isoflop"],
        description="A parabola in ln N through each compute budget's runs; the minima "
        "fitted as power laws of compute, with intervals from resampling runs within "
        "each budget. Budgets default to Hoffmann et al.'s nine (6e18 to 3e21 FLOPs).",
    )
    runs_source(p, ("chinchilla",))
    p.add_argument(
        "--budgets",
        type=positive,
        nargs="+",
        metavar="FLOPS",
        help="the profiles' compute budgets in FLOPs (default Hoffmann et al.'s nine)",
    )
    p.add_argument(
        "--width",
        type=positive,
        default=0.05,
        help="a run belongs to a budget within this many decades of it (default 0.05)",
    )
    p.add_argument(
        "--bootstrap",
        type=non_negative_int,
        default=1000,
        metavar="N",
        help="resamples of the runs for the intervals (count)",
    )
    p.add_argument("--seed", type=non_negative_int, default=0, help="resampling seed")
    output(p)
    return p


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from ...fitting.isoflop import HOFFMANN_BUDGETS, isoflop_fit
    from .fit import runs_table

    if args.width >= 1:
        raise CliError("--width must be below 1 decade")
    table, cols, source = runs_table(argparse.Namespace(**vars(args), max_tokens_per_param=None))
    runs = [table[c] for c in cols]
    flops = table.get("flops") if args.dataset else None
    fit = isoflop_fit(
        *runs,
        flops=flops,
        budgets=args.budgets or HOFFMANN_BUDGETS,
        width=float(args.width),
        n_resamples=args.bootstrap,
        seed=args.seed,
    )
    profiles = [
        {
            "budget": p.budget,
            "flops": p.flops,
            "runs": len(p.params),
            "params_opt": p.params_opt,
            "tokens_opt": p.tokens_opt,
            "loss_opt": p.loss_opt,
        }
        for p in fit.profiles
    ]
    data = {
        "source": source,
        "a": fit.a,
        "b": fit.b,
        "intervals": fit.intervals,
        "profiles": profiles,
        "skipped": {f"{k:g}": v for k, v in fit.skipped.items()},
    }
    rows = [
        (
            f"{p['budget']:.0e}",
            str(p["runs"]),
            si_number(p["params_opt"]),
            si_number(p["tokens_opt"]),
            f"{p['loss_opt']:.4f}",
        )
        for p in profiles
    ]
    interval = " [{:.3f}, {:.3f}]".format(*fit.intervals["a"]) if fit.intervals else ""
    text = (
        f"IsoFLOP profiles of {source} (Approach 2)\n\n"
        + render_table(("budget", "runs", "N_opt", "D_opt", "loss"), rows)
        + f"\n\nN_opt ~ C^{fit.a:.3f}{interval}, D_opt ~ C^{fit.b:.3f}"
        + "".join(f"\nskipped {k:g}: {v}" for k, v in fit.skipped.items())
    )
    return data, text
