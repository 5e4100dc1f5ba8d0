"""What the serving tests share: Hypothesis strategies for shapes, expert and latent
fields, engine efficiencies and formats; the reference step with the formats' bytes
written from their definitions; and the assertion that a step is the reference's."""

import pytest
from hypothesis import strategies as st

from scaleplan.arch.shapes import FIELDS, TransformerShape
from scaleplan.hardware.accelerators import ACCELERATORS
from scaleplan.systems import serving
from scaleplan.testing import reference as ref


@st.composite
def shapes(draw):
    heads = draw(st.sampled_from([1, 2, 4, 8, 16, 32, 64]))
    kv = draw(st.sampled_from([k for k in (1, 2, 4, 8, 16, 32, 64) if heads % k == 0]))
    head_dim = draw(st.sampled_from([32, 64, 128, 256]))
    layers = draw(st.integers(1, 96))
    return TransformerShape(
        d_model=heads * head_dim,
        n_layers=layers,
        n_heads=heads,
        n_kv_heads=kv,
        d_ff=draw(st.integers(64, 60000)),
        vocab=draw(st.integers(100, 260000)),
        gated=draw(st.booleans()),
        tied=draw(st.booleans()),
        extra_params=draw(st.one_of(st.just(0), st.integers(1, 10**8))),
        **draw(st.one_of(st.just({}), experts(layers), latent(head_dim, layers))),
    )


@st.composite
def experts(draw, n_layers):
    """Expert fields: any number of the shape's layers MoE."""
    routed = draw(st.integers(2, 256))
    return dict(
        experts=routed,
        experts_per_token=draw(st.integers(1, min(routed, 8))),
        expert_d_ff=draw(st.integers(64, 20000)),
        shared_d_ff=draw(st.one_of(st.just(0), st.integers(64, 20000))),
        moe_layers=draw(st.integers(0, n_layers)),
    )


@st.composite
def latent(draw, head_dim, n_layers):
    """Latent-attention fields (DeepSeek-style), with experts or without."""
    fields = dict(
        kv_lora_rank=draw(st.integers(64, 1024)),
        q_lora_rank=draw(st.sampled_from([0, 768, 1536])),
        rope_head_dim=draw(st.integers(0, head_dim - 1)),
        v_head_dim=draw(st.sampled_from([64, 128])),
    )
    return {**fields, **draw(st.one_of(st.just({}), experts(n_layers)))}


efficiencies = st.builds(
    serving.Efficiency,
    compute=st.floats(0.05, 1.0),
    memory=st.floats(0.05, 1.0),
    overhead_seconds=st.floats(0.0, 0.01, allow_subnormal=False),
    collective_seconds=st.floats(0.0, 1e-3, allow_subnormal=False),
    memory_fraction=st.floats(0.5, 1.0),
    gemm_half_tokens=st.one_of(st.just(0.0), st.floats(1.0, 1e4)),
    kv_memory=st.one_of(st.none(), st.floats(0.05, 1.0)),
    reserve_bytes=st.one_of(st.just(0.0), st.floats(1e8, 2e10)),
    edge_bytes=st.one_of(st.none(), st.sampled_from([0.5625, 1.0, 2.0, 4.0])),
    compute_8bit=st.one_of(st.none(), st.floats(0.05, 1.0)),
    compute_4bit=st.one_of(st.none(), st.floats(0.05, 1.0)),
    link=st.floats(0.05, 1.0),
    kv_share=st.floats(0.5, 1.0),
)


# Bytes per element of each format, written here from the formats' definitions (16-bit
# floats: 2 bytes; fp8 and int8: 1; NVFP4: 4 bits and an 8-bit scale per 16; MXFP4 and
# group-128 int4 with a 16-bit scale and zero: 4 bits and 32 per 128), not read from the
# package: a wrong table there (KV bytes taken from the weights' format, or the two
# swapped) must fail these tests. COMPUTES: the peak each format's matmuls run at.
BYTES = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "fp4": 0.5625, "mxfp4": 0.53125,
         "w8a16": 1.0, "w4a16": 0.53125}  # fmt: skip
COMPUTES = {"fp4": "fp4", "mxfp4": "fp4", "w8a16": "fp16", "w4a16": "fp16"}
# A cache unless told: the weights' format; fp8 for 4-bit weights; fp16 for weight-only.
DEFAULT_KV = {"fp4": "fp8", "mxfp4": "fp8", "w8a16": "fp16", "w4a16": "fp16"}
# The bits each format's matmuls run at, which pick the compute fraction.
MATH_BITS = {"fp8": 8, "int8": 8, "fp4": 4, "mxfp4": 4}
KV = ["bf16", "fp16", "fp8", "int8", "fp4"]


def _compute(eff, precision):
    own = {8: eff.compute_8bit, 4: eff.compute_4bit}.get(MATH_BITS.get(precision, 16))
    return eff.compute if own is None else own


def reference(
    shape, phase, batch, tokens, tp, acc, eff, precision="bf16", kv_precision=None, **extra
):
    gpu = {
        **extra,
        "peak": acc.peak_flops[COMPUTES.get(precision, precision)],
        "bandwidth": acc.memory_bandwidth,
        "memory": acc.memory_bytes,
        # unused on one GPU, where it may be absent
        "link": (acc.link_bandwidth or 1.0) * eff.link,
        "compute": _compute(eff, precision),
        "memory_eff": eff.memory,
        "overhead": eff.overhead_seconds,
        "latency": eff.collective_seconds,
        "fraction": eff.memory_fraction,
        "weight_bytes": BYTES[precision],
        "edge_bytes": BYTES[precision] if eff.edge_bytes is None else eff.edge_bytes,
        "gemm_half": eff.gemm_half_tokens,
        "kv_eff": eff.memory if eff.kv_memory is None else eff.kv_memory,
        "reserve": eff.reserve_bytes,
        "kv_share": eff.kv_share,
        "kv_bytes": BYTES[
            DEFAULT_KV.get(precision, precision) if kv_precision is None else kv_precision
        ],
    }
    fields = {f: getattr(shape, f) for f in FIELDS}
    return ref.serving_step(fields, phase, batch, tokens, tp, gpu)


def assert_step_is(r, seconds, flops, moved, comm, max_batch):
    """The kernel's step `r` is the reference's, to 1e-12."""
    assert r.seconds == pytest.approx(seconds, rel=1e-12)
    assert r.flops == pytest.approx(flops, rel=1e-12)
    assert r.bytes == pytest.approx(moved, rel=1e-12)
    assert r.comm_seconds == pytest.approx(comm, rel=1e-12, abs=1e-300)
    assert r.max_batch_size == max_batch


@st.composite
def formats(draw):
    """A GPU and a weight format it computes, and a KV format (None: the default)."""
    gpu = draw(st.sampled_from(sorted(ACCELERATORS)))
    peaks = ACCELERATORS[gpu].peak_flops
    precision = draw(st.sampled_from(sorted(f for f in BYTES if COMPUTES.get(f, f) in peaks)))
    return gpu, precision, draw(st.one_of(st.none(), st.sampled_from(KV)))
