"""The cost model: hardware, precision, price and utilisation of training, prefill and
decode, validated once, and the dollars per peak FLOP and demand weights derived from them.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from typing import Any

from ._arrays import as_float, real_float
from .errors import ScaleplanError
from .hardware import Accelerator, accelerator

SECONDS_PER_HOUR = 3600.0
# Mean prompt and completion lengths of LMSYS-Chat-1M (Zheng et al. 2023), used by the paper.
DEFAULT_INPUT_TOKENS = 70.0
DEFAULT_OUTPUT_TOKENS = 215.0


# Lowest MFU accepted. Below it no deployment is meant, and an MFU near the bottom of
# the float range (5e-324 was tried) turns dollars per token into inf.
MIN_MFU = 1e-6


def _fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not MIN_MFU <= value <= 1:
        raise ScaleplanError(f"{name} must be a number in [{MIN_MFU:g}, 1]; got {value!r}", name)
    return float(value)


@functools.cache
def default_costs() -> CostModel:
    """The default cost model, built once: it is frozen and the catalogue it reads
    (`ACCELERATORS`) is read-only, so every call can share it."""
    return CostModel()


def resolve_costs(costs: Any) -> CostModel:
    """`costs` as a CostModel: None means the default one; anything else is refused (a
    string once failed deep inside with AttributeError, and 0 silently meant the default)."""
    if costs is None:
        return default_costs()
    if isinstance(costs, CostModel):
        return costs
    raise ScaleplanError(
        f"costs must be a CostModel or None; got {costs!r} "
        f"(for example CostModel(train_gpu='h100-sxm', inference_gpu='h100-sxm'))",
        "costs",
    )


@dataclass(frozen=True)
class CostModel:
    """Hardware, precision, price and utilisation of training, prefill and decode.

    The defaults are the paper's Figure 6 / Table 3 setting: train on A100-80GB in bf16 at
    50% MFU, serve on A100-40GB in int8 at 50% MFU for prompt tokens and 1% for generated
    tokens, at the catalogue's prices. Prices default to the accelerators' catalogue prices.
    """

    train_gpu: Accelerator | str = "a100-80gb"
    inference_gpu: Accelerator | str = "a100-40gb"
    train_precision: str = "bf16"
    inference_precision: str = "int8"
    train_price_per_hour: float | None = None
    inference_price_per_hour: float | None = None
    train_mfu: float = 0.5
    prefill_mfu: float = 0.5
    decode_mfu: float = 0.01

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "train_gpu", accelerator(self.train_gpu))
        set_(self, "inference_gpu", accelerator(self.inference_gpu))
        for phase in ("train", "inference"):
            gpu: Accelerator = getattr(self, f"{phase}_gpu")
            gpu.peak(getattr(self, f"{phase}_precision"))  # a ValueError if the chip lacks it
            price = getattr(self, f"{phase}_price_per_hour")
            if price is None:
                if gpu.price_per_hour is None:
                    raise ScaleplanError(
                        f"{phase}_price_per_hour is needed: {gpu.name} has no price"
                    )
                price = gpu.price_per_hour
            need = f"{phase}_price_per_hour must be a finite number > 0"
            if isinstance(price, bool) or not isinstance(price, (int, float)):
                raise ScaleplanError(f"{need}; got {price!r}")
            value = real_float(f"{phase}_price_per_hour", price)
            if not 0 < value < float("inf"):
                raise ScaleplanError(f"{need}; got {price!r}")
            # Dollars per FLOP must be a normal float: a price near 5e-324 once made them 0
            # and every cost a division by zero.
            per_flop = value / (SECONDS_PER_HOUR * gpu.peak(getattr(self, f"{phase}_precision")))
            if per_flop < sys.float_info.min:
                raise ScaleplanError(f"{need} and large enough to cost more than 0; got {price!r}")
            set_(self, f"{phase}_price_per_hour", value)
        for name in ("train_mfu", "prefill_mfu", "decode_mfu"):
            set_(self, name, _fraction(name, getattr(self, name)))

    @classmethod
    def sardana2024_table3(cls) -> CostModel:
        """The setting that reproduces Table 3 of Sardana et al. 2024 (within 2.4%).

        The paper states A100-40GB inference at $1.10/h; its Table 3 comes out only with
        $1.00/h (with $1.10/h every cost is ~10% higher and the optimal models ~3% larger
        and ~7% shorter-trained). See the README.
        """
        return cls(inference_price_per_hour=1.00)

    @property
    def train_dollars_per_flop(self) -> float:
        """`c_tr`: dollars per peak FLOP of the training hardware at its precision."""
        gpu: Accelerator = self.train_gpu  # type: ignore[assignment]
        return self.train_price_per_hour / (SECONDS_PER_HOUR * gpu.peak(self.train_precision))  # type: ignore[operator]

    @property
    def inference_dollars_per_flop(self) -> float:
        """`c_inf`: dollars per peak FLOP of the inference hardware at its precision."""
        gpu: Accelerator = self.inference_gpu  # type: ignore[assignment]
        return self.inference_price_per_hour / (  # type: ignore[operator]
            SECONDS_PER_HOUR * gpu.peak(self.inference_precision)
        )

    def effective_demand(self, requests: Any, input_tokens: Any, output_tokens: Any) -> Any:
        """`requests (w_in input_tokens + w_out output_tokens)`: the demand in training-token
        equivalents that makes the dollar problem the FLOP one."""
        w_in, w_out = self.demand_weights
        return as_float("requests", requests) * (
            w_in * as_float("input_tokens", input_tokens)
            + w_out * as_float("output_tokens", output_tokens)
        )

    @functools.cached_property
    def demand_weights(self) -> tuple[float, float]:
        """`(w_in, w_out)`: training-token equivalents of one prompt and one generated token."""
        ratio = self.inference_dollars_per_flop / self.train_dollars_per_flop
        return ratio * self.train_mfu / self.prefill_mfu, ratio * self.train_mfu / self.decode_mfu
