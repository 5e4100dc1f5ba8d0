"""The published serving measurements: every row read with its source, the roofline as an
upper bound on every row it can predict, and predictions that agree with the static-batch
calibration where the two overlap."""

from __future__ import annotations

import dataclasses
from functools import cache
from importlib import resources

import pytest

from scaleplan.errors import ScaleplanError
from scaleplan.systems import published_errors as errs
from scaleplan.systems import serving, serving_fit
from scaleplan.systems import serving_published as pub

ROWS = pub.published_rows()


@cache
def _ideal_paged():
    return errs.published_errors(serving.IDEAL, memory="paged")


# Each source and what data/SOURCES.md names it by (a commit, a file, a publisher).
SOURCE_KEYS = {
    "TRTLLM-PERF-v0.5": "6b32b40", "TRTLLM-PERF-v0.6.1": "0f041b7",
    "TRTLLM-PERF-v0.9": "6ad7cf1", "TRTLLM-PERF-v0.14": "e00d4e6",
    "TRTLLM-PERF-v0.17": "258c754", "TRTLLM-PERF-v0.17-serving": "online-serving",
    "TRTLLM-PERF-v0.20": "ab4143e", "TRTLLM-PERF-v1.0": "00f3768",
    "TRTLLM-PERF-devguide": "585c756", "TRTLLM-BLOG-H200launch": "e093e48",
    "TRTLLM-BLOG-Falcon180B-H200": "deaae40", "TRTLLM-BLOG-H100vsA100": "f7eca56",
    "TRTLLM-BLOG-XQA": "a40dbae", "TRTLLM-BLOG-DSR1-bestperf": "f0c873f",
    "MLPERF-INF-v4.0": "3c4a1cf", "MLPERF-INF-v4.1": "a2f5d66",
    "VLLM-BLOG-fp8-kvcache": "2026-04-22-fp8-kvcache", "SGLANG-BLOG-large-scale-ep": "2db4e40",
    "OCI-BLOG-405B-MI300X": "Oracle",
}  # fmt: skip


def test_every_row_names_a_described_source():
    sources = resources.files("scaleplan.data").joinpath("SOURCES.md").read_text()
    assert len(ROWS) == 1996
    assert {r.source_id for r in ROWS} == set(SOURCE_KEYS)
    for source, key in SOURCE_KEYS.items():
        assert key in sources, source
    for r in ROWS:
        assert r.engine and r.model and r.gpu and r.mode, r
        if "AMBIGUOUS" in r.notes:
            assert r.output_tokens_per_second_per_gpu is None


def test_what_the_roofline_can_predict_and_why_not_the_rest():
    reasons = [pub.predictable(r) for r in ROWS]
    assert reasons.count("") == 1113
    held_out = "a mixture of experts (held out)"
    assert reasons.count(held_out) == sum(r.moe for r in ROWS) == 688
    assert all(reasons[i] for i, r in enumerate(ROWS) if r.gpu not in pub.GPU_NAMES)
    # Asked for, the MoE rows are predicted, under tensor parallelism or attention data
    # parallel with the experts over the group; expert parallelism outside the in-flight
    # rows (DeepSeek-R1's batch-one MTP rows) is not.
    moe = [pub.predictable(r, moe=True) for r in ROWS if r.moe]
    assert moe.count("") == 561 and moe.count("expert parallelism outside the in-flight rows") == 2
    ep = next(
        r for r in ROWS if r.moe and r.mode == "latency_batch1" and (r.expert_parallel or 1) > 1
    )
    with pytest.raises(ScaleplanError, match="expert parallelism") as err:
        pub.predict_row(ep)
    assert err.value.argument == "row"
    dep = next(r for r in ROWS if r.attention_data_parallel and r.tensor_parallel is None)
    assert pub.group_size(dep) == dep.expert_parallel and not pub.predictable(dep, moe=True)


