"""The public API is declared once and seen the same by Python, `dir` and type checkers."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import scaleplan

ROOT = Path(__file__).resolve().parents[2]
INIT = Path(scaleplan.__file__)


def test_dir_lists_every_public_name_and_nothing_else():
    assert dir(scaleplan) == sorted(scaleplan.__all__)
    assert len(set(scaleplan.__all__)) == len(scaleplan.__all__)


def test_every_public_name_resolves():
    missing = [n for n in scaleplan.__all__ if getattr(scaleplan, n, None) is None]
    assert not missing


def _type_checking_names(init: Path) -> dict[str, str]:
    """name -> module of every import under `if TYPE_CHECKING:` in a package init."""
    found = {}
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom)
                for alias in imp.names:
                    found[alias.name] = imp.module or alias.name
    return found


def test_lazy_names_are_the_ones_type_checkers_are_told_of():
    from scaleplan import fitting

    told = _type_checking_names(Path(fitting.__file__))
    assert {k: v for k, v in told.items() if k != "datasets"} == fitting.LAZY
    assert set(told) == set(fitting.__all__)
    # The package init tells type checkers of every subpackage's names by one star import
    # each, and of no other: the names its __getattr__ serves.
    stars = sorted(
        imp.module
        for node in ast.parse(INIT.read_text()).body
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
        for imp in node.body
        if isinstance(imp, ast.ImportFrom) and [a.name for a in imp.names] == ["*"]
    )
    assert stars == sorted(scaleplan._HOMES)


SUBPACKAGES = ("arch", "fitting", "hardware", "laws", "optimal", "systems")


def test_the_top_level_api_is_the_union_of_the_subpackages():
    import importlib

    union = {"ScaleplanError", "__version__"}
    for name in SUBPACKAGES:
        declared = importlib.import_module(f"scaleplan.{name}").__all__
        assert not union & set(declared), name
        union |= set(declared)
    assert set(scaleplan.__all__) == union
    # Importing the package loads no fitting module (SciPy stays unloaded).
    out = subprocess.run(
        [sys.executable, "-c", "import sys, scaleplan; "
         "print(sorted(m for m in sys.modules if m.startswith('scaleplan.fitting.')))"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.stdout.strip() == "[]", out.stderr


def test_importing_the_package_loads_no_numpy_until_a_name_is_used():
    # `scaleplan --help` and `import scaleplan` stay cheap: the names load on first use.
    code = (
        "import sys, scaleplan; before = 'numpy' in sys.modules; "
        "scaleplan.compute_optimal; print(before, 'numpy' in sys.modules, "
        "'scaleplan.fitting.fit' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert out.stdout.split() == ["False", "True", "False"], out.stderr


def test_the_old_module_paths_work_with_a_deprecation_warning():
    import importlib
    import warnings

    from scaleplan import _moved

    # Each old path imported for the first time in a fresh interpreter (this one imported
    # them all already): one child process for all of them, each under its own record of
    # warnings, rather than one process each (a second of imports apiece).
    code = (
        "import importlib, json, sys, warnings\n"
        "counts = {}\n"
        "for old in sys.argv[1:]:\n"
        "    assert 'scaleplan.' + old not in sys.modules, old\n"
        "    with warnings.catch_warnings(record=True) as w:\n"
        "        warnings.simplefilter('always')\n"
        "        importlib.import_module('scaleplan.' + old)\n"
        "    counts[old] = len([x for x in w if issubclass(x.category, DeprecationWarning)])\n"
        "print(json.dumps(counts))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, *_moved.MOVED], capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == dict.fromkeys(_moved.MOVED, 1), out.stderr
    for old, homes in _moved.MOVED.items():
        new = [importlib.import_module(f"scaleplan.{h}") for h in homes]
        public = getattr(new[0], "__all__", [])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            stand_in = importlib.import_module(f"scaleplan.{old}")
        for name in public:
            assert getattr(stand_in, name) is getattr(new[0], name), (old, name)
        # The real module keeps its own identity.
        assert new[0].__spec__.name == f"scaleplan.{homes[0]}"
    # The 0.1 module `scaleplan.lifetime_cost`, imported, leaves the function of that name.
    assert callable(scaleplan.lifetime_cost)
    assert scaleplan.lifetime_cost.__module__ == "scaleplan.optimal.lifetime_cost"
    # Packages that were modules: what they no longer export still resolves, with a warning.
    for package, name, home in (
        ("laws", "resolve_law", "laws.scaling"),
        ("hardware", "PRECISIONS", "hardware.accelerators"),
        ("paper", "table_2", "paper.tables"),
    ):
        module = importlib.import_module(f"scaleplan.{package}")
        target = getattr(importlib.import_module(f"scaleplan.{home}"), name)
        if name in getattr(module, "__all__", ()):
            assert getattr(module, name) is target
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert getattr(module, name) is target
        assert any(issubclass(w.category, DeprecationWarning) for w in caught), package


def test_names_the_docs_import_from_submodules_are_public():
    """The README and the pages under docs/ may teach `from scaleplan.x import y`; y must
    then be in `scaleplan` too, so that no public name is reachable only through a
    submodule."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    text = "\n".join(page.read_text() for page in pages)
    taught = set()
    for module, names in re.findall(r"^from scaleplan\.([\w.]+) import ([\w, ]+)$", text, re.M):
        taught |= {(module, n.strip()) for n in names.split(",")}
    # Not planner API: the serving fit's calibration set (a table of the fit's inputs).
    exempt = {("systems.serving_fit", "MODELS")}
    assert taught, "the documentation's imports were not found: the pattern is stale"
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
        "scaleplan.optimal.lifetime.LifetimeOptimum",
        "scaleplan.optimal.constrained.ConstrainedOptimum",
        "scaleplan.optimal.costs.CostOptimum",
        "scaleplan.optimal.budgets.BestQuality",
        "scaleplan.optimal.physical_optimum.PhysicalOptimum",
        "scaleplan.laws.scaling.ChinchillaModel",
    ], out
    assert revealed[6].startswith("def (") and revealed[6].endswith(
        "-> scaleplan.fitting.fit.FitResult"
    ), out
    assert '"LifetimeOptimum" has no attribute "parmas"' in out, out
    assert out.count("error:") == 1, out


