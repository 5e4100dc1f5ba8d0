"""The plan in GPUs and days: the shape policy, training on real GPUs, serving replicas."""

import json
import math

import numpy as np
import pytest
from inprocess import run_cli

from scaleplan.arch.counts import step_counts
from scaleplan.arch.policy import shape_for_params
from scaleplan.arch.shapes import TransformerShape
from scaleplan.errors import ScaleplanError
from scaleplan.systems import deployment, physical, serving


@pytest.mark.parametrize("params", np.geomspace(1e9, 1e12, 25))
def test_the_shape_policy_hits_its_parameter_count(params):
    s = shape_for_params(params)
    assert step_counts(s).params == pytest.approx(params, rel=0.03)
    assert s.n_heads % s.n_kv_heads == 0 and s.d_model == s.n_heads * 128
    assert 40 <= s.d_model / s.n_layers <= 400


def test_the_shape_policy_rejects_what_it_cannot_shape():
    for bad in (0.0, -1.0, 1e3, float("nan"), 1e16):
        with pytest.raises(ValueError, match="params") as err:
            shape_for_params(bad)
        assert err.value.argument == "params"


def test_training_days_follow_the_flops():
    shape = shape_for_params(7e9)
    t = physical.training_plan(shape, 2e12, "h100-sxm", gpus=512, mfu=0.4)
    flops = 6 * step_counts(shape).params * 2e12
    assert t.days * 86400 * 512 * 989e12 * 0.4 == pytest.approx(flops, rel=1e-12)
    assert t.dollars == pytest.approx(512 * t.days * 24 * 2.69, rel=1e-12)
    # The sharded state (16 bytes a parameter) and the activations fit each GPU.
    assert t.memory_bytes_per_gpu <= 0.9 * 80e9
    big = shape_for_params(4e11)
    t = physical.training_plan(big, 1e12, "h100-sxm")
    assert t.min_gpus >= 16 * step_counts(big).params / 80e9
    with pytest.raises(ValueError, match="gpus must be a whole number >= ") as err:
        physical.training_plan(big, 1e12, "h100-sxm", gpus=t.min_gpus - 1)
    assert err.value.argument == "gpus"


def test_serving_covers_the_peak_rate_within_the_target():
    # A static-batching engine (the 2023 profile): a replica is busy for a request's
    # decode share and its whole first step.
    shape = shape_for_params(7e10)
    static = deployment.Deployment(tpot_seconds=0.05, ttft_seconds=0.05, engine="trtllm-2023")
    v = physical.serving_plan(shape, static, requests_per_day=1e7, days=365)
    assert v.seconds_per_token <= 0.05 and v.ttft_seconds <= 0.05
    busy = 215 * v.seconds_per_token / v.batch_size + v.ttft_seconds
    assert v.replicas == math.ceil(1e7 / 86400 * 2 * busy)
    # No power-of-two tensor-parallel degree needs fewer GPUs.
    for tp in (1, 2, 4, 8, 16):
        try:
            d = serving.decode(shape, "h100-sxm", context_tokens=285, tensor_parallel=tp,
                               target_seconds=0.05, efficiency=static.efficiency)  # fmt: skip
        except ValueError:
            continue
        p = serving.prefill(shape, "h100-sxm", prompt_tokens=70, tensor_parallel=tp,
                            efficiency=static.efficiency)  # fmt: skip
        if p.seconds > 0.05:
            continue
        need = math.ceil(1e7 / 86400 * 2 * (215 * d.seconds / d.batch_size + p.seconds)) * tp
        assert v.gpus <= need
    with pytest.raises(ValueError, match="latency targets") as err:
        physical.serving_plan(shape, deployment.Deployment("l40s", tpot_seconds=1e-4),
                              requests_per_day=1e7, days=365)  # fmt: skip
    assert err.value.argument == "tpot_seconds"


def test_plan_prints_the_physical_plan():
    r = run_cli(["plan", "--json"])
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    models = ("recommendation", "chinchilla_style", "compute_optimal", "cost_optimal")
    for model in models:
        p = data["models"][model]["physical"]
        assert p["shape"]["params"] == pytest.approx(data["models"][model]["params"], rel=0.03)
        assert p["serving"]["seconds_per_token"] <= 0.05
        assert p["training"]["gpus"] >= p["training"]["min_gpus"]
    # The recommendation, the physical optimum's whole-GPU plan, is the cheapest: the other
    # models' shapes are all within the span it searches around the fluid optimum here.
    best = data["models"]["recommendation"]["physical"]
    for model in models:
        assert best["total_dollars"] <= data["models"][model]["physical"]["total_dollars"]
    fluid = best["fluid"]
    assert 1 / 2.5 < fluid["params"] / best["shape"]["params"] < 2.5
    r = run_cli(["plan", "--tpot-ms", "0.01"])
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_a_custom_shape_trains_too():
    shape = TransformerShape(d_model=4096, n_layers=32, n_heads=32, d_ff=11008, batch_size=1)
    assert physical.training_plan(shape, 1e12, "a100-80gb").min_gpus >= 2


