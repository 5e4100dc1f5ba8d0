"""`Training` carries every training option once, as `Deployment` does for serving: the
planners take it as `training=`, a field is checked where it is declared, errors in a
plan name `training.<field>`, and the 0.1 `train_*` keywords are the same training under
a DeprecationWarning that names the new spelling."""

from __future__ import annotations

import dataclasses
import inspect
import math
import warnings

import pytest

import scaleplan as sp
from scaleplan.hardware.accelerators import ACCELERATORS
from scaleplan.optimal.physical_optimum import ServingCurve, whole_gpu_plan
from scaleplan.systems import physical
from scaleplan.systems.training import DEFAULT_TRAINING_DAYS, Training, training_of

DEMAND = dict(requests_per_day=1e6, days=365.0)


def test_the_default_is_training_plans_defaults():
    t = Training()
    assert t.accelerator is ACCELERATORS["h100-sxm"] and t.gpus is None
    assert (t.precision, t.mfu, t.price_per_hour) == ("bf16", 0.4, None)
    assert t.hourly_price == ACCELERATORS["h100-sxm"].price_per_hour
    shape = physical.shape_for_params(7e9)
    plan = physical.physical_plan(7e9, 1e12, shape=shape, **DEMAND)
    assert plan.training == physical.training_plan(shape, 1e12)
    assert plan.training.days <= DEFAULT_TRAINING_DAYS


@pytest.mark.parametrize(
    "fields",
    [dict(gpu="a100-80gb"), dict(gpus=256, mfu=0.5), dict(precision="fp8", price_per_hour=4.0)],
)
def test_the_training_reaches_the_plan(fields):
    shape = physical.shape_for_params(7e9)
    t = Training(**fields)
    plan = physical.physical_plan(7e9, 1e12, shape=shape, training=t, **DEMAND)
    want = physical.training_plan(shape, 1e12, t.accelerator, gpus=t.gpus,
                                  precision=t.precision, mfu=t.mfu,
                                  price_per_hour=t.price_per_hour)  # fmt: skip
    assert plan.training == want
    assert plan.training.gpu == t.accelerator.name
    if t.gpus is not None:
        assert plan.training.gpus == t.gpus


def test_a_gpu_name_or_accelerator_is_the_default_training_on_it():
    assert training_of("a100-80gb") == Training(gpu="a100-80gb")
    assert training_of(ACCELERATORS["l40s"]) == Training(gpu="l40s")
    assert training_of(None) == Training()
    for bad in ("h100", 3.0):
        with pytest.raises(sp.ScaleplanError) as err:
            physical.physical_plan(7e9, 1e12, training=bad, **DEMAND)
        assert err.value.argument == "training"


@pytest.mark.parametrize(
    ("field", "value"),
    [("gpu", "tpu"), ("gpus", 0), ("gpus", 2.0), ("gpus", True), ("precision", "fp3"),
     ("precision", "fp8"), ("mfu", 0.0), ("mfu", 1.5), ("mfu", math.nan),
     ("price_per_hour", -1.0)],
)  # fmt: skip
def test_each_field_is_checked_and_named(field, value):
    gpu = "a100-80gb" if field == "precision" else "h100-sxm"  # the A100 has no fp8 peak
    with pytest.raises(sp.ScaleplanError) as err:
        Training(**{"gpu": gpu, field: value})
    assert err.value.argument == field


def test_a_plan_names_the_training_field_at_fault():
    with pytest.raises(sp.ScaleplanError, match=r"^training\.gpus must be a whole number") as e:
        physical.physical_plan(7e10, 1e12, training=Training(gpus=1), **DEMAND)
    assert e.value.argument == "training.gpus"


def test_a_training_is_a_value():
    t = Training()
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.mfu = 0.5  # type: ignore[misc]
    assert t.replace(mfu=0.5) == Training(mfu=0.5) and t.replace() is t
    with pytest.raises(TypeError, match="^'train_mfu' is not a training option"):
        t.replace(train_mfu=0.5)
    costs = sp.CostModel()
    from_costs = Training.from_costs(costs, gpus=8)
    assert from_costs.accelerator is costs.train_gpu and from_costs.mfu == costs.train_mfu
    assert from_costs.price_per_hour == costs.train_price_per_hour and from_costs.gpus == 8
    assert "Training" in sp.__all__ and sp.Training is Training


