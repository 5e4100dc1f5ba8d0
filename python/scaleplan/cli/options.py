"""The parser class and the option groups several commands share (target, demand,
hardware, timing, output), each option with its meaning, unit and default.
"""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from ..hardware.accelerators import ACCELERATORS, PRECISIONS
from ..laws.scaling import PRESETS
from .values import fraction, non_negative, positive, positive_int


class Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults appended to each option's help; descriptions kept as written."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the full usage is one --help away)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--law",
        default="chinchilla",
        choices=list(PRESETS),
        help="loss-law preset L(N, D) = E + A/N^alpha + B/D^beta (`scaleplan presets` lists "
        "their coefficients)",
    )
    output(p)


def output(p: argparse.ArgumentParser) -> None:
    """--json or --csv instead of the text table (the same data either way)."""
    form = p.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print strict JSON instead of a table")
    form.add_argument(
        "--csv",
        action="store_true",
        help="print CSV: one row per record (shapes, models, accelerators), dotted names "
        "for nested fields",
    )


def target(p: argparse.ArgumentParser, default_params: str) -> None:
    p.add_argument("--loss", type=positive, help="target loss in nats/token")
    p.add_argument(
        "--chinchilla-params",
        type=positive,
        metavar="PARAMS",
        help="target the loss of the Chinchilla-style model of this many parameters "
        f"(used when --loss is not given; {default_params} if neither is)",
    )


def requests(p: argparse.ArgumentParser, default: float | None) -> None:
    p.add_argument(
        "--requests",
        type=non_negative,
        default=default,
        help="lifetime inference requests (count)",
    )
    p.add_argument(
        "--input-tokens", type=non_negative, default=70.0, help="prompt tokens per request"
    )
    p.add_argument(
        "--output-tokens", type=non_negative, default=215.0, help="generated tokens per request"
    )


def hardware(p: argparse.ArgumentParser) -> None:
    gpus = list(ACCELERATORS)
    p.add_argument("--train-gpu", default="a100-80gb", choices=gpus, help="training accelerator")
    p.add_argument("--inference-gpu", default="a100-40gb", choices=gpus, help="serving accelerator")
    p.add_argument("--train-precision", default="bf16", choices=PRECISIONS, help="training")
    p.add_argument(
        "--inference-precision", default="int8", choices=PRECISIONS, help="serving precision"
    )
    p.add_argument(
        "--train-price",
        type=positive,
        metavar="USD",
        help="training $ per GPU-hour (None: the catalogue price, `scaleplan hardware`)",
    )
    p.add_argument(
        "--inference-price",
        type=positive,
        metavar="USD",
        help="serving $ per GPU-hour (None: the catalogue price)",
    )
    for phase, default in (("train", 0.5), ("prefill", 0.5), ("decode", 0.01)):
        p.add_argument(
            f"--{phase}-mfu",
            type=fraction,
            default=default,
            help=f"{phase} model-FLOP utilisation, a fraction of peak FLOP/s",
        )
    p.add_argument(
        "--table3",
        action="store_true",
        help="the setting that reproduces Sardana et al. Table 3 (inference $1.00/h)",
    )


def timing(p: argparse.ArgumentParser) -> None:
    p.add_argument("--gpu", default="h100-sxm", choices=list(ACCELERATORS), help="accelerator")
    p.add_argument("--precision", default="bf16", choices=PRECISIONS, help="training precision")
    p.add_argument("--mfu", type=fraction, default=0.5, help="fraction of peak FLOP/s reached")
    p.add_argument(
        "--measured",
        action="store_true",
        help="use the step-time model fitted to the shipped CPU measurements",
    )
    p.add_argument("--vocab", type=positive_int, default=32000, help="vocabulary size")
    p.add_argument("--seq-len", type=positive_int, default=2048, help="tokens per sequence")
    p.add_argument("--batch-size", type=positive_int, default=8, help="sequences per step")
    common(p)


def runs_source(p: argparse.ArgumentParser, datasets: tuple[str, ...]) -> None:
    """Where training runs come from: a CSV file and its column names, or a shipped set."""
    p.add_argument("file", nargs="?", help="CSV file with a header and one row per run")
    p.add_argument("--params-col", default="params", help="CSV column of parameter counts")
    p.add_argument("--tokens-col", default="tokens", help="CSV column of training tokens")
    p.add_argument("--loss-col", default="loss", help="CSV column of final losses (nats)")
    p.add_argument("--dataset", choices=datasets, help="a shipped data set instead of a file")
