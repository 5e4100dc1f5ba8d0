"""The documentation's examples run as written: the README and every page under docs/.

Each check runs over every page, with ids `PAGE:LINE` (the line of the block's opening fence,
or of the command): `python` blocks run as scripts, the `scaleplan ...` lines of `bash` blocks
succeed, `$ scaleplan ...` session blocks print what they show, line by line, the Approach 3
fit table is what `fit_law` gives, and the command-line reference is what
docs/gen_cli_reference.py writes.

Commands run as written, in this process: the same argv through the console script's
entry point (`scaleplan.cli.main`, tests/inprocess.py), each distinct argv once a test
process (a command both shown in a session and listed in a bash block runs once). The
console script as a program is tested by tests/cli/test_cli.py.
"""

import importlib.util
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from inprocess import FAMILIES_GROUP, run_cli_once

ROOT = Path(__file__).resolve().parents[2]
PAGES = {
    p.relative_to(ROOT).as_posix(): p.read_text()
    for p in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
}


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def blocks(lang: str) -> list[tuple[str, int, str]]:
    """(page, line of the opening fence, body) of every ```lang block of every page."""
    found = []
    for page, text in PAGES.items():
        for m in re.finditer(rf"^```{lang}\n(.*?)^```", text, flags=re.S | re.M):
            found.append((page, _line(text, m.start()), m.group(1)))
    return found


def _params(items, values, marks=lambda item: ()):
    return [
        pytest.param(*values(item), id=f"{item[0]}:{item[1]}", marks=marks(item)) for item in items
    ]


# The Dask page starts LocalClusters: with the cluster tests, on one xdist worker.
DASK_CLUSTER = pytest.mark.xdist_group("dask_cluster")


def _group(page: str, command: str = "") -> tuple[pytest.MarkDecorator, ...]:
    """The xdist group of a page's example: `reproduce` and `families` share the law-family
    comparison computed once (tests/inprocess.py); the Dask page's clusters run alone."""
    if command.split()[1:2] in (["reproduce"], ["families"]):
        return (FAMILIES_GROUP,)
    return (DASK_CLUSTER,) if page == "docs/guide/dask.md" else ()


def test_the_pages_are_found():
    # The checks must not silently cover nothing if the layout or the fences change.
    assert "README.md" in PAGES and "docs/index.md" in PAGES and "docs/design.md" in PAGES
    assert len(blocks("python")) >= 10
    assert {page for page, _, _ in blocks("python")} >= {"README.md", "docs/guide/serving.md"}


@pytest.mark.timeout(900)  # hang guard; CI traces every command with coverage
@pytest.mark.parametrize(
    "page, line, code", _params(blocks("python"), lambda b: b, lambda b: _group(b[0]))
)
def test_python_examples_run(page, line, code, tmp_path, monkeypatch):
    # In a scratch folder (an example writes a sweep), run as a script would be; the padding
    # makes a traceback name the page's own line.
    monkeypatch.chdir(tmp_path)
    exec(compile("\n" * line + code, page, "exec"), {"__name__": "__main__"})


def scaleplan_commands() -> list[tuple[str, int, str]]:
    """(page, line, command) of each `scaleplan ...` line of a bash block, each command
    once (the first page that shows it)."""
    commands, seen = [], set()
    for page, start, block in blocks("bash"):
        lines = block.split("\n")
        i = 0
        while i < len(lines):
            first, full = i, lines[i]
            while full.endswith("\\") and i + 1 < len(lines):  # a continued line
                i += 1
                full = full[:-1] + " " + lines[i]
            i += 1
            command = full.split("#")[0].strip()
            if command.startswith("scaleplan ") and command not in seen:
                seen.add(command)
                commands.append((page, start + 1 + first, command))
    return commands


@pytest.fixture
def as_written(tmp_path_factory, families_computed_once):
    """Runs a page's `scaleplan ...` command line, each distinct argv once in this process,
    in a scratch folder of its own (`reproduce` writes files where it is run)."""

    def run(command: str) -> subprocess.CompletedProcess[str]:
        argv = tuple(shlex.split(command))
        assert argv[0] == "scaleplan", command
        return run_cli_once(argv[1:], tmp_path_factory)[0]

    return run


