"""The break-even demand between two models of equal quality: the lifetime requests above
which the smaller one (trained longer to the same loss) costs less in dollars
(`breakeven_requests`; the dollar optimum itself is in `costs`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._utils.arrays import as_float
from .._utils.checks import POSITIVE
from .._utils.labels import labelled
from ..errors import ScaleplanError
from ..hardware.cost_model import (
    DEFAULT_INPUT_TOKENS,
    DEFAULT_OUTPUT_TOKENS,
    CostModel,
    resolve_costs,
)
from ..laws.scaling import CHINCHILLA, ScalingLaw, resolve_law
from .lifetime_cost import lifetime_cost

__all__ = ["breakeven_requests"]


@labelled
def breakeven_requests(
    params: Any,
    tokens: Any,
    smaller_params: Any,
    input_tokens: Any = DEFAULT_INPUT_TOKENS,
    output_tokens: Any = DEFAULT_OUTPUT_TOKENS,
    *,
    costs: CostModel | None = None,
    law: ScalingLaw | str = CHINCHILLA,
) -> Any:
    """Lifetime requests above which a smaller model of equal quality is cheaper.

    The smaller model (`smaller_params`) is trained on the tokens that give it the loss of
    the given one, `D_s = (B / (L(params, tokens) - E - A N_s^-alpha))^(1/beta)`. Lifetime
    cost is linear in requests for both, so they cross once:
    `r* = (train_s - train) / (per_request - per_request_s)`; 0 when the smaller one is
    also cheaper to train.

    Parameters
    ----------
    params : float or array_like
        The given model's parameters N (count).
    tokens : float or array_like
        Its training tokens D.
    smaller_params : float or array_like
        The smaller model's parameters N_s, below `params`.
    input_tokens, output_tokens : float or array_like, optional
        Prompt and generated tokens per request (defaults 70 and 215).
    costs : CostModel, optional
        Hardware, prices and MFUs (default `CostModel()`).
    law : ScalingLaw or str, optional
        The law (default `CHINCHILLA`).

    Returns
    -------
    float or numpy.ndarray
        The break-even lifetime requests (count).

    Raises
    ------
    ScaleplanError
        If `smaller_params` is not positive and below `params`, or too small to reach the
        given model's loss at any data size; or requests cost nothing.

    Examples
    --------
    From how many requests does a 3B model, trained to the loss of a 7B one on 2T
    tokens, cost less over its life?

    >>> from scaleplan import breakeven_requests
    >>> print(f"{breakeven_requests(7e9, 2e12, 3e9):.3g} requests")
    9.24e+09 requests
    """
    costs = resolve_costs(costs)
    law = resolve_law(law)
    base = lifetime_cost(params, tokens, 1.0, input_tokens, output_tokens, costs=costs)
    small_n = as_float("smaller_params", smaller_params)
    if np.any(~POSITIVE.admits(small_n)) or np.any(small_n >= base.params):
        raise ScaleplanError(
            "smaller_params must be finite, > 0 and below params", "smaller_params"
        )
    target = law.loss(base.params, base.tokens)
    room = target - law.E - law.A * small_n**-law.alpha
    if np.any(room <= 0):
        raise ScaleplanError(
            "smaller_params is too small to reach the loss of the given model (params, tokens) "
            "at any data size",
            "smaller_params",
        )
    small_d = (law.B / room) ** (1.0 / law.beta)
    small = lifetime_cost(small_n, small_d, 1.0, input_tokens, output_tokens, costs=costs)
    extra_training = small.training_dollars - base.training_dollars
    per_request_saving = base.inference_dollars - small.inference_dollars
    if not np.all(per_request_saving > 0):
        raise ScaleplanError(
            "output_tokens and input_tokens are both 0 (or too small to cost anything): no "
            "request then favours the smaller model",
            "output_tokens",
        )
    out = np.maximum(extra_training, 0.0) / per_request_saving
    return out.item() if np.ndim(out) == 0 else out
