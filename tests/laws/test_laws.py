import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import laws, log_uniform

import scaleplan as sp
from scaleplan.testing import reference as ref


def test_presets_by_name_and_constant():
    assert sp.ScalingLaw.preset("chinchilla") is sp.CHINCHILLA
    assert sp.CHINCHILLA.coefficients == (1.69, 406.4, 410.7, 0.336, 0.283)
    assert sp.CHINCHILLA_ROUNDED.coefficients == (1.69, 406.4, 410.7, 0.34, 0.28)
    assert sp.EPOCH2024.coefficients == (1.81686, 482.00572, 2085.4342, 0.34781, 0.36585)
    assert sp.SARDANA2024_ALL.coefficients == (1.45, 33.66, 138.9, 0.18, 0.24)
    assert set(sp.PRESETS) >= {"sardana2024_le100", "sardana2024_le250", "sardana2024_le500"}
    with pytest.raises(ValueError, match="law must be one of chinchilla, "):
        sp.ScalingLaw.preset("llama")


def test_law_is_immutable_and_validated():
    law = sp.ScalingLaw(1.0, 2.0, 3.0, 0.3, 0.3)
    with pytest.raises(AttributeError):
        law.E = 2.0  # type: ignore[misc]
    for i, name in enumerate(["E", "A", "B", "alpha", "beta"]):
        for bad in [0.0, -1.0, math.nan, math.inf, "x", None]:
            c: list[object] = [1.0, 2.0, 3.0, 0.3, 0.3]
            c[i] = bad
            with pytest.raises(ValueError, match=f"^{name} must be"):
                sp.ScalingLaw(*c)
    arr = sp.ScalingLaw(np.array([1.0, 2.0]), 2.0, 3.0, 0.3, 0.3)
    assert not arr.E.flags.writeable and arr.is_batch
    with pytest.raises(ValueError, match="do not broadcast"):
        sp.ScalingLaw(np.ones(2), np.ones(3), 3.0, 0.3, 0.3)


@given(laws, log_uniform(1e3, 1e13), log_uniform(1e3, 1e15))
def test_loss_matches_reference(law, n, d):
    got = sp.ScalingLaw(*law).loss(n, d)
    assert isinstance(got, float)
    assert got == pytest.approx(ref.loss(law, n, d), rel=1e-13)


def test_loss_broadcasts_and_flags_rows():
    law = sp.CHINCHILLA
    out = law.loss(np.array([[7e9], [70e9]]), np.array([1e11, 1e12, 1e13]))
    assert out.shape == (2, 3)
    assert np.all(np.diff(out, axis=1) < 0) and np.all(np.diff(out, axis=0) < 0)
    with pytest.raises(ValueError, match=r"params must be finite and > 0; got -1.0 at index 1"):
        law.loss([1e9, -1.0], 1e10)
    nan_out = law.loss([1e9, -1.0], 1e10, on_invalid="nan")
    assert math.isnan(nan_out[1]) and math.isfinite(nan_out[0])


@given(laws, log_uniform(1e15, 1e28))
def test_chinchilla_compute_matches_reference(law, flops):
    m = sp.chinchilla_optimal(compute=flops, law=sp.ScalingLaw(*law))
    n, d = ref.chinchilla_for_compute(law, flops)
    # measured: 2.9e-14 relative at most
    assert m.params == pytest.approx(n, rel=3e-12)
    assert m.tokens == pytest.approx(d, rel=3e-12)
    assert m.training_flops == pytest.approx(flops, rel=1e-12)


@given(laws, log_uniform(1e-4, 10.0))
def test_chinchilla_loss_and_params_round_trip(law, gap):
    n_ref, d_ref = ref.chinchilla_for_loss(law, law[0] + gap)
    if not (1e-300 < n_ref < 1e300 and 1e-300 < d_ref < 1e300):
        return
    m = sp.chinchilla_optimal(loss=law[0] + gap, law=sp.ScalingLaw(*law))
    # measured: 5.7e-14 relative at most (ln N and ln D reach ~300: exp amplifies rounding)
    assert m.params == pytest.approx(n_ref, rel=5e-12)
    assert m.tokens == pytest.approx(d_ref, rel=5e-12)
    back = sp.chinchilla_optimal(params=m.params, law=sp.ScalingLaw(*law))
    assert back.tokens == pytest.approx(m.tokens, rel=5e-12)


