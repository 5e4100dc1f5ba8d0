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
full fit's optimum and the grid's best few. `compare_families` reports, per family, the
mean absolute and root-mean-square error in loss (nats) of held-out runs under k-fold
cross-validation (folds drawn from a seed) and under leave-one-group-out (the group a run
belongs to: its compute budget, its model size).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from .. import _core
from .._utils.checks import POSITIVE, choice, first_bad, shown, whole
from .._utils.frames import Record
from .._utils.text import render_table
from ..errors import ScaleplanError
from ._solver import run_columns
from .fit import DEFAULT_DELTA, chinchilla_grid, fit_law, law_from_theta

__all__ = [
    "FAMILIES",
    "FamilyFit",
    "HeldOut",
    "chinchilla_budget_groups",
    "compare_families",
    "family_table",
    "fit_family",
    "predict",
]

FAMILIES = ("chinchilla", "gadre", "kaplan")
_OPTIONS = {"ftol": 1e-15, "gtol": 1e-10, "maxiter": 20_000}
# Starts of the held-out fits besides the full fit's optimum: the grid's best few.
_KEEP = 4


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
    found = []
    for x0 in starts:
        r = minimize(fun, np.asarray(x0, dtype=float), jac=True, method="L-BFGS-B",
                     options=_OPTIONS)  # fmt: skip
        if np.isfinite(r.fun):
            found.append((float(r.fun), r.x))
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
    return FamilyFit(family, best_x, best_f), [x for _, x in found[:_KEEP]]


@dataclass(frozen=True, repr=False)
class HeldOut(Record):
    """Held-out errors of one family, as `compare_families` returns them: k-fold and
    leave-one-group-out mean absolute and root-mean-square errors, and the in-sample MAE
    of the full fit, all in loss (nats/token).

    Parameters
    ----------
    family : str
        "chinchilla", "gadre" or "kaplan".
    parameters : int
        The family's fitted parameters (5, 4, 4).
    in_sample_mae : float
        Mean absolute error of the full fit on its own runs.
    kfold_mae, kfold_rmse : float
        Errors on held-out runs under k-fold cross-validation.
    group_mae, group_rmse : float
        Errors on held-out runs under leave-one-group-out.

    Examples
    --------
    See `compare_families`; a row reads:

    >>> row = HeldOut("gadre", 4, 0.0110, 0.0113, 0.0150, 0.0121, 0.0162)
    >>> print(f"{row.family}: {row.kfold_mae:.4f} nats/token held out "
    ...       f"({row.in_sample_mae:.4f} in sample)")
    gadre: 0.0113 nats/token held out (0.0110 in sample)
    """

    family: str
    parameters: int
    in_sample_mae: float
    kfold_mae: float
    kfold_rmse: float
    group_mae: float
    group_rmse: float


def _held_out(
    family: str, n: Any, d: Any, loss: Any, folds: list[NDArray[np.intp]], starts: list[Any]
) -> tuple[float, float]:
    """Mean absolute and RMS error of predictions on each fold from fits to the rest."""
    errors = np.full(len(loss), np.nan)
    for test in folds:
        train = np.setdiff1d(np.arange(len(loss)), test)
        # Held out means held out: no run of the fold is in its fit, and no run is
        # predicted twice (an earlier version accepted folds that broke both).
        assert not np.intersect1d(train, test).size and np.all(np.isnan(errors[test]))
        fit, _ = fit_family(family, n[train], d[train], loss[train], starts=np.array(starts))
        errors[test] = fit.loss(n[test], d[test]) - loss[test]
    assert not np.any(np.isnan(errors)), "every run is predicted once, from other runs"
    return float(np.mean(np.abs(errors))), float(math.sqrt(np.mean(errors**2)))


