"""A `Deployment` carries every serving option once: each planner reads the same value,
the 0.1 keyword form is the same deployment (under a DeprecationWarning), a field is
checked where it is declared, and the KV format and a fixed tensor-parallel degree reach
every plan."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import scaleplan as sp
from scaleplan.arch.policy import shape_for_params
from scaleplan.hardware.accelerators import ACCELERATORS, Accelerator
from scaleplan.optimal.physical_optimum import ServingCurve, whole_gpu_plan
from scaleplan.systems import physical, serving
from scaleplan.systems.deployment import TENSOR_PARALLEL, Deployment
from scaleplan.systems.engines import DEFAULT_ENGINE, ENGINES

SHAPE = shape_for_params(7e9)
DEMAND = dict(requests_per_day=1e6, days=365.0)
# A custom card without links between GPUs (one GPU per replica only).
LONE = Accelerator("lone", {"bf16": 1e14}, 48e9, 1e12, price_per_hour=1.0)


def test_the_default_is_the_0_1_keywords_defaults():
    d = Deployment()
    assert d.accelerator is ACCELERATORS["h100-sxm"] and d.precision == "bf16"
    assert d.kv_precision is None and d.tensor_parallel is None
    assert d.efficiency == ENGINES[DEFAULT_ENGINE].efficiency and d.tpot_seconds == 0.05
    assert d.ttft_seconds is None and d.peak_to_average == 2.0 and d.price_per_hour is None
    assert (d.input_tokens, d.output_tokens) == (70.0, 215.0)
    assert d.hourly_price == ACCELERATORS["h100-sxm"].price_per_hour
    assert d.degrees == TENSOR_PARALLEL == (1, 2, 4, 8, 16, 32, 64)


@pytest.mark.parametrize(
    "changes",
    [{}, dict(tpot_seconds=None), dict(gpu="a100-80gb", kv_precision="int8", ttft_seconds=0.5),
     dict(tensor_parallel=2, peak_to_average=3.0, price_per_hour=2.0, output_tokens=512.0)],
)  # fmt: skip
def test_the_0_1_keywords_are_the_deployment_they_describe_and_warn(changes):
    by_value = physical.serving_plan(SHAPE, Deployment(**changes), **DEMAND)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert physical.serving_plan(SHAPE, **changes, **DEMAND) == by_value
        # A deployment's keywords change it: the base's other fields stay.
        base = Deployment(gpu="a100-40gb", precision="int8")
        assert physical.serving_plan(SHAPE, base, **changes, **DEMAND) == physical.serving_plan(
            SHAPE, base.replace(**changes), **DEMAND
        )
    said = [str(w.message) for w in caught if w.category is DeprecationWarning]
    assert len(said) == (2 if changes else 0)
    for text in said:  # the new spelling, with every field the caller gave
        assert "pass deployment=Deployment(" in text
        assert all(f"{k}=..." in text for k in changes)
    assert all(w.filename == __file__ for w in caught)  # blamed on the caller's line


def test_a_gpu_name_is_the_default_deployment_on_that_gpu():
    assert physical.serving_plan(SHAPE, "a100-80gb", **DEMAND) == physical.serving_plan(
        SHAPE, Deployment(gpu="a100-80gb"), **DEMAND
    )
    with pytest.raises(TypeError, match="GPU was given twice"), pytest.deprecated_call():
        physical.serving_plan(SHAPE, "a100-80gb", gpu="h100-sxm", **DEMAND)


@pytest.mark.parametrize(
    "call",
    [
        lambda: physical.serving_plan(SHAPE, tpot=0.1, **DEMAND),
        lambda: physical.physical_plan(7e9, 1e12, tpot=0.1, **DEMAND),
        lambda: physical.physical_plan(7e9, 1e12, train_gpus_count=8, **DEMAND),
        lambda: whole_gpu_plan(2.0, 7e9, tpot=0.1, **DEMAND),
        lambda: ServingCurve.roofline(tpot=0.1),
    ],
)
def test_a_misspelt_option_is_a_type_error_at_the_entry_point(call):
    with pytest.raises(TypeError, match="unexpected keyword argument '(tpot|train_gpus_count)'"):
        call()
    with pytest.raises(TypeError, match="^'tpot' is not a serving option"):
        Deployment().replace(tpot=0.1)


@pytest.mark.parametrize(
    ("field", "value"),
    [("gpu", "tpu"), ("precision", "fp4"), ("precision", "fp8"), ("kv_precision", "fp3"),
     ("tensor_parallel", 3), ("tensor_parallel", 128), ("tensor_parallel", 2.0),
     ("tensor_parallel", True), ("efficiency", 0.5), ("tpot_seconds", 0.0),
     ("ttft_seconds", math.nan), ("input_tokens", -1.0), ("output_tokens", 0.0),
     ("peak_to_average", 0.5), ("price_per_hour", 5e-324)],
)  # fmt: skip
def test_each_field_is_checked_and_named(field, value):
    gpu = "a100-80gb" if field == "precision" else "h100-sxm"  # the A100 has no fp8 peak
    with pytest.raises(sp.ScaleplanError) as err:
        Deployment(**{"gpu": gpu, field: value})
    assert err.value.argument == field


def test_a_gpu_without_links_serves_on_one_gpu_only():
    assert Deployment(gpu=LONE).degrees == (1,)
    with pytest.raises(sp.ScaleplanError, match="link_bandwidth") as err:
        Deployment(gpu=LONE, tensor_parallel=2)
    assert err.value.argument == "tensor_parallel"
    with pytest.raises(sp.ScaleplanError, match="no catalogue price|price_per_hour") as err:
        _ = Deployment(gpu=Accelerator("free", {"bf16": 1e14}, 48e9, 1e12)).hourly_price
    assert err.value.argument == "price_per_hour"


def test_an_fp8_kv_cache_holds_more_sequences_in_every_plan():
    """Without a TPOT target a replica decodes the largest batch memory holds; an 8-bit
    cache takes half the bytes of a 16-bit one, so the batch is the decode kernel's
    `max_batch_size` at that format, larger than at bf16, and no plan costs more."""
    free = Deployment(tpot_seconds=None)
    plans = {kv: physical.serving_plan(SHAPE, free.replace(kv_precision=kv), **DEMAND)
             for kv in ("bf16", "fp8")}  # fmt: skip
    for kv, plan in plans.items():
        room = serving.decode(SHAPE, kv_precision=kv, context_tokens=285,
                              tensor_parallel=plan.tensor_parallel).max_batch_size  # fmt: skip
        assert plan.batch_size == math.floor(room)
    assert plans["fp8"].batch_size > 1.5 * plans["bf16"].batch_size
    assert plans["fp8"].dollars <= plans["bf16"].dollars
    # The KV format reaches the roofline curve and the physical plan too.
    bf16, fp8 = (ServingCurve.roofline(free.replace(kv_precision=kv), params=(1e9, 1e11),
                                       per_decade=4) for kv in ("bf16", "fp8"))  # fmt: skip
    assert np.array_equal(bf16.params, fp8.params)
    assert np.all(fp8.dollars_per_request < bf16.dollars_per_request)
    fp8_free = free.replace(kv_precision="fp8")
    whole = physical.physical_plan(7e9, 1e12, shape=SHAPE, deployment=fp8_free, **DEMAND)
    assert whole.serving == plans["fp8"]


def test_a_fixed_degree_is_the_one_served_and_never_cheaper_than_the_free_choice():
    shape = shape_for_params(7e10)
    chosen = physical.serving_plan(shape, **DEMAND)
    served = []
    for tp in TENSOR_PARALLEL:
        try:
            fixed = physical.serving_plan(shape, Deployment(tensor_parallel=tp), **DEMAND)
        except sp.ScaleplanError as err:  # too few GPUs to hold 70B at the target
            assert err.argument == "tpot_seconds" and f"tensor_parallel={tp}" in str(err)
            continue
        served.append(tp)
        assert fixed.tensor_parallel == tp and fixed.gpus % tp == 0
        assert fixed.dollars >= chosen.dollars
        if tp == chosen.tensor_parallel:
            assert fixed == chosen
    assert chosen.tensor_parallel in served and len(served) >= 2  # 4 and 8 on an H100
    # A degree that does not divide the heads serves nothing, and says so.
    odd = sp.TransformerShape(d_model=3072, n_layers=4, n_heads=24, n_kv_heads=24, d_ff=8192)
    with pytest.raises(sp.ScaleplanError, match="tensor_parallel=16.*divide the heads"):
        physical.serving_plan(odd, Deployment(tensor_parallel=16), **DEMAND)
    curve = ServingCurve.roofline(Deployment(tensor_parallel=8), params=(1e9, 1e11), per_decade=4)
    assert curve.tensor_parallel is not None and set(curve.tensor_parallel) == {8.0}


def test_from_costs_is_the_cost_models_inference_side():
    costs = sp.CostModel()
    d = Deployment.from_costs(costs, tpot_seconds=0.1)
    assert d.accelerator is costs.inference_gpu and d.precision == costs.inference_precision
    assert d.price_per_hour == costs.inference_price_per_hour and d.tpot_seconds == 0.1
    with pytest.raises(sp.ScaleplanError) as err:
        Deployment.from_costs("a100")  # type: ignore[arg-type]
    assert err.value.argument == "costs"


def test_a_positional_text_that_is_no_gpu_blames_the_deployment():
    with pytest.raises(sp.ScaleplanError, match="a GPU name") as err:
        physical.serving_plan(SHAPE, "h100", **DEMAND)
    assert err.value.argument == "deployment"


def test_a_deployment_is_a_value():
    """Frozen (a planner may keep it), one GPU per replica always allowed, and the first
    unknown option (in sorted order) named; found by mutation testing."""
    import dataclasses

    d = Deployment()
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.tpot_seconds = 1.0  # type: ignore[misc]
    assert Deployment(gpu=LONE, tensor_parallel=1).degrees == (1,)
    with pytest.raises(TypeError, match="^'tpot' is not a serving option"):
        d.replace(zeta=1, tpot=2)
    with pytest.raises(sp.ScaleplanError, match="a power of two up to 64; got 128"):
        Deployment(tensor_parallel=128)
