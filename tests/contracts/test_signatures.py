"""Every public callable's signature, declared in `signatures.txt` beside this file, and
every public dataclass frozen.

The file is the public API's parameters as users call them: their names, order, kinds
(positional, keyword-only) and defaults. A change to any of them is a change to the API and
must show in review, so the test compares the live signatures with the file; after a
deliberate change, write the file again with `python tests/contracts/test_signatures.py`
and say why in the commit. (Mutation testing found that a `*` turned `/`, or a default
changed, survived every other test.)
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

import scaleplan

DECLARED = Path(__file__).with_name("signatures.txt")


def _members(cls: type) -> list[tuple[str, object]]:
    """The public methods a class defines itself (not inherited from object)."""
    found = []
    for name, value in vars(cls).items():
        if name.startswith("_") or isinstance(value, property):
            continue
        if isinstance(value, classmethod | staticmethod):
            value = getattr(cls, name)
        if callable(value):
            found.append((name, value))
    return sorted(found)


def _signature(obj: object) -> str:
    """Names, kinds and defaults; annotations left out (how they print differs between
    Python versions, and the stubs and mypy check them)."""
    try:
        sig = inspect.signature(obj)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "(no Python signature)"
    bare = [p.replace(annotation=p.empty) for p in sig.parameters.values()]
    # One line each: a default's repr may wrap (a Record's does).
    return " ".join(str(sig.replace(parameters=bare, return_annotation=sig.empty)).split())


def public_signatures(namespace: object = scaleplan, prefix: str = "") -> list[str]:
    """One line per public callable; a public module (`serving`) by its own `__all__`."""
    lines = []
    for name in sorted(namespace.__all__):  # type: ignore[attr-defined]
        obj = getattr(namespace, name)
        if inspect.ismodule(obj):
            lines += public_signatures(obj, f"{prefix}{name}.")
            continue
        name = prefix + name
        if isinstance(obj, type):
            if issubclass(obj, BaseException):
                continue
            lines.append(f"{name}{_signature(obj)}")
            lines += [f"{name}.{m}{_signature(v)}" for m, v in _members(obj)]
        elif callable(obj):
            lines.append(f"{name}{_signature(obj)}")
    return lines


def module_signatures() -> list[str]:
    """Every public module's own `__all__` (what the reference pages document), by its
    dotted path: `scaleplan.optimal.data_constrained.tokens_for_params(...)`."""
    lines = []
    for info in pkgutil.walk_packages(scaleplan.__path__, "scaleplan."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or "cli" in parts or info.ispkg:
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional extra not installed
            continue
        own = [n for n in getattr(module, "__all__", [])
               if getattr(getattr(module, n), "__module__", None) == info.name]  # fmt: skip
        for name in sorted(own):
            obj = getattr(module, name)
            if inspect.isfunction(obj) or (isinstance(obj, type)
                                           and not issubclass(obj, BaseException)):  # fmt: skip
                lines.append(f"{info.name}.{name}{_signature(obj)}")
    return lines


def declared() -> list[str]:
    return public_signatures() + module_signatures()


def test_every_public_signature_is_the_declared_one():
    live, declared_ = declared(), DECLARED.read_text().splitlines()
    changed = sorted(set(live) ^ set(declared_))
    assert not changed, "signatures differ from signatures.txt:\n" + "\n".join(changed)
    assert live == declared_


def public_dataclasses() -> list[type]:
    """Every dataclass a public module defines under a public name (test_result_classes
    checks each is a result tested there or a value)."""
    found = []
    for info in pkgutil.walk_packages(scaleplan.__path__, "scaleplan."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or "cli" in parts:
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional extra not installed
            continue
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and obj.__module__ == module.__name__
                    and not name.startswith("_") and dataclasses.is_dataclass(obj)):  # fmt: skip
                found.append(obj)
    assert len(found) >= 50
    return found


def test_every_public_dataclass_is_frozen():
    """Results and value objects are values: assigning to one raises, so a plan cannot be
    edited after it was checked. Each class is tried on a blank instance (a frozen
    dataclass's `__setattr__` raises for every instance, whatever its fields hold)."""
    for cls in public_dataclasses():
        blank = object.__new__(cls)
        field = dataclasses.fields(cls)[0].name
        try:
            setattr(blank, field, 1.0)
        except dataclasses.FrozenInstanceError:
            continue
        raise AssertionError(f"{cls.__qualname__} is not frozen")


def test_no_dataclass_prints_with_the_generated_repr_over_its_own():
    """A result prints through the short repr its base class writes (`Tabular`): a
    dataclass-generated `__repr__` (every field, every digit) put over it would print a
    scalar result in a screenful. Dask's lazy twins are the exception: the short repr
    formats numbers, which would compute their arrays."""
    for cls in public_dataclasses():
        if cls.__module__.startswith("scaleplan.dask."):
            continue
        ours = [b for b in cls.__mro__[1:] if "__repr__" in vars(b) and b is not object
                and b.__module__.startswith("scaleplan")]  # fmt: skip
        if ours:
            code = inspect.unwrap(cls.__repr__).__code__
            assert code.co_filename != "<string>", f"{cls.__qualname__}: generated repr"


if __name__ == "__main__":
    DECLARED.write_text("\n".join(declared()) + "\n")
    sys.exit(0)