def test_the_ideal_roofline_bounds_every_predictable_row():
    # Efficiencies 1, no overhead, the whole memory, a paged cache at each sequence's mean
    # length: no published engine beats it (the closest row reaches 1 / 1.17 of it).
    errors = _ideal_paged()
    assert len(errors) == 1151  # 1,113 rows; the online ones give a TTFT and a TPOT
    closest = min(errors, key=lambda e: e.ratio)
    assert closest.ratio > 1.0, closest


def test_a_paged_cache_never_predicts_less_than_a_full_reservation():
    inflight = [r for r in ROWS if not pub.predictable(r) and r.mode == "inflight_max_throughput"]
    assert len(inflight) > 800
    for r in inflight[::40]:
        full = pub.predict_row(r, memory="full")["output_tokens_per_second_per_gpu"]
        paged = pub.predict_row(r, memory="paged")["output_tokens_per_second_per_gpu"]
        assert paged >= full * (1 - 1e-12), r


def test_static_batch_rows_are_predicted_as_the_calibration_predicts_them():
    # Release 0.6.1's H100 rows are in both data sets: the same prediction, to the bit.
    old = {
        (m.model, m.batch_size, m.input_tokens, m.output_tokens, m.tensor_parallel): m
        for m in serving_fit.measurements()
        if m.gpu == "h100-sxm" and m.kind == "throughput"
    }
    matched = 0
    for r in ROWS:
        if r.source_id != "TRTLLM-PERF-v0.6.1" or pub.predictable(r) or r.gpu != "H100-SXM-80GB":
            continue
        key = (pub.MODEL_NAMES[r.model], r.batch_size, r.input_tokens, r.output_tokens,
               r.tensor_parallel)  # fmt: skip
        if key in old:
            got = pub.predict_row(r, serving.Efficiency())["output_tokens_per_second_per_gpu"]
            assert got == serving_fit.predict(old[key], serving.Efficiency())
            assert r.output_tokens_per_second_per_gpu == old[key].value
            matched += 1
    assert matched >= 10


def test_a_measured_batch_is_priced_whatever_the_profile_leaves_for_the_cache():
    """A static or batch-1 row ran its batch, so it fit: the profile's memory terms (its
    reserve, the cache's share) do not decide it, and they do not touch the speed. An
    in-flight row's batch is what memory holds, so there they do."""
    squeezed = dataclasses.replace(serving.Efficiency(), reserve_bytes=75e9, kv_share=0.05)
    for mode in ("static_batch", "latency_batch1"):
        row = next(r for r in ROWS if r.mode == mode and not pub.predictable(r)
                   and r.model == "Llama-2-7B" and r.gpu == "H100-SXM-80GB")  # fmt: skip
        assert pub.predict_row(row, squeezed) == pub.predict_row(row, serving.Efficiency())
    inflight = next(r for r in ROWS if r.mode == "inflight_max_throughput"
                    and not pub.predictable(r))  # fmt: skip
    with pytest.raises(ScaleplanError):
        pub.predict_row(inflight, squeezed)


def test_a_latency_row_is_one_prefill_or_one_decode_step():
    row = next(r for r in ROWS if r.mode == "latency_batch1" and not pub.predictable(r))
    got = pub.predict_row(row, serving.IDEAL)["ttft_ms"]
    m = serving_fit.Measurement(pub.MODEL_NAMES[row.model], pub.GPU_NAMES[row.gpu],
                                row.weight_format.lower(), row.tensor_parallel, 1,
                                row.input_tokens, None, 0.0, "ttft")  # fmt: skip
    assert got == 1e3 * serving_fit.predict(m, serving.IDEAL)
    tpot = dataclasses.replace(row, ttft_ms=None, tpot_ms=10.0)
    step = pub.predict_row(tpot, serving.IDEAL)["tpot_ms"]
    assert step > 0 and set(pub.predict_row(tpot, serving.IDEAL)) == {"tpot_ms"}


def test_the_summary_groups_the_ratios():
    errors = _ideal_paged()
    by_gpu = errs.error_summary(errors, "gpu")
    assert sum(g["rows"] for g in by_gpu.values()) == len(errors)
    for g in by_gpu.values():
        assert 1.0 < g["lowest"] <= g["highest"] and 0 <= g["within_25"] <= 1
