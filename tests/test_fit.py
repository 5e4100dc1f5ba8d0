import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

import scaleplan as sp
from scaleplan import _core, fit
from scaleplan import _reference as ref

CHINCHILLA = sp.datasets.chinchilla_runs()
HOFFMANN = [math.log(406.4), math.log(410.7), math.log(1.69), 0.34, 0.28]


def test_epoch_refit_of_chinchilla():
    # Besiroglu et al. 2024 on the 240 runs: A 477.8, B 2143, E 1.8172, alpha 0.34731,
    # beta 0.36717, objective 1.01827e-3 (DESIGN §1.5).
    r = sp.fit_law(CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss)
    law = r.law
    assert r.n_points == 240 and r.n_starts == 4500
    assert law.A == pytest.approx(477.8, rel=0.005)
    assert law.B == pytest.approx(2143, rel=0.01)
    assert law.E == pytest.approx(1.8172, abs=1e-3)
    assert law.alpha == pytest.approx(0.34731, abs=1e-3)
    assert law.beta == pytest.approx(0.36717, abs=1e-3)
    assert r.objective == pytest.approx(1.01827e-3, rel=1e-4)
    assert r.residuals.shape == (240,)


# Sardana et al. 2024, Table 1: (max tokens/param, alpha, beta, A, B, E), printed rounded.
TABLE_1 = [
    (100, 0.08, 0.13, 7.199, 25.97, 0.17),
    (250, 0.13, 0.16, 14.23, 39.54, 0.98),
    (500, 0.13, 0.16, 17.07, 35.80, 0.95),
    (None, 0.18, 0.24, 33.66, 138.9, 1.45),
]


@pytest.mark.parametrize("limit, alpha, beta, a, b, e", TABLE_1)
def test_table_1_of_sardana_2024(limit, alpha, beta, a, b, e):
    runs = sp.datasets.sardana2024_runs(limit)
    r = sp.fit_law(runs.params, runs.tokens, runs.loss)
    law = r.law
    # Exponents and E are printed to two decimals (+-0.005 of rounding) and the valley is
    # flat along them (see below), so 0.01; A and B get 2% and 1%. Measured worst misses:
    # beta 0.0062 (all runs: 0.2338 vs 0.24), E 0.009, A 1.6%, B 0.5%.
    assert law.alpha == pytest.approx(alpha, abs=0.01)
    assert law.beta == pytest.approx(beta, abs=0.01)
    assert law.E == pytest.approx(e, abs=0.011)
    assert law.A == pytest.approx(a, rel=0.02)
    assert law.B == pytest.approx(b, rel=0.01)
    # How flat: with the exponents held at the printed (rounded) values and A, B, E refit,
    # the objective is within 0.5% of ours (measured: <= 0.1%). The printed five numbers
    # taken together are 1.2-10x worse: their rounding leaves the valley floor.
    data = _core.FitRuns(runs.params, runs.tokens, runs.loss)

    def held(x):
        f, g = data.objective(np.array([*x, alpha, beta]), 1e-3, None)
        return f, g[:3]

    refit = optimize.minimize(
        held, r.theta[:3], jac=True, method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-12}
    )
    assert r.objective * (1 - 1e-9) <= refit.fun < 1.005 * r.objective


def test_mean_objective_stops_early_where_the_sum_converges():
    # From Hoffmann et al.'s published values, with ftol out of the way, L-BFGS-B's gradient
    # test (gtol 1e-5) fires on the MEAN, whose gradient is 240x smaller, long before the
    # optimum; the SUM goes on to Epoch's fit.
    kw = dict(starts=[HOFFMANN], ftol=1e-15)
    runs = (CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss)
    mean = sp.fit_law(*runs, objective="mean", **kw)
    total = sp.fit_law(*runs, objective="sum", **kw)
    assert total.objective == pytest.approx(1.01827e-3, rel=1e-4)
    assert total.law.B == pytest.approx(2143, rel=0.01)
    assert mean.objective > 1.1 * total.objective
    assert mean.law.B < 500  # still next to the start (410.7)


