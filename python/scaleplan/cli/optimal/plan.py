"""`scaleplan plan`: its options (`add`) and what it prints (`run`, data and text)."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from ...laws.scaling import ScalingLaw, chinchilla_optimal
from ...optimal.costs import cost_optimal
from ...optimal.lifetime import compute_optimal
from ..options import common, hardware
from ..render import render_table, si_number
from ..shared import CliError, cost_model, preset_law
from ..values import non_negative, positive
from . import data_limit, downstream_target, plan_physical


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
    downstream_target.add_options(p)
    hardware(p)
    plan_physical.add_options(p)
    data_limit.add_option(p)
    common(p)
    return p


# Rows of the plan's table, in order; `_cells` gives one model's column.
_LABELS = (
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
)


def _target(args: argparse.Namespace, law: ScalingLaw) -> tuple[float, str]:
    """The loss to reach and how the heading describes it."""
    goal = downstream_target.resolve(args, law, ("--loss", "--as-good-as"))
    if goal is not None:
        return goal.loss, (
            f"scoring {goal.score:g} on {goal.fit.benchmark} (loss {goal.loss:.4f}, "
            f"95% {np.percentile(goal.losses, 2.5):.4f} to {np.percentile(goal.losses, 97.5):.4f})"
        )
    if args.loss is not None and args.as_good_as is not None:
        raise CliError("give --loss or --as-good-as, not both")
    if args.loss is not None:
        return float(args.loss), f"loss {float(args.loss):.4f}"
    size = 7e9 if args.as_good_as is None else args.as_good_as
    loss = float(chinchilla_optimal(params=size, law=law).loss)
    return loss, f"as good as a Chinchilla-optimal {si_number(size)} model (loss {loss:.4f})"


def _entry(n: float, d: float, c: Any) -> dict[str, float]:
    """One model's numbers for --json (`c` its LifetimeCost)."""
    return {
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


def _cells(e: dict[str, float]) -> list[str]:
    """One model's column of the table, in the order of `_LABELS`."""
    return [
        si_number(e["params"]),
        si_number(e["tokens"]),
        f"{e['tokens_per_param']:.0f}",
        f"{e['training_flops']:.3g}",
        f"{e['inference_flops']:.3g}",
        f"{e['total_flops']:.3g}",
        f"${e['training_dollars']:.3g}",
        f"${e['inference_dollars']:.3g}",
        f"${e['total_dollars']:.3g}",
        f"{100 * e['training_share_of_dollars']:.0f}%",
    ]


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from ..._utils.checks import product
    from ...errors import ScaleplanError
    from ...optimal.allocation import lifetime_split
    from ...optimal.costs import breakeven_requests, lifetime_cost

    law = preset_law(args.law)
    costs = cost_model(args)
    loss, target = _target(args, law)
    requests = product("requests", requests_per_day=args.requests_per_day, days=args.days)
    # The request's tokens go in under the name of the larger part, the one to lower.
    longer = "output_tokens" if args.output_tokens >= args.input_tokens else "input_tokens"
    per_request = {longer: args.input_tokens + args.output_tokens}
    tokens = product("inference_tokens", requests_per_day=args.requests_per_day, days=args.days,
                     **per_request)  # fmt: skip
    flops_plan = compute_optimal(loss, tokens, law=law)
    per_request = (args.input_tokens, args.output_tokens)
    dollar_plan = cost_optimal(loss, requests, *per_request, costs=costs, law=law)
    chin = dollar_plan.chinchilla
    sizes = (float(chin.params), float(flops_plan.params), float(dollar_plan.params))
    fluid, rounded = plan_physical.optimum(args, loss, requests, costs, law, sizes)
    models = {
        "chinchilla_style": (chin.params, chin.tokens),
        "compute_optimal": (flops_plan.params, flops_plan.tokens),
        "cost_optimal": (dollar_plan.params, dollar_plan.tokens),
        "physical_optimal": (rounded.params, rounded.tokens),
    }
    entries = {
        name: _entry(n, d, lifetime_cost(n, d, requests, *per_request, costs=costs))
        for name, (n, d) in models.items()
    }
    try:
        split = lifetime_split(dollar_plan)
    except ScaleplanError:
        raise ScaleplanError(
            f"requests_per_day: {requests:.3g} lifetime requests are too few for inference to "
            "trade against training (the optimum is the training-only one); raise "
            "requests_per_day or days",
            "requests_per_day",
        ) from None
    be = breakeven_requests(
        chin.params, chin.tokens, dollar_plan.params, *per_request, costs=costs, law=law
    )
    data: dict[str, Any] = {
        "law": law.name,
        "loss": loss,
        "requests": requests,
        "inference_tokens": tokens,
        "models": entries,
        "exchange_rate": float(split.exchange_rate),
        "breakeven_requests": be,
    }
    cols = {name: _cells(e) for name, e in entries.items()}
    rows = [(label, *(cols[m][i] for m in models)) for i, label in enumerate(_LABELS)]
    saving = (
        1 - entries["cost_optimal"]["total_dollars"] / entries["chinchilla_style"]["total_dollars"]
    )
    r = split.exchange_rate
    text = (
        f"Plan for a model {target}, serving {si_number(requests)} requests "
        f"({si_number(tokens)} tokens) over its life\n"
        f"train on {costs.train_gpu.name}, serve on {costs.inference_gpu.name} "  # type: ignore[union-attr]
        f"({costs.inference_precision}), law {law.name}\n\n"
        + render_table(("", *plan_physical.HEADINGS), rows)
        + f"\n\nThe cost-optimal model saves {100 * saving:.1f}% of lifetime dollars. At its "
        f"optimum training and inference trade at r = {r:.3g} (training "
        f"share r/(1+r) = {100 * r / (1 + r):.0f}%).\n"
        f"It beats the Chinchilla-style model beyond {si_number(be)} lifetime requests."
    )
    if args.unique_tokens is not None:
        limited = cost_optimal(loss, requests, *per_request, costs=costs, law=law,
                               unique_tokens=args.unique_tokens)  # fmt: skip
        data["data_constrained"], more = data_limit.section(limited)
        data["data_constrained"]["total_dollars"] = float(limited.total_dollars)
        text += more.replace("the optimum above", "the cost-optimal model above")
    # Each model's physical plan sits in its own record, so --csv keeps one row a model.
    plans, more = plan_physical.section(args, models, costs, {"physical_optimal": rounded})
    plans["physical_optimal"]["fluid"] = {
        "params": float(fluid.params),
        "tokens": float(fluid.tokens),
        "training_dollars": float(fluid.training_dollars),
        "serving_dollars": float(fluid.serving_dollars),
        **(
            {}
            if args.unique_tokens is None
            else {
                "unique_tokens": args.unique_tokens,
                "epochs": float(fluid.epochs),
                "effective_tokens": float(fluid.effective_tokens),
                "binding": bool(fluid.binding),
                "premium": float(fluid.premium),
            }
        ),
    }
    for name, plan in plans.items():
        entries[name]["physical"] = plan
    return data, text + more
