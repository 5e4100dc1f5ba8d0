"""The parser class every command's parser is made of, and how it prints defaults: the
bottom of the command line, importing nothing of the library (so `scaleplan --help` loads
no NumPy)."""

from __future__ import annotations

import argparse
import copy
import re
from typing import Any, NoReturn

__all__ = ["Formatter", "Parser", "number_text"]

_SAYS_DEFAULT = re.compile(r"\bdefault\b", re.IGNORECASE)


def number_text(x: float) -> str:
    """A number as one would type it: 1e7, 365, 0.5 (not 10000000.0 or 1e+07)."""
    return re.sub(r"e\+?(-?)0*(\d)", r"e\1\2", f"{x:g}")


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Each option's default appended once, as `(default: X)`: not when the help already
    says its default, and not for an option with none (None, or a flag's False)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            _SAYS_DEFAULT.search(text)
            or default is None
            or default is False
            or default is argparse.SUPPRESS
            or not (action.option_strings or action.nargs in ("?", "*"))
        ):
            return text
        return text + " (default: %(default)s)"

    def _expand_help(self, action: argparse.Action) -> str:
        # A float default as written on a command line: 1e+07, 365, 0.5 (not 10000000.0).
        if isinstance(action.default, float):
            action = copy.copy(action)
            action.default = number_text(action.default)
        return super()._expand_help(action)


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the full usage is one --help away)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")
