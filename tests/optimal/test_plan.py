"""`scaleplan.plan`: one recommendation, the alternatives under the same prices, and a
text in which every sentence agrees with its table."""

from __future__ import annotations

import importlib
import json
import math
import re
import subprocess
import sys
from functools import cache

import pytest
from inprocess import run_cli

import scaleplan as sp
from scaleplan._utils.text import money
from scaleplan.optimal.physical_optimum import ServingCurve
from scaleplan.systems.physical import physical_plan


@cache
def default_plan() -> sp.Plan:
    return sp.plan()


@cache
def busy_plan() -> sp.Plan:
    """Another scenario: a 70B-quality model on H100s at ten times the demand."""
    return sp.plan(as_good_as=70e9, requests_per_day=1e8, days=730,
                   training=sp.Training(gpu="h100-sxm", mfu=0.5),
                   deployment=sp.Deployment(gpu="h100-sxm", precision="fp8"))  # fmt: skip


PLANS = [default_plan, busy_plan]


@pytest.mark.parametrize("make", PLANS)
def test_no_alternative_is_cheaper_under_the_same_prices(make):
    p = make()
    best = p.recommendation.total_dollars
    assert p.recommended.total_dollars == best
    assert set(p.alternatives) == {"chinchilla_style", "compute_optimal", "cost_optimal"}
    for a in p.alternatives.values():
        assert a.total_dollars >= best, a.label
        assert a.total_dollars == a.training_dollars + a.serving_dollars
        # Every alternative is built at the target quality, as the recommendation is.
        assert sp.CHINCHILLA.loss(a.plan.params, a.plan.tokens) == pytest.approx(p.loss, rel=1e-12)
    assert sp.CHINCHILLA.loss(p.recommendation.params, p.recommendation.tokens) == pytest.approx(
        p.loss, rel=1e-12
    )


@pytest.mark.parametrize("make", PLANS)
def test_an_alternative_is_priced_as_physical_plan_prices_it(make):
    p = make()
    a = p.alternatives["compute_optimal"]
    dep = sp.Deployment(gpu="a100-40gb", precision="int8") if make is default_plan else (
        sp.Deployment(gpu="h100-sxm", precision="fp8"))  # fmt: skip
    demand = {k: p.assumptions[k].value for k in ("requests_per_day", "days")}
    train = sp.Training(**{k: p.assumptions["train_" + k].value
                           for k in ("gpu", "precision", "mfu", "price_per_hour")})  # fmt: skip
    want = physical_plan(a.plan.params, a.plan.tokens, deployment=dep, training=train, **demand)
    assert want == a.plan
    # The paper's dollars: the same (N, D) under the constant-MFU cost model.
    costs = sp.CostModel(train_gpu=train.accelerator, inference_gpu=dep.accelerator,
                         inference_precision=dep.precision)  # fmt: skip
    paper = sp.lifetime_cost(a.params, a.tokens, p.requests, costs=costs)
    assert a.paper_total_dollars == pytest.approx(float(paper.total_dollars), rel=1e-12)
    assert a.params == pytest.approx(float(sp.compute_optimal(p.loss, p.inference_tokens).params))


@pytest.mark.parametrize("make", PLANS)
def test_the_recommendation_is_whole_gpu_plans(make):
    p = make()
    a = p.assumptions
    dep = sp.Deployment(gpu=a["serving_gpu"].value, precision=a["serving_precision"].value)
    costs = sp.CostModel(train_gpu=a["train_gpu"].value, inference_gpu=dep.accelerator,
                         inference_precision=dep.precision)  # fmt: skip
    sizes = [m.params for m in p.alternatives.values()]
    curve = ServingCurve.roofline(dep, params=(1e8, max(1e13, 4 * max(sizes))))
    fluid = sp.physical_optimal(p.loss, p.requests, curve=curve, costs=costs)
    assert float(fluid.params) == float(p.fluid.params)
    want = sp.whole_gpu_plan(p.loss, float(fluid.params), deployment=dep,
                             requests_per_day=a["requests_per_day"].value, days=a["days"].value,
                             training=sp.Training(gpu=costs.train_gpu, mfu=0.5))  # fmt: skip
    assert want == p.recommendation


