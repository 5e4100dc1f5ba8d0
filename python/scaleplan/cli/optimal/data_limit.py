"""`--unique-tokens` for the commands that size a model: the lifetime optimum under the
data-constrained law (Muennighoff et al. 2023), as data and one paragraph."""

from __future__ import annotations

import argparse
from typing import Any

from ..options import group
from ..render import si_number
from ..values import positive


def add_option(p: argparse.ArgumentParser) -> None:
    group(p, "training data").add_argument("--unique-tokens", type=positive, metavar="U",
                   help="unique training tokens available: repeated data and excess "
                   "parameters then decay (Muennighoff et al. 2023; a plain --law takes "
                   "their R_D* 15.39, R_N* 5.31)")  # fmt: skip


def section(result: Any) -> tuple[dict[str, Any], str]:
    """The optimum with a unique-token supply (a `ConstrainedOptimum`, scalar)."""
    data = {
        "unique_tokens": float(result.unique_tokens),
        "binding": bool(result.binding),
        "params": float(result.params),
        "tokens": float(result.tokens),
        "effective_tokens": float(result.effective_tokens),
        "epochs": float(result.epochs),
        "premium": float(result.premium),
        "rd_star": result.law.rd_star,
        "rn_star": result.law.rn_star,
    }
    u = si_number(data["unique_tokens"])
    if not data["binding"]:
        return (
            data,
            f"\n\nWith {u} unique tokens the supply does not bind: the optimum above stands.",
        )
    text = (
        f"\n\nWith {u} unique tokens (data-constrained law, R_D* {result.law.rd_star:.4g}, "
        f"R_N* {result.law.rn_star:.4g}): {si_number(data['params'])} parameters on "
        f"{si_number(data['tokens'])} tokens, {data['epochs']:.3g} epochs worth "
        f"{si_number(data['effective_tokens'])} fresh ones; the lifetime costs "
        f"{100 * data['premium']:.2f}% more than with unlimited data."
    )
    return data, text
