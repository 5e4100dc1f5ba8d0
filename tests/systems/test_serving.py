"""The serving roofline: Rust against the pure-Python reference, the physics it must obey,
and bad input."""

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import scaleplan as sp
from scaleplan.arch.counts import step_counts
from scaleplan.arch.shapes import TransformerShape
from scaleplan.hardware.accelerators import ACCELERATORS
from scaleplan.hardware.formats import FORMATS, compute_precision
from scaleplan.systems import efficiency, serving
from tests.systems.serving_support import (
    BYTES,
    COMPUTES,
    DEFAULT_KV,
    assert_step_is,
    efficiencies,
    formats,
    reference,
    shapes,
)

LLAMA2_7B = TransformerShape(d_model=4096, n_layers=32, n_heads=32, d_ff=11008)
LLAMA2_70B = TransformerShape(d_model=8192, n_layers=80, n_heads=64, n_kv_heads=8, d_ff=28672)
H100 = ACCELERATORS["h100-sxm"]


@given(
    shapes(),
    st.sampled_from(["decode", "prefill"]),
    st.integers(1, 4096),
    st.integers(1, 32768),
    st.sampled_from([1, 2, 4, 8, 16]),
    formats(),
    efficiencies,
)
def test_rust_matches_reference(shape, phase, batch, tokens, tp, fmt, eff):
    gpu, precision, kv_precision = fmt
    acc = ACCELERATORS[gpu]
    step = serving.decode if phase == "decode" else serving.prefill
    tokens_arg = {"context_tokens" if phase == "decode" else "prompt_tokens": tokens}
    if acc.link_bandwidth is None and tp > 1:
        # No link figure (MI325X, MI355X): a group's all-reduces cannot be priced.
        with pytest.raises(ValueError, match="no link_bandwidth") as err:
            step(shape, acc, batch_size=batch, tensor_parallel=tp, **tokens_arg)
        assert err.value.argument == "tensor_parallel"
        return
    if shape.n_heads % tp:
        # A group splits the heads: a degree that does not divide them is no deployment.
        with pytest.raises(ValueError) as err:
            step(shape, acc, batch_size=batch, tensor_parallel=tp, **tokens_arg)
        assert err.value.argument == "tensor_parallel" and "divisor" in str(err.value)
        return
    seconds, flops, moved, comm, max_batch, memory_bound = reference(
        shape, phase, batch, tokens, tp, acc, eff, precision, kv_precision
    )
    step = serving.decode if phase == "decode" else serving.prefill
    kwargs = {"context_tokens" if phase == "decode" else "prompt_tokens": tokens}
    call = dict(batch_size=batch, tensor_parallel=tp, efficiency=eff, precision=precision,
                kv_precision=kv_precision, **kwargs)  # fmt: skip
    if max_batch < 1 or batch > max_batch:
        with pytest.raises(ValueError) as err:
            step(shape, acc, **call)
        assert err.value.argument == ("tensor_parallel" if max_batch < 1 else "batch_size")
        assert math.isnan(step(shape, acc, on_invalid="nan", **call).seconds)
        return
    r = step(shape, acc, **call)
    assert_step_is(r, seconds, flops, moved, comm, max_batch)
    produced = batch * (tokens if phase == "prefill" else 1)
    assert r.tokens_per_second == pytest.approx(produced / (seconds * tp), rel=1e-12)
    # Where the two times nearly tie, rounding may pick either bound.
    ramp = produced / (produced + eff.gemm_half_tokens)
    peak = acc.peak_flops[COMPUTES.get(precision, precision)]
    t_compute = flops / (peak * eff.compute * ramp)
    kv = DEFAULT_KV.get(precision, precision) if kv_precision is None else kv_precision
    cache = batch * tokens * 2 * shape.n_layers * math.ceil(shape.n_kv_heads / tp)
    cache *= shape.head_dim * BYTES[kv]
    kv_eff = eff.memory if eff.kv_memory is None else eff.kv_memory
    bw = acc.memory_bandwidth
    t_memory = (moved - cache) / (bw * eff.memory) + cache / (bw * kv_eff)
    if abs(t_compute / t_memory - 1) > 1e-9:
        assert r.memory_bound == memory_bound


