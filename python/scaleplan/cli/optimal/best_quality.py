"""`scaleplan best-quality`: its options (`add`) and what it prints (`run`, data and text)."""

from __future__ import annotations

import argparse
from typing import Any

from ... import _core
from ...optimal.budgets import best_quality
from ..commands import SUMMARIES
from ..options import common, demand, experts, group, hardware, inference_tokens
from ..render import money, render_table, si_number
from ..shared import cost_model, demand_of, preset_law
from ..shared import inference_tokens as lifetime_tokens
from ..values import positive


def add(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "best-quality",
        help=SUMMARIES["best-quality"],
        description="The lowest loss a lifetime budget buys: US dollars for the demand "
        "options on the hardware options, or FLOPs (--flops, or --inference-tokens).",
    )
    g = group(p, "budget")
    g.add_argument(
        "--budget",
        type=positive,
        required=True,
        help="lifetime budget: US dollars, or FLOPs with --flops or --inference-tokens",
    )
    g.add_argument(
        "--flops",
        action="store_true",
        help="the budget is in FLOPs (training + inference), not dollars",
    )
    demand(p)
    inference_tokens(p, "a FLOP budget")
    group(p, "solver").add_argument(
        "--method",
        choices=_core.DUAL_METHODS,
        default="newton",
        help="how the best model size is found along the budget curve",
    )
    hardware(p)
    common(p)
    experts(p)
    return p


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    law = preset_law(args.law, args.experts)
    if args.flops or args.inference_tokens is not None:
        b = best_quality(flop_budget=args.budget, inference_tokens=lifetime_tokens(args),
                         law=law, method=args.method)  # fmt: skip
    else:
        need = demand_of(args)
        b = best_quality(
            dollar_budget=args.budget,
            requests=need.requests,
            input_tokens=need.input_tokens,
            output_tokens=need.output_tokens,
            costs=cost_model(args),
            law=law,
            method=args.method,
        )
    unit = b.unit
    data = {
        "law": law.name,
        "budget": b.budget,
        "unit": unit,
        "loss": b.loss,
        "params": b.params,
        "tokens": b.tokens,
    }
    budget = money(b.budget) if unit == "dollars" else f"{b.budget:.3g} {unit}"
    text = render_table(
        (f"Best model for {budget}", "value"),
        [
            ("loss (nats/token)", f"{b.loss:.4f}"),
            ("parameters", si_number(b.params)),
            ("training tokens", si_number(b.tokens)),
        ],
    )
    return data, text