def _group_folds(groups: Any, count: int) -> list[NDArray[np.intp]]:
    """Leave-one-group-out folds: the runs of each group. Labels are one per run, none
    missing (NaN or None), in at least two groups, so every fold is held out from a fit
    to other runs; a fold of all runs would report the in-sample error as held-out."""
    labels = np.asarray(groups)
    if labels.ndim != 1 or len(labels) != count:
        raise ScaleplanError(f"groups must give one label per run ({count}); got shape "
                             f"{labels.shape}", "groups")  # fmt: skip
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        raise ScaleplanError("groups has NaN or infinite labels: every run needs a group",
                             "groups")  # fmt: skip
    if labels.dtype.kind == "O" and any(g is None for g in labels):
        raise ScaleplanError("groups has None labels: every run needs a group", "groups")
    try:
        names = np.unique(labels)
    except TypeError:
        raise ScaleplanError("groups must be labels of one comparable type", "groups") from None
    if len(names) < 2:
        raise ScaleplanError(f"groups must hold at least 2 groups for leave-one-group-out; "
                             f"got {len(names)}", "groups")  # fmt: skip
    folds = [np.flatnonzero(labels == g) for g in names]
    small = min(count - len(f) for f in folds)
    if small <= 5:
        raise ScaleplanError(f"groups: leaving one group out keeps {small} runs; a fit needs "
                             "more than 5", "groups")  # fmt: skip
    return folds


def compare_families(
    params: Any,
    tokens: Any,
    loss: Any,
    groups: Any,
    *,
    folds: int = 10,
    seed: int = 0,
    families: tuple[str, ...] = FAMILIES,
) -> list[HeldOut]:
    """Every law family's held-out error on the runs.

    Each family is fitted by Approach 3's objective and scored by the mean absolute and
    root-mean-square error in loss of held-out runs, under k-fold cross-validation and
    under leave-one-group-out (the module's docstring).

    Parameters
    ----------
    params, tokens, loss : array_like
        The runs: parameters (count), training tokens, final loss (nats/token); or one
        table as `fit_law` takes it.
    groups : array_like
        Each run's group label for leave-one-group-out (its compute budget, its model
        size).
    folds : int, optional
        k of the k-fold cross-validation (default 10); each fit must keep more than 5
        runs.
    seed : int, optional
        Seeds the folds (default 0).
    families : tuple of str, optional
        Families to compare, from `FAMILIES` (default all: "chinchilla", "gadre",
        "kaplan").

    Returns
    -------
    list of HeldOut
        One row per family, in the order asked: errors in nats/token.

    Raises
    ------
    ScaleplanError
        If a run is not positive, `groups` does not label every run, `folds` leaves a fit
        5 runs or fewer, or a family is unknown.

    Examples
    --------
    Every fold refits every family from many starts (minutes on a small machine), so this
    is not run here:

    >>> from scaleplan import compare_families
    >>> from scaleplan.fitting.datasets import sardana2024_runs
    >>> runs = sardana2024_runs()
    >>> rows = compare_families(runs.params, runs.tokens, runs.loss, groups=runs.params,
    ...                         folds=5, families=("chinchilla", "gadre"))  # doctest: +SKIP
    >>> [row.family for row in rows]  # doctest: +SKIP
    ['chinchilla', 'gadre']
    """
    n, d, l_ = run_columns(params, tokens, loss, ("params", "tokens", "loss"))
    for name, col in (("params", n), ("tokens", d), ("loss", l_)):
        if not np.all(POSITIVE.admits(col)):
            raise first_bad(name, col, ~POSITIVE.admits(col), POSITIVE)
    by_group = _group_folds(groups, len(l_))
    folds = whole("folds", folds, 2, len(l_))
    if len(l_) - math.ceil(len(l_) / folds) <= 5:
        raise ScaleplanError(f"folds: with {folds} folds of {len(l_)} runs a fit keeps "
                             f"{len(l_) - math.ceil(len(l_) / folds)} runs; it needs more "
                             "than 5", "folds")  # fmt: skip
    seed = whole("seed", seed, 0, 2**63 - 1)
    if not (isinstance(families, (tuple, list)) and families):
        raise ScaleplanError(f"families must be a non-empty tuple of names; got "
                             f"{shown(families)}", "families")  # fmt: skip
    families = tuple(choice("families", f, FAMILIES) for f in families)
    order = np.random.default_rng(seed).permutation(len(l_))
    kfold = [np.sort(f) for f in np.array_split(order, folds)]
    out = []
    for family in families:
        full, starts = fit_family(family, n, d, l_)
        starts = [full.theta, *starts][: _KEEP + 1]
        k_mae, k_rmse = _held_out(family, n, d, l_, kfold, starts)
        g_mae, g_rmse = _held_out(family, n, d, l_, by_group, starts)
        in_mae = float(np.mean(np.abs(full.loss(n, d) - l_)))
        out.append(HeldOut(family, len(full.theta), in_mae, k_mae, k_rmse, g_mae, g_rmse))
    return out


