"""Approach 2: IsoFLOP parabolas and the power laws of their minima."""

import json
import math

import numpy as np
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from inprocess import run_cli

import scaleplan as sp
from scaleplan.fitting.isoflop import isoflop_fit, line, parabola


@settings(max_examples=examples(100 / 300), deadline=None)
@given(
    c=st.tuples(st.floats(-5, 5), st.floats(-3, 3), st.floats(0.01, 2)),
    x0=st.floats(15, 25),
    n=st.integers(4, 30),
    seed=st.integers(0, 2**32 - 1),
)
def test_parabola_is_the_least_squares_fit(c, x0, n, seed):
    rng = np.random.default_rng(seed)
    x = x0 + rng.uniform(-2, 2, n)
    y = c[0] + c[1] * (x - x0) + c[2] * (x - x0) ** 2 + rng.normal(0, 0.01, n)
    got = parabola(x, y)
    want = np.polynomial.polynomial.polyfit(x, y, 2)
    fitted = got[0] + got[1] * x + got[2] * x * x
    # measured at most: fitted values 1.6e-12 absolute; slope 3.1e-14 relative (9.8e-15
    # absolute), intercept 5.8e-14 relative (2.3e-13 absolute)
    np.testing.assert_allclose(fitted, np.polynomial.polynomial.polyval(x, want), rtol=0,
                               atol=1e-10)  # fmt: skip
    intercept, slope = line(x, y)
    ref_slope, ref_intercept = np.polyfit(x, y, 1)
    assert slope == pytest.approx(ref_slope, rel=3e-12, abs=1e-12)
    assert intercept == pytest.approx(ref_intercept, rel=5e-12, abs=2e-11)


def test_a_known_law_gives_its_exponents():
    # Noiseless runs of a Chinchilla-form law, 15 sizes per budget around the optimum:
    # the IsoFLOP minimum of the law is N_opt ~ C^(beta / (alpha + beta)) exactly.
    law = sp.ScalingLaw(E=1.8, A=480.0, B=2100.0, alpha=0.35, beta=0.37)
    budgets = np.logspace(18, 22, 9)
    n, d = [], []
    for c in budgets:
        n_opt = float(sp.chinchilla_optimal(compute=c, law=law).params)
        sizes = n_opt * np.exp(np.linspace(-0.6, 0.6, 15))
        n += list(sizes)
        d += list(c / (6 * sizes))
    n, d = np.array(n), np.array(d)
    fit = isoflop_fit(n, d, law.loss(n, d), budgets=budgets, width=0.01, n_resamples=0)
    assert fit.a == pytest.approx(0.37 / 0.72, abs=1e-13)  # measured: 5.6e-16
    assert fit.a + fit.b == pytest.approx(1.0, abs=1e-12)
    assert not fit.skipped and len(fit.profiles) == 9
    c = 1e21
    want = float(sp.chinchilla_optimal(compute=c, law=law).params)
    assert fit.params_for(c) == pytest.approx(want, rel=0.02)


def test_chinchilla_runs():
    # a 0.5101: snapshot of scaleplan's own output on the 240 Chinchilla runs (the README's
    # "Approach 2" quotes it), not an independent source. Hoffmann et al.'s 0.49 is one, and
    # only has to fall inside the interval.
    fit = isoflop_fit(sp.datasets.chinchilla_runs(), n_resamples=300, seed=0)
    assert len(fit.profiles) == 9 and not fit.skipped
    assert fit.a == pytest.approx(0.5101, abs=1e-4)
    lo, hi = fit.intervals["a"]
    assert lo < fit.a < hi and lo < 0.49 < hi
    assert fit.intervals["b"][0] == pytest.approx(1 - hi, abs=1e-12)


def test_skipped_budgets_say_why_and_too_few_is_an_error():
    runs = sp.datasets.chinchilla_runs()
    fit = isoflop_fit(runs, budgets=[1e19, 1e20, 1e23, 2e19], n_resamples=0)
    assert "0 runs" in fit.skipped[1e23]
    assert len(fit.profiles) >= 2
    with pytest.raises(ValueError, match="at least 2 usable"):
        isoflop_fit(runs, budgets=[1e19], n_resamples=0)
    for bad, name in (
        (dict(width=0.0), "width"),
        (dict(width=2.0), "width"),
        (dict(budgets=[1e19, -1.0]), "budgets"),
        (dict(budgets=[1e19, math.nan]), "budgets"),
        (dict(budgets=[1e19, 1e20, 1e19]), "budgets must be distinct"),
        (dict(n_resamples=-1), "n_resamples"),
    ):
        with pytest.raises(ValueError, match=name):
            isoflop_fit(runs, **bad)
    with pytest.raises(ValueError, match="flops"):
        isoflop_fit(runs.params, runs.tokens, runs.loss, flops=-runs.params)


