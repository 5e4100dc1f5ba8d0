"""The serving roofline of mixtures of experts and latent attention: what a step reads
against what the model stores, at the two ends of the batch."""

from pathlib import Path

import pytest

from scaleplan import TransformerShape, step_counts
from scaleplan.systems import serving
from scaleplan.systems.efficiency import IDEAL as BARE
from scaleplan.systems.efficiency import Efficiency

CONFIGS = Path(__file__).parents[1] / "arch" / "hf_configs"
IDEAL = Efficiency(compute=1.0, memory=1.0, overhead_seconds=0.0, memory_fraction=1.0)
MIXTRAL = TransformerShape.from_hf_config(CONFIGS / "Mixtral-8x7B-v0.1.json", seq_len=4096)
V3 = TransformerShape.from_hf_config(CONFIGS / "DeepSeek-V3.json")


def test_one_token_reads_its_active_weights_and_a_full_batch_reads_them_all():
    c = step_counts(MIXTRAL)
    embedding = MIXTRAL.vocab * MIXTRAL.d_model
    kw = dict(precision="bf16", efficiency=IDEAL, tensor_parallel=2)
    one = serving.decode(MIXTRAL, "h100-sxm", batch_size=1, context_tokens=1, **kw)
    # One token takes exactly 2 experts a layer: the bytes are the active weights less the
    # input embedding (a lookup), in bf16, and one token of cache (8 KV heads x 128, K and
    # V, 32 layers), per GPU of two.
    cache = 2 * 32 * 4 * 128 * 2
    assert one.bytes == pytest.approx(2 * (c.active_params - embedding) / 2 + cache, rel=1e-12)
    # 512 tokens miss a given expert with probability (6/8)^512: every expert is read.
    many = serving.decode(MIXTRAL, "h100-sxm", batch_size=512, context_tokens=1, **kw)
    assert many.bytes == pytest.approx(2 * (c.params - embedding) / 2 + 512 * cache, rel=1e-12)
    # Two tokens reach 8 (1 - (6/8)^2) = 3.5 experts on average.
    two = serving.decode(MIXTRAL, "h100-sxm", batch_size=2, context_tokens=1, **kw)
    expert = 3 * 4096 * 14336
    assert two.bytes - one.bytes == pytest.approx((1.5 * expert * 32 * 2 + 2 * cache) / 2)


def test_latent_attention_caches_576_elements_a_layer():
    # DeepSeek-V2/V3's cache: the 512-wide latent and the 64-wide rotary key, each layer
    # (the V2 paper's (d_c + d_h^R) l), in bf16, whatever the tensor-parallel degree.
    for tp in (8, 16):
        a = serving.decode(V3, "h200", batch_size=1, context_tokens=1000, tensor_parallel=tp,
                           precision="fp8", kv_precision="bf16", efficiency=IDEAL)  # fmt: skip
        b = serving.decode(V3, "h200", batch_size=1, context_tokens=2000, tensor_parallel=tp,
                           precision="fp8", kv_precision="bf16", efficiency=IDEAL)  # fmt: skip
        assert b.bytes - a.bytes == pytest.approx(1000 * 61 * 576 * 2, rel=1e-12)


def test_memory_holds_every_expert():
    # 671B parameters at one byte do not fit eight 80 GB H100s with any cache; they fit
    # eight 141 GB H200s.
    with pytest.raises(ValueError, match="do not fit") as err:
        serving.decode(V3, "h100-sxm", tensor_parallel=8, precision="fp8", context_tokens=1000)
    assert err.value.argument == "tensor_parallel"
    assert serving.decode(V3, "h200", tensor_parallel=8, precision="fp8",
                          context_tokens=1000).max_batch_size > 1  # fmt: skip


def test_the_held_out_moe_rows():
    # The MoE rows enter no fit: 498 of them run under tensor parallelism alone.
    from scaleplan.systems.published_errors import published_errors

    errors = published_errors(moe=True)
    assert len(errors) == 498 and all(e.mode != "" for e in errors)
    # The ideal roofline (efficiencies 1, the whole memory, a paged cache) bounds every row
    # but one: TensorRT-LLM 0.9's Mixtral-8x7B at batch 32, 2,048 in and out, 801 tokens/s
    # per GPU on two A100s, which needs fewer bytes a step than the experts 32 tokens reach
    # (all 8, under any routing that is not nearly degenerate).
    ideal = published_errors(BARE, memory="paged", moe=True)
    below = [e for e in ideal if e.ratio < 1.0]
    assert [(e.source_id, e.model, e.measured) for e in below] == [
        ("TRTLLM-PERF-v0.9", "Mixtral-8x7B", 801)
    ]
