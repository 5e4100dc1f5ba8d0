"""`compare_families`' bookkeeping, with the law fits swapped for a stand-in whose
held-out predictions have a closed form: the errors it reports, the starts it hands the
held-out fits, the groups and folds it refuses; and the data sets `family_table` reads.
(The family fits themselves: test_families.py.)"""

import math
import re

import numpy as np
import pytest

from scaleplan.errors import ScaleplanError
from scaleplan.fitting import datasets
from scaleplan.fitting import family_comparison as fam_cmp
from scaleplan.fitting.families import HELD_OUT_STARTS
from scaleplan.fitting.isoflop import HOFFMANN_BUDGETS


class _MeanFit:
    """Predicts every run's loss as the mean loss of the runs it was fitted to."""

    def __init__(self, loss):
        self.mean = float(np.mean(loss))
        self.theta = np.array([self.mean, 0.5])

    def loss(self, n, d):
        return np.full(len(n), self.mean)


# The full fit's best starts besides its optimum: `fit_family` returns at most
# HELD_OUT_STARTS of them (families.py), distinct here so a dropped one shows.
BEST_STARTS = [np.array([10.0 + k, 20.0 + k]) for k in range(HELD_OUT_STARTS)]


@pytest.fixture
def mean_fits(monkeypatch):
    """`fit_family` as `_MeanFit`; returns the list of (runs fitted, starts) per call."""
    calls = []

    def fit_family(family, n, d, loss, *, starts=None):
        calls.append((len(loss), None if starts is None else np.array(starts)))
        return _MeanFit(loss), list(BEST_STARTS)

    monkeypatch.setattr(fam_cmp, "fit_family", fit_family)
    return calls


def _runs(count):
    n = np.geomspace(1e8, 1e10, count)
    return n, 20 * n, np.linspace(2.0, 3.0, count)


def _compare(loss, groups, **kw):
    n = np.geomspace(1e8, 1e10, len(loss))
    return fam_cmp.compare_families(n, 20 * n, loss, groups, **kw)


def test_held_out_errors_of_a_mean_predictor_have_their_closed_form(mean_fits):
    # Three groups of three runs; loss 2.0, 2.3, 2.9 by group, mean 2.4.
    loss = np.repeat([2.0, 2.3, 2.9], 3)
    groups = np.repeat([7, 8, 9], 3)
    # Leave-one-out (9 folds of 9 runs, whatever the seed's order): a run's prediction is
    # the mean of the other 8, (9 m - l) / 8, so its error is -(9 / 8)(l - m) for the
    # deviations l - m = -0.4, -0.1, 0.5 (each 3 times).
    (row,) = _compare(loss, groups, folds=9, families=("gadre",))
    dev = np.array([-0.4, -0.1, 0.5])
    assert row.family == "gadre" and row.parameters == 2  # len(_MeanFit.theta)
    assert row.in_sample_mae == pytest.approx(np.mean(np.abs(dev)), rel=1e-12)
    assert row.kfold_mae == pytest.approx(9 / 8 * np.mean(np.abs(dev)), rel=1e-12)
    assert row.kfold_rmse == pytest.approx(9 / 8 * math.sqrt(np.mean(dev**2)), rel=1e-12)
    # Leave-one-group-out: each group predicted by the other two groups' mean:
    # 2.6 - 2.0 = 0.6, 2.45 - 2.3 = 0.15, 2.15 - 2.9 = -0.75.
    errors = np.array([0.6, 0.15, -0.75])
    assert row.group_mae == pytest.approx(np.mean(np.abs(errors)), rel=1e-12)
    assert row.group_rmse == pytest.approx(math.sqrt(np.mean(errors**2)), rel=1e-12)
    # measured: every value above within 2e-16 relative of its closed form
    assert [size for size, _ in mean_fits] == [9] + [8] * 9 + [6] * 3


def test_held_out_fits_start_from_the_full_optimum_and_its_best_starts(mean_fits):
    loss = np.repeat([2.0, 2.3, 2.9], 3)
    assert len(_compare(loss, np.repeat([1, 2, 3], 3), folds=3, families=("kaplan",))) == 1
    full_theta = [2.4, 0.5]  # `_MeanFit` of all nine runs
    want = np.array([full_theta, *BEST_STARTS])  # HELD_OUT_STARTS + 1 starts
    (full_starts,) = [s for _, s in mean_fits if s is None]
    held_out = [s for _, s in mean_fits if s is not None]
    assert full_starts is None and len(held_out) == 3 + 3
    for starts in held_out:
        np.testing.assert_allclose(starts, want, rtol=1e-14)


