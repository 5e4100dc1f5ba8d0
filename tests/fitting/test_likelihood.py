"""Epoch's maximum-likelihood estimator: Rust against the pure-Python reference, the
published fit reproduced, the tests of Hoffmann's values, bad input."""

import math

import numpy as np
import pytest
from blas import ONE_THREAD, blas_kernels, outputs_by_kernel
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from inprocess import run_cli

import scaleplan as sp
from scaleplan import _core
from scaleplan.fitting import likelihood as lk
from scaleplan.fitting import likelihood_bootstrap as lkb
from scaleplan.testing import reference_fits as ref

CHINCHILLA = sp.datasets.chinchilla_runs()
# Besiroglu et al. 2024, as printed (E, A, B, alpha, beta), and their fit's logs
# (a, b, e, alpha, beta) from the authors' notebook.
EPOCH_PRINTED = (1.81686, 482.00572, 2085.43420, 0.34781, 0.36585)
EPOCH_LOGS = (6.17795598, 7.64273236, 0.59711196, 0.34781303, 0.36585412)


@pytest.fixture(scope="module")
def fitted() -> lk.LikelihoodFit:
    return lk.fit_likelihood(CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss)


def test_epoch_fit_reproduced_to_every_printed_digit(fitted):
    assert fitted.converged and fitted.n_points == 240
    ours = fitted.law.coefficients
    for want, got, digits in zip(EPOCH_PRINTED, ours, (5, 5, 5, 5, 5), strict=True):
        assert abs(got - want) <= 0.5 * 10.0**-digits, (want, got)
    for want, got in zip(EPOCH_LOGS, fitted.theta[:5], strict=True):
        assert abs(got - want) <= 5e-9, (want, got)
    # Five residuals pinned in the quadratic zone: a least-absolute-deviations vertex.
    assert fitted.pinned == 5
    assert 4e-6 < fitted.scale < 6e-6


def test_the_estimate_does_not_depend_on_the_start(fitted):
    # Epoch started BFGS at Hoffmann et al.'s values; ours starts at the Huber-sum optimum.
    hoffmann = [6.0073404, 6.0179186, 0.5267228, 0.33917084, 0.2849083]
    other = lk.fit_likelihood(CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss, start=hoffmann)
    np.testing.assert_allclose(other.theta, fitted.theta, rtol=1e-9, atol=1e-10)
    # measured: 4.6e-13 absolute
    assert other.log_likelihood == pytest.approx(fitted.log_likelihood, abs=5e-11)


def test_the_estimate_is_a_minimum_of_the_reference_likelihood(fitted):
    p, t, loss = (
        list(map(float, x)) for x in (CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss)
    )
    best, _ = ref.huber_likelihood(tuple(fitted.theta), p, t, loss)
    assert -best == pytest.approx(fitted.log_likelihood, rel=3e-14)  # measured: 2.6e-16
    for k in range(6):
        for step in (-1e-6, 1e-6):
            moved = list(fitted.theta)
            moved[k] += step
            assert ref.huber_likelihood(tuple(moved), p, t, loss)[0] > best


@settings(max_examples=examples(60 / 300), deadline=None)
@given(
    a=st.floats(4.0, 8.0),
    b=st.floats(4.0, 9.0),
    e=st.floats(0.3, 0.8),
    alpha=st.floats(0.2, 0.5),
    beta=st.floats(0.2, 0.5),
    s=st.floats(-14.0, -1.0),
    delta=st.sampled_from([1e-3, 0.1, 1.0]),
    rows=st.lists(st.integers(0, 239), min_size=6, max_size=30),
)
def test_rust_likelihood_matches_the_reference(a, b, e, alpha, beta, s, delta, rows):
    n, d, loss = (x[rows] for x in (CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss))
    runs = _core.FitRuns(n, d, loss)
    theta = np.array([a, b, e, alpha, beta, s])
    f, g, h = runs.likelihood_curvature(theta, delta)
    want_f, want_g = ref.huber_likelihood(tuple(theta), list(n), list(d), list(loss), delta)
    # measured at most (200 examples): f 2.4e-14, g 1.6e-14 relative
    assert f + len(rows) * lk.log_normaliser(delta) == pytest.approx(want_f, rel=2e-12, abs=1e-9)
    np.testing.assert_allclose(g, want_g, rtol=2e-12, atol=1e-9 * max(1.0, np.abs(want_g).max()))
    np.testing.assert_array_equal(h, h.T)


