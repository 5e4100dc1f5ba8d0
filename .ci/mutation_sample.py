"""A time-boxed random sample of mutation testing of the Python code that computes answers.

Cosmic Ray (a maintained mutation-testing tool) lists every single-operator mutant of each
module below; this script draws a random sample of them (seeded, so a run is repeatable),
applies each to a scratch copy of the package, runs the tests that cover the module, and
counts a mutant killed when they fail. The real tree is never touched, so the sample can run
beside anything. Survivors are printed with their place in the code; the ones known to be
equivalent (no test can tell them apart: see `equivalent.txt` beside this file) are counted
apart.

Usage: python .ci/mutation_sample.py [--seconds 600] [--seed N] [--json OUT]
Exit status: 0 after reporting; 1 if the unmutated tests fail in the scratch copy (then
no mutant result would mean anything); 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Module -> the test files that must kill its mutants.
STRICT = "tests/contracts/test_strict_entry_points.py"
AREAS = {
    "laws/data_constrained.py": ["tests/laws/test_data_constrained.py", STRICT],
    "laws/scaling.py": ["tests/laws/test_laws.py"],
    "hardware/cost_model.py": [
        "tests/optimal/test_costs.py",
        "tests/contracts/test_independent_values.py",
    ],
    "optimal/costs.py": [
        "tests/optimal/test_costs.py",
        "tests/contracts/test_independent_values.py",
        "tests/contracts/test_no_silent_lies.py",
    ],
    "optimal/lifetime_cost.py": [
        "tests/optimal/test_costs.py",
        "tests/contracts/test_independent_values.py",
        "tests/contracts/test_no_silent_lies.py",
    ],
    "optimal/lifetime.py": ["tests/optimal/test_lifetime.py"],
    "optimal/budgets.py": ["tests/optimal/test_costs.py", "tests/optimal/test_lifetime.py"],
    "optimal/physical_optimum.py": ["tests/optimal/test_physical_optimum.py"],
    "systems/serving.py": ["tests/systems/test_serving.py"],
    "systems/physical.py": [
        "tests/systems/test_physical.py",
        "tests/systems/test_deployment.py",
        STRICT,
    ],
    "systems/deployment.py": ["tests/systems/test_deployment.py", STRICT],
    "optimal/implied.py": ["tests/optimal/test_implied.py", STRICT],
    "optimal/data_constrained.py": ["tests/laws/test_data_constrained.py", STRICT],
    "fitting/isoflop.py": [
        "tests/fitting/test_isoflop.py",
        "tests/contracts/test_independent_values.py",
        STRICT,
    ],
    "fitting/nextrun.py": [
        "tests/fitting/test_nextrun.py",
        "tests/contracts/test_independent_values.py",
    ],
}
PER_MUTANT_SECONDS = 300


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where a module's code for type checkers only is: annotations (under `from
    __future__ import annotations` strings never evaluated), `@overload` declarations
    (replaced by the implementation that follows) and `if TYPE_CHECKING:` blocks. A mutant
    inside one is equivalent by design."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        if _typing_only(node):
            spans.append(((node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)))
            continue
        notes = []
        if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            notes.append(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns:
            notes.append(node.returns)
        spans += [((a.lineno, a.col_offset), (a.end_lineno, a.end_col_offset)) for a in notes]
    return spans


def _typing_only(node: ast.AST) -> bool:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return any(getattr(d, "id", getattr(d, "attr", None)) == "overload"
                   for d in node.decorator_list)  # fmt: skip
    return isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"


def mutants(scratch: Path, module: str) -> list[tuple[str, str, int, int]]:
    """(module path, operator, occurrence, line) of every mutant Cosmic Ray makes outside
    type annotations."""
    config = scratch / "cr.toml"
    config.write_text(
        f'[cosmic-ray]\nmodule-path = "python/scaleplan/{module}"\ntimeout = 60.0\n'
        'excluded-modules = []\ntest-command = "true"\n'
        '[cosmic-ray.distributor]\nname = "local"\n'
    )
    session = scratch / f"{module.replace('/', '.')}.sqlite"
    run = dict(cwd=scratch, capture_output=True, text=True, check=True)
    subprocess.run(["cosmic-ray", "init", str(config), str(session)], **run)
    out = subprocess.run(["cosmic-ray", "dump", str(session)], **run).stdout
    spans = annotation_spans((scratch / "python" / "scaleplan" / module).read_text())
    found = []
    for line in out.splitlines():
        for m in json.loads(line)[0]["mutations"]:
            at = tuple(m["start_pos"])
            if any(lo <= at < hi for lo, hi in spans):
                continue
            found.append((m["module_path"], m["operator_name"], m["occurrence"], at[0]))
    return found


def known_equivalent() -> set[tuple[str, str, str]]:
    """(path, operator, stripped source line) of each mutant listed in equivalent.txt."""
    entries = set()
    for line in (ROOT / ".ci" / "equivalent.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            path, operator, source = (part.strip() for part in line.split(" | ", 2))
            entries.add((path, operator, source))
    return entries


def tests_pass(scratch: Path, tests: list[str]) -> bool:
    env = {**os.environ, "PYTHONPATH": str(scratch / "python")}
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    try:
        r = subprocess.run(cmd, cwd=scratch, env=env, capture_output=True,
                           timeout=PER_MUTANT_SECONDS)  # fmt: skip
    except subprocess.TimeoutExpired:
        return False  # a mutant that makes the tests hang is caught
    return r.returncode == 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=600.0, help="time box for the mutants")
    p.add_argument("--seed", type=int, default=None, help="sample seed (default: random)")
    p.add_argument("--json", help="write the results here")
    p.add_argument("--module", choices=sorted(AREAS), action="append",
                   help="sample only these modules (default: every one)")  # fmt: skip
    args = p.parse_args()
    areas = {m: AREAS[m] for m in args.module} if args.module else AREAS
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    equivalent = known_equivalent()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        shutil.copytree(ROOT / "python", scratch / "python")
        shutil.copytree(ROOT / "tests", scratch / "tests")
        shutil.copy(ROOT / "pyproject.toml", scratch / "pyproject.toml")
        every = [(m, areas[mod]) for mod in areas for m in mutants(scratch, mod)]
        random.Random(seed).shuffle(every)
        print(f"seed {seed}: {len(every)} mutants in {len(areas)} modules", flush=True)
        if not tests_pass(scratch, sorted({t for ts in areas.values() for t in ts})):
            print("the unmutated tests fail in the scratch copy", file=sys.stderr)
            return 1
        results, start = [], time.monotonic()
        for (path, operator, occurrence, line), tests in every:
            if time.monotonic() - start > args.seconds:
                break
            source = scratch / path
            original = source.read_text()
            subprocess.run(["cosmic-ray", "apply", path, operator, str(occurrence)],
                           cwd=scratch, capture_output=True, check=True)  # fmt: skip
            killed = not tests_pass(scratch, tests)
            source.write_text(original)
            key = f"{path}:{line} {operator} #{occurrence}"
            # A listed line may carry other mutants of the same operator that are not
            # equivalent: only a survivor is excused by the list.
            same = (path, operator, original.split("\n")[line - 1].strip()) in equivalent
            results.append({"mutant": key, "killed": killed, "equivalent": same and not killed})
            print(("killed   " if killed else "SURVIVED ") + key, flush=True)
    tried = [r for r in results if not r["equivalent"]]
    killed = sum(r["killed"] for r in tried)
    print(f"{killed} of {len(tried)} sampled mutants killed "
          f"({100 * killed / max(1, len(tried)):.0f}%); "
          f"{len(results) - len(tried)} known equivalent; seed {seed}")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps({"seed": seed, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