def test_two_groups_of_six_and_two_folds_of_six_are_enough(mean_fits):
    # The boundaries: leaving out one group or one fold keeps 6 runs, one more than a fit
    # needs. Each half is predicted by the other half's mean, 0.5 away.
    loss = np.repeat([2.0, 2.5], 6)
    (row,) = _compare(loss, np.repeat(["small", "large"], 6), folds=2, families=("gadre",))
    assert row.group_mae == pytest.approx(0.5, rel=1e-12)
    assert row.group_rmse == pytest.approx(0.5, rel=1e-12)


@pytest.mark.parametrize(
    "labels",
    [
        np.repeat(["a", "b", "c"], 4),  # strings: no NaN to look for
        np.repeat(["a", "b", "c"], 4).astype(object),  # Python strings
        np.repeat([0.5, -1.0, 3.0], 4),  # floats, finite
    ],
)
def test_any_labels_of_one_type_group_the_same_runs(mean_fits, labels):
    loss = np.linspace(2.0, 3.1, 12)
    (want,) = _compare(loss, np.repeat([0, 1, 2], 4), folds=3, families=("gadre",))
    (got,) = _compare(loss, labels, folds=3, families=("gadre",))
    assert (got.group_mae, got.group_rmse) == (want.group_mae, want.group_rmse)


def test_hundreds_of_runs_and_the_largest_seed_are_accepted(mean_fits):
    # 300 runs: more than the small integers CPython shares, so the count of labels is
    # compared by value. The seed's bound is the largest 64-bit signed integer.
    n, d, loss = _runs(300)
    (row,) = fam_cmp.compare_families(n, d, loss, np.arange(300) % 3, seed=2**63 - 1,
                                      families=("gadre",))  # fmt: skip
    assert 0 < row.in_sample_mae < row.kfold_mae < 0.3


def _refusal(count, groups, **kw):
    n, d, loss = _runs(count)
    kw = {"folds": 3, "families": ("gadre",), **kw}
    with pytest.raises(ScaleplanError) as info:
        fam_cmp.compare_families(n, d, loss, groups, **kw)
    return info.value


TWOS = np.repeat(np.arange(5), 2)  # 10 runs in 5 groups of 2


@pytest.mark.parametrize(
    "count, groups, kw, argument, words",
    [
        (9, 5, {}, "groups", r"one label per run \(9\); got shape \(\)"),
        (9, np.arange(9).reshape(9, 1) % 3, {}, "groups", r"got shape \(9, 1\)"),
        (9, np.arange(10) % 3, {}, "groups", r"one label per run \(9\); got shape \(10,\)"),
        (9, [0.0, 0, 0, 1, 1, 1, 2, 2, np.nan], {}, "groups", "NaN or infinite"),
        (9, [0.0, 0, 0, 1, 1, 1, 2, 2, np.inf], {}, "groups", "NaN or infinite"),
        (9, np.array(["a"] * 4 + ["b"] * 4 + [None], object), {}, "groups", "None labels"),
        (9, np.array([1] * 4 + ["b"] * 5, object), {}, "groups", "one comparable type"),
        # Missing labels in every dtype that holds one: each is unequal to itself, so it
        # would be a group of its own and its run never held out (an assertion, not a
        # ScaleplanError, before 2026-12-07).
        (9, np.array([0, 0, 0, 1, 1, 1, 2, 2, complex("nan")]), {}, "groups", "NaN or inf"),
        (9, np.array([0, 0, 0, 1, 1, 1, 2, 2, complex("inf")]), {}, "groups", "NaN or inf"),
        (9, np.array([0, 0, 0, 1, 1, 1, 2, 2, np.nan], object), {}, "groups", "NaN or inf"),
        (9, np.array([0, 0, 0, 1, 1, 1, 2, 2, "NaT"], "m8[s]"), {}, "groups", "NaN or inf"),
        (9, np.array([0, 0, 0, 1, 1, 1, 2, 2, "NaT"], "M8[D]"), {}, "groups", "NaN or inf"),
        (9, np.zeros(9), {}, "groups", "at least 2 groups for leave-one-group-out; got 1"),
        (10, np.repeat([0, 1], 5), {}, "groups", "keeps 5 runs; a fit needs more than 5"),
        (10, np.repeat([0, 1], [6, 4]), {}, "groups", "keeps 4 runs"),
        (9, np.arange(9) % 3, {"folds": 1}, "folds", r"integer in \[2, 9\]; got 1"),
        (10, TWOS, {"folds": 2}, "folds", "with 2 folds of 10 runs a fit keeps 5 runs"),
        (11, np.arange(11) % 3, {"folds": 2}, "folds", "2 folds of 11 runs a fit keeps 5 runs"),
        (8, np.arange(8) % 4, {"folds": 2}, "folds", "2 folds of 8 runs a fit keeps 4 runs"),
        (9, np.arange(9) % 3, {"seed": 2**63}, "seed", r"\[0, 9223372036854775807\]"),
        (9, np.arange(9) % 3, {"seed": -1}, "seed", "got -1"),
        (9, np.arange(9) % 3, {"families": "gadre"}, "families", "non-empty tuple of names"),
        (9, np.arange(9) % 3, {"families": ()}, "families", "non-empty tuple of names"),
    ],
)
def test_comparisons_that_are_not_held_out_are_refused(
    mean_fits, count, groups, kw, argument, words
):
    err = _refusal(count, groups, **kw)
    assert err.argument == argument
    assert re.search(words, str(err)), str(err)
    assert mean_fits == []  # refused before any fit


