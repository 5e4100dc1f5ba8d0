"""The README's examples run as written."""

import re
import shlex
import subprocess
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


@pytest.mark.timeout(900)  # hang guard; CI traces every command with coverage
@pytest.mark.parametrize("index", range(len(blocks("python"))))
def test_python_examples_run(index, tmp_path, monkeypatch):
    # In a scratch folder (an example writes a sweep), run as a script would be.
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks("python")[index], "README.md", "exec"), {"__name__": "__main__"})


def scaleplan_commands() -> list[str]:
    commands = []
    for block in blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("#")[0].strip()
            if line.startswith("scaleplan "):
                commands.append(line)
    return commands


@pytest.mark.parametrize("command", scaleplan_commands())
def test_cli_examples_run(command, tmp_path):
    # In a scratch folder: `reproduce` writes files where it is run.
    r = subprocess.run(
        shlex.split(command), capture_output=True, text=True, timeout=600, cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()


def shown_sessions() -> list[tuple[str, str]]:
    """The README's unlabelled blocks that show a command and what it prints:
    `$ scaleplan ...` on the first line, its output after it."""
    sessions = []
    for body in re.findall(r"```\n(\$ scaleplan .*?)```", README, flags=re.S):
        command, _, output = body.partition("\n")
        sessions.append((command[2:], output))
    return sessions


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip().splitlines()]


def test_the_readme_shows_its_sessions():
    # Two today (`scaleplan plan` and `scaleplan compute-optimal`): the check must not
    # silently cover none if the fences change.
    assert len(shown_sessions()) >= 2


@pytest.mark.parametrize("command, output", shown_sessions())
def test_cli_sessions_print_what_the_readme_shows(command, output, tmp_path):
    # Every printed line, not only the exit status: the README's tables are this output.
    r = subprocess.run(
        shlex.split(command), capture_output=True, text=True, timeout=600, cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert _lines(r.stdout) == _lines(output)


def _fit_table_rows() -> dict[str, list[str]]:
    """The README's fit table: label -> the cells after it, each 'printed / ours'."""
    table = README[README.index("| data set | alpha | beta | A | B | E | objective |") :]
    rows = {}
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


def _agrees(printed: str, value: float) -> bool:
    """`value` rounds to `printed`, to as many digits as printed (plain or 1.234e-4)."""
    mantissa, _, exponent = printed.partition("e")
    scale = 10.0 ** int(exponent or 0)
    digits = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return round(value / scale, digits) == float(mantissa)


@pytest.mark.parametrize(
    "limit, label", [(100, "<= 100"), (250, "<= 250"), (500, "<= 500"), (None, "all (47)")]
)
def test_readme_fit_table_is_what_fit_law_gives(limit, label):
    import scaleplan as sp

    row = next(v for k, v in _fit_table_rows().items() if k.startswith(label) or label in k)
    fit = sp.fit_law(sp.datasets.sardana2024_runs(limit))
    law = fit.law
    ours = [c.split("/")[1].strip() for c in row]
    for printed, value in zip(ours[:5], (law.alpha, law.beta, law.A, law.B, law.E), strict=True):
        assert _agrees(printed, value), (label, printed, value)
    assert _agrees(ours[5], fit.objective), (label, ours[5], fit.objective)
