"""`scaleplan plan`: its options (`add`) and what it prints (`run`): the `Plan` that
`scaleplan.plan` gives, as its `summary()`, its `to_dict()` or one CSV row per model."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

import numpy as np

from ..commands import SUMMARIES
from ..options import common, demand, experts, hardware, target
from ..shared import CliError, cost_model, preset_law
from . import data_limit, downstream_target, plan_physical


def add(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "plan",
        help=SUMMARIES["plan"],
        description="From a quality target and a demand, the model with the fewest lifetime "
        "dollars when serving is priced by the roofline on whole GPUs at the latency target, "
        "beside the Chinchilla-style, compute-optimal and (the paper's constant-MFU) "
        "cost-optimal models of the same quality, built and priced the same way; the "
        "paper's constant-MFU dollars in a table of their own.",
    )
    target(p)
    demand(p, lifetime_requests=False)
    downstream_target.add_options(p)
    hardware(p)
    plan_physical.add_options(p)
    data_limit.add_option(p)
    common(p)
    experts(p, auto=True, memory=False)
    return p


def _target(args: argparse.Namespace, law: Any) -> tuple[dict[str, Any], str | None]:
    """The quality keywords of `scaleplan.plan`, and the target in words when it is a
    downstream score (None: the plan describes its own target)."""
    goal = downstream_target.resolve(args, law, ("--loss", "--as-good-as"))
    if args.loss is not None and args.as_good_as is not None:
        raise CliError("give --loss or --as-good-as, not both")
    if goal is None:
        return {"loss": args.loss, "as_good_as": args.as_good_as}, None
    lo, hi = np.percentile(goal.losses, [2.5, 97.5])
    words = (f"scoring {goal.score:g} on {goal.fit.benchmark} (loss {goal.loss:.4f}, "
             f"95% {lo:.4f} to {hi:.4f})")  # fmt: skip
    return {"loss": goal.loss}, words


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from ...optimal.plan import plan
    from ...systems.training import Training

    law = preset_law(args.law)  # the dense limit under joint-moe
    experts = _experts(args)
    costs = cost_model(args)  # the hardware options (and --table3's prices), checked once
    target, words = _target(args, law)
    result = plan(
        **target,
        law=law if experts is None else "joint-moe",
        requests_per_day=args.requests_per_day,
        days=args.days,
        input_tokens=args.input_tokens,
        output_tokens=args.output_tokens,
        deployment=plan_physical.deployment(args, costs),
        # The hardware options, checked by the cost model; --train-gpus by its type.
        training=Training.from_costs(costs, gpus=args.train_gpus),
        prefill_mfu=costs.prefill_mfu,
        decode_mfu=costs.decode_mfu,
        unique_tokens=args.unique_tokens,
        experts=experts,
    )
    if words is not None:
        result = dataclasses.replace(result, target=words)
    return result.to_dict(), result.summary()


def _experts(args: argparse.Namespace) -> Any:
    """`plan`'s experts= from --experts N|auto (None without): the joint MoE law's lifetime
    dollars under the MoE roofline for each count (N beside the dense model; auto: 1 to
    32), inside the plan (`Plan.experts`)."""
    if args.experts is None:
        return None
    if args.law != "joint-moe":
        raise CliError("--experts needs --law joint-moe")
    if getattr(args, "target_accuracy", None) is not None:
        raise CliError("--experts does not take --target-accuracy yet")
    return args.experts
