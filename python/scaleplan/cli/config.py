"""`--config FILE.toml`: option values from a TOML file, as if typed before the command
line's own options.

Keys are option names, with dashes or underscores (`requests-per-day`, `requests_per_day`).
Top-level keys apply to every command that has the option (a key no command has is an
error); a `[command-name]` table applies to that command only and wins over the top-level
keys; the command line wins over both, and an option given there also drops the file's
alternatives to it (`--loss` on the command line drops the file's `as-good-as`). Each value
goes through the option's own type and choices, so a bad one fails as it would typed,
with the key and the file named. A flag takes true or false; an option of several values
a list.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# Options that set the same thing another way, as (one side, the other side): an option
# of one side given on the command line drops the other side from the file (argparse's
# mutually exclusive groups are added to these, each member against the rest).
ALTERNATIVES = (
    ({"loss"}, {"as_good_as", "target_accuracy"}),
    ({"as_good_as"}, {"target_accuracy"}),
    ({"requests"}, {"requests_per_day", "days"}),
    ({"inference_tokens"}, {"requests_per_day", "days", "input_tokens", "output_tokens",
                            "requests"}),
    ({"table3"}, {"train_price", "inference_price"}),
    ({"params"}, {"loss", "compute"}),
    ({"compute"}, {"loss"}),
    ({"model"}, {"hf_config", "d_model", "n_layers"}),
    ({"hf_config"}, {"d_model", "n_layers"}),
)  # fmt: skip

# Options a file cannot set.
_NOT_FROM_FILE = {"config", "help", "version"}


class ConfigError(ValueError):
    """A config file that cannot be used: one line, naming the file and the key."""


def find_config(argv: Sequence[str], start: int) -> str | None:
    """The value of --config among `argv[start:]` (also `--config=PATH`, and the prefixes
    `--conf`, `--confi` that argparse accepts), or None."""
    names = ("--conf", "--confi", "--config")
    for i in range(start, len(argv)):
        token = argv[i]
        if token == "--":
            return None
        name, eq, value = token.partition("=")
        if name in names:
            if eq:
                return value
            return argv[i + 1] if i + 1 < len(argv) else None
    return None


def read(path: str) -> dict[str, Any]:
    """The TOML file at `path` as a dict (a `ConfigError` if it cannot be read or parsed)."""
    from .._utils.datafiles import toml_module
    from .._utils.files import read_text_file

    try:
        text = read_text_file(path, "config")
    except ValueError as exc:
        raise ConfigError(str(exc).removeprefix("config: ")) from None
    toml = toml_module()
    try:
        return dict(toml.loads(text))
    except toml.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def _long_options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {
        s: a
        for a in parser._actions
        for s in a.option_strings
        if s.startswith("--") and a.dest not in _NOT_FROM_FILE
    }


def _action_for(options: Mapping[str, argparse.Action], key: str) -> argparse.Action | None:
    return options.get("--" + key.replace("_", "-"))


def given_on_command_line(parser: argparse.ArgumentParser, tokens: Iterable[str]) -> set[str]:
    """The dests of the options in `tokens` (as argparse reads them: `--opt=v`, and unique
    prefixes of long options)."""
    options = {s: a for a in parser._actions for s in a.option_strings if s.startswith("--")}
    dests = set()
    for token in tokens:
        if token == "--":
            break
        if not token.startswith("--"):
            continue
        name = token.partition("=")[0]
        matches = [a for s, a in options.items() if s == name] or [
            a for s, a in options.items() if s.startswith(name)
        ]
        if len({a.dest for a in matches}) == 1:
            dests.add(matches[0].dest)
    return dests


def _dropped(parser: argparse.ArgumentParser, given: set[str]) -> set[str]:
    """Options the file may not set because the command line gives them or an alternative."""
    out = set(given)
    pairs = list(ALTERNATIVES)
    for g in parser._mutually_exclusive_groups:
        dests = {a.dest for a in g._group_actions}
        pairs += [({d}, dests - {d}) for d in dests]
    for one, other in pairs:
        if one & given:
            out |= other
        if other & given:
            out |= one
    return out


def _texts(action: argparse.Action, key: str, value: Any, path: str) -> list[str] | None:
    """The command-line words for `value`, checked by the option's type and choices; None
    for a flag set false."""
    where = f"{path}: key {key!r}"
    if action.nargs == 0:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: must be true or false (a flag); got {value!r}")
        return [] if value else None
    many = action.nargs in ("+", "*") or isinstance(action.nargs, int)
    values = value if isinstance(value, list) and many else [value]
    texts = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            kind = "a list of values" if many else "one number or text"
            raise ConfigError(f"{where}: must be {kind}; got {value!r}"[:300])
        text = repr(v) if isinstance(v, float) else str(v)
        try:
            parsed = action.type(text) if callable(action.type) else text
        except (argparse.ArgumentTypeError, ValueError, TypeError) as exc:
            raise ConfigError(f"{where}: {exc}") from None
        if action.choices is not None and parsed not in action.choices:
            shown = ", ".join(map(str, action.choices))
            raise ConfigError(f"{where}: must be one of {shown}; got {v!r}")
        texts.append(text)
    return texts


def tokens(
    parser: argparse.ArgumentParser,
    command: str,
    commands: Mapping[str, argparse.ArgumentParser],
    path: str,
    argv: Sequence[str],
) -> list[str]:
    """The words the file at `path` adds for `command` (whose parser is `parser`; `commands`
    maps every command name to its parser), before the command line's own `argv`."""
    table = read(path)
    everyone = set().union(*(_long_options(p) for p in commands.values()))
    options = _long_options(parser)
    chosen: dict[str, tuple[str, Any]] = {}
    tables = []
    for key, value in table.items():
        if isinstance(value, dict):
            if key not in commands:
                raise ConfigError(f"{path}: [{key}] is not a command; tables are commands")
            if commands[key] is parser:
                tables.append(value)
            continue
        if "--" + key.replace("_", "-") not in everyone:
            raise ConfigError(f"{path}: unknown key {key!r}: no command has that option")
        if _action_for(options, key) is not None:
            chosen[_action_for(options, key).dest] = (key, value)  # type: ignore[union-attr]
    for section in tables:
        for key, value in section.items():
            action = _action_for(options, key)
            if action is None:
                raise ConfigError(f"{path}: unknown key {key!r} in [{command}]: "
                                  f"{command} has no --{key.replace('_', '-')}")  # fmt: skip
            chosen[action.dest] = (key, value)
    dropped = _dropped(parser, given_on_command_line(parser, argv))
    words: list[str] = []
    for dest, (key, value) in chosen.items():
        action = _action_for(options, key)
        assert action is not None
        texts = _texts(action, key, value, path)
        if texts is None or dest in dropped:
            continue
        option = max(action.option_strings, key=len)
        if action.nargs == 0:
            words.append(option)
        elif len(texts) == 1 and action.nargs is None:
            words.append(f"{option}={texts[0]}")
        else:
            words += [option, *texts]
    return words
