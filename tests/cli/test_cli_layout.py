"""Where the command line's modules live: each command in the folder named after the library
subpackage it drives, every command in the table, and only shared infrastructure at the top
of cli/ (the imports between them are `lint-imports`' contract in pyproject.toml)."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil

from scaleplan import cli


def _modules() -> dict[str, object]:
    return {
        info.name: importlib.import_module(info.name)
        for info in pkgutil.walk_packages(cli.__path__, "scaleplan.cli.")
        if not info.ispkg and not info.name.endswith("__main__")
    }


def _is_command(module: object) -> bool:
    return callable(getattr(module, "add", None)) and callable(getattr(module, "run", None))


def test_every_command_module_is_in_the_table_once():
    commands = [name for name, module in _modules().items() if _is_command(module)]
    assert sorted(commands) == sorted(command.__name__ for command in cli.command_modules())
    assert len(set(cli.command_modules())) == len(cli.command_modules())


def test_commands_sit_in_folders_named_after_library_subpackages():
    for name, module in _modules().items():
        folder = name.split(".")[2:-1]
        if _is_command(module):
            assert len(folder) == 1, f"{name}: a command belongs in a domain folder"
            # The library subpackage, found but not imported (scaleplan.dask needs the extra).
            assert importlib.util.find_spec(f"scaleplan.{folder[0]}") is not None, name
        else:
            assert len(folder) <= 1, name


def test_the_top_of_cli_holds_infrastructure_only():
    top = {name.rsplit(".", 1)[1] for name in _modules() if name.count(".") == 2}
    assert top == {"commands", "config", "guard", "options", "parser", "progress", "render",
                   "shared", "speculation", "values"}  # fmt: skip


def test_the_parser_loads_no_scipy_or_matplotlib():
    """`scaleplan --help` builds every command's parser: it took 0.8-0.9 s while the
    error guard and the families command imported the fits (SciPy) at the top; now the
    fits load when a command runs (0.37 s here). Checked by what is imported, not timed."""
    import subprocess
    import sys

    code = (
        "import sys, scaleplan.cli as c; c.build_parser(); "
        "print(sorted(m for m in ('scipy', 'matplotlib', 'dask') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout  # fmt: skip
    assert out.strip() == "[]"


def test_the_top_level_help_loads_nothing_of_the_library():
    """`scaleplan --help` (0.8-0.9 s at first, then 0.37 s) is built from the table of
    commands alone: no command module, no NumPy (0.07-0.14 s on the 2-core Xeon, loaded).
    Checked by what is imported, not timed; and its listing is the full parser's."""
    import subprocess
    import sys

    code = (
        "import sys, contextlib, io, scaleplan.cli as c\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    c.main(['--help'])\n"
        "print(sorted(m for m in sys.modules if m == 'numpy' or m.startswith('scaleplan.')\n"
        "             and m.split('.')[1] not in ('cli', '_core', '_moved', 'errors')))\n"
        "print(sorted(m.split('.')[2] for m in sys.modules if m.count('.') == 3\n"
        "             and m.startswith('scaleplan.cli.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout.splitlines()  # fmt: skip
    assert out == ["[]", "[]"]
    light = cli.build_parser(commands=False).format_help()
    assert light == cli.build_parser().format_help()
