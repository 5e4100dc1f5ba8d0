"""Model FLOPs: the planner's FLOP convention, as the Rust core defines it.

Training a dense transformer of N parameters on D tokens costs `6 N D` FLOPs (a forward
pass of 2 N per token and a backward pass of 4 N; Kaplan et al. 2020 §2.1, Hoffmann et
al. 2022 §3), and serving it `2 N` per token, prompt or generated (Sardana et al. 2024
§3). Attention's sequence-length term is left out, as those papers do. N is the count of
parameters each token passes through: for a mixture-of-experts model, the active ones.

The two factors are defined once, in `rust/core/src/laws/flops.rs`, which the kernels use and
this module reads (`_core.TRAINING_FLOPS_PER_PARAM`); no other Python or Rust source writes
them (a test in `test_public_api.py` holds it). The pure-Python references (`testing/`) write
the factors themselves on purpose: they check this code, so they must not share it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core

__all__ = [
    "INFERENCE_FLOPS_PER_PARAM",
    "TRAINING_FLOPS_PER_PARAM",
    "inference_flops",
    "params_for_flops",
    "tokens_for_flops",
    "training_flops",
]

# FLOPs per parameter per training token (2 forward, 4 back), and per token served.
TRAINING_FLOPS_PER_PARAM: float = _core.TRAINING_FLOPS_PER_PARAM
INFERENCE_FLOPS_PER_PARAM: float = _core.INFERENCE_FLOPS_PER_PARAM


def training_flops(params: Any, tokens: Any) -> Any:
    """`6 N D`: FLOPs to train `params` N on `tokens` D (scalars or arrays)."""
    return TRAINING_FLOPS_PER_PARAM * params * tokens


def inference_flops(params: Any, tokens: Any) -> Any:
    """`2 N D_inf`: FLOPs to serve `tokens` D_inf tokens on a model of `params` N."""
    return INFERENCE_FLOPS_PER_PARAM * params * tokens


def tokens_for_flops(flops: Any, params: Any) -> Any:
    """`D = C / (6 N)`: the training tokens that `flops` C buys a model of `params` N."""
    return flops / (TRAINING_FLOPS_PER_PARAM * params)


def params_for_flops(flops: Any, tokens_per_param: Any) -> Any:
    """`N = sqrt(C / (6 r))`: the model that spends `flops` C at `tokens_per_param` r."""
    return np.sqrt(flops / (TRAINING_FLOPS_PER_PARAM * tokens_per_param))
