"""What one model costs over its life: training and serving FLOPs, dollars and GPU-hours.

    dollars = 6 N D c_tr / MFU_tr + 2 N requests c_inf (input_tokens / MFU_prefill
                                                      + output_tokens / MFU_decode)

(Sardana et al. 2024, §6 and App. B.2-B.3; the notation of `scaleplan.optimal.costs`.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._utils.arrays import as_float
from .._utils.checks import NON_NEGATIVE, POSITIVE, first_bad
from .._utils.frames import Tabular
from .._utils.labels import labelled
from ..errors import ScaleplanError
from ..hardware.accelerators import Accelerator
from ..hardware.cost_model import (
    DEFAULT_INPUT_TOKENS,
    DEFAULT_OUTPUT_TOKENS,
    SECONDS_PER_HOUR,
    CostModel,
    resolve_costs,
)
from ..laws.flops import inference_flops, training_flops

__all__ = ["LifetimeCost", "lifetime_cost"]


@dataclass(frozen=True, repr=False)
class LifetimeCost(Tabular):
    """FLOPs, dollars and GPU-hours of training one model and serving its demand.

    What `lifetime_cost` returns; arrays where the inputs were arrays. FLOPs are model
    FLOPs (`6 N D` to train, `2 N` per served token); GPU-hours divide them by each phase's
    MFU and peak, `flops / (mfu peak 3600)`, and dollars multiply GPU-hours by the hourly
    price. The properties, by phase: `training_`, `prefill_`, `decode_` and (sums)
    `inference_`, `total_` `flops` (FLOPs), `gpu_hours` (GPU-hours) and `dollars` (US
    dollars).

    Parameters
    ----------
    params : float or numpy.ndarray
        Parameters N (count).
    tokens : float or numpy.ndarray
        Training tokens D.
    requests : float or numpy.ndarray
        Lifetime requests (count).
    input_tokens, output_tokens : float or numpy.ndarray
        Prompt and generated tokens per request.
    costs : CostModel
        Hardware, prices and MFUs.

    Examples
    --------
    >>> from scaleplan import lifetime_cost
    >>> cost = lifetime_cost(7e9, 2e12, 1e9)
    >>> print(f"train ${cost.training_dollars:,.0f}, prefill ${cost.prefill_dollars:,.0f}, "
    ...       f"decode ${cost.decode_dollars:,.0f}")
    train $224,359, prefill $960, decode $147,391
    """

    _INPUTS = ("params", "tokens", "requests", "input_tokens", "output_tokens")
    _OUTPUTS = (
        "training_flops",
        "prefill_flops",
        "decode_flops",
        "total_flops",
        "training_dollars",
        "prefill_dollars",
        "decode_dollars",
        "total_dollars",
        "training_gpu_hours",
        "prefill_gpu_hours",
        "decode_gpu_hours",
    )

    params: Any
    tokens: Any
    requests: Any
    input_tokens: Any
    output_tokens: Any
    costs: CostModel

    @property
    def training_flops(self) -> Any:
        """`6 N D`, in FLOPs."""
        return training_flops(self.params, self.tokens)

    @property
    def prefill_flops(self) -> Any:
        """`2 N requests input_tokens`, in FLOPs."""
        return inference_flops(self.params, self.requests * self.input_tokens)

    @property
    def decode_flops(self) -> Any:
        """`2 N requests output_tokens`, in FLOPs."""
        return inference_flops(self.params, self.requests * self.output_tokens)

    @property
    def inference_flops(self) -> Any:
        """Prefill plus decode FLOPs."""
        return self.prefill_flops + self.decode_flops

    @property
    def total_flops(self) -> Any:
        """Training plus inference FLOPs."""
        return self.training_flops + self.inference_flops

    def _gpu_hours(self, flops: Any, mfu: float, phase: str) -> Any:
        gpu: Accelerator = getattr(self.costs, f"{phase}_gpu")
        peak = gpu.peak(getattr(self.costs, f"{phase}_precision"))
        return flops / (mfu * peak * SECONDS_PER_HOUR)

    @property
    def training_gpu_hours(self) -> Any:
        """GPU-hours of training: `training_flops / (train_mfu peak 3600)`."""
        return self._gpu_hours(self.training_flops, self.costs.train_mfu, "train")

    @property
    def prefill_gpu_hours(self) -> Any:
        """GPU-hours of prefill: `prefill_flops / (prefill_mfu peak 3600)`."""
        return self._gpu_hours(self.prefill_flops, self.costs.prefill_mfu, "inference")

    @property
    def decode_gpu_hours(self) -> Any:
        """GPU-hours of decode: `decode_flops / (decode_mfu peak 3600)`."""
        return self._gpu_hours(self.decode_flops, self.costs.decode_mfu, "inference")

    @property
    def training_dollars(self) -> Any:
        """US dollars of training: GPU-hours times `train_price_per_hour`."""
        return self.training_gpu_hours * self.costs.train_price_per_hour

    @property
    def prefill_dollars(self) -> Any:
        """US dollars of prefill: GPU-hours times `inference_price_per_hour`."""
        return self.prefill_gpu_hours * self.costs.inference_price_per_hour

    @property
    def decode_dollars(self) -> Any:
        """US dollars of decode: GPU-hours times `inference_price_per_hour`."""
        return self.decode_gpu_hours * self.costs.inference_price_per_hour

    @property
    def inference_dollars(self) -> Any:
        """Prefill plus decode US dollars."""
        return self.prefill_dollars + self.decode_dollars

    @property
    def total_dollars(self) -> Any:
        """Lifetime US dollars: training plus inference."""
        return self.training_dollars + self.inference_dollars


@labelled
def lifetime_cost(
    params: Any,
    tokens: Any,
    requests: Any,
    input_tokens: Any = DEFAULT_INPUT_TOKENS,
    output_tokens: Any = DEFAULT_OUTPUT_TOKENS,
    *,
    costs: CostModel | None = None,
) -> LifetimeCost:
    """The lifetime cost breakdown of any model: N parameters trained on D tokens.

    `dollars = 6 N D c_tr / MFU_tr + 2 N requests c_inf (input_tokens / MFU_prefill +
    output_tokens / MFU_decode)`, with `c` the dollars per peak FLOP of each phase's
    hardware (Sardana et al. 2024, §6 and App. B.2-B.3).

    Parameters
    ----------
    params : float or array_like
        Parameters N (count); > 0.
    tokens : float or array_like
        Training tokens D; >= 0.
    requests : float or array_like
        Lifetime requests (count); >= 0.
    input_tokens, output_tokens : float or array_like, optional
        Prompt and generated tokens per request (defaults 70 and 215).
    costs : CostModel, optional
        Hardware, prices and MFUs (default `CostModel()`).

    Returns
    -------
    LifetimeCost

    Raises
    ------
    ScaleplanError
        If an input is out of range (naming it and its row), or a total leaves float64.

    Examples
    --------
    Llama-2-7B (2T tokens) serving a billion requests, at the paper's prices:

    >>> from scaleplan import lifetime_cost
    >>> cost = lifetime_cost(7e9, 2e12, 1e9)
    >>> print(f"${cost.total_dollars:,.0f}, {cost.training_gpu_hours:,.0f} training GPU-hours")
    $372,710, 149,573 training GPU-hours
    """
    costs = resolve_costs(costs)
    named = {
        "params": params,
        "tokens": tokens,
        "requests": requests,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
    }
    values = {}
    for name, v in named.items():
        arr = as_float(name, v)
        span = NON_NEGATIVE if name in ("requests", "input_tokens", "output_tokens") else POSITIVE
        ok = span.admits(arr)
        if not np.all(ok):
            raise first_bad(name, arr, ~ok, span)
        values[name] = arr.item() if arr.ndim == 0 else arr
    cost = LifetimeCost(**values, costs=costs)
    _check_in_range(cost)
    return cost


def _check_in_range(cost: LifetimeCost) -> None:
    """Every total of `cost` must be finite: a product such as 6 N D beyond float64 once
    came back as inf dollars without a word."""
    with np.errstate(over="ignore", invalid="ignore"):
        totals = (cost.total_flops, cost.total_dollars, cost.decode_gpu_hours)
        bad = np.zeros(np.shape(totals[0]), bool)
        for t in totals:
            bad |= ~np.isfinite(np.asarray(t))
    if np.any(bad):
        index = int(np.flatnonzero(bad)[0]) if bad.ndim else None
        where = f" at index {index}" if index is not None else ""
        raise ScaleplanError(
            "params, tokens, requests, input_tokens and output_tokens are too large together: "
            f"the lifetime FLOPs or dollars overflow float64{where}",
            "params",
            index,
        )
