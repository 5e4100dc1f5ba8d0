"""Expert parallelism and data-parallel attention in the serving roofline: Rust against the
pure-Python reference, the layouts' physics, and the layouts a group cannot take."""

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleplan.arch.shapes import MODELS
from scaleplan.hardware.accelerators import ACCELERATORS
from scaleplan.systems import serving
from scaleplan.systems.efficiency import Efficiency
from tests.systems.serving_support import assert_step_is, efficiencies, experts, reference, shapes

IDEAL = Efficiency(compute=1.0, memory=1.0, overhead_seconds=0.0, memory_fraction=1.0)
GROUPS = [1, 2, 4, 8, 16]


@st.composite
def moe_shapes(draw):
    """A shape with at least one MoE layer whose routed experts some group sizes divide."""
    shape = draw(shapes())
    fields = draw(experts(shape.n_layers).filter(lambda f: f["moe_layers"] > 0))
    fields["experts"] = draw(st.sampled_from([2, 4, 8, 16, 32, 64, 128, 256]))
    fields["experts_per_token"] = min(fields["experts_per_token"], fields["experts"])
    return dataclasses.replace(shape, **fields)


@given(
    moe_shapes(),
    st.sampled_from(["decode", "prefill"]),
    st.integers(1, 4096),
    st.integers(1, 32768),
    st.sampled_from(GROUPS),
    st.sampled_from(["h100-sxm", "h200", "b200", "a100-80gb"]),
    efficiencies,
)
def test_data_parallel_attention_matches_the_reference(shape, phase, batch, tokens, tp, gpu,
                                                       eff):  # fmt: skip
    acc = ACCELERATORS[gpu]
    step = serving.decode if phase == "decode" else serving.prefill
    kw = {"context_tokens" if phase == "decode" else "prompt_tokens": tokens}
    call = dict(batch_size=batch, tensor_parallel=tp, expert_parallel=tp, efficiency=eff,
                attention_data_parallel=True, **kw)  # fmt: skip
    if shape.experts % tp:
        with pytest.raises(ValueError) as err:
            step(shape, acc, **call)
        assert err.value.argument == "expert_parallel"
        return
    seconds, flops, moved, comm, max_batch, _ = reference(
        shape, phase, batch, tokens, tp, acc, eff, attention_data_parallel=True
    )
    if max_batch < 1 or batch > max_batch:
        with pytest.raises(ValueError) as err:
            step(shape, acc, **call)
        assert err.value.argument == ("tensor_parallel" if max_batch < 1 else "batch_size")
        return
    assert_step_is(step(shape, acc, **call), seconds, flops, moved, comm, max_batch)


@given(moe_shapes(), st.integers(1, 2048), st.sampled_from(GROUPS), st.data())
def test_expert_parallelism_alone_prices_as_tensor_parallelism(shape, batch, tp, data):
    ep = data.draw(st.sampled_from([e for e in GROUPS if tp % e == 0 and shape.experts % e == 0]))
    kw = dict(batch_size=batch, context_tokens=512, tensor_parallel=tp, on_invalid="nan")
    if shape.n_heads % tp:
        return
    a = serving.decode(shape, "h200", **kw)
    b = serving.decode(shape, "h200", expert_parallel=ep, **kw)
    # The layout is priced as tensor parallelism: the same step, or the same refusal
    # (the batch or the weights do not fit), never a different number.
    assert a.seconds == b.seconds or (math.isnan(a.seconds) and math.isnan(b.seconds))
    assert math.isnan(b.seconds) or b.seconds > 0


def test_deepseek_holds_eight_times_the_sequences_with_data_parallel_attention():
    # Tensor parallelism keeps every sequence's latent cache on every GPU; data-parallel
    # attention keeps each on one. At its largest batch the group then decodes several
    # times the tokens a second, despite reading the replicated attention on every GPU.
    v3 = MODELS["deepseek-v3"]
    kw = dict(context_tokens=3072, precision="fp8", tensor_parallel=8, expert_parallel=8,
              efficiency=IDEAL)  # fmt: skip
    tp = serving.decode(v3, "h200", **kw)
    dp = serving.decode(v3, "h200", attention_data_parallel=True, **kw)
    assert dp.max_batch_size > 4 * tp.max_batch_size
    full_tp = serving.decode(v3, "h200", batch_size=tp.max_batch_size, **kw)
    full_dp = serving.decode(v3, "h200", batch_size=dp.max_batch_size,
                             attention_data_parallel=True, **kw)  # fmt: skip
    assert full_dp.tokens_per_second > 3 * full_tp.tokens_per_second
    # At batch one the replicated attention costs: data parallel is slower per token.
    one = dict(batch_size=1, **kw)
    assert (serving.decode(v3, "h200", attention_data_parallel=True, **one).seconds
            > serving.decode(v3, "h200", **one).seconds)  # fmt: skip


