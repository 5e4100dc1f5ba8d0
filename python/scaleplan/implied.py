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

from ._arrays import as_float, check_on_invalid, shaped
from .cost_model import CostModel
from .errors import ScaleplanError
from .laws import CHINCHILLA, ScalingLaw, chinchilla_optimal, resolve_law


@dataclass(frozen=True)
class ImpliedDemand:
    """For each model: `inference_tokens` (lifetime tokens served, FLOP problem) for which
    `(params, tokens)` is lifetime-optimal, and `requests` (dollar problem, with `costs`);
    both NaN where `exists` is False, i.e. `tokens < chinchilla_tokens` (no demand makes
    the model optimal). `loss` is the model's loss under the law."""

    params: Any
    tokens: Any
    loss: Any
    chinchilla_tokens: Any
    inference_tokens: Any
    requests: Any
    exists: Any

    @property
    def tokens_per_param(self) -> Any:
        return self.tokens / self.params


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
    """The lifetime inference demand for which each `(params, tokens)` is optimal (module
    notes). Arrays broadcast; `on_invalid="nan"` turns bad rows into NaN."""
    law = resolve_law(law)
    on_invalid = check_on_invalid(on_invalid)
    n, d = as_float("params", params), as_float("tokens", tokens)
    n, d = np.broadcast_arrays(n, d)
    bad = ~(np.isfinite(n) & (n > 0) & np.isfinite(d) & (d > 0))
    if bad.any() and on_invalid == "raise":
        i = int(np.flatnonzero(bad.ravel())[0])
        name = "params" if not (np.isfinite(n.flat[i]) and n.flat[i] > 0) else "tokens"
        value = (n if name == "params" else d).flat[i]
        raise ScaleplanError(
            f"{name} must be finite and > 0; got {value!r} at index {i}", name, index=i
        )
    n, d = np.where(bad, np.nan, n), np.where(bad, np.nan, d)
    chinchilla = chinchilla_optimal(params=np.where(bad, 1.0, n), law=law)
    d_ch = np.where(bad, np.nan, chinchilla.tokens)
    with np.errstate(invalid="ignore"):
        demand = 3.0 * d * np.expm1(law.beta * np.log(d / d_ch))
        exists = ~bad & (d >= d_ch)
    demand = np.where(exists, demand, np.nan)
    requests = np.full_like(demand, np.nan)
    if costs is not None:
        if not isinstance(costs, CostModel):
            raise ScaleplanError(f"costs must be a CostModel; got {costs!r}", "costs")
        requests = demand / costs.effective_demand(1.0, input_tokens, output_tokens)
    loss = np.where(bad, np.nan, law.loss(np.where(bad, 1.0, n), np.where(bad, 1.0, d)))
    # A batch law broadcasts against the models: every output takes the common shape.
    columns = np.broadcast_arrays(n, d, loss, d_ch, demand, np.asarray(requests), exists)
    shape = columns[0].shape
    flat = [np.array(c, dtype=float).reshape(-1) for c in columns[:6]]
    return ImpliedDemand(
        *(shaped(c, shape) for c in flat),
        exists=columns[6].copy() if shape else bool(columns[6]),
    )
