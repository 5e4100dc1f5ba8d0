"""The public API is declared once and seen the same by Python, `dir` and type checkers."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import scaleplan

ROOT = Path(__file__).resolve().parents[1]
INIT = Path(scaleplan.__file__)


def test_dir_lists_every_public_name_and_nothing_else():
    assert dir(scaleplan) == sorted(scaleplan.__all__)
    assert len(set(scaleplan.__all__)) == len(scaleplan.__all__)


def test_every_public_name_resolves():
    missing = [n for n in scaleplan.__all__ if getattr(scaleplan, n, None) is None]
    assert not missing


def _type_checking_names() -> dict[str, str]:
    """name -> module of every import under `if TYPE_CHECKING:` in the package init."""
    found = {}
    for node in ast.parse(INIT.read_text()).body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom)
                for alias in imp.names:
                    found[alias.name] = f"scaleplan.{imp.module}" if imp.module else alias.name
    return found


def test_lazy_names_are_the_ones_type_checkers_are_told_of():
    told = _type_checking_names()
    lazy = {name: module for name, module in scaleplan._LAZY.items()}
    assert {k: v for k, v in told.items() if k != "datasets"} == lazy
    assert "datasets" in told


def test_names_the_readme_imports_from_submodules_are_public():
    """The README may teach `from scaleplan.x import y`; y must then be in `scaleplan`
    too, so that no public name is reachable only through a submodule."""
    text = (ROOT / "README.md").read_text()
    taught = set()
    for module, names in re.findall(r"^from scaleplan\.([\w.]+) import ([\w, ]+)$", text, re.M):
        taught |= {(module, n.strip()) for n in names.split(",")}
    # Not planner API: the serving fit's calibration set (a table of the fit's inputs).
    exempt = {("serving_fit", "MODELS")}
    assert taught, "the README's imports were not found: the pattern is stale"
    hidden = sorted(f"{m}.{n}" for m, n in taught - exempt if n not in scaleplan.__all__)
    assert not hidden


def test_the_readme_calls_have_real_return_types():
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         str(ROOT / "tests" / "typing" / "readme_calls.py")],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    ).stdout  # fmt: skip
    revealed = re.findall(r'Revealed type is "([^"]+)"', out)
    assert revealed[:6] == [
        "scaleplan.lifetime.LifetimeOptimum",
        "scaleplan.data_constrained.ConstrainedOptimum",
        "scaleplan.costs.CostOptimum",
        "scaleplan.budgets.BestQuality",
        "scaleplan.physical_optimum.PhysicalOptimum",
        "scaleplan.laws.ChinchillaModel",
    ], out
    assert revealed[6].startswith("def (") and revealed[6].endswith("-> scaleplan.fit.FitResult"), (
        out
    )
    assert '"LifetimeOptimum" has no attribute "parmas"' in out, out
    assert out.count("error:") == 1, out
