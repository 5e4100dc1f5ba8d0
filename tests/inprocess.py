"""The command line run in this process: the argv a test gives, through `scaleplan.cli.main`
(the console script's entry point), with stdout, stderr and the exit status captured.

For tests about what a command prints or writes, not about the process (signals, the real
stdout's encoding, the console script itself: those keep a subprocess). A child process
costs the interpreter's start and scaleplan's imports on every call; in-process, once.

`families_computed_once` memoizes `compare_families` for the tests that run commands
whose slow part is that comparison on the shipped runs (`families`, `reproduce`):
`compare_families` is a pure function of its arguments, and on the 240 Chinchilla runs
it refits every family on every fold (90 s of CPU on the 2-core Xeon). Each distinct call
still runs, once per test process; the tests that need it share an `xdist_group`
(`FAMILIES_GROUP`), so one worker runs it.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import io
import os
import subprocess
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scaleplan import cli
from scaleplan.fitting import family_comparison

FAMILIES_GROUP = pytest.mark.xdist_group("chinchilla_families")

_REAL_COMPARE = family_comparison.compare_families
_COMPARED: dict[tuple[Any, ...], list[Any]] = {}


def _key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
    """The exact bytes of every argument, defaults filled in, or None (not cached) for
    anything but arrays of numbers, plain scalars and tuples of names."""
    try:
        bound = inspect.signature(_REAL_COMPARE).bind(*args, **kwargs)
    except TypeError:
        return None  # the real function says what is wrong
    bound.apply_defaults()
    parts: list[Any] = []
    for name, value in bound.arguments.items():
        if isinstance(value, (int, float, str)) or (
            isinstance(value, tuple) and all(isinstance(v, str) for v in value)
        ):
            parts.append((name, value))
            continue
        array = np.asarray(value)
        if array.dtype.kind not in "fiu":
            return None
        parts.append((name, array.dtype.str, array.shape, array.tobytes()))
    return tuple(parts)


def compare_families_once(*args: Any, **kwargs: Any) -> list[Any]:
    """`compare_families`, computed once per distinct argument list in this process."""
    key = _key(args, kwargs)
    if key is None:
        return _REAL_COMPARE(*args, **kwargs)
    if key not in _COMPARED:
        _COMPARED[key] = _REAL_COMPARE(*args, **kwargs)
    return copy.deepcopy(_COMPARED[key])


def compute_families_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The `families_computed_once` fixture's work (tests/conftest.py): `family_table`
    (the `families` and `reproduce` commands) looks the name up in its module at call
    time."""
    monkeypatch.setattr(family_comparison, "compare_families", compare_families_once)


@contextlib.contextmanager
def _cwd(path: Path | str | None) -> Iterator[None]:
    if path is None:
        yield
        return
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


# Python's warning filters in a process started without -W or -X dev: what the console
# script runs under. (pytest's own filters would hide a warning a user sees.)
_PROCESS_FILTERS = (
    ("default", DeprecationWarning, "__main__"),
    ("ignore", DeprecationWarning, ""),
    ("ignore", PendingDeprecationWarning, ""),
    ("ignore", ImportWarning, ""),
    ("ignore", ResourceWarning, ""),
)


def run_cli(args: Sequence[str], cwd: Path | str | None = None) -> subprocess.CompletedProcess[str]:
    """`scaleplan ARGS...` in this process: `main(argv)`'s return value or `SystemExit`'s
    code (argparse's usage errors, `--help`) as `returncode`, what it printed as `stdout`
    and `stderr` (StringIO: not a terminal, so no progress bar, as in a pipe).

    A warning the run raises is written to `stderr` as the console script's process would
    print it (under Python's default filters), so a test that counts stderr's lines sees
    it here too."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.ExitStack() as stack:
        caught = stack.enter_context(warnings.catch_warnings(record=True))
        warnings.resetwarnings()
        for action, category, module in reversed(_PROCESS_FILTERS):
            warnings.filterwarnings(action, category=category, module=module)
        stack.enter_context(_cwd(cwd))
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        try:
            code = cli.main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    for w in caught:
        err.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line))
    return subprocess.CompletedProcess(["scaleplan", *args], code, out.getvalue(), err.getvalue())


_ONCE: dict[tuple[str, ...], tuple[subprocess.CompletedProcess[str], Path]] = {}


def run_cli_once(
    args: Sequence[str], factory: pytest.TempPathFactory
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`run_cli(args)` in a scratch folder of its own, each distinct argv once in this
    process: the result and the folder (what the command wrote stays there). For tests
    that run the same command as written in the docs (`reproduce`, a minute of work, is
    both a documented example and the subject of tests/cli/test_cli.py)."""
    key = tuple(args)
    if key not in _ONCE:
        where = factory.mktemp("command")
        _ONCE[key] = (run_cli(key, cwd=where), where)
    return _ONCE[key]
