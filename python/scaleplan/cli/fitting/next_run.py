"""`scaleplan next-run`: which affordable run most narrows the lifetime optimum's size."""

from __future__ import annotations

import argparse
from typing import Any

from ..commands import SUMMARIES
from ..options import common, demand, group, inference_tokens, runs_source, target
from ..render import render_table, si_number
from ..shared import inference_tokens as lifetime_tokens
from ..shared import preset_law, target_loss
from ..values import positive, positive_int


def add(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "next-run",
        help=SUMMARIES["next-run"],
        description="Fits a law to runs so far (a shipped data set or a CSV file), then "
        "ranks runs costing --flops by the predicted standard deviation of ln N* (the "
        "lifetime optimum's size for the target and demand) after training each. The "
        "target loss is read under --law.",
    )
    runs_source(p, ("chinchilla", "sardana2024"))
    g = group(p, "candidates")
    g.add_argument("--flops", type=positive, required=True, help="cost of the next run (FLOPs)")
    g.add_argument("--top", type=positive_int, default=5, help="candidates to print")
    target(p)
    demand(p)
    inference_tokens(p, "instead of the per-day demand")
    common(p)
    return p


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from ...fitting.nextrun import next_run
    from .fit import runs_table

    loss = target_loss(args, preset_law(args.law))
    tokens = lifetime_tokens(args)
    table, cols, source = runs_table(argparse.Namespace(**vars(args), max_tokens_per_param=None))
    r = next_run(
        *(table[c] for c in cols),
        flops=args.flops,
        target_loss=loss,
        inference_tokens=tokens,
    )
    ranked = [
        {"params": float(n), "tokens": float(d), "sd_after": float(s)}
        for n, d, s in zip(r.params, r.tokens, r.sd_after, strict=True)
    ]
    data = {
        "source": source,
        "flops": r.flops,
        "loss": loss,
        "inference_tokens": tokens,
        "sd_now": r.sd_now,
        "candidates": ranked,
    }
    rows = [
        (
            si_number(c["params"]),
            si_number(c["tokens"]),
            f"{c['tokens'] / c['params']:.0f}",
            f"{c['sd_after']:.4f}",
            f"{100 * (1 - c['sd_after'] / r.sd_now):.1f}%",
        )
        for c in ranked[: args.top]
    ]
    text = (
        f"Next run of {args.flops:.3g} FLOPs for {source}: target loss {loss:.4f}, demand "
        f"{si_number(tokens)} tokens; sd of ln N* now {r.sd_now:.4f}\n\n"
        + render_table(("params", "tokens", "tokens/param", "sd of ln N* after", "narrower"), rows)
    )
    return data, text