def _library_modules() -> list[str]:
    """The library's public modules: not underscore-private, not the CLI, not Dask, not
    the pure-Python references the tests use."""
    import pkgutil

    return sorted(
        m.name
        for m in pkgutil.walk_packages(scaleplan.__path__, "scaleplan.")
        if not m.ispkg
        and not any(part.startswith("_") for part in m.name.split(".")[1:])
        and m.name.split(".")[1] not in ("cli", "dask", "testing")
    )


def test_every_library_module_declares_its_public_names():
    """Each public module lists in `__all__` every public function, class and constant
    it defines, so that a new one is declared (or named with an underscore) on purpose."""
    import importlib

    undeclared = {}
    for name in _library_modules():
        module = importlib.import_module(name)
        tree = ast.parse(Path(module.__file__).read_text())
        defined = {
            n.name
            for n in tree.body
            if isinstance(n, ast.FunctionDef | ast.ClassDef) and not n.name.startswith("_")
        }
        declared = set(getattr(module, "__all__", ()))
        missing = sorted(defined - declared)
        if missing or not declared:
            undeclared[name] = missing or "no __all__"
        assert all(hasattr(module, n) for n in declared), name
    assert not undeclared


def test_every_top_level_name_is_declared_by_a_module():
    import importlib

    declared = set()
    for name in _library_modules():
        declared |= set(getattr(importlib.import_module(name), "__all__", ()))
    top = set(scaleplan.__all__) - {"__version__", "datasets", "serving", "speculation"}
    assert sorted(top - declared) == []


