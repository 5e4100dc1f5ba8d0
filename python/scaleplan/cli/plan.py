"""`scaleplan plan`: its options (`add`) and what it prints (`run`, data and text)."""

from __future__ import annotations

import argparse
from typing import Any

from ..costs import cost_optimal
from ..laws import chinchilla_optimal
from ..lifetime import compute_optimal
from .options import common, hardware
from .render import render_table, si_number
from .shared import CliError, cost_model, preset_law
from .values import non_negative, positive


def add(sub: Any) -> argparse.ArgumentParser:
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
    hardware(p)
    common(p)
    return p


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from ..allocation import lifetime_split
    from ..costs import breakeven_requests, lifetime_cost

    law = preset_law(args.law)
    costs = cost_model(args)
    if args.loss is not None and args.as_good_as is not None:
        raise CliError("give --loss or --as-good-as, not both")
    if args.loss is not None:
        loss = float(args.loss)
        target = f"loss {loss:.4f}"
    else:
        size = 7e9 if args.as_good_as is None else args.as_good_as
        loss = float(chinchilla_optimal(params=size, law=law).loss)
        target = f"as good as a Chinchilla-optimal {si_number(size)} model (loss {loss:.4f})"
    for name in ("requests_per_day", "days"):
        v = getattr(args, name)
        if not (v >= 0 and v < float("inf")):
            raise CliError(f"--{name.replace('_', '-')} must be a finite number >= 0; got {v}")
    requests = args.requests_per_day * args.days
    tokens = requests * (args.input_tokens + args.output_tokens)
    flops_plan = compute_optimal(loss, tokens, law=law)
    dollar_plan = cost_optimal(
        loss, requests, args.input_tokens, args.output_tokens, costs=costs, law=law
    )
    chin = dollar_plan.chinchilla
    models = {
        "chinchilla_style": (chin.params, chin.tokens),
        "compute_optimal": (flops_plan.params, flops_plan.tokens),
        "cost_optimal": (dollar_plan.params, dollar_plan.tokens),
    }
    data: dict[str, Any] = {
        "law": law.name,
        "loss": loss,
        "requests": requests,
        "inference_tokens": tokens,
        "models": {},
    }
    cols: dict[str, list[str]] = {}
    for name, (n, d) in models.items():
        c = lifetime_cost(n, d, requests, args.input_tokens, args.output_tokens, costs=costs)
        entry = {
            "params": n,
            "tokens": d,
            "tokens_per_param": d / n,
            "training_flops": c.training_flops,
            "inference_flops": c.inference_flops,
            "total_flops": c.total_flops,
            "training_dollars": c.training_dollars,
            "inference_dollars": c.inference_dollars,
            "total_dollars": c.total_dollars,
            "training_share_of_dollars": c.training_dollars / c.total_dollars,
        }
        data["models"][name] = entry
        cols[name] = [
            si_number(n),
            si_number(d),
            f"{d / n:.0f}",
            f"{c.training_flops:.3g}",
            f"{c.inference_flops:.3g}",
            f"{c.total_flops:.3g}",
            f"${c.training_dollars:.3g}",
            f"${c.inference_dollars:.3g}",
            f"${c.total_dollars:.3g}",
            f"{100 * c.training_dollars / c.total_dollars:.0f}%",
        ]
    split = lifetime_split(dollar_plan)
    data["exchange_rate"] = float(split.exchange_rate)
    be = breakeven_requests(
        chin.params,
        chin.tokens,
        dollar_plan.params,
        args.input_tokens,
        args.output_tokens,
        costs=costs,
        law=law,
    )
    data["breakeven_requests"] = be
    labels = [
        "parameters",
        "training tokens",
        "tokens / parameter",
        "training FLOPs",
        "inference FLOPs",
        "lifetime FLOPs",
        "training $",
        "inference $",
        "lifetime $",
        "training share of $",
    ]
    rows = [(label, *(cols[m][i] for m in models)) for i, label in enumerate(labels)]
    saving = (
        1
        - data["models"]["cost_optimal"]["total_dollars"]
        / data["models"]["chinchilla_style"]["total_dollars"]
    )
    text = (
        f"Plan for a model {target}, serving {si_number(requests)} requests "
        f"({si_number(tokens)} tokens) over its life\n"
        f"train on {costs.train_gpu.name}, serve on {costs.inference_gpu.name} "  # type: ignore[union-attr]
        f"({costs.inference_precision}), law {law.name}\n\n"
        + render_table(("", "Chinchilla-style", "compute-optimal", "cost-optimal"), rows)
        + f"\n\nThe cost-optimal model saves {100 * saving:.1f}% of lifetime dollars. At its "
        f"optimum training and inference trade at r = {split.exchange_rate:.3g} (training "
        f"share r/(1+r) = {100 * split.exchange_rate / (1 + split.exchange_rate):.0f}%).\n"
        f"It beats the Chinchilla-style model beyond {si_number(be)} lifetime requests."
    )
    return data, text
