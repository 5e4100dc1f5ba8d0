"""Put one mutant into a running interpreter: the mutated function's code swapped in place.

Used by `mutation_forks.py` in a child forked from a process that has imported scaleplan
and collected the tests. A mutant inside a function body changes only that function's
code object, so compiling the mutated module and assigning the new code object to the
live function's `__code__` gives every caller (every module that imported the function,
every wrapper around it) the mutated behaviour, with no import and no collection. Lines
that run at import (module and class bodies, decorators, default values) cannot be
patched this way; the caller runs those from a mutated copy on disk instead.
"""

from __future__ import annotations

import ast
import functools
import importlib
import sys
from types import CodeType, FunctionType


class Unpatchable(Exception):
    """The mutant's function was not found live (it is run from disk instead)."""


def enclosing_function(source: str, line: int) -> str:
    """The qualified name of the outermost function (a module-level function or a method,
    through nested classes) whose body holds `line`."""

    def search(nodes: list[ast.stmt], prefix: str) -> str | None:
        for node in nodes:
            if isinstance(node, ast.ClassDef):
                found = search(node.body, f"{prefix}{node.name}.")
                if found:
                    return found
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                body = node.body
                if body[0].lineno <= line <= (body[-1].end_lineno or body[-1].lineno):
                    if _in_nested_def(body, line):
                        # A decorator factory's inner function lives on as closures
                        # made at import: swapping the outer code reaches none of them
                        # (measured: 26 of training.py's 45 "survivors" were this).
                        raise Unpatchable(f"line {line} is in a function nested in another")
                    return prefix + node.name
        return None

    found = search(ast.parse(source).body, "")
    if found is None:
        raise Unpatchable(f"line {line} is in no function")
    return found


def _in_nested_def(body: list[ast.stmt], line: int) -> bool:
    """Whether `line` lies inside a `def` nested anywhere in `body`."""
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if node.lineno <= line <= (node.end_lineno or node.lineno):
                    return True
    return False


def _code_objects(code: CodeType, qualname: str) -> list[CodeType]:
    found = [code] if code.co_qualname == qualname else []
    for const in code.co_consts:
        if isinstance(const, CodeType):
            found += _code_objects(const, qualname)
    return found


def _unwrapped(value: object) -> list[FunctionType]:
    """The plain functions behind a namespace entry: through classmethod, staticmethod,
    property accessors, cached properties and `functools.wraps` chains."""
    if isinstance(value, classmethod | staticmethod):
        value = value.__func__
    if isinstance(value, property):
        return [f for v in (value.fget, value.fset, value.fdel) for f in _unwrapped(v)]
    if isinstance(value, functools.cached_property):
        value = value.func
    seen = 0
    while hasattr(value, "__wrapped__") and seen < 10:
        value, seen = value.__wrapped__, seen + 1
    return [value] if isinstance(value, FunctionType) else []


def live_functions(module: object, qualname: str) -> list[FunctionType]:
    """The function objects the running program calls for `qualname` in `module`."""
    *classes, name = qualname.split(".")
    owner = module
    for cls in classes:
        owner = vars(owner).get(cls)
        if owner is None:
            return []
    return [f for f in _unwrapped(vars(owner).get(name)) if f.__code__.co_qualname == qualname]


def apply(module_name: str, filename: str, mutated: str, line: int) -> None:
    """Swap the code of the function holding `line` for its code in `mutated` (the whole
    mutated module's source)."""
    module = importlib.import_module(module_name)
    qualname = enclosing_function(mutated, line)
    live = live_functions(module, qualname)
    if not live:
        raise Unpatchable(f"{module_name}.{qualname} is not reachable from its module")
    new = _code_objects(compile(mutated, filename, "exec"), qualname)
    for function in live:
        match = [c for c in new if c.co_firstlineno == function.__code__.co_firstlineno]
        if len(match) != 1 or match[0].co_freevars != function.__code__.co_freevars:
            raise Unpatchable(f"{module_name}.{qualname}: no single matching code object")
        function.__code__ = match[0]


def clear_caches() -> None:
    """Empty every `functools` cache in scaleplan: a result cached by the parent would
    hide the mutant."""
    for name, module in list(sys.modules.items()):
        if not name.startswith("scaleplan"):
            continue
        for value in list(vars(module).values()):
            holders = vars(value).values() if isinstance(value, type) else (value,)
            for holder in holders:
                if isinstance(holder, classmethod | staticmethod):
                    holder = holder.__func__
                if hasattr(holder, "cache_clear"):
                    holder.cache_clear()