def test_assumptions_echo_the_inputs():
    p = sp.plan(loss=2.2, law="epoch2024", requests_per_day=3e6, days=100, input_tokens=500,
                output_tokens=100, deployment=sp.Deployment(gpu="h100-sxm", tpot_seconds=0.03,
                                                            peak_to_average=3.0),
                training=sp.Training(gpu="h100-sxm", mfu=0.4, price_per_hour=2.5, gpus=64),
                decode_mfu=0.02)  # fmt: skip
    got = {k: a.value for k, a in p.assumptions.items()}
    want = dict(loss=2.2, law="epoch2024", requests_per_day=3e6, days=100.0, input_tokens=500.0,
                output_tokens=100.0, serving_gpu="h100-sxm", serving_precision="bf16",
                tpot_seconds=0.03, peak_to_average=3.0, train_gpu="h100-sxm", train_mfu=0.4,
                train_price_per_hour=2.5, train_gpus=64, decode_mfu=0.02, prefill_mfu=0.5,
                unique_tokens=None)  # fmt: skip
    assert {k: got[k] for k in want} == want
    assert all(isinstance(a.unit, str) for a in p.assumptions.values())
    assert p.assumptions["tpot_seconds"].unit == "s"
    assert p.recommendation.training.gpus == 64
    assert p.recommendation.serving.seconds_per_token <= 0.03
    assert p.requests == 3e8 and p.loss == 2.2
    assert "TPOT <= 30 ms" in p.cost_model and "3x the mean rate" in p.cost_model
    assert "40% MFU" in p.cost_model


def test_the_default_target_is_a_chinchilla_optimal_7b():
    p = default_plan()
    assert p.loss == float(sp.chinchilla_optimal(params=7e9).loss)
    assert p.alternatives["chinchilla_style"].params == pytest.approx(7e9, rel=1e-9)
    assert sp.plan(as_good_as=7e9).recommendation == p.recommendation


def test_the_repr_is_short_and_leads_with_the_recommendation():
    p = default_plan()
    text = repr(p)
    assert len(text) < 400 and len(text.splitlines()) <= 5
    assert text.startswith("Plan: ") and money(p.recommendation.total_dollars) in text
    assert p.cost_model in text
    html = p._repr_html_()
    assert html.startswith("<p>") and "Chinchilla-style" in html and "</table>" in html


def test_to_pandas_has_one_row_per_model_the_recommendation_first():
    pytest.importorskip("pandas")
    p = default_plan()
    df = p.to_pandas()
    assert list(df["name"]) == ["recommendation", *p.alternatives]
    assert list(df["label"]) == ["recommended", "Chinchilla-style", "compute-optimal",
                                 "cost-optimal"]  # fmt: skip
    assert list(df["total_dollars"]) == [m.total_dollars for m in p.models.values()]
    assert list(df["plan.shape.n_layers"]) == [m.plan.shape.n_layers for m in p.models.values()]
    rec = p.record()
    assert rec["recommendation.total_dollars"] == p.recommendation.total_dollars
    assert rec["assumptions.days"] == 365.0
    assert json.loads(json.dumps(p.to_dict(), allow_nan=False))["loss"] == p.loss


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        (dict(loss=1.5), "loss"),  # below the law's E = 1.69
        (dict(loss=7.0), "loss"),  # a model below the shape policy's million parameters
        (dict(loss=2.0, as_good_as=7e9), "as_good_as"),
        (dict(requests_per_day=-1.0), "requests_per_day"),
        (dict(days=0.0), "days"),
        (dict(deployment="tpu-v9"), "deployment"),
        (dict(training="tpu-v9"), "training"),
        (dict(training=0.5), "training"),
        (dict(decode_mfu=0.0), "decode_mfu"),
        (dict(unique_tokens=-5.0), "unique_tokens"),
        (dict(as_good_as=float("nan")), "as_good_as"),
        (dict(law="gpt"), "law"),
        (dict(law=3), "law"),
    ],
)
def test_bad_input_names_the_argument(kwargs, argument):
    with pytest.raises(sp.ScaleplanError) as err:
        sp.plan(**kwargs)
    assert err.value.argument == argument, str(err.value)
    assert argument in str(err.value)


