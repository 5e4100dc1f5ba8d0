"""`scaleplan best-quality`: its options (`add`) and what it prints (`run`, data and text)."""

from __future__ import annotations

import argparse
from typing import Any

from ... import _core
from ...optimal.budgets import best_quality
from ..options import common, hardware, requests
from ..render import render_table, si_number
from ..shared import CliError, cost_model, preset_law
from ..values import non_negative, positive


def add(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "best-quality",
        help="lowest loss for a lifetime budget",
        description="The lowest loss a lifetime budget buys: FLOPs with --inference-tokens, "
        "dollars with --requests (and the hardware options).",
    )
    p.add_argument(
        "--budget",
        type=positive,
        required=True,
        help="lifetime budget: FLOPs with --inference-tokens, US dollars with --requests",
    )
    p.add_argument(
        "--inference-tokens", type=non_negative, help="lifetime inference demand in tokens"
    )
    p.add_argument(
        "--method",
        choices=_core.DUAL_METHODS,
        default="newton",
        help="how the best model size is found along the budget curve (default newton)",
    )
    requests(p, None)
    hardware(p)
    common(p)
    return p


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    law = preset_law(args.law)
    if (args.inference_tokens is None) == (args.requests is None):
        raise CliError("give --inference-tokens (FLOP budget) or --requests (dollar budget)")
    if args.requests is None:
        b = best_quality(flop_budget=args.budget, inference_tokens=args.inference_tokens,
                         law=law, method=args.method)  # fmt: skip
    else:
        b = best_quality(
            dollar_budget=args.budget,
            requests=args.requests,
            input_tokens=args.input_tokens,
            output_tokens=args.output_tokens,
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
    text = render_table(
        (f"Best model for {b.budget:.3g} {unit}", "value"),
        [
            ("loss (nats/token)", f"{b.loss:.4f}"),
            ("parameters", si_number(b.params)),
            ("training tokens", si_number(b.tokens)),
        ],
    )
    return data, text