def test_cli():
    out = run_cli(["isoflop", "--dataset", "chinchilla", "--bootstrap", "20", "--json"])
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    # the snapshot of test_chinchilla_runs (scaleplan's own output, not a source)
    assert data["a"] == pytest.approx(0.5101, abs=1e-4) and len(data["profiles"]) == 9
    bad = run_cli(["isoflop", "--dataset", "chinchilla", "--budgets", "1e19"])
    assert bad.returncode == 2 and "at least 2 usable" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_a_table_with_a_flops_column_is_fitted_at_those_flops():
    """A `Runs` table's own `flops` column is used, not 6 N D (mutation testing found the
    table path could ignore it unnoticed while its FLOPs equal 6 N D to rounding). Here
    the column is a quarter above 6 N D, as a count with attention FLOPs might be."""
    from scaleplan.fitting.datasets import Runs
    from scaleplan.fitting.isoflop import HOFFMANN_BUDGETS

    runs = sp.datasets.chinchilla_runs()
    flops = 1.25 * runs.extra["flops"]
    table = Runs(runs.params, runs.tokens, runs.loss, {"flops": flops})
    budgets = tuple(1.25 * b for b in HOFFMANN_BUDGETS)
    from_table = isoflop_fit(table, budgets=budgets, n_resamples=0)
    given = isoflop_fit(runs.params, runs.tokens, runs.loss, flops=flops, budgets=budgets,
                        n_resamples=0)  # fmt: skip
    assert (from_table.a, from_table.b) == (given.a, given.b)
    assert [p.budget for p in from_table.profiles] == [p.budget for p in given.profiles]


def test_flops_given_with_a_table_override_the_tables_column():
    """Flops passed beside a `Runs` table are the ones fitted, not the table's column
    (mutation testing: a test of `flops is None and ...` written with `or` read the
    table's column over them). The table's column is a quarter above 6 N D, the given one
    6 N D, each with its own budgets, so the two fits bin different runs."""
    from scaleplan.fitting.datasets import Runs
    from scaleplan.fitting.isoflop import HOFFMANN_BUDGETS

    runs = sp.datasets.chinchilla_runs()
    table = Runs(runs.params, runs.tokens, runs.loss, {"flops": 1.25 * runs.extra["flops"]})
    given = runs.extra["flops"]
    over = isoflop_fit(table, flops=given, budgets=HOFFMANN_BUDGETS, n_resamples=0)
    arrays = isoflop_fit(runs.params, runs.tokens, runs.loss, flops=given,
                         budgets=HOFFMANN_BUDGETS, n_resamples=0)  # fmt: skip
    own = isoflop_fit(table, budgets=HOFFMANN_BUDGETS, n_resamples=0)
    assert (over.a, over.b) == (arrays.a, arrays.b) != (own.a, own.b)


def test_a_profiles_minimum_is_the_parabolas_vertex():
    """`loss_opt` is the parabola at its vertex, `c0 - c1^2 / (4 c2)` (mutation testing
    found `c1 x` could become `c1 mod x` unnoticed)."""
    fit = isoflop_fit(sp.datasets.chinchilla_runs(), n_resamples=0)
    for p in fit.profiles:
        c0, c1, c2 = p.coefficients
        # Measured: 1.6e-15 at most over the fitted profiles.
        assert p.loss_opt == pytest.approx(c0 - c1 * c1 / (4 * c2), rel=2e-13)


def test_a_profile_whose_minimum_lies_past_the_largest_run_is_refused():
    """The parabola's vertex must lie within the runs' sizes on both sides; mutation
    testing (2026-12-07) found the upper bound untested."""
    from scaleplan.fitting.isoflop import _profile

    n = np.array([1e8, 2e8, 4e8, 8e8, 1.6e9])
    for vertex in (5e9, 3e7):  # above the largest, below the smallest
        loss = 2.0 + 0.05 * (np.log(n) - math.log(vertex)) ** 2
        assert _profile(1e20, 6 * n * 1e10, n, loss) == (
            "the parabola's minimum lies outside the runs' sizes"
        )
    inside = 2.0 + 0.05 * (np.log(n) - math.log(4e8)) ** 2
    assert not isinstance(_profile(1e20, 6 * n * 1e10, n, inside), str)


def test_a_bad_run_is_named_by_its_own_row():
    runs = sp.datasets.chinchilla_runs()
    loss = np.array(runs.loss, dtype=float)
    loss[2] = np.nan
    with pytest.raises(sp.ScaleplanError, match=r"^loss must be .*; got nan at index 2$") as err:
        isoflop_fit(runs.params, runs.tokens, loss)
    assert (err.value.argument, err.value.index) == ("loss", 2)


def test_two_usable_profiles_are_enough_and_one_is_not():
    """Approach 2 fits a line through the profiles' minima: two budgets suffice (their
    bootstrap too), one is refused (mutation testing, 2026-12-07, found both counts
    untested)."""
    runs = sp.datasets.chinchilla_runs()
    two = isoflop_fit(runs, budgets=(6e18, 1e20), n_resamples=50)
    assert len(two.profiles) == 2
    assert all(np.isfinite(two.intervals[k]).all() for k in ("a", "b"))
    with pytest.raises(sp.ScaleplanError, match="at least 2 usable IsoFLOP profiles") as err:
        isoflop_fit(runs, budgets=(1e20,), n_resamples=0)
    assert err.value.argument == "budgets"