def test_a_supply_of_unique_tokens_reaches_every_model():
    p = sp.plan(unique_tokens=1e11)
    assert bool(p.fluid.binding) and float(p.fluid.epochs) > 1
    law = sp.DataConstrainedLaw(sp.CHINCHILLA)
    for m in p.models.values():
        reached = law.loss(m.plan.params, m.plan.tokens, 1e11)
        assert reached == pytest.approx(p.loss, rel=1e-9), m.label
        assert m.total_dollars >= p.recommendation.total_dollars
    assert "unique tokens" in p.summary() and p.to_dict()["data_constrained"]["binding"]


def _cells(text: str) -> dict[str, list[str]]:
    """The first table of a summary: row label -> its cells."""
    table = text.split("\n\n")[2].splitlines()[2:]
    return {row[:31].strip(): row[31:].split("  ") for row in table}


@pytest.mark.parametrize("make", PLANS)
def test_every_sentence_agrees_with_the_table(make):
    """No sentence compares constant-MFU dollars with the roofline's: each percentage a
    sentence says is saved is a cell of the roofline table's savings row, and each dollar
    figure outside the tables is a cell of the table it belongs to."""
    text = make().summary()
    tables = [b for b in text.split("\n\n") if "\n---" in b]
    assert len(tables) == 2
    roofline, paper = ({c.strip() for line in t.splitlines()[2:] for c in line[20:].split("  ")
                        if c.strip()} for t in tables)  # fmt: skip
    saves = [line for line in tables[0].splitlines() if line.startswith("recommendation saves")]
    (row,) = saves
    sentences = [b for b in text.split("\n\n") if b not in tables]
    for sentence in sentences:
        sentence = re.sub(r"training \$\S+, serving \$\S+ per GPU-hour", "", sentence)  # prices
        for pct in re.findall(r"(\d+\.\d)% (?:against|less|saved)", sentence):
            assert f"{pct}%" in row.split(), (pct, row)
        if "paper" not in sentence:
            for dollars in re.findall(r"\$[\d.]+[kMBT]?", sentence):
                assert dollars in roofline, (dollars, sentence)
    assert "saves" in text and not re.search(r"saves \d", tables[1])
    # The paper's dollars appear only in their own table.
    p = make()
    for m in p.models.values():
        assert money(m.paper_total_dollars) in paper
        assert f"lifetime {money(m.paper_total_dollars)}" not in text


def test_the_command_line_prints_the_plan():
    exe = [sys.executable, "-m", "scaleplan", "plan"]
    text = subprocess.run(exe, capture_output=True, text=True, timeout=300).stdout
    assert text.strip() == default_plan().summary().strip()
    # The console script prints the summary (above); its JSON, in this process.
    data = json.loads(run_cli(["plan", "--json"]).stdout)
    assert data == json.loads(json.dumps(default_plan().to_dict()))


def test_the_docstring_and_readme_examples_print_what_they_show():
    import doctest
    from pathlib import Path

    module = sys.modules["scaleplan.optimal.plan"]
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    (test,) = [t for t in finder.find(module.plan, "plan", module=module) if t.examples]
    assert runner.run(test).failed == 0
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for line in repr(default_plan()).splitlines()[:2]:
        assert f"# {line}\n" in readme, line


def test_the_chinchilla_style_model_under_a_supply_trains_on_what_reaches_the_loss():
    """With unlimited data it is `chinchilla_optimal(loss=)` itself; under a supply of
    1e11 unique tokens it needs more (3.107e11 against 2.764e11), the tokens at which the
    data-constrained law reaches the loss at its size (mutation testing, 2026-12-07)."""
    free = sp.plan()
    chin = sp.chinchilla_optimal(loss=free.loss)
    assert free.alternatives["chinchilla_style"].tokens == chin.tokens
    scarce = sp.plan(unique_tokens=1e11)
    c = scarce.alternatives["chinchilla_style"]
    law = sp.DataConstrainedLaw(sp.CHINCHILLA)
    assert c.tokens > 1.1 * chin.tokens
    assert law.loss(c.params, c.tokens, 1e11) == pytest.approx(scarce.loss, rel=1e-12)


