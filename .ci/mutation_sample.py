"""A time-boxed random sample of mutation testing of the Python code that computes answers.

Cosmic Ray (a maintained mutation-testing tool) lists every single-operator mutant of each
module below; this script draws a random sample of them (seeded, so a run is repeatable),
applies each to a scratch copy of the package, runs the tests that cover the module, and
counts a mutant killed when they fail. The real tree is never touched, so the sample can run
beside anything. Survivors are printed with their place in the code; the ones known to be
equivalent (no test can tell them apart: see `equivalent.txt` beside this file) are counted
apart.

Usage: python .ci/mutation_sample.py [--seconds 600] [--seed N] [--json OUT]
       python .ci/mutation_sample.py --all --coverage .coverage --jobs 2 --seconds 36000
The second form is the full score: every mutant, each first against the tests that execute
its line (from a suite run with `--cov-context=test`), in warm forked pytest processes
(`mutation_forks.py`; docs/developer/testing.md says how to record the coverage).
Exit status: 0 after reporting; 1 if the unmutated tests fail in the scratch copy (then
no mutant result would mean anything); 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import mutation_forks as forks

ROOT = Path(__file__).resolve().parents[1]
# Module -> the test files that must kill its mutants.
STRICT = "tests/contracts/test_strict_entry_points.py"
AREAS = {
    "laws/data_constrained.py": ["tests/laws/test_data_constrained.py", STRICT],
    "laws/scaling.py": ["tests/laws/test_laws.py", "tests/laws/test_data_constrained.py"],
    "hardware/cost_model.py": [
        "tests/hardware/test_cost_model.py",
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
        "tests/fitting/test_nextrun_edges.py",
        "tests/contracts/test_independent_values.py",
    ],
    # Added 2026-12-07 for the full score: the rest of the laws, optimisers, serving and
    # step-time models and fits.
    "laws/closed_form.py": ["tests/laws/test_laws.py", STRICT],
    "laws/flops.py": ["tests/laws/test_laws.py", "tests/systems/test_steptime.py"],
    "laws/family.py": ["tests/contracts/test_law_families.py", "tests/laws/test_laws.py"],
    "optimal/allocation.py": [
        "tests/optimal/test_allocation.py",
        "tests/optimal/test_allocation_edges.py",
    ],
    "optimal/breakeven.py": ["tests/optimal/test_costs.py"],
    "optimal/constrained.py": [
        "tests/optimal/test_lifetime.py",
        "tests/optimal/test_costs.py",
        "tests/laws/test_data_constrained.py",
    ],
    "optimal/whole_gpu.py": [
        "tests/optimal/test_whole_gpu.py",
        "tests/optimal/test_physical_optimum.py",
    ],
    "optimal/serving_curve.py": [
        "tests/optimal/test_serving_curve.py",
        "tests/optimal/test_physical_optimum.py",
    ],
    "optimal/plan.py": ["tests/optimal/test_plan.py"],
    "systems/replicas.py": [
        "tests/systems/test_replicas.py",
        "tests/systems/test_physical.py",
        "tests/systems/test_deployment.py",
    ],
    "systems/training.py": ["tests/systems/test_training.py"],
    "systems/training_plan.py": [
        "tests/systems/test_training_plan.py",
        "tests/systems/test_training.py",
        "tests/systems/test_physical.py",
    ],
    "systems/steptime.py": [
        "tests/systems/test_steptime.py",
        "tests/systems/test_steptime_edges.py",
    ],
    "systems/steptime_fit.py": [
        "tests/systems/test_steptime.py",
        "tests/systems/test_steptime_fit.py",
    ],
    "systems/serving_fit.py": [
        "tests/systems/test_serving_measurements.py",
        "tests/systems/test_serving_fit.py",
    ],
    "systems/shape_search.py": [
        "tests/systems/test_steptime.py",
        "tests/systems/test_shape_search.py",
    ],
    "fitting/fit.py": ["tests/fitting/test_fit.py", "tests/fitting/test_fit_edges.py"],
    "fitting/bootstrap.py": [
        "tests/fitting/test_fit.py",
        "tests/fitting/test_bootstrap_intervals.py",
    ],
    "fitting/downstream.py": [
        "tests/fitting/test_downstream.py",
        "tests/fitting/test_downstream_record.py",
        "tests/fitting/test_downstream_estimates.py",
    ],
    "fitting/families.py": [
        "tests/fitting/test_families.py",
        "tests/fitting/test_families_edges.py",
    ],
    "fitting/family_comparison.py": [
        "tests/fitting/test_families.py",
        "tests/fitting/test_family_comparison.py",
    ],
    "fitting/likelihood.py": ["tests/fitting/test_likelihood.py"],
    "fitting/likelihood_bootstrap.py": [
        "tests/fitting/test_likelihood.py",
        "tests/fitting/test_likelihood_edges.py",
    ],
}
# Run for every module's mutants, first, in a few seconds: the declared signatures and
# frozen dataclasses (a default, a `*` or `frozen=` changed), and which entry points label
# pandas and xarray results (a `@labelled` removed).
EVERY_MODULE = [
    "tests/contracts/test_signatures.py",
    "tests/contracts/test_labels.py::test_the_list_is_every_labelled_entry_point",
]
PER_MUTANT_SECONDS = 300
BASELINE_SECONDS = 1800  # the unmutated run of every listed file
VERDICT_WORD = {
    "fail": "killed  ",
    "pass": "SURVIVED",
    "timeout": "TIMEOUT ",
    "error": "ERROR   ",
    "unviable": "unviable",
}


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where a module's code for type checkers only is: annotations (under `from
    __future__ import annotations` strings never evaluated), `@overload` declarations
    (replaced by the implementation that follows) and `if TYPE_CHECKING:` blocks. A mutant
    inside one is equivalent by design."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        if _typing_only(node):
            # A def's position is its `def` line; its decorators (`@overload` itself) sit
            # above it.
            first = min([node, *getattr(node, "decorator_list", [])], key=lambda n: n.lineno)
            spans.append(((first.lineno, 0), (node.end_lineno, node.end_col_offset)))
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
    env = {**os.environ, "PYTHONPATH": str(scratch / "python"),
           "SCALEPLAN_HYPOTHESIS_PROFILE": "mutation"}  # fmt: skip
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    try:
        r = subprocess.run(cmd, cwd=scratch, env=env, capture_output=True,
                           timeout=BASELINE_SECONDS)  # fmt: skip
    except subprocess.TimeoutExpired:
        return False
    return r.returncode == 0


def scratch_copy(dest: Path) -> Path:
    """The repository without its build outputs, caches and history (tests read the docs
    and README, so the whole tree goes)."""
    skip = shutil.ignore_patterns(".git", "target", ".venv", "site", ".mypy_cache",
                                  ".hypothesis", "__pycache__", ".coverage*")  # fmt: skip
    shutil.copytree(ROOT, dest, ignore=skip)
    return dest


def key_of(path: str, operator: str, occurrence: int, line: int) -> str:
    """How a mutant is named in the output and the --json file."""
    return f"{path}:{line} {operator} #{occurrence}"


def survivors(results: str) -> set[str]:
    """The mutants an earlier run's --json file records as surviving."""
    rows = json.loads(Path(results).read_text())["results"]
    return {r["mutant"] for r in rows if not r["killed"]}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=600.0, help="time box for the mutants")
    p.add_argument("--seed", type=int, default=None, help="sample seed (default: random)")
    p.add_argument("--json", help="write the results here")
    p.add_argument("--module", choices=sorted(AREAS), action="append",
                   help="sample only these modules (default: every one)")  # fmt: skip
    p.add_argument("--all", action="store_true",
                   help="every mutant, in source order, not a random sample")  # fmt: skip
    p.add_argument("--coverage", help="coverage data with test contexts: pick tests by line")
    p.add_argument("--rerun", help="only the survivors of an earlier run's --json file")
    p.add_argument("--whole", choices=sorted(AREAS), action="append", default=[],
                   help="with --rerun: every mutant of this module (edited since)")  # fmt: skip
    p.add_argument("--widen", action="store_true",
                   help="with --coverage: retry a survivor on its tests' whole files")  # fmt: skip
    p.add_argument("--jobs", type=int, default=1, help="mutants run at once (one per core)")
    p.add_argument("--timeout", type=float, default=PER_MUTANT_SECONDS,
                   help="seconds before a mutant's tests count as hung (killed)")  # fmt: skip
    args = p.parse_args()
    if args.jobs < 1 or args.seconds <= 0 or args.timeout <= 0:
        p.error("--jobs, --seconds and --timeout must be positive")
    return args