def test_a_plan_costs_its_training_plus_its_serving():
    """Mutation testing found `training + serving` could become `training / serving`
    unnoticed: the lifetime price of a plan is the sum of its two phases' dollars."""
    plan = physical.physical_plan(7e9, 1.4e11, requests_per_day=1e6, days=365)
    assert plan.training.dollars > 0 and plan.serving.dollars > 0
    assert plan.total_dollars == plan.training.dollars + plan.serving.dollars


def test_serving_is_paid_for_every_gpu_every_hour_of_every_day():
    """Mutation testing found 24 hours a day could become 25 unnoticed. A GPU-hour at a
    price the test gives: dollars = GPUs x days x 24 h x price."""
    plan = physical.serving_plan(shape_for_params(7e9), deployment.Deployment(price_per_hour=2.5),
                                 requests_per_day=1e6, days=100)  # fmt: skip
    assert plan.dollars == pytest.approx(plan.gpus * 100 * 24 * 2.5, rel=1e-15)


def test_tensor_parallel_degrees_are_the_powers_of_two_up_to_64():
    """Which degrees the planner tries (documented): 1, 2, 4, ..., 64."""
    assert deployment.TENSOR_PARALLEL == (1, 2, 4, 8, 16, 32, 64)


def test_a_fleet_is_refused_past_2_53_gpus_and_planned_below():
    """GPU counts are whole numbers in float64, exact only up to 2**53: a plan needing
    more is refused, naming requests_per_day; one needing between 2**52 and 2**53 is
    still planned (mutation testing, 2026-12-07, moved the limit unnoticed). 558 H100s
    serve Llama-2-7B's 1e9 requests a day (the default deployment), so the count scales
    from there."""
    from scaleplan.systems import physical

    base = physical.serving_plan("llama-2-7b", requests_per_day=1e9, days=30.0).gpus
    near = physical.serving_plan("llama-2-7b", requests_per_day=1e9 * 6.5e15 / base,
                                 days=30.0)  # fmt: skip
    assert 2**52 < near.gpus <= 2**53
    with pytest.raises(ScaleplanError, match="needs more than 2\\*\\*53 GPUs") as err:
        physical.serving_plan("llama-2-7b", requests_per_day=1e9 * 1.2e16 / base, days=30.0)
    assert err.value.argument == "requests_per_day"


def test_serving_plan_takes_no_training_keywords():
    """Only the planners that train take 0.1's `train_*` keywords."""
    from scaleplan.systems import physical

    with pytest.raises(TypeError, match="train_gpu"):
        physical.serving_plan("llama-2-7b", requests_per_day=1e9, days=30.0,
                              train_gpu="a100-80gb")  # fmt: skip


def test_an_unservable_model_is_told_why():
    """The refusal says which latency targets were asked for (or that none was), and
    blames the tensor-parallel degree only when it does not divide the heads (it once
    did so for tensor_parallel=1)."""
    import dataclasses

    import scaleplan as sp

    with pytest.raises(ScaleplanError, match=r"latency targets \(tpot_seconds <= 1e-06\)$") as err:
        physical.serving_plan("llama-2-7b", sp.Deployment(tpot_seconds=1e-6),
                              requests_per_day=1e9, days=30.0)  # fmt: skip
    assert err.value.argument == "tpot_seconds"
    tiny = dataclasses.replace(sp.accelerator("h100-sxm"), name="tiny", memory_bytes=1e9)
    alone = sp.Deployment(gpu=tiny, tpot_seconds=None, tensor_parallel=1)
    with pytest.raises(ScaleplanError, match=r"latency targets \(no latency target\)$") as err:
        physical.serving_plan("llama-2-70b", alone, requests_per_day=1e9, days=30.0)
    assert err.value.argument == "shape"
    with pytest.raises(ScaleplanError, match=r"\(the degree must divide the heads\)$"):
        physical.serving_plan(
            "llama-2-7b", sp.Deployment(tensor_parallel=64), requests_per_day=1e9, days=30.0
        )  # 64 into 32 heads: fmt: skip
    both = sp.Deployment(tpot_seconds=1e-6, ttft_seconds=1e-6)
    with pytest.raises(ScaleplanError, match=r"\(tpot_seconds <= 1e-06, ttft_seconds <= 1e-06\)"):
        physical.serving_plan("llama-2-7b", both, requests_per_day=1e9, days=30.0)


def test_a_trickle_of_requests_needs_one_replica_and_the_0_1_training_keywords_warn():
    one = physical.serving_plan("llama-2-7b", requests_per_day=1.0, days=30.0)
    assert (one.replicas, one.gpus) == (1, 1)
    with pytest.warns(DeprecationWarning, match="physical_plan\\(train_gpu=\\)"):
        plan = physical.physical_plan(7e9, 1.4e11, requests_per_day=1e6, days=30.0,
                                      train_gpu="a100-80gb")  # fmt: skip
    assert plan.training.gpu == "a100-80gb"