def test_the_interval_is_the_central_share_of_the_draws(monkeypatch):
    """A 95% interval is the 2.5th and 97.5th percentiles of the bootstrap draws."""
    import scaleplan.fitting.isoflop as isoflop

    asked = []
    real = np.percentile

    def spy(a, q, *args, **kwargs):
        asked.append(float(q))
        return real(a, q, *args, **kwargs)

    monkeypatch.setattr(isoflop.np, "percentile", spy)
    isoflop_fit(sp.datasets.chinchilla_runs(), n_resamples=20, confidence=0.95)
    assert asked == pytest.approx([2.5, 97.5, 2.5, 97.5], abs=1e-12)
    asked.clear()  # a confidence under one half, where 1 - c and 1 % c differ
    isoflop_fit(sp.datasets.chinchilla_runs(), n_resamples=20, confidence=0.4)
    assert asked == pytest.approx([30.0, 70.0, 30.0, 70.0], abs=1e-12)


def test_a_profile_needs_four_runs_curving_upward():
    """Four runs at least (the parabola's three coefficients and one more), and losses
    that curve upward around the minimum: a concave fit's vertex is a maximum."""
    from scaleplan.fitting.isoflop import _profile

    n = np.array([1e8, 2e8, 4e8, 8e8, 1.6e9])
    up = 2.0 + 0.05 * (np.log(n) - math.log(4e8)) ** 2
    assert _profile(1e20, 6 * n * 1e10, n[:3], up[:3]) == "3 runs (a parabola needs 4)"
    assert not isinstance(_profile(1e20, 6 * n * 1e10, n[:4], up[:4]), str)
    down = 2.0 - 0.05 * (np.log(n) - math.log(4e8)) ** 2
    assert _profile(1e20, 6 * n * 1e10, n, down) == (
        "the losses do not curve upward around a minimum"
    )


def test_many_distinct_budgets_are_accepted():
    """Distinctness is compared by count, for lists of any length (300 here)."""
    runs = sp.datasets.chinchilla_runs()
    fit = isoflop_fit(runs, budgets=np.geomspace(6e18, 3e21, 300), n_resamples=0)
    assert len(fit.profiles) + len(fit.skipped) == 300


BUDGETS = (1e19, 1e20, 1e21)


def test_a_resample_is_fitted_from_three_distinct_runs_and_kept_with_two_profiles(monkeypatch):
    """The bootstrap's rules (mutation testing: both thresholds could move unnoticed): a
    resampled profile is fitted when it holds at least 3 distinct runs (a parabola needs
    3 points), and a resample counts when at least 2 of its profiles are usable. Three
    budgets of exactly 4 runs on an exact parabola: every pick of 3 or 4 distinct sizes
    brackets the vertex, so such profiles are usable, and about a third of the picks have
    only 2 distinct sizes (so draws of 2 and of 3 profiles both occur)."""
    import scaleplan.fitting.isoflop as isoflop

    n, c = [], []
    for budget in BUDGETS:
        vertex = 0.1 * math.sqrt(budget / 6)
        n += [vertex * f for f in (0.25, 0.5, 2.0, 4.0)]
        c += [budget] * 4
    n, c = np.array(n), np.array(c)
    loss = 2.0 + 0.05 * (np.log(n) - np.log(0.1 * np.sqrt(c / 6))) ** 2
    distinct, kept, sizes = [], [], []
    profile, exponents = isoflop._profile, isoflop._exponents

    def spy_profile(budget, flops, params, losses):
        got = profile(budget, flops, params, losses)
        if budget == 0.0:  # a resample's profile (the full fit's carry their budget)
            distinct.append(len(set(params.tolist())))
            kept.append(not isinstance(got, str))
        return got

    def spy_exponents(profiles):
        sizes.append(len(profiles))
        return exponents(profiles)

    monkeypatch.setattr(isoflop, "_profile", spy_profile)
    monkeypatch.setattr(isoflop, "_exponents", spy_exponents)
    isoflop_fit(n, c / (6 * n), loss, flops=c, budgets=BUDGETS, n_resamples=60, seed=1)
    assert min(distinct) == 3 and 4 in distinct and all(kept)
    # The same draws, redone: each resample picks 4 of each budget's runs with
    # replacement from the seed; it gives a draw (one `_exponents` call on its usable
    # profiles) exactly when 2 or more picks hold 3 or more distinct runs.
    rng = np.random.default_rng(1)
    want = [3]  # the full fit's three profiles
    for _ in range(60):
        picks = [rng.choice(np.arange(4) + 4 * i, size=4, replace=True) for i in range(3)]
        usable = sum(len(set(p.tolist())) >= 3 for p in picks)
        want += [usable] if usable >= 2 else []
    assert {2, 3} <= set(want[1:]) and len(want) < 61
    assert sizes == want
