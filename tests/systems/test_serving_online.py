"""Latency under a steady request rate (`serving_online.online_latency`): Little's law at
the point it returns, checked with the public decode and prefill steps; the light-load
limit; saturation; and the published online rows it predicts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scaleplan.hardware.accelerators import accelerator
from scaleplan.systems import published_errors as errs
from scaleplan.systems import serving_published as pub
from scaleplan.systems.engines import ENGINES
from scaleplan.systems.serving import IDEAL, decode, prefill
from scaleplan.systems.serving_online import online_latency

H100 = accelerator("h100-sxm")
PEAK = H100.peak("bf16")
EFF = ENGINES["trtllm-2025"].efficiency


def _prompt_seconds(shape, isl, tp=1, eff=EFF):
    flops = prefill(shape, prompt_tokens=isl, tensor_parallel=tp, efficiency=eff).flops
    return flops / (PEAK * eff.compute)


@pytest.mark.parametrize(("shape", "tp", "rate"), [("llama-3-8b", 1, 6.0),
                                                   ("llama-3-70b", 4, 3.0),
                                                   ("llama-3-8b", 1, 30.0)])  # fmt: skip
def test_the_point_returned_obeys_littles_law(shape, tp, rate):
    isl, osl = 467, 256
    ttft, tpot = online_latency(shape, rate, isl, osl, PEAK, tensor_parallel=tp, efficiency=EFF)
    prompt = _prompt_seconds(shape, isl, tp)
    n = rate * (ttft + (osl - 1) * tpot)  # sequences in flight
    low = math.floor(n)
    steps = decode(shape, batch_size=[low, low + 1], context_tokens=isl + osl / 2,
                   tensor_parallel=tp, efficiency=EFF).seconds  # fmt: skip
    step = steps[0] + (n - low) * (steps[1] - steps[0])
    assert n > 1
    assert tpot == pytest.approx(step / (1 - rate * prompt), rel=1e-8)
    assert ttft == pytest.approx(1.5 * tpot + prompt, rel=1e-12)


def test_a_light_load_decodes_at_batch_one():
    # Far below one sequence in flight the step is batch 1's, with a sliver of prompts.
    rate, isl, osl = 0.01, 512, 64
    ttft, tpot = online_latency("llama-3-8b", rate, isl, osl, PEAK, efficiency=EFF)
    one = decode("llama-3-8b", context_tokens=isl + osl / 2, efficiency=EFF).seconds
    prompt = _prompt_seconds("llama-3-8b", isl)
    assert tpot == pytest.approx(one / (1 - rate * prompt), rel=1e-12)
    # Faster engines (the bare roofline) never predict a slower step.
    ideal = online_latency("llama-3-8b", rate, isl, osl, PEAK, efficiency=IDEAL)
    assert ideal[1] < tpot and ideal[0] < ttft


def test_a_rate_the_engine_cannot_serve_has_no_answer():
    prompt = _prompt_seconds("llama-3-8b", 4096)
    # Prompts alone fill the engine.
    assert online_latency("llama-3-8b", 1.01 / prompt, 4096, 64, PEAK, efficiency=EFF) is None
    # Decoding outgrows the memory long before that.
    assert online_latency("llama-3-8b", 0.5 / prompt, 4096, 4096, PEAK, efficiency=EFF) is None


def test_the_published_online_rows_are_predicted_and_bounded():
    rows = [r for r in pub.published_rows() if r.mode == "online_rate"]
    assert len(rows) == 38 and all(not pub.predictable(r) for r in rows)
    # Served within 10% of the offered rate (the rest, queueing, stay mode "other").
    for r in rows:
        offered = float(r.notes.split("QPS=")[1].split(" ")[0])
        assert r.requests_per_second >= 0.9 * offered
    ratios = np.array([e.ratio for e in errs.published_errors(IDEAL)
                       if e.mode == "online_rate"])  # fmt: skip
    assert len(ratios) == 76 and ratios.min() > 1.0


def test_serve_prints_the_latency_at_a_request_rate():
    import json

    from tests.inprocess import run_cli

    args = ["serve", "--model", "llama-3-8b", "--engine", "trtllm-2025", "--prompt-tokens",
            "467", "--output-tokens", "256", "--requests-per-second", "2"]  # fmt: skip
    out = run_cli([*args, "--json"])
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)["online"]
    want = online_latency("llama-3-8b", 2.0, 467, 256, PEAK, tensor_parallel=1, efficiency=EFF)
    assert (got["ttft_seconds"], got["tpot_seconds"]) == pytest.approx(want, rel=1e-12)
    assert got["requests_per_second"] == 2.0 and got["output_tokens"] == 256
    full = run_cli(["serve", "--model", "llama-3-8b", "--requests-per-second", "1e4"])
    assert full.returncode == 2 and "cannot keep up" in full.stderr
    assert len(full.stderr.strip().splitlines()) == 1
