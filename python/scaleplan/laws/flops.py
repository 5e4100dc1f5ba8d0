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
    """FLOPs to train a model: `C = 6 N D`.

    Parameters
    ----------
    params : float or array_like
        Parameters N (count).
    tokens : float or array_like
        Training tokens D.

    Returns
    -------
    float or numpy.ndarray
        Training FLOPs, in the inputs' broadcast shape.

    Examples
    --------
    >>> from scaleplan.laws.flops import training_flops
    >>> print(f"{training_flops(70e9, 1.4e12):.3g}")  # Chinchilla 70B
    5.88e+23
    """
    return TRAINING_FLOPS_PER_PARAM * params * tokens


def inference_flops(params: Any, tokens: Any) -> Any:
    """FLOPs to serve a model: `2 N D_inf`.

    Parameters
    ----------
    params : float or array_like
        Parameters N (count; the active ones for a mixture of experts).
    tokens : float or array_like
        Tokens served D_inf, prompt and generated alike.

    Returns
    -------
    float or numpy.ndarray
        Inference FLOPs, in the inputs' broadcast shape.

    Examples
    --------
    >>> from scaleplan.laws.flops import inference_flops
    >>> print(f"{inference_flops(7e9, 1e12):.3g}")  # a 7B model serving 1T tokens
    1.4e+22
    """
    return INFERENCE_FLOPS_PER_PARAM * params * tokens


def tokens_for_flops(flops: Any, params: Any) -> Any:
    """The training tokens a budget buys a model: `D = C / (6 N)`.

    Parameters
    ----------
    flops : float or array_like
        A training budget C, in FLOPs.
    params : float or array_like
        Parameters N (count).

    Returns
    -------
    float or numpy.ndarray
        Training tokens D.

    Examples
    --------
    >>> from scaleplan.laws.flops import tokens_for_flops
    >>> print(f"{tokens_for_flops(5.76e23, 70e9):.3g}")
    1.37e+12
    """
    return flops / (TRAINING_FLOPS_PER_PARAM * params)


def params_for_flops(flops: Any, tokens_per_param: Any) -> Any:
    """The model that spends a budget at a token ratio: `N = sqrt(C / (6 r))`.

    Parameters
    ----------
    flops : float or array_like
        A training budget C, in FLOPs.
    tokens_per_param : float or array_like
        The ratio r = D / N, in training tokens per parameter.

    Returns
    -------
    float or numpy.ndarray
        Parameters N (count).

    Examples
    --------
    >>> from scaleplan.laws.flops import params_for_flops
    >>> print(f"{params_for_flops(5.76e23, 20):.3g}")  # 20 tokens per parameter
    6.93e+10
    """
    return np.sqrt(flops / (TRAINING_FLOPS_PER_PARAM * tokens_per_param))
