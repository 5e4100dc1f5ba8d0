"""The `scaleplan` command line.

    scaleplan compute-optimal [--loss L | --chinchilla-params N] [--inference-tokens D] [--json]
    scaleplan chinchilla (--params N | --loss L | --compute C) [--json]
    scaleplan presets [--json]

Bad arguments print one line on stderr and exit with status 2; nothing prints a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from . import __version__
from .laws import PRESETS, ScalingLaw, chinchilla_optimal
from .lifetime import METHODS, compute_optimal

# With no target given, compute-optimal plans the paper's Figure 1 scenario: the quality of
# a Chinchilla-style 13B model serving 2 trillion inference tokens.
DEFAULT_CHINCHILLA_PARAMS = 13e9
DEFAULT_INFERENCE_TOKENS = 2e12


class CliError(Exception):
    """A user mistake, reported as one line."""


def _si(x: float) -> str:
    if not math.isfinite(x):
        return str(x)
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.3g}"


def _cell(key: str, v: float) -> str:
    if key == "tokens_per_param":
        return f"{v:.1f}"
    return f"{v:.3g}" if "flops" in key else _si(v)


def _law(name: str) -> ScalingLaw:
    if name not in PRESETS:
        raise CliError(f"unknown law {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    # First column left-aligned (labels), the rest right-aligned (numbers).
    fmt = "  ".join(("{:<%d}" if i == 0 else "{:>%d}") % w for i, w in enumerate(widths))
    lines = [fmt.format(*headers), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*r) for r in rows]
    return "\n".join(lines)


def _compute_optimal(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    law = _law(args.law)
    if args.loss is not None and args.chinchilla_params is not None:
        raise CliError("give --loss or --chinchilla-params, not both")
    if args.loss is None:
        size = args.chinchilla_params or DEFAULT_CHINCHILLA_PARAMS
        loss = chinchilla_optimal(params=size, law=law).loss
    else:
        loss = args.loss
    r = compute_optimal(loss, args.inference_tokens, law=law, method=args.method)
    c = r.chinchilla
    data = {
        "law": law.name,
        "loss": r.loss,
        "inference_tokens": r.inference_tokens,
        "optimal": {
            "params": r.params,
            "tokens": r.tokens,
            "tokens_per_param": r.tokens_per_param,
            "training_flops": r.training_flops,
            "inference_flops": r.inference_flops,
            "total_flops": r.total_flops,
            "iterations": r.iterations,
        },
        "chinchilla": {
            "params": c.params,
            "tokens": c.tokens,
            "tokens_per_param": c.tokens_per_param,
            "training_flops": c.training_flops,
            "inference_flops": c.inference_flops,
            "total_flops": c.total_flops,
        },
        "flop_saving": r.flop_saving,
    }
    rows = []
    for key, label in (
        ("params", "parameters"),
        ("tokens", "training tokens"),
        ("tokens_per_param", "tokens / parameter"),
        ("training_flops", "training FLOPs"),
        ("inference_flops", "inference FLOPs"),
        ("total_flops", "lifetime FLOPs"),
    ):
        o, ch = data["optimal"][key], data["chinchilla"][key]
        ratio = f"{o / ch:.3f}" if ch else "-"
        rows.append((label, _cell(key, ch), _cell(key, o), ratio))
    text = (
        f"Lifetime compute-optimal model (law {law.name}, loss {r.loss:.4f} nats/token, "
        f"inference demand {_si(r.inference_tokens)} tokens)\n\n"
        + _table(("", "Chinchilla-style", "compute-optimal", "ratio"), rows)
        + f"\n\nThe compute-optimal model saves {100 * r.flop_saving:.1f}% of lifetime FLOPs."
    )
    return data, text


def _chinchilla(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    law = _law(args.law)
    given = {"params": args.params, "loss": args.loss, "compute": args.compute}
    chosen = {k: v for k, v in given.items() if v is not None}
    if len(chosen) != 1:
        raise CliError("give exactly one of --params, --loss or --compute")
    m = chinchilla_optimal(**chosen, law=law)
    data = {
        "law": law.name,
        "params": m.params,
        "tokens": m.tokens,
        "loss": m.loss,
        "training_flops": m.training_flops,
        "tokens_per_param": m.tokens_per_param,
    }
    text = _table(
        ("Chinchilla-style model", "value"),
        [
            ("parameters", _si(m.params)),
            ("training tokens", _si(m.tokens)),
            ("tokens / parameter", f"{m.tokens_per_param:.1f}"),
            ("loss (nats/token)", f"{m.loss:.4f}"),
            ("training FLOPs", f"{m.training_flops:.3g}"),
        ],
    )
    return data, text


def _presets(args: argparse.Namespace) -> tuple[Any, str]:
    data = {
        name: dict(zip(("E", "A", "B", "alpha", "beta"), law.coefficients, strict=True))
        | {"source": law.source}
        for name, law in PRESETS.items()
    }
    rows = [(n, *(f"{v:g}" for v in law.coefficients)) for n, law in PRESETS.items()]
    return data, _table(("preset", "E", "A", "B", "alpha", "beta"), rows)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (the full usage is one --help away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="scaleplan",
        description="Size a language model for its whole life: training plus inference.",
    )
    p.add_argument("--version", action="version", version=f"scaleplan {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--law", default="chinchilla", help="loss-law preset (see `presets`)")
        sp.add_argument("--json", action="store_true", help="print JSON instead of a table")

    co = sub.add_parser(
        "compute-optimal",
        help="parameters and tokens minimising training + inference FLOPs",
        description="The model reaching a loss with the fewest lifetime FLOPs, beside the "
        "Chinchilla-style model of the same loss. Without --loss the target is the loss of a "
        "Chinchilla-style 13B model (Sardana et al., Figure 1).",
    )
    co.add_argument("--loss", type=float, help="target loss in nats/token")
    co.add_argument(
        "--chinchilla-params",
        type=float,
        help="target the loss of the Chinchilla-style model of this many parameters",
    )
    co.add_argument(
        "--inference-tokens",
        type=float,
        default=DEFAULT_INFERENCE_TOKENS,
        help="lifetime inference demand in tokens (default 2e12)",
    )
    co.add_argument("--method", choices=METHODS, default="newton")
    common(co)
    co.set_defaults(run=_compute_optimal)

    ch = sub.add_parser("chinchilla", help="training-only optimum in closed form")
    ch.add_argument("--params", type=float, help="model size in parameters")
    ch.add_argument("--loss", type=float, help="target loss in nats/token")
    ch.add_argument("--compute", type=float, help="training budget in FLOPs")
    common(ch)
    ch.set_defaults(run=_chinchilla)

    pr = sub.add_parser("presets", help="list the loss-law presets")
    pr.add_argument("--json", action="store_true")
    pr.set_defaults(run=_presets)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        data, text = args.run(args)
    except (CliError, ValueError) as exc:
        print(f"scaleplan {args.command}: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(data, indent=2) if args.json else text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
