"""Accelerators: dense peak throughput per precision, memory, and a default rental price.

Peaks are dense (no structured sparsity) tensor-core figures from NVIDIA's datasheets, in
FLOP/s (OP/s for int8). Prices are on-demand US dollars per GPU-hour, each labelled with
where and when it was seen; they change often, so pass your own with `CostModel`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .errors import ScaleplanError

PRECISIONS = ("bf16", "fp16", "fp8", "int8")


@dataclass(frozen=True)
class Accelerator:
    """One accelerator model. `peak_flops` maps a precision to dense peak FLOP/s."""

    name: str
    peak_flops: Mapping[str, float]
    memory_bytes: float
    memory_bandwidth: float
    """Bytes per second."""
    price_per_hour: float | None = None
    price_source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.peak_flops:
            raise ScaleplanError(f"peak_flops of {self.name} must name at least one precision")
        for precision, peak in self.peak_flops.items():
            if precision not in PRECISIONS:
                raise ScaleplanError(
                    f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}",
                    "precision",
                )
            _positive(f"peak_flops[{precision!r}]", peak)
        _positive("memory_bytes", self.memory_bytes)
        _positive("memory_bandwidth", self.memory_bandwidth)
        if self.price_per_hour is not None:
            _positive("price_per_hour", self.price_per_hour)
        object.__setattr__(self, "peak_flops", MappingProxyType(dict(self.peak_flops)))

    def peak(self, precision: str) -> float:
        """Dense peak FLOP/s at `precision`, or a ValueError listing what the chip has."""
        try:
            return self.peak_flops[precision]
        except KeyError:
            raise ScaleplanError(
                f"{self.name} has no {precision!r} peak; it has {', '.join(self.peak_flops)}"
            ) from None


def _positive(name: str, value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0 < value < float("inf")
    ):
        raise ScaleplanError(f"{name} must be a finite number > 0; got {value!r}", name)
    return float(value)


_A100 = {"bf16": 312e12, "fp16": 312e12, "int8": 624e12}
_HOPPER = {"bf16": 989e12, "fp16": 989e12, "fp8": 1979e12, "int8": 1979e12}
_LAMBDA_2023 = "Lambda on-demand, 2023, as used by Sardana et al. 2024 (App. B.3)"
_RUNPOD_2026 = "RunPod on-demand, March 2026, as listed by deploybase.ai (H200 vs H100)"

ACCELERATORS: Mapping[str, Accelerator] = MappingProxyType(
    {
        a.name: a
        for a in (
            Accelerator("a100-40gb", _A100, 40e9, 1.555e12, 1.10, _LAMBDA_2023),
            Accelerator("a100-80gb", _A100, 80e9, 2.039e12, 1.50, _LAMBDA_2023),
            Accelerator("h100-sxm", _HOPPER, 80e9, 3.35e12, 2.69, _RUNPOD_2026),
            Accelerator("h200", _HOPPER, 141e9, 4.8e12, 3.59, _RUNPOD_2026),
        )
    }
)


def accelerator(name: str | Accelerator) -> Accelerator:
    """A catalogue entry by name (or the accelerator itself)."""
    if isinstance(name, Accelerator):
        return name
    try:
        return ACCELERATORS[name]
    except (KeyError, TypeError):
        raise ScaleplanError(
            f"accelerator must be one of {', '.join(ACCELERATORS)} or an Accelerator; got {name!r}",
            "accelerator",
        ) from None
