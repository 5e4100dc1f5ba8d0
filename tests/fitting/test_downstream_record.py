"""The `DownstreamFit` record: when a mapping is usable and why not, the score it predicts,
the scores `loss_for` accepts, and the ranges `fit_downstream` and `bootstrap_losses`
accept for their arguments.

The records are built by hand, so each test picks the field it is about; the expected
values come from the module's documented rules (fewer than half the runs at chance,
held-out R^2 at least 0.5, `g` not within 1% of an end of [1e-3, 100]) and from the
mapping `error = e - k exp(-g loss)` written out."""

import dataclasses
import math

import numpy as np
import pytest

from scaleplan.fitting.downstream import (
    DownstreamFit,
    bootstrap_losses,
    fit_downstream,
    sardana_downstream,
)

LOSS = [2.4, 2.6, 2.8, 3.0, 3.2, 3.4]
SCORE = [0.42, 0.36, 0.30, 0.25, 0.21, 0.18]


def _mapping(**changes):
    """A usable mapping (a tenth of runs at chance, R^2 0.9, g inside its range), with
    `changes` applied."""
    base = DownstreamFit(
        benchmark="custom",
        e=0.75,
        k=0.5,
        g=2.0,
        n=20,
        chance=0.0,
        at_chance=0.1,
        held_out_mae=0.01,
        held_out_r2=0.9,
        baseline_mae=0.1,
        loss_range=(2.0, 4.0),
    )
    return dataclasses.replace(base, **changes)


# `g` is searched over [1e-3, 100]; a `g` within 1% of either end (at or below
# 1.01e-3, at or above 100 / 1.01 = 99.0099...) is where the search stopped at its edge.
@pytest.mark.parametrize(
    "g, at_bound",
    [
        (1e-3, True),  # the lower end itself
        (1.005e-3, True),  # inside 1% of it, above 1e-3 % 1.01
        (1.5e-3, False),  # 1.5x the lower end: an interior optimum
        (0.5, False),
        (60.0, False),
        (99.0, False),  # above 100 - 1.01 and 99 / 1.01, below 100 / 1.01
        (99.005, False),  # above 100 // 1.01 = 99, below 100 / 1.01
        (99.02, True),  # inside 1% of the upper end
        (100.0, True),  # the upper end itself
    ],
)
def test_at_bound_is_g_within_one_percent_of_an_end_of_its_search_range(g, at_bound):
    m = _mapping(g=g)
    assert m.at_bound is at_bound
    assert m.usable is not at_bound  # the other two conditions hold
    assert ("sits at an edge" in m.verdict()) is at_bound


@pytest.mark.parametrize(
    "changes, usable",
    [
        ({}, True),
        ({"at_chance": 0.0}, True),
        ({"at_chance": 0.49}, True),
        ({"at_chance": 0.5}, False),  # half the runs at chance: "fewer than half" fails
        ({"at_chance": 0.6}, False),
        ({"at_chance": 1.0}, False),
        ({"held_out_r2": 0.5}, True),  # "at least 0.5"
        ({"held_out_r2": 0.49}, False),
        ({"held_out_r2": 0.3}, False),
        ({"held_out_r2": -0.3}, False),
        ({"held_out_r2": -math.inf}, False),  # the runs' errors were all equal
        ({"g": 100.0}, False),
        ({"at_chance": 0.6, "held_out_r2": 0.3}, False),
        ({"at_chance": 0.6, "g": 100.0}, False),
        ({"at_chance": 0.1, "held_out_r2": 0.3}, False),
        ({"held_out_r2": 0.3, "g": 100.0}, False),
        ({"at_chance": 0.6, "held_out_r2": 0.3, "g": 1e-3}, False),
    ],
)
def test_usable_needs_every_condition_and_agrees_with_the_verdict(changes, usable):
    m = _mapping(**changes)
    assert m.usable is usable
    # The verdict is the refusal's reason: "usable" exactly when nothing is wrong.
    assert (m.verdict() == "usable") is usable


def test_the_verdict_names_each_reason_in_its_own_words():
    assert _mapping().verdict() == "usable"
    assert _mapping(at_chance=0.6).verdict() == "60% of runs score within 0.02 of chance"
    assert _mapping(at_chance=0.5).verdict() == "50% of runs score within 0.02 of chance"
    assert _mapping(held_out_r2=0.3).verdict() == "held-out R^2 0.30 < 0.5"
    assert _mapping(g=100.0).verdict() == "g = 100 sits at an edge of its range (0.001, 100.0)"
    everything = _mapping(at_chance=0.75, held_out_r2=-0.25, g=1e-3).verdict()
    assert everything.split("; ") == [
        "75% of runs score within 0.02 of chance",
        "held-out R^2 -0.25 < 0.5",
        "g = 0.001 sits at an edge of its range (0.001, 100.0)",
    ]


def test_loss_for_refuses_an_unusable_mapping_with_its_reason():
    m = _mapping(held_out_r2=0.3)
    with pytest.raises(ValueError, match=r"not usable for planning: held-out R\^2 0\.30") as err:
        m.loss_for(0.5)
    assert err.value.argument == "score"


def test_score_is_one_minus_the_error_line():
    # e above 1: a gauntlet score centred on chance, negative at high loss. By hand:
    # 1 - 1.05 + 0.5 exp(-2 * 1.5) = -0.05 + 0.5 * 0.049787068367863944.
    m = _mapping(e=1.05, k=0.5, g=2.0)
    assert float(m.score(1.5)) == pytest.approx(-0.05 + 0.5 * 0.049787068367863944, rel=1e-14)
    assert float(m.score(math.inf)) == pytest.approx(-0.05, rel=1e-14)
    assert float(m.score(0.0)) == pytest.approx(0.45, rel=1e-14)


