"""The likelihood bootstrap's bookkeeping and test_law's statistics, pinned against
independent derivations: the summary of the resamples, the progress counts, the smallest
n_resamples, the 8-decimal start, the chi-squared tails with 5 degrees of freedom, the
likelihood ratio against the pure-Python reference, and the Wald test's refusals."""

import dataclasses
import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

import scaleplan as sp
from scaleplan import _core
from scaleplan.errors import ScaleplanError
from scaleplan.fitting import likelihood_bootstrap as lkb
from scaleplan.fitting.bootstrap import resample_counts
from scaleplan.fitting.likelihood import MAX_ITER
from scaleplan.testing import reference_fits as ref

# Every sixth Chinchilla run: 40 runs keep the full fit short; the statistics need no more.
_ALL = sp.datasets.chinchilla_runs()
RUNS = tuple(
    np.ascontiguousarray(np.asarray(x, dtype=float)[::6])
    for x in (_ALL.params, _ALL.tokens, _ALL.loss)
)
SEED = 3


@pytest.fixture(scope="module")
def smallest():
    """The smallest bootstrap allowed (2 resamples), with every progress call recorded."""
    calls = []
    boot = lkb.bootstrap_likelihood(
        *RUNS, n_resamples=2, seed=SEED, progress=lambda done, total: calls.append((done, total))
    )
    return boot, calls


def _sf5(x):
    # Upper tail of chi-squared with 5 degrees of freedom, by parts from the normal tail:
    # Q(x; 5) = erfc(sqrt(x/2)) + sqrt(2/pi) exp(-x/2) (x^(1/2) + x^(3/2)/3).
    return math.erfc(math.sqrt(x / 2)) + math.sqrt(2 / math.pi) * math.exp(-x / 2) * (
        math.sqrt(x) + x**1.5 / 3
    )


def test_two_resamples_are_allowed_and_progress_counts_each_one(smallest):
    boot, calls = smallest
    # The documented floor is 2; the progress callback sees finished counts 1..total.
    assert boot.n_resamples == 2
    assert calls == [(1, 2), (2, 2)]
    with pytest.raises(ScaleplanError, match="n_resamples"):
        lkb.bootstrap_likelihood(*RUNS, n_resamples=1, seed=SEED)


def test_failures_are_the_resamples_not_kept(smallest):
    boot, _ = smallest
    # Both resamples of this seed converge (a deterministic Rust path from a rounded start).
    assert boot.thetas.shape == (2, 6)
    assert boot.n_failed == 0


def test_each_resample_starts_at_the_full_fit_rounded_to_8_decimals(smallest):
    # The rounding is what makes the bootstrap the same bits under every BLAS kernel
    # (test_likelihood.py); a 9-decimal start moves these resamples by about 4e-9.
    boot, _ = smallest
    runs = _core.FitRuns(*RUNS)
    start = np.round(boot.fit.theta, 8)
    for got, counts in zip(boot.thetas, resample_counts(len(RUNS[0]), 2, SEED), strict=True):
        want, _, _, ok = runs.likelihood_newton(start, boot.fit.delta, counts, MAX_ITER)
        assert ok
        np.testing.assert_array_equal(got, want)


def test_summary_is_the_sample_spread_of_the_coefficients(smallest):
    boot, _ = smallest
    a, b, e, alpha, beta = (boot.thetas[:, j] for j in range(5))
    coefficients = {"E": np.exp(e), "A": np.exp(a), "B": np.exp(b), "alpha": alpha, "beta": beta}
    for name, v in coefficients.items():
        lo, hi = v
        # Two values: the sample standard deviation (n - 1 in the denominator) is
        # |hi - lo| / sqrt(2); the 2.5th and 97.5th percentiles interpolate linearly
        # between the sorted pair.
        assert hi != lo
        assert boot.standard_errors[name] == pytest.approx(abs(hi - lo) / math.sqrt(2), rel=1e-12)
        small, large = min(lo, hi), max(lo, hi)
        want = (small + 0.025 * (large - small), small + 0.975 * (large - small))
        # measured: 0 to 2e-16 relative (interpolation rounding)
        assert boot.intervals[name] == pytest.approx(want, rel=1e-12)


def _spread_around(boot, rows, widths, seed=0):
    """Synthetic resample estimates: the fit's theta plus independent normal noise."""
    rng = np.random.default_rng(seed)
    return boot.fit.theta + rng.standard_normal((rows, 6)) * widths


def test_p_values_are_chi_squared_tails_with_5_degrees_of_freedom(smallest):
    boot, _ = smallest
    law = sp.CHINCHILLA_ROUNDED
    e, a, b, alpha, beta = law.coefficients
    diff = np.array([math.log(a), math.log(b), math.log(e), alpha, beta]) - boot.fit.theta[:5]
    # A spread as wide as the distance to the law puts the Wald statistic near 5, where
    # the tails of 4 and 5 degrees of freedom differ by a third.
    widths = np.append(np.abs(diff), 1.0)
    fake = dataclasses.replace(boot, thetas=_spread_around(boot, 40, widths))
    result = lkb.test_law(fake, *RUNS, law=law)
    cov = np.cov(fake.thetas[:, :5].T)
    wald = float(diff @ np.linalg.inv(cov) @ diff)
    assert 0.5 < wald < 50
    assert result.wald == pytest.approx(wald, rel=1e-9)  # measured: 1e-15
    assert result.wald_p_value == pytest.approx(_sf5(result.wald), rel=1e-9)
    assert result.likelihood_ratio > 10
    # measured: 1e-16 relative (erfc against scipy's incomplete gamma)
    assert result.likelihood_ratio_p_value == pytest.approx(
        _sf5(result.likelihood_ratio), rel=1e-9, abs=1e-300
    )