def test_setulb_driver_reproduces_scipy_minimize():
    runs = _core.FitRuns(CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss)
    if not fit._SETULB:
        pytest.skip("this SciPy has no setulb of the expected form; minimize is used")
    from scipy.optimize import _lbfgsb

    def fun(t):
        return runs.objective(t, 1e-3, None)

    for x0 in fit.chinchilla_grid()[::150]:
        a = optimize.minimize(fun, x0, jac=True, method="L-BFGS-B")
        f, x, ok, nfev = fit._run_setulb(_lbfgsb.setulb, fun, x0, fit.SCIPY_TOLERANCES)
        np.testing.assert_array_equal(x, a.x)
        assert f == a.fun and ok == a.success
        # minimize's wrapper does not count a repeated evaluation at the same point.
        assert nfev - a.nfev in (0, 1)


points = st.lists(
    st.tuples(
        st.floats(6, 11).map(lambda x: 10.0**x),
        st.floats(8, 13).map(lambda x: 10.0**x),
        st.floats(1.5, 6.0),
    ),
    min_size=6,
    max_size=40,
)
thetas = st.tuples(
    st.floats(-2, 25), st.floats(-2, 25), st.floats(-1, 1.5), st.floats(0, 2), st.floats(0, 2)
)


@given(points, thetas, st.sampled_from([1e-3, 1e-2, 1.0]))
def test_rust_objective_matches_reference(pts, theta, delta):
    n, d, loss = (list(c) for c in zip(*pts, strict=True))
    got_f, got_g = _core.FitRuns(np.array(n), np.array(d), np.array(loss)).objective(
        np.array(theta), delta, None
    )
    want_f, want_g = ref.huber_lse_objective(theta, n, d, loss, delta)
    assert got_f == pytest.approx(want_f, rel=1e-11, abs=1e-300)
    np.testing.assert_allclose(got_g, want_g, rtol=1e-10, atol=1e-12 * max(1.0, abs(want_f)))


@given(points, thetas)
@settings(max_examples=100)
def test_gradient_matches_finite_differences(pts, theta):
    n, d, loss = (np.array(c) for c in zip(*pts, strict=True))
    runs = _core.FitRuns(n, d, loss)
    x = np.array(theta)
    f0, g = runs.objective(x, 1.0, None)  # delta 1: smooth everywhere that matters
    fd = optimize.approx_fprime(x, lambda t: runs.objective(t, 1.0, None)[0], 1e-7)
    np.testing.assert_allclose(g, fd, rtol=1e-4, atol=1e-5 * (1 + abs(f0)))


@given(
    st.floats(1.0, 3.0),
    st.floats(100, 2000),
    st.floats(100, 2000),
    st.floats(0.25, 0.6),
    st.floats(0.25, 0.6),
)
@settings(max_examples=15, deadline=None)
def test_noiseless_points_recover_the_law(e, a, b, alpha, beta):
    # A design where both power terms move the loss (N and D over five decades from small
    # sizes); ftol far below SciPy's default because a noiseless fit drives the objective
    # toward 0 and SciPy's test is relative to max(|f|, 1).
    truth = sp.ScalingLaw(e, a, b, alpha, beta)
    n, d = np.meshgrid(np.logspace(5, 10, 7), np.logspace(6, 11, 7))
    loss = truth.loss(n.ravel(), d.ravel())
    start = [math.log(a) + 0.5, math.log(b) - 0.5, math.log(e) + 0.1, alpha + 0.05, beta - 0.05]
    r = sp.fit_law(n.ravel(), d.ravel(), loss, starts=[start], ftol=1e-22, gtol=1e-14)
    for got, want in zip(r.law.coefficients, truth.coefficients, strict=True):
        assert got == pytest.approx(want, rel=1e-6)


def test_tables_and_executors():
    table = {"N": CHINCHILLA.params, "D": CHINCHILLA.tokens, "L": CHINCHILLA.loss}
    starts = fit.chinchilla_grid()[::90]
    a = sp.fit_law(table, params_col="N", tokens_col="D", loss_col="L", starts=starts)
    with ThreadPoolExecutor(2) as ex:
        b = sp.fit_law(
            CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss, starts=starts, executor=ex
        )
    np.testing.assert_array_equal(a.theta, b.theta)
    assert a.n_converged == b.n_converged
    with pytest.raises(ValueError, match="column 'L' not found"):
        sp.fit_law({"N": [1.0], "D": [1.0]}, params_col="N", tokens_col="D", loss_col="L")


