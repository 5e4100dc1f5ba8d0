"""Law families compared out of sample.

Each family is fitted by Approach 3's objective (the summed Huber loss, delta 1e-3, of
log-loss residuals; objective and gradient in Rust) so that the families differ only in
their form:

- `chinchilla`: `E + A N^-alpha + B D^-beta` (`fit_law`: the 4,500-start grid, then
  Newton to the optimum).
- `gadre`: the over-training form of Gadre et al. 2024, `E + (a M^eta + b M^-eta) C^-eta`
  with `C = 6 N D`, `M = D / N`. It is the Chinchilla form with one exponent
  (`alpha = beta = 2 eta`, `A = a 6^-eta`, `B = b 6^-eta`), so it is fitted as
  `(a', b', e, alpha)` with Chinchilla's gradient summed over the two exponents.
- `kaplan`: `((N_c / N)^(alpha_N / alpha_D) + D_c / D)^alpha_D` (Kaplan et al. 2020,
  Eq. 1.5), no irreducible loss.
- The data-constrained law (Muennighoff et al. 2023) equals `chinchilla` on runs that
  never repeat data, which both shipped data sets are (one epoch each): it is not a
  separate row for them.

Families other than `chinchilla` are fitted by SciPy's L-BFGS-B at tolerances far below
its defaults (ftol 1e-15, gtol 1e-10) from a grid of starts; held-out fits start from the
full fit's optimum and the grid's best few. `compare_families` (`family_comparison`)
reports, per family, the mean absolute and root-mean-square error in loss (nats) of
held-out runs under k-fold cross-validation (folds drawn from a seed) and under
leave-one-group-out (the group a run belongs to: its compute budget, its model size).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from .. import _core
from .._utils.arrays import as_float
from .._utils.checks import choice
from .._utils.frames import Record
from ..errors import ScaleplanError
from . import _lbfgsb as lbfgsb
from .fit import DEFAULT_DELTA, chinchilla_grid, fit_law
from .thetas import law_from_theta

__all__ = [
    "FAMILIES",
    "HELD_OUT_STARTS",
    "FamilyFit",
    "fit_family",
    "predict",
]

FAMILIES = ("chinchilla", "gadre", "kaplan")
_OPTIONS = {"ftol": 1e-15, "gtol": 1e-10, "maxiter": 20_000}
# Starts of the held-out fits besides the full fit's optimum: the grid's best few.
HELD_OUT_STARTS = 4


def _gadre_objective(runs: _core.FitRuns, delta: float) -> Callable[[Any], tuple[float, Any]]:
    def fun(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        a, b, e, alpha = theta
        f, g = runs.objective(np.array([a, b, e, alpha, alpha]), delta)
        return f, np.array([g[0], g[1], g[2], g[3] + g[4]])

    return fun


def _kaplan_objective(runs: _core.FitRuns, delta: float) -> Callable[[Any], tuple[float, Any]]:
    return lambda theta: runs.kaplan_objective(np.asarray(theta, dtype=float), delta)


def _starts(family: str) -> NDArray[np.float64]:
    if family == "gadre":
        return np.array(
            list(
                itertools.product(
                    (0, 5, 10, 15, 20, 25),
                    (0, 5, 10, 15, 20, 25),
                    (-1, -0.5, 0, 0.5, 1),
                    (0.1, 0.3, 0.5, 1.0),
                )
            )
        )
    return np.array(
        list(itertools.product((0.03, 0.07, 0.15), (0.5, 0.8, 1.2), (20, 28, 36), (18, 24, 30)))
    )


def predict(family: str, theta: Any, params: Any, tokens: Any) -> NDArray[np.float64]:
    """A family's loss at `(params, tokens)` for a fitted `theta`.

    `chinchilla`: `theta = (a, b, e, alpha, beta)`, `L = E + A N^-alpha + B D^-beta` with
    `A, B, E = exp(a), exp(b), exp(e)`; `gadre`: `(a, b, e, alpha)`, the same with
    `beta = alpha`; `kaplan`: `(alpha_D, q, ln N_c, ln D_c)`,
    `L = ((N_c / N)^q + D_c / D)^alpha_D` with `q = alpha_N / alpha_D`.

    Parameters
    ----------
    family : {"chinchilla", "gadre", "kaplan"}
        The law's form.
    theta : sequence of float
        The family's parameters, as above (`FamilyFit.theta`).
    params, tokens : array_like
        Parameters N (count) and training tokens D.

    Returns
    -------
    numpy.ndarray
        The loss, in nats/token, in the broadcast shape of `params` and `tokens`.

    Examples
    --------
    >>> print(f"{predict('gadre', [6.0, 7.0, 0.5, 0.3], 7e10, 1.4e12):.4f}")
    2.1228
    >>> print(f"{predict('kaplan', [0.1, 1.0, 30.0, 30.0], 7e10, 1.4e12):.4f}")
    1.6615
    """
    family = choice("family", family, FAMILIES)
    theta = tuple(np.ravel(as_float("theta", theta)).tolist())
    want = 5 if family == "chinchilla" else 4
    if len(theta) != want:
        raise ScaleplanError(f"theta must hold the {want} parameters of the {family} family; "
                             f"got {len(theta)}", "theta")  # fmt: skip
    if family == "kaplan":
        alpha_d, q, n_c, d_c = theta
        return np.exp(alpha_d * np.logaddexp(q * (n_c - np.log(params)), d_c - np.log(tokens)))
    if family == "gadre":
        a, b, e, alpha = theta
        theta = (a, b, e, alpha, alpha)
    return law_from_theta(theta).loss(params, tokens)


@dataclass(frozen=True, repr=False)
class FamilyFit(Record):
    """One law family fitted to runs, as `fit_family` returns it.

    Parameters
    ----------
    family : str
        "chinchilla", "gadre" or "kaplan".
    theta : numpy.ndarray
        The family's fitted parameters (`predict` says what each is).
    objective : float
        The summed Huber loss (delta 1e-3) of log-loss residuals at `theta`.

    Examples
    --------
    >>> import numpy as np
    >>> from scaleplan.fitting.datasets import chinchilla_runs
    >>> runs = chinchilla_runs()
    >>> fit, _ = fit_family("chinchilla", runs.params, runs.tokens, runs.loss,
    ...                     starts=np.array([[6.0, 7.0, 0.5, 0.34, 0.34]]))
    >>> print(f"{fit.family}: objective {fit.objective:.4g}, "
    ...       f"L(70B, 1.4T) = {fit.loss(7e10, 1.4e12):.4f}")
    chinchilla: objective 0.001018, L(70B, 1.4T) = 1.9734
    """

    family: str
    theta: NDArray[np.float64]
    objective: float

    def loss(self, params: Any, tokens: Any) -> NDArray[np.float64]:
        """The fitted law's loss at `(params, tokens)`, in nats/token (`predict`)."""
        return predict(self.family, self.theta, params, tokens)