def test_the_0_1_train_keywords_are_the_training_they_describe_and_warn():
    new = physical.physical_plan(7e9, 1e12, training=Training("a100-80gb", mfu=0.45),
                                 deployment=sp.Deployment(tpot_seconds=0.03), **DEMAND)  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = physical.physical_plan(7e9, 1e12, train_gpu="a100-80gb", train_mfu=0.45,
                                     tpot_seconds=0.03, **DEMAND)  # fmt: skip
        whole = whole_gpu_plan(2.1, 7e9, train_mfu=0.45, **DEMAND)
        curve = ServingCurve.roofline("a100-80gb", tpot_seconds=0.1, params=(1e9, 1e10))
    assert old == new
    assert whole == whole_gpu_plan(2.1, 7e9, training=Training(mfu=0.45), **DEMAND)
    same = ServingCurve.roofline(sp.Deployment("a100-80gb", tpot_seconds=0.1), params=(1e9, 1e10))
    assert (curve.params == same.params).all()
    assert (curve.dollars_per_request == same.dollars_per_request).all()
    said = [str(w.message) for w in caught]
    assert all(w.category is DeprecationWarning and w.filename == __file__ for w in caught)
    assert said == [
        "physical_plan(tpot_seconds=) is the 0.1 spelling, removed in 0.3: pass "
        "deployment=Deployment(tpot_seconds=...)",
        "physical_plan(train_gpu=, train_mfu=) is the 0.1 spelling, removed in 0.3: pass "
        "training=Training(gpu=..., mfu=...)",
        "whole_gpu_plan(train_mfu=) is the 0.1 spelling, removed in 0.3: pass "
        "training=Training(mfu=...)",
        "ServingCurve.roofline(tpot_seconds=) is the 0.1 spelling, removed in 0.3: pass "
        "deployment=Deployment(tpot_seconds=...)",
    ]


def test_the_0_1_keywords_keep_their_names_in_errors():
    """The command line restates `train_mfu` as `--train-mfu`: a caller of the 0.1
    keywords gets the name it typed."""
    with pytest.deprecated_call(), pytest.raises(sp.ScaleplanError) as err:
        physical.physical_plan(7e9, 1e12, train_mfu=2.0, **DEMAND)
    assert err.value.argument == "train_mfu" and str(err.value).startswith("train_mfu must")
    with pytest.deprecated_call(), pytest.raises(sp.ScaleplanError) as err:
        physical.physical_plan(7e10, 1e12, train_gpus=1, **DEMAND)
    assert err.value.argument == "train_gpus"
    with pytest.deprecated_call(), pytest.raises(TypeError, match="given twice"):
        physical.physical_plan(7e9, 1e12, training=Training(), train_mfu=0.5, **DEMAND)


def test_the_planners_name_every_argument():
    """No `**options` in a planner's signature: a misspelt keyword fails at the call."""
    from scaleplan.dask import fits

    for fn in (physical.serving_plan, physical.physical_plan, whole_gpu_plan,
               ServingCurve.roofline, fits.fit_law, fits.bootstrap_law):  # fmt: skip
        kinds = {p.kind for p in inspect.signature(fn).parameters.values()}
        assert inspect.Parameter.VAR_KEYWORD not in kinds, fn
        assert inspect.Parameter.VAR_POSITIONAL not in kinds, fn


def test_an_unknown_training_option_is_named_with_the_ones_there_are():
    """The first unknown option in sorted order, and every option listed (mutation
    testing, 2026-12-07)."""
    from scaleplan.systems.training import plan_options

    with pytest.raises(TypeError) as err:
        plan_options({"train_zeta": 1, "train_alpha": 2, "tpot_seconds": 0.1})
    assert str(err.value) == (
        "'train_alpha' is not a training option; physical_plan took train_gpu, train_gpus, "
        "train_precision, train_mfu, train_price_per_hour"
    )
    with pytest.raises(TypeError, match="^'alpha' is not a training option"):
        Training().replace(zeta=1, alpha=2)


def test_a_deployment_given_positionally_takes_the_0_1_keywords_too():
    new = physical.serving_plan("llama-2-7b", sp.Deployment("a100-80gb", tpot_seconds=0.03),
                                **DEMAND)  # fmt: skip
    with pytest.deprecated_call():
        old = physical.serving_plan("llama-2-7b", sp.Deployment("a100-80gb"),
                                    tpot_seconds=0.03, **DEMAND)  # fmt: skip
    assert old == new
    with pytest.deprecated_call():
        by_name = physical.serving_plan(shape="llama-2-7b", tpot_seconds=0.03, **DEMAND)
    assert by_name == physical.serving_plan("llama-2-7b", sp.Deployment(tpot_seconds=0.03),
                                            **DEMAND)  # fmt: skip


def test_training_takes_the_fewest_gpus_in_eights_that_finish_within_30_days():
    """A 70B policy shape on 2T tokens: 824 H100s take 29.9 days, 816 would take
    30.2; the count comes from the FLOPs here, not from the plan."""
    from scaleplan.arch.counts import step_counts
    from scaleplan.arch.policy import shape_for_params
    from scaleplan.systems.training_plan import training_plan

    assert DEFAULT_TRAINING_DAYS == 30.0
    shape = shape_for_params(7e10)
    plan = training_plan(shape, 2e12)
    params = float(step_counts(shape).params)
    gpu_days = 6 * params * 2e12 / (ACCELERATORS["h100-sxm"].peak_flops["bf16"] * 0.4) / 86400
    assert plan.gpus % 8 == 0
    assert plan.days == pytest.approx(gpu_days / plan.gpus, rel=1e-12) and plan.days <= 30
    assert gpu_days / (plan.gpus - 8) > 30
