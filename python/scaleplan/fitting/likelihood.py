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
`_core.FitRuns.likelihood_newton`), and report Newton's convergence verdict.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _core
from .._utils.checks import instance, number, whole
from .._utils.checks import seed as check_seed
from .._utils.frames import Record
from .._utils.progress import Progress
from ..errors import ScaleplanError
from ..laws.scaling import CHINCHILLA_ROUNDED, COEFFICIENTS, ScalingLaw, resolve_law
from ._solver import run_columns
from .bootstrap import MAX_RESAMPLES, resample_counts
from .fit import DEFAULT_DELTA, HUBER_DELTA, FitError, fit_law, law_from_theta, laws_from_thetas

__all__ = [
    "MAX_ITER",
    "LawTest",
    "LikelihoodBootstrap",
    "LikelihoodFit",
    "bootstrap_likelihood",
    "fit_likelihood",
    "log_normaliser",
    "test_law",
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


@dataclass(frozen=True, repr=False)
class LikelihoodBootstrap(Record):
    """Refits of the likelihood on resamples of the runs, as `bootstrap_likelihood` gives.

    Parameters
    ----------
    fit : LikelihoodFit
        The fit to all runs.
    thetas : numpy.ndarray
        One row per converged resample, `(a, b, e, alpha, beta, s)`.
    laws : ScalingLaw
        One law of array coefficients, to carry the spread into a plan.
    standard_errors : dict of str to float
        Standard errors of E, A, B, alpha and beta.
    intervals : dict of str to (float, float)
        Their 95% percentile intervals.
    n_resamples : int
        Resamples drawn.
    n_failed : int
        Resamples that did not converge.

    Examples
    --------
    See `bootstrap_likelihood`.
    """

    fit: LikelihoodFit
    thetas: NDArray[np.float64]
    laws: ScalingLaw
    standard_errors: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    n_resamples: int
    n_failed: int


def bootstrap_likelihood(
    params: Any,
    tokens: Any = None,
    loss: Any = None,
    *,
    n_resamples: int = 1000,
    seed: int | None = None,
    delta: float = DEFAULT_DELTA,
    progress: Progress | None = None,
) -> LikelihoodBootstrap:
    """Resample the runs with replacement and refit each by maximum likelihood.

    The resamples are counts passed as weights, drawn up front from `seed`; each is
    refitted by `fit_likelihood`'s minimisation, started at the full fit's optimum.

    Parameters
    ----------
    params, tokens, loss
        The runs, as `fit_law` takes them (arrays, or one table).
    n_resamples : int, optional
        Resamples, 2 to 1,000,000 (default 1000).
    seed : int, optional
        Seeds the resamples; None draws fresh entropy.
    delta : float, optional
        The Huber threshold of the density (default 1e-3).
    progress : callable, optional
        Called as `progress(finished, total)` over the resamples.

    Returns
    -------
    LikelihoodBootstrap

    Raises
    ------
    ScaleplanError
        If a run or setting is out of range.
    FitError
        If the full fit or every resample fails.

    Examples
    --------
    The full fit runs `fit_law`'s 4,500 starts first (about 15 s with 100 resamples on a
    small machine), so this is not run here:

    >>> from scaleplan import bootstrap_likelihood
    >>> from scaleplan.fitting.datasets import chinchilla_runs
    >>> boot = bootstrap_likelihood(chinchilla_runs(), n_resamples=100,
    ...                             seed=0)  # doctest: +SKIP
    >>> low, high = boot.intervals["alpha"]  # doctest: +SKIP
    >>> print(f"alpha in [{low:.3f}, {high:.3f}], {boot.n_failed} failed")  # doctest: +SKIP
    alpha in [0.317, 0.371], 1 failed
    """
    n_resamples = whole("n_resamples", n_resamples, 2, MAX_RESAMPLES)
    seed = check_seed("seed", seed)
    full = fit_likelihood(params, tokens, loss, delta=delta)
    data = run_columns(params, tokens, loss, ("params", "tokens", "loss"))
    runs = _core.FitRuns(*data)
    # Every resample starts at the full fit rounded to 8 decimals. The full fit's last bits
    # follow fit_law's, which move with the OpenBLAS kernel (its L-BFGS-B stage), and the
    # path of this piecewise minimisation can turn on them: from the unrounded optimum,
    # Prescott's kernel moved 100 resamples' standard errors by 0.4%. From the rounded
    # start the rest is Rust without BLAS, the same bits on every machine.
    start = np.round(full.theta, 8)
    kept = []
    for i, counts in enumerate(resample_counts(len(data[0]), n_resamples, seed)):
        theta, _, _, ok = _minimise(runs, start, full.delta, counts)
        if ok:
            kept.append(theta)
        if progress is not None:
            progress(i + 1, n_resamples)
    if not kept:
        raise FitError("bootstrap_likelihood: no resample converged")
    thetas = np.array(kept)
    laws = laws_from_thetas(thetas, name="bootstrap")
    values = dict(zip(COEFFICIENTS, laws.coefficients, strict=True))
    return LikelihoodBootstrap(
        fit=full,
        thetas=thetas,
        laws=laws,
        standard_errors={k: float(np.std(v, ddof=1)) for k, v in values.items()},
        intervals={
            k: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5)))
            for k, v in values.items()
        },
        n_resamples=n_resamples,
        n_failed=n_resamples - len(thetas),
    )


