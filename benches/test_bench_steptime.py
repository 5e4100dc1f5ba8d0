"""1,000,000 shapes through the Rust counts, against the same accounting in NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from scaleplan import _core
from scaleplan.systems.steptime import FIELDS
from scaleplan.testing import reference as ref

N = 1_000_000


@pytest.fixture(scope="module")
def columns():
    rng = np.random.default_rng(5)
    heads = rng.choice([8.0, 16.0, 32.0], N)
    cols = {
        "vocab": rng.choice([32000.0, 50257.0, 128256.0], N),
        "d_model": heads * rng.choice([64.0, 128.0], N),
        "n_layers": rng.integers(1, 96, N).astype(float),
        "n_heads": heads,
        "head_dim": rng.choice([64.0, 128.0], N),
        "n_kv_heads": heads / rng.choice([1.0, 2.0, 8.0], N),
        "d_ff": rng.integers(256, 30000, N).astype(float),
        "gated": rng.integers(0, 2, N).astype(float),
        "tied": rng.integers(0, 2, N).astype(float),
        "seq_len": rng.choice([512.0, 2048.0, 8192.0], N),
        "batch_size": rng.choice([1.0, 8.0, 64.0], N),
        "extra_params": rng.choice([0.0, 1e5, 1e7], N),
    }
    # A third dense, the rest mixtures of 8 or 64 experts of a quarter width, one or two a
    # token, in every layer; ordinary attention.
    experts = rng.choice([1.0, 8.0, 64.0], N)
    cols |= {
        "experts": experts,
        "experts_per_token": np.minimum(experts, rng.choice([1.0, 2.0], N)),
        "expert_d_ff": np.ceil(cols["d_ff"] / 4.0),
        "shared_d_ff": np.zeros(N),
        "moe_layers": np.where(experts > 1, cols["n_layers"], 0.0),
        "kv_lora_rank": np.zeros(N),
        "q_lora_rank": np.zeros(N),
        "rope_head_dim": np.zeros(N),
        "v_head_dim": cols["head_dim"],
    }
    return [cols[f] for f in FIELDS]


def test_rust_1m_shapes(record, columns):
    out = record("steptime_rust_1m", _core.step_counts, columns)
    want = ref.step_counts(*columns)
    for got, exp in zip(out, want, strict=True):
        np.testing.assert_allclose(got, exp, rtol=1e-12)


def test_numpy_reference_1m_shapes(record, columns):
    record("steptime_numpy_1m", ref.step_counts, *columns)
