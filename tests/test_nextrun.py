"""The next run to train: the Sherman-Morrison ranking against direct recomputation, and
the rule against random affordable runs in simulation."""

import json
import subprocess

import numpy as np
import pytest

import scaleplan as sp
from scaleplan import nextrun
from scaleplan.nextrun_simulation import simulate_next_run

CHINCHILLA = sp.datasets.chinchilla_runs()
TARGET = float(sp.chinchilla_optimal(params=7e9, law=sp.EPOCH2024).loss)


@pytest.fixture(scope="module")
def ranked():
    return nextrun.next_run(
        CHINCHILLA, flops=1e21, target_loss=TARGET, inference_tokens=2e12, count=9
    )


def test_ranking_equals_refitting_the_information_with_the_run_added(ranked):
    theta = ranked.theta
    n, d, loss = CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss
    r = sp._core.FitRuns(n, d, loss).residuals(theta)
    s2 = np.sum(r * r) / (len(r) - 5)
    u = nextrun.residual_gradients(theta, n, d)
    g = np.array(nextrun._gradient(theta, TARGET, 2e12))
    for cand_n, cand_d, sd in zip(ranked.params, ranked.tokens, ranked.sd_after, strict=True):
        uc = nextrun.residual_gradients(theta, np.array([cand_n]), np.array([cand_d]))
        info = (u.T @ u + uc.T @ uc) / s2
        direct = float(np.sqrt(g @ np.linalg.solve(info, g)))
        assert sd == pytest.approx(direct, rel=1e-8)
    assert np.all(np.diff(ranked.sd_after) >= 0) and ranked.sd_after[0] < ranked.sd_now
    # Every candidate costs the budget.
    np.testing.assert_allclose(6 * ranked.params * ranked.tokens, 1e21, rtol=1e-12)


def test_gradient_is_the_derivative_of_the_optimum(ranked):
    theta = ranked.theta
    g = nextrun._gradient(theta, TARGET, 2e12)
    for k in range(5):
        step = np.zeros(5)
        step[k] = 1e-4
        q = nextrun.log_optimum(np.vstack([theta + step, theta - step]), TARGET, 2e12)
        assert g[k] == pytest.approx((q[0] - q[1]) / 2e-4, rel=1e-4, abs=1e-6)


def test_the_rule_beats_random_affordable_runs_in_simulation():
    # README "The next run to train": 200 trials give widths 1.59 (rule) vs 1.79 (random).
    s = simulate_next_run(trials=100, n_resamples=100, seed=3)
    assert len(s.rule) >= 95
    assert np.mean(s.rule) < np.mean(s.random) - 0.05
    assert s.rule_wins > 0.55
    assert np.mean(s.rule) < np.mean(s.before)


def test_bad_input():
    args = (CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss)
    for kw, name in (
        (dict(flops=0.0, target_loss=TARGET, inference_tokens=1e12), "flops"),
        (dict(flops=1e21, target_loss=float("nan"), inference_tokens=1e12), "target_loss"),
        (dict(flops=1e21, target_loss=TARGET, inference_tokens=-1.0), "inference_tokens"),
        (dict(flops=1e21, target_loss=1.0, inference_tokens=1e12), "loss"),
    ):
        with pytest.raises(ValueError, match=name):
            nextrun.next_run(*args, **kw)


def test_cli():
    out = subprocess.run(
        ["scaleplan", "next-run", "--dataset", "chinchilla", "--flops", "1e21", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout)
    assert len(data["candidates"]) == 41 and data["candidates"][0]["sd_after"] < data["sd_now"]
    bad = subprocess.run(
        ["scaleplan", "next-run", "--dataset", "chinchilla"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "--flops" in bad.stderr
