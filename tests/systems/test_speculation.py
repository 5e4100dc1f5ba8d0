"""Speculative decoding: the expected tokens a step, the verification step against the
pure-Python reference, the draft's time and memory, the latency search, the planners' choice,
the command line and bad input."""

import dataclasses
import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleplan import Deployment
from scaleplan.arch.counts import step_counts
from scaleplan.arch.shapes import FIELDS, MODELS
from scaleplan.hardware.accelerators import ACCELERATORS
from scaleplan.systems import serving
from scaleplan.systems.physical import serving_plan
from scaleplan.systems.replicas import replicas
from scaleplan.systems.speculation import Speculation, speculative_decode, tokens_per_step
from scaleplan.testing import reference as ref
from tests.inprocess import run_cli

H100 = ACCELERATORS["h100-sxm"]
L70, L7 = MODELS["llama-2-70b"], MODELS["llama-2-7b"]
EFF = serving.Efficiency()  # the 2023 profile: what the reference's GPU dictionary holds


def test_tokens_per_step_is_the_geometric_series():
    # Leviathan et al. 2023, eq. 1, summed here in closed form.
    for a in (0.1, 0.5, 0.7, 0.9, 0.999):
        for g in (1, 2, 4, 8, 64):
            assert tokens_per_step(a, g) == pytest.approx((1 - a ** (g + 1)) / (1 - a), rel=1e-13)
    assert tokens_per_step(1.0, 4) == 5.0 and tokens_per_step(0.0, 7) == 1.0
    got = tokens_per_step(np.array([0.5, 0.8]), np.array([[1], [3]]))
    assert got.shape == (2, 2) and got[1, 1] == pytest.approx(1 + 0.8 + 0.64 + 0.512)


def _gpu(tp, draft=0.0, draft_kv=0.0, reserve=0.0):
    """The reference's GPU dictionary for H100 and the default efficiency in bf16."""
    return {"peak": H100.peak("bf16"), "bandwidth": H100.memory_bandwidth,
            "memory": H100.memory_bytes, "link": H100.link_bandwidth, "compute": EFF.compute,
            "memory_eff": EFF.memory, "overhead": EFF.overhead_seconds,
            "latency": EFF.collective_seconds, "fraction": EFF.memory_fraction,
            "weight_bytes": 2.0, "kv_bytes": 2.0, "draft": draft, "draft_kv": draft_kv,
            "reserve": reserve}  # fmt: skip


@given(st.integers(1, 64), st.integers(0, 16384), st.sampled_from([1, 2, 4, 8]),
       st.integers(0, 64), st.floats(0, 1e6, allow_subnormal=False),
       st.floats(0, 2e10, allow_subnormal=False))  # fmt: skip
def test_the_verification_step_matches_the_reference(batch, context, tp, draft, kv, held):
    fields = {f: getattr(L70, f) for f in FIELDS}
    want = ref.serving_step(fields, "decode", batch, context, tp, _gpu(tp, draft, kv, held))
    step = serving.decode(L70, H100, batch_size=batch, context_tokens=context,
                          tensor_parallel=tp, efficiency=EFF, draft_tokens=draft,
                          draft_kv_bytes=kv, draft_weight_bytes=held, on_invalid="nan")  # fmt: skip
    if not batch <= want[4]:
        assert math.isnan(step.seconds)  # the batch does not fit beside the draft
        return
    assert step.seconds == pytest.approx(want[0], rel=1e-12)
    assert step.flops == pytest.approx(want[1], rel=1e-12)
    assert step.bytes == pytest.approx(want[2], rel=1e-12)
    assert step.max_batch_size == want[4]


def _draft_seconds(draft, batch, context, tp):
    """One draft step, from the public decode: no per-step overhead (the verification pays
    it)."""
    quiet = dataclasses.replace(EFF, overhead_seconds=0.0)
    return serving.decode(draft, batch_size=batch, context_tokens=context, tensor_parallel=tp,
                          efficiency=quiet).seconds  # fmt: skip


