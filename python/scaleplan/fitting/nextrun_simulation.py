"""Checking the next-run rule by simulation on a known law.

Each trial draws a small design of runs (four budgets, five sizes each) from `truth` with
Gaussian noise on the log-loss, fits it (Newton on the Huber objective, from the true
law's coefficients: the trial is about the rule, not about finding the basin), then adds
one more run of `flops` FLOPs two ways: the rule's best candidate and a candidate drawn
uniformly from the same affordable set. Each arm's run gets its own noise, the arm is
refitted, and the bootstrap interval (2.5-97.5%) of `ln N*` over `n_resamples` resamples
is measured. Everything is drawn from `seed`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .. import _core
from .._utils.frames import Tabular
from ..laws.closed_form import chinchilla_optimal
from ..laws.flops import params_for_flops, tokens_for_flops
from ..laws.scaling import EPOCH2024, ScalingLaw
from .fit import DEFAULT_DELTA
from .nextrun import candidates, log_optimum, rank_runs

__all__ = ["Simulation", "simulate_next_run"]

_NEWTON_ITER = 2000


@dataclass(frozen=True, repr=False)
class Simulation(Tabular):
    """What `simulate_next_run` measured: per trial, the width of the 95% bootstrap interval
    of `ln N*` before the extra run, after the rule's run and after a random affordable run.

    Trials whose fits failed are dropped. Widths are in `ln N*` (nepers: 0.1 is about
    10% in N*).

    Parameters
    ----------
    before, rule, random : numpy.ndarray
        Shape (trials,) each: the interval widths before, with the rule's run, with a
        random run.

    Examples
    --------
    >>> sim = simulate_next_run(trials=4, n_resamples=30, seed=1)
    >>> len(sim.before), sim.rule_wins
    (4, 0.75)
    """

    _OUTPUTS = ("before", "rule", "random")

    before: NDArray[np.float64]
    rule: NDArray[np.float64]
    random: NDArray[np.float64]

    @property
    def rule_wins(self) -> float:
        """Share of trials where the rule's run left the narrower interval."""
        return float(np.mean(self.rule < self.random))


def _design() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    n, d = [], []
    for c in (1e18, 1e19, 1e20, 1e21):
        for ratio in (5.0, 10.0, 20.0, 40.0, 80.0):
            size = params_for_flops(c, ratio)
            n.append(size)
            d.append(tokens_for_flops(c, size))
    return np.array(n), np.array(d)


def _theta(law: ScalingLaw) -> NDArray[np.float64]:
    return np.array([np.log(law.A), np.log(law.B), np.log(law.E), law.alpha, law.beta])


def _fit(n: NDArray, d: NDArray, loss: NDArray, start: NDArray) -> NDArray | None:
    runs = _core.FitRuns(n, d, loss)
    theta, _, _, ok = runs.newton(start, DEFAULT_DELTA, None, _NEWTON_ITER)
    return theta if ok else None


def _width(
    n: NDArray,
    d: NDArray,
    loss: NDArray,
    theta: NDArray,
    target: float,
    demand: float,
    n_resamples: int,
    rng: np.random.Generator,
) -> float:
    """Width of the bootstrap interval of ln N*, each resample refitted by Newton."""
    runs = _core.FitRuns(n, d, loss)
    counts = rng.multinomial(len(n), np.full(len(n), 1.0 / len(n)), size=n_resamples)
    thetas = []
    for c in counts.astype(float):
        t, _, _, ok = runs.newton(theta, DEFAULT_DELTA, c, _NEWTON_ITER)
        if ok:
            thetas.append(t)
    q = log_optimum(np.array(thetas), target, demand)
    q = q[np.isfinite(q)]
    lo, hi = np.percentile(q, [2.5, 97.5])
    return float(hi - lo)


def simulate_next_run(
    truth: ScalingLaw = EPOCH2024,
    *,
    trials: int = 30,
    noise: float = 0.01,
    flops: float = 1e21,
    inference_tokens: float = 2e12,
    n_resamples: int = 100,
    seed: int = 0,
) -> Simulation:
    """Check `next_run`'s rule by simulation: trials of its run against a random affordable
    run, on runs drawn from a known law.

    Each trial draws 20 runs (budgets 1e18 to 1e21 FLOPs, 5 to 80 tokens per parameter)
    from `truth` with `ln L` noise of standard deviation `noise`, fits them, and measures
    the 95% bootstrap interval of `ln N*` before and after adding the rule's best run or a
    random candidate of `flops` FLOPs (the module's docstring). The target loss is that of
    a Chinchilla-optimal 7B model under `truth`.

    Parameters
    ----------
    truth : ScalingLaw, optional
        The law the runs are drawn from (default `EPOCH2024`).
    trials : int, optional
        Designs drawn (default 30).
    noise : float, optional
        Standard deviation of the noise on `ln L` (default 0.01, about 1% in loss).
    flops : float, optional
        The extra run's budget, in FLOPs (default 1e21).
    inference_tokens : float, optional
        The plan's lifetime inference demand, in tokens (default 2e12).
    n_resamples : int, optional
        Bootstrap resamples per interval (default 100).
    seed : int, optional
        Seeds every draw (default 0).

    Returns
    -------
    Simulation
        Interval widths per trial; `rule_wins` the share where the rule's run was better.

    Examples
    --------
    A few trials with few resamples (a fraction of a second):

    >>> sim = simulate_next_run(trials=4, n_resamples=30, seed=1)
    >>> print(f"rule narrower in {sim.rule_wins:.0%} of {len(sim.rule)} trials; "
    ...       f"mean width {sim.before.mean():.2f} -> {sim.rule.mean():.2f} (rule), "
    ...       f"{sim.random.mean():.2f} (random)")
    rule narrower in 75% of 4 trials; mean width 1.50 -> 1.08 (rule), 1.20 (random)
    """
    rng = np.random.default_rng(seed)
    target = float(chinchilla_optimal(params=7e9, law=truth).loss)
    n, d = _design()
    clean = truth.loss(n, d)
    n_c, d_c = candidates(flops)
    start = _theta(truth)
    widths = []
    for _ in range(trials):
        loss = clean * np.exp(rng.normal(0.0, noise, len(n)))
        theta = _fit(n, d, loss, start)
        if theta is None:
            continue
        ranked = rank_runs(
            theta, n, d, loss, flops=flops, target_loss=target, inference_tokens=inference_tokens
        )
        pick = int(rng.integers(len(n_c)))
        arms = [ranked.best, (float(n_c[pick]), float(d_c[pick]))]
        row = [_width(n, d, loss, theta, target, inference_tokens, n_resamples, rng)]
        for extra_n, extra_d in arms:
            extra = float(truth.loss(extra_n, extra_d)) * np.exp(rng.normal(0.0, noise))
            n2, d2, l2 = np.append(n, extra_n), np.append(d, extra_d), np.append(loss, extra)
            theta2 = _fit(n2, d2, l2, theta)
            if theta2 is None:
                break
            row.append(_width(n2, d2, l2, theta2, target, inference_tokens, n_resamples, rng))
        if len(row) == 3:
            widths.append(row)
    w = np.array(widths)
    return Simulation(before=w[:, 0], rule=w[:, 1], random=w[:, 2])