@dataclass(frozen=True, repr=False)
class LawTest(Record):
    """Tests of a published law against a likelihood fit (Besiroglu et al.'s two).

    Both statistics are chi-squared with 5 degrees of freedom under the hypothesis that
    the published law is the truth; the p-values are their upper tails.

    Parameters
    ----------
    law : ScalingLaw
        The law tested.
    wald : float
        `(theta_0 - theta_hat)^T Cov^-1 (theta_0 - theta_hat)` in (a, b, e, alpha, beta),
        with the bootstrap covariance.
    wald_p_value : float
    likelihood_ratio : float
        `2 (l_hat - l_0)`, with `l_0` the likelihood of the published law at its own best
        scale.
    likelihood_ratio_p_value : float

    Examples
    --------
    See `test_law`.
    """

    law: ScalingLaw
    wald: float
    wald_p_value: float
    likelihood_ratio: float
    likelihood_ratio_p_value: float


def _wald(diff: NDArray[np.float64], thetas: NDArray[np.float64]) -> float:
    """`diff' C^-1 diff` with C the covariance of the bootstrap's estimates; an error when
    C cannot be inverted (fewer resamples than parameters, or estimates that do not vary)."""
    k = diff.size
    if len(thetas) <= k:
        raise ScaleplanError(
            f"boot has {len(thetas)} successful resamples; a Wald test of {k} parameters "
            f"needs more than {k} (rerun bootstrap_likelihood with more n_resamples)",
            "boot",
        )
    cov = np.cov(thetas.T)
    try:
        solved = np.linalg.solve(cov, diff)
    except np.linalg.LinAlgError:
        solved = np.full(k, np.nan)
    wald = float(diff @ solved)
    if not (np.isfinite(wald) and wald >= 0 and np.linalg.matrix_rank(cov) == k):
        raise ScaleplanError(
            "boot: the bootstrap's estimates do not vary in every parameter, so their "
            "covariance cannot be inverted (rerun with more n_resamples)",
            "boot",
        )
    return wald


def test_law(
    boot: LikelihoodBootstrap,
    params: Any,
    tokens: Any = None,
    loss: Any = None,
    *,
    law: ScalingLaw = CHINCHILLA_ROUNDED,
) -> LawTest:
    """How far a published law is from the fitted distribution on the same runs.

    The Wald and likelihood-ratio tests of Besiroglu et al. (`LawTest`).

    Parameters
    ----------
    boot : LikelihoodBootstrap
        `bootstrap_likelihood` on the runs; more successful resamples than 5.
    params, tokens, loss
        The same runs, as `fit_law` takes them.
    law : ScalingLaw or str, optional
        The law tested (default: Hoffmann et al.'s printed values, `CHINCHILLA_ROUNDED`).

    Returns
    -------
    LawTest

    Raises
    ------
    ScaleplanError
        If `boot` is not a LikelihoodBootstrap, has too few resamples or estimates that do
        not vary, or `law` is a batch.

    Examples
    --------
    The bootstrap takes a few seconds (its full fit runs every start), so this is not run
    here:

    >>> from scaleplan import bootstrap_likelihood, test_law
    >>> from scaleplan.fitting.datasets import chinchilla_runs
    >>> runs = chinchilla_runs()
    >>> boot = bootstrap_likelihood(runs, n_resamples=100, seed=0)  # doctest: +SKIP
    >>> result = test_law(boot, runs)  # doctest: +SKIP
    >>> print(f"Wald p = {result.wald_p_value:.1e}, "
    ...       f"LR p = {result.likelihood_ratio_p_value:.1e}")  # doctest: +SKIP
    Wald p = 4.8e-64, LR p = 5.4e-135

    Hoffmann et al.'s printed law is far outside the fitted distribution.
    """
    from scipy.stats import chi2

    instance("boot", boot, LikelihoodBootstrap, "a LikelihoodBootstrap")
    law = resolve_law(law)
    if law.is_batch:
        raise ScaleplanError("law must be one law, not a batch", "law")
    e, a, b, alpha, beta = law.coefficients
    theta0 = np.array([math.log(a), math.log(b), math.log(e), alpha, beta])
    diff = theta0 - boot.fit.theta[:5]
    wald = _wald(diff, boot.thetas[:, :5])
    runs = _core.FitRuns(*run_columns(params, tokens, loss, ("params", "tokens", "loss")))
    delta = boot.fit.delta
    # The published law at its own best scale: the likelihood in s alone, by bisection on
    # its derivative (increasing in s).
    lo, hi = -60.0, 10.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        slope = runs.likelihood_curvature(np.append(theta0, mid), delta)[1][5]
        lo, hi = (mid, hi) if slope < 0 else (lo, mid)
    nll0 = runs.likelihood_curvature(np.append(theta0, 0.5 * (lo + hi)), delta)[0]
    ll0 = -(nll0 + len(runs) * log_normaliser(delta))
    ratio = 2.0 * (boot.fit.log_likelihood - ll0)
    return LawTest(law, wald, float(chi2.sf(wald, 5)), ratio, float(chi2.sf(ratio, 5)))


test_law.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