def test_the_cost_model_line_and_assumptions_carry_ttft_and_kv_precision():
    p = sp.plan(deployment=sp.Deployment(ttft_seconds=0.25, kv_precision="fp8"))
    assert "TPOT <= 50 ms, TTFT <= 250 ms," in p.cost_model
    assert p.assumptions["kv_precision"].value == "fp8"
    assert p.assumptions["serving_precision"].value == "bf16"
    # Without one, the KV cache is at the weights' precision (the default plan's int8).
    assert sp.plan().assumptions["kv_precision"].value == "int8"
    assert "TTFT" not in sp.plan().cost_model


def test_a_loss_at_the_floor_is_refused():
    for loss in (sp.CHINCHILLA.E, 1.5):
        with pytest.raises(sp.ScaleplanError, match="irreducible loss") as err:
            sp.plan(loss=loss)
        assert err.value.argument == "loss"


def test_the_fluid_curve_reaches_a_quarter_of_the_smallest_alternative():
    """A 300M-quality model: the cost-optimal alternative (1.81e8) over 4 lies below the
    curve's usual start (1e8), so the curve starts there: its first policy shape, 4.54e7,
    within 0.3% of 4.52e7 (a fifth or a third would be 3.58e7 or 5.87e7)."""
    p = sp.plan(as_good_as=3e8, requests_per_day=1e4, days=365)
    smallest = min(a.params for a in p.alternatives.values())
    assert smallest / 4 < 1e8
    assert p.fluid.curve.params[0] == pytest.approx(smallest / 4, rel=0.01)


@pytest.mark.parametrize(("reach", "own"), [(math.nan, True), (0.5, True), (1.0, False),
                                             (1.5, False)])  # fmt: skip
def test_a_rounded_shape_short_of_one_whole_token_trains_on_the_models_own_tokens(
    monkeypatch, reach, own
):
    """`_built` trains the policy shape on the tokens reaching the loss at its exact size,
    or on the model's own D where that is NaN or under one token. The reach is forced here
    (no real target rounds a shape that far off)."""
    plan_module = importlib.import_module("scaleplan.optimal.plan")  # the module, not `plan`

    monkeypatch.setattr(plan_module, "_reaching", lambda *args: reach)
    for label, alternative in sp.plan().alternatives.items():
        want = alternative.tokens if own else reach  # the model's own D, or the reach
        assert alternative.plan.tokens == want, label


def test_an_alternative_cheaper_than_the_search_is_recommended(monkeypatch):
    """The search around the fluid optimum covers a factor 2.5 each way; should an
    alternative outside it be cheaper, it is the recommendation. No real scenario of 32
    tried reaches this (2026-12-07), so the search is made to return a dearer plan."""
    plan_module = importlib.import_module("scaleplan.optimal.plan")  # the module, not `plan`

    dear = physical_plan(3e10, 6e11, requests_per_day=1e6, days=365)
    monkeypatch.setattr(plan_module, "whole_gpu_plan", lambda *a, **k: dear)
    p = sp.plan()
    cheapest = min(p.alternatives.values(), key=lambda a: a.total_dollars)
    assert cheapest.total_dollars < dear.total_dollars
    assert p.recommendation.params == cheapest.plan.params
    assert p.recommendation.total_dollars == cheapest.total_dollars


def test_a_target_beyond_the_roofline_names_the_span_served_and_searched():
    """A 4e12-quality model on B200s in fp8: the curve is widened to four times the
    largest alternative (1.6e13), but no group meets the TPOT target past the curve's last
    knot, far short of that; the error gives the span served (the curve's ends) and the
    span searched, so it does not claim the roofline reaches 1.6e13."""
    dep = sp.Deployment(gpu="b200", precision="fp8")
    with pytest.raises(sp.ScaleplanError, match=r"\(of 1e\+08 to 1\.6e\+13 searched\)") as err:
        sp.plan(as_good_as=4e12, requests_per_day=1e6, days=365, deployment=dep)
    assert err.value.argument == "loss"
    ends = ServingCurve.roofline(dep, params=(1e8, 1.6e13)).params[[0, -1]]
    assert ends[1] < 1.6e13 / 10
    assert f"outside {ends[0]:.3g} to {ends[1]:.3g} parameters" in str(err.value)
