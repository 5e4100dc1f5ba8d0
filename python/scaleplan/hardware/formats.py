"""Number formats: what a stored weight or KV-cache element costs in bytes, and the peak
its matmuls run at. One table; the accelerators' peaks, the serving roofline and the
command line all read it.

A format is either a compute precision (its matmuls run at the GPU's peak for it) or a
weight-only format (weights stored in few bits and widened to 16 bits before each matmul,
as AWQ, GPTQ and the engines' int8/int4 weight-only kernels do): it reads fewer bytes but
computes at the fp16 peak. Block-scaled formats count their scales in the bytes:

- `fp4` is NVFP4: 4-bit e2m1 values with an fp8 (e4m3) scale per block of 16, 4.5 bits
  an element (NVIDIA, "Introducing NVFP4", developer blog, 2025-06-24); it is the format
  of TensorRT-LLM's FP4 checkpoints. The per-tensor fp32 scale is negligible.
- `mxfp4` is the OCP Microscaling format: e2m1 values with an 8-bit power-of-two (e8m0)
  scale per block of 32, 4.25 bits (OCP Microscaling Formats (MX) v1.0, 2023-09).
- `w4a16` is 4-bit integer weights with a 16-bit scale and a 16-bit zero point per group
  of 128 (AWQ's and GPTQ's common group size), 4.25 bits; `w8a16` is 8-bit integer
  weights with one scale per output channel, whose bytes are negligible (1 byte).

A KV cache is stored in a compute precision (`KV_FORMATS`); the weight-only formats are
weights only. Unless told, a cache is stored as its weights are, except that 4-bit
weights keep an fp8 cache (TensorRT-LLM's FP4 checkpoints pair NVFP4 weights with an fp8
cache) and weight-only formats a 16-bit one (their kernels read an fp16 cache).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "FORMATS",
    "KV_FORMATS",
    "PRECISIONS",
    "PRECISION_BYTES",
    "compute_precision",
    "default_kv_format",
]

# name: (bytes per stored element, scales included; the precision its matmuls run at)
FORMATS: Mapping[str, tuple[float, str]] = MappingProxyType(
    {
        "bf16": (2.0, "bf16"),
        "fp16": (2.0, "fp16"),
        "fp8": (1.0, "fp8"),
        "int8": (1.0, "int8"),
        "fp4": (4.5 / 8, "fp4"),
        "mxfp4": (4.25 / 8, "fp4"),
        "w8a16": (1.0, "fp16"),
        "w4a16": (4.25 / 8, "fp16"),
    }
)

# The compute precisions: the keys of an accelerator's peaks.
PRECISIONS: tuple[str, ...] = ("bf16", "fp16", "fp8", "int8", "fp4")
# Bytes per stored element of every format.
PRECISION_BYTES: Mapping[str, float] = MappingProxyType({k: v[0] for k, v in FORMATS.items()})
# The formats a KV cache may be stored in.
KV_FORMATS: tuple[str, ...] = ("bf16", "fp16", "fp8", "int8", "fp4")


def compute_precision(fmt: str) -> str:
    """The precision a format's matmuls run at: itself for a compute precision, fp16 for a
    weight-only format, fp4 for `mxfp4`; an unknown name is returned as given (the
    accelerator's `peak` then refuses it by name).

    Examples
    --------
    >>> compute_precision("w4a16"), compute_precision("mxfp4"), compute_precision("fp8")
    ('fp16', 'fp4', 'fp8')
    """
    entry = FORMATS.get(fmt)
    return fmt if entry is None else entry[1]


def default_kv_format(weights: str) -> str:
    """The KV cache's format when none is given, for weights in `weights` (the module's
    docstring says why).

    Examples
    --------
    >>> default_kv_format("bf16"), default_kv_format("fp4"), default_kv_format("w4a16")
    ('bf16', 'fp8', 'fp16')
    """
    if weights in ("fp4", "mxfp4"):
        return "fp8"
    return compute_precision(weights)