def main() -> int:
    args = parse_args()
    areas = {m: EVERY_MODULE + AREAS[m] for m in (args.module or AREAS)}
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    coverage = forks.CoverageMap(args.coverage) if args.coverage else None
    with tempfile.TemporaryDirectory() as tmp:
        home = scratch_copy(Path(tmp) / "home")
        every = [m for mod in areas for m in mutants(home, mod)]
        if not args.all:
            random.Random(seed).shuffle(every)
        if args.rerun:
            keep, whole = survivors(args.rerun), {f"python/scaleplan/{m}" for m in args.whole}
            every = [m for m in every if key_of(*m) in keep or m[0] in whole]
        jobs = forks.plan_jobs(every, areas, coverage, home)
        print(f"seed {seed}: {len(every)} mutants in {len(areas)} modules", flush=True)
        if not tests_pass(home, sorted({t for ts in areas.values() for t in ts})):
            print("the unmutated tests fail in the scratch copy", file=sys.stderr)
            return 1
        scratches = [scratch_copy(Path(tmp) / f"slot{i}") for i in range(args.jobs)]
        results = run(jobs, home, scratches, args)
    summarise(results, seed)
    if args.json:
        Path(args.json).write_text(json.dumps({"seed": seed, "results": results}, indent=1))
    return 0