def test_log_normaliser_integrates_the_density():
    from scipy import integrate

    for delta in (1e-3, 0.5, 2.0):
        inner = integrate.quad(lambda x: math.exp(-x * x / 2), -delta, delta)[0]
        tail = integrate.quad(lambda x, d=delta: math.exp(-d * (x - d / 2)), delta, math.inf)
        outer = 2 * tail[0]
        # measured: 2.4e-16 relative
        assert lk.log_normaliser(delta) == pytest.approx(math.log(inner + outer), rel=3e-14)


def test_hoffmann_values_are_rejected_and_the_fit_itself_is_not(fitted):
    boot = lkb.bootstrap_likelihood(
        CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss, n_resamples=60, seed=1
    )
    args = (CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss)
    hoffmann = lkb.test_law(boot, *args)
    assert hoffmann.wald > 100 and hoffmann.wald_p_value < 1e-15
    assert hoffmann.likelihood_ratio > 300 and hoffmann.likelihood_ratio_p_value < 1e-50
    itself = lkb.test_law(boot, *args, law=fitted.law)
    # measured: likelihood ratio 5.5e-12
    assert itself.wald < 1e-6 and itself.likelihood_ratio == pytest.approx(0.0, abs=1e-9)
    assert itself.wald_p_value > 0.99
    # The bootstrap spread: every coefficient varies, failures are few and counted.
    assert boot.n_failed <= 3 and len(boot.thetas) == 60 - boot.n_failed
    assert all(v > 0 for v in boot.standard_errors.values())


def test_bad_input_names_the_argument():
    args = (CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss)
    for bad in (0.0, -1.0, math.inf, math.nan, True, "1e-3"):
        with pytest.raises(ValueError, match="delta"):
            lk.fit_likelihood(*args, delta=bad)
    for start in ([1.0, 2.0], [math.nan] * 5, np.ones((2, 5))):
        with pytest.raises(ValueError, match="start"):
            lk.fit_likelihood(*args, start=start)
    with pytest.raises(ValueError, match="loss"):
        lk.fit_likelihood(CHINCHILLA.params, CHINCHILLA.tokens, -CHINCHILLA.loss)
    with pytest.raises(ValueError, match="n_resamples"):
        lkb.bootstrap_likelihood(*args, n_resamples=1)
    runs = _core.FitRuns(*args)
    with pytest.raises(ValueError, match="theta"):
        runs.likelihood_newton(np.ones(5))


def test_cli_likelihood_fit():
    import json

    out = run_cli(["fit", "--dataset", "chinchilla", "--estimator", "likelihood", "--json"])
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["estimator"] == "likelihood" and data["converged"] is True
    assert round(data["A"], 5) == 482.00572 and data["pinned"] == 5
    bad = run_cli(["fit", "--dataset", "chinchilla", "--estimator", "mle"])
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


_BOOTSTRAP_IN_A_SUBPROCESS = """
import json, scaleplan as sp
from scaleplan.fitting.likelihood_bootstrap import bootstrap_likelihood
r = sp.datasets.chinchilla_runs()
b = bootstrap_likelihood(r.params, r.tokens, r.loss, n_resamples=25, seed=0)
print(json.dumps({"thetas": b.thetas.tolist(), "failed": b.n_failed}))
"""


def test_bootstrap_is_the_same_bits_under_every_blas_kernel():
    # From the unrounded full optimum (whose last bits follow fit_law's L-BFGS-B stage),
    # Prescott's kernel moved 100 resamples' standard errors by 0.4%. Every resample is
    # compared bit for bit, and each starts from that optimum, so a kernel that moves the
    # start moves every resample: 25 resamples (a quarter of the time, five kernels in
    # child processes) test bit-identity as 100 or 4,000 do.
    kernels = blas_kernels()
    if kernels != [None] and ONE_THREAD not in kernels:
        kernels.append("Prescott")  # SSE3 only: every x86-64 CPU with AVX2 runs it
    answers = outputs_by_kernel(_BOOTSTRAP_IN_A_SUBPROCESS, kernels)
    assert len(set(answers.values())) == 1, list(answers)
