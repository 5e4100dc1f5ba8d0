"""Run many mutants fast: tests chosen by the lines they execute, mutants patched warm.

Used by `mutation_sample.py`. A mutant run used to cost a pytest start (imports, then
collecting the test files: 5-10 s) plus every test of its module's files. Here:

- **Which tests.** A suite run under `pytest-cov --cov-context=test` records, for every
  line, the tests that executed it (`CoverageMap`). A line run while fixtures were set
  up counts for its whole test file (a module-scoped fixture runs in the first test that
  asks and is read by the rest).
- **Stage 1, warm.** This process collects the whole suite once (`Server`, a pytest
  plugin that takes over the run loop) and forks a child per mutant; the child swaps the
  mutated function's code in place (`mutation_patch.py`) and runs the line's tests that
  are quick (not the command lines run as processes, the plots, Dask, the documentation
  and the fuzzers: `HEAVY`), stopping at the first failure.
- **Stage 2, cold.** A line run at import (module and class bodies, decorators, default
  values), one no test context recorded, or a function the patch cannot reach, runs the
  plain way: the mutant written into a scratch copy and `pytest` started on the module's
  listed test files and the line's tests (for a line run at import, the tests of the
  function or class that reads it: `import_time_owners`). With `--widen`, every stage-1
  survivor is retried here on all of its line's tests, the heavy ones included, so a survivor is one
  the whole selection misses.

What coverage cannot see (a result cached by one test and read by another; a test that
runs the command line in a child process, which reads the unmutated file in stage 1) can
only make a mutant look like a survivor, never like a kill. A child that outlives the
time limit is killed with its process group and reported as a timeout, apart from kills
and survivors.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

PYTEST_FLAGS = ["-x", "-q", "-n0", "-p", "no:cacheprovider"]
HEAVY = ("tests/cli/", "tests/plot/", "tests/dask/", "tests/contracts/test_docs",
         "tests/contracts/test_docstring_examples", "tests/contracts/test_fuzz")  # fmt: skip
UNPATCHABLE = 77  # a child's exit status: stage 1 could not place the mutant


@dataclass
class Job:
    """One mutant and the tests for each stage."""

    path: str  # python/scaleplan/...
    operator: str
    occurrence: int
    line: int
    quick: list[str]  # stage 1: node ids ([]: straight to stage 2)
    wide: list[str]  # stage 2: node ids and test files
    stage: int = 1
    started: float = 0.0
    timed_out: bool = False
    outcomes: list[str] = field(default_factory=list)


def runtime_lines(source: str) -> set[int]:
    """Lines inside function bodies: executed when called, not when the module is
    imported."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for stmt in node.body:
                lines.update(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))
    return lines


def import_time_owners(source: str) -> dict[int, set[int]]:
    """For a line run at import that only matters through a function (its decorators,
    defaults and signature) or a class (a field, a class attribute, a method's
    decorator), the body lines whose tests would see it changed: a `@property` removed is
    seen by the tests that read the property."""
    owners: dict[int, set[int]] = defaultdict(set)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            defaults = [d for d in [*node.args.defaults, *node.args.kw_defaults] if d is not None]
            parts, defs = [*node.decorator_list, *defaults], [node]
        elif isinstance(node, ast.ClassDef):
            parts = [*node.decorator_list, *node.body]
            defs = [
                n for n in ast.walk(node) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
        else:
            continue
        body = {line for d in defs for stmt in d.body for line in _span(stmt)}
        for part in parts:
            for line in _span(part):
                owners[line] |= body
    return owners


def _span(node: ast.AST) -> range:
    return range(node.lineno, (node.end_lineno or node.lineno) + 1)


def node_of(context: str) -> tuple[str, str]:
    """(node id, phase) of a test context `nodeid|phase`."""
    node, _, phase = context.rpartition("|")
    return without_group(node), phase


def without_group(node: str) -> str:
    """tests/conftest.py appends a test's xdist group to its id as "@group"; pytest finds
    the test only without it."""
    return re.sub(r"@[\w-]+$", "", node)


class CoverageMap:
    """For each module line, the node ids of the tests that executed it."""

    def __init__(self, data_file: str) -> None:
        from coverage import CoverageData

        self._data = CoverageData(data_file)
        self._data.read()
        self._by_suffix = {}
        for name in self._data.measured_files():
            parts = Path(name).parts
            if "scaleplan" in parts:
                rel = "/".join(parts[len(parts) - parts[::-1].index("scaleplan") :])
                self._by_suffix[rel] = name
        self._files: dict[str, set[str]] = defaultdict(set)  # test file -> its node ids
        for context in self._data.measured_contexts():
            node = node_of(context)[0]
            if "::" in node:
                self._files[node.split("::", 1)[0]].add(node)

    def tests(self, module: str) -> dict[int, set[str]]:
        """line -> node ids for `module` (its path under the package)."""
        name = self._by_suffix.get(module)
        if name is None:
            return {}
        by_line: dict[int, set[str]] = defaultdict(set)
        for line, contexts in self._data.contexts_by_lineno(name).items():
            for context in contexts:
                node, phase = node_of(context)
                if "::" in node:
                    by_line[line].add(node)
                    if phase == "setup":
                        by_line[line] |= self._files[node.split("::", 1)[0]]
        return by_line


def ordered(nodes: set[str], listed: list[str]) -> list[str]:
    """The module's listed test files first, heavy ones last: `-x` stops at the first
    failure."""
    return sorted(nodes, key=lambda n: (n.split("::")[0] not in listed, n.startswith(HEAVY), n))


def plan_jobs(mutants, areas, coverage: CoverageMap | None, root: Path) -> list[Job]:
    """A Job per (path, operator, occurrence, line) mutant of the modules in `areas`."""
    cache: dict[str, tuple[dict[int, set[str]], set[int], dict[int, set[int]]]] = {}
    jobs = []
    for path, operator, occurrence, line in mutants:
        module = path.split("python/scaleplan/", 1)[1]
        listed = list(areas.get(module, []))
        nodes: list[str] = []
        at_import = False
        if coverage is not None:
            if module not in cache:
                source = (root / path).read_text()
                cache[module] = (coverage.tests(module), runtime_lines(source),
                                 import_time_owners(source))  # fmt: skip
            by_line, runtime, owners = cache[module]
            if line in runtime:
                nodes = ordered(by_line.get(line, set()), listed)
            else:
                # Runs at import: stage 2 only, on the tests of the code that reads it.
                at_import = True
                users = {n for body in owners.get(line, ()) for n in by_line.get(body, ())}
                nodes = ordered({n for n in users if not n.startswith(HEAVY)}, listed)
        quick = [] if at_import else [n for n in nodes if not n.startswith(HEAVY)]
        wide = listed + [n for n in nodes if n.split("::")[0] not in listed]
        jobs.append(Job(path, operator, occurrence, line, quick, wide, 1 if quick else 2))
    return jobs