@given(shapes(), st.integers(0, 16384), st.floats(1e-3, 1.0), efficiencies)
def test_the_latency_target_takes_the_largest_batch_that_meets_it(shape, context, target, eff):
    acc = H100
    one = reference(shape, "decode", 1, context, 1, acc, eff)
    assume(one[4] >= 1)
    if one[0] > target:
        with pytest.raises(ValueError, match="even a batch of one") as err:
            serving.decode(shape, acc, context_tokens=context, efficiency=eff,
                           target_seconds=target)  # fmt: skip
        assert err.value.argument == "target_seconds"
        return
    r = serving.decode(shape, acc, context_tokens=context, efficiency=eff, target_seconds=target)
    b = r.batch_size
    assert b == int(b) and 1 <= b <= one[4]
    assert reference(shape, "decode", b, context, 1, acc, eff)[0] <= target * (1 + 1e-12)
    if b < one[4]:
        assert reference(shape, "decode", b + 1, context, 1, acc, eff)[0] > target * (1 - 1e-12)


def test_batch_one_decode_is_bandwidth_over_weight_bytes():
    r = serving.decode(LLAMA2_7B, H100, efficiency=serving.IDEAL)
    weights = (step_counts(LLAMA2_7B).params - 32000 * 4096) * 2
    assert r.bound == "memory"
    assert r.tokens_per_second == pytest.approx(H100.memory_bandwidth / weights, rel=1e-12)


def test_crossover_batch_and_linear_mfu():
    # Without a KV cache compute and memory meet near peak * bytes per weight / (2 bw).
    crossover = H100.peak("bf16") * 2 / (2 * H100.memory_bandwidth)
    assert 290 < crossover < 300
    b = np.arange(1, 600)
    r = serving.decode(LLAMA2_7B, H100, batch_size=b, efficiency=serving.IDEAL)
    first_compute = b[np.argmax(~r.memory_bound)]
    assert abs(first_compute - crossover) <= 0.005 * crossover
    below = b < first_compute
    np.testing.assert_allclose(r.mfu[below] / b[below], r.mfu[0], rtol=1e-12)


def test_tensor_parallel_fits_what_one_gpu_cannot():
    with pytest.raises(ValueError, match="do not fit") as err:
        serving.decode(LLAMA2_70B, H100, context_tokens=4096)
    assert err.value.argument == "tensor_parallel"
    r = serving.decode(LLAMA2_70B, H100, context_tokens=4096, tensor_parallel=[2, 4, 8])
    assert np.all(np.diff(r.max_batch_size) > 0) and np.all(r.comm_seconds > 0)


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": np.nan}, "batch_size"),
        ({"context_tokens": -1}, "context_tokens"),
        ({"tensor_parallel": 1.5}, "tensor_parallel"),
        ({"tensor_parallel": 0}, "tensor_parallel"),
        ({"precision": "fp4"}, "precision"),
        ({"kv_precision": "int4"}, "kv_precision"),
        ({"target_seconds": 0.0}, "target_seconds"),
        ({"target_seconds": 1e-6}, "target_seconds"),
    ],
)
def test_bad_input_is_named(kwargs, argument):
    with pytest.raises(ValueError) as err:
        serving.decode(LLAMA2_7B, H100, **kwargs)
    assert err.value.argument == argument


def test_bad_efficiency_and_gpu():
    for name in ("compute", "memory", "memory_fraction", "link", "compute_8bit", "compute_4bit",
                 "kv_share"):  # fmt: skip
        for bad in (0.0, 1.5, float("nan"), True, -0.5):
            with pytest.raises(ValueError, match=name) as err:
                serving.Efficiency(**{name: bad})
            assert err.value.argument == name
    with pytest.raises(ValueError, match="overhead_seconds"):
        serving.Efficiency(overhead_seconds=-1.0)
    for bad in (-1e-6, float("nan"), float("inf"), "1"):
        with pytest.raises(ValueError, match="collective_seconds") as err:
            serving.Efficiency(collective_seconds=bad)
        assert err.value.argument == "collective_seconds"
    with pytest.raises(ValueError) as err:
        serving.decode(LLAMA2_7B, "a100-80gb", precision="fp8")
    assert "fp8" in str(err.value)
    with pytest.raises(ValueError, match="prompt"):
        serving.prefill(LLAMA2_7B, H100, prompt_tokens=0)
    no_link = sp.Accelerator("mine", {"bf16": 1e15}, 80e9, 3e12)
    with pytest.raises(ValueError, match="link_bandwidth") as err:
        serving.decode(LLAMA2_7B, no_link, tensor_parallel=2)
    assert err.value.argument == "tensor_parallel"


