"""Law families compared out of sample (`families` fits each): per family, the mean absolute
and root-mean-square error in loss (nats) of held-out runs under k-fold cross-validation
(folds drawn from a seed) and under leave-one-group-out (the group a run belongs to: its
compute budget, its model size), and the table of them for a shipped data set.
"""

from __future__ import annotations

import cmath
import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._utils.checks import POSITIVE, choice, first_bad, shown, whole
from .._utils.frames import Record
from .._utils.text import render_table
from ..errors import ScaleplanError
from ._solver import run_columns
from .families import FAMILIES, HELD_OUT_STARTS, fit_family

__all__ = ["HeldOut", "chinchilla_budget_groups", "compare_families", "family_table"]


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


def _missing(labels: np.ndarray) -> bool:
    """Whether a label is NaN, NaT or infinite, in any dtype that can hold one (a float
    NaN in an object array too): such a label is not equal to itself, so `np.unique`
    would make it a group of its own and the folds would not cover every run."""
    kind = labels.dtype.kind
    if kind in "fc":
        return not bool(np.all(np.isfinite(labels)))
    if kind in "mM":
        return bool(np.any(np.isnat(labels)))
    if kind == "O":
        return any(_missing_one(g) for g in labels)
    return False


def _missing_one(label: Any) -> bool:
    if isinstance(label, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(label))
    if isinstance(label, numbers.Complex):  # bool, int, float, complex and NumPy's
        return not cmath.isfinite(complex(label))
    return False


def _group_folds(groups: Any, count: int) -> list[NDArray[np.intp]]:
    """Leave-one-group-out folds: the runs of each group. Labels are one per run, none
    missing (NaN or None), in at least two groups, so every fold is held out from a fit
    to other runs; a fold of all runs would report the in-sample error as held-out."""
    labels = np.asarray(groups)
    if labels.ndim != 1 or len(labels) != count:
        raise ScaleplanError(f"groups must give one label per run ({count}); got shape "
                             f"{labels.shape}", "groups")  # fmt: skip
    if _missing(labels):
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
        starts = [full.theta, *starts][: HELD_OUT_STARTS + 1]
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


def family_table(
    dataset: str, folds: int = 10, seed: int = 0, families: tuple[str, ...] = FAMILIES
) -> tuple[list[dict[str, Any]], str]:
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
    families : tuple of str, optional
        Families to compare, from `FAMILIES` (default all).

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

    dataset = choice("dataset", dataset, ("chinchilla", "sardana2024"))
    if dataset == "chinchilla":
        runs = datasets.chinchilla_runs()
        groups, by = chinchilla_budget_groups(runs.extra["flops"]), "budget"
    else:
        runs = datasets.sardana2024_runs()
        groups, by = runs.params, "size"
    rows = compare_families(runs.params, runs.tokens, runs.loss, groups, folds=folds, seed=seed,
                            families=families)  # fmt: skip
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