@pytest.mark.parametrize(
    "args, message",
    [
        (([1e9] * 6, [1e10] * 6, [2.0] * 5), "must have one length"),
        (([1e9] * 5, [1e10] * 5, [2.0] * 5), "need more than 5 runs"),
        (
            ([1e9] * 5 + [-1.0], [1e10] * 6, [2.0] * 6),
            "params must be finite and > 0; got -1.0 at index 5",
        ),
        (
            ([1e9] * 6, [1e10] * 5 + [math.nan], [2.0] * 6),
            "tokens must be finite and > 0; got NaN at index 5",
        ),
        (
            ([1e9] * 6, [1e10] * 6, [2.0] * 5 + [0.0]),
            "loss must be finite and > 0; got 0.0 at index 5",
        ),
        (([1e9] * 6, None, None), "give params, tokens and loss"),
        (([1e9] * 6, [1e10] * 6, None), "give all three"),
    ],
)
def test_bad_runs(args, message):
    with pytest.raises(ValueError, match=message):
        sp.fit_law(*args)


def test_bad_options():
    runs = (CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss)
    with pytest.raises(ValueError, match="starts must be"):
        sp.fit_law(*runs, starts=[[1.0, 2.0]])
    with pytest.raises(ValueError, match="starts must be 'chinchilla'"):
        sp.fit_law(*runs, starts="grid")
    with pytest.raises(ValueError, match="delta must be"):
        sp.fit_law(*runs, delta=0.0)
    with pytest.raises(ValueError, match="objective must be"):
        sp.fit_law(*runs, objective="median")


def test_no_converged_start_is_an_error_not_a_guess():
    # A start so far out that every exponential overflows: L-BFGS-B cannot even begin.
    with pytest.raises(sp.FitError, match="none of 1 L-BFGS-B starts converged"):
        sp.fit_law(
            CHINCHILLA.params,
            CHINCHILLA.tokens,
            CHINCHILLA.loss,
            starts=[[1e308, 1e308, 1e308, -1e308, -1e308]],
        )


def test_bootstrap_is_seeded_and_carries_forward():
    runs = (CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss)
    kw = dict(n_resamples=40, seed=7, starts=fit.chinchilla_grid()[::45])
    a = sp.bootstrap_law(*runs, **kw)
    with ThreadPoolExecutor(2) as ex:
        b = sp.bootstrap_law(*runs, executor=ex, **kw)
    np.testing.assert_array_equal(a.laws.A, b.laws.A)
    assert a.intervals == b.intervals and a.laws.A.shape == (40 - a.n_failed,)
    lo, hi = a.intervals["alpha"]
    assert lo < a.fit.law.alpha < hi
    # Not the collapsed intervals of an early-stopped refit (A +- 0.06): see fit.py.
    assert a.standard_errors["A"] > 10
    plans = sp.compute_optimal(2.0, 1e12, law=a.laws)
    assert plans.params.shape == a.laws.A.shape and np.all(plans.converged)
    with pytest.raises(ValueError, match="n_resamples must be"):
        sp.bootstrap_law(*runs, n_resamples=1)


def test_fit_law_takes_runs_and_refuses_to_return_an_invalid_law():
    runs = sp.datasets.chinchilla_runs()
    starts = fit.chinchilla_grid()[::300]
    assert np.array_equal(
        sp.fit_law(runs, starts=starts).theta,
        sp.fit_law(runs.params, runs.tokens, runs.loss, starts=starts).theta,
    )
    # Loss that grows with scale: the best Huber fit has negative exponents.
    n = np.logspace(7, 10, 12)
    with pytest.raises(sp.FitError, match="not a valid scaling law"):
        sp.fit_law(n, 20 * n, 2.0 + 0.1 * np.log10(n), starts=starts)