@pytest.mark.parametrize("draft", ["mtp", "llama-2-7b"])
def test_tpot_is_the_step_over_the_tokens_it_gains(draft):
    spec = Speculation(draft, draft_tokens=4, acceptance=0.75)
    step = speculative_decode(L70, spec, batch_size=16, context_tokens=1500, tensor_parallel=4,
                              efficiency=EFF)  # fmt: skip
    verify = serving.decode(L70, batch_size=16, context_tokens=1500, tensor_parallel=4,
                            draft_tokens=4, efficiency=EFF).seconds  # fmt: skip
    one_layer = dataclasses.replace(L70, n_layers=1)
    drafted = 4 * _draft_seconds(one_layer if draft == "mtp" else L7, 16, 1500, 4)
    gained = (1 - 0.75**5) / 0.25
    assert step.draft_seconds == pytest.approx(drafted, rel=1e-12)
    assert step.step_seconds == pytest.approx(verify + drafted, rel=1e-12)
    assert step.seconds_per_token == pytest.approx((verify + drafted) / gained, rel=1e-12)
    assert step.tokens_per_second == pytest.approx(16 * gained / ((verify + drafted) * 4))


def test_a_draft_that_is_never_accepted_only_costs():
    plain = serving.decode(L70, batch_size=8, context_tokens=2048, tensor_parallel=4)
    spec = speculative_decode(L70, Speculation(draft_tokens=2, acceptance=0.0), batch_size=8,
                              context_tokens=2048, tensor_parallel=4)  # fmt: skip
    assert spec.tokens_per_step == 1.0 and spec.seconds_per_token > plain.seconds


def test_memory_holds_both_models_and_both_caches():
    # Llama-2-70B served with Llama-2-7B as its draft on four H100s, in bf16: every
    # figure below is counted here from the shapes, not read from the package.
    tp, context = 4, 4096
    own = 2 * 80 * (8 / tp) * 128 * 2  # bytes a token of the 70B's cache, per GPU
    draft_cache = 2 * 32 * (32 / tp) * 128 * 2
    room = H100.memory_bytes * EFF.memory_fraction - step_counts(L70).params * 2 / tp
    room -= step_counts(L7).params * 2 / tp  # the draft's weights, embedding included
    spec = Speculation("llama-2-7b", draft_tokens=3, acceptance=0.6)
    step = speculative_decode(L70, spec, context_tokens=context, tensor_parallel=tp,
                              efficiency=EFF)  # fmt: skip
    assert step.max_batch_size == math.floor(room / ((context + 4) * (own + draft_cache)))
    # MTP heads hold one layer (its matrices and two norms) and its cache; they share the
    # served model's embedding and head.
    d, ff = 8192, 28672
    layer = d * 8192 + 2 * d * 1024 + 8192 * d + 3 * d * ff + 2 * d
    room = H100.memory_bytes * EFF.memory_fraction - (step_counts(L70).params + layer) * 2 / tp
    mtp = speculative_decode(L70, Speculation(draft_tokens=3), context_tokens=context,
                             tensor_parallel=tp, efficiency=EFF)  # fmt: skip
    assert mtp.max_batch_size == math.floor(room / ((context + 4) * own * 81 / 80))


@pytest.mark.parametrize("target", [0.015, 0.02, 0.04, 0.2])
def test_the_target_takes_the_largest_batch_that_meets_it(target):
    spec = Speculation(draft_tokens=3, acceptance=0.7)
    context = np.array([256, 2048, 8192, 30000])
    kw = dict(context_tokens=context, tensor_parallel=4, on_invalid="nan")
    found = speculative_decode(L70, spec, target_seconds=target, **kw)
    b = found.batch_size
    assert np.all(np.isnan(b) | (found.seconds_per_token <= target))
    # One more sequence misses the target or does not fit.
    more = speculative_decode(L70, spec, batch_size=np.nan_to_num(b, nan=1) + 1, **kw)
    beyond = np.isnan(more.seconds_per_token) | (more.seconds_per_token > target)
    assert np.all(beyond[~np.isnan(b)])
    # Where no batch meets it, batch 1 misses it.
    one = speculative_decode(L70, spec, batch_size=1, **kw).seconds_per_token
    assert np.all((one > target) == np.isnan(b))