def test_chinchilla_needs_exactly_one_target():
    with pytest.raises(ValueError, match="exactly one of compute, loss or params; got none"):
        sp.chinchilla_optimal()
    with pytest.raises(ValueError, match="got compute, loss"):
        sp.chinchilla_optimal(compute=1e20, loss=2.0)
    with pytest.raises(ValueError, match="loss must be finite and greater than the law's"):
        sp.chinchilla_optimal(loss=1.5)
    with pytest.raises(ValueError, match="compute must be finite and > 0"):
        sp.chinchilla_optimal(compute=-1.0)


def test_chinchilla_70b_point():
    # Hoffmann et al.: ~5.76e23 FLOPs makes a ~70B model on ~1.4T tokens compute-optimal
    # with their fitted law; the rounded-exponent law lands within a factor of ~1.5.
    m = sp.chinchilla_optimal(compute=5.76e23, law="chinchilla_rounded")
    assert 3e10 < m.params < 1e11 and 1e12 < m.tokens < 3e12


@given(st.lists(log_uniform(1.7, 5.0), min_size=0, max_size=20))
def test_chinchilla_arrays_shape(losses):
    m = sp.chinchilla_optimal(loss=np.array(losses))
    assert m.params.shape == (len(losses),)
    # measured: 8.0e-16 relative at most
    np.testing.assert_allclose(sp.CHINCHILLA.loss(m.params, m.tokens), losses, rtol=1e-13)


def test_a_loss_target_is_echoed_as_given_and_flops_add_up():
    """Mutation testing found two changes no test saw: the reached loss of a loss target
    recomputed through the law (equal only to rounding), and `total_flops` no longer a
    property. A loss target is met exactly as asked; total FLOPs are 6 N D + 2 N D_inf."""
    targets = np.array([1.95, 2.1274, 2.6])
    m = sp.chinchilla_optimal(loss=targets)
    np.testing.assert_array_equal(m.loss, targets)
    one = sp.ChinchillaModel(7e9, 1.4e11, 2.1, 1e12)
    assert one.total_flops == 6 * 7e9 * 1.4e11 + 2 * 7e9 * 1e12
    r = sp.compute_optimal(2.1, 1e12)
    assert r.total_flops == r.training_flops + r.inference_flops


def test_a_laws_equality_is_its_coefficients_and_its_repr_leaves_the_source_out():
    """Mutation gaps (2026-12-07): the name and source taking part in equality, the
    source printed, the first bad value of an array reported from the wrong place, and
    `presets` callable on the class only all survived every test."""
    a = sp.ScalingLaw(1.0, 2.0, 3.0, 0.3, 0.4, name="mine", source="a lab notebook")
    b = sp.ScalingLaw(1.0, 2.0, 3.0, 0.3, 0.4, name="theirs", source="a paper")
    assert a == b and a != sp.ScalingLaw(1.0, 2.0, 3.0, 0.3, 0.5, name="mine")
    assert "lab notebook" not in repr(a) and "scalar_coefficients" not in repr(a)
    with pytest.raises(TypeError):
        sp.ScalingLaw(1.0, 2.0, 3.0, 0.3, 0.4, scalar_coefficients=(1.0,) * 5)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match=r"^E must be .*; got -7\.0$"):
        sp.ScalingLaw(np.array([1.0, -7.0, -9.0, 2.0]), 2.0, 3.0, 0.3, 0.4)
    assert sp.CHINCHILLA.presets() == sp.ScalingLaw.presets() == dict(sp.PRESETS)
    m = sp.chinchilla_optimal(params=7e9)
    assert m.tokens_per_param == m.tokens / 7e9  # a number (a property), not a method


def test_a_compute_optimum_reaches_the_laws_loss_and_small_budgets_keep_their_fraction():
    """Mutation gaps (2026-12-07): the loss of a model sized for a compute budget was
    never compared with the law's, and `params_for_flops` was never tried on a budget
    small enough for its quotient to have a fraction."""
    from scaleplan.laws.flops import params_for_flops

    m = sp.chinchilla_optimal(compute=np.array([5.76e23, 1e21]))
    np.testing.assert_array_equal(m.loss, sp.CHINCHILLA.loss(m.params, m.tokens))
    assert params_for_flops(1e6, 20) == pytest.approx(math.sqrt(1e6 / 120), rel=1e-15)
