"""Law families at their edges: Kaplan's form past its critical scales, family names that
are equal but not identical strings, and which of the multi-start fits `fit_family` keeps."""

import numpy as np
import pytest

import scaleplan as sp
from scaleplan import _core
from scaleplan.fitting import families as fam

CHINCHILLA = sp.datasets.chinchilla_runs()
DELTA = 1e-3  # the families' Huber delta (module docstring)


def _fresh(name):
    """`name` as a new string object: what a command line, a JSON file or a join gives,
    equal to the module's literal but not the same interned object."""
    fresh = "".join(list(name))
    assert fresh == name and fresh is not name
    return fresh


def _kaplan(theta, n, d):
    """Kaplan et al. 2020, Eq. 1.5, as they write it: `((N_c / N)^q + D_c / D)^alpha_D`."""
    alpha_d, q, ln_nc, ln_dc = theta
    return ((np.exp(ln_nc) / n) ** q + np.exp(ln_dc) / d) ** alpha_d


@pytest.mark.parametrize(
    "theta",
    [
        # N and D beyond N_c and D_c: ln N_c - ln N and ln D_c - ln D are negative.
        (0.1, 0.9, 10.0, 12.0),
        # ln N_c and ln D_c more than twice ln N and ln D: the differences exceed them.
        (0.05, 1.3, 60.0, 64.0),
        # Between: 2 ln N > ln N_c > ln N, the regime of the fits to the shipped runs.
        (0.095, 0.8, np.log(8.8e13), np.log(5.4e13)),
    ],
)
def test_kaplan_prediction_is_eq_1_5_past_its_critical_scales(theta):
    n = np.array([3e8, 7e10, 1e13])
    d = np.array([6e9, 1.4e12, 2e14])
    # The two forms differ only in rounding: measured 2.2e-16 relative at most.
    np.testing.assert_allclose(fam.predict("kaplan", theta, n, d), _kaplan(theta, n, d), rtol=1e-13)


def test_predict_reads_family_names_by_value():
    # rtol 1e-13 below: measured 2.2e-16 relative for kaplan, equal bits for the others
    n, d = np.array([1e9, 7e10]), np.array([2e10, 1.4e12])
    kaplan = (0.1, 0.8, 31.0, 30.0)
    np.testing.assert_allclose(
        fam.predict(_fresh("kaplan"), kaplan, n, d), _kaplan(kaplan, n, d), rtol=1e-13
    )
    # Gadre's form is Chinchilla's with beta = alpha (module docstring).
    a, b, e, alpha = 6.0, 7.0, 0.5, 0.3
    want = np.exp(e) + np.exp(a) * n**-alpha + np.exp(b) * d**-alpha
    got = fam.predict(_fresh("gadre"), (a, b, e, alpha), n, d)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    beta = 0.4
    want = np.exp(e) + np.exp(a) * n**-alpha + np.exp(b) * d**-beta
    got = fam.predict(_fresh("chinchilla"), (a, b, e, alpha, beta), n, d)
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_fit_family_reads_family_names_by_value():
    """A family named by an equal string fits the same form from the same starts as the
    literal name: same objective function, same iterates, same bits."""
    runs = (CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss)
    cases = {
        "gadre": [[6.0, 7.0, 0.5, 0.34], [5.0, 6.0, 0.0, 0.5]],
        "kaplan": [[0.07, 0.8, 28.0, 30.0], [0.15, 1.2, 36.0, 24.0]],
        "chinchilla": [[6.0, 7.0, 0.5, 0.34, 0.34]],
    }
    for family, starts in cases.items():
        fit, best = fam.fit_family(_fresh(family), *runs, starts=np.array(starts))
        want, want_best = fam.fit_family(family, *runs, starts=np.array(starts))
        assert fit.family == family
        assert len(fit.theta) == len(starts[0])
        assert fit.objective == want.objective
        np.testing.assert_array_equal(fit.theta, want.theta)
        for x, y in zip(best, want_best, strict=True):
            np.testing.assert_array_equal(x, y)
    # The family's own grid of starts (the default) is chosen by value too.
    for family in ("gadre", "kaplan"):
        np.testing.assert_array_equal(fam._starts(_fresh(family)), fam._starts(family))


