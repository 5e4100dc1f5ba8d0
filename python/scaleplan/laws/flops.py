"""Model FLOPs: the one place the planner's FLOP convention is written.

Training a dense transformer of N parameters on D tokens costs `6 N D` FLOPs (a forward
pass of 2 N per token and a backward pass of 4 N; Kaplan et al. 2020 §2.1, Hoffmann et
al. 2022 §3), and serving it `2 N` per token, prompt or generated (Sardana et al. 2024
§3). Attention's sequence-length term is left out, as those papers do. N is the count of
parameters each token passes through: for a mixture-of-experts model, the active ones.

The pure-Python references (`_reference.py`, `_reference_fits.py`) write the factors
themselves on purpose: they check this code, so they must not share it. The Rust kernels
have their own copy in `rust/core` (issue 24 moves both behind one definition).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "INFERENCE_FLOPS_PER_PARAM",
    "TRAINING_FLOPS_PER_PARAM",
    "inference_flops",
    "params_for_flops",
    "tokens_for_flops",
    "training_flops",
]

TRAINING_FLOPS_PER_PARAM = 6.0  # FLOPs per parameter per training token (2 forward, 4 back)
INFERENCE_FLOPS_PER_PARAM = 2.0  # FLOPs per parameter per token served (forward only)


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
