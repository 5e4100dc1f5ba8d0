"""`training_plan` term by term: the bytes a GPU holds, the fewest GPUs, the GPU count it
picks within 30 days, and the edges it refuses (activations that fill a GPU, 2**53 GPUs).

Expected values are the module docstring's rules worked by hand: 16 bytes a parameter
sharded over the GPUs, each layer's input plus one layer's activations at 2 bytes, 90% of
a GPU's memory, `6 N D / (peak x mfu)` GPU-seconds over 30 days of 86,400 s."""

import math

import pytest

from scaleplan.arch.counts import step_counts
from scaleplan.arch.shapes import MODELS, TransformerShape
from scaleplan.errors import ScaleplanError
from scaleplan.hardware.accelerators import Accelerator
from scaleplan.systems.training_plan import training_plan

LLAMA = MODELS["llama-2-7b"]  # 6,738,415,616 parameters, batch 8 x 2,048 tokens
# Three layers and a vocabulary of 32,001, so that the kept elements a layer (the head's
# share included) are not whole.
ODD = TransformerShape(d_model=512, n_layers=3, n_heads=4, d_ff=1376, vocab=32001, batch_size=1)
SMALL = TransformerShape(d_model=256, n_layers=2, n_heads=2, d_ff=1024, seq_len=2, batch_size=1)
THIRTY_DAYS = 30 * 86_400.0
STATE_BYTES = 2 + 2 + 12  # bf16 weights and gradients, fp32 master weights and two moments


def gpu(memory_bytes=80e9, peak=2.0**60):
    """A GPU whose peak is a power of two, so that a GPU-second count is one rounding of
    `6 N D` away from exact."""
    return Accelerator("test-gpu", {"bf16": peak}, memory_bytes=memory_bytes,
                       memory_bandwidth=3e12, price_per_hour=1.0)  # fmt: skip


def activations(shape):
    """Checkpointed activations of one micro-batch, bytes: every layer's input (`L B S d`)
    and one layer's share of the kept elements, at 2 bytes."""
    kept = shape.n_layers * shape.batch_size * shape.seq_len * shape.d_model
    return 2.0 * (kept + float(step_counts(shape).activation_elements) / shape.n_layers)


def tokens_for(shape, gpu_months, peak=2.0**60):
    """Tokens whose `6 N D / peak` GPU-seconds are `gpu_months` x 30 days (mfu 1)."""
    return gpu_months * THIRTY_DAYS * peak / (6.0 * float(step_counts(shape).params))


@pytest.mark.parametrize(("shape", "gpus"), [(LLAMA, 7), (ODD, 3)])
def test_each_gpu_holds_its_shard_of_the_state_and_one_checkpointed_micro_batch(shape, gpus):
    """Mutation testing (2026-12-07) found the 16 bytes a parameter, the micro-batch's
    `batch_size x seq_len` tokens, the 2 bytes an activation, the per-layer division and
    the sum of shard and activations could all change unnoticed. The shards are not whole
    bytes (16 N is not a multiple of 7 or 3) and ODD's kept elements a layer are not whole,
    so floor divisions show; the sum is exact to an ulp or two (1e-14 relative allows 45)."""
    params = float(step_counts(shape).params)
    plan = training_plan(shape, 1e12, gpus=gpus)
    want = STATE_BYTES * params / gpus + activations(shape)
    assert plan.memory_bytes_per_gpu == pytest.approx(want, rel=1e-14)
    assert (STATE_BYTES * params) % gpus != 0
    kept = float(step_counts(shape).activation_elements) / shape.n_layers
    assert kept != math.floor(kept) or shape is LLAMA


def test_llama_2_7b_activations_by_hand():
    """Independent of `step_counts`: Llama-2-7B keeps 32 layer inputs of 8 x 2,048 tokens x
    4,096 and one layer's 3,396,600,320 elements (its published per-layer writes at 16,384
    tokens: 2 (16,384 x 4,096) x 5 + 3 x 16,384 x 11,008 + 2 x 8 x 32 x 2,048^2 + the head's
    share), 2 bytes each; 16 bytes a parameter over 7 GPUs beside them."""
    plan = training_plan(LLAMA, 1e12, gpus=7)
    act = 2.0 * (32 * 8 * 2048 * 4096 + 3_396_600_320)
    assert activations(LLAMA) == act == 11_088_167_936.0
    assert plan.memory_bytes_per_gpu == pytest.approx(16 * 6_738_415_616 / 7 + act, rel=1e-15)


def test_the_fewest_gpus_hold_the_state_in_90_percent_of_memory():
    """`ceil(16 N / (0.9 memory - activations))`, and at least one: a small model fits one
    GPU (mutation testing found the floor of one could be two unnoticed), and exactly the
    fewest GPUs are accepted when given (it once could be more than the fewest)."""
    small = training_plan(SMALL, 1e9)
    assert small.min_gpus == 1 and small.gpus == 1
    room = 0.9 * 80e9 - activations(LLAMA)  # about 60.9 GB beside 107.8 GB of state
    assert training_plan(LLAMA, 1e12).min_gpus == math.ceil(16 * 6_738_415_616 / room) == 2
    assert training_plan(LLAMA, 1e12, gpus=2).gpus == 2
    with pytest.raises(ScaleplanError, match="gpus must be a whole number >= 2") as err:
        training_plan(LLAMA, 1e12, gpus=1)
    assert err.value.argument == "gpus"


