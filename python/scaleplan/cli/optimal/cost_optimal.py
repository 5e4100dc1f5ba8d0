"""`scaleplan cost-optimal`: its options (`add`) and what it prints (`run`, data and text)."""

from __future__ import annotations

import argparse
from typing import Any

from ...laws.scaling import ScalingLaw
from ...optimal.costs import CostModel, CostOptimum, cost_optimal
from ..commands import SUMMARIES
from ..options import common, demand, experts, hardware, target
from ..render import money, render_table, si_number
from ..shared import cost_model, demand_of, gpu_name, preset_law, target_loss
from . import data_limit, downstream_target


def add(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "cost-optimal",
        help=SUMMARIES["cost-optimal"],
        description="The model reaching a loss with the lowest lifetime dollars, beside the "
        "Chinchilla-style model of the same loss. The paper's Figure 6 setting is "
        "--as-good-as 13e9 --requests-per-day 7.02e9 --days 1 (7.02e9 lifetime requests).",
    )
    target(p)
    downstream_target.add_options(p)
    demand(p)
    hardware(p)
    data_limit.add_option(p)
    common(p)
    experts(p)
    return p


def _costs_record(costs: Any) -> dict[str, Any]:
    """The cost model's settings as the JSON names them."""
    return {
        "train_gpu": gpu_name(costs.train_gpu),
        "inference_gpu": gpu_name(costs.inference_gpu),
        "train_precision": costs.train_precision,
        "inference_precision": costs.inference_precision,
        "train_price_per_hour": costs.train_price_per_hour,
        "inference_price_per_hour": costs.inference_price_per_hour,
        "train_mfu": costs.train_mfu,
        "prefill_mfu": costs.prefill_mfu,
        "decode_mfu": costs.decode_mfu,
    }


# The table's rows, in order: each figure's JSON name and its label.
_KEYS = (
    ("params", "parameters"),
    ("tokens", "training tokens"),
    ("training_dollars", "training $"),
    ("prefill_dollars", "prefill $"),
    ("decode_dollars", "decode $"),
    ("total_dollars", "lifetime $"),
    ("training_gpu_hours", "training GPU-hours"),
    ("prefill_gpu_hours", "prefill GPU-hours"),
    ("decode_gpu_hours", "decode GPU-hours"),
    ("total_flops", "lifetime FLOPs"),
)


def _record(b: Any) -> dict[str, float]:
    """One model's figures (a cost breakdown), by their JSON names."""
    return {k: float(getattr(b, k)) for k, _ in _KEYS}


def _rows(opt: dict[str, float], chin: dict[str, float]) -> list[tuple[str, str, str, str]]:
    """The table: each figure for the Chinchilla-style and the cost-optimal model, and
    their ratio."""
    rows = []
    for key, label in _KEYS:
        o, c = opt[key], chin[key]
        cell = (
            si_number
            if key in ("params", "tokens")
            else money
            if key.endswith("_dollars")
            else (lambda v: f"{v:.3g}")
        )
        rows.append((label, cell(c), cell(o), f"{o / c:.3f}" if c else "-"))
    return rows


def _text(
    law: ScalingLaw, r: CostOptimum, costs: CostModel, rows: list[tuple[str, str, str, str]]
) -> str:
    """The heading (target, demand, hardware and prices), the table and the saving."""
    # The cost model resolved each price (given, else the catalogue's): floats here.
    prices = (
        money(float(costs.train_price_per_hour or 0)),
        money(float(costs.inference_price_per_hour or 0)),
    )
    return (
        f"Lifetime cost-optimal model (law {law.name}, loss {r.loss:.4f}, {si_number(r.requests)} "
        f"requests of {r.input_tokens:g} + {r.output_tokens:g} tokens)\n"
        f"train on {costs.train_gpu.name} {costs.train_precision} at "  # type: ignore[union-attr]
        f"{prices[0]}/h, MFU {costs.train_mfu:g}; serve on "
        f"{costs.inference_gpu.name} {costs.inference_precision} at "  # type: ignore[union-attr]
        f"{prices[1]}/h, MFU {costs.prefill_mfu:g} prefill / "
        f"{costs.decode_mfu:g} decode\n\n"
        + render_table(("", "Chinchilla-style", "cost-optimal", "ratio"), rows)
        + f"\n\nThe cost-optimal model saves {100 * r.saving:.1f}% of lifetime dollars."
    )


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    law = preset_law(args.law, args.experts)
    costs = cost_model(args)
    goal = downstream_target.resolve(args, law, ("--loss", "--as-good-as"))
    loss = goal.loss if goal else target_loss(args, law)
    need = demand_of(args)
    per_request = (need.input_tokens, need.output_tokens)
    r = cost_optimal(loss, need.requests, *per_request, costs=costs, law=law)
    opt, chin = _record(r.breakdown), _record(r.chinchilla)
    data = {
        "law": law.name,
        "loss": r.loss,
        "requests": r.requests,
        "input_tokens": r.input_tokens,
        "output_tokens": r.output_tokens,
        "costs": _costs_record(costs),
        "optimal": opt,
        "chinchilla": chin,
        "saving": r.saving,
    }
    text = _text(law, r, costs, _rows(opt, chin))
    if goal is not None:
        data["downstream"], more = downstream_target.section(
            goal,
            lambda ls: (
                cost_optimal(
                    ls,
                    need.requests,
                    *per_request,
                    costs=costs,
                    law=law,
                    on_invalid="nan",
                ).params
            ),
        )
        text += more
    if args.unique_tokens is not None:
        limited = cost_optimal(loss, need.requests, *per_request,
                               costs=costs, law=law, unique_tokens=args.unique_tokens)  # fmt: skip
        data["data_constrained"], more = data_limit.section(limited)
        data["data_constrained"]["total_dollars"] = float(limited.total_dollars)
        text += more
    return data, text
