"""scaleplan.dask on Dask's local schedulers: lazy results equal the in-memory ones bit for
bit, errors name the chunk. Sweeps (Zarr, Parquet) are in test_dask_sweeps.py.

The same functions on a real distributed cluster are in test_dask_cluster.py.
"""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import scaleplan as sp
import scaleplan.dask as spd
from scaleplan import _core
from scaleplan.dask import arrays as lazy_arrays
from scaleplan.dask._chunks import chunk_message
from scaleplan.systems.steptime import StepTimeModel, loss_in_budget, step_counts

OPTIMUM_FIELDS = ("params", "tokens", "iterations", "converged")


def same(a, b):
    """Bit-for-bit equality (NaN equal to NaN), with equal shapes and dtypes."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    return np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


def losses(n, seed=0):
    return np.random.default_rng(seed).uniform(1.75, 3.5, n)


@pytest.fixture(autouse=True)
def synchronous():
    # One thread, in order: errors and call counts are deterministic.
    with dask.config.set(scheduler="sync"):
        yield


@pytest.mark.parametrize("n", [1_000, _core.TABLE_MIN_ROWS + 17_000])
def test_compute_optimal_equals_the_in_memory_call_bit_for_bit(n):
    # Above TABLE_MIN_ROWS the whole problem starts Newton from the table, the chunks
    # (each below it) must be told so; below it neither does.
    loss = losses(n)
    demand = np.logspace(6, 14, 7)[:, None]
    lazy = spd.compute_optimal(da.from_array(loss, chunks=n // 5 + 1)[None, :], demand)
    eager = sp.compute_optimal(loss[None, :], demand)
    got = lazy.compute()
    assert type(got) is sp.LifetimeOptimum
    for f in (*OPTIMUM_FIELDS, "loss", "inference_tokens"):
        assert same(getattr(got, f), getattr(eager, f)), f
    assert same(lazy.flop_saving.compute(), eager.flop_saving)


def test_without_the_whole_problems_start_rule_the_chunks_would_differ():
    # Guards the test above: it must be able to fail.
    n = _core.TABLE_MIN_ROWS + 17_000
    loss = losses(n, seed=1)
    whole = sp.compute_optimal(loss, 1e12)
    pieces = np.concatenate([sp.compute_optimal(p, 1e12).tokens for p in np.array_split(loss, 5)])
    assert not np.array_equal(pieces, whole.tokens)
    assert np.allclose(pieces, whole.tokens, rtol=1e-12, atol=0)


def test_start_rule_is_the_in_memory_rule():
    law = sp.laws.CHINCHILLA
    assert spd.start_rule("auto", law, _core.TABLE_MIN_ROWS) == "table"
    assert spd.start_rule("auto", law, _core.TABLE_MIN_ROWS - 1) == "bound"
    many = sp.ScalingLaw(E=np.array([1.7, 1.8]), A=400.0, B=410.0, alpha=0.34, beta=0.28)
    assert spd.start_rule("auto", many, 10**9) == "bound"
    one = sp.ScalingLaw(E=np.array([1.7]), A=400.0, B=410.0, alpha=0.34, beta=0.28)
    assert spd.start_rule("auto", one, 10**9) == "table"
    assert spd.start_rule("bound", law, 10**9) == "bound"
    with pytest.raises(ValueError, match="start must be one of auto, bound, table"):
        spd.start_rule("fast", law, 10)


def test_law_arrays_and_other_methods_and_nan_rows_match():
    law = sp.ScalingLaw(
        E=np.linspace(1.6, 1.8, 6)[:, None], A=406.4, B=410.7, alpha=0.34, beta=0.28
    )
    loss = losses(300, seed=2)
    loss[[3, 150]] = [1.0, np.nan]  # below E, and NaN
    for method in ("newton", "halley", "brent"):
        lazy = spd.compute_optimal(
            da.from_array(loss, chunks=70), 1e11, law=law, method=method, on_invalid="nan"
        ).compute()
        eager = sp.compute_optimal(loss, 1e11, law=law, method=method, on_invalid="nan")
        for f in OPTIMUM_FIELDS:
            assert same(getattr(lazy, f), getattr(eager, f)), (method, f)
    assert np.isnan(lazy.params[:, 3]).all() and not lazy.converged[:, 150].any()


def test_results_are_lazy_and_each_chunk_runs_the_kernel_once(monkeypatch):
    calls = []
    real = lazy_arrays._compute_optimal

    def counting(*args, **kwargs):
        calls.append(np.shape(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(lazy_arrays, "_compute_optimal", counting)
    loss = da.from_array(losses(1000), chunks=300)
    r = spd.compute_optimal(loss, 1e12)
    assert calls == []  # nothing ran yet
    assert r.params.dtype == np.float64 and r.iterations.dtype == np.uint32
    assert r.converged.dtype == np.bool_ and isinstance(r.params._meta, np.ndarray)
    assert r.params.chunks == ((300, 300, 300, 100),)
    r.compute()
    assert sorted(calls) == [(100,), (300,), (300,), (300,)]


def test_scalar_inputs_give_scalar_results():
    got = spd.compute_optimal(da.asarray(2.0), 1e12).compute()
    eager = sp.compute_optimal(2.0, 1e12, start="bound")
    assert isinstance(got.params, float) and got.params == eager.params


def test_cost_optimal_and_its_breakdown_match():
    costs = sp.CostModel(train_mfu=0.4, decode_mfu=0.02)
    loss = losses(5000, seed=3)
    requests = np.logspace(7, 12, 4)[:, None]
    lazy = spd.cost_optimal(da.from_array(loss, chunks=1200), requests, 100.0, 300.0, costs=costs)
    eager = sp.cost_optimal(loss, requests, 100.0, 300.0, costs=costs)
    got = lazy.compute()
    assert type(got) is sp.CostOptimum
    for f in OPTIMUM_FIELDS:
        assert same(getattr(got, f), getattr(eager, f)), f
    assert same(lazy.total_dollars.compute(), eager.total_dollars)
    assert same(lazy.saving.compute(), eager.saving)


def test_chinchilla_optimal_matches_for_each_given():
    x = da.from_array(np.logspace(20, 25, 50), chunks=20)
    for kind, values in (("compute", x), ("params", x / 1e12), ("loss", x / x * 2.3)):
        lazy = spd.chinchilla_optimal(**{kind: values}).compute()
        eager = sp.chinchilla_optimal(**{kind: values.compute()})
        assert same(lazy.params, eager.params) and same(lazy.loss, eager.loss), kind
    with pytest.raises(ValueError, match="exactly one of compute, loss or params"):
        spd.chinchilla_optimal(loss=x, params=x)


def test_step_time_kernels_match():
    d_model = da.from_array(np.arange(128, 8193, 128, dtype=float), chunks=13)
    layers = np.arange(2, 40, 6, dtype=float)[:, None]
    shapes = {"d_model": d_model, "n_layers": layers, "n_heads": 8, "seq_len": 4096}
    eager_shapes = {**shapes, "d_model": d_model.compute()}
    lazy, eager = spd.step_counts(shapes).compute(), step_counts(eager_shapes)
    for f in ("params", "flops", "memcpy_elements", "activation_elements"):
        assert same(getattr(lazy, f), getattr(eager, f)), f
    model = StepTimeModel.from_hardware("h100-sxm", mfu=0.4)
    assert same(spd.step_time(model, shapes).compute(), model.predict(eager_shapes))
    budget = spd.loss_in_budget(shapes, 3600.0).compute()
    ref = loss_in_budget(eager_shapes, 3600.0)
    assert same(budget.loss, ref.loss) and same(budget.memory_bytes, ref.memory_bytes)


def local_message(fn):
    with pytest.raises(ValueError) as info:
        fn()
    return str(info.value)


@pytest.mark.parametrize("bad", [0.5, np.nan, np.inf])
def test_a_bad_row_fails_with_the_local_message_and_names_its_chunk(bad):
    loss = losses(1000, seed=4)
    loss[613] = bad
    local = local_message(lambda: sp.compute_optimal(loss, 1e12))
    lazy = spd.compute_optimal(da.from_array(loss, chunks=250), 1e12)
    message = local_message(lambda: lazy.params.compute())
    assert message == f"in chunk (2,) (elements [500:750] of (1000,)): {local}"
    assert "at index 613" in message


def test_chunk_errors_give_the_index_in_the_whole_nd_array():
    loss = losses(60, seed=5).reshape(6, 10)
    loss[4, 7] = 1.0
    local = local_message(lambda: sp.cost_optimal(loss, 1e9))
    lazy = spd.cost_optimal(da.from_array(loss, chunks=(3, 4)), 1e9)
    message = local_message(lambda: lazy.compute())
    assert message == f"in chunk (1, 1) (elements [3:6, 4:8] of (6, 10)): {local}"
    assert "at index 47" in local  # 4 * 10 + 7


def test_chunk_message_translates_only_the_index():
    chunks = ((5, 5, 2), (20, 4, 16))
    msg = chunk_message("x must be > 0; got -1.0 at index 5", (10, 20), (2, 4), (12, 40), chunks)
    assert msg == (
        "in chunk (2, 1) (elements [10:12, 20:24] of (12, 40)): "
        "x must be > 0; got -1.0 at index 461"  # local (1, 1) -> (11, 21) -> 11 * 40 + 21
    )
    assert chunk_message("tol is bad", (0,), (5,), (5,), ((5,),)).endswith(": tol is bad")


def test_bad_arguments_fail_when_the_graph_is_built():
    x = da.from_array(losses(100), chunks=30)
    cases = [
        (lambda: spd.compute_optimal(x, 1e12, method="newtn"), "method must be one of"),
        (lambda: spd.compute_optimal(x, 1e12, on_invalid="skip"), "on_invalid must be one of"),
        (lambda: spd.compute_optimal(x, 1e12, tol=0.0), "tol must be a number in"),
        (lambda: spd.compute_optimal(x, 1e12, max_iter=0), "max_iter must be an integer"),
        (lambda: spd.compute_optimal(x, 1e12, start="fast"), "start must be one of"),
        (lambda: spd.compute_optimal(x, np.ones(7)), "shapes do not broadcast"),
        (lambda: spd.compute_optimal(x.astype(complex), 1e12), "loss must be a real number"),
        (lambda: spd.compute_optimal(x, "1e12"), "inference_tokens must be a real number"),
        (lambda: spd.compute_optimal(x, 1e12, law="nope"), "law must be one of"),
        (lambda: spd.compute_optimal(x[x > 2], 1e12), "unknown chunk sizes"),
        (lambda: spd.cost_optimal(x, 1e9, costs="a100"), "costs must be a CostModel"),
        (lambda: spd.step_counts([1, 2]), "shapes must be a TransformerShape or a mapping"),
        (lambda: spd.step_counts({"d_model": x}), "shape field 'n_layers' is required"),
        (lambda: spd.step_counts({"d_model": x, "width": x}), "unknown shape field 'width'"),
        (lambda: spd.step_time("h100", {"d_model": x}), "model must be a StepTimeModel"),
        (lambda: spd.loss_in_budget({"d_model": x}, -1.0), "seconds must be a finite number"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()


def test_bad_values_inside_a_step_time_chunk_name_it():
    d_model = da.from_array(np.array([512.0, 1024.0, -1.0, 2048.0]), chunks=2)
    counts = spd.step_counts({"d_model": d_model, "n_layers": 4, "n_heads": 8})
    with pytest.raises(ValueError, match=r"^in chunk \(1,\) \(elements \[2:4\] of \(4,\)\): "):
        counts.compute()


@settings(max_examples=examples(25 / 300), deadline=None)
@given(
    n=st.integers(1, 400),
    chunk=st.integers(1, 120),
    demand_exp=st.floats(0.0, 20.0),
    seed=st.integers(0, 2**32 - 1),
    method=st.sampled_from(["newton", "halley", "bisect", "secant-d"]),
)
def test_any_chunking_gives_the_in_memory_answer(n, chunk, demand_exp, seed, method):
    loss = np.random.default_rng(seed).uniform(1.6, 4.0, n)  # some rows below E = 1.69
    lazy = spd.compute_optimal(
        da.from_array(loss, chunks=chunk), 10**demand_exp, method=method, on_invalid="nan"
    ).compute()
    eager = sp.compute_optimal(loss, 10**demand_exp, method=method, on_invalid="nan")
    for f in OPTIMUM_FIELDS:
        assert same(getattr(lazy, f), getattr(eager, f)), f


# -- sweeps ----------------------------------------------------------------------------