def chinchilla_budget_groups(flops: Any) -> NDArray[np.float64]:
    """Each run's nearest of Hoffmann et al.'s nine IsoFLOP budgets (nearest in log FLOPs):
    the groups for leave-one-budget-out on the Chinchilla runs.

    Parameters
    ----------
    flops : array_like
        Each run's training compute, in FLOPs.

    Returns
    -------
    numpy.ndarray
        The budget of each run, in FLOPs.

    Examples
    --------
    >>> import numpy as np
    >>> chinchilla_budget_groups(np.array([5e18, 2.5e20, 1e22])).tolist()
    [6e+18, 3e+20, 3e+21]
    """
    from .isoflop import HOFFMANN_BUDGETS

    b = np.log10(HOFFMANN_BUDGETS)
    lc = np.log10(np.asarray(flops, dtype=float))
    return np.asarray(HOFFMANN_BUDGETS)[np.argmin(np.abs(lc[:, None] - b[None, :]), axis=1)]


def family_table(dataset: str, folds: int = 10, seed: int = 0) -> tuple[list[dict[str, Any]], str]:
    """`compare_families` on a shipped data set, as records and as a text table (the CLI's
    `families` and `reproduce` print it).

    Parameters
    ----------
    dataset : {"chinchilla", "sardana2024"}
        "chinchilla" groups each run by its nearest IsoFLOP budget, "sardana2024" by its
        model size.
    folds : int, optional
        k of the k-fold cross-validation (default 10).
    seed : int, optional
        Seeds the folds (default 0).

    Returns
    -------
    records : list of dict
        One `HeldOut` per family as a dict (errors in nats/token).
    text : str
        The same as a table.

    Examples
    --------
    Every fold refits every family (minutes on a small machine), so this is not run here:

    >>> records, text = family_table("sardana2024", folds=5)  # doctest: +SKIP
    >>> [r["family"] for r in records]  # doctest: +SKIP
    ['chinchilla', 'gadre', 'kaplan']
    """
    from . import datasets

    if dataset == "chinchilla":
        runs = datasets.chinchilla_runs()
        groups, by = chinchilla_budget_groups(runs.extra["flops"]), "budget"
    else:
        runs = datasets.sardana2024_runs()
        groups, by = runs.params, "size"
    rows = compare_families(runs.params, runs.tokens, runs.loss, groups, folds=folds, seed=seed)
    records = [vars(r) for r in rows]
    text = render_table(
        (
            "family",
            "params",
            "in-sample MAE",
            f"{folds}-fold MAE",
            "RMSE",
            f"leave-one-{by}-out MAE",
            "RMSE",
        ),
        [
            (
                r.family,
                str(r.parameters),
                f"{r.in_sample_mae:.4f}",
                f"{r.kfold_mae:.4f}",
                f"{r.kfold_rmse:.4f}",
                f"{r.group_mae:.4f}",
                f"{r.group_rmse:.4f}",
            )
            for r in rows
        ],
    )
    return records, text
