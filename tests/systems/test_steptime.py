import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scaleplan as sp
from scaleplan import _core
from scaleplan.systems.shape_search import best_shapes
from scaleplan.systems.steptime import (
    FIELDS,
    StepTimeModel,
    TransformerShape,
    loss_in_budget,
    shape_grid,
    step_counts,
)
from scaleplan.systems.steptime_fit import fit_step_time
from scaleplan.testing import reference as ref

LLAMA2_7B = TransformerShape(4096, 32, 32, vocab=32000, d_ff=11008, seq_len=4096, batch_size=1)


def test_known_parameter_counts():
    assert step_counts(LLAMA2_7B).params == pytest.approx(6.74e9, rel=0.005)
    llama3_8b = TransformerShape(4096, 32, 32, n_kv_heads=8, d_ff=14336, vocab=128256)
    assert step_counts(llama3_8b).params == pytest.approx(8.03e9, rel=0.005)
    gemma_2b = TransformerShape(
        2048, 18, 8, head_dim=256, n_kv_heads=1, d_ff=16384, vocab=256000, tied=True
    )
    assert step_counts(gemma_2b).params == pytest.approx(2.506e9, rel=0.005)
    gpt2 = TransformerShape(768, 12, 12, vocab=50257, gated=False, tied=True, seq_len=1024)
    # GPT-2 small has 124M with biases and learned positions; without them, 123.5M.
    assert step_counts(gpt2).params == pytest.approx(123.5e6, rel=0.005)


def test_flops_per_token_for_long_sequences():
    # FLOPs/token = 6 N + 12 L S h d_h (attention, causal mask not exploited): within 2% for
    # a 70B-class model at 4096 tokens (the embedding gather is the difference).
    s = TransformerShape(
        8192, 80, 64, n_kv_heads=8, d_ff=28672, vocab=32000, seq_len=4096, batch_size=1
    )
    c = step_counts(s)
    approx = 6 * c.params + 12 * s.n_layers * s.seq_len * s.n_heads * s.head_dim
    assert c.flops / s.seq_len == pytest.approx(approx, rel=0.02)


