"""`scaleplan compute-optimal`: its options (`add`) and what it prints (`run`, data and text)."""

from __future__ import annotations

import argparse
from typing import Any

from ...optimal.lifetime import compute_optimal
from ...optimal.solver import METHODS
from ..commands import SUMMARIES
from ..options import common, demand, experts, group, inference_tokens, target
from ..render import cell, render_table, si_number
from ..shared import CliError, preset_law, target_loss
from ..shared import inference_tokens as lifetime_tokens
from . import data_limit, downstream_target


def add(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "compute-optimal",
        help=SUMMARIES["compute-optimal"],
        description="The model reaching a loss with the fewest lifetime FLOPs, beside the "
        "Chinchilla-style model of the same loss. The paper's Figure 1 is "
        "--as-good-as 13e9 --inference-tokens 2e12.",
    )
    target(p)
    downstream_target.add_options(p)
    demand(p)
    inference_tokens(p, "instead of the per-day demand")
    group(p, "solver").add_argument(
        "--method", choices=METHODS, default="newton", help="root finder for the optimum"
    )
    data_limit.add_option(p)
    common(p)
    experts(p, auto=True)
    return p


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    if args.experts == "auto":
        return _over_experts(args)
    if args.memory is not None:
        raise CliError("--memory goes with --experts auto")
    law = preset_law(args.law, args.experts)
    goal = downstream_target.resolve(args, law, ("--loss", "--as-good-as"))
    loss = goal.loss if goal else target_loss(args, law)
    tokens = lifetime_tokens(args)
    r = compute_optimal(loss, tokens, law=law, method=args.method)
    c = r.chinchilla
    data = {
        "law": law.name,
        **({} if args.experts is None else {"experts": args.experts}),
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
        rows.append((label, cell(key, ch), cell(key, o), ratio))
    text = (
        f"Lifetime compute-optimal model (law {law.name}, loss {r.loss:.4f} nats/token, "
        f"inference demand {si_number(r.inference_tokens)} tokens)\n\n"
        + render_table(("", "Chinchilla-style", "compute-optimal", "ratio"), rows)
        + f"\n\nThe compute-optimal model saves {100 * r.flop_saving:.1f}% of lifetime FLOPs."
    )
    if goal is not None:
        data["downstream"], more = downstream_target.section(
            goal,
            lambda ls: compute_optimal(ls, tokens, law=law, on_invalid="nan").params,
        )
        text += more
    if args.unique_tokens is not None:
        limited = compute_optimal(loss, tokens, law=law,
                                  unique_tokens=args.unique_tokens)  # fmt: skip
        data["data_constrained"], more = data_limit.section(limited)
        text += more
    return data, text


def _over_experts(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """--experts auto: the cheapest expert count (`expert_optimal`), every count beside it."""
    from ...optimal.experts import expert_optimal

    if args.law != "joint-moe":
        raise CliError("--experts auto needs --law joint-moe")
    if args.unique_tokens is not None:
        raise CliError("--experts auto does not take --unique-tokens; give a count instead")
    dense = preset_law(args.law, 1)
    loss = target_loss(args, dense)
    tokens = lifetime_tokens(args)
    memory = None if args.memory is None else args.memory * 1e9
    r = expert_optimal(loss, tokens, memory_bytes=memory)
    c = r.candidates
    rows = [
        (f"{int(e)}", _cell("params", n), _cell("params", t), _cell("tokens", d),
         _cell("total_flops", f), "yes" if b else "")
        for e, n, t, d, f, b in zip(c["experts"], c["params"], c["total_params"], c["tokens"],
                                    c["total_flops"], c["memory_bound"], strict=True)
    ]  # fmt: skip
    data = {
        "law": "joint-moe",
        "loss": loss,
        "inference_tokens": tokens,
        "memory_bytes": memory,
        "experts": r.experts,
        "optimal": {"params": r.params, "total_params": r.total_params, "tokens": r.tokens,
                    "training_flops": r.training_flops, "inference_flops": r.inference_flops,
                    "total_flops": r.total_flops, "memory_bound": r.memory_bound},
        "dense_total_flops": _or_none(r.dense_total_flops),
        "flop_saving": _or_none(r.flop_saving),
        "candidates": [
            {"experts": int(e), "params": _or_none(n), "total_params": _or_none(t),
             "tokens": _or_none(d), "total_flops": _or_none(f), "memory_bound": bool(b)}
            for e, n, t, d, f, b in zip(c["experts"], c["params"], c["total_params"],
                                        c["tokens"], c["total_flops"], c["memory_bound"],
                                        strict=True)
        ],
    }  # fmt: skip
    cap = "" if memory is None else f", weights within {args.memory:g} GB in bf16"
    text = (
        f"Lifetime compute-optimal mixture of experts (joint-moe, loss {loss:.4f} nats/token, "
        f"inference demand {si_number(tokens)} tokens{cap})\n\n"
        + render_table(EXPERT_HEADERS, rows)
        + "\n\n"
        + _verdict(r)
    )
    return data, text


EXPERT_HEADERS = ("experts", "active params", "total params", "training tokens",
                  "lifetime FLOPs", "memory-bound")  # fmt: skip


def _verdict(r: Any) -> str:
    """What the comparison says, in a sentence."""
    if r.experts == 1:
        return "The dense model (E = 1) is the cheapest."
    if r.dense_total_flops != r.dense_total_flops:  # NaN: the dense model is out of reach
        return f"{r.experts} experts; the dense model (E = 1) cannot reach this loss in memory."
    return (f"{r.experts} experts: {100 * r.flop_saving:.1f}% fewer lifetime FLOPs than the "
            "dense model (E = 1) of the same loss.")  # fmt: skip


def _cell(key: str, x: Any) -> str:
    """A table cell, "-" for a count that cannot reach the loss in memory."""
    return cell(key, x) if x == x else "-"


def _or_none(x: Any) -> float | None:
    """A count that cannot reach the loss in memory has no size: null in JSON."""
    return float(x) if x == x else None
