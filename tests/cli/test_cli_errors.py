"""Every bad input on the command line: one line on stderr, exit status 2, no traceback,
no 0 turned into a default, no inf or nan printed as an answer (issue 11, part 3).

Commands run in this process (tests/inprocess.py, which writes a warning to stderr as a
process would); what needs a process of its own (an environment without matplotlib, a
closed pipe, SIGINT) runs `python -m scaleplan.cli`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from inprocess import run_cli

from scaleplan import cli
from scaleplan.cli.parser import Parser

EXE = [sys.executable, "-m", "scaleplan.cli"]


def run(*args: str) -> subprocess.CompletedProcess:
    return run_cli(args)


def run_process(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*EXE, *args], capture_output=True, text=True, timeout=300, **kwargs)


def one_line_error(r: subprocess.CompletedProcess, message: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        # A 0 once silently became the default (a 7B plan, a 13B target, no time budget).
        (["plan", "--as-good-as", "0"], "argument --as-good-as: must be a finite number > 0"),
        (["compute-optimal", "--chinchilla-params", "0"], "--chinchilla-params: must be"),
        (["step-time", "--d-model", "512", "--n-layers", "4", "--hours", "0"], "--hours: must"),
        # Once printed inf and nan with exit 0.
        (["plan", "--requests-per-day", "1e300"], "--requests-per-day"),
        (["plan", "--requests-per-day", "1e300", "--json"], "--requests-per-day"),
        # Once printed an empty table.
        (["best-shapes", "--hours", "1", "--max-params=-1"], "--max-params: must be"),
        # Once an internal message about smaller_params.
        (["plan", "--requests-per-day", "0"], "argument --requests-per-day: must be"),
        # Once a 0.005-parameter model.
        (["best-quality", "--budget", "1e10", "--inference-tokens", "1e12"], "too small"),
        (["compute-optimal", "--loss", "1e400"], "--loss: must be a finite number"),
        (["fit", "--dataset", "sardana2024", "--bootstrap", "1"], "--bootstrap must be"),
        (["step-time", "--d-model", "99999999999999999999", "--n-layers", "2"], "--d-model"),
    ],
)
def test_bad_values_are_one_line(args, message):
    one_line_error(run(*args), message)


def test_messages_name_options_not_python_arguments():
    r = run("cost-optimal", "--inference-precision", "fp8")
    one_line_error(r, "a100-40gb has no 'fp8' peak")
    r = run("chinchilla", "--loss", "1.5")
    one_line_error(r, "--loss must be")
    assert "at index 0" not in r.stderr


def test_files_that_cannot_be_written(tmp_path):
    existing = tmp_path / "file.txt"
    existing.write_text("x")
    one_line_error(run("reproduce", "--out", str(existing)), "File exists")
    one_line_error(
        run("sweep", str(existing / "s.zarr"), "--loss", "2", "--inference-tokens", "1e9"),
        "Not a directory",
    )


def test_reproduce_without_matplotlib(tmp_path):
    fake = tmp_path / "matplotlib"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        "raise ImportError(\"No module named 'matplotlib'\", name='matplotlib')\n"
    )
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    one_line_error(
        run_process("reproduce", "--out", str(tmp_path / "out"), env=env),
        "pip install 'scaleplan[plot]'",
    )


def test_a_closed_pipe_is_not_an_error():
    r = subprocess.run(
        f"{sys.executable} -m scaleplan.cli best-shapes --hours 1 | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.stdout.startswith("Best of") and r.stderr == ""


def test_ctrl_c_is_one_line():
    p = subprocess.Popen(
        [*EXE, "fit", "--dataset", "chinchilla", "--bootstrap", "4000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # As at a terminal: a runner started in the background by a non-interactive shell
        # passes SIGINT down ignored, and Python then leaves it ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    # Interrupt once the fit is under way: after 2 s of the child's CPU time (its imports
    # take about 1 s), measured rather than slept, so a loaded machine cannot make the
    # signal land during the imports.
    ticks = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + 120
    while p.poll() is None and time.monotonic() < deadline:
        with open(f"/proc/{p.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        if (int(fields[11]) + int(fields[12])) / ticks >= 2.0:
            break
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert err.strip() == "scaleplan fit: interrupted" and out == ""


def test_fit_errors_are_one_line(tmp_path):
    rising = tmp_path / "rising.csv"
    rows = [
        f"{n:g},{20 * n:g},{2.0 + 0.1 * i}"
        for i, n in enumerate([1e7, 3e7, 1e8, 3e8, 1e9, 3e9, 1e10])
    ]
    rising.write_text("params,tokens,loss\n" + "\n".join(rows) + "\n")
    one_line_error(run("fit", str(rising)), "not a valid scaling law")


def _csv(tmp_path, text: str, name: str = "runs.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return str(path)


def test_bad_csv_files_are_one_line(tmp_path):
    good = [f"{1e8 * 2**i:g},{2e9 * 3**i:g},{3.0 - 0.1 * i}" for i in range(8)]
    dup = _csv(tmp_path, "params,tokens,loss,loss\n" + "\n".join(g + ",1" for g in good))
    one_line_error(run("fit", dup), "column 'loss' appears 2 times")
    huge_field = _csv(tmp_path, "params,tokens,loss\n" + '"' + "9" * 200_000 + '",1,2\n')
    one_line_error(run("fit", huge_field), "field larger than field limit")
    long_line = _csv(tmp_path, "params,tokens,loss\n" + "1," * 2_000_000 + "\n")
    one_line_error(run("fit", long_line), "longer than 1048576 characters")
    one_line_error(run("fit", _csv(tmp_path, "")), "is empty")
    one_line_error(run("fit", _csv(tmp_path, "\xff\xfe", encoding="latin-1")), "not UTF-8")
    one_line_error(run("fit", str(tmp_path / "missing.csv")), "cannot read")


def test_a_byte_order_mark_does_not_break_the_header(tmp_path):
    lines = [f"{1e8 * 2**i:g},{2e9 * 3**i:g},{3.0 - 0.1 * i + 0.01 * (-1) ** i}" for i in range(8)]
    path = _csv(tmp_path, "\ufeffparams,tokens,loss\n" + "\n".join(lines) + "\n")
    r = run("fit", path, "--json")
    assert r.returncode in (0, 2) and "column 'params' not in" not in r.stderr, r.stderr


def _all_json(value):
    return json.loads(value, parse_constant=lambda c: pytest.fail(f"non-strict JSON: {c}"))


@pytest.mark.parametrize(
    "args",
    [
        ["plan"],
        ["compute-optimal", "--inference-tokens", "0"],
        ["cost-optimal", "--requests", "0"],
        ["chinchilla", "--params", "7e9"],
        ["best-quality", "--budget", "1e23", "--inference-tokens", "0"],
        ["hardware"],
        ["presets"],
        ["step-time", "--d-model", "512", "--n-layers", "4", "--hours", "1"],
    ],
)
def test_json_is_strict(args):
    r = run(*args, "--json")
    assert r.returncode == 0, r.stderr
    _all_json(r.stdout)


def test_every_subcommand_and_option_is_described():
    parser = cli.build_parser()
    subs = parser._subparsers._group_actions[0].choices
    assert set(subs) >= {"plan", "fit", "sweep", "reproduce", "best-shapes"}
    for name, sub in subs.items():
        assert sub.description, name
        for action in sub._actions:
            if action.dest != "help":
                assert action.help, (name, action.dest)
    text = subs["plan"].format_help()
    assert "(default: 1e7)" in text  # defaults are shown, as one would type them
    assert "sardana2024_all" in text  # --law lists the presets
    assert isinstance(parser, Parser)
