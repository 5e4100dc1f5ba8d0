"""The command line's one boundary for failures: whatever goes wrong becomes one line on
stderr and an exit status, never a traceback; output is checked before it is printed.

Exit status 2: bad input or a result that cannot be given (the message says which). 130:
interrupted. 1: a bug in scaleplan, still one line (set SCALEPLAN_TRACEBACK=1 to see it).
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import FitError

# Python argument names that reach messages from the library, and the option a user of
# the command line typed for each (the rest map by argparse's own dest names).
ALIASES = {
    "n_resamples": "--bootstrap",
    "flop_budget": "--budget",
    "dollar_budget": "--budget",
    "seconds": "--hours",
    "smaller_params": "--as-good-as",
    "train_price_per_hour": "--train-price",
    "inference_price_per_hour": "--inference-price",
    "tpot_seconds": "--tpot-ms",
    "ttft_seconds": "--ttft-ms",
    "train_gpus": "--train-gpus",
    "config": "--hf-config",
    "target_seconds": "--tpot-ms",
}


# The optional extra that installs each optional top-level package (pyproject.toml).
EXTRAS = {"matplotlib": "plot", "jax": "measure", "pandas": "frames", "xarray": "frames",
          "dask": "dask", "distributed": "dask", "zarr": "dask", "pyarrow": "dask"}  # fmt: skip


def option_names(parser: Any) -> dict[str, str]:
    """dest -> the first long option string, for every option of `parser`."""
    names = {}
    for action in parser._actions:
        longs = [s for s in action.option_strings if s.startswith("--")]
        if longs:
            names[action.dest] = longs[0]
    return names


def in_option_terms(message: str, options: Mapping[str, str], argument: str | None = None) -> str:
    """A library message that starts with a Python argument name, restated with the
    option's name (`train_mfu must be ...` -> `--train-mfu must be ...`); a message that
    names no option but whose error carries an `argument` that is one gets it in front
    (`--tpot-ms: even a batch of one takes longer ...`)."""
    message = " ".join(message.split())  # one line, whatever the exception's text held
    # The command line passes scalars: "at index 0" of a one-row batch says nothing.
    message = re.sub(r";? at index 0$", "", message)
    match = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\b", message)
    if match:
        name = match.group(1)
        option = options.get(name) or ALIASES.get(name)
        if option:
            message = option + message[match.end() :]

    # Library names with an underscore inside the message (a joint condition naming its
    # other inputs) are restated too; plain words ("loss") are left as English.
    def restated(m: re.Match[str]) -> str:
        return options.get(m.group(0)) or ALIASES.get(m.group(0)) or m.group(0)

    message = re.sub(r"(?<![-\w])[a-z]+(?:_[a-z]+)+\b", restated, message)
    option = options.get(argument or "") or ALIASES.get(argument or "")
    if option and option not in message:
        message = f"{option}: {message}"
    return message


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Mapping):
        return all(_finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_finite(v) for v in value)
    return True


def run(
    command: str, work: Callable[[], tuple[Any, str]], output: str, options: Mapping[str, str]
) -> int:
    """Run one subcommand's work and print its result as `output` ("text", "json" or
    "csv"); returns the exit status."""
    prefix = f"scaleplan {command}: error:"
    try:
        data, text = work()
        if not _finite(data):
            # inf or nan in a result is never an answer: say so instead of printing it.
            raise ValueError("the result is outside the float64 range for these inputs")
        if output == "json":
            text = json.dumps(data, indent=2, allow_nan=False)
        elif output == "csv":
            from .render import csv_text  # NumPy: loaded by the command already

            text = csv_text(data)
        print(text, flush=True)
        return 0
    except BrokenPipeError:
        # The reader went away (`| head -1`): not an error of ours. Point stdout at
        # /dev/null so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"scaleplan {command}: interrupted", file=sys.stderr)
        return 130
    except (ValueError, FitError, OverflowError, ZeroDivisionError, csv.Error) as exc:
        text = in_option_terms(str(exc), options, getattr(exc, "argument", None))
        print(f"{prefix} {text}", file=sys.stderr)
        return 2
    except ImportError as exc:
        if (exc.name or "").split(".")[0] == "scaleplan":
            return _internal(command, exc)  # our own import failing is a bug, not an extra
        extra = EXTRAS.get((exc.name or "").split(".")[0], "dask")
        print(
            f"{prefix} needs {exc.name or 'an optional package'}: pip install 'scaleplan[{extra}]'",
            file=sys.stderr,
        )
        return 2
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        print(f"{prefix} cannot write or read{where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"{prefix} out of memory", file=sys.stderr)
        return 2
    except Exception as exc:
        return _internal(command, exc)


def _internal(command: str, exc: BaseException) -> int:
    """A bug in scaleplan: still one line, exit status 1 (SCALEPLAN_TRACEBACK=1 re-raises)."""
    if os.environ.get("SCALEPLAN_TRACEBACK"):
        raise exc
    text = " ".join(str(exc).split())
    print(
        f"scaleplan {command}: internal error ({type(exc).__name__}: {text}); please report "
        "it (SCALEPLAN_TRACEBACK=1 shows where)",
        file=sys.stderr,
    )
    return 1