@pytest.mark.timeout(900)  # hang guard, as for the Python examples
@pytest.mark.parametrize(
    "command",
    _params(scaleplan_commands(), lambda c: (c[2],), lambda c: _group(c[0], c[2])),
)
def test_cli_examples_run(command, as_written):
    r = as_written(command)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()


def shown_sessions() -> list[tuple[str, int, str, str]]:
    """The unlabelled blocks that show a command and what it prints: `$ scaleplan ...` on
    the first line, its output after it. (page, line, command, output)."""
    sessions = []
    for page, text in PAGES.items():
        for m in re.finditer(r"^```\n(\$ scaleplan .*?)^```", text, flags=re.S | re.M):
            command, _, output = m.group(1).partition("\n")
            sessions.append((page, _line(text, m.start()), command[2:], output))
    return sessions


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip().splitlines()]


def test_the_pages_show_their_sessions():
    # The README shows `scaleplan compute-optimal`, the command-line guide `scaleplan plan`
    # too: the check must not silently cover none if the fences change.
    pages = [page for page, _, _, _ in shown_sessions()]
    assert "README.md" in pages
    assert len(pages) >= 2


@pytest.mark.parametrize(
    "command, output",
    _params(shown_sessions(), lambda s: s[2:], lambda s: _group(s[0], s[2])),
)
def test_cli_sessions_print_what_the_pages_show(command, output, as_written):
    # Every printed line, not only the exit status: the pages' tables are this output.
    r = as_written(command)
    assert r.returncode == 0, r.stderr
    assert _lines(r.stdout) == _lines(output)


FIT_TABLE = "| data set | alpha | beta | A | B | E | objective |"


def _fit_table_rows() -> dict[str, list[str]]:
    """The Approach 3 fit table, on whichever page holds it: label -> the cells after it,
    each 'printed / ours'."""
    holders = [text for text in PAGES.values() if FIT_TABLE in text]
    assert len(holders) == 1, "the fit table should be on exactly one page"
    table = holders[0][holders[0].index(FIT_TABLE) :]
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
def test_fit_table_is_what_fit_law_gives(limit, label):
    import scaleplan as sp

    row = next(v for k, v in _fit_table_rows().items() if k.startswith(label) or label in k)
    fit = sp.fit_law(sp.datasets.sardana2024_runs(limit))
    law = fit.law
    ours = [c.split("/")[1].strip() for c in row]
    for printed, value in zip(ours[:5], (law.alpha, law.beta, law.A, law.B, law.E), strict=True):
        assert _agrees(printed, value), (label, printed, value)
    assert _agrees(ours[5], fit.objective), (label, ours[5], fit.objective)


def test_cli_reference_is_current(monkeypatch):
    # The page is every command's --help, written by docs/gen_cli_reference.py; regenerate
    # it after changing an option (`python docs/gen_cli_reference.py`).
    spec = importlib.util.spec_from_file_location("gen", ROOT / "docs" / "gen_cli_reference.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    page = gen.PAGE.read_text()
    written_by = re.search(r"argparse of Python (\d+\.\d+)", page)
    assert written_by, "the page should name the Python that wrote it"
    if written_by.group(1) != gen._python():
        # argparse's layout changes between Python versions (e.g. 3.13's option metavars).
        pytest.skip(f"the page was written by Python {written_by.group(1)}, not {gen._python()}")
    monkeypatch.setenv("COLUMNS", gen.WIDTH)  # restored after the test
    stale = "docs/guide/cli-reference.md is stale: run python docs/gen_cli_reference.py"
    assert gen.render() == page, stale


def test_serving_validation_page_is_current():
    # Every published row with each engine profile's prediction, written by
    # docs/gen_serving_validation.py; regenerate it after changing a profile or the data.
    path = ROOT / "docs" / "gen_serving_validation.py"
    spec = importlib.util.spec_from_file_location("gen_validation", path)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    stale = "docs/guide/serving-validation.md is stale: run python docs/gen_serving_validation.py"
    assert gen.render() == gen.PAGE.read_text(), stale
    # One line per predicted quantity: the rows the serving guide's figures count.
    assert (
        gen.PAGE.read_text().count("\n| TRTLLM-") + gen.PAGE.read_text().count("\n| MLPERF") >= 1075
    )
