"""Accelerators: dense peak throughput per precision, memory, links, and rental prices.

Peaks are dense (no structured sparsity) tensor-core figures from the vendors' datasheets,
in FLOP/s (OP/s for int8). `link_bandwidth` is what one GPU sends per second, one way, to
its tensor-parallel peers (NVLink, Infinity Fabric or PCIe; half the bidirectional figure
datasheets print). Prices are US dollars per GPU-hour, each labelled with where and when it
was seen; they change often, so pass your own (`dataclasses.replace`, or `CostModel`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .._utils.checks import POSITIVE, number, shown
from .._utils.frames import value_repr
from ..errors import ScaleplanError
from .formats import PRECISION_BYTES, PRECISIONS, compute_precision

__all__ = [
    "ACCELERATORS",
    "PRECISIONS",
    "PRECISION_BYTES",
    "Accelerator",
    "accelerator",
    "hourly_price",
]


@dataclass(frozen=True)
class Accelerator:
    """One accelerator model: its peaks, memory, links and rental prices.

    The catalogue (`ACCELERATORS`) holds the common ones; build your own for any other
    chip, or `dataclasses.replace` a catalogue entry to change its price.

    Parameters
    ----------
    name : str
        The model's name, as tables print it.
    peak_flops : mapping of str to float
        Dense peak throughput by precision (keys from `PRECISIONS`), in FLOP/s (OP/s for
        int8); at least one.
    memory_bytes : float
        Memory per GPU, in bytes.
    memory_bandwidth : float
        Memory bandwidth, in bytes/s.
    price_per_hour : float, optional
        On-demand price, in US dollars per GPU-hour.
    price_source : str, optional
        Where and when the price was seen.
    link_bandwidth : float, optional
        Bytes per second one GPU sends to its tensor-parallel peers, one way.
    spot_price_per_hour : float, optional
        Interruptible price, in US dollars per GPU-hour.
    source : str, optional
        Where the peak, memory, bandwidth and link figures come from.

    Raises
    ------
    ScaleplanError
        If `peak_flops` is empty or names an unknown precision, or a number is not finite
        and positive (naming it).

    Examples
    --------
    >>> from scaleplan import Accelerator
    >>> gpu = Accelerator("my-gpu", {"bf16": 500e12}, memory_bytes=64e9,
    ...                   memory_bandwidth=2e12, price_per_hour=2.0)
    >>> print(f"{gpu.peak('bf16'):.3g} FLOP/s, {gpu.memory_bytes / 1e9:.0f} GB")
    5e+14 FLOP/s, 64 GB
    """

    __repr__ = value_repr  # short: numbers to four digits, the peaks on one line

    name: str
    peak_flops: Mapping[str, float]
    memory_bytes: float
    memory_bandwidth: float
    """Bytes per second."""
    price_per_hour: float | None = None
    """On-demand $/GPU-hour."""
    price_source: str = field(default="", compare=False)
    link_bandwidth: float | None = None
    """Bytes per second one GPU sends to its tensor-parallel peers, one way."""
    spot_price_per_hour: float | None = None
    """Interruptible $/GPU-hour, where the price source gives one."""
    source: str = field(default="", compare=False)
    """Where the peak, memory, bandwidth and link figures come from."""

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
        for name in ("price_per_hour", "link_bandwidth", "spot_price_per_hour"):
            if getattr(self, name) is not None:
                _positive(name, getattr(self, name))
        object.__setattr__(self, "peak_flops", MappingProxyType(dict(self.peak_flops)))

    def peak(self, precision: str) -> float:
        """Dense peak throughput of matmuls in `precision`, in FLOP/s: a compute precision,
        or any number format of `formats.FORMATS` (a weight-only format computes at the
        fp16 peak, `mxfp4` at the fp4 one).

        Parameters
        ----------
        precision : str
            One of the chip's precisions (`peak_flops`' keys).

        Returns
        -------
        float

        Raises
        ------
        ScaleplanError
            If the chip has no peak at `precision`; the message lists those it has.

        Examples
        --------
        >>> from scaleplan import accelerator
        >>> print(f"{accelerator('h100-sxm').peak('fp8'):.4g}")
        1.979e+15
        """
        key = compute_precision(precision)
        try:
            return self.peak_flops[key]
        except KeyError:
            runs = "" if key == precision else f" (the format {precision!r} computes in {key})"
            raise ScaleplanError(
                f"{self.name} has no {key!r} peak{runs}; it has {', '.join(self.peak_flops)}",
                "precision",
            ) from None


def _positive(name: str, value: object) -> float:
    return number(name, value, POSITIVE)


_A100 = {"bf16": 312e12, "fp16": 312e12, "int8": 624e12}
_HOPPER = {"bf16": 989e12, "fp16": 989e12, "fp8": 1979e12, "int8": 1979e12}
_H100_PCIE = {"bf16": 756e12, "fp16": 756e12, "fp8": 1513e12, "int8": 1513e12}
_B200 = {"bf16": 2.25e15, "fp16": 2.25e15, "fp8": 4.5e15, "int8": 4.5e15, "fp4": 9e15}
_GB200 = {"bf16": 2.5e15, "fp16": 2.5e15, "fp8": 5e15, "int8": 5e15, "fp4": 10e15}
_L4 = {"bf16": 121e12, "fp16": 121e12, "fp8": 242.5e12, "int8": 242.5e12}
_MI355X = {"bf16": 2516.6e12, "fp16": 2516.6e12, "fp8": 5033.2e12, "int8": 5033.2e12,
           "fp4": 10066.3e12}  # fmt: skip
_L40S = {"bf16": 362e12, "fp16": 362e12, "fp8": 733e12}
_MI300X = {"bf16": 1307.4e12, "fp16": 1307.4e12, "fp8": 2614.9e12, "int8": 2614.9e12}

_LAMBDA_2023 = "Lambda on-demand, 2023, as used by Sardana et al. 2024 (App. B.3)"
_RUNPOD_2026 = "RunPod on-demand, March 2026, as listed by deploybase.ai (H200 vs H100)"
# deploybase.ai, "RunPod GPU Pricing: 2026 Comprehensive Pricing Guide", 2026-03-10: a
# table of spot and on-demand rates. (It lists H100 SXM at $2.69 spot / $4.76 on-demand,
# where the entry above, from its H200-vs-H100 article, calls $2.69 on-demand; RunPod's
# Secure Cloud H100 SXM was ~$2.69 on-demand per spheron.network, 2026-05-22.)
_RUNPOD_TABLE = "RunPod, March 2026, deploybase.ai pricing guide of 2026-03-10"
_TENSORWAVE = "TensorWave on-demand as listed by gpu.blog (undated page, read 2026-11-23)"

_NV_A100 = "NVIDIA A100 datasheet (SXM; NVLink 3 600 GB/s both ways)"
_NV_H100 = "NVIDIA H100 datasheet (SXM5; NVLink 4 900 GB/s both ways)"
_NV_H100_PCIE = "NVIDIA H100 datasheet (PCIe; NVLink bridge 600 GB/s both ways)"
_NV_H200 = "NVIDIA H200 datasheet (SXM; NVLink 4 900 GB/s both ways)"
_NV_B200 = (
    "NVIDIA HGX B200 at 1,000 W: dense peaks as tabulated by G. Lockwood's B200 notes, "
    "8.0 TB/s and 179-180 GB as Vultr's B200 guide (2026-03-11) reads nvidia-smi, NVLink 5 "
    "1.8 TB/s both ways"
)
_NV_GH200 = (
    "NVIDIA GH200 Grace Hopper Superchip datasheet (the 96 GB HBM3 version, 4 TB/s; module "
    "power 450-1,000 W configurable; NVLink 4 900 GB/s both ways), read 2026-12-07"
)
_NV_GB200 = (
    "NVIDIA Blackwell datasheet, 2025 revision (GB200 NVL72 per GPU: the sparse peaks "
    "halved, NVFP4 10 PF dense; 186 GB HBM3e, 8 TB/s; NVLink 5 1.8 TB/s both ways), read "
    "2026-12-07; earlier material says 192 GB"
)
_NV_L4 = (
    "NVIDIA L4 datasheet (the sparse peaks halved; 24 GB GDDR6, 300 GB/s; PCIe Gen4 x16, "
    "64 GB/s both ways; 72 W), read 2026-12-07"
)
_AMD_MI325X = (
    "AMD Instinct MI325X data sheet (the MI300X's CDNA 3 peaks; 256 GB HBM3e, 6 TB/s; its "
    "Infinity Fabric figure not read, so no link_bandwidth), read 2026-12-07"
)
_AMD_MI355X = (
    "AMD CDNA 4 white paper: 256 CUs at 2.4 GHz times its per-CU rates (AMD's rounded "
    "2.5 PF fp16, 5 PF fp8, 10 PF MXFP4 agree); 288 GB HBM3e, 8 TB/s; link not read; read "
    "2026-12-07"
)
_LAMBDA_2026 = "Lambda on-demand, 1x GH200 (96 GB), as its price API gave it on 2026-04-11"
_SPHERON_2026 = "Spheron on-demand, 2026-03-17 ($9.08 a GB200 superchip of 2 GPUs)"
_TENSORWAVE_2026 = "TensorWave on-demand, as cited by a research note of 2026-05-18"
_NV_L40S = "NVIDIA L40S datasheet (PCIe Gen4 x16, 64 GB/s both ways; no NVLink)"
_AMD_MI300X = "AMD Instinct MI300X datasheet (7 Infinity Fabric links, 896 GB/s both ways)"


def _entry(
    name: str,
    peaks: Mapping[str, float],
    memory: float,
    bandwidth: float,
    link: float | None,
    source: str,
    price: float | None,
    where: str,
    spot: float | None = None,
) -> Accelerator:
    return Accelerator(
        name,
        peaks,
        memory,
        bandwidth,
        price,
        where,
        link_bandwidth=link,
        spot_price_per_hour=spot,
        source=source,
    )


ACCELERATORS: Mapping[str, Accelerator] = MappingProxyType(
    {
        a.name: a
        for a in (
            _entry("a100-40gb", _A100, 40e9, 1.555e12, 300e9, _NV_A100, 1.10, _LAMBDA_2023),
            _entry("a100-80gb", _A100, 80e9, 2.039e12, 300e9, _NV_A100, 1.50, _LAMBDA_2023),
            _entry("h100-sxm", _HOPPER, 80e9, 3.35e12, 450e9, _NV_H100, 2.69, _RUNPOD_2026),
            _entry(
                "h100-pcie",
                _H100_PCIE,
                80e9,
                2.0e12,
                300e9,
                _NV_H100_PCIE,
                3.51,
                _RUNPOD_TABLE,
                1.99,
            ),
            _entry("h200", _HOPPER, 141e9, 4.8e12, 450e9, _NV_H200, 3.59, _RUNPOD_2026),
            _entry("b200", _B200, 180e9, 8.0e12, 900e9, _NV_B200, 10.57, _RUNPOD_TABLE, 5.98),
            _entry("l40s", _L40S, 48e9, 864e9, 32e9, _NV_L40S, 1.40, _RUNPOD_TABLE, 0.79),
            _entry("mi300x", _MI300X, 192e9, 5.3e12, 448e9, _AMD_MI300X, 1.71, _TENSORWAVE),
            _entry("gh200", _HOPPER, 96e9, 4.0e12, 450e9, _NV_GH200, 2.29, _LAMBDA_2026),
            _entry("gb200", _GB200, 186e9, 8.0e12, 900e9, _NV_GB200, 4.54, _SPHERON_2026),
            _entry("l4", _L4, 24e9, 300e9, 32e9, _NV_L4, 0.78, _RUNPOD_TABLE, 0.44),
            _entry("mi325x", _MI300X, 256e9, 6.0e12, None, _AMD_MI325X, 1.95, _TENSORWAVE_2026),
            _entry("mi355x", _MI355X, 288e9, 8.0e12, None, _AMD_MI355X, None, ""),
        )
    }
)


def accelerator(name: str | Accelerator, *, argument: str = "name") -> Accelerator:
    """A catalogue entry by name, or the accelerator itself.

    Parameters
    ----------
    name : str or Accelerator
        A key of `ACCELERATORS` (for example "h100-sxm"), or an `Accelerator`, returned as
        it is.
    argument : str, optional
        The caller's name for it, which the error names (`gpu`, `train_gpu`, ...).

    Returns
    -------
    Accelerator

    Raises
    ------
    ScaleplanError
        If `name` is not in the catalogue; the message lists the catalogue.

    Examples
    --------
    >>> from scaleplan import accelerator
    >>> gpu = accelerator("h100-sxm")
    >>> gpu.memory_bytes / 1e9, gpu.price_per_hour
    (80.0, 2.69)
    """
    if isinstance(name, Accelerator):
        return name
    if isinstance(name, str) and name in ACCELERATORS:
        return ACCELERATORS[name]
    raise ScaleplanError(
        f"{argument} must be one of {', '.join(ACCELERATORS)} or an Accelerator; got {shown(name)}",
        argument,
    )


def hourly_price(gpu: Accelerator, price: float | None) -> float:
    """The price of one GPU-hour: `price` if given, else the catalogue's for `gpu`.

    Parameters
    ----------
    gpu : Accelerator
        The chip.
    price : float or None
        A price of your own, in US dollars per GPU-hour; None takes `gpu.price_per_hour`.

    Returns
    -------
    float
        US dollars per GPU-hour.

    Raises
    ------
    ScaleplanError
        If `price` is not finite and positive, or it is None and `gpu` has no price.

    Examples
    --------
    >>> from scaleplan import accelerator
    >>> from scaleplan.hardware.accelerators import hourly_price
    >>> hourly_price(accelerator("h100-sxm"), None), hourly_price(accelerator("h100-sxm"), 2.0)
    (2.69, 2.0)
    """
    if price is not None:
        return number("price_per_hour", price, POSITIVE, unit="dollars")
    if gpu.price_per_hour is None:
        raise ScaleplanError(f"{gpu.name} has no catalogue price: give price_per_hour",
                             "price_per_hour")  # fmt: skip
    return float(gpu.price_per_hour)
