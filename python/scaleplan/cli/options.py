"""The parser class and the option groups several commands share (target, demand,
hardware, timing, output), each option with its meaning, unit and default, said once.

One vocabulary across commands: the quality target is `--loss` or `--as-good-as PARAMS`
(default: as good as a Chinchilla-optimal 7e9 model); demand is `--requests-per-day`
(1e7) for `--days` (365) of `--input-tokens` (70) + `--output-tokens` (215). The names
they replace (`--chinchilla-params`, the lifetime `--requests`) still parse, hidden, and
say once on stderr that they are deprecated.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from ..hardware.accelerators import ACCELERATORS, PRECISIONS
from ..hardware.formats import FORMATS
from .parser import number_text
from .values import fraction, gpu, law, non_negative, positive, positive_int

# The defaults of the shared target and demand (one each, on every command that has them).
DEFAULT_AS_GOOD_AS = 7e9
DEFAULT_REQUESTS_PER_DAY = 1e7
DEFAULT_DAYS = 365.0
DEFAULT_INPUT_TOKENS = 70.0
DEFAULT_OUTPUT_TOKENS = 215.0


def group(p: argparse.ArgumentParser, title: str) -> Any:
    """The argument group of `p` called `title`, made on first use (so several helpers can
    fill one group)."""
    for g in p._action_groups:
        if g.title == title:
            return g
    return p.add_argument_group(title)


class Given(argparse._StoreAction):
    """Stores the value and notes that the option was given (on the command line or in a
    --config file), for options whose default must not clash with an alternative."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        setattr(namespace, self.dest, values)
        given = set(getattr(namespace, "given", ()) or ())
        namespace.given = given | {self.dest}


class Deprecated(Given):
    """A hidden old name of an option: parses as before, and the run says once, on stderr,
    which name replaces it (`deprecations`; after the answer, so that an error stays one
    line)."""

    def __init__(self, *args: Any, instead: str, **kwargs: Any) -> None:
        self.instead = instead
        super().__init__(*args, **kwargs)

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        notes = list(getattr(namespace, "deprecations", ()) or ())
        note = f"{option} is deprecated; use {self.instead}"
        namespace.deprecations = notes + ([note] if note not in notes else [])
        super().__call__(parser, namespace, values, option)


def deprecations(args: argparse.Namespace) -> list[str]:
    """The deprecation notes of the old option names `args` were given with."""
    return list(getattr(args, "deprecations", ()) or ())


def given(args: argparse.Namespace, dest: str) -> bool:
    """Whether the option stored in `dest` was given (only `Given` options record it)."""
    return dest in (getattr(args, "given", None) or ())


def common(p: argparse.ArgumentParser) -> None:
    """--law, and the output format."""
    group(p, "law").add_argument(
        "--law",
        default="chinchilla",
        type=law,
        metavar="LAW",
        help="the loss law L(N, D) = E + A/N^alpha + B/D^beta: a preset ("
        + ", ".join(_presets())
        + "; `scaleplan presets` lists their coefficients), joint-moe (the MoE law of "
        "Ludziejewski et al. 2025 at --experts, where a command takes it) or a JSON/TOML "
        "file with E, A, B, alpha, beta, such as `scaleplan fit --json` writes",
    )
    output(p)


def experts(p: argparse.ArgumentParser, *, auto: bool = False, memory: bool = True) -> None:
    """--experts: routed experts under --law joint-moe (and, with `auto` and `memory`,
    --memory for "auto")."""
    from .values import expert_count, experts_or_auto

    law_group = group(p, "law")
    law_group.add_argument(
        "--experts",
        type=experts_or_auto if auto else expert_count,
        metavar="N|auto" if auto else "N",
        help="routed experts of a mixture of experts, under --law joint-moe (Ludziejewski et "
        "al. 2025; parameters are then active ones)"
        + ("; auto: the cheapest of 1, 2, 4, 8, 16 and 32" if auto else ""),
    )
    if auto and memory:
        law_group.add_argument(
            "--memory",
            type=positive,
            metavar="GB",
            help="with --experts auto: memory the bf16 weights must fit, in GB (1e9 bytes)",
        )


def _presets() -> Sequence[str]:
    from ..laws.scaling import PRESETS

    return list(PRESETS)


def output(p: argparse.ArgumentParser) -> None:
    """--json or --csv instead of the text table (the same data either way)."""
    form = group(p, "output").add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print strict JSON instead of a table")
    form.add_argument(
        "--csv",
        action="store_true",
        help="print CSV: one row per record (shapes, models, accelerators), dotted names "
        "for nested fields",
    )


def target(p: argparse.ArgumentParser) -> None:
    """The quality to reach: --loss, or --as-good-as (default 7e9), one of them."""
    g = group(p, "target")
    g.add_argument("--loss", type=positive, help="target loss in nats/token")
    g.add_argument(
        "--as-good-as",
        type=positive,
        metavar="PARAMS",
        help="target the loss of a Chinchilla-optimal model of this many parameters "
        f"(default {number_text(DEFAULT_AS_GOOD_AS)} when --loss is not given)",
    )
    g.add_argument("--chinchilla-params", dest="as_good_as", type=positive,
                   action=Deprecated, instead="--as-good-as", help=argparse.SUPPRESS)  # fmt: skip