def test_a_bad_run_is_named_by_its_column_and_row(mean_fits):
    n, d, loss = _runs(9)
    d[3] = -1.0
    with pytest.raises(ScaleplanError) as info:
        fam_cmp.compare_families(n, d, loss, np.arange(9) % 3, folds=3)
    assert (info.value.argument, info.value.index) == ("tokens", 3)
    assert "got -1.0 at index 3" in str(info.value)


def test_each_run_goes_to_the_nearest_budget_in_log_flops():
    budgets = np.array(HOFFMANN_BUDGETS)
    # The log midpoint of 6e18 and 1e19 is sqrt(6e37) = 7.746e18; beyond the ends, the
    # end budgets.
    flops = np.concatenate([budgets, [7.7e18, 7.8e18, 1e17, 1e22, 2.9e21]])
    want = np.concatenate([budgets, [6e18, 1e19, 6e18, 3e21, 3e21]])
    np.testing.assert_array_equal(fam_cmp.chinchilla_budget_groups(flops), want)


def test_the_table_of_a_data_set_compares_its_runs_by_its_groups(monkeypatch):
    seen = []

    def compare_families(params, tokens, loss, groups, **kw):
        seen.append(np.asarray(groups))
        return [fam_cmp.HeldOut("gadre", 4, 0.01, 0.02, 0.03, 0.04, 0.05)]

    monkeypatch.setattr(fam_cmp, "compare_families", compare_families)
    # A name read from the command line is a new string, not the literal itself.
    records, text = fam_cmp.family_table("".join(["chin", "chilla"]), folds=5)
    runs = datasets.chinchilla_runs()
    np.testing.assert_array_equal(seen[0], fam_cmp.chinchilla_budget_groups(runs.extra["flops"]))
    assert "5-fold MAE" in text and "leave-one-budget-out MAE" in text
    assert records == [vars(fam_cmp.HeldOut("gadre", 4, 0.01, 0.02, 0.03, 0.04, 0.05))]
    _, text = fam_cmp.family_table("sardana2024")
    np.testing.assert_array_equal(seen[1], datasets.sardana2024_runs().params)
    assert "leave-one-size-out MAE" in text


def test_a_data_set_the_table_does_not_ship_is_refused_by_name(monkeypatch):
    # Any name but "chinchilla" used to run the Sardana data set silently.
    monkeypatch.setattr(fam_cmp, "compare_families", lambda *a, **k: pytest.fail("ran"))
    for name in ("Chinchilla", "sardana", "", None):
        with pytest.raises(ScaleplanError, match="dataset must be one of chinchilla, sar") as e:
            fam_cmp.family_table(name)
        assert e.value.argument == "dataset"


def test_labels_of_other_kinds_without_missing_values_group_the_runs(mean_fits):
    # Dates, durations and complex numbers are labels like any other once none is missing.
    n, d, loss = _runs(9)
    want = fam_cmp.compare_families(n, d, loss, np.arange(9) % 3, folds=3)
    for labels in (np.arange(9) % 3 * np.timedelta64(1, "s"), np.arange(9) % 3 + 0j,
                   (np.arange(9) % 3).astype("M8[D]")):  # fmt: skip
        assert fam_cmp.compare_families(n, d, loss, labels, folds=3) == want
