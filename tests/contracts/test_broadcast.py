"""The one marshalling path: broadcast inputs are read in place by the Rust grid, give the
bits of the same call on inputs written out in full, and report rows of the whole grid."""

import tracemalloc

import numpy as np
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import scaleplan as sp
from scaleplan import _core

LOSS = np.linspace(1.95, 3.0, 300)[:, None]
DEMAND = np.logspace(8, 14, 400)[None, :]


def written_out(*arrays):
    return [np.array(a) for a in np.broadcast_arrays(*arrays)]


def test_every_kernel_gives_the_written_out_bits_on_a_grid():
    loss, demand = written_out(LOSS, DEMAND)
    pairs = [
        (sp.compute_optimal(LOSS, DEMAND), sp.compute_optimal(loss, demand)),
        (
            sp.cost_optimal(LOSS, requests=DEMAND / 1e3),
            sp.cost_optimal(loss, requests=demand / 1e3),
        ),
        (sp.chinchilla_optimal(loss=LOSS * np.ones((1, 2))), sp.chinchilla_optimal(loss=loss)),
        (sp.best_quality(DEMAND * 1e8, inference_tokens=LOSS * 1e9), None),
    ]
    for grid, flat in pairs[:2]:
        assert np.array_equal(grid.params, flat.params)
        assert np.array_equal(grid.tokens, flat.tokens)
        assert np.array_equal(grid.iterations, flat.iterations)
    budget, tokens = written_out(DEMAND * 1e8, LOSS * 1e9)
    flat = sp.best_quality(budget, inference_tokens=tokens)
    assert np.array_equal(pairs[3][0].loss, flat.loss)
    law = sp.CHINCHILLA
    assert np.array_equal(law.loss(LOSS * 1e9, DEMAND), law.loss(*written_out(LOSS * 1e9, DEMAND)))


def test_a_broadcast_view_is_cut_not_copied_and_keeps_the_shape():
    # A Dask chunk or a result's echoed input arrives as np.broadcast_to: zero strides.
    view = np.broadcast_to(LOSS, (300, 400))
    r = sp.compute_optimal(view, 1e10)
    assert r.params.shape == (300, 400)
    assert np.array_equal(r.params, sp.compute_optimal(np.array(view), 1e10).params)
    again = r.chinchilla  # the echoed loss is itself a broadcast view
    assert again.params.shape == (300, 400)


def test_broadcast_inputs_are_not_written_out():
    # NumPy reports its allocations to tracemalloc; the kernel's outputs are Rust's and
    # are not counted. Writing either input out to the grid would cost 8 MB here.
    loss, demand = np.linspace(1.95, 3.0, 1000)[:, None], np.logspace(8, 14, 1000)[None, :]
    sp.compute_optimal(loss, demand)
    tracemalloc.start()
    try:
        sp.compute_optimal(loss, demand)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, peak


def test_errors_name_the_row_of_the_whole_grid():
    loss = LOSS.copy()
    loss[2, 0] = 1.0  # below E: every row (2, j) is invalid; the first is 2 * 400
    with pytest.raises(sp.ScaleplanError) as e:
        sp.compute_optimal(loss, DEMAND)
    assert (e.value.argument, e.value.index) == ("loss", 800)
    demand = DEMAND.copy()
    demand[0, 7] = -1.0
    with pytest.raises(sp.ScaleplanError) as e:
        sp.compute_optimal(LOSS, demand)
    assert (e.value.argument, e.value.index) == ("inference_tokens", 7)
    r = sp.compute_optimal(loss, DEMAND, on_invalid="nan")
    assert np.isnan(r.params[2]).all() and np.isfinite(r.params[3]).all()


def test_the_binding_checks_a_given_shape():
    one = np.ones(3)
    with pytest.raises(sp.ScaleplanError) as e:
        _core.loss(one, one, (one,) * 5, broadcast_shape=[4])
    assert e.value.argument == "params"
    with pytest.raises(sp.ScaleplanError, match="C-contiguous"):
        _core.loss(np.ones((3, 2))[:, 0], one, (one,) * 5)


shapes = st.lists(st.sampled_from([1, 2, 3, 300]), min_size=0, max_size=3)


@settings(max_examples=examples(40 / 300), deadline=None)
@given(shapes, shapes, st.booleans())
def test_any_broadcast_equals_the_written_out_call(a, b, parallel):
    try:
        shape = np.broadcast_shapes(tuple(a), tuple(b))
    except ValueError:
        return
    loss = 1.9 + np.arange(np.prod(a, dtype=int)).reshape(a) % 97 * 0.01
    demand = 10.0 ** (6 + np.arange(np.prod(b, dtype=int)).reshape(b) % 13)
    grid = sp.compute_optimal(loss, demand)
    flat = sp.compute_optimal(*written_out(loss, demand))
    assert np.shape(grid.params) == shape
    assert np.array_equal(grid.params, flat.params) and np.array_equal(grid.tokens, flat.tokens)
    laws = _core.loss(
        np.asarray(loss * 1e9), np.asarray(demand), (np.asarray(1.7),) * 5, parallel=parallel
    )
    assert laws.size == int(np.prod(shape))
