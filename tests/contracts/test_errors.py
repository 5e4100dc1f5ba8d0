"""Bad input: a ValueError naming the argument, or NaN rows with on_invalid="nan";
never a PanicException, never a hang."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scaleplan as sp

BAD_LOSS = [1.69, 1.5, 0.0, -3.0, math.nan, math.inf, -math.inf]
BAD_DEMAND = [-1.0, -1e-300, math.nan, math.inf, -math.inf]


@pytest.mark.parametrize("loss", BAD_LOSS)
def test_bad_loss(loss):
    with pytest.raises(ValueError, match="^loss must be finite and greater than the law's"):
        sp.compute_optimal(loss, 1e12)
    with pytest.raises(ValueError, match="^loss must be .* at index 1$"):
        sp.compute_optimal(np.array([2.0, loss]), 1e12)


@pytest.mark.parametrize("demand", BAD_DEMAND)
def test_bad_demand(demand):
    with pytest.raises(ValueError, match="^inference_tokens must be finite and >= 0"):
        sp.compute_optimal(2.0, demand)
    with pytest.raises(ValueError, match="^inference_tokens must be .* at index 0$"):
        sp.compute_optimal(2.0, np.array([demand, 1.0]))


@pytest.mark.parametrize("value", ["2.0", b"2", None, [1, "a"], 1 + 2j, np.array([1j]), True])
def test_non_numbers_are_named(value):
    with pytest.raises(ValueError, match="^loss must be a real number"):
        sp.compute_optimal(value, 1e12)
    with pytest.raises(ValueError, match="^inference_tokens must be a real number"):
        sp.compute_optimal(2.0, value)


def test_bad_options():
    with pytest.raises(ValueError, match="^method must be one of newton, halley, bisect"):
        sp.compute_optimal(2.0, 1e12, method="magic")
    with pytest.raises(ValueError, match="^on_invalid must be one of raise, nan"):
        sp.compute_optimal(2.0, 1e12, on_invalid="ignore")
    for tol in [0.0, -1.0, 1.0, math.nan, "1e-9"]:
        with pytest.raises(ValueError, match="^tol must be"):
            sp.compute_optimal(2.0, 1e12, tol=tol)
    for max_iter in [0, -1, 1.5, True, 10**9]:
        with pytest.raises(ValueError, match="^max_iter must be"):
            sp.compute_optimal(2.0, 1e12, max_iter=max_iter)
    with pytest.raises(ValueError, match="^law must be one of"):
        sp.compute_optimal(2.0, 1e12, law="gpt")
    with pytest.raises(ValueError, match="^law must be a ScalingLaw"):
        sp.compute_optimal(2.0, 1e12, law=3)


def test_mismatched_shapes():
    with pytest.raises(ValueError, match=r"shapes do not broadcast together: loss \(2,\), "):
        sp.compute_optimal(np.ones(2) * 2, np.ones(3))
    law = sp.ScalingLaw(np.array([1.69, 1.7, 1.71]), 406.4, 410.7, 0.336, 0.283)
    with pytest.raises(ValueError, match="shapes do not broadcast"):
        sp.compute_optimal(np.ones(2) * 2, 1.0, law=law)


def test_nan_mode_keeps_good_rows():
    loss = np.array([2.0, 1.0, math.nan, 2.0, 2.1])
    demand = np.array([1e12, 1e12, 1e12, -5.0, 1e11])
    r = sp.compute_optimal(loss, demand, on_invalid="nan")
    np.testing.assert_array_equal(r.converged, [True, False, False, False, True])
    assert np.isnan(r.params[1:4]).all() and np.isnan(r.tokens[1:4]).all()
    assert r.params[0] == sp.compute_optimal(2.0, 1e12).params
    assert r.params[4] == sp.compute_optimal(2.1, 1e11).params
    assert (r.iterations[1:4] == 0).all()
    # A scalar in nan mode gives NaN floats rather than raising.
    s = sp.compute_optimal(1.0, 1e12, on_invalid="nan")
    assert math.isnan(s.params) and s.converged is False


def test_bad_law_rows_in_a_batch_law():
    law = sp.ScalingLaw(np.array([1.69, 1.69]), 406.4, 410.7, 0.336, 0.283)
    r = sp.compute_optimal(np.array([2.0, 1.6]), 1e12, law=law, on_invalid="nan")
    assert r.converged.tolist() == [True, False]


def test_out_of_range_results_are_errors_not_inf():
    law = sp.ScalingLaw(1.0, 400.0, 400.0, 0.3, 0.01)
    with pytest.raises(ValueError, match="outside the float64 range"):
        sp.compute_optimal(1.0 + 1e-6, 1e12, law=law)
    r = sp.compute_optimal(np.array([1.0 + 1e-6, 3.0]), 1e12, law=law, on_invalid="nan")
    assert r.converged.tolist() == [False, True]


any_float = st.floats(allow_nan=True, allow_infinity=True)


@given(any_float, any_float, st.lists(any_float, min_size=5, max_size=5))
def test_fuzz_never_panics(loss, demand, coeffs):
    """Arbitrary floats either solve to finite numbers or raise ValueError."""
    try:
        law = sp.ScalingLaw(*coeffs)
    except ValueError:
        law = sp.CHINCHILLA
    for method in sp.METHODS:
        try:
            r = sp.compute_optimal(loss, demand, law=law, method=method)
        except ValueError:
            continue
        assert math.isfinite(r.params) and r.params > 0
        assert math.isfinite(r.tokens) and r.tokens > 0
    batch = sp.compute_optimal(np.array([loss, 2.0]), demand, law=law, on_invalid="nan")
    assert batch.params.shape == (2,)
    assert np.isfinite(batch.params[batch.converged]).all()


@given(st.lists(any_float, min_size=0, max_size=40), any_float)
def test_fuzz_batches(losses, demand):
    r = sp.compute_optimal(np.array(losses, dtype=float), demand, on_invalid="nan")
    ok = np.asarray(r.converged)
    assert np.isfinite(r.params[ok]).all() and np.isnan(r.params[~ok]).all()
    try:
        sp.chinchilla_optimal(loss=np.array(losses, dtype=float))
    except ValueError:
        pass


@given(any_float, any_float, any_float, any_float, any_float)
def test_fuzz_costs_and_budgets_never_panic(loss, requests, inp, out, budget):
    """Arbitrary floats through the dollar and budget entry points: finite answers or
    ValueError, never PanicException."""
    for call in (
        lambda: sp.cost_optimal(loss, requests, inp, out),
        lambda: sp.best_quality(budget, requests),
        lambda: sp.best_quality(
            dollar_budget=budget, requests=requests, input_tokens=inp, output_tokens=out
        ),
        lambda: sp.lifetime_cost(loss, budget, requests, inp, out),
    ):
        try:
            call()
        except ValueError:
            pass
    r = sp.cost_optimal(np.array([loss, 2.0]), requests, inp, out, on_invalid="nan")
    assert np.isfinite(r.params[r.converged]).all()
    b = sp.best_quality(np.array([budget, 1e20]), 1e9, on_invalid="nan")
    assert np.isfinite(b.loss[1])


def test_unaligned_and_byte_swapped_arrays_are_read_not_refused():
    # np.frombuffer at an odd offset, or arrays shipped between Dask processes, can be
    # unaligned; the kernels must copy them rather than call them non-contiguous.
    values = np.linspace(1.9, 3.0, 10)
    unaligned = np.frombuffer(b"\0" + values.tobytes(), dtype=np.float64, offset=1)
    swapped = values.astype(">f8")
    assert not unaligned.flags.aligned
    want = sp.compute_optimal(values, 1e12).params
    for x in (unaligned, swapped):
        assert np.array_equal(sp.compute_optimal(x, 1e12).params, want)
        assert np.array_equal(
            sp.compute_optimal(2.0, x * 1e12).params, sp.compute_optimal(2.0, values * 1e12).params
        )
        assert np.array_equal(
            sp.chinchilla_optimal(loss=x).params, sp.chinchilla_optimal(loss=values).params
        )