@pytest.mark.parametrize(
    ("shape", "kw", "argument", "words"),
    [
        ("mixtral-8x7b", dict(tensor_parallel=8, expert_parallel=3), "expert_parallel",
         "dividing tensor_parallel"),
        ("mixtral-8x7b", dict(tensor_parallel=16, expert_parallel=16), "expert_parallel",
         "routed experts"),
        ("llama-2-7b", dict(tensor_parallel=2, expert_parallel=2), "expert_parallel", "dense"),
        ("mixtral-8x7b", dict(tensor_parallel=8, expert_parallel=4,
                              attention_data_parallel=True), "expert_parallel",
         "attention_data_parallel"),
        ("mixtral-8x7b", dict(expert_parallel=0), "expert_parallel", "whole number"),
        ("mixtral-8x7b", dict(expert_parallel=float("nan")), "expert_parallel", "whole"),
        ("mixtral-8x7b", dict(attention_data_parallel=1), "attention_data_parallel",
         "True or False"),
        ("mixtral-8x7b", dict(attention_data_parallel="yes"), "attention_data_parallel",
         "True or False"),
    ],
)  # fmt: skip
def test_layouts_a_group_cannot_take_are_named(shape, kw, argument, words):
    for step in (serving.decode, serving.prefill):
        with pytest.raises(ValueError, match=words) as err:
            step(shape, "h100-sxm", prompt_tokens=128, **kw) if step is serving.prefill else (
                step(shape, "h100-sxm", context_tokens=128, **kw)
            )
        assert err.value.argument == argument


def test_one_bad_layout_row_does_not_lose_the_rest():
    r = serving.decode("mixtral-8x7b", "h100-sxm", tensor_parallel=8, batch_size=8,
                       expert_parallel=[1, 3, 8], on_invalid="nan")  # fmt: skip
    assert math.isfinite(r.seconds[0]) and math.isnan(r.seconds[1])
    assert r.seconds[2] == r.seconds[0]


def test_the_step_says_its_layout():
    r = serving.decode("mixtral-8x7b", "h100-sxm", tensor_parallel=8, batch_size=8,
                       expert_parallel=[1, 8])  # fmt: skip
    assert r.expert_parallel.tolist() == [1.0, 8.0] and r.attention_data_parallel is False
    dp = serving.prefill("mixtral-8x7b", "h100-sxm", tensor_parallel=8, expert_parallel=8,
                         attention_data_parallel=True, prompt_tokens=128)  # fmt: skip
    assert dp.expert_parallel == 8.0 and dp.attention_data_parallel is True
    assert "expert_parallel" in r.to_pandas().columns


def test_serve_takes_the_layout_and_refuses_what_it_cannot_price():
    import json

    from tests.inprocess import run_cli

    args = ("serve", "--model", "deepseek-v3", "--gpu", "h200", "--precision", "fp8",
            "--tensor-parallel", "8", "--expert-parallel", "8", "--attention-data-parallel",
            "--batch-size", "64", "--json")  # fmt: skip
    r = run_cli(args)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert (data["expert_parallel"], data["attention_data_parallel"]) == (8, True)
    step = serving.decode("deepseek-v3", "h200", precision="fp8", tensor_parallel=8,
                          expert_parallel=8, attention_data_parallel=True, batch_size=64,
                          context_tokens=2048)  # fmt: skip
    assert data["decode"]["seconds"] == step.seconds
    for bad, words in (
        (("--expert-parallel", "3"), "dividing --tensor-parallel"),
        (("--expert-parallel", "4", "--attention-data-parallel"), "equal to --tensor-parallel"),
        (("--expert-parallel", "8", "--draft", "mtp"), "tensor parallelism only"),
    ):
        r = run_cli(("serve", "--model", "deepseek-v3", "--gpu", "h200", "--precision", "fp8",
                     "--tensor-parallel", "8", *bad))  # fmt: skip
        assert r.returncode == 2 and words in r.stderr and len(r.stderr.splitlines()) == 1