sizes = st.integers(1, 64)
shapes = st.builds(
    lambda d_mul, L, h, g, kv_div, f, V, gated, tied, S, B, extra: TransformerShape(
        d_model=h * d_mul,
        n_layers=L,
        n_heads=h,
        n_kv_heads=max(1, h // kv_div) if h % max(1, h // kv_div) == 0 else h,
        d_ff=f,
        vocab=V,
        gated=gated,
        tied=tied,
        seq_len=S,
        batch_size=B,
        extra_params=extra,
    ),
    sizes,
    st.integers(1, 48),
    st.sampled_from([1, 2, 4, 8, 16]),
    st.none(),
    st.sampled_from([1, 2, 4]),
    st.integers(1, 20000),
    st.integers(1, 200000),
    st.booleans(),
    st.booleans(),
    st.integers(1, 8192),
    st.integers(1, 64),
    st.one_of(st.just(0), st.integers(1, 10**9)),
)


@st.composite
def moe_shapes(draw):
    """Dense shapes given experts (some layers, shared widths) and, half the time, latent
    attention: every field the Rust counts and the reference must agree on."""
    base = draw(shapes)
    experts = draw(st.integers(1, 300))
    latent = draw(st.booleans())
    kv_rank = draw(st.integers(1, 2048)) if latent else 0
    return dataclasses.replace(
        base,
        experts=experts,
        experts_per_token=draw(st.integers(1, experts)),
        expert_d_ff=draw(st.integers(1, 20000)),
        shared_d_ff=draw(st.one_of(st.just(0), st.integers(1, 20000))),
        moe_layers=draw(st.integers(0, base.n_layers)),
        kv_lora_rank=kv_rank,
        q_lora_rank=draw(st.integers(0, 3000)) if latent else 0,
        rope_head_dim=draw(st.integers(0, base.head_dim - 1)) if latent else 0,
        v_head_dim=draw(st.integers(1, 512)),
    )


@given(moe_shapes())
def test_rust_moe_counts_match_reference(shape):
    c = step_counts(shape)
    want = ref.step_counts(*(getattr(shape, f) for f in FIELDS))
    got = (c.params, c.flops, c.memcpy_elements, c.activation_elements, c.active_params)
    for g, exp in zip(got, want, strict=True):
        assert g == pytest.approx(exp, rel=1e-12)
    assert c.active_params <= c.params


@given(shapes)
def test_rust_counts_match_reference(shape):
    c = step_counts(shape)
    want = ref.step_counts(*(getattr(shape, f) for f in FIELDS))
    for got, exp in zip(
        (c.params, c.flops, c.memcpy_elements, c.activation_elements, c.active_params),
        want,
        strict=True,
    ):
        assert got == pytest.approx(exp, rel=1e-12)


@given(
    shapes,
    st.sampled_from(["d_model", "n_layers", "d_ff", "vocab", "seq_len", "batch_size", "head_dim"]),
    st.integers(1, 5),
)
def test_counts_grow_with_every_dimension(shape, field, extra):
    base = step_counts(shape)
    grown_kw = {f: getattr(shape, f) for f in FIELDS}
    grown_kw[field] += extra
    if field == "d_model":
        grown_kw["head_dim"] = shape.head_dim
    bigger = step_counts(TransformerShape(**grown_kw))
    for name in ("params", "flops", "memcpy_elements", "activation_elements"):
        if field in ("seq_len", "batch_size") and name == "params":
            assert getattr(bigger, name) == getattr(base, name)
        else:
            assert getattr(bigger, name) > getattr(base, name), (field, name)


def test_vectorised_grid_equals_one_by_one():
    grid = shape_grid(d_model=(256, 512), n_layers=(2, 4), n_heads=(4, 8), mlp_ratio=(2.0, 4.0))
    c = step_counts(grid)
    cols, _ = sp.steptime.shape_columns(grid)
    for i in range(len(c.params)):
        one = TransformerShape(
            int(cols[1][i]), int(cols[2][i]), int(cols[3][i]), d_ff=int(cols[6][i])
        )
        assert step_counts(one).flops == c.flops[i]
    n = 3 * _core.PARALLEL_THRESHOLD
    big = {"d_model": np.full(n, 512.0), "n_layers": np.arange(n) % 7 + 1.0, "n_heads": 8.0}
    serial = _core.step_counts(sp.steptime.shape_columns(big)[0], parallel=False)
    parallel = _core.step_counts(sp.steptime.shape_columns(big)[0], parallel=True)
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "kw, message",
    [
        (
            {"d_model": 0, "n_layers": 2, "n_heads": 1},
            "d_model must be an integer in \\[1, 2\\*\\*53\\]",
        ),
        (
            {"d_model": 64, "n_layers": -1, "n_heads": 1},
            "n_layers must be an integer in \\[1, 2\\*\\*53\\]",
        ),
        (
            {"d_model": 64.5, "n_layers": 2, "n_heads": 1},
            "d_model must be an integer in \\[1, 2\\*\\*53\\]",
        ),
        ({"d_model": 100, "n_layers": 2, "n_heads": 3}, "n_heads must divide d_model"),
        (
            {"d_model": 64, "n_layers": 2, "n_heads": 4, "n_kv_heads": 3},
            "n_kv_heads must divide n_heads",
        ),
        (
            {"d_model": 64, "n_layers": 2, "n_heads": 4, "seq_len": 0},
            "seq_len must be an integer in \\[1, 2\\*\\*53\\]",
        ),
        (
            {"d_model": 64, "n_layers": 2, "n_heads": 4, "gated": "yes"},
            "gated must be True or False",
        ),
    ],
)
def test_bad_shapes(kw, message):
    with pytest.raises(ValueError, match=message):
        TransformerShape(**kw)


def test_bad_columns_are_named_by_rust():
    with pytest.raises(ValueError, match="n_layers must be a positive integer; got 2.5 at index 1"):
        step_counts({"d_model": 64.0, "n_layers": np.array([2.0, 2.5]), "n_heads": 4.0})
    with pytest.raises(ValueError, match="n_kv_heads must be a divisor of n_heads"):
        step_counts({"d_model": 64.0, "n_layers": 2.0, "n_heads": 4.0, "n_kv_heads": 3.0})


def test_budget_and_time_model():
    model = StepTimeModel.from_hardware("h100-sxm", "bf16")
    assert model.c_flop == pytest.approx(1 / 989e12) and model.c_mem == pytest.approx(1 / 3.35e12)
    r = loss_in_budget(LLAMA2_7B, 3600.0, time_model=model)
    assert r.tokens == pytest.approx(3600.0 / r.step_seconds * 4096)
    assert r.loss == pytest.approx(sp.CHINCHILLA.loss(r.params, r.tokens))
    longer = loss_in_budget(LLAMA2_7B, 7200.0, time_model=model)
    assert longer.loss < r.loss
    for bad in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="seconds must be a finite number > 0"):
            loss_in_budget(LLAMA2_7B, bad)
    with pytest.raises(ValueError, match="c_mem must be a finite number >= 0"):
        StepTimeModel(1e-15, -1.0)