def test_replicas_speculate_only_where_it_pays():
    shapes = ["llama-2-70b", "llama-2-13b", "llama-2-7b"]
    dep = Deployment("h100-sxm", tpot_seconds=0.03)
    plain = replicas(shapes, dep)
    spec = replicas(shapes, dep.replace(speculation=Speculation(draft_tokens=3, acceptance=0.8)))
    assert not plain.speculative.any()
    served = ~np.isnan(spec.busy_seconds)
    # Never dearer, strictly cheaper where speculating, and more options served.
    assert np.all(np.isnan(plain.busy_seconds) | (spec.busy_seconds <= plain.busy_seconds))
    assert np.all(spec.busy_seconds[spec.speculative] < np.where(
        np.isnan(plain.busy_seconds), np.inf, plain.busy_seconds)[spec.speculative])  # fmt: skip
    assert spec.speculative.any() and served.sum() > (~np.isnan(plain.busy_seconds)).sum()
    # A draft never accepted never pays.
    never = replicas(shapes, dep.replace(speculation=Speculation(acceptance=0.0)))
    assert not never.speculative.any()
    np.testing.assert_array_equal(never.busy_seconds, plain.busy_seconds)


def test_serving_plan_reports_the_draft():
    dep = Deployment("h100-sxm", tpot_seconds=0.03)
    plain = serving_plan("llama-2-70b", dep, requests_per_day=1e6, days=30)
    spec = serving_plan("llama-2-70b", dep.replace(speculation=Speculation(draft_tokens=3,
                        acceptance=0.8)), requests_per_day=1e6, days=30)  # fmt: skip
    assert not plain.speculative and spec.speculative
    assert spec.dollars < plain.dollars and spec.seconds_per_token <= 0.03
    # What docs/guide/serving.md says of these plans.
    assert (plain.gpus, plain.tensor_parallel, spec.gpus, spec.tensor_parallel) == (8, 4, 4, 2)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"draft_tokens": 0}, "draft_tokens"),
        ({"draft_tokens": 65}, "draft_tokens"),
        ({"draft_tokens": 2.0}, "draft_tokens"),
        ({"draft_tokens": True}, "draft_tokens"),
        ({"acceptance": -0.1}, "acceptance"),
        ({"acceptance": 1.5}, "acceptance"),
        ({"acceptance": float("nan")}, "acceptance"),
        ({"acceptance": "0.5"}, "acceptance"),
        ({"draft": "gpt-5"}, "draft"),
        ({"draft": 7e9}, "draft"),
    ],
)
def test_bad_speculation_is_named(kwargs, argument):
    with pytest.raises(ValueError) as err:
        Speculation(**kwargs)
    assert err.value.argument == argument


def test_bad_calls_are_named():
    with pytest.raises(ValueError, match="vocabulary") as err:
        speculative_decode(L70, Speculation("llama-3-8b"), tensor_parallel=4)
    assert err.value.argument == "draft"
    with pytest.raises(ValueError) as err:
        speculative_decode(L70, "mtp", tensor_parallel=4)
    assert err.value.argument == "speculation"
    with pytest.raises(ValueError, match="batch of one") as err:
        speculative_decode(L70, Speculation(), target_seconds=1e-4, tensor_parallel=4)
    assert err.value.argument == "target_seconds"
    with pytest.raises(ValueError) as err:
        Deployment(speculation=0.8)
    assert err.value.argument == "speculation"
    with pytest.raises(ValueError) as err:
        serving.decode(L7, draft_tokens=1.5)
    assert err.value.argument == "draft_tokens"
    # One bad row under on_invalid="nan" does not lose the others.
    rows = speculative_decode(L70, Speculation(), batch_size=[8, 10**6], context_tokens=2048,
                              tensor_parallel=4, on_invalid="nan")  # fmt: skip
    assert np.isfinite(rows.seconds_per_token[0]) and np.isnan(rows.seconds_per_token[1])


