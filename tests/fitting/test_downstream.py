"""Downstream targets: Gadre et al.'s loss-to-error mapping, held-out, and plans aimed at
a score (`--target-accuracy`)."""

import json
import math

import numpy as np
import pytest
from conftest import examples
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from inprocess import run_cli

import scaleplan as sp
from scaleplan.fitting.downstream import BENCHMARKS, fit_downstream, sardana_downstream


@settings(max_examples=examples(100 / 300), deadline=None)
@given(
    e=st.floats(0.8, 1.1),
    top=st.floats(0.3, 0.95),
    g=st.floats(0.8, 3.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_noiseless_scores_give_back_the_mapping(e, top, g, seed):
    # k drawn through the score `top` at the lowest loss of the range (2.3), so every score
    # is below 1 and spans a range: drawing k itself (2 to 60) had 49% of draws assumed
    # away; now only runs with half their scores at chance are (about 4%).
    k = (top - (1 - e)) * np.exp(g * 2.3)
    loss = np.random.default_rng(seed).uniform(2.3, 3.7, 20)
    score = 1 - (e - k * np.exp(-g * loss))
    assume(np.mean(score <= 0.02) < 0.5 and np.ptp(score) > 0.02 and score.max() < 1)
    f = fit_downstream(loss, score)
    # measured at most (100 examples): g 2.2e-14, e 4.9e-15 relative (a noiseless fit)
    assert f.g == pytest.approx(g, rel=2e-12)
    assert f.e == pytest.approx(e, rel=1e-12, abs=1e-13)
    assert f.held_out_mae < 1e-6
    mid = float(score[0])
    assert f.loss_for(mid) == pytest.approx(loss[0], rel=3e-13)  # measured: 3.7e-15


runs_drawn = st.integers(5, 30).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(0.05, 12.0), min_size=n, max_size=n),
        st.lists(st.one_of(st.floats(-0.5, 1.0), st.sampled_from([0.0, 0.25, 1.0])),
                 min_size=n, max_size=n),
    )
)  # fmt: skip


@given(runs_drawn)
def test_the_rust_fit_is_the_python_reference_to_the_bit(runs):
    """`_core.downstream_fit` against `testing.reference_fits.downstream_fit`: the same
    scan, golden section and correctly rounded sums, so the same bits, including where
    the scan ties or the line is degenerate (repeated losses, constant scores)."""
    from scaleplan import _core
    from scaleplan.testing.reference_fits import downstream_fit as reference

    loss, score = runs
    error = [1.0 - s for s in score]
    got = _core.downstream_fit(np.array(loss), np.array(error))
    want = reference(loss, error)
    assert np.array_equal(got, want, equal_nan=True), (got, want)


def test_the_rust_fit_matches_on_sardanas_benchmarks():
    from scaleplan import _core
    from scaleplan.testing.reference_fits import downstream_fit as reference

    runs = sp.datasets.sardana2024_runs()
    for benchmark in BENCHMARKS:
        error = 1.0 - runs.extra[benchmark]
        got = _core.downstream_fit(runs.loss, error)
        assert got == reference([float(v) for v in runs.loss], [float(v) for v in error])


def test_sardana_benchmarks_held_out():
    # Leave-one-out error of each mapping on Sardana's runs. The bounds are drawn around
    # scaleplan's own output (the README's "Downstream targets" quotes it): a snapshot, not
    # an independent source.
    fits = {b: sardana_downstream(b) for b in BENCHMARKS}
    core = fits["core_average"]
    assert core.usable and core.held_out_r2 > 0.98
    assert core.held_out_mae < 0.2 * core.baseline_mae
    mmlu = fits["mmlu_5_shot_avg"]
    assert not mmlu.usable and mmlu.at_chance > 0.9
    with pytest.raises(ValueError, match="not usable"):
        mmlu.loss_for(0.3)
    for b in ("world_knowledge", "language_understanding", "commonsense_reasoning"):
        assert fits[b].usable and fits[b].held_out_r2 > 0.9


def test_loss_for_inverts_score_and_refuses_unreachable_scores():
    f = sardana_downstream()
    for s in (0.1, 0.2, 0.3):
        assert float(f.score(f.loss_for(s))) == pytest.approx(s, rel=1e-12)
    assert f.loss_for(0.3) < f.loss_for(0.2)
    top = 1 - f.e + f.k
    for bad in (-0.5, top + 0.1, math.nan, math.inf):
        with pytest.raises(ValueError, match="score"):
            f.loss_for(bad)
    np.testing.assert_allclose(f.loss_for(np.array([0.2, 0.3])), [f.loss_for(0.2), f.loss_for(0.3)])


def test_bad_input():
    with pytest.raises(ValueError, match="benchmark"):
        sardana_downstream("hellaswag")
    with pytest.raises(ValueError, match="at least 5"):
        fit_downstream([2.5, 3.0], [0.1, 0.05])
    with pytest.raises(ValueError, match="loss"):
        fit_downstream([2.5, 3.0, math.nan, 2.8, 2.9, 3.1], [0.1] * 6)
    with pytest.raises(ValueError, match="one length"):
        fit_downstream([2.5, 3.0, 2.6, 2.8, 2.9, 3.1], [0.1] * 5)
    # A loss is nats/token (> 0), a score a share of questions right (<= 1).
    runs = [2.5, 3.0, 2.6, 2.8, 2.9]
    for loss, score, name, index in (
        ([2.5, 3.0, -1.0, 2.8, 2.9], [0.1] * 5, "loss", 2),
        ([2.5, 3.0, 0.0, 2.8, 2.9], [0.1] * 5, "loss", 2),
        (runs, [0.1, 0.2, 1.5, 0.3, 0.3], "score", 2),
        (runs, [0.1, float("nan"), 0.5, 0.3, 0.3], "score", 1),
    ):
        with pytest.raises(ValueError, match=f"{name} must be") as err:
            fit_downstream(loss, score)
        assert err.value.argument == name and err.value.index == index