def test_one_bad_row_does_not_lose_the_rest():
    r = serving.decode(LLAMA2_7B, H100, batch_size=[1, 0, 8], on_invalid="nan")
    assert np.isnan(r.seconds[1]) and np.all(np.isfinite(r.seconds[[0, 2]]))
    assert list(r.bound) == ["memory", "", "memory"]


def run_cli(*args):
    import json

    from inprocess import run_cli

    r = run_cli(["serve", *args])
    return r, (json.loads(r.stdout) if r.returncode == 0 and "--json" in args else None)


def test_cli_serve_agrees_with_the_library():
    r, data = run_cli("--model", "llama-2-70b", "--tensor-parallel", "4", "--tpot-ms", "50",
                      "--json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    d = serving.decode(LLAMA2_70B, H100, context_tokens=2048, tensor_parallel=4,
                       target_seconds=0.05)  # fmt: skip
    assert data["decode"]["batch_size"] == d.batch_size
    assert data["decode"]["seconds"] == d.seconds <= 0.05
    # 10 ms is below one step's read of its weights (35 GB a GPU): one line, status 2.
    r, _ = run_cli("--model", "llama-2-70b", "--tensor-parallel", "4", "--tpot-ms", "10")
    assert r.returncode == 2 and "latency target" in r.stderr
    assert data["prefill"]["bound"] == "compute"


@pytest.mark.parametrize(
    "args, words",
    [
        (("--model", "llama-2-70b"), "do not fit"),
        (("--tpot-ms", "1"), "latency target"),
        (("--batch-size", "0"), "--batch-size"),
        (("--d-model", "4096"), "--n-layers"),
        (("--tpot-ms", "nan"), "--tpot-ms"),
    ],
)
def test_cli_serve_bad_input_is_one_line_and_status_2(args, words):
    r, _ = run_cli(*args)
    assert r.returncode == 2
    assert r.stdout == "" and len(r.stderr.strip().splitlines()) == 1 and words in r.stderr


def test_a_step_echoes_its_tokens_batch_and_group():
    """Mutation testing found the echoed `tokens` could be another column unnoticed."""
    from scaleplan.arch.policy import shape_for_params

    shape = shape_for_params(7e9)
    step = serving.decode(shape, context_tokens=np.array([1000.0, 2000.0]), batch_size=4,
                          tensor_parallel=2)  # fmt: skip
    np.testing.assert_array_equal(step.tokens, [1000.0, 2000.0])
    np.testing.assert_array_equal(step.batch_size, [4.0, 4.0])
    np.testing.assert_array_equal(step.tensor_parallel, [2.0, 2.0])
    first = serving.prefill(shape, prompt_tokens=np.array([100.0, 300.0]), tensor_parallel=2)
    np.testing.assert_array_equal(first.tokens, [100.0, 300.0])


def test_a_gpu_without_links_serves_on_one_gpu_and_refuses_more():
    """Mutation testing (2026-12-07): the refusal of tensor parallelism on a card with no
    interconnect could be widened to tensor_parallel=1 unnoticed."""
    import dataclasses

    lone = dataclasses.replace(sp.accelerator("h100-sxm"), name="lone", link_bandwidth=None)
    one = serving.decode("llama-2-7b", lone, batch_size=8, context_tokens=512)
    linked = serving.decode("llama-2-7b", "h100-sxm", batch_size=8, context_tokens=512)
    assert one.seconds == linked.seconds  # one GPU never uses the links
    with pytest.raises(sp.ScaleplanError, match="no link_bandwidth") as err:
        serving.decode("llama-2-7b", lone, batch_size=8, tensor_parallel=2)
    assert err.value.argument == "tensor_parallel"
    # A degree below 1 is refused as a degree, whatever the links.
    with pytest.raises(sp.ScaleplanError, match="^tensor_parallel must be a whole number"):
        serving.decode("llama-2-7b", lone, batch_size=8, tensor_parallel=0.5)