def _lbfgsb(fun: Callable[[Any], tuple[float, Any]], starts: Any) -> list[tuple[float, Any]]:
    """L-BFGS-B from each start: (f, x) of those that end finite, lowest first.

    SciPy's routine through the lean loop of `_lbfgsb` (the iterates of `minimize`, a
    third of its time on these 4-parameter objectives), or `minimize` itself where this
    SciPy's routine has another form."""
    found = []
    tolerances = (_OPTIONS["ftol"], _OPTIONS["gtol"])
    with threadpool_limits(1, user_api="blas"):
        for x0 in np.asarray(starts, dtype=float):
            if lbfgsb.SETULB:
                from scipy.optimize._lbfgsb import setulb  # the form SETULB checked

                f, x, _, _ = lbfgsb.run_setulb(
                    setulb, fun, x0, tolerances, maxiter=int(_OPTIONS["maxiter"])
                )
            else:
                r = minimize(fun, x0, jac=True, method="L-BFGS-B", options=_OPTIONS)
                f, x = float(r.fun), r.x
            if np.isfinite(f):
                found.append((float(f), x))
    return sorted(found, key=lambda t: t[0])


def fit_family(
    family: str, params: Any, tokens: Any, loss: Any, *, starts: Any = None
) -> tuple[FamilyFit, list[Any]]:
    """Fit one law family to runs by Approach 3's objective; the best fit and the best few
    points found (where `compare_families` starts its held-out refits).

    Minimises the summed Huber loss (delta 1e-3) of `ln L_pred - ln L` over the family's
    parameters: `chinchilla` by `fit_law`, the others by L-BFGS-B from each start (the
    module's docstring).

    Parameters
    ----------
    family : {"chinchilla", "gadre", "kaplan"}
        The law's form.
    params, tokens, loss : array_like
        The runs: parameters (count), training tokens, final loss (nats/token).
    starts : array_like, optional
        Rows to start from instead of the family's grid (the full grid takes seconds to
        minutes); each row is a `theta` of the family (`predict`).

    Returns
    -------
    fit : FamilyFit
        The lowest objective found.
    best : list of numpy.ndarray
        Up to 4 of the best points found, lowest first.

    Raises
    ------
    ScaleplanError
        If `family` is unknown or a run is out of range.
    FitError
        If the `chinchilla` fit fails.

    Examples
    --------
    One start near the optimum (the family's own grid takes seconds to minutes):

    >>> import numpy as np
    >>> from scaleplan.fitting.datasets import chinchilla_runs
    >>> runs = chinchilla_runs()
    >>> fit, best = fit_family("chinchilla", runs.params, runs.tokens, runs.loss,
    ...                        starts=np.array([[6.0, 7.0, 0.5, 0.34, 0.34]]))
    >>> np.round(fit.theta, 3)
    array([6.169, 7.67 , 0.597, 0.347, 0.367])
    """
    choice("family", family, FAMILIES)
    runs = _core.FitRuns(*(np.ascontiguousarray(v, dtype=float) for v in (params, tokens, loss)))
    if family == "chinchilla":
        grid = chinchilla_grid() if starts is None else np.atleast_2d(starts)
        r = fit_law(params, tokens, loss, starts=grid, delta=DEFAULT_DELTA)
        return FamilyFit(family, r.theta, r.objective), [r.theta]
    fun = (_gadre_objective if family == "gadre" else _kaplan_objective)(runs, DEFAULT_DELTA)
    found = _lbfgsb(fun, _starts(family) if starts is None else starts)
    best_f, best_x = found[0]
    return FamilyFit(family, best_x, best_f), [x for _, x in found[:HELD_OUT_STARTS]]
