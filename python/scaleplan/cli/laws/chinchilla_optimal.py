"""`scaleplan chinchilla-optimal`: its options (`add`) and what it prints (`run`, data and text)."""

from __future__ import annotations

import argparse
from typing import Any

from ...laws.closed_form import chinchilla_optimal
from ..commands import ALIASES, SUMMARIES
from ..options import common, experts, group
from ..render import render_table, si_number
from ..shared import CliError, preset_law
from ..values import positive


def add(sub: Any) -> argparse.ArgumentParser:
    # `chinchilla` was its name up to 0.1: kept as an alias through 0.2.
    p = sub.add_parser(
        "chinchilla-optimal",
        aliases=list(ALIASES["chinchilla-optimal"]),
        help=SUMMARIES["chinchilla-optimal"],
        description="The Chinchilla-optimal model for a size, a loss or a training budget: "
        "give exactly one.",
    )
    g = group(p, "model (give one)")
    g.add_argument("--params", type=positive, help="model size in parameters")
    g.add_argument("--loss", type=positive, help="target loss in nats/token")
    g.add_argument("--compute", type=positive, help="training budget in FLOPs")
    common(p)
    experts(p)
    return p


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    law = preset_law(args.law, args.experts)
    given = {"params": args.params, "loss": args.loss, "compute": args.compute}
    chosen = {k: v for k, v in given.items() if v is not None}
    if len(chosen) != 1:
        raise CliError("give exactly one of --params, --loss or --compute")
    m = chinchilla_optimal(**chosen, law=law)
    data = {
        "law": law.name,
        "params": m.params,
        "tokens": m.tokens,
        "loss": m.loss,
        "training_flops": m.training_flops,
        "tokens_per_param": m.tokens_per_param,
    }
    text = render_table(
        ("Chinchilla-style model", "value"),
        [
            ("parameters", si_number(m.params)),
            ("training tokens", si_number(m.tokens)),
            ("tokens / parameter", f"{m.tokens_per_param:.1f}"),
            ("loss (nats/token)", f"{m.loss:.4f}"),
            ("training FLOPs", f"{m.training_flops:.3g}"),
        ],
    )
    return data, text
