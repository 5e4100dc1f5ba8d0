"""The fitting workbench: Epoch's likelihood minimised in Rust against SciPy's BFGS (on the
same Rust objective and on the pure-Python reference), and the Kaplan family's objective
in Rust against its reference."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

import scaleplan as sp
from scaleplan import _core
from scaleplan.fitting import likelihood as lk
from scaleplan.testing import reference_fits as ref

RUNS = sp.datasets.chinchilla_runs()
# Hoffmann et al.'s law with unit scale: where Besiroglu et al. started BFGS.
HOFFMANN = np.array([6.0073404, 6.0179186, 0.5267228, 0.33917084, 0.2849083, 0.0])


@pytest.fixture(scope="module")
def runs():
    return _core.FitRuns(RUNS.params, RUNS.tokens, RUNS.loss)


def test_likelihood_rust(record, runs):
    theta, _, _, ok = record(
        "likelihood_rust", runs.likelihood_newton, HOFFMANN, 1e-3, None, 20_000
    )
    assert ok and round(float(np.exp(theta[0])), 5) == 482.00572


def test_likelihood_scipy_bfgs_rust_objective(record, runs):
    def fun(t):
        f, g, _ = runs.likelihood_curvature(t, 1e-3)
        return f, g

    r = record("likelihood_bfgs_rust", minimize, fun, HOFFMANN, jac=True, method="BFGS")
    assert "precision loss" in r.message


def test_likelihood_scipy_bfgs_reference(record):
    cols = [list(map(float, c)) for c in (RUNS.params, RUNS.tokens, RUNS.loss)]

    def fun(t):
        return ref.huber_likelihood(tuple(t), *cols)

    record("likelihood_bfgs_reference", minimize, fun, HOFFMANN, jac=True, method="BFGS")


KAPLAN = np.array([0.114, 0.83, 29.8, 31.1])


def test_kaplan_objective_rust(record, runs):
    record("kaplan_rust_240", runs.kaplan_objective, KAPLAN, 1e-3)


def test_kaplan_objective_reference(record):
    cols = [list(map(float, c)) for c in (RUNS.params, RUNS.tokens, RUNS.loss)]
    record("kaplan_reference_240", ref.kaplan_objective, tuple(KAPLAN), *cols)


def test_full_likelihood_fit(record):
    # From fit_law's 4,500-start optimum (most of the time), as the facade runs it.
    fit = record("likelihood_facade", lk.fit_likelihood, RUNS.params, RUNS.tokens, RUNS.loss)
    assert fit.converged
