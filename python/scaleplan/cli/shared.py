"""What several commands share: the law, the target loss, the demand, the cost model from
the hardware options, and the user-mistake error.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from ..laws.closed_form import chinchilla_optimal
from ..laws.scaling import PRESETS, ScalingLaw
from ..optimal.costs import CostModel
from .options import DEFAULT_AS_GOOD_AS, given


class CliError(ValueError):
    """A user mistake, reported as one line."""


def preset_law(name: str | ScalingLaw, experts: int | None = None) -> ScalingLaw:
    """The law `--law` gave: a preset by name, or the law its file held (`values.law` read
    it while parsing); `joint-moe` is the MoE law at `--experts` (its dense limit without)."""
    if name == "joint-moe":
        from ..laws.moe import JOINT_MOE

        return JOINT_MOE.at(1 if experts is None else experts)
    if experts is not None:
        raise CliError(
            "--experts needs a mixture-of-experts law (--law joint-moe); the law given is dense"
        )
    if isinstance(name, ScalingLaw):
        return name
    if name not in PRESETS:
        raise CliError(f"unknown law {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]


def target_loss(args: argparse.Namespace, law: ScalingLaw) -> float:
    """--loss, else the loss of a Chinchilla-optimal model of --as-good-as parameters
    (default 7e9) under `law`."""
    if args.loss is not None and args.as_good_as is not None:
        raise CliError("give --loss or --as-good-as, not both")
    if args.loss is not None:
        return float(args.loss)
    size = DEFAULT_AS_GOOD_AS if args.as_good_as is None else args.as_good_as
    return float(chinchilla_optimal(params=size, law=law).loss)


@dataclass(frozen=True)
class Demand:
    """Lifetime inference demand: requests, and the tokens they carry."""

    requests: float
    input_tokens: float
    output_tokens: float

    @property
    def tokens(self) -> float:
        return self.requests * (self.input_tokens + self.output_tokens)


def demand_of(args: argparse.Namespace) -> Demand:
    """Lifetime requests: --requests-per-day x --days, or the deprecated lifetime
    --requests (not both)."""
    from .._utils.checks import product

    old = getattr(args, "requests", None)
    if old is not None:
        for dest in ("requests_per_day", "days"):
            if given(args, dest):
                option = "--" + dest.replace("_", "-")
                raise CliError(f"give {option} (and --days) or the lifetime --requests, not both")
        requests = float(old)
    else:
        requests = float(
            product("requests", requests_per_day=args.requests_per_day, days=args.days)
        )
    return Demand(requests, float(args.input_tokens), float(args.output_tokens))


def inference_tokens(args: argparse.Namespace) -> float:
    """--inference-tokens, else the lifetime tokens of the demand options (not both)."""
    from .._utils.checks import product

    if args.inference_tokens is not None:
        for dest in ("requests_per_day", "days", "input_tokens", "output_tokens", "requests"):
            if given(args, dest):
                option = "--" + dest.replace("_", "-")
                raise CliError(f"give --inference-tokens or {option}, not both")
        return float(args.inference_tokens)
    d = demand_of(args)
    per_request = d.input_tokens + d.output_tokens
    if per_request == 0 or d.requests == 0:
        return 0.0
    # One checked product (a 1e300 demand is an error naming its option, not inf); the
    # request's tokens go in under the name of the larger part, the one to lower.
    longer = "output_tokens" if d.output_tokens >= d.input_tokens else "input_tokens"
    if getattr(args, "requests", None) is not None:
        factors = {"requests": d.requests}
    else:
        factors = {"requests_per_day": args.requests_per_day, "days": args.days}
    return float(product("inference_tokens", **factors, **{longer: per_request}))


def cost_model(args: argparse.Namespace) -> CostModel:
    if args.table3 and (args.inference_price is not None or args.train_price is not None):
        raise CliError("--table3 fixes the prices; drop --train-price/--inference-price")
    if args.table3:
        return CostModel.sardana2024_table3()
    return CostModel(
        train_gpu=args.train_gpu,
        inference_gpu=args.inference_gpu,
        train_precision=args.train_precision,
        inference_precision=args.inference_precision,
        train_price_per_hour=args.train_price,
        inference_price_per_hour=args.inference_price,
        train_mfu=args.train_mfu,
        prefill_mfu=args.prefill_mfu,
        decode_mfu=args.decode_mfu,
    )


def gpu_name(value: Any) -> str:
    """An accelerator option's value (a catalogue name or an `Accelerator`) as its name."""
    return value if isinstance(value, str) else str(value.name)
