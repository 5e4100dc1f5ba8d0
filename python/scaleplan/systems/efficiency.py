"""How much of a GPU a serving stack gets (`Efficiency`), and the bare roofline (`IDEAL`).

Engine profiles (`engines`) are named, fitted `Efficiency` values; a step given no
efficiency takes the default profile's (`engines.default_efficiency`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .._utils.checks import FRACTION, NON_NEGATIVE, POSITIVE, number, optional
from .._utils.frames import Record
from ..hardware.formats import compute_precision

__all__ = ["IDEAL", "MATH_BITS", "Efficiency"]

# The bits each compute precision's matmuls run at (a format's stored bytes count its
# scales, so they would not say): they pick `compute_8bit` or `compute_4bit`. A precision
# not here computes at `compute`.
MATH_BITS = {"bf16": 16, "fp16": 16, "fp8": 8, "int8": 8, "fp4": 4}


@dataclass(frozen=True, repr=False)
class Efficiency(Record):
    """How much of a GPU a serving stack gets: the fractions of dense peak and of memory
    bandwidth a step reaches, the seconds every step adds (launches, scheduling,
    sampling), the fraction of memory the weights and KV cache may fill (vLLM's
    `gpu_memory_utilization` default, 0.9), and the latency each all-reduce of a
    tensor-parallel group waits beyond its bytes' time.

    The field defaults are the `trtllm-2023` profile: the fit (`serving_fit.fit_efficiency`,
    to two figures) to the 57 published TensorRT-LLM rows shipped in
    `data/serving_measurements.csv` (H100, A100, L40S; releases 0.5-0.6.1); a test refits
    them. A step given no efficiency takes the default engine profile's
    (`engines.DEFAULT_ENGINE`), not these. The memory figure near 1, the 5.3 ms per step
    and the 0.16 ms per all-reduce absorb what the roofline leaves out (scheduling,
    synchronisation, kernels between the matmuls), so read them as a calibration, not as
    hardware facts. `IDEAL` is the roofline itself, which no published row beats.

    Parameters
    ----------
    compute : float, optional
        Fraction of dense peak FLOP/s a step reaches, in (0, 1] (default 0.55).
    memory : float, optional
        Fraction of memory bandwidth a step reaches, in (0, 1] (default 0.99).
    overhead_seconds : float, optional
        Seconds every step adds (default 5.3e-3).
    memory_fraction : float, optional
        Fraction of GPU memory weights and KV cache may fill, in (0, 1] (default 0.9).
    collective_seconds : float, optional
        Latency of each all-reduce of a tensor-parallel group, in seconds (default 1.6e-4).
    gemm_half_tokens : float, optional
        Tokens at which a step's matmuls reach half of `compute` (default 0): compute time
        `FLOPs / (peak compute m / (m + gemm_half_tokens))` for `m` tokens in the step.
    kv_memory : float or None, optional
        Fraction of bandwidth the KV-cache reads reach, in (0, 1] (default None: `memory`).
    reserve_bytes : float, optional
        Bytes of each GPU the runtime keeps beyond the weights and the cache (workspace,
        activations, its context; default 0).
    edge_bytes : float or None, optional
        Bytes per weight outside the layers' matrices (embeddings, output head, norms),
        which quantised checkpoints keep at 16 bits (default None: the weights' format).
    compute_8bit, compute_4bit : float or None, optional
        Fraction of the 8-bit (fp8, int8) or 4-bit (fp4) dense peak a step reaches, in
        (0, 1] (default None: `compute`); `compute_for` picks the one of a format.
    kv_share : float, optional
        Fraction of the memory left after the weights and `reserve_bytes` (within
        `memory_fraction`) that the KV cache takes, in (0, 1] (default 1; TensorRT-LLM's
        `free_gpu_memory_fraction` is 0.9).
    link : float, optional
        Fraction of the link bandwidth an all-reduce's bytes reach, in (0, 1] (default 1):
        `2 (tp - 1) / tp * bytes / (link_bandwidth * link) + collective_seconds` each.

    Raises
    ------
    ScaleplanError
        If a fraction is outside (0, 1] or a time is negative.

    Examples
    --------
    >>> from scaleplan.systems.serving import decode
    >>> step = decode("llama-2-7b", batch_size=32, context_tokens=2048, efficiency=Efficiency())
    >>> print(f"{step.seconds:.4f} s")
    0.0196 s
    >>> ideal = decode("llama-2-7b", batch_size=32, context_tokens=2048, efficiency=IDEAL)
    >>> print(f"{ideal.seconds:.4f} s on the bare roofline")
    0.0142 s on the bare roofline
    """

    compute: float = 0.55
    memory: float = 0.99
    overhead_seconds: float = 5.3e-3
    memory_fraction: float = 0.9
    collective_seconds: float = 1.6e-4
    gemm_half_tokens: float = 0.0
    kv_memory: float | None = None
    reserve_bytes: float = 0.0
    edge_bytes: float | None = None
    compute_8bit: float | None = None
    compute_4bit: float | None = None
    link: float = 1.0
    kv_share: float = 1.0

    def __post_init__(self) -> None:
        for name in ("compute", "memory", "memory_fraction", "link", "kv_share"):
            object.__setattr__(self, name, number(name, getattr(self, name), FRACTION))
        for name in ("overhead_seconds", "collective_seconds", "gemm_half_tokens"):
            object.__setattr__(self, name, number(name, getattr(self, name), NON_NEGATIVE))
        set_ = object.__setattr__
        set_(self, "reserve_bytes", number("reserve_bytes", self.reserve_bytes, NON_NEGATIVE))
        set_(self, "kv_memory", optional("kv_memory", self.kv_memory, FRACTION))
        set_(self, "edge_bytes", optional("edge_bytes", self.edge_bytes, POSITIVE))
        for name in ("compute_8bit", "compute_4bit"):
            set_(self, name, optional(name, getattr(self, name), FRACTION))

    def compute_for(self, precision: str) -> float:
        """The fraction of `precision`'s dense peak a step reaches: `compute_8bit` or
        `compute_4bit` where the format's matmuls run at 8 or 4 bits and that is set,
        else `compute` (a weight-only format computes at 16 bits).

        Examples
        --------
        >>> e = Efficiency(compute=0.5, compute_4bit=0.3)
        >>> e.compute_for("fp4"), e.compute_for("w4a16"), e.compute_for("fp8")
        (0.3, 0.5, 0.5)
        """
        bits = MATH_BITS.get(compute_precision(precision), 16)
        own = {8: self.compute_8bit, 4: self.compute_4bit}.get(bits)
        return self.compute if own is None else own

    def compute_seconds(self, flops: float, peak: float, precision: str) -> float:
        """Seconds of `flops` at `compute_for(precision)` of `peak` (FLOP/s): what an
        in-flight engine charges a prompt that joins a decode step, whose weights read and
        overhead are paid already.

        Examples
        --------
        >>> Efficiency(compute=0.5, compute_8bit=0.25).compute_seconds(1e15, 2e15, "fp8")
        2.0
        """
        return flops / (peak * self.compute_for(precision))


IDEAL = Efficiency(compute=1.0, memory=1.0, overhead_seconds=0.0, collective_seconds=0.0)
