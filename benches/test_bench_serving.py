"""Serving steps through the Rust roofline, against the pure-Python reference, row for row."""

from __future__ import annotations

import numpy as np
import pytest

from scaleplan.arch.shapes import FIELDS
from scaleplan.systems import serving
from scaleplan.systems.serving_fit import MODELS
from scaleplan.systems.speculation import Speculation, speculative_decode
from scaleplan.testing import reference as ref

N = 10_000
SHAPE = MODELS["llama-2-7b"]
GPU = {
    "peak": 989e12, "bandwidth": 3.35e12, "memory": 80e9, "link": 450e9, "compute": 0.55,
    "memory_eff": 0.99, "overhead": 5.3e-3, "fraction": 0.9, "weight_bytes": 2.0,
    "kv_bytes": 2.0, "latency": 1.6e-4,
}  # fmt: skip


@pytest.fixture(scope="module")
def load():
    rng = np.random.default_rng(7)
    return rng.integers(1, 32, N).astype(float), rng.integers(0, 2048, N).astype(float)


def test_rust_10k_steps(record, load):
    batch, context = load
    r = record("serving_rust_10k", serving.decode, SHAPE, "h100-sxm", batch_size=batch,
               context_tokens=context)  # fmt: skip
    assert np.all(np.isfinite(r.seconds))


def test_reference_10k_steps(record, load):
    fields = {f: getattr(SHAPE, f) for f in FIELDS}
    batch, context = load

    def loop():
        return [
            ref.serving_step(fields, "decode", b, c, 1, GPU)
            for b, c in zip(batch, context, strict=True)
        ]

    record("serving_reference_10k", loop)


def test_plain_target_10k(record, load):
    """The kernel's own integer bisection for the largest batch meeting a TPOT."""
    _, context = load
    r = record("decode_target_10k", serving.decode, SHAPE, "h100-sxm", context_tokens=context,
               target_seconds=0.03, on_invalid="nan")  # fmt: skip
    assert np.all(r.seconds[~np.isnan(r.seconds)] <= 0.03)


def test_speculative_target_10k(record, load):
    """The same search under speculation: 32 batches a row a round from Python, each a
    verification and a draft step through the kernel."""
    _, context = load
    r = record("speculative_target_10k", speculative_decode, SHAPE, Speculation(draft_tokens=3),
               context_tokens=context, target_seconds=0.03, on_invalid="nan")  # fmt: skip
    assert np.all(r.seconds_per_token[~np.isnan(r.seconds_per_token)] <= 0.03)
