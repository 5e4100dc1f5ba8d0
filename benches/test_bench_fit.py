"""Speed of fitting: the 4,500-start grid and a 4,000-resample bootstrap on the 240
Chinchilla runs, against the published NumPy/SciPy procedure run in the same process."""

from __future__ import annotations

import math
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from scipy import optimize
from scipy.special import logsumexp

import scaleplan as sp
from scaleplan.fitting import fit

RUNS = sp.datasets.chinchilla_runs()
SUBSET = fit.chinchilla_grid()[::100]  # 45 starts for the slow baseline


def numpy_objective(theta, ln_n, ln_d, ln_l, delta=1e-3):
    """The published procedure's objective: NumPy log-sum-exp and Huber, with the gradient
    written out in NumPy (the 'exact gradient' variant of Besiroglu et al.)."""
    a, b, e, alpha, beta = theta
    t = np.stack([a - alpha * ln_n, b - beta * ln_d, np.full_like(ln_n, e)])
    lse = logsumexp(t, axis=0)
    r = lse - ln_l
    inside = np.abs(r) <= delta
    f = np.sum(np.where(inside, 0.5 * r * r, delta * (np.abs(r) - 0.5 * delta)))
    psi = np.where(inside, r, delta * np.sign(r))
    w = np.exp(t - lse)
    g = np.array(
        [
            np.sum(psi * w[0]),
            np.sum(psi * w[1]),
            np.sum(psi * w[2]),
            -np.sum(psi * w[0] * ln_n),
            -np.sum(psi * w[1] * ln_d),
        ]
    )
    return f, g


def numpy_fit(starts):
    args = (np.log(RUNS.params), np.log(RUNS.tokens), np.log(RUNS.loss))
    best = math.inf
    for x0 in starts:
        r = optimize.minimize(numpy_objective, x0, args=args, jac=True, method="L-BFGS-B")
        best = min(best, r.fun)
    return best


def test_numpy_scipy_subset(record):
    best = record("numpy_scipy_45_starts", numpy_fit, SUBSET)
    assert best > 0


def test_scaleplan_subset(record):
    r = record(
        "scaleplan_45_starts", sp.fit_law, RUNS.params, RUNS.tokens, RUNS.loss, starts=SUBSET
    )
    assert r.n_starts == 45


def test_full_grid_one_process(benchmark):
    r = benchmark.pedantic(sp.fit_law, (RUNS.params, RUNS.tokens, RUNS.loss), rounds=2)
    assert r.objective == pytest.approx(1.01827e-3, rel=1e-4)


def test_full_grid_two_processes(benchmark):
    with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as ex:
        ex.submit(int).result()  # start the workers outside the timing
        r = benchmark.pedantic(
            sp.fit_law, (RUNS.params, RUNS.tokens, RUNS.loss), {"executor": ex}, rounds=2
        )
    assert r.n_converged == 4500


def test_bootstrap_4000_two_processes(benchmark):
    with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as ex:
        ex.submit(int).result()
        b = benchmark.pedantic(
            sp.bootstrap_law,
            (RUNS.params, RUNS.tokens, RUNS.loss),
            {"n_resamples": 4000, "seed": 0, "executor": ex},
            rounds=1,
        )
    assert b.n_resamples == 4000
