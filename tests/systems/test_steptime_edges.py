"""The step-time model's coefficients, `loss_in_budget`'s arithmetic and `shape_grid`'s
rows, each against a closed form written out here (the seed's `TIME = c_flop * FLOPS +
c_mem * BYTES + c_0` and the H100 SXM's published peaks)."""

import numpy as np
import pytest

from scaleplan.errors import ScaleplanError
from scaleplan.laws.scaling import ScalingLaw
from scaleplan.systems.steptime import (
    FIELDS,
    StepTimeModel,
    TransformerShape,
    loss_in_budget,
    shape_grid,
)
from scaleplan.testing import reference as ref

# H100 SXM datasheet: 989 TFLOP/s dense bf16, 1979 TFLOP/s dense fp8/int8, 3.35 TB/s HBM3.
H100_BF16, H100_FP8, H100_BANDWIDTH = 989e12, 1979e12, 3.35e12

# Coefficients are one division from the datasheet numbers: at most 1 ulp apart.
EXACT = {"rel": 1e-15, "abs": 0.0}
# Counts are exact integers; a step's time, tokens and the law's powers are a few
# roundings each (measured differences <= 2 ulp); pytest.approx's default abs=1e-12 would
# accept a zero coefficient, so it is switched off.
CLOSE = {"rel": 1e-12, "abs": 0.0}

TINY = TransformerShape(8, 1, 2, vocab=5, d_ff=12, seq_len=3, batch_size=4)
SMALL = TransformerShape(64, 2, 4, vocab=100, d_ff=160, seq_len=16, batch_size=5, gated=False)


def reference_counts(shape):
    return ref.step_counts(*(getattr(shape, f) for f in FIELDS))


@pytest.mark.parametrize(
    "precision, peak, bytes_per",
    [("bf16", H100_BF16, 2.0), ("fp8", H100_FP8, 1.0), ("int8", H100_FP8, 1.0)],
)
@pytest.mark.parametrize("mfu", [0.5, 1.0, 1e-3])
def test_roofline_coefficients_are_the_datasheet_peaks(precision, peak, bytes_per, mfu):
    m = StepTimeModel.from_hardware("h100-sxm", precision, mfu=mfu)
    assert m.c_flop == pytest.approx(1.0 / (mfu * peak), **EXACT)
    assert m.c_mem == pytest.approx(1.0 / H100_BANDWIDTH, **EXACT)
    # The roofline has no fixed overhead; fp8 and int8 move one byte per element.
    assert m.c_0 == 0.0
    assert m.bytes_per_element == bytes_per
    assert m.source == f"roofline h100-sxm {precision}"


@pytest.mark.parametrize("mfu", [0, 0.0, -0.5, -1e-9, 1.0 + 1e-9, 1.5, 2.0, 3.0])
def test_mfu_outside_the_unit_interval_is_refused_by_name(mfu):
    # A negative MFU would otherwise surface as a negative c_flop, and 0 as a division
    # by zero: the message must name mfu and its range.
    with pytest.raises(ValueError, match=r"mfu must be in \(0, 1\]"):
        StepTimeModel.from_hardware("h100-sxm", "bf16", mfu=mfu)


def test_mfu_is_keyword_only_and_gpu_and_precision_are_not_positional_only():
    with pytest.raises(TypeError):
        StepTimeModel.from_hardware("h100-sxm", "bf16", 0.5)
    by_name = StepTimeModel.from_hardware(gpu="h100-sxm", precision="fp8", mfu=0.5)
    assert by_name == StepTimeModel.from_hardware("h100-sxm", "fp8", mfu=0.5)


def test_source_is_left_out_of_equality_and_hash():
    a = StepTimeModel(2e-15, 1e-12, 0.01, source="fitted")
    b = StepTimeModel(2e-15, 1e-12, 0.01, source="roofline")
    assert a == b and hash(a) == hash(b)
    assert a != StepTimeModel(2e-15, 1e-12, 0.02, source="fitted")


# Every coefficient non-zero and bytes_per_element off its default, so each term of the
# step's time shows; c_flop = 1 s/FLOP is absurd but valid, and unlike a realistic 1e-15 it
# is not smaller than the FLOP count (where `c % F == c` and `c // F == 0`).
MODELS = [
    StepTimeModel(c_flop=2e-15, c_mem=1e-12, c_0=0.01, bytes_per_element=3.0),
    StepTimeModel(c_flop=1.0, c_mem=0.5, c_0=2.0, bytes_per_element=3.0),
]
LAW = ScalingLaw(E=1.5, A=400.0, B=400.0, alpha=0.3, beta=0.3)


NAMES = ("loss", "params", "tokens", "steps", "step", "memory")


def expected_budget(shape, seconds, model):
    params, flops, moved, kept, _ = reference_counts(shape)
    step = model.c_flop * flops + model.c_mem * moved * model.bytes_per_element + model.c_0
    steps = seconds / step
    tokens = steps * shape.batch_size * shape.seq_len
    loss = LAW.E + LAW.A / params**LAW.alpha + LAW.B / tokens**LAW.beta
    # Adam in mixed precision: fp32 weights, gradients and two moments (16 bytes per
    # parameter), plus the activations kept for the backward pass.
    memory = 16.0 * params + model.bytes_per_element * kept
    return loss, params, tokens, steps, step, memory


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("shape", [TINY, SMALL])
def test_budget_of_one_shape_is_the_closed_form(model, shape):
    r = loss_in_budget(shape, 3600.0, law=LAW, time_model=model)
    want = expected_budget(shape, 3600.0, model)
    got = (r.loss, r.params, r.tokens, r.steps, r.step_seconds, r.memory_bytes)
    for name, g, w in zip(NAMES, got, want, strict=True):
        assert type(g) is float, name
        assert g == pytest.approx(w, **CLOSE), name