def test_loss_for_is_the_mapping_inverted_between_its_infinite_and_zero_loss_scores():
    # e = 0.75, k = 0.5: the score runs from 1 - e = 0.25 (infinite loss) to
    # 1 - e + k = 0.75 (zero loss), both exact in binary.
    m = _mapping(e=0.75, k=0.5, g=2.0)
    # 0.5: (e - (1 - 0.5)) / k = 1/2, so loss = ln 2 / g.
    assert m.loss_for(0.5) == pytest.approx(math.log(2.0) / 2.0, rel=1e-15)
    for unreachable in (0.25, 0.75, 0.2, 0.8):
        with pytest.raises(ValueError, match=r"score must be in \(0\.25, 0\.75\)") as err:
            m.loss_for(unreachable)
        assert err.value.argument == "score"


def test_loss_for_stops_at_the_zero_loss_score_below_one():
    # e = 1.05, k = 0.5: the score at zero loss is 1 - 1.05 + 0.5 = 0.45, well below 1,
    # so 0.47 needs a negative loss.
    m = _mapping(e=1.05, k=0.5, g=2.0)
    # 0.44: (1.05 - 0.56) / 0.5 = 0.98, so loss = -ln(0.98) / 2.
    assert m.loss_for(0.44) == pytest.approx(-math.log(0.98) / 2.0, rel=1e-12)
    # -0.05 is `low` itself, though 1 - 1.05 rounds to -0.050000000000000044 below it:
    # then 1 - s is exactly e and the loss infinite (returned as inf before 2026-12-07).
    for unreachable in (0.45, 0.47, 0.5, -0.05, -0.06, -0.2):
        with pytest.raises(ValueError, match=r"score must be in \(-0\.05, 0\.45\)"):
            m.loss_for(unreachable)


def test_loss_for_stops_below_a_perfect_score():
    # k far above e: the zero-loss score 1 - 0.9 + 3 = 3.1 is beyond 1, so 1 caps it.
    m = _mapping(e=0.9, k=3.0, g=2.0)
    # 0.99: (0.9 - 0.01) / 3, so loss = ln(3 / 0.89) / 2.
    assert m.loss_for(0.99) == pytest.approx(math.log(3.0 / 0.89) / 2.0, rel=1e-12)
    for unreachable in (1.0, 1.5):
        with pytest.raises(ValueError, match=r"score must be in \(0\.1, 1\)"):
            m.loss_for(unreachable)


def test_loss_for_names_the_first_unreachable_score():
    m = _mapping(e=0.75, k=0.5, g=2.0)
    with pytest.raises(ValueError, match="score must be in") as err:
        m.loss_for(np.array([0.5, 0.9, 0.6, 0.1]))
    assert str(err.value).endswith(f"got {np.float64(0.9)!r}")
    assert err.value.argument == "score"


def test_loss_for_gives_a_float_for_one_score_and_an_array_for_several():
    m = _mapping(e=0.75, k=0.5, g=2.0)
    assert type(m.loss_for(0.5)) is float
    assert type(m.loss_for(np.float64(0.5))) is float
    many = m.loss_for([[0.5], [0.5]])
    assert isinstance(many, np.ndarray) and many.shape == (2, 1)


def test_fit_downstream_takes_a_chance_score_in_zero_to_one():
    # A chance score is a share of questions: 0 (a centred gauntlet) up to, not
    # including, 1.
    for chance in (0.0, 0.25):
        assert fit_downstream(LOSS, SCORE, chance=chance).chance == chance
    for chance in (-0.5, 1.0, 1.5, math.nan):
        with pytest.raises(ValueError, match="chance") as err:
            fit_downstream(LOSS, SCORE, chance=chance)
        assert err.value.argument == "chance"


def test_fit_downstream_takes_a_perfect_score():
    # A run may answer every question: 1 is a valid score, only above 1 is refused.
    f = fit_downstream(LOSS, [1.0, 0.8, 0.6, 0.45, 0.35, 0.3])
    assert f.n == 6
    with pytest.raises(ValueError, match="score") as err:
        fit_downstream(LOSS, [1.01, 0.8, 0.6, 0.45, 0.35, 0.3])
    assert err.value.argument == "score" and err.value.index == 0


def test_bootstrap_losses_takes_a_score_strictly_between_zero_and_one():
    fit = sardana_downstream()
    for score in (0.0, -0.5, 1.0):
        with pytest.raises(ValueError, match="score") as err:
            bootstrap_losses(fit, score, n_resamples=1)
        assert err.value.argument == "score"


def test_loss_for_never_returns_a_negative_loss_a_rounding_below_the_zero_loss_score():
    # e = 1.215, k = 0.054: the zero-loss score 1 - e + k rounds to -0.161, and the float
    # just below it passes `s < high` while e - (1 - s) rounds to k (1 + 2 ulp): the log's
    # argument above 1 would be a loss of -1.7e-16. Found by a scan of e and k.
    m = _mapping(e=1.215, k=0.054, g=2.0)
    s = np.nextafter(1.0 - 1.215 + 0.054, -np.inf)
    assert (1.215 - (1.0 - s)) / 0.054 > 1.0
    with pytest.raises(ValueError, match="score must be in"):
        m.loss_for(s)