def test_the_flop_convention_is_written_once():
    """`6 N D` and `2 N D_inf` live in `scaleplan.laws.flops`; a literal 6 or 2 times a
    parameter count anywhere else in the library is a second copy of the convention (an
    MoE model trains on its active parameters, so every copy would have to change)."""
    package = INIT.parent
    # The references check the library, so they write the factors themselves.
    exempt = {"flops.py", "_reference.py", "_reference_fits.py", "reference_moe.py"}
    pattern = re.compile(
        r"(?<![\w.])(6|2)(\.0)? \* (self\.)?(params|n\b|n_opt|size|float\(c\.params)"
    )
    found = [
        f"{path.relative_to(package)}:{k}: {line.strip()}"
        for path in sorted(package.rglob("*.py"))
        if path.name not in exempt
        for k, line in enumerate(path.read_text().splitlines(), start=1)
        if pattern.search(line)
    ]
    assert not found


def test_the_rust_core_writes_the_flop_convention_once():
    """The same in Rust: `6.0` times or over a size, `2.0 * demand`, and the lifetime
    condition's `/ 3.0` live in `rust/core/src/laws/flops.rs` only. The step-time and
    serving models count FLOPs matrix by matrix from the shape (2 per multiply-add), and the
    engine's polynomials are not FLOP factors, so those files are not searched."""
    src = ROOT / "rust" / "core" / "src"
    skip = {"laws/flops.rs", "arch/mod.rs", "systems/serving.rs"}
    assert all((src / path).exists() for path in skip), "a skipped file moved"
    pattern = re.compile(r"(?<![\w.])6\.0 \*|/ ?\(?6\.0\b|[>/] 6\.0\b|2\.0 \* demand|/ \(?3\.0\b")
    found = []
    for path in sorted(src.rglob("*.rs")):
        name = path.relative_to(src).as_posix()
        if name in skip or path.name.endswith("tests.rs") or path.parent.name == "engine":
            continue
        code = path.read_text().split("#[cfg(test)]")[0]
        for k, line in enumerate(code.splitlines(), start=1):
            if pattern.search(line.split("//")[0]):
                found.append(f"{path.relative_to(src)}:{k}: {line.strip()}")
    assert not found


def test_flops_follow_the_convention():
    from scaleplan import _core
    from scaleplan.laws import flops

    assert (_core.TRAINING_FLOPS_PER_PARAM, _core.INFERENCE_FLOPS_PER_PARAM) == (6.0, 2.0)
    assert flops.TRAINING_FLOPS_PER_PARAM is _core.TRAINING_FLOPS_PER_PARAM
    assert flops.training_flops(7e9, 2e12) == 6 * 7e9 * 2e12
    assert flops.inference_flops(7e9, 1e12) == 2 * 7e9 * 1e12
    assert flops.tokens_for_flops(8.4e22, 7e9) == 8.4e22 / 4.2e10
    n = flops.params_for_flops(5.76e23, 20.0)
    assert abs(6 * n * (20.0 * n) / 5.76e23 - 1) < 1e-15


def test_no_private_name_crosses_a_module():
    """`from .x import _y` couples a module to another's internals; a name another
    module needs is public there (declared in its `__all__`) or lives in a private module
    (`_checks`, `_arrays`, ...) made to be shared."""
    package = INIT.parent
    crossings = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            # `from . import _core` imports a private module, made to be shared.
            if isinstance(node, ast.ImportFrom) and node.level > 0 and node.module:
                private = [a.name for a in node.names if a.name.startswith("_")]
                # Dunder names (__version__) are the package's own metadata.
                private = [n for n in private if not n.startswith("__")]
                if private:
                    crossings.append(f"{path.relative_to(package)}: {node.module} {private}")
    assert not crossings


def test_the_import_contracts_hold():
    """pyproject.toml's [tool.importlinter] contracts: the CLI and Dask above the library,
    which imports neither; inside the CLI, its folders of commands above the shared options
    and rendering, and none of them importing another; no import cycles at all (the
    law-family protocol removed the optimisers' imports of the data-constrained family;
    `shapes` imports the HF config reader, not the reverse), with no import excused."""
    text = (ROOT / "pyproject.toml").read_text()
    assert re.findall(r"ignore_imports = \[(.*)\]", text) == ['"scaleplan.** -> scaleplan"']
    out = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
         "lint_imports_command()"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "3 kept, 0 broken" in out.stdout