def run(jobs: list[forks.Job], home: Path, scratches: list[Path], args) -> list[dict]:
    """Every job's result, from a pytest session of `home` that the Server takes over."""
    import pytest
    from mutation_server import Server

    equivalent, results = known_equivalent(), []

    def report(job: forks.Job, verdict: str) -> None:
        key = key_of(job.path, job.operator, job.occurrence, job.line)
        source = (home / job.path).read_text().split("\n")[job.line - 1].strip()
        # A listed line may carry other mutants of the same operator that are not
        # equivalent: only a survivor is excused by the list.
        listed = verdict == "pass" and (job.path, job.operator, source) in equivalent
        results.append({"mutant": key, "verdict": verdict, "killed": verdict == "fail",
                        "equivalent": listed, "stages": job.outcomes,
                        "source": source})  # fmt: skip
        print(f"{VERDICT_WORD[verdict]} {key}", file=sys.__stdout__, flush=True)

    server = Server(jobs, home, scratches, seconds=args.seconds, timeout=args.timeout,
                    report=report, widen=args.widen)  # fmt: skip
    os.chdir(home)
    # Each mutant's property tests run 25 examples (the "mutation" profile in
    # tests/conftest.py), not CI's 1,000: most kills come in the first few, and a
    # survivor runs every example of every test it has.
    os.environ["SCALEPLAN_HYPOTHESIS_PROFILE"] = "mutation"
    sys.path.insert(0, str(home / "python"))
    os.environ["PYTHONPATH"] = str(home / "python")
    # The session's own output (and its terminal writer, which the children inherit) goes
    # to a log; each child points that descriptor at its own log.
    with open(home / "server.log", "w") as log, contextlib.redirect_stdout(log):
        server.quiet_fd = log.fileno()
        pytest.main(["-q", "-n0", "-p", "no:cacheprovider", "tests"], plugins=[server])
    return results


def summarise(results: list[dict], seed: int) -> None:
    scored = [r for r in results if r["verdict"] in ("fail", "pass") and not r["equivalent"]]
    killed = sum(r["killed"] for r in scored)
    other = {v: sum(r["verdict"] == v for r in results) for v in ("timeout", "error", "unviable")}
    print(f"{killed} of {len(scored)} mutants killed "
          f"({100 * killed / max(1, len(scored)):.1f}%); "
          f"{sum(r['equivalent'] for r in results)} known equivalent, "
          f"{other['timeout']} timed out, {other['error']} not run, {other['unviable']} "
          f"unviable (not Python); seed {seed}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