# The published law, and one far from the runs: its likelihood at its best scale is
# negative (about -16) where the fit's is +145, so the ratio's sign and size both count.
FAR = sp.ScalingLaw(E=2.5, A=406.4, B=410.7, alpha=0.34, beta=0.28)


@pytest.mark.parametrize("law", [sp.CHINCHILLA_ROUNDED, FAR], ids=["published", "far"])
def test_likelihood_ratio_is_twice_the_gain_over_the_law_at_its_best_scale(smallest, law):
    boot, _ = smallest
    e, a, b, alpha, beta = law.coefficients
    theta0 = (math.log(a), math.log(b), math.log(e), alpha, beta)
    lists = [list(map(float, x)) for x in RUNS]

    def nll(s):
        return ref.huber_likelihood((*theta0, s), *lists, boot.fit.delta)[0]

    best = minimize_scalar(nll, bounds=(-30.0, 5.0), method="bounded", options={"xatol": 1e-10})
    ll0 = -best.fun
    want = 2.0 * (boot.fit.log_likelihood - ll0)
    fake = dataclasses.replace(boot, thetas=_spread_around(boot, 40, 0.1))
    result = lkb.test_law(fake, *RUNS, law=law)
    assert want > 10
    # measured: 3e-14 relative (the scale found by Brent to 1e-10, where the slope is 0)
    assert result.likelihood_ratio == pytest.approx(want, rel=1e-9)


def test_wald_refuses_exactly_as_many_resamples_as_parameters(smallest):
    boot, _ = smallest
    # Five estimates of five parameters: their covariance has rank at most 4. The error
    # names the count rather than the symptom.
    # The bootstrap itself, 2 resamples: fewer than 5 is refused by the same count.
    with pytest.raises(ScaleplanError, match="2 successful resamples.*needs more than 5"):
        lkb.test_law(boot, *RUNS)
    fake = dataclasses.replace(boot, thetas=_spread_around(boot, 5, 0.1))
    with pytest.raises(ScaleplanError, match="5 successful resamples.*needs more than 5"):
        lkb.test_law(fake, *RUNS)
    six = dataclasses.replace(boot, thetas=_spread_around(boot, 6, 0.1))
    assert lkb.test_law(six, *RUNS).wald > 0


def test_wald_refuses_a_parameter_that_varies_only_in_its_last_bits(smallest):
    boot, _ = smallest
    # beta moves by 1e-13 while the rest move by 0.1: the covariance is invertible in
    # floating point (a finite, positive Wald statistic) but numerically of rank 4
    # (its smallest singular value, ~1e-26, is under 5 eps times the largest, ~1e-2).
    widths = np.array([0.1, 0.1, 0.1, 0.1, 1e-13, 0.1])
    fake = dataclasses.replace(boot, thetas=_spread_around(boot, 40, widths))
    assert np.linalg.matrix_rank(np.cov(fake.thetas[:, :5].T)) == 4
    with pytest.raises(ScaleplanError, match="do not vary"):
        lkb.test_law(fake, *RUNS)


def test_wald_refuses_a_parameter_that_never_varies(smallest):
    boot, _ = smallest
    # beta identical in every resample: the covariance is exactly singular (solve raises
    # LinAlgError), which is the same refusal, not NumPy's exception.
    thetas = _spread_around(boot, 40, 0.1)
    thetas[:, 4] = boot.fit.theta[4]
    with pytest.raises(ScaleplanError, match="do not vary"):
        lkb.test_law(dataclasses.replace(boot, thetas=thetas), *RUNS)


class _Failing:
    """`_core` with FitRuns whose likelihood_newton reports the listed calls unconverged."""

    def __init__(self, fail):
        self.fail, self.calls = set(fail), 0

    def FitRuns(self, *columns):  # stands in for the class
        runs, outer = _core.FitRuns(*columns), self

        class Runs:
            def likelihood_newton(self, *args):
                theta, f, it, ok = runs.likelihood_newton(*args)
                outer.calls += 1
                return theta, f, it, ok and outer.calls not in outer.fail

        return Runs()


def test_resamples_that_fail_are_counted_and_left_out(monkeypatch):
    # Four resamples, the 2nd and 4th unconverged: n_failed counts them (more than half
    # failing, so that n - kept and n mod kept differ) and the summary is of the others.
    full = lkb.bootstrap_likelihood(*RUNS, n_resamples=4, seed=SEED)
    monkeypatch.setattr(lkb, "_core", _Failing({2, 4}))
    boot = lkb.bootstrap_likelihood(*RUNS, n_resamples=4, seed=SEED)
    assert (boot.n_resamples, boot.n_failed) == (4, 2)
    np.testing.assert_array_equal(boot.thetas, full.thetas[[0, 2]])


def test_one_converged_resample_is_a_fit_error(monkeypatch):
    # One estimate has no spread: the standard errors would be NaN (with warnings).
    monkeypatch.setattr(lkb, "_core", _Failing({1, 3}))
    with pytest.raises(sp.FitError, match="1 of 3 resamples converged.*at least 2"):
        lkb.bootstrap_likelihood(*RUNS, n_resamples=3, seed=SEED)
    monkeypatch.setattr(lkb, "_core", _Failing({1, 2, 3}))
    with pytest.raises(sp.FitError, match="no resample converged"):
        lkb.bootstrap_likelihood(*RUNS, n_resamples=3, seed=SEED)


def test_pytest_does_not_collect_test_law():
    # Test modules import test_law by name (tests/contracts); pytest would collect it as a
    # test and fail for want of a `boot` fixture.
    assert lkb.test_law.__test__ is False
