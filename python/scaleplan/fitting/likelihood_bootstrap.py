"""The likelihood fit's bootstrap and the tests of a law built on it: `bootstrap_likelihood`
refits resampled runs from the full fit's optimum (`likelihood.fit_likelihood`), and
`test_law` says how far a published law is from the fitted distribution (the Wald and
likelihood-ratio tests of Besiroglu et al. 2024)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _core
from .._utils.checks import instance, whole
from .._utils.checks import seed as check_seed
from .._utils.frames import Record
from .._utils.progress import Progress
from ..errors import ScaleplanError
from ..laws.scaling import CHINCHILLA_ROUNDED, COEFFICIENTS, ScalingLaw, resolve_law
from ._solver import run_columns
from .bootstrap import MAX_RESAMPLES, resample_counts
from .fit import DEFAULT_DELTA, FitError
from .likelihood import MAX_ITER, LikelihoodFit, fit_likelihood, log_normaliser
from .thetas import laws_from_thetas

__all__ = ["LawTest", "LikelihoodBootstrap", "bootstrap_likelihood", "test_law"]


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
        If the full fit fails, or fewer than 2 resamples converge.

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
        theta, _, _, ok = runs.likelihood_newton(start, full.delta, counts, MAX_ITER)
        if ok:
            kept.append(theta)
        if progress is not None:
            progress(i + 1, n_resamples)
    if not kept:
        raise FitError("bootstrap_likelihood: no resample converged")
    if len(kept) == 1:  # one value has no spread: the errors would be NaN, with warnings
        raise FitError(f"bootstrap_likelihood: 1 of {n_resamples} resamples converged; an "
                       "interval and a standard error need at least 2")  # fmt: skip
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
