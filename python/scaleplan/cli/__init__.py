"""The `scaleplan` command line: a table of commands, one module each.

Each command module has `add(sub)`, which declares its subcommand and options (meaning,
unit and default for every one), and `run(args)`, which returns the result as data and as
text; `guard.run` prints one of them and turns every failure into one line on stderr and
an exit status (2 for bad input, 130 interrupted). The commands sit in folders named after
the library subpackage they drive: `optimal/` (plan, compute-optimal, cost-optimal,
best-quality, implied-demand, and the `--unique-tokens` and `--target-accuracy` pieces
they share), `laws/` (chinchilla-optimal, presets), `fitting/` (fit, isoflop, families,
next-run, and the CSV reader of runs), `systems/` (serve, step-time, best-shapes, measure,
hardware), `paper/` (reproduce) and `dask/` (sweep). This folder holds what they share:
`options` (option groups), `values` (option value types), `shared` (target, law, cost
model), `render`, `progress` and `guard`.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._core import __version__
from . import guard
from .dask import sweep
from .fitting import families, fit, isoflop, next_run
from .laws import chinchilla_optimal, presets
from .optimal import best_quality, compute_optimal, cost_optimal, implied_demand, plan
from .options import Parser
from .paper import reproduce
from .systems import best_shapes, hardware, measure, serve, step_time

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