def test_memory_bound_model_prefers_wide_shallow_narrow_mlp():
    # The seed's finding, checked: when memory traffic dominates step time, the best shapes
    # in a fixed budget are wider and shallower, with a narrower MLP than 4x.
    # One hour on one H100's bandwidth, where the grid's widest shape (8192) does not bind;
    # at a day and more the width cap binds and the MLP widens instead (see the README).
    mem_bound = StepTimeModel(c_flop=0.0, c_mem=1 / 3.35e12)
    grid = shape_grid(seq_len=2048.0, batch_size=8.0)
    best = best_shapes(3600.0, time_model=mem_bound, candidates=grid, top=10)
    assert best.shapes["d_model"][0] < grid["d_model"].max()
    d, layers, ff = (best.shapes[k] for k in ("d_model", "n_layers", "d_ff"))
    assert np.median(d / layers) > np.median(grid["d_model"] / grid["n_layers"])
    assert ff[0] / d[0] < 4.0 and np.median(ff / d) < 4.0 and layers[0] <= 4
    # Constraints are honoured.
    capped = best_shapes(24 * 3600.0, time_model=mem_bound, candidates=grid, max_params=1e8)
    assert np.all(capped.result.params <= 1e8) and capped.feasible < capped.considered
    near = best_shapes(
        24 * 3600.0, time_model=mem_bound, candidates=grid, params=1e9, params_tolerance=0.2
    )
    assert np.all(np.abs(near.result.params / 1e9 - 1) <= 0.2)


def test_fit_step_time_recovers_a_known_model():
    grid = shape_grid(
        d_model=(128, 256, 512),
        n_layers=(1, 2, 4),
        n_heads=(4, 8),
        mlp_ratio=(1.0, 4.0),
        vocab=1024.0,
        seq_len=128.0,
        batch_size=2.0,
    )
    truth = StepTimeModel(2e-11, 3e-10, 1e-3)
    shapes = [
        TransformerShape(int(d), int(L), int(h), d_ff=int(f), vocab=1024, seq_len=128, batch_size=2)
        for d, L, h, f in zip(
            grid["d_model"], grid["n_layers"], grid["n_heads"], grid["d_ff"], strict=True
        )
    ]
    fit = fit_step_time(shapes, truth.predict(shapes))
    assert fit.r2_both == pytest.approx(1.0, abs=1e-9)
    assert fit.model.c_flop == pytest.approx(2e-11, rel=1e-6)
    assert fit.model.c_mem == pytest.approx(3e-10, rel=1e-6)
    assert fit.r2_flops < 1.0 and fit.r2_memory < 1.0
    with pytest.raises(ValueError, match="measured_seconds has 3 values"):
        fit_step_time(shapes, [1.0, 2.0, 3.0])


def test_shipped_measurements_and_the_papers_comparison():
    from scaleplan.systems.measure import load_measurements
    from scaleplan.systems.steptime_fit import heldout_r2, heldout_relative_errors

    shapes, seconds = load_measurements()
    assert len(shapes) >= 60 and np.all(seconds > 0)
    r2 = heldout_r2(shapes, seconds)
    # Measured on this project's CPU machine: memory traffic predicts held-out step times
    # better than FLOPs (0.88 vs 0.72), and both together best (0.93).
    assert r2["memory"] > r2["flops"]
    assert r2["both"] > 0.85
    fit = fit_step_time(shapes, seconds)
    assert fit.model.c_flop > 0 and fit.model.c_mem > 0
    # Fitted on relative error, the small steps are no longer over-predicted severalfold:
    # the absolute fit's worst in-sample error here is 2.4x.
    assert (
        fit.worst_relative_error
        < 0.8
        < fit_step_time(shapes, seconds, relative=False).worst_relative_error
    )
    rel = heldout_relative_errors(shapes, seconds)
    # What our data says on held-out relative error: FLOPs beat memory traffic alone, and
    # the combined model is at least as good as either at its worst.
    assert rel["flops"][0] < rel["memory"][0]
    assert rel["both"][1] <= min(rel["flops"][1], rel["memory"][1])
    assert rel["both"][0] < 0.3


def test_measurement_harness_times_a_real_step(tmp_path):
    pytest.importorskip("jax")
    from scaleplan.systems.measure import load_measurements, sweep

    tiny = [
        TransformerShape(32, 1, 2, vocab=64, seq_len=16, batch_size=2),
        TransformerShape(
            32, 2, 2, vocab=64, seq_len=16, batch_size=2, gated=False, tied=True, n_kv_heads=1
        ),
    ]
    path = sweep(tiny, tmp_path / "t.csv", warmup=1, repeats=2)
    shapes, seconds = load_measurements(path)
    assert shapes == tiny and np.all((seconds > 0) & (seconds < 10))
