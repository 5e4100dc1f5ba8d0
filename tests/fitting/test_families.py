"""Law families: Rust objectives against the reference, and held-out comparisons that
pick the family a synthetic data set was drawn from."""

import json

import numpy as np
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from inprocess import FAMILIES_GROUP, run_cli

import scaleplan as sp
from scaleplan import _core
from scaleplan.fitting import datasets
from scaleplan.fitting import families as fam
from scaleplan.fitting import family_comparison as fam_cmp
from scaleplan.testing import reference_fits as ref

CHINCHILLA = sp.datasets.chinchilla_runs()


@settings(max_examples=examples(80 / 300), deadline=None)
@given(
    alpha_d=st.floats(0.02, 0.3),
    q=st.floats(0.3, 2.0),
    n_c=st.floats(15.0, 40.0),
    d_c=st.floats(15.0, 40.0),
    delta=st.sampled_from([1e-3, 0.05, 1.0]),
    rows=st.lists(st.integers(0, 239), min_size=1, max_size=40),
)
def test_kaplan_objective_matches_the_reference(alpha_d, q, n_c, d_c, delta, rows):
    n, d, loss = (x[rows] for x in (CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss))
    theta = np.array([alpha_d, q, n_c, d_c])
    f, g = _core.FitRuns(n, d, loss).kaplan_objective(theta, delta)
    want_f, want_g = ref.kaplan_objective(tuple(theta), list(n), list(d), list(loss), delta)
    # measured at most (267 examples): f 1.7e-15 relative (7.1e-15 absolute), g 3.7e-15
    assert f == pytest.approx(want_f, rel=2e-13, abs=1e-14)
    np.testing.assert_allclose(g, want_g, rtol=5e-13, atol=1e-13 * max(1.0, np.abs(want_g).max()))


def test_predictions_are_the_families_formulas():
    n, d = np.array([1e9, 7e10]), np.array([2e10, 1.4e12])
    # Gadre et al. 2024 as they write it, E + (a M^eta + b M^-eta) C^-eta with C = 6 N D and
    # M = D / N, against the fitted parametrisation (ln A, ln B, ln E, alpha) with
    # alpha = 2 eta, A = a 6^-eta, B = b 6^-eta (the module notes).
    e, a, b, eta = 1.8, 1000.0, 4000.0, 0.175
    c, m = 6 * n * d, d / n
    want = e + (a * m**eta + b * m**-eta) * c**-eta
    theta = [np.log(a) - eta * np.log(6), np.log(b) - eta * np.log(6), np.log(e), 2 * eta]
    np.testing.assert_allclose(fam.predict("gadre", theta, n, d), want, rtol=1e-14)
    kaplan = fam.predict("kaplan", [0.095, 0.8, np.log(8.8e13), np.log(5.4e13)], n, d)
    want = ((8.8e13 / n) ** 0.8 + 5.4e13 / d) ** 0.095
    np.testing.assert_allclose(kaplan, want, rtol=1e-12)


def _synthetic(kind, seed=0):
    rng = np.random.default_rng(seed)
    n = np.exp(rng.uniform(np.log(1e8), np.log(2e10), 80))
    d = n * np.exp(rng.uniform(np.log(5), np.log(500), 80))
    if kind == "kaplan":
        loss = ((8.8e13 / n) ** 0.8 + 5.4e13 / d) ** 0.095
    else:
        loss = sp.EPOCH2024.loss(n, d)
    return n, d, loss * np.exp(rng.normal(0, 0.005, 80)), np.round(np.log10(n))


@pytest.mark.parametrize("truth, loser", [("kaplan", "chinchilla"), ("chinchilla", "kaplan")])
def test_held_out_error_picks_the_generating_family(truth, loser):
    n, d, loss, groups = _synthetic(truth)
    rows = {
        r.family: r
        for r in fam_cmp.compare_families(n, d, loss, groups, folds=5, families=(truth, loser))
    }
    assert rows[truth].kfold_mae < 0.8 * rows[loser].kfold_mae
    assert rows[truth].group_mae < 0.8 * rows[loser].group_mae
    # Noise of 0.5% in loss: the true family's held-out error is near its floor.
    assert rows[truth].kfold_mae < 0.01 * float(np.mean(loss))


