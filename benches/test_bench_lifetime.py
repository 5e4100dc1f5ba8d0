"""Speed of the lifetime solver against NumPy, SciPy and the pure-Python reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

import scaleplan as sp
from scaleplan import _core
from scaleplan.testing import reference as ref

N = 1_000_000
LAW = sp.CHINCHILLA
E, A, B, ALPHA, BETA = LAW.coefficients
COEFFS = tuple(np.array([v]) for v in LAW.coefficients)


@pytest.fixture(scope="module")
def scenarios():
    rng = np.random.default_rng(2024)
    loss = E + 10 ** rng.uniform(-3, 0.5, N)
    demand = 10 ** rng.uniform(6, 16, N)
    return loss, demand


def scipy_newton(loss, demand):
    """Eq. 12 in x = ln D, solved by scipy.optimize.newton's vectorised Newton with the
    analytic derivative, from the same guaranteed start the design gives."""
    ln_p = math.log(B * (1 + BETA / ALPHA))
    ln_q = np.log(BETA * B * demand / (3 * ALPHA))
    ln_c = np.log(loss - E)

    def g(x):
        return np.logaddexp(ln_p - BETA * x, ln_q - (BETA + 1) * x) - ln_c

    def gp(x):
        u, v = ln_p - BETA * x, ln_q - (BETA + 1) * x
        return -(BETA + np.exp(v - np.logaddexp(u, v)))

    x0 = np.maximum((ln_p - ln_c) / BETA, (ln_q - ln_c) / (BETA + 1))
    return optimize.newton(g, x0, fprime=gp, tol=1e-12, maxiter=100)


def test_numpy_exp_1m(record, scenarios):
    x = np.log(scenarios[1])
    record("numpy_exp_1m", np.exp, x)


def test_rust_1m(record, scenarios):
    out = record("rust_1m", _core.compute_optimal, *scenarios, COEFFS)
    assert out[3].all()


def test_rust_1m_serial(record, scenarios):
    record("rust_1m_serial", _core.compute_optimal, *scenarios, COEFFS, parallel=False)


def test_facade_1m(record, scenarios):
    r = record("facade_1m", sp.compute_optimal, *scenarios)
    assert r.converged.all()


def test_scipy_newton_vectorised_1m(record, scenarios):
    x = record("scipy_newton_1m", scipy_newton, *scenarios)
    ours = _core.compute_optimal(*scenarios, COEFFS)[1]
    np.testing.assert_allclose(np.exp(x), ours, rtol=1e-9)


def test_facade_scalar(record):
    record("facade_scalar", sp.compute_optimal, 2.0, 1e12)


def test_scipy_brentq_scalar(record):
    c, ln_p = 2.0 - E, math.log(B * (1 + BETA / ALPHA))
    ln_q = math.log(BETA * B * 1e12 / (3 * ALPHA))
    lo = max((ln_p - math.log(c)) / BETA, (ln_q - math.log(c)) / (BETA + 1))

    def g(x):
        u, v = ln_p - BETA * x, ln_q - (BETA + 1) * x
        m = max(u, v)
        return m + math.log(math.exp(u - m) + math.exp(v - m)) - math.log(c)

    x = record("scipy_brentq_scalar", optimize.brentq, g, lo, lo + math.log(2) / BETA, xtol=1e-13)
    assert math.exp(x) == pytest.approx(sp.compute_optimal(2.0, 1e12).tokens, rel=1e-10)


def test_reference_scalar(record):
    record("reference_scalar", ref.lifetime_optimum, LAW.coefficients, 2.0, 1e12)


@pytest.mark.parametrize("method", sp.METHODS)
def test_methods_100k(record, scenarios, method):
    loss, demand = (a[:100_000] for a in scenarios)
    record(f"{method}_100k", _core.compute_optimal, loss, demand, COEFFS, method, 1e-13, 100, "nan")


def test_cost_1m(record, scenarios):
    loss, demand = scenarios
    requests = demand / 285.0
    r = record("cost_1m", sp.cost_optimal, loss, requests)
    assert r.converged.all()


def test_cost_scalar(record):
    record("cost_scalar", sp.cost_optimal, 2.0, 1e12 / 285.0)


def test_best_quality_1m(record, scenarios):
    loss, demand = scenarios
    budget = sp.compute_optimal(loss, demand).total_flops
    r = record("best_quality_1m", sp.best_quality, budget, demand)
    np.testing.assert_allclose(r.loss, loss, rtol=1e-9)