@pytest.mark.parametrize("model", MODELS)
def test_budget_of_a_grid_is_the_closed_form_row_by_row(model):
    shapes = [TINY, SMALL]
    cols = {f: np.array([float(getattr(s, f)) for s in shapes]) for f in FIELDS}
    r = loss_in_budget(cols, 86400.0, law=LAW, time_model=model)
    got = np.array([r.loss, r.params, r.tokens, r.steps, r.step_seconds, r.memory_bytes])
    assert got.shape == (6, 2)
    want = np.array([expected_budget(s, 86400.0, model) for s in shapes]).T
    np.testing.assert_allclose(got, want, **{"rtol": 1e-12, "atol": 0.0})


def test_default_time_model_is_the_h100_bf16_roofline_at_half_mfu():
    _, flops, moved, _, _ = reference_counts(SMALL)
    want = flops / (0.5 * H100_BF16) + moved * 2.0 / H100_BANDWIDTH
    assert loss_in_budget(SMALL, 60.0).step_seconds == pytest.approx(want, **CLOSE)
    assert loss_in_budget(SMALL, 60.0, time_model=None).step_seconds == pytest.approx(want, **CLOSE)
    # A given model is used, not replaced by the default.
    slow = StepTimeModel(c_flop=0.0, c_mem=0.0, c_0=7.0)
    assert loss_in_budget(SMALL, 60.0, time_model=slow).step_seconds == 7.0


def test_a_time_model_that_is_not_one_is_refused_by_name():
    with pytest.raises(ValueError, match="time_model must be a StepTimeModel or None"):
        loss_in_budget(SMALL, 60.0, time_model="h100-sxm")


def test_shape_grid_rows_are_the_product_with_divisible_heads_only():
    grid = shape_grid(
        d_model=(384, 768),
        n_layers=(3,),
        n_heads=(6, 256),
        mlp_ratio=(8 / 3, 2.5),
        seq_len=64,
        batch_size=2,
    )
    # 256 heads do not divide 384 (remainder 128); every other pair divides. d_ff is
    # d_model * mlp_ratio: 384 * 8/3 = 1024, 384 * 2.5 = 960, 768 * 8/3 = 2048, ...
    rows = [
        (384, 3, 6, 1024),
        (384, 3, 6, 960),
        (768, 3, 6, 2048),
        (768, 3, 6, 1920),
        (768, 3, 256, 2048),
        (768, 3, 256, 1920),
    ]
    assert set(grid) == {"d_model", "n_layers", "n_heads", "d_ff", "seq_len", "batch_size"}
    for j, name in enumerate(("d_model", "n_layers", "n_heads", "d_ff")):
        assert grid[name].dtype == np.float64
        assert grid[name].tolist() == [float(row[j]) for row in rows], name
    assert grid["seq_len"].dtype == np.float64 and grid["seq_len"].tolist() == 64.0
    assert grid["batch_size"].tolist() == 2.0


def test_shape_grid_rounds_d_ff_to_the_nearest_integer():
    # 100 * 1.234 = 123.4 -> 123 and 100 * 1.236 = 123.6 -> 124 (not truncated).
    grid = shape_grid(d_model=(100,), n_layers=(1,), n_heads=(4,), mlp_ratio=(1.234, 1.236))
    assert grid["d_ff"].tolist() == [123.0, 124.0]


def test_shape_grid_counts_are_whole_and_exact_as_floats_up_to_2_53():
    assert shape_grid(d_model=(2**53,), n_layers=(2**53,), n_heads=(8,))["n_layers"][0] == 2.0**53
    with pytest.raises(ScaleplanError, match=r"in \[1, 2\*\*53\]; got 9007199254740993") as err:
        shape_grid(n_layers=(2**53 + 1,))
    assert err.value.argument == "n_layers"


@pytest.mark.parametrize(
    ("kw", "argument", "words"),
    [
        # No head count divides a width: an empty grid was an IndexError before 2026-12-07.
        ({"d_model": (100,), "n_heads": (3,)}, "n_heads", r"no head count in \[3\] divides"),
        ({"n_heads": (0,)}, "n_heads", "integer in"),  # was a ZeroDivisionError
        ({"n_heads": (-4,)}, "n_heads", "got -4"),  # was a grid row of -4 heads
        ({"d_model": ()}, "d_model", "at least one value"),
        ({"d_model": 512}, "d_model", "iterable of numbers; got int"),
        ({"n_layers": (2.5,)}, "n_layers", "got 2.5"),
        ({"n_layers": (True,)}, "n_layers", "got True"),
        ({"mlp_ratio": (0.0,)}, "mlp_ratio", "> 0; got 0.0"),
        ({"mlp_ratio": (float("nan"),)}, "mlp_ratio", "finite"),
    ],
)
def test_shape_grid_refuses_an_empty_or_impossible_grid_by_name(kw, argument, words):
    with pytest.raises(ScaleplanError, match=words) as err:
        shape_grid(**kw)
    assert err.value.argument == argument
