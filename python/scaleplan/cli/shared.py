"""What several commands share: the target loss, the preset law, the cost model
from the hardware options, and the user-mistake error.
"""

from __future__ import annotations

import argparse

from ..laws.scaling import PRESETS, ScalingLaw, chinchilla_optimal
from ..optimal.costs import CostModel

# With no target given, compute-optimal and cost-optimal plan the paper's Figure 1
# scenario: the quality of a Chinchilla-style 13B model (serving 2 trillion tokens).
DEFAULT_CHINCHILLA_PARAMS = 13e9
DEFAULT_INFERENCE_TOKENS = 2e12


class CliError(ValueError):
    """A user mistake, reported as one line."""


def preset_law(name: str) -> ScalingLaw:
    """The loss-law preset called `name` (argparse's choices already refuse others)."""
    if name not in PRESETS:
        raise CliError(f"unknown law {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]


def target_loss(args: argparse.Namespace, law: ScalingLaw) -> float:
    if args.loss is not None and args.chinchilla_params is not None:
        raise CliError("give --loss or --chinchilla-params, not both")
    if args.loss is not None:
        return float(args.loss)
    size = DEFAULT_CHINCHILLA_PARAMS if args.chinchilla_params is None else args.chinchilla_params
    return float(chinchilla_optimal(params=size, law=law).loss)


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
