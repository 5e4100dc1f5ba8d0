"""`scaleplan families`: law families compared by held-out error on a shipped data set."""

from __future__ import annotations

import argparse
from typing import Any

from ..commands import SUMMARIES
from ..options import output
from ..values import non_negative_int, positive_int


def add(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "families",
        help=SUMMARIES["families"],
        description="Fits each family by the summed Huber loss and reports held-out errors "
        "in loss: k-fold, and leaving out one group at a time (Chinchilla runs: their "
        "nearest IsoFLOP budget; Sardana runs: their model size).",
    )
    p.add_argument(
        "--dataset",
        choices=("chinchilla", "sardana2024"),
        default="chinchilla",
        help="the shipped runs to compare on (default chinchilla)",
    )
    p.add_argument("--folds", type=positive_int, default=10, help="k of k-fold (default 10)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of the folds")
    p.add_argument(
        "--families",
        nargs="+",
        metavar="NAME",
        help="the families to compare, by name (default: every one: the rows of the "
        "table without this option)",
    )
    output(p)
    return p


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    if args.folds < 2:
        from ..shared import CliError

        raise CliError("--folds must be at least 2")
    # Here, not at the top: the fits pull in SciPy, which `scaleplan --help` need not load.
    from ...fitting.family_comparison import family_table

    chosen = {} if args.families is None else {"families": tuple(args.families)}
    records, text = family_table(args.dataset, args.folds, args.seed, **chosen)
    return (
        {"dataset": args.dataset, "folds": args.folds, "seed": args.seed, "families": records},
        f"Law families on the {args.dataset} runs, held-out error in loss (nats)\n\n{text}",
    )
