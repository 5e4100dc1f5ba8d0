"""Reading a released model backward: the lifetime demand for which its size and training
tokens are lifetime-optimal.

At the FLOP optimum of §1.3 the stationarity condition on the iso-loss curve is
`alpha A N^-alpha = beta B D^-beta (1 + D_inf / (3 D))`. For a given `(N, D)` it has one
solution in `D_inf`; writing `D_ch` for the Chinchilla-optimal tokens of `N` (where
`alpha A N^-alpha = beta B D_ch^-beta`), it is

    D_inf = 3 D ((D / D_ch)^beta - 1)

(computed with `expm1`, so a model trained just past Chinchilla's ratio keeps its digits).
A model trained on fewer tokens than `D_ch` is optimal for no demand: more inference
always calls for a smaller model trained longer, never shorter. The dollar problem has the
same condition with the effective demand `requests (w_in input + w_out output)`
(`CostModel.effective_demand`), so with `costs` the demand is also given in requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._utils.arrays import as_float, check_on_invalid, shaped
from .._utils.checks import NON_NEGATIVE, POSITIVE, first_bad, instance
from .._utils.frames import Record
from .._utils.labels import labelled
from ..errors import ScaleplanError
from ..hardware.cost_model import CostModel
from ..laws.closed_form import chinchilla_optimal
from ..laws.scaling import CHINCHILLA, ScalingLaw, resolve_law

__all__ = ["ImpliedDemand", "implied_demand"]


@dataclass(frozen=True, repr=False)
class ImpliedDemand(Record):
    """The lifetime demand for which each model is optimal, as `implied_demand` returns it.

    Parameters
    ----------
    params : float or numpy.ndarray
        Parameters N (count).
    tokens : float or numpy.ndarray
        Training tokens D.
    loss : float or numpy.ndarray
        The model's loss under the law, in nats/token.
    chinchilla_tokens : float or numpy.ndarray
        The law's Chinchilla-optimal tokens D_ch for N.
    inference_tokens : float or numpy.ndarray
        Lifetime tokens served (FLOP problem) for which `(params, tokens)` is
        lifetime-optimal; NaN where `exists` is False.
    requests : float or numpy.ndarray
        The same for the dollar problem, in lifetime requests (with `costs`; else NaN).
    exists : bool or numpy.ndarray
        False where `tokens < chinchilla_tokens`: no demand makes the model optimal.

    Examples
    --------
    >>> from scaleplan import implied_demand
    >>> demand = implied_demand(7e9, 2e12)
    >>> print(f"{demand.inference_tokens:.3g} tokens, {demand.tokens_per_param:.0f} tokens/param")
    4.5e+12 tokens, 286 tokens/param
    """

    params: Any
    tokens: Any
    loss: Any
    chinchilla_tokens: Any
    inference_tokens: Any
    requests: Any
    exists: Any

    @property
    def tokens_per_param(self) -> Any:
        """`D / N`, training tokens per parameter."""
        return self.tokens / self.params


_TINY = float(np.finfo(float).tiny)


def _per_request(costs: CostModel, input_tokens: Any, output_tokens: Any, on_invalid: str) -> Any:
    """One request's demand `w_in input_tokens + w_out output_tokens`, in training-token
    equivalents; beyond float64 an error naming the argument whose term overflowed, or
    with `on_invalid="nan"` NaN (that row's requests are then NaN)."""
    with np.errstate(over="ignore"):
        per_request = costs.effective_demand(1.0, input_tokens, output_tokens)
    if on_invalid == "nan":
        return np.where(np.isfinite(per_request), per_request, np.nan)
    if not np.all(np.isfinite(per_request)):
        # Blame input_tokens only when its own term overflowed (w_in < 1 by default).
        with np.errstate(over="ignore"):
            alone = costs.demand_weights[0] * as_float("input_tokens", input_tokens)
        name = "output_tokens" if np.all(np.isfinite(alone)) else "input_tokens"
        raise ScaleplanError(
            f"{name} must be small enough that one request's demand (w_in input_tokens + "
            "w_out output_tokens, in training-token equivalents) stays in float64",
            name,
        )
    return per_request


def _refuse_first(rows: Any, argument: str, says: Any) -> None:
    """A `ScaleplanError` naming `argument` at the first row where `rows` holds, its
    message `argument: says(i)`; nothing if no row does."""
    if np.any(rows):
        i = int(np.flatnonzero(np.ravel(rows))[0])
        raise ScaleplanError(f"{argument}: {says(i)}", argument, index=i)


@labelled
def implied_demand(
    params: Any,
    tokens: Any,
    *,
    law: ScalingLaw | str = CHINCHILLA,
    costs: CostModel | None = None,
    input_tokens: Any = 70.0,
    output_tokens: Any = 215.0,
    on_invalid: str = "raise",
) -> ImpliedDemand:
    """The lifetime inference demand for which each `(params, tokens)` is optimal.

    Reads a released model backward: `D_inf = 3 D ((D / D_ch)^beta - 1)`, with D_ch the
    Chinchilla-optimal tokens of N (the module's docstring derives it). Arrays broadcast.

    Parameters
    ----------
    params : float or array_like
        Parameters N (count); > 0.
    tokens : float or array_like
        Training tokens D; > 0.
    law : ScalingLaw or str, optional
        The law (default `CHINCHILLA`).
    costs : CostModel, optional
        With it, the demand is also given in lifetime requests.
    input_tokens, output_tokens : float or array_like, optional
        Prompt and generated tokens per request, for `requests` (defaults 70 and 215).
    on_invalid : {"raise", "nan"}, optional
        "nan" turns bad rows into NaN.

    Returns
    -------
    ImpliedDemand

    Raises
    ------
    ScaleplanError
        With `on_invalid="raise"`: a non-positive size or token count, bad request
        lengths, or a demand beyond float64.

    Examples
    --------
    Llama-2-7B (2T tokens) is optimal for 4.5T tokens served; Chinchilla (70B, 1.4T) is
    trained short of its own law's optimum, so no demand makes it optimal:

    >>> from scaleplan import CostModel, implied_demand
    >>> demand = implied_demand([7e9, 70e9], [2e12, 1.4e12], costs=CostModel())
    >>> print(demand.inference_tokens.round(-10), demand.exists)
    [4.5e+12     nan] [ True False]
    >>> print(f"{demand.requests[0]:.3g} requests")
    1.14e+09 requests
    """
    law = resolve_law(law)
    on_invalid = check_on_invalid(on_invalid)
    if costs is not None:
        instance("costs", costs, CostModel, "a CostModel or None")
        for name, v, span in (("input_tokens", input_tokens, NON_NEGATIVE),
                              ("output_tokens", output_tokens, POSITIVE)):  # fmt: skip
            arr = as_float(name, v)
            if not np.all(span.admits(arr)):
                raise first_bad(name, arr, ~span.admits(arr), span)
        per_request = _per_request(costs, input_tokens, output_tokens, on_invalid)
    n, d = as_float("params", params), as_float("tokens", tokens)
    n, d = np.broadcast_arrays(n, d)
    bad = ~(POSITIVE.admits(n) & POSITIVE.admits(d))
    if bad.any() and on_invalid == "raise":
        name, arr = ("params", n) if not np.all(POSITIVE.admits(n)) else ("tokens", d)
        raise first_bad(name, arr, ~POSITIVE.admits(arr), POSITIVE)
    n, d = np.where(bad, np.nan, n), np.where(bad, np.nan, d)
    chinchilla = chinchilla_optimal(params=np.where(bad, 1.0, n), law=law, on_invalid=on_invalid)
    d_ch = np.where(bad, np.nan, chinchilla.tokens)
    with np.errstate(invalid="ignore", over="ignore"):
        demand = 3.0 * d * np.expm1(law.beta * np.log(d / d_ch))
        exists = ~bad & (d >= d_ch)
        requests = np.full_like(demand, np.nan)
        if costs is not None:
            requests = demand / per_request
    # A demand (or request count) beyond float64 is no answer: that row is invalid. So is
    # a positive demand whose request count underflows to 0 or a subnormal.
    huge = exists & ~(np.isfinite(demand) & np.isfinite(requests if costs else demand))
    if costs is not None:
        lost = exists & (demand > 0) & (np.abs(requests) < _TINY)
        if on_invalid == "raise":
            _refuse_first(lost, "output_tokens", lambda i: (
                f"one request of the model at index {i} weighs so much that its demand "
                f"({float(np.ravel(demand)[i]):.3g} tokens) is under one float64-normal "
                "request; lower input_tokens or output_tokens"))  # fmt: skip
        huge = huge | lost
    if huge.any():
        if on_invalid == "raise":
            _refuse_first(huge, "tokens", lambda i: (
                f"the demand for which the model at index {i} is optimal is beyond float64 "
                f"(tokens {float(np.ravel(d)[i])!r} is {np.ravel(d / d_ch)[i]:.3g} times its "
                "Chinchilla-optimal tokens)"))  # fmt: skip
        bad, exists = bad | huge, exists & ~huge
        n, d = np.where(huge, np.nan, n), np.where(huge, np.nan, d)
        d_ch = np.where(huge, np.nan, d_ch)
    demand = np.where(exists, demand, np.nan)
    requests = np.where(exists, requests, np.nan)
    loss = np.where(bad, np.nan, law.loss(np.where(bad, 1.0, n), np.where(bad, 1.0, d)))
    # A batch law broadcasts against the models: every output takes the common shape.
    columns = np.broadcast_arrays(n, d, loss, d_ch, demand, np.asarray(requests), exists)
    shape = columns[0].shape
    flat = [np.array(c, dtype=float).reshape(-1) for c in columns[:6]]
    return ImpliedDemand(
        *(shaped(c, shape) for c in flat),
        exists=columns[6].copy() if shape else bool(columns[6]),
    )