def test_gadre_fits_from_distant_starts_reach_one_minimum():
    """L-BFGS-B follows the gradient it is given: a wrong component of the one-exponent
    gradient (Chinchilla's with alpha's and beta's parts summed) stops the fits at
    different points off the minimum."""
    runs = _core.FitRuns(CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss)

    def objective(theta):
        a, b, e, alpha = theta
        return runs.objective(np.array([a, b, e, alpha, alpha]), DELTA)[0]

    data = (CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss)
    starts = ([6.0, 7.0, 0.5, 0.34], [5.0, 6.0, 0.0, 0.5])
    fits = [fam.fit_family("gadre", *data, starts=np.array([s]))[0] for s in starts]
    # measured: objectives 4.6e-14 relative apart, thetas 4.3e-7 apart
    assert fits[0].objective == pytest.approx(fits[1].objective, rel=1e-11)
    np.testing.assert_allclose(fits[0].theta, fits[1].theta, atol=1e-5)
    for fit in fits:
        assert fit.objective == pytest.approx(objective(fit.theta), rel=1e-12)
        # The minimum along each axis, by the objective alone (no gradient): a step of
        # 1e-5 raises it by at least 4.9e-11 (measured, along a); a fit off the minimum by
        # the 4.3e-7 the two fits differ by moves that by under 1e-11.
        for step in 1e-5 * np.eye(4):
            assert fit.objective < min(objective(fit.theta + step), objective(fit.theta - step))


# Starts of Kaplan's form on the Chinchilla runs: the second reaches the grid's optimum,
# the others (critical scales e^18 to e^20, far below the runs) in poor local optima with
# distinct objectives 0.0210-0.0212 against 0.0027.
KAPLAN_STARTS = np.array(
    [
        [0.03, 0.5, 20.0, 18.0],
        [0.11, 0.8, 30.0, 31.0],
        [0.07, 0.5, 20.0, 18.0],
        [0.03, 1.2, 20.0, 18.0],
        [0.15, 0.8, 20.0, 18.0],
        [0.07, 1.2, 20.0, 18.0],
    ]
)


def test_fit_family_keeps_the_lowest_start_and_the_best_four():
    runs = (CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss)
    # Each start's L-BFGS-B run is independent of the others: fitted one at a time, they
    # give the candidates the multi-start fit chooses among.
    alone = [fam.fit_family("kaplan", *runs, starts=s[None]) for s in KAPLAN_STARTS]
    objectives = [fit.objective for fit, _ in alone]
    assert len(set(objectives)) == len(KAPLAN_STARTS)  # distinct optima: no ties below
    fit, best = fam.fit_family("kaplan", *runs, starts=KAPLAN_STARTS)
    lowest = int(np.argmin(objectives))
    assert lowest == 1
    assert fit.objective == objectives[lowest]
    np.testing.assert_array_equal(fit.theta, alone[lowest][0].theta)
    # "Up to 4 of the best points found, lowest first" (HELD_OUT_STARTS), from 6 starts.
    assert fam.HELD_OUT_STARTS == 4
    assert len(best) == 4
    order = np.argsort(objectives)[:4]
    for x, i in zip(best, order, strict=True):
        np.testing.assert_array_equal(x, alone[i][0].theta)
    kaplan = _core.FitRuns(*runs).kaplan_objective
    values = [kaplan(np.asarray(x), DELTA)[0] for x in best]
    assert values == sorted(values)
    np.testing.assert_array_equal(best[0], fit.theta)


def test_fit_family_from_one_start():
    fit, best = fam.fit_family(
        "kaplan", CHINCHILLA.params, CHINCHILLA.tokens, CHINCHILLA.loss,
        starts=KAPLAN_STARTS[1:2],
    )  # fmt: skip
    assert len(best) == 1
    np.testing.assert_array_equal(best[0], fit.theta)
    # This start reaches the basin of the grid's optimum (objective 0.0027), not the poor
    # local optima (0.021) of the others.
    assert 0 < fit.objective < 0.01


@pytest.mark.parametrize(
    ("family", "theta", "argument", "words"),
    [
        # An unknown name used the Chinchilla form (1.8130 for "hoffmann") before 2026-12-07.
        ("hoffmann", [6.0, 7.0, 0.5, 0.34, 0.34], "family", "one of chinchilla, gadre, kap"),
        ("Gadre", [6.0, 7.0, 0.5, 0.34], "family", "got 'Gadre'"),
        ("gadre", [6.0, 7.0, 0.5], "theta", "the 4 parameters of the gadre family; got 3"),
        ("chinchilla", [6.0, 7.0, 0.5, 0.3], "theta", "the 5 parameters of the chinchilla"),
        ("kaplan", [0.1, 1.0, 30.0, 30.0, 1.0], "theta", "the 4 parameters of the kaplan"),
        ("gadre", "abcd", "theta", "real number or an array"),
    ],
)
def test_predict_refuses_an_unknown_family_or_a_theta_of_another_length(
    family, theta, argument, words
):
    with pytest.raises(sp.ScaleplanError, match=words) as err:
        fam.predict(family, theta, 7e10, 1.4e12)
    assert err.value.argument == argument