# `families_computed_once`: one comparison on the Chinchilla runs (90 s of CPU) feeds this
# table, `scaleplan families` below, `reproduce` and the docs' commands (tests/inprocess.py).
@FAMILIES_GROUP
def test_chinchilla_runs_table(families_computed_once):
    # README "Law families": Gadre's one-exponent form is as good as Chinchilla's out of
    # sample on these runs; Kaplan's form (no irreducible loss) is 2.5x worse.
    groups = fam_cmp.chinchilla_budget_groups(CHINCHILLA.extra["flops"])
    rows = {
        r.family: r
        for r in fam_cmp.compare_families(
            CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss, groups
        )
    }
    # snapshot of scaleplan's own output on the 240 Chinchilla runs (5-fold MAE 0.0131, as
    # the README quotes it), not an independent source
    assert rows["chinchilla"].kfold_mae == pytest.approx(0.0131, abs=2e-4)
    assert rows["gadre"].group_mae < rows["chinchilla"].group_mae
    assert rows["kaplan"].kfold_mae > 2 * rows["chinchilla"].kfold_mae
    assert sorted(set(groups)) == sorted(
        set(fam_cmp.chinchilla_budget_groups(CHINCHILLA.extra["flops"]))
    )


@FAMILIES_GROUP
def test_cli_and_bad_input(families_computed_once):
    out = run_cli(["families", "--json"])
    data = json.loads(out.stdout)
    assert [r["family"] for r in data["families"]] == list(fam.FAMILIES)
    # The table is the library's comparison (the same call `test_chinchilla_runs_table` makes).
    groups = fam_cmp.chinchilla_budget_groups(CHINCHILLA.extra["flops"])
    want = fam_cmp.compare_families(CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss, groups)
    assert data["families"] == [vars(r) for r in want]
    bad = run_cli(["families", "--folds", "1"])
    assert bad.returncode == 2 and "--folds" in bad.stderr
    with pytest.raises(ValueError, match="family"):
        fam.fit_family("hoffmann", CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss)
    runs = _core.FitRuns(CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss)
    with pytest.raises(ValueError, match="theta"):
        runs.kaplan_objective(np.ones(5))
    with pytest.raises(ValueError, match="delta"):
        runs.kaplan_objective(np.ones(4), -1.0)


def test_the_command_compares_the_families_it_is_given():
    one = json.loads(run_cli(["families", "--dataset", "sardana2024", "--folds", "2",
                              "--families", "chinchilla", "--json"]).stdout)  # fmt: skip
    assert [r["family"] for r in one["families"]] == ["chinchilla"]
    runs = datasets.sardana2024_runs()  # grouped by model size, as the command does
    want = fam_cmp.compare_families(runs.params, runs.tokens, runs.loss, runs.params, folds=2,
                                    families=("chinchilla",))  # fmt: skip
    assert one["families"] == [vars(r) for r in want]
    bad = run_cli(["families", "--families", "hoffmann"])
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--families" in bad.stderr


def test_the_lean_loop_and_minimize_give_the_same_family_fits(monkeypatch):
    """The families fit through `_lbfgsb.run_setulb` where SciPy's routine has the form
    it expects, else through `minimize`: the same iterates, so the same bits."""
    from scaleplan.fitting import _lbfgsb, families
    from scaleplan.fitting.datasets import chinchilla_runs

    runs = chinchilla_runs()
    calls = []
    real = families.minimize
    monkeypatch.setattr(families, "minimize", lambda *a, **k: calls.append(1) or real(*a, **k))
    for family, starts in (("gadre", families._starts("gadre")[::90]),
                           ("kaplan", families._starts("kaplan")[::20])):  # fmt: skip
        lean = families.fit_family(family, runs.params, runs.tokens, runs.loss, starts=starts)
        monkeypatch.setattr(_lbfgsb, "SETULB", False)
        plain = families.fit_family(family, runs.params, runs.tokens, runs.loss, starts=starts)
        monkeypatch.setattr(_lbfgsb, "SETULB", True)
        assert lean[0].objective == plain[0].objective
        np.testing.assert_array_equal(lean[0].theta, plain[0].theta)
        for a, b in zip(lean[1], plain[1], strict=True):
            np.testing.assert_array_equal(a, b)
    assert len(calls) == 8 + 5  # minimize ran only where SETULB was off, once a start
