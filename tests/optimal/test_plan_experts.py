"""The expert choice inside a `Plan` (`plan(experts=...)`): the same answer as
`expert_plan`, shown and explained, and its bad inputs named."""

import json

import numpy as np
import pytest

import scaleplan as sp
from scaleplan.optimal._plan_experts import expert_why
from scaleplan.optimal.expert_plan import ExpertPlan, expert_plan
from scaleplan.optimal.experts import EXPERT_COUNTS


def _costs(plan):
    """The plan's training and serving prices as a CostModel."""
    a = {k: v.value for k, v in plan.assumptions.items()}
    return sp.CostModel(train_gpu=a["train_gpu"], inference_gpu=a["serving_gpu"],
                        train_precision=a["train_precision"],
                        inference_precision=a["serving_precision"],
                        train_price_per_hour=a["train_price_per_hour"],
                        inference_price_per_hour=a["serving_price_per_hour"],
                        train_mfu=a["train_mfu"], prefill_mfu=a["prefill_mfu"],
                        decode_mfu=a["decode_mfu"])  # fmt: skip


@pytest.fixture(scope="module")
def auto():
    return sp.plan(law="joint-moe", experts="auto")


def test_the_plans_choice_is_expert_plans(auto):
    # Same loss, demand, deployment and training price: the plan only carries the answer.
    costs = _costs(auto)
    deployment = sp.Deployment(gpu="a100-40gb", precision="int8")  # the plan's default
    direct = expert_plan(auto.loss, auto.requests, deployment=deployment, costs=costs,
                         experts=EXPERT_COUNTS)  # fmt: skip
    assert auto.experts.experts == direct.experts
    assert auto.experts.total_dollars == pytest.approx(direct.total_dollars, rel=1e-12)
    np.testing.assert_array_equal(auto.experts.candidates["experts"], EXPERT_COUNTS)
    # The recommendation and alternatives are the dense plans under the law's E = 1 limit.
    dense = sp.plan(law=sp.JOINT_MOE.at(1))
    assert auto.recommendation == dense.recommendation and dense.experts is None


def test_the_summary_and_json_show_the_choice_and_why(auto):
    text = auto.summary()
    ex = auto.experts
    assert "The expert count under the MoE law" in text
    assert f"{ex.experts} experts: {100 * ex.saving:.1f}% fewer lifetime dollars" in text
    data = json.loads(json.dumps(auto.to_dict(), allow_nan=False))
    assert data["experts"]["experts"] == ex.experts
    assert [c["experts"] for c in data["experts"]["candidates"]] == list(EXPERT_COUNTS)
    assert data["experts"]["why"] == expert_why(ex)
    assert auto.record()["experts.experts"] == ex.experts
    plain = sp.plan()
    assert plain.experts is None and "experts" not in plain.to_dict()
    assert "expert count" not in plain.summary()


def test_one_count_is_compared_with_the_dense_model():
    p = sp.plan(law="joint-moe", experts=8)
    assert list(p.experts.candidates["experts"]) == [1, 8]
    # A sequence: its distinct counts, in order.
    q = sp.plan(law="joint-moe", experts=[8, 1, 1])
    assert list(q.experts.candidates["experts"]) == [1, 8]


def _plan(experts, totals, serving, training):
    n = len(experts)
    c = {
        "experts": np.array(experts, float),
        "params": np.array([1e9, 5e8, 4e8][:n]),
        "total_params": np.array([1e9, 4e9, 8e9][:n]),
        "tokens": np.full(n, 1e11),
        "training_dollars": np.array(training, float),
        "serving_dollars": np.array(serving, float),
        "total_dollars": np.array(totals, float),
    }
    best = int(np.nanargmin(c["total_dollars"]))
    pick = {k: float(v[best]) for k, v in c.items()}
    return ExpertPlan(experts[best], pick["params"], pick["total_params"], pick["tokens"],
                      pick["training_dollars"], pick["serving_dollars"], pick["total_dollars"],
                      float(c["total_dollars"][0]), c)  # fmt: skip


def test_why_names_what_stopped_more_experts():
    # 8 experts win; 16 train cheaper but serve dearer; 32 reach no curve.
    p = _plan([1, 8, 16], [100.0, 60.0, 70.0], [50.0, 30.0, 45.0], [50.0, 30.0, 25.0])
    why = expert_why(p)
    assert why.startswith("8 experts: 40.0% fewer lifetime dollars")
    assert "0.50 of the dense model's active parameters" in why
    assert "16 experts cost $70.0: their serving costs more than the experts save." in why
    unreached = _plan([1, 8, 16], [100.0, 60.0, np.nan], [50.0, 30.0, np.nan],
                      [50.0, 30.0, np.nan])  # fmt: skip
    assert "No model of 16 experts at this loss is served" in expert_why(unreached)
    dense = _plan([1, 8], [50.0, 60.0], [25.0, 35.0], [25.0, 25.0])
    assert expert_why(dense).startswith("The dense model (E = 1) is the cheapest")
    assert "8 experts cost $60.0: their serving" in expert_why(dense)


def test_a_unique_token_supply_composes_with_the_expert_choice():
    # Binding, it costs every count more (repeated data is worth less than fresh); far
    # beyond the optimum's tokens it changes nothing, bit for bit.
    free = sp.plan(law="joint-moe", experts=[1, 8]).experts.candidates
    scarce = sp.plan(law="joint-moe", experts=[1, 8], unique_tokens=1e11)
    plenty = sp.plan(law="joint-moe", experts=[1, 8], unique_tokens=1e16).experts.candidates
    assert np.all(scarce.experts.candidates["total_dollars"] > free["total_dollars"])
    np.testing.assert_array_equal(plenty["total_dollars"], free["total_dollars"])
    # Each count is `physical_optimal` under the supply on its own curve.
    r = sp.physical_optimal(scarce.loss, scarce.requests, law=sp.JOINT_MOE, experts=8,
                            curve=sp.ServingCurve.roofline(
                                sp.Deployment(gpu="a100-40gb", precision="int8"), experts=8),
                            costs=_costs(scarce), unique_tokens=1e11)  # fmt: skip
    assert scarce.experts.candidates["total_dollars"][1] == r.total_dollars
    assert r.binding


@pytest.mark.parametrize(
    ("kw", "argument"),
    [
        (dict(experts="auto"), "law"),  # the default Chinchilla law says nothing of experts
        (dict(law="joint-moe", experts="many"), "experts"),
        (dict(law="joint-moe", experts=[2, 8]), "experts"),
        (dict(law="joint-moe", experts=0), "experts"),
        (dict(law="joint-moe", experts=8, unique_tokens=-1.0), "unique_tokens"),
    ],
)
def test_bad_expert_inputs_are_named(kw, argument):
    with pytest.raises(ValueError) as err:
        sp.plan(**kw)
    assert err.value.argument == argument
