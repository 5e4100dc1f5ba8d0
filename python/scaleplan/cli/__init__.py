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
model), `config` (`--config FILE.toml`), `render`, `progress` and `guard`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .._core import __version__
from . import config, guard
from .dask import sweep
from .fitting import families, fit, isoflop, next_run
from .laws import chinchilla_optimal, presets
from .optimal import best_quality, compute_optimal, cost_optimal, implied_demand, plan
from .options import Parser, deprecations
from .options import config as config_option
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


# One invocation per command, shown at the foot of its --help (each is run by
# tests/cli/test_cli_help.py).
EXAMPLES = {
    "plan": "scaleplan plan --as-good-as 70e9 --requests-per-day 1e8 --days 730",
    "compute-optimal": "scaleplan compute-optimal --as-good-as 13e9 --inference-tokens 2e12",
    "chinchilla-optimal": "scaleplan chinchilla-optimal --params 70e9",
    "cost-optimal": "scaleplan cost-optimal --as-good-as 30e9 --requests-per-day 1e8 "
    "--train-gpu h100-sxm",
    "best-quality": "scaleplan best-quality --budget 1e6 --requests-per-day 1e6",
    "implied-demand": "scaleplan implied-demand --params 8.03e9 --tokens 15e12",
    "serve": "scaleplan serve --model llama-2-7b --gpu h100-sxm --tpot-ms 50",
    "fit": "scaleplan fit --dataset chinchilla --json > law.json",
    "isoflop": "scaleplan isoflop --dataset chinchilla --bootstrap 100",
    "families": "scaleplan families --dataset sardana2024 --folds 5",
    "next-run": "scaleplan next-run --dataset chinchilla --flops 1e21",
    "step-time": "scaleplan step-time --d-model 4096 --n-layers 32 --d-ff 11008 --hours 24",
    "best-shapes": "scaleplan best-shapes --hours 24 --gpu h100-sxm --max-params 2e9",
    "measure": "scaleplan measure steps.csv --shapes 4",
    "reproduce": "scaleplan reproduce --out reproduction",
    "hardware": "scaleplan hardware --csv",
    "sweep": "scaleplan sweep grid.zarr --loss 1.9:2.6:8 --requests 1e8:1e12:5:log",
    "presets": "scaleplan presets --json",
}


def build_parser() -> Parser:
    """The whole parser: every command's subparser, each set to run its module's `run`,
    with --config and an example."""
    p = Parser(
        prog="scaleplan",
        description="Size a language model for its whole life: training plus inference.",
        epilog="Every command takes --config FILE.toml; `scaleplan COMMAND --help` lists its "
        "options.",
    )
    p.add_argument("--version", action="version", version=f"scaleplan {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        parser = command.add(sub)
        parser.set_defaults(run=command.run)
        config_option(parser)
        parser.epilog = f"example:\n  {EXAMPLES[parser.prog.split()[-1]]}"
    return p


def _commands(parser: Parser) -> dict[str, Parser]:
    return parser._subparsers._group_actions[0].choices  # type: ignore[union-attr,return-value]


def _with_config(parser: Parser, argv: list[str]) -> list[str] | int:
    """`argv` with the words of its --config file put after the command (the command line
    then wins), or the exit status of a config error (reported in one line)."""
    start = next((i for i, a in enumerate(argv) if not a.startswith("-")), None)
    if start is None or argv[start] not in _commands(parser):
        return argv
    path = config.find_config(argv, start + 1)
    if path is None:
        return argv
    command = argv[start]
    try:
        words = config.tokens(_commands(parser)[command], command, _commands(parser), path,
                              argv[start + 1 :])  # fmt: skip
    except config.ConfigError as exc:
        print(f"scaleplan {command}: error: --config {exc}", file=sys.stderr)
        return 2
    return [*argv[: start + 1], *words, *argv[start + 1 :]]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    words = _with_config(parser, list(sys.argv[1:] if argv is None else argv))
    if isinstance(words, int):
        return words
    args = parser.parse_args(words)
    sub = _commands(parser)[args.command]
    options = guard.option_names(sub)
    output = (
        "json" if getattr(args, "json", False) else "csv" if getattr(args, "csv", False) else "text"
    )
    code = guard.run(args.command, lambda: args.run(args), output, options)
    if code == 0:
        for note in deprecations(args):
            print(note, file=sys.stderr)
    return code