@pytest.mark.parametrize(
    ("gpu_months", "gpus"),
    [(0.4, 1), (2.5, 3), (7.2, 8), (8.5, 16), (9.0, 16), (16.01, 24)],
)
def test_the_default_count_finishes_within_30_days_in_multiples_of_8_above_8(gpu_months, gpus):
    """`ceil(GPU-seconds / 30 days)`, rounded up to a multiple of 8 only above 8: 2.5
    GPU-months take 3 GPUs (not 2, nor 8), 8.5 take 16 (9 rounded up, not 8 or 9)."""
    plan = training_plan(SMALL, tokens_for(SMALL, gpu_months), gpu(), mfu=1.0)
    assert (plan.min_gpus, plan.gpus) == (1, gpus)
    assert plan.days <= 30.0
    assert plan.days == pytest.approx(30.0 * gpu_months / gpus, rel=1e-12)


def test_the_default_count_is_planned_up_to_2_53_gpus_and_refused_past_it():
    """GPU counts are whole in float64 only up to 2**53. Mutation testing (2026-12-07)
    moved the default path's limit to 2**52, 2**54, 3**53 or `>=` unnoticed.

    At exactly 2**53 - 4 GPU-months the count rounds up to 2**53 itself: with a power-of-two
    peak and mfu 1 the GPU-seconds are `fl(6 N D) / 2**60`, within 3 ulps (7.2e6 s, 2.8 GPUs'
    30 days) of 2**53 - 4 times 30 days once D is rounded, and the division by 30 days
    adds half a GPU: the ceiling lies in (2**53 - 8, 2**53]."""
    at = training_plan(SMALL, tokens_for(SMALL, 2.0**53 - 4), gpu(), mfu=1.0)
    assert at.gpus == 2**53 and at.days == pytest.approx(30.0, rel=1e-14)
    below = training_plan(SMALL, tokens_for(SMALL, 1.5 * 2.0**52), gpu(), mfu=1.0)
    assert 2**52 < below.gpus < 2**53 and below.gpus % 8 == 0
    with pytest.raises(ScaleplanError, match=r"needs more than 2\*\*53 GPUs") as err:
        training_plan(SMALL, tokens_for(SMALL, 1.5 * 2.0**53), gpu(), mfu=1.0)
    assert err.value.argument == "tokens"


def test_a_given_count_is_accepted_up_to_2_53_and_refused_past_it():
    """The explicit `gpus` path's limit at both sides of 2**53 (mutation testing moved it,
    made it strict, or made it `!=` / `is not`)."""
    assert training_plan(SMALL, 1e12, gpus=2**53).gpus == 2**53
    assert training_plan(SMALL, 1e12, gpus=2**52 + 8).gpus == 2**52 + 8
    for bad in (2**53 + 1, 2**54):
        with pytest.raises(ScaleplanError, match=r"and <= 2\*\*53; got ") as err:
            training_plan(SMALL, 1e12, gpus=bad)
        assert err.value.argument == "gpus"


def memory_leaving(shape, room):
    """A memory size, bytes, whose 90% less the shape's activations is exactly `room` (the
    nearest float to `(activations + room) / 0.9`, nudged an ulp at a time until it is)."""
    act = activations(shape)
    m = (act + room) / 0.9
    for _ in range(64):
        left = 0.9 * m - act
        if left == room:
            return m
        m = math.nextafter(m, math.inf if left < room else -math.inf)
    raise AssertionError("no memory size leaves exactly that room")


def test_activations_that_fill_90_percent_of_a_gpu_are_refused_naming_batch_size():
    """No room left (exactly 0 bytes) is refused with the batch_size error, not a division
    by zero; half a byte left is planned, on 16 N / 0.5 GPUs at least. Mutation testing
    moved the `room <= 0` boundary to `< 0`, `<= 1` and `<= -1` unnoticed."""
    full = gpu(memory_leaving(LLAMA, 0.0))
    with pytest.raises(ScaleplanError, match="do not fit a test-gpu: lower the shape") as err:
        training_plan(LLAMA, 1e12, full)
    assert err.value.argument == "batch_size"
    half = training_plan(LLAMA, 1e12, gpu(memory_leaving(LLAMA, 0.5)))
    assert half.min_gpus == 16 * 6_738_415_616 * 2


@pytest.mark.parametrize(
    ("vocab", "shown"),
    # 1.235 is stored above its tie (1.23500000000000009770), 1.005 below it
    # (1.00499999999999989342): a divisor 1 off 1e9 moves each across.
    [(308_749_485, "1.24"), (251_249_485, "1")],
)
def test_the_refusal_quotes_the_activations_in_gigabytes(vocab, shown):
    """The message's GB are bytes / 1e9 to three figures (mutation testing changed the
    division unnoticed). One layer of one token, d_model 64 and d_ff 65: the kept
    elements are the layer's 837 writes and the head's 129 + 2 x vocab, so the activations
    are 2 (64 + 966 + 2 vocab) = 2,060 + 4 vocab bytes: exactly 1.235e9 and 1.005e9."""
    shape = TransformerShape(d_model=64, n_layers=1, n_heads=1, head_dim=64, d_ff=65,
                             seq_len=1, batch_size=1, vocab=vocab)  # fmt: skip
    assert activations(shape) == 2060 + 4 * vocab
    with pytest.raises(ScaleplanError) as err:
        training_plan(shape, 1e12, gpu(memory_bytes=1e9))
    assert str(err.value).startswith(f"one micro-batch's activations ({shown} GB) do not fit")