def test_serve_prints_the_speculative_step():
    out = run_cli(["serve", "--model", "llama-2-70b", "--tensor-parallel", "4", "--tpot-ms",
                   "20", "--draft", "mtp", "--draft-tokens", "3", "--acceptance", "0.7",
                   "--json"])  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    spec = data["speculative"]
    assert spec["seconds_per_token"] <= 0.02 and spec["draft"] == "mtp"
    assert data["decode"]["batch_size"] == spec["batch_size"]  # compared at one batch
    assert spec["tokens_per_step"] == pytest.approx(1 + 0.7 + 0.49 + 0.343)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--acceptance", "0.5"], "--acceptance needs --draft"),
        (["--draft-tokens", "2"], "--draft-tokens needs --draft"),
        (["--draft", "nope"], "--draft"),
        (["--draft", "llama-3-8b"], "vocabulary"),
        (["--draft", "mtp", "--acceptance", "1.5"], "--acceptance"),
        (["--draft", "mtp", "--draft-tokens", "0"], "--draft-tokens"),
    ],
)
def test_bad_speculation_options_exit_2(args, words):
    out = run_cli(["serve", *args])
    assert out.returncode == 2 and words in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_plan_takes_the_draft():
    args = ["plan", "--as-good-as", "70e9", "--inference-gpu", "h100-sxm",
            "--inference-precision", "bf16", "--tpot-ms", "15",
            "--requests-per-day", "1e6"]  # fmt: skip
    # No model near the target meets 15 ms a token without a draft; with MTP heads one does.
    assert run_cli(args).returncode == 2
    out = run_cli([*args, "--draft", "mtp", "--draft-tokens", "3", "--acceptance", "0.8",
                   "--json"])  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["assumptions"]["speculation"].startswith("mtp, 3 tokens")
    physical = data["models"]["recommendation"]["physical"]
    assert physical["serving"]["speculative"] is True
    # What docs/guide/serving.md says of this plan.
    assert round(physical["params"] / 1e9) == 67 and round(physical["tokens"] / 1e10) == 446
    assert (physical["serving"]["replicas"], physical["serving"]["tensor_parallel"]) == (1, 4)
    assert physical["serving"]["batch_size"] == 82


@pytest.mark.parametrize("rows", [1, 4096])
def test_every_fan_of_the_search_finds_the_same_batch(monkeypatch, rows):
    """A few rows try 32 batches a round, many rows bisect; the batch found is the same."""
    from scaleplan.systems import speculation

    context = np.linspace(0, 30000, rows).round()
    kw = dict(context_tokens=context, tensor_parallel=4, target_seconds=0.03, on_invalid="nan")
    spec = Speculation(draft_tokens=2, acceptance=0.75)
    found = {}
    for fan_rows in (1, 2**30):  # bisection; the widest fan
        monkeypatch.setattr(speculation, "FAN_ROWS", fan_rows)
        found[fan_rows] = speculative_decode(L70, spec, **kw).batch_size
    np.testing.assert_array_equal(found[1], found[2**30])
    assert np.isfinite(found[1]).any()


def test_a_draft_model_prefills_every_prompt_too():
    """A draft model's prefill adds to the TTFT, and under an in-flight engine its FLOPs
    to the prompt's charge; MTP heads prefill nothing of their own."""
    draft_model = Speculation("llama-2-7b", draft_tokens=3, acceptance=0.8)
    dep = Deployment("h100-sxm", engine="trtllm-2025", tensor_parallel=4, tpot_seconds=0.03,
                     input_tokens=512, output_tokens=256, speculation=draft_model)  # fmt: skip
    r = replicas(["llama-2-70b"], dep)
    assert r.speculative[0, 0]
    eff, quiet = dep.efficiency, dataclasses.replace(dep.efficiency, overhead_seconds=0.0)
    own = serving.prefill(L70, prompt_tokens=512, tensor_parallel=4, efficiency=eff)
    draft = serving.prefill(L7, prompt_tokens=512, tensor_parallel=4, efficiency=quiet)
    assert r.ttft_seconds[0, 0] == pytest.approx(own.seconds + draft.seconds, rel=1e-12)
    prompt = (own.flops + draft.flops) / (H100.peak("bf16") * eff.compute)
    decoding = 256 * r.seconds_per_token[0, 0] / r.batch_size[0, 0]
    assert r.busy_seconds[0, 0] == pytest.approx(decoding + prompt, rel=1e-12)
    mtp = replicas(["llama-2-70b"], dep.replace(speculation=Speculation(draft_tokens=3)))
    assert mtp.speculative[0, 0] and mtp.ttft_seconds[0, 0] == pytest.approx(own.seconds)