def test_each_format_computes_at_its_own_fraction():
    """8-bit formats (fp8, int8) take `compute_8bit`, 4-bit ones (fp4, mxfp4)
    `compute_4bit`, weight-only formats the 16-bit `compute`: a prefill's compute time
    scales by the fraction of the format it runs in, and by nothing else."""
    eff = serving.Efficiency(compute=0.6, compute_8bit=0.5, compute_4bit=0.25,
                             overhead_seconds=0.0)  # fmt: skip
    assert [
        eff.compute_for(f) for f in ("bf16", "fp8", "int8", "fp4", "mxfp4", "w4a16", "w8a16")
    ] == [0.6, 0.5, 0.5, 0.25, 0.25, 0.6, 0.6]
    unset = serving.Efficiency(compute=0.6)
    assert {unset.compute_for(f) for f in ("fp8", "fp4", "bf16")} == {0.6}
    # Every format's matmul precision has its bits written down: a new one fails here
    # rather than computing at the 16-bit fraction unnoticed.
    assert {compute_precision(f) for f in FORMATS} <= set(efficiency.MATH_BITS)
    gb200 = ACCELERATORS["gb200"]
    for fmt, fraction in (("fp8", 0.5), ("fp4", 0.25), ("bf16", 0.6)):
        alone = serving.Efficiency(compute=fraction, overhead_seconds=0.0)
        steps = [serving.prefill(LLAMA2_7B, gb200, prompt_tokens=4096, precision=fmt,
                                 efficiency=e) for e in (eff, alone)]  # fmt: skip
        assert steps[0].seconds == steps[1].seconds, fmt
        assert not steps[0].memory_bound


def test_the_link_fraction_slows_only_the_all_reduces_bytes():
    full = serving.decode(LLAMA2_7B, H100, batch_size=64, tensor_parallel=4,
                          efficiency=serving.Efficiency())  # fmt: skip
    half = serving.decode(LLAMA2_7B, H100, batch_size=64, tensor_parallel=4,
                          efficiency=serving.Efficiency(link=0.5))  # fmt: skip
    latency = 2 * LLAMA2_7B.n_layers * serving.Efficiency().collective_seconds
    assert half.comm_seconds - latency == pytest.approx(2 * (full.comm_seconds - latency))
    assert half.flops == full.flops and half.bytes == full.bytes


def test_a_step_given_no_efficiency_takes_the_default_engine_profile():
    from scaleplan.systems.engines import DEFAULT_ENGINE, ENGINES
    from scaleplan.systems.speculation import Speculation, speculative_decode

    profile = ENGINES[DEFAULT_ENGINE].efficiency
    assert profile != serving.Efficiency()  # so the two calls below could differ
    plain = serving.Efficiency()
    for step, kw in ((serving.decode, {}), (serving.prefill, {"prompt_tokens": 512})):
        kw = dict(kw, batch_size=8, tensor_parallel=2)
        assert step(LLAMA2_7B, H100, **kw) == step(LLAMA2_7B, H100, efficiency=profile, **kw)
        assert step(LLAMA2_7B, H100, **kw) != step(LLAMA2_7B, H100, efficiency=plain, **kw)
    spec = Speculation(draft_tokens=2)
    assert speculative_decode(LLAMA2_7B, spec, batch_size=8) == speculative_decode(
        LLAMA2_7B, spec, batch_size=8, efficiency=profile
    )


def test_the_ideal_efficiency_is_the_bare_roofline():
    """`IDEAL` (the bound every measurement must stay under) reaches the full peak and
    bandwidth and adds no time of its own: no per-step overhead, no collective latency."""
    ideal = serving.IDEAL
    assert (ideal.compute, ideal.memory) == (1.0, 1.0)
    assert (ideal.overhead_seconds, ideal.collective_seconds) == (0.0, 0.0)
