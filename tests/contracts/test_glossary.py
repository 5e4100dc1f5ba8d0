"""The glossary (`scaleplan._utils.glossary`) against the real names in every layer."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest
from inprocess import run_cli

import scaleplan
from scaleplan import _core, cli
from scaleplan._utils.glossary import ARGUMENTS, ENTRY_POINTS, Term

RUST = Path(__file__).resolve().parents[2] / "rust"


def _rust_text(module: str) -> str:
    """The source of a core module, by its path in the crate (`optimal::lifetime`):
    `optimal/lifetime.rs` and everything in `optimal/lifetime/`."""
    path = RUST / "core" / "src" / module.replace("::", "/")
    files = [path.with_suffix(".rs"), *sorted(path.glob("*.rs"))]
    return "".join(f.read_text() for f in files if f.exists())


def _commands() -> dict[str, object]:
    parser = cli.build_parser()
    return parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]


def _options(command: str) -> set[str]:
    sub = _commands()[command]
    return {s for a in sub._actions for s in a.option_strings}  # type: ignore[attr-defined]


def _kebab(name: str) -> str:
    return name.replace("_", "-")


def test_a_domain_has_one_name_in_every_layer():
    """The core crate's modules, and the binding's, are the package's subpackages under the
    same names (`scaleplan::optimal`, the binding's `optimal`, `scaleplan.optimal`); only what
    every kernel runs on (the engine, the error type, the binding's conversions) has none."""
    package = Path(scaleplan.__file__).parent
    core = (RUST / "core" / "src" / "lib.rs").read_text()
    binding = (RUST / "python" / "src" / "lib.rs").read_text()
    domains = set(re.findall(r"^pub mod (\w+);", core, re.M)) - {"engine", "error"}
    assert domains == set(re.findall(r"^mod (\w+);", binding, re.M)) - {"convert"}
    assert domains >= {"laws", "arch", "systems", "optimal", "fitting"}
    for domain in domains:
        assert (package / domain / "__init__.py").exists(), domain


@pytest.mark.parametrize("term", ENTRY_POINTS, ids=lambda t: t.python)
def test_an_entry_point_has_one_name_in_every_layer(term: Term):
    assert callable(getattr(scaleplan, term.python))
    if term.binding is not None:
        assert term.binding == term.python
        assert callable(getattr(_core, term.binding))
    if term.rust is not None:
        module, item = term.rust.rsplit("::", 1)
        assert re.search(rf"pub fn {item}\b", _rust_text(module)), term.rust
    if term.cli is not None:
        assert term.cli == _kebab(term.python)
        assert term.cli in _commands()


@pytest.mark.parametrize("row", ARGUMENTS, ids=lambda r: r[0].python)
def test_an_argument_has_one_name_in_every_layer(row: tuple[Term, str, str]):
    term, entry, command = row
    assert term.python in inspect.signature(getattr(scaleplan, entry)).parameters
    if term.rust is not None:
        assert term.rust == term.python
        rust = "".join(p.read_text() for p in RUST.rglob("*.rs"))
        assert f'"{term.rust}"' in rust, term.rust
    assert term.cli == f"--{_kebab(term.python)}"
    assert term.cli in _options(command), (command, term.cli)


def test_the_json_keys_are_the_python_names():
    """Each command's `--json` answer names its inputs as Python does."""
    by_command: dict[str, list[Term]] = {}
    for term, _, command in ARGUMENTS:
        by_command.setdefault(command, []).append(term)
    base = {"chinchilla-optimal": ["--params", "7e9"],
            "best-quality": ["--budget", "1e23", "--inference-tokens", "1e12"],
            "compute-optimal": ["--unique-tokens", "1e11"]}  # fmt: skip
    for command, terms in by_command.items():
        out = run_cli([command, *base.get(command, []), "--json"])
        assert out.returncode == 0, out.stderr
        text = out.stdout
        keys = set(re.findall(r'"(\w+)":', text))
        json.loads(text)
        for term in terms:
            assert term.json == term.python
            assert term.json in keys, (command, term.json)


def test_the_old_binding_names_are_gone():
    """The drift the glossary ended: the binding spoke of `lifetime_optimal`,
    `best_model` and `chinchilla` where Python and the CLI said otherwise."""
    for old in ("lifetime_optimal", "lifetime_optimal_scalar", "best_model", "chinchilla"):
        assert not hasattr(_core, old), old