def test_no_cycle_even_through_imports_for_type_checkers():
    """import-linter leaves out `if TYPE_CHECKING:` imports; a cycle through them still
    ties two modules together (the optimisers once named the data-constrained results in
    their overloads from the module that imports them). The data-constrained results live
    in `optimal.constrained`, which imports no optimiser, so there is none."""
    import grimp

    graph = grimp.build_graph("scaleplan", exclude_type_checking_imports=False)
    for module in list(graph.modules):  # `from .. import _core` reads as the package
        if graph.direct_import_exists(importer=module, imported="scaleplan"):
            graph.remove_import(importer=module, imported="scaleplan")
    cycles = [
        (module, imported)
        for module in sorted(graph.modules)
        for imported in graph.find_modules_directly_imported_by(module)
        if graph.chain_exists(importer=imported, imported=module)
    ]
    assert not cycles


def test_nothing_inside_imports_the_package_init_but_the_compiled_core():
    """The one import pyproject.toml excuses (`from .. import _core`, which the import
    graph reads as the package) is the only import from the package `__init__` below it."""
    package = ROOT / "python" / "scaleplan"
    found = []
    for path in package.rglob("*.py"):
        if path.parent == package and path.name in ("__init__.py", "__main__.py"):
            continue
        depth = len(path.relative_to(package).parts)
        for node in ast.walk(ast.parse(path.read_text())):
            root = isinstance(node, ast.ImportFrom) and (
                (node.level == depth and not node.module)
                or (node.level == 0 and node.module == "scaleplan")
            )
            if root and [a.name for a in node.names] != ["_core"]:
                found.append(f"{path.relative_to(package)}: {[a.name for a in node.names]}")
            if isinstance(node, ast.Import) and any(a.name == "scaleplan" for a in node.names):
                found.append(f"{path.relative_to(package)}: import scaleplan")
    assert not found


def test_every_design_reference_resolves():
    """Docstrings and comments cite the design document as `docs/design.md §N.M`; each
    section they name exists there, and the document is in the repository."""
    design = (ROOT / "docs" / "design.md").read_text()
    sections = set(re.findall(r"^#+ (\d+(?:\.\d+)*)[. ]", design, re.M))
    cited = []
    for path in [*(ROOT / "python").rglob("*.py"), *(ROOT / "rust").rglob("*.rs")]:
        text = path.read_text()
        assert "DESIGN §" not in text, path
        cited += [(path.name, s) for s in re.findall(r"design\.md §(\d+(?:\.\d+)*)", text)]
    assert cited, "no reference found: the pattern is stale"
    assert [c for c in cited if c[1] not in sections] == []


def test_the_number_formats_are_one_table():
    """The accelerators' peaks and the serving roofline's bytes read one table,
    `hardware.formats.FORMATS` (there were two: `PRECISIONS` in the catalogue,
    `PRECISION_BYTES` in serving)."""
    from scaleplan.hardware import accelerators, formats
    from scaleplan.systems import serving

    assert serving.PRECISION_BYTES is accelerators.PRECISION_BYTES is formats.PRECISION_BYTES
    assert accelerators.PRECISIONS is formats.PRECISIONS
    assert dict(formats.PRECISION_BYTES) == {k: v[0] for k, v in formats.FORMATS.items()}
    # Every compute precision is a format computing in itself; every format computes in one.
    assert all(formats.FORMATS[p][1] == p for p in formats.PRECISIONS)
    assert {v[1] for v in formats.FORMATS.values()} == set(formats.PRECISIONS)
    assert set(formats.KV_FORMATS) <= set(formats.PRECISIONS)
    for acc in accelerators.ACCELERATORS.values():
        assert set(acc.peak_flops) <= set(formats.PRECISIONS), acc.name