def _cli(*args):
    # In-process (tests/inprocess.py): these tests are about what the commands print.
    return run_cli(args)


def test_plans_aimed_at_a_score():
    out = _cli("compute-optimal", "--target-accuracy", "0.25", "--law", "sardana2024_all",
               "--inference-tokens", "2e12", "--json")  # fmt: skip
    data = json.loads(out.stdout)
    f = sardana_downstream()
    # 0.25: inside the runs' scores (the best of the 47 scores 0.302), so no extrapolation.
    assert data["loss"] == pytest.approx(f.loss_for(0.25), rel=1e-12)
    d = data["downstream"]
    lo, hi = d["params_interval"]
    assert lo < data["optimal"]["params"] < hi and not d["extrapolated"]
    want = sp.compute_optimal(f.loss_for(0.25), 2e12, law="sardana2024_all").params
    assert data["optimal"]["params"] == pytest.approx(want, rel=1e-12)
    cost = json.loads(
        _cli(
            "cost-optimal", "--target-accuracy", "0.3", "--law", "sardana2024_le500", "--json"
        ).stdout
    )
    assert cost["downstream"]["score"] == 0.3
    plan = _cli("plan", "--target-accuracy", "0.3", "--law", "sardana2024_all")
    assert plan.returncode == 0 and "scoring 0.3 on core_average" in plan.stdout
    far = json.loads(
        _cli(
            "compute-optimal", "--target-accuracy", "0.9", "--law", "sardana2024_all", "--json"
        ).stdout
    )
    assert far["downstream"]["extrapolated"] is True


@pytest.mark.parametrize(
    "args, message",
    [
        (["compute-optimal", "--target-accuracy", "0.3"], "law fitted to them"),
        (
            [
                "compute-optimal",
                "--target-accuracy",
                "0.3",
                "--law",
                "sardana2024_all",
                "--loss",
                "2.5",
            ],
            "not both",
        ),
        (
            ["plan", "--target-accuracy", "0.3", "--law", "sardana2024_all", "--as-good-as", "7e9"],
            "not both",
        ),
        (
            [
                "cost-optimal",
                "--target-accuracy",
                "0.3",
                "--law",
                "sardana2024_all",
                "--benchmark",
                "mmlu_5_shot_avg",
            ],
            "not usable",
        ),
        (
            ["compute-optimal", "--target-accuracy", "5", "--law", "sardana2024_all"],
            "score must be in",
        ),
        (
            ["compute-optimal", "--target-accuracy", "0", "--law", "sardana2024_all"],
            "target-accuracy",
        ),
    ],
)
def test_bad_targets_are_one_line(args, message):
    r = _cli(*args)
    assert r.returncode == 2 and not r.stdout
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_a_target_below_the_laws_floor_is_refused():
    import argparse

    from scaleplan.cli.optimal import downstream_target
    from scaleplan.cli.shared import CliError

    # A law of Sardana's runs whose floor E sits above the loss that 0.25 needs (2.44).
    law = sp.ScalingLaw(E=2.5, A=33.66, B=138.9, alpha=0.18, beta=0.24, name="sardana2024_x")
    args = argparse.Namespace(target_accuracy=0.25, benchmark="core_average", loss=None)
    with pytest.raises(CliError, match="unreachable"):
        downstream_target.resolve(args, law, ("--loss",))


def test_bootstrap_losses_reuses_its_resamples_and_names_bad_arguments():
    from scaleplan.fitting import downstream

    fit = sardana_downstream()
    assert sardana_downstream() is fit  # fitted once a process
    downstream._resampled_fits.cache_clear()
    cold = downstream.bootstrap_losses(fit, 0.3, n_resamples=4, seed=5)
    warm = downstream.bootstrap_losses(fit, 0.3, n_resamples=4, seed=5)
    np.testing.assert_array_equal(cold, warm)
    assert downstream._resampled_fits.cache_info().hits == 1
    # Each resample's loss is its own mapping's inverse at the score.
    rng = np.random.default_rng(5)
    runs = sp.datasets.sardana2024_runs()
    by_hand = []
    for _ in range(4):
        idx = rng.integers(0, 47, 47)
        again = fit_downstream(runs.loss[idx], runs.extra["core_average"][idx])
        by_hand.append(-math.log((again.e - 0.7) / again.k) / again.g)
    np.testing.assert_array_equal(cold, by_hand)
    for kwargs, name in (
        (dict(fit="core_average", score=0.3), "fit"),
        (dict(fit=fit, score=1.5), "score"),
        (dict(fit=fit, score=0.3, n_resamples=0), "n_resamples"),
        (dict(fit=fit, score=0.3, n_resamples=[3]), "n_resamples"),
        (dict(fit=fit, score=0.3, seed=-1), "seed"),
        (dict(fit=fit_downstream([2.4, 2.6, 2.8, 3.0, 3.2], [0.4, 0.35, 0.3, 0.26, 0.22]),
              score=0.3), "fit"),
    ):  # fmt: skip
        with pytest.raises(ValueError, match=name) as err:
            downstream.bootstrap_losses(**kwargs)
        assert err.value.argument == name
