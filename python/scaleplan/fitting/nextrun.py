"""The next run to train: which affordable `(N, D)` most narrows the lifetime optimum.

After fitting a law to the runs so far, the quantity a plan needs is the lifetime
optimum's size `q = ln N*(theta)` for the target loss and demand (§1.3). Treating the
fit as least squares on log-loss residuals with variance `s^2 = sum r^2 / (n - 5)`, its
information is `I = sum_i u_i u_i^T / s^2` (`u_i` the residual's gradient in
`theta = (a, b, e, alpha, beta)`), and `Var q ~ g^T I^-1 g` with `g = grad q` (central
differences through the Rust solver, all perturbed laws in one call). A new run with
gradient `u` adds `u u^T / s^2`; by the Sherman-Morrison formula

    Var q after = Var q - (g^T I^-1 u)^2 / (s^2 + u^T I^-1 u),

so candidates of one compute cost (`D = C / (6 N)`, tokens per parameter from 1 to
10,000 on a log grid) are ranked by it. It is an approximation (Gaussian errors, a
linearised optimum; the fit itself is Huber's), so `simulate_next_run` checks it the way
it will be used: runs drawn from a known law with noise, each refitted, the bootstrap
interval of `ln N*` measured after adding the suggested run and after adding a random
affordable one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _core
from .._utils.checks import NON_NEGATIVE, Span, number, renamed, whole
from .._utils.frames import Record
from ..errors import ScaleplanError
from ..laws.flops import params_for_flops, tokens_for_flops
from ..optimal.lifetime import compute_optimal
from ._solver import run_columns
from .fit import DEFAULT_DELTA, fit_law
from .thetas import laws_from_thetas

__all__ = [
    "RUN_FLOPS",
    "NextRun",
    "candidates",
    "log_optimum",
    "next_run",
    "rank_runs",
    "residual_gradients",
]

# A candidate run trains at least one parameter at every ratio up to 10,000 tokens each.
RUN_FLOPS = Span(6e4, low_closed=True)
_STEP = 1e-5  # central-difference step in theta


def log_optimum(thetas: NDArray[np.float64], loss: float, demand: float) -> NDArray[np.float64]:
    """`ln N*` of the lifetime FLOP optimum for each law row: the quantity `next_run` narrows.

    `N*` minimises `6 N D + 2 N D_inf` at `L(N, D) = loss` (`compute_optimal`), for the law
    `laws_from_thetas(thetas)` of each row.

    Parameters
    ----------
    thetas : numpy.ndarray
        Shape (5,) or (k, 5): rows of `(a, b, e, alpha, beta)` (logs in nats/token).
    loss : float
        The target loss, in nats/token.
    demand : float
        Lifetime inference tokens `D_inf`.

    Returns
    -------
    numpy.ndarray
        Shape (k,): `ln N*` (N* in parameters); NaN where a row's law cannot reach `loss`
        (at or below its `E`).

    Examples
    --------
    >>> import numpy as np
    >>> q = log_optimum(np.array([[6.17, 7.67, 0.6, 0.34, 0.28]]), 2.2, 1e12)
    >>> print(f"ln N* = {q[0]:.3f}, N* = {np.exp(q[0]):.3g}")
    ln N* = 23.345, N* = 1.38e+10
    """
    r = compute_optimal(loss, demand, law=laws_from_thetas(np.atleast_2d(thetas)), on_invalid="nan")
    return np.log(np.asarray(r.params, dtype=float))


def _gradient(theta: NDArray[np.float64], loss: float, demand: float) -> NDArray[np.float64]:
    steps = np.vstack([theta + s * _STEP * np.eye(5)[k] for k in range(5) for s in (1, -1)])
    q = log_optimum(steps, loss, demand)
    if not np.all(np.isfinite(q)):
        raise ScaleplanError(
            "the target loss is not reachable under laws near the fit (below their E)", "loss"
        )
    return (q[0::2] - q[1::2]) / (2 * _STEP)


def residual_gradients(theta: Any, params: Any, tokens: Any) -> NDArray[np.float64]:
    """Rows `u = d r / d theta` of each run's log-loss residual: the information a run adds.

    With `r = LSE(a - alpha ln N, b - beta ln D, e) - ln L` and `p` the softmax of those
    three terms, `u = (p_A, p_B, p_E, -p_A ln N, -p_B ln D)`.

    Parameters
    ----------
    theta : sequence of 5 floats
        `(a, b, e, alpha, beta)` (logs in nats/token).
    params, tokens : numpy.ndarray
        The runs' parameters (count) and training tokens.

    Returns
    -------
    numpy.ndarray
        Shape (n, 5): one gradient per run (log-loss units per unit of theta).

    Examples
    --------
    >>> import numpy as np
    >>> u = residual_gradients([6.17, 7.67, 0.6, 0.34, 0.28],
    ...                        np.array([1e8, 1e9]), np.array([2e9, 2e10]))
    >>> np.round(u, 2)
    array([[  0.11,   0.66,   0.23,  -2.08, -14.16],
           [  0.08,   0.56,   0.36,  -1.71, -13.18]])
    """
    a, b, e, alpha, beta = theta
    ln_n, ln_d = np.log(params), np.log(tokens)
    # Rows are runs (one value each, 1-D by contract): axis 1 is the three terms.
    t = np.stack([a - alpha * ln_n, b - beta * ln_d, np.full_like(ln_n, e)], axis=1)
    p = np.exp(t - t.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return np.stack([p[:, 0], p[:, 1], p[:, 2], -p[:, 0] * ln_n, -p[:, 1] * ln_d], axis=1)


@dataclass(frozen=True, repr=False)
class NextRun(Record):
    """Candidate runs of one cost, ranked, as `next_run` returns them.

    Parameters
    ----------
    flops : float
        Each candidate's training budget, in FLOPs.
    params, tokens : numpy.ndarray
        The candidates' parameters and training tokens, best first.
    sd_after : numpy.ndarray
        The predicted standard deviation of `ln N*` after training each.
    sd_now : float
        The prediction before.
    theta : numpy.ndarray
        The fitted `(a, b, e, alpha, beta)`.

    Examples
    --------
    See `next_run`.
    """

    flops: float
    params: NDArray[np.float64]
    tokens: NDArray[np.float64]
    sd_after: NDArray[np.float64]
    sd_now: float
    theta: NDArray[np.float64]

    @property
    def best(self) -> tuple[float, float]:
        """`(params, tokens)` of the best candidate."""
        return float(self.params[0]), float(self.tokens[0])


def candidates(flops: float, count: int = 41) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """`count` candidate runs of `flops` FLOPs: `D = C / (6 N)` at 1 to 10,000 tokens per
    parameter, log-spaced.

    Parameters
    ----------
    flops : float
        Each run's training budget C, in FLOPs.
    count : int, optional
        How many candidates (default 41).

    Returns
    -------
    params, tokens : numpy.ndarray
        Shape (count,) each: parameters (count, falling) and training tokens (rising).

    Examples
    --------
    >>> n, d = candidates(1e21, count=5)
    >>> [f"{v:.3g}" for v in n]
    ['1.29e+10', '4.08e+09', '1.29e+09', '4.08e+08', '1.29e+08']
    >>> [f"{t / p:.0f}" for p, t in zip(n, d)]  # tokens per parameter
    ['1', '10', '100', '1000', '10000']
    """
    ratio = np.logspace(0, 4, count)
    n = params_for_flops(flops, ratio)
    return n, tokens_for_flops(flops, n)


def rank_runs(
    theta: Any,
    params: Any,
    tokens: Any,
    loss: Any,
    *,
    flops: float,
    target_loss: float,
    inference_tokens: float,
    count: int = 41,
) -> NextRun:
    """Rank candidate runs of `flops` FLOPs for a law already fitted at `theta`: `next_run`
    without the fit.

    Orders the `candidates` by the predicted standard deviation of `ln N*` after adding
    each, `Var q - (g^T I^-1 u)^2 / (s^2 + u^T I^-1 u)` (the module's docstring derives it).

    Parameters
    ----------
    theta : sequence of 5 floats
        The fitted `(a, b, e, alpha, beta)` (`FitResult.theta`).
    params, tokens, loss : array_like
        The runs the fit used: parameters (count), training tokens, final loss
        (nats/token).
    flops : float
        The next run's training budget, in FLOPs.
    target_loss : float
        The loss the plan aims at, in nats/token.
    inference_tokens : float
        The plan's lifetime inference demand, in tokens.
    count : int, optional
        Candidates on the log grid of tokens per parameter (default 41).

    Returns
    -------
    NextRun
        The candidates, best first.

    Raises
    ------
    ScaleplanError
        If there are 5 runs or fewer, or `target_loss` is out of reach of laws near the fit.

    Examples
    --------
    >>> import numpy as np
    >>> from scaleplan import fit_law
    >>> from scaleplan.fitting.datasets import chinchilla_runs
    >>> runs = chinchilla_runs()
    >>> theta = fit_law(runs, starts=np.array([[6.0, 7.0, 0.5, 0.34, 0.34]])).theta
    >>> plan = rank_runs(theta, runs.params, runs.tokens, runs.loss, flops=1e21,
    ...                  target_loss=2.2, inference_tokens=1e12, count=11)
    >>> n, d = plan.best
    >>> print(f"N = {n:.3g}, D = {d:.3g}: sd of ln N* "
    ...       f"{plan.sd_now:.4f} -> {plan.sd_after[0]:.4f}")
    N = 1.29e+08, D = 1.29e+12: sd of ln N* 0.0592 -> 0.0559
    """
    theta = np.asarray(theta, dtype=float)
    runs = _core.FitRuns(*(np.ascontiguousarray(v, dtype=float) for v in (params, tokens, loss)))
    r = runs.residuals(theta)
    if len(r) <= 5:
        raise ScaleplanError("ranking needs more than 5 runs", "params")
    s2 = float(np.sum(r * r) / (len(r) - 5))
    u = residual_gradients(theta, params, tokens)
    cov = np.linalg.inv(u.T @ u / s2)
    g = _gradient(theta, target_loss, inference_tokens)
    now = float(g @ cov @ g)
    n_c, d_c = candidates(flops, count)
    uc = residual_gradients(theta, n_c, d_c)
    cu = uc @ cov
    # w^2 / (s2 + u^T I^-1 u) written w * (w / ...): w overflows its square where runs
    # measured the law at scales far from the candidates (|w| past 1e154).
    w = cu @ g
    after = now - w * (w / (s2 + np.einsum("ij,ij->i", cu, uc)))
    order = np.argsort(after, kind="stable")
    sd = np.sqrt(np.maximum(after[order], 0.0))
    return NextRun(flops, n_c[order], d_c[order], sd, math.sqrt(now), theta)


def next_run(
    params: Any,
    tokens: Any = None,
    loss: Any = None,
    *,
    flops: float,
    target_loss: float,
    inference_tokens: float,
    count: int = 41,
) -> NextRun:
    """The next run to train: which affordable `(N, D)` most narrows the lifetime optimum.

    Fits the runs (`fit_law`), then ranks candidate runs of `flops` FLOPs (`D = C / (6
    N)`, 1 to 10,000 tokens per parameter) by the predicted standard deviation of
    `ln N*` after adding each, `Var q - (g^T I^-1 u)^2 / (s^2 + u^T I^-1 u)` (the module's
    docstring derives it).

    Parameters
    ----------
    params, tokens, loss
        The runs so far, as `fit_law` takes them (arrays, or one table).
    flops : float
        The next run's training budget, in FLOPs.
    target_loss : float
        The loss the plan aims at, in nats/token.
    inference_tokens : float
        The plan's lifetime inference demand, in tokens.
    count : int, optional
        Candidates on the log grid of tokens per parameter (default 41).

    Returns
    -------
    NextRun
        The candidates, best first.

    Raises
    ------
    ScaleplanError
        If a run or an argument is out of range.
    FitError
        If the fit fails.

    Examples
    --------
    The fit runs every start of `fit_law` (a second or more), so this is not run here:

    >>> from scaleplan import next_run
    >>> from scaleplan.fitting.datasets import sardana2024_runs
    >>> plan = next_run(sardana2024_runs(), flops=1e21, target_loss=2.2,
    ...                 inference_tokens=1e12, count=11)  # doctest: +SKIP
    >>> n, d = plan.best  # doctest: +SKIP
    >>> print(f"N = {n:.3g}, D = {d:.3g}: sd of ln N* "
    ...       f"{plan.sd_now:.3f} -> {plan.sd_after[0]:.3f}")  # doctest: +SKIP
    N = 1.29e+10, D = 1.29e+10: sd of ln N* 0.463 -> 0.417
    """
    flops = number("flops", flops, RUN_FLOPS)
    target_loss = number("target_loss", target_loss)
    inference_tokens = number("inference_tokens", inference_tokens, NON_NEGATIVE)
    count = whole("count", count, 2, 100_000)
    n, d, l_ = run_columns(params, tokens, loss, ("params", "tokens", "loss"))
    theta = fit_law(n, d, l_, delta=DEFAULT_DELTA).theta
    with renamed(loss="target_loss"):
        return rank_runs(
            theta,
            n,
            d,
            l_,
            flops=float(flops),
            target_loss=float(target_loss),
            inference_tokens=float(inference_tokens),
            count=count,
        )
