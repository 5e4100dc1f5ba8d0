"""The serving roofline of mixtures of experts and latent attention: what a step reads
against what the model stores, at the two ends of the batch."""

from pathlib import Path

import numpy as np
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
    # The MoE rows enter no fit: 498 of them run under tensor parallelism, 63 with
    # attention data parallel (TensorRT-LLM's "DEP" rows and two DeepSeek-R1 blog rows).
    from scaleplan.systems.published_errors import published_errors

    errors = published_errors(moe=True)
    layouts = [e.layout for e in errors]
    assert (layouts.count("tensor parallel"), layouts.count("attention data parallel")) == (
        498, 63)  # fmt: skip
    dep = [e for e in errors if e.layout == "attention data parallel"]
    assert {e.source_id for e in dep} == {"TRTLLM-PERF-devguide", "TRTLLM-BLOG-DSR1-bestperf"}
    assert {e.tensor_parallel for e in dep} == {2, 4, 8}
    # The ideal roofline (efficiencies 1, the whole memory, a paged cache) bounds every row
    # but one: TensorRT-LLM 0.9's Mixtral-8x7B at batch 32, 2,048 in and out, 801 tokens/s
    # per GPU on two A100s, which needs fewer bytes a step than the experts 32 tokens reach
    # (all 8, under any routing that is not nearly degenerate).
    ideal = published_errors(BARE, memory="paged", moe=True)
    below = [e for e in ideal if e.ratio < 1.0]
    assert [(e.source_id, e.model, e.measured) for e in below] == [
        ("TRTLLM-PERF-v0.9", "Mixtral-8x7B", 801)
    ]
    # The data-parallel rows with room to spare (the guide's 1.43).
    assert min(e.ratio for e in ideal if e.layout != "tensor parallel") > 1.4


def test_training_a_mixture_costs_its_active_flops_and_holds_every_expert():
    from dataclasses import replace

    from scaleplan.arch.shapes import MODELS
    from scaleplan.systems.training_plan import training_plan

    mixtral = MODELS["mixtral-8x7b"]
    every = replace(mixtral, experts_per_token=8)  # the same memory, every expert active
    a, b = (training_plan(s, 1e12, gpus=64) for s in (mixtral, every))
    ratio = step_counts(mixtral).active_params / step_counts(every).active_params
    assert a.days / b.days == pytest.approx(ratio, rel=1e-12)
    # Memory holds all 46.7B parameters either way (the activations kept differ: a token
    # through eight experts keeps four times the MLP's).
    assert step_counts(mixtral).params == step_counts(every).params
    assert a.min_gpus <= b.min_gpus


def test_a_multi_token_draft_of_a_mixture_is_one_moe_layer():
    from scaleplan.systems import speculation

    spec = speculation.Speculation(draft_tokens=3, acceptance=0.8)
    r = speculation.speculative_decode(V3, spec, gpu="h200", tensor_parallel=8, precision="fp8",
                                       batch_size=8, context_tokens=1000)  # fmt: skip
    assert r.tokens_per_second > 0
    # The draft's cache a token: one layer's latent and rotary key, 576 elements.
    draft = speculation._draft_fields(speculation._fields(V3), "mtp")
    assert int(draft["moe_layers"]) == 1
    assert float(speculation._cache_elements(draft, 8)) == 576


def test_measurement_refuses_what_it_cannot_build():
    from scaleplan.systems.measure import time_step

    for shape in (MIXTRAL, V3):
        with pytest.raises(ValueError, match="dense shapes") as err:
            time_step(shape)
        assert err.value.argument == "shape"


def test_the_guides_validation_table_is_what_the_rows_give():
    """docs/guide/moe.md's tables of the held-out MoE rows, recomputed."""
    from scaleplan.systems.published_errors import published_errors

    page = (Path(__file__).parents[2] / "docs" / "guide" / "moe.md").read_text()
    everything = published_errors(moe=True)
    for label, layout in (("all", "tensor parallel"), ("all DEP", "attention data parallel")):
        errors = [e for e in everything if e.layout == layout]
        tables = page if layout == "tensor parallel" else page[page.index("| all DEP |") :]
        _check_table(errors, tables, label)


def _check_table(errors, page, label):
    import re

    from scaleplan.systems.published_errors import error_summary

    ratios = np.array([e.ratio for e in errors])
    all_rows = rf"^\| {label} \| (\d+) \| ([\d.]+)% \| (\d+)% \| (\d+)% \| ([\d.]+) to ([\d.]+) \|$"
    row = re.search(all_rows, page, re.M)
    assert row is not None
    n, median, within, two_x, low, high = row.groups()
    assert int(n) == len(errors)
    assert float(median) == round(100 * np.median(np.abs(ratios - 1)), 1)
    assert int(within) == round(100 * np.mean(np.abs(ratios - 1) < 0.25))
    assert int(two_x) == round(100 * np.mean((ratios > 0.5) & (ratios < 2)))
    assert (float(low), float(high)) == (round(ratios.min(), 2), round(ratios.max(), 1))
    for model, summary in error_summary(errors, "model").items():
        label = model.replace("Llama-4-Scout-17B-16E", "Llama 4 Scout").replace(
            "Llama-4-Maverick-17B-128E", "Llama 4 Maverick"
        )
        pattern = rf"^\| {re.escape(label)} \| (\d+) \| ([\d.]+)% \| (\d+)% \|"
        line = re.search(pattern, page, re.M)
        assert line is not None, model
        assert int(line.group(1)) == summary["rows"]
        assert float(line.group(2)) == round(100 * summary["median_abs_error"], 1), model
        assert int(line.group(3)) == round(100 * summary["within_25"]), model
