"""The `scaleplan` command line's parser: every subcommand with a description and every
option with its meaning, unit and (through the formatter) its default.

Handlers live in `cli.py`; `build` takes them by subcommand name, so this module holds
only what the user types.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from . import __version__, cli_sweep
from .cli_types import fraction, non_negative, non_negative_int, positive, positive_int
from .hardware import ACCELERATORS, PRECISIONS
from .laws import PRESETS
from .lifetime import METHODS

Handler = Callable[[argparse.Namespace], tuple[Any, str]]


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults appended to each option's help; descriptions kept as written."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the full usage is one --help away)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--law",
        default="chinchilla",
        choices=list(PRESETS),
        help="loss-law preset L(N, D) = E + A/N^alpha + B/D^beta (`scaleplan presets` lists "
        "their coefficients)",
    )
    p.add_argument("--json", action="store_true", help="print strict JSON instead of a table")


def _target(p: argparse.ArgumentParser, default_params: str) -> None:
    p.add_argument("--loss", type=positive, help="target loss in nats/token")
    p.add_argument(
        "--chinchilla-params",
        type=positive,
        metavar="PARAMS",
        help="target the loss of the Chinchilla-style model of this many parameters "
        f"(used when --loss is not given; {default_params} if neither is)",
    )


def _requests(p: argparse.ArgumentParser, default: float | None) -> None:
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


def _hardware(p: argparse.ArgumentParser) -> None:
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


def _add_plan(sub: Any, run: Handler) -> None:
    p = sub.add_parser(
        "plan",
        help="size a model for its whole life: FLOP- and cost-optimal vs Chinchilla",
        description="From a quality target and a demand, the Chinchilla-style, compute-optimal "
        "and cost-optimal models side by side, with the training/inference split and the "
        "break-even demand.",
    )
    p.add_argument("--loss", type=positive, help="target loss in nats/token")
    p.add_argument(
        "--as-good-as",
        type=positive,
        metavar="PARAMS",
        help="target the loss of a Chinchilla-optimal model of this many parameters "
        "(7e9 when neither this nor --loss is given)",
    )
    p.add_argument(
        "--requests-per-day", type=positive, default=1e7, help="inference requests per day"
    )
    p.add_argument("--days", type=positive, default=365.0, help="days the model serves")
    p.add_argument(
        "--input-tokens", type=non_negative, default=70.0, help="prompt tokens per request"
    )
    p.add_argument(
        "--output-tokens", type=non_negative, default=215.0, help="generated tokens per request"
    )
    _hardware(p)
    _common(p)
    p.set_defaults(run=run)


def _add_sizing(sub: Any, handlers: Mapping[str, Handler]) -> None:
    co = sub.add_parser(
        "compute-optimal",
        help="parameters and tokens minimising training + inference FLOPs",
        description="The model reaching a loss with the fewest lifetime FLOPs, beside the "
        "Chinchilla-style model of the same loss. Without --loss the target is the loss of a "
        "Chinchilla-style 13B model (Sardana et al., Figure 1).",
    )
    _target(co, "13e9")
    co.add_argument(
        "--inference-tokens",
        type=non_negative,
        default=2e12,
        help="lifetime inference demand in tokens",
    )
    co.add_argument(
        "--method", choices=METHODS, default="newton", help="root finder for the optimum"
    )
    _common(co)
    co.set_defaults(run=handlers["compute-optimal"])

    ch = sub.add_parser(
        "chinchilla",
        help="training-only optimum in closed form",
        description="The Chinchilla-optimal model for a size, a loss or a training budget: "
        "give exactly one.",
    )
    ch.add_argument("--params", type=positive, help="model size in parameters")
    ch.add_argument("--loss", type=positive, help="target loss in nats/token")
    ch.add_argument("--compute", type=positive, help="training budget in FLOPs")
    _common(ch)
    ch.set_defaults(run=handlers["chinchilla"])

    cost = sub.add_parser(
        "cost-optimal",
        help="parameters and tokens minimising training + inference dollars",
        description="The model reaching a loss with the lowest lifetime dollars. Defaults are "
        "the paper's Figure 6 setting and the quality of a Chinchilla-style 13B model.",
    )
    _target(cost, "13e9")
    _requests(cost, 7.02e9)
    _hardware(cost)
    _common(cost)
    cost.set_defaults(run=handlers["cost-optimal"])

    best = sub.add_parser(
        "best-quality",
        help="lowest loss for a lifetime budget",
        description="The lowest loss a lifetime budget buys: FLOPs with --inference-tokens, "
        "dollars with --requests (and the hardware options).",
    )
    best.add_argument(
        "--budget",
        type=positive,
        required=True,
        help="lifetime budget: FLOPs with --inference-tokens, US dollars with --requests",
    )
    best.add_argument(
        "--inference-tokens", type=non_negative, help="lifetime inference demand in tokens"
    )
    _requests(best, None)
    _hardware(best)
    _common(best)
    best.set_defaults(run=handlers["best-quality"])


def _add_fit(sub: Any, run: Handler) -> None:
    p = sub.add_parser(
        "fit",
        help="fit a loss law to training runs (Chinchilla Approach 3)",
        description="Huber-LSE fit by L-BFGS-B from the 4,500-point grid of Hoffmann et al., "
        "the best starts polished to the optimum by Newton's method.",
    )
    p.add_argument("file", nargs="?", help="CSV file with a header and one row per run")
    p.add_argument("--params-col", default="params", help="CSV column of parameter counts")
    p.add_argument("--tokens-col", default="tokens", help="CSV column of training tokens")
    p.add_argument("--loss-col", default="loss", help="CSV column of final losses (nats)")
    p.add_argument(
        "--dataset",
        choices=("chinchilla", "sardana2024"),
        help="a shipped data set instead of a file",
    )
    p.add_argument(
        "--max-tokens-per-param",
        type=positive,
        help="with --dataset sardana2024: only runs up to this tokens/parameter ratio",
    )
    p.add_argument(
        "--bootstrap",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="also refit N resamples (N >= 2) and report intervals; 0: none",
    )
    p.add_argument("--seed", type=non_negative_int, default=0, help="bootstrap random seed")
    p.add_argument(
        "--workers", type=positive_int, help="processes to spread the starts over (None: 1)"
    )
    p.add_argument("--json", action="store_true", help="print strict JSON instead of a table")
    p.set_defaults(run=run)


def _timing(p: argparse.ArgumentParser) -> None:
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
    _common(p)


def _add_steptime(sub: Any, handlers: Mapping[str, Handler]) -> None:
    st = sub.add_parser(
        "step-time",
        help="params, FLOPs, memory traffic and time of one step",
        description="Counts of one training step of a transformer shape, its predicted time, "
        "and with --hours the loss it reaches in that wall-clock budget.",
    )
    st.add_argument("--d-model", type=positive_int, required=True, help="model width")
    st.add_argument("--n-layers", type=positive_int, required=True, help="transformer blocks")
    st.add_argument("--n-heads", type=positive_int, default=32, help="attention heads")
    st.add_argument("--head-dim", type=positive_int, help="(None: d-model / n-heads)")
    st.add_argument("--n-kv-heads", type=positive_int, help="key/value heads (None: n-heads)")
    st.add_argument("--d-ff", type=positive_int, help="MLP width (None: 4 d-model)")
    st.add_argument("--plain-mlp", action="store_true", help="two-matrix MLP instead of gated")
    st.add_argument("--tied", action="store_true", help="tie input and output embeddings")
    st.add_argument("--hours", type=positive, help="also the loss reached in this many hours")
    _timing(st)
    st.set_defaults(run=handlers["step-time"])

    bs = sub.add_parser(
        "best-shapes",
        help="lowest-loss shapes for a wall-clock budget",
        description="Searches a grid of transformer shapes for the lowest loss reachable in "
        "--hours on one accelerator.",
    )
    bs.add_argument("--hours", type=positive, required=True, help="wall-clock budget in hours")
    bs.add_argument("--max-params", type=positive, help="largest model, in parameters")
    bs.add_argument("--max-memory", type=positive, help="training memory limit in bytes")
    bs.add_argument("--top", type=positive_int, default=10, help="shapes to list")
    _timing(bs)
    bs.set_defaults(run=handlers["best-shapes"])


def _add_listings(sub: Any, handlers: Mapping[str, Handler]) -> None:
    rp = sub.add_parser(
        "reproduce",
        help="regenerate the paper's tables and figures",
        description="Writes the tables and figures of Sardana et al. 2024, ours beside the "
        "published numbers, into a folder. Figures need the [plot] extra (matplotlib).",
    )
    rp.add_argument("--out", default="reproduction", help="output folder")
    rp.add_argument("--json", action="store_true", help="print strict JSON instead of a table")
    rp.set_defaults(run=handlers["reproduce"])

    hw = sub.add_parser(
        "hardware",
        help="list the accelerator catalogue",
        description="Peak FLOP/s per precision, memory, bandwidth and price of each "
        "accelerator, with the price's source and date.",
    )
    hw.add_argument("--json", action="store_true", help="print strict JSON instead of a table")
    hw.set_defaults(run=handlers["hardware"])

    pr = sub.add_parser(
        "presets",
        help="list the loss-law presets",
        description="Coefficients and sources of the loss laws that --law accepts.",
    )
    pr.add_argument("--json", action="store_true", help="print strict JSON instead of a table")
    pr.set_defaults(run=handlers["presets"])


def build(handlers: Mapping[str, Handler]) -> Parser:
    """The whole parser; `handlers` maps each subcommand name to its function."""
    p = Parser(
        prog="scaleplan",
        description="Size a language model for its whole life: training plus inference.",
    )
    p.add_argument("--version", action="version", version=f"scaleplan {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    _add_plan(sub, handlers["plan"])
    _add_sizing(sub, handlers)
    _add_fit(sub, handlers["fit"])
    _add_steptime(sub, handlers)
    _add_listings(sub, handlers)
    sw = sub.add_parser(
        "sweep",
        help="solve a grid of scenarios on Dask and write it to Zarr or Parquet",
        description="Every combination of the given losses and demands (and, for a --requests "
        "sweep, prompt and answer lengths), solved chunk by chunk and written as it goes, so "
        "the grid may be larger than memory. Needs the [dask] extra. Runs in this process by "
        "default, on a local cluster with --workers N, or on a running cluster with "
        "--scheduler ADDRESS.",
    )
    cli_sweep.add_arguments(sw)
    _hardware(sw)
    _common(sw)
    sw.set_defaults(run=handlers["sweep"])
    return p
