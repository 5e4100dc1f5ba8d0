"""Every option of every command against every class of hostile text (issue 23).

Each command's options (read from the parser itself, so a new option is fuzzed the day it
is added) get each text of `HOSTILE_TEXT` on top of a valid command line. The run must
exit 0 with output (strict JSON under `--json`), or exit 2 with exactly one line on
stderr that names the option; never a traceback, never exit 1, within 20 s.
"""

from __future__ import annotations

import json

import pytest
from contract import SECONDS, call_within
from inprocess import run_cli

from scaleplan import cli

HOSTILE_TEXT = (
    "nan", "inf", "-inf", "-1", "0", "-0", "5e-324", "1e-300", "2.5", "1e308", "1.8e308",
    "1e400", "1" * 420, "abc", "", "True", "0x10", " 7", "1_000",
)  # fmt: skip

# A valid command line for each command; `None`: not fuzzed here (reproduce writes
# figures for a minute; its one option is a path, tested in test_cli.py).
BASE: dict[str, list[str] | None] = {
    "plan": [],
    "compute-optimal": [],
    "chinchilla-optimal": ["--params", "7e9"],
    "chinchilla": None,  # chinchilla-optimal's 0.1 name, an alias of the same parser
    "cost-optimal": [],
    "best-quality": ["--budget", "1e23", "--inference-tokens", "1e12"],
    "implied-demand": ["--params", "8e9", "--tokens", "1.5e13"],
    "serve": ["--model", "llama-2-7b"],
    "fit": ["--dataset", "sardana2024"],
    "isoflop": ["--dataset", "chinchilla", "--bootstrap", "0"],
    # One family: the three together took over the 20 s limit beside another worker.
    "families": ["--dataset", "sardana2024", "--folds", "3", "--families", "chinchilla"],
    "next-run": ["--dataset", "sardana2024", "--flops", "1e21"],
    "step-time": ["--d-model", "512", "--n-layers", "4"],
    "best-shapes": ["--hours", "1"],
    "reproduce": None,
    "measure": None,  # times JAX steps for minutes; see test_measure_options
    "hardware": [],
    "sweep": None,  # its output path is per test; see test_sweep_options
    "presets": [],
}
# Options whose hostile values would start minutes of work when valid (a fit per value):
# fuzzed with the texts that the parser must refuse, and one valid text.
SLOW = {"fit", "isoflop", "families", "next-run"}
SLOW_TEXT = ("nan", "inf", "-1", "0", "5e-324", "1e400", "1" * 420, "abc", "", "True")


def subcommands() -> dict[str, object]:
    parser = cli.build_parser()
    return parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]


def value_options(command: str) -> list[str]:
    sub = subcommands()[command]
    return [
        a.option_strings[-1]
        for a in sub._actions  # type: ignore[attr-defined]
        if a.option_strings and a.nargs != 0 and a.option_strings[0] != "-h"
    ]


def run(argv: list[str], seconds: float = SECONDS) -> tuple[int, str, str]:
    # In this process, warnings written to stderr as the console script prints them.
    r = call_within(lambda: run_cli(argv), seconds)
    return r.returncode, r.stdout, r.stderr


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} in --json output")


def problem(argv: list[str], option: str, seconds: float = SECONDS) -> str | None:
    """None if the run keeps the command line's contract, else what broke."""
    code, out, err = run(argv, seconds)
    if code == 0:
        if not out.strip():
            return "exit 0 with no output"
        if "--json" in argv:
            try:
                json.loads(out, parse_constant=_refuse_constant)
            except ValueError as exc:
                return f"not strict JSON: {exc}"
        return None
    lines = err.strip().splitlines()
    if code != 2:
        return f"exit {code}: {err.strip()[-300:]}"
    if len(lines) != 1 or "Traceback" in err or out:
        return f"{len(lines)} lines on stderr, {len(out)} chars on stdout: {err[-300:]}"
    if option in lines[0] or "outside the float64 range" in lines[0]:
        return None  # the option, or an answer that exists but no float64 holds
    # A joint condition may name the other option at fault (a loss below the floor that
    # --unique-tokens allows); it must name some option of the command.
    others = [o for o in value_options(argv[0]) if o in lines[0]]
    return None if others else f"message names no option: {lines[0][:300]}"


FUZZED = [c for c, base in BASE.items() if base is not None]


def test_every_command_is_fuzzed_or_says_why():
    assert set(BASE) == set(subcommands())


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("command", FUZZED)
def test_every_option_against_every_hostile_text(command):
    base = [command, *BASE[command]]
    assert run(base)[0] == 0, "the valid command line itself must run"
    texts = SLOW_TEXT if command in SLOW else HOSTILE_TEXT
    json_ok = "--json" in value_options(command) or any(
        "--json" in a.option_strings
        for a in subcommands()[command]._actions  # type: ignore[attr-defined]
    )
    failures = []
    for option in value_options(command):
        for k, text in enumerate(texts):
            argv = [*base, f"{option}={text}"]
            if json_ok and k % 2:
                argv.append("--json")
            found = problem(argv, option)
            if found:
                failures.append(f"{' '.join(argv)[:160]}: {found}")
    assert not failures, "\n".join(failures)


@pytest.mark.timeout(600)
def test_sweep_options(tmp_path):
    for j, option in enumerate(value_options("sweep")):
        for k, text in enumerate(HOSTILE_TEXT):
            out = str(tmp_path / f"s{j}-{k}.zarr")
            base = ["sweep", out, "--loss", "2.1", "--inference-tokens", "1e12"]
            # A valid `--workers= 7` starts seven Dask worker processes: under a traced
            # run on a loaded 2-core machine that took over 20 s twice (2026-12-07). The
            # limit guards against hangs; a real cluster start gets a minute.
            found = problem([*base, f"{option}={text}"], option, seconds=60.0)
            assert found is None, f"sweep {option}={text}: {found}"


def test_measure_options(tmp_path):
    """Each text is refused by the parser, or (a valid count) reaches the check that OUT
    exists, so nothing is timed: exit status 2 and one line either way."""
    out = tmp_path / "m.csv"
    out.write_text("mine")
    for option in value_options("measure"):
        for text in HOSTILE_TEXT:
            code, stdout, err = run(["measure", str(out), f"{option}={text}"])
            lines = err.strip().splitlines()
            assert code == 2 and not stdout and len(lines) == 1, (option, text, err)
            assert option in lines[0] or "exists; pass --overwrite" in lines[0], lines
            assert out.read_text() == "mine"
