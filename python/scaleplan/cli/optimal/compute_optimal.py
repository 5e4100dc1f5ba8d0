"""`scaleplan compute-optimal`: its options (`add`) and what it prints (`run`, data and text)."""

from __future__ import annotations

import argparse
from typing import Any

from ...optimal.lifetime import compute_optimal
from ...optimal.solver import METHODS
from ..commands import SUMMARIES
from ..options import common, demand, group, inference_tokens, target
from ..render import cell, render_table, si_number
from ..shared import inference_tokens as lifetime_tokens
from ..shared import preset_law, target_loss
from . import data_limit, downstream_target


def add(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "compute-optimal",
        help=SUMMARIES["compute-optimal"],
        description="The model reaching a loss with the fewest lifetime FLOPs, beside the "
        "Chinchilla-style model of the same loss. The paper's Figure 1 is "
        "--as-good-as 13e9 --inference-tokens 2e12.",
    )
    target(p)
    downstream_target.add_options(p)
    demand(p)
    inference_tokens(p, "instead of the per-day demand")
    group(p, "solver").add_argument(
        "--method", choices=METHODS, default="newton", help="root finder for the optimum"
    )
    data_limit.add_option(p)
    common(p)
    return p


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    law = preset_law(args.law)
    goal = downstream_target.resolve(args, law, ("--loss", "--as-good-as"))
    loss = goal.loss if goal else target_loss(args, law)
    tokens = lifetime_tokens(args)
    r = compute_optimal(loss, tokens, law=law, method=args.method)
    c = r.chinchilla
    data = {
        "law": law.name,
        "loss": r.loss,
        "inference_tokens": r.inference_tokens,
        "optimal": {
            "params": r.params,
            "tokens": r.tokens,
            "tokens_per_param": r.tokens_per_param,
            "training_flops": r.training_flops,
            "inference_flops": r.inference_flops,
            "total_flops": r.total_flops,
            "iterations": r.iterations,
        },
        "chinchilla": {
            "params": c.params,
            "tokens": c.tokens,
            "tokens_per_param": c.tokens_per_param,
            "training_flops": c.training_flops,
            "inference_flops": c.inference_flops,
            "total_flops": c.total_flops,
        },
        "flop_saving": r.flop_saving,
    }
    rows = []
    for key, label in (
        ("params", "parameters"),
        ("tokens", "training tokens"),
        ("tokens_per_param", "tokens / parameter"),
        ("training_flops", "training FLOPs"),
        ("inference_flops", "inference FLOPs"),
        ("total_flops", "lifetime FLOPs"),
    ):
        o, ch = data["optimal"][key], data["chinchilla"][key]
        ratio = f"{o / ch:.3f}" if ch else "-"
        rows.append((label, cell(key, ch), cell(key, o), ratio))
    text = (
        f"Lifetime compute-optimal model (law {law.name}, loss {r.loss:.4f} nats/token, "
        f"inference demand {si_number(r.inference_tokens)} tokens)\n\n"
        + render_table(("", "Chinchilla-style", "compute-optimal", "ratio"), rows)
        + f"\n\nThe compute-optimal model saves {100 * r.flop_saving:.1f}% of lifetime FLOPs."
    )
    if goal is not None:
        data["downstream"], more = downstream_target.section(
            goal,
            lambda ls: compute_optimal(ls, tokens, law=law, on_invalid="nan").params,
        )
        text += more
    if args.unique_tokens is not None:
        limited = compute_optimal(loss, tokens, law=law,
                                  unique_tokens=args.unique_tokens)  # fmt: skip
        data["data_constrained"], more = data_limit.section(limited)
        text += more
    return data, text