def demand(p: argparse.ArgumentParser, *, lifetime_requests: bool = True) -> None:
    """Inference demand: requests per day for a number of days, each of so many prompt and
    generated tokens. `lifetime_requests` adds the deprecated lifetime `--requests`."""
    g = group(p, "demand")
    g.add_argument("--requests-per-day", type=positive, default=DEFAULT_REQUESTS_PER_DAY,
                   action=Given, metavar="N", help="inference requests per day")  # fmt: skip
    g.add_argument("--days", type=positive, default=DEFAULT_DAYS, action=Given, metavar="DAYS",
                   help="days the model serves")  # fmt: skip
    per_request(p)
    if lifetime_requests:
        g.add_argument("--requests", type=non_negative, action=Deprecated,
                       instead="--requests-per-day and --days", help=argparse.SUPPRESS)  # fmt: skip


def per_request(p: argparse.ArgumentParser) -> None:
    """Tokens per request: prompt and generated."""
    g = group(p, "demand")
    g.add_argument("--input-tokens", type=non_negative, default=DEFAULT_INPUT_TOKENS,
                   action=Given, metavar="TOKENS", help="prompt tokens per request")  # fmt: skip
    g.add_argument("--output-tokens", type=non_negative, default=DEFAULT_OUTPUT_TOKENS,
                   action=Given, metavar="TOKENS",
                   help="generated tokens per request")  # fmt: skip


def inference_tokens(p: argparse.ArgumentParser, what: str) -> None:
    """--inference-tokens: lifetime demand in tokens, instead of the per-day demand."""
    group(p, "demand").add_argument(
        "--inference-tokens",
        type=non_negative,
        metavar="TOKENS",
        help=f"lifetime inference tokens ({what}); default: requests per day x days x "
        "(input + output tokens)",
    )


GPU_HELP = (
    "one of " + ", ".join(ACCELERATORS) + " (`scaleplan hardware`), or a JSON/TOML "
    "accelerator file with its peaks, memory and price"
)


def hardware(p: argparse.ArgumentParser) -> None:
    g = group(p, "hardware")
    g.add_argument("--train-gpu", default="a100-80gb", type=gpu, metavar="GPU",
                   help=f"training accelerator: {GPU_HELP}")  # fmt: skip
    g.add_argument("--inference-gpu", default="a100-40gb", type=gpu, metavar="GPU",
                   help=f"serving accelerator: {GPU_HELP}")  # fmt: skip
    g.add_argument("--train-precision", default="bf16", choices=PRECISIONS,
                   help="number format of the training matmuls (sets the peak)")  # fmt: skip
    g.add_argument("--inference-precision", default="int8", choices=list(FORMATS),
                   help="number format of the serving weights (weight-only w8a16/w4a16 "
                   "compute in fp16)")  # fmt: skip
    g.add_argument(
        "--train-price",
        type=positive,
        metavar="USD",
        help="training US dollars per GPU-hour (default: the accelerator's catalogue price)",
    )
    g.add_argument(
        "--inference-price",
        type=positive,
        metavar="USD",
        help="serving US dollars per GPU-hour (default: the accelerator's catalogue price)",
    )
    for phase, default in (("train", 0.5), ("prefill", 0.5), ("decode", 0.01)):
        g.add_argument(
            f"--{phase}-mfu",
            type=fraction,
            metavar="FRACTION",
            default=default,
            help=f"{phase} model-FLOP utilisation: the fraction of peak FLOP/s reached",
        )
    g.add_argument(
        "--table3",
        action="store_true",
        help="the setting that reproduces Sardana et al. Table 3 (inference $1.00/h)",
    )


def timing(p: argparse.ArgumentParser) -> None:
    g = group(p, "hardware")
    g.add_argument("--gpu", default="h100-sxm", type=gpu, metavar="GPU",
                   help=f"accelerator: {GPU_HELP}")  # fmt: skip
    g.add_argument("--precision", default="bf16", choices=PRECISIONS,
                   help="number format of the training matmuls")  # fmt: skip
    g.add_argument("--mfu", type=fraction, default=0.5, metavar="FRACTION",
                   help="model-FLOP utilisation: the fraction of peak FLOP/s reached")  # fmt: skip
    g.add_argument(
        "--measured",
        action="store_true",
        help="use the step-time model fitted to the shipped CPU measurements",
    )
    s = group(p, "step")
    s.add_argument("--vocab", type=positive_int, default=32000, help="vocabulary size (tokens)")
    s.add_argument("--seq-len", type=positive_int, default=2048, help="tokens per sequence")
    s.add_argument("--batch-size", type=positive_int, default=8, help="sequences per step")
    common(p)


# The runs' three columns: the option's stem, the column a CSV file has by default, what
# the column holds.
COLUMN_OPTIONS = (
    ("params", "params", "parameter counts"),
    ("tokens", "tokens", "training tokens"),
    ("loss", "loss", "final losses (nats)"),
)


def runs_source(p: argparse.ArgumentParser, datasets: tuple[str, ...]) -> None:
    """Where training runs come from: a CSV file and its column names, or a shipped set."""
    g = group(p, "runs")
    g.add_argument("file", nargs="?", help="CSV file with a header and one row per run")
    # No parser default: a column name given with --dataset is refused (`runs_table`), not
    # silently ignored; with a file, the names below apply.
    for name, default, what in COLUMN_OPTIONS:
        text = f"CSV column of {what} (default: {default}; with a file only)"
        g.add_argument(f"--{name}-col", metavar="NAME", help=text)
    g.add_argument("--dataset", choices=datasets, help="a shipped data set instead of a file")


def config(p: argparse.ArgumentParser) -> None:
    """--config FILE.toml: option values from a file (read by `cli.config`)."""
    group(p, "configuration").add_argument(
        "--config",
        metavar="FILE.toml",
        help="read option values from a TOML file: keys are option names; top-level keys "
        "apply to every command with that option, a [command-name] table to that command "
        "only; the command line wins over both",
    )
