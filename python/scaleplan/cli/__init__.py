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
from types import ModuleType

from .._core import __version__
from . import config, guard
from .commands import ALIASES, EXAMPLES, SUMMARIES
from .parser import Parser

__all__ = ["EXAMPLES", "build_parser", "command_modules", "main"]


def command_modules() -> tuple[ModuleType, ...]:
    """Every command's module, in the order `scaleplan --help` lists them (imported here,
    not at the top: they load the library, which the top-level help does not need)."""
    from .dask import sweep
    from .fitting import families, fit, isoflop, next_run
    from .laws import chinchilla_optimal, presets
    from .optimal import best_quality, compute_optimal, cost_optimal, implied_demand, plan
    from .paper import reproduce
    from .systems import best_shapes, hardware, measure, serve, step_time

    return (plan, compute_optimal, chinchilla_optimal, cost_optimal, best_quality,
            implied_demand, serve, fit, isoflop, families, next_run, step_time, best_shapes,
            measure, reproduce, hardware, sweep, presets)  # fmt: skip


def build_parser(*, commands: bool = True) -> Parser:
    """The whole parser: every command's subparser, each set to run its module's `run`,
    with --config and an example. With `commands=False`, the commands are names and
    summaries only (`scaleplan --help`, `--version`, a mistyped command: nothing loaded)."""
    p = Parser(
        prog="scaleplan",
        description="Size a language model for its whole life: training plus inference.",
        epilog="Every command takes --config FILE.toml; `scaleplan COMMAND --help` lists its "
        "options.",
    )
    p.add_argument("--version", action="version", version=f"scaleplan {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    if not commands:
        for name, summary in SUMMARIES.items():
            sub.add_parser(name, help=summary, aliases=list(ALIASES.get(name, ())))
        return p
    from .options import config as config_option

    for command in command_modules():
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
    given = list(sys.argv[1:] if argv is None else argv)
    named = next((w for w in given if not w.startswith("-")), None)
    known = {*SUMMARIES, *(a for names in ALIASES.values() for a in names)}
    if named not in known:
        # No command (help, version, a usage error) or a mistyped one: argparse answers
        # from the names alone and exits.
        build_parser(commands=False).parse_args(given)
    from .options import deprecations

    parser = build_parser()
    words = _with_config(parser, given)
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
