"""`scaleplan implied-demand`: the lifetime demand for which a released model's size and
training tokens are lifetime-optimal."""

from __future__ import annotations

import argparse
import math
from typing import Any

from ...optimal.implied import implied_demand
from ..commands import SUMMARIES
from ..options import common, group, hardware, per_request
from ..render import render_table, si_number
from ..shared import cost_model, preset_law
from ..values import positive


def add(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "implied-demand",
        help=SUMMARIES["implied-demand"],
        description="Read a released model backward: the lifetime inference tokens (FLOPs) "
        "and requests (dollars, with the hardware options) for which its parameters and "
        "training tokens minimise lifetime cost. None when it was trained on fewer tokens "
        "than the law's Chinchilla-optimal count for its size.",
    )
    g = group(p, "model")
    g.add_argument("--params", type=positive, required=True, help="parameters N (count)")
    g.add_argument("--tokens", type=positive, required=True, help="training tokens D (count)")
    per_request(p)
    hardware(p)
    common(p)
    return p


def _or_none(x: float) -> float | None:
    return None if math.isnan(x) else x


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    law = preset_law(args.law)
    costs = cost_model(args)
    r = implied_demand(
        args.params,
        args.tokens,
        law=law,
        costs=costs,
        input_tokens=args.input_tokens,
        output_tokens=args.output_tokens,
    )
    data = {
        "law": law.name,
        "params": r.params,
        "tokens": r.tokens,
        "loss": r.loss,
        "chinchilla_tokens": r.chinchilla_tokens,
        "exists": r.exists,
        "inference_tokens": _or_none(r.inference_tokens),
        "requests": _or_none(r.requests),
    }
    head = (
        f"A {si_number(r.params)}-parameter model trained on {si_number(r.tokens)} tokens "
        f"({r.tokens_per_param:.0f} per parameter; loss {r.loss:.4f} under law {law.name})"
    )
    if not r.exists:
        text = (
            f"{head} is lifetime-optimal for no demand: it was trained on fewer tokens than "
            f"the Chinchilla-optimal {si_number(r.chinchilla_tokens)} for its size, and "
            "inference demand only ever calls for more."
        )
        return data, text
    rows = [
        ("Chinchilla-optimal tokens for this size", si_number(r.chinchilla_tokens)),
        ("lifetime inference tokens (FLOP optimum)", si_number(r.inference_tokens)),
        (
            f"lifetime requests ({args.input_tokens:g} in + {args.output_tokens:g} out, "
            "dollar optimum)",
            si_number(r.requests),
        ),
    ]
    text = f"{head} is lifetime-optimal for\n\n" + render_table(("", "value"), rows)
    return data, text
