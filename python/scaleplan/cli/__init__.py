"""The `scaleplan` command line: a table of commands, one module each.

Each command module has `add(sub)`, which declares its subcommand and options (meaning,
unit and default for every one), and `run(args)`, which returns the result as data and as
text; `guard.run` prints one of them and turns every failure into one line on stderr and
an exit status (2 for bad input, 130 interrupted). Shared pieces: `options` (option
groups), `values` (option value types), `shared` (target, law, cost model), `render`,
`progress`, `csv_runs`.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._core import __version__
from . import (
    best_quality,
    best_shapes,
    chinchilla_optimal,
    compute_optimal,
    cost_optimal,
    families,
    fit,
    guard,
    hardware,
    implied_demand,
    isoflop,
    measure,
    next_run,
    plan,
    presets,
    reproduce,
    serve,
    step_time,
    sweep,
)
from .options import Parser

# In the order `scaleplan --help` lists them.
COMMANDS = (
    plan,
    compute_optimal,
    chinchilla_optimal,
    cost_optimal,
    best_quality,
    implied_demand,
    serve,
    fit,
    isoflop,
    families,
    next_run,
    step_time,
    best_shapes,
    measure,
    reproduce,
    hardware,
    sweep,
    presets,
)


def build_parser() -> Parser:
    """The whole parser: every command's subparser, each set to run its module's `run`."""
    p = Parser(
        prog="scaleplan",
        description="Size a language model for its whole life: training plus inference.",
    )
    p.add_argument("--version", action="version", version=f"scaleplan {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        command.add(sub).set_defaults(run=command.run)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    sub = parser._subparsers._group_actions[0].choices[args.command]  # type: ignore[union-attr]
    options = guard.option_names(sub)
    output = (
        "json" if getattr(args, "json", False) else "csv" if getattr(args, "csv", False) else "text"
    )
    return guard.run(args.command, lambda: args.run(args), output, options)
