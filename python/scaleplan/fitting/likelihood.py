"""Epoch AI's estimator: maximum likelihood with a Huber-shaped density and a free scale.

Besiroglu et al. 2024 ("Chinchilla scaling: a replication attempt") publish their law from
the negative log-likelihood of the log-loss residuals `r_i` (as in `fit_law`) under the
density `exp(-Huber_delta(r / sigma)) / (sigma Z(delta))`:

    NLL(theta, s) = sum_i [Huber_delta(r_i e^-s) + s] + n ln Z(delta),   sigma = e^s,
    Z(delta) = sqrt(2 pi) erf(delta / sqrt 2) + 2 exp(-delta^2 / 2) / delta.

The fitted scale is ~`delta` times the mean absolute residual (2e-8 of log-loss on the
Chinchilla runs), so the estimator is in effect a least-absolute-deviations fit with five
residuals pinned at ~0. SciPy's BFGS stops on it with "precision loss"; we minimise it
with reweighted Gauss-Newton steps and then Newton's method on the exact Hessian (Rust,
`_core.FitRuns.likelihood_newton`), and report Newton's convergence verdict. Its bootstrap
and the tests of a law are in `likelihood_bootstrap`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _core
from .._utils.checks import number
from .._utils.frames import Record
from ..errors import ScaleplanError
from ..laws.scaling import ScalingLaw
from ._solver import run_columns
from .fit import DEFAULT_DELTA, HUBER_DELTA, FitError, fit_law
from .thetas import law_from_theta

__all__ = [
    "MAX_ITER",
    "LikelihoodFit",
    "fit_likelihood",
    "log_normaliser",
]

# Steps allowed per fit, both kinds (the Chinchilla fit needs ~55, 99% of resamples < 1,000).
MAX_ITER = 20_000


def log_normaliser(delta: float) -> float:
    """`ln Z(delta)`: the log of the integral of `exp(-Huber_delta(x))` over the real line.

    `Z(delta) = sqrt(2 pi) erf(delta / sqrt 2) + 2 exp(-delta^2 / 2) / delta`.

    Parameters
    ----------
    delta : float
        The Huber threshold.

    Returns
    -------
    float

    Examples
    --------
    >>> from scaleplan.fitting.likelihood import log_normaliser
    >>> round(log_normaliser(1e-3), 4)
    7.6009
    """
    inner = math.sqrt(2.0 * math.pi) * math.erf(delta / math.sqrt(2.0))
    return math.log(inner + 2.0 * math.exp(-0.5 * delta * delta) / delta)


@dataclass(frozen=True, repr=False)
class LikelihoodFit(Record):
    """A maximum-likelihood fit, as `fit_likelihood` returns it.

    Parameters
    ----------
    law : ScalingLaw
        The fitted law.
    theta : numpy.ndarray
        `(a, b, e, alpha, beta, s)`.
    scale : float
        `exp(s)`, the residuals' Huber scale (log-loss units).
    log_likelihood : float
        The full log-likelihood, constant included (nats).
    residuals : numpy.ndarray
        `LSE(...) - ln L` per run (log-loss units).
    n_points : int
        Runs fitted.
    pinned : int
        Residuals inside the density's quadratic zone (`|r| <= delta * scale`).
    iterations : int
        Newton steps.
    converged : bool
        Newton's verdict at the returned point (a fit that did not converge raises
        instead).
    delta : float
        The Huber threshold.
    seconds : float
        Wall time, in seconds.

    Examples
    --------
    >>> from scaleplan import fit_likelihood
    >>> from scaleplan.fitting.datasets import chinchilla_runs
    >>> fit = fit_likelihood(chinchilla_runs(), start=[6.0, 7.0, 0.5, 0.34, 0.34])
    >>> print(f"log-likelihood {fit.log_likelihood:.1f}, {fit.pinned} pinned, {fit.converged}")
    log-likelihood 879.8, 5 pinned, True
    """

    law: ScalingLaw
    theta: NDArray[np.float64]
    scale: float
    log_likelihood: float
    residuals: NDArray[np.float64]
    n_points: int
    pinned: int
    iterations: int
    converged: bool
    delta: float
    seconds: float


def _minimise(
    runs: _core.FitRuns, theta: NDArray[np.float64], delta: float, weights: Any = None
) -> tuple[NDArray[np.float64], float, int, bool]:
    return runs.likelihood_newton(np.asarray(theta, dtype=float), delta, weights, MAX_ITER)


def _start(runs: _core.FitRuns, law_theta: NDArray[np.float64], delta: float) -> Any:
    """`law_theta` with the scale that Laplace-like residuals would have: delta * mean |r|."""
    r = runs.residuals(law_theta)
    return np.append(law_theta, math.log(delta * max(float(np.mean(np.abs(r))), 1e-300)))


def fit_likelihood(
    params: Any,
    tokens: Any = None,
    loss: Any = None,
    *,
    params_col: str = "params",
    tokens_col: str = "tokens",
    loss_col: str = "loss",
    delta: float = DEFAULT_DELTA,
    start: Any = None,
) -> LikelihoodFit:
    """Fit `L = E + A N^-alpha + B D^-beta` by Epoch's maximum likelihood.

    Minimises `NLL(theta, s) = sum_i [Huber_delta(r_i e^-s) + s] + n ln Z(delta)` over the
    law and the log scale s (the module's docstring).

    Parameters
    ----------
    params : array_like or table
        The runs' parameter counts, or one table of runs, as for `fit_law`.
    tokens : array_like, optional
        The runs' training tokens (none with a table).
    loss : array_like, optional
        The runs' final losses, in nats/token (none with a table).
    params_col, tokens_col, loss_col : str, optional
        The table's column names.
    delta : float, optional
        The Huber threshold of the density (1e-3, as Epoch used).
    start : array_like, optional
        `(a, b, e, alpha, beta)` to start from; by default `fit_law`'s optimum (the Huber
        sum's, a few seconds), with the scale from its residuals.

    Returns
    -------
    LikelihoodFit

    Raises
    ------
    ScaleplanError
        If a run or setting is out of range.
    FitError
        When the minimisation does not converge: no stopping point is reported as the
        estimate.

    Examples
    --------
    Epoch's law from Hoffmann et al.'s runs (a start near the optimum keeps it quick):

    >>> from scaleplan import fit_likelihood
    >>> from scaleplan.fitting.datasets import chinchilla_runs
    >>> law = fit_likelihood(chinchilla_runs(), start=[6.0, 7.0, 0.5, 0.34, 0.34]).law
    >>> print(f"E={law.E:.3f} A={law.A:.0f} B={law.B:.0f} "
    ...       f"alpha={law.alpha:.4f} beta={law.beta:.4f}")
    E=1.817 A=482 B=2085 alpha=0.3478 beta=0.3659
    """
    t0 = time.perf_counter()
    delta = number("delta", delta, HUBER_DELTA)
    data = run_columns(params, tokens, loss, (params_col, tokens_col, loss_col))
    runs = _core.FitRuns(*data)
    if start is None:
        law_theta = fit_law(*data, delta=delta).theta
    else:
        law_theta = np.asarray(start, dtype=float)
        if law_theta.shape != (5,) or not np.all(np.isfinite(law_theta)):
            raise ScaleplanError("start must be 5 finite numbers (a, b, e, alpha, beta)", "start")
    theta, nll, iterations, ok = _minimise(runs, _start(runs, law_theta, delta), float(delta))
    if not ok:
        raise FitError(f"fit_likelihood: Newton did not converge in {iterations} iterations")
    residuals = runs.residuals(theta[:5])
    scale = math.exp(theta[5])
    return LikelihoodFit(
        law=law_from_theta(theta[:5], name="likelihood"),
        theta=theta,
        scale=scale,
        log_likelihood=-(nll + len(residuals) * log_normaliser(delta)),
        residuals=residuals,
        n_points=len(residuals),
        pinned=int(np.sum(np.abs(residuals) <= delta * scale)),
        iterations=iterations,
        converged=ok,
        delta=float(delta),
        seconds=time.perf_counter() - t0,
    )
