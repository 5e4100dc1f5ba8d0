"""A model name or a Hugging Face config path wherever a shape is taken: each gives the
same answers as the `TransformerShape` it names, and anything else is refused by name."""

from __future__ import annotations

import json

import numpy as np
import pytest

import scaleplan as sp
from scaleplan.arch.models import MODEL_FIELDS
from scaleplan.arch.shapes import MODELS, TransformerShape, resolve_shape
from scaleplan.systems import physical, serving

LLAMA_70B = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 8192,
    "num_hidden_layers": 80, "num_attention_heads": 64, "num_key_value_heads": 8,
    "intermediate_size": 28672, "vocab_size": 32000, "tie_word_embeddings": False,
    "hidden_act": "silu", "max_position_embeddings": 4096,
}  # fmt: skip


def test_every_name_is_its_published_shape():
    assert set(MODELS) == set(MODEL_FIELDS)
    for name, fields in MODEL_FIELDS.items():
        assert MODELS[name] == TransformerShape(**fields)
        assert resolve_shape(name) is MODELS[name]


def test_a_name_gives_the_answers_of_its_shape():
    shape = MODELS["llama-2-70b"]
    kw = dict(batch_size=8, context_tokens=2048, tensor_parallel=4)
    assert serving.decode("llama-2-70b", **kw) == serving.decode(shape, **kw)
    assert serving.prefill("llama-2-70b", prompt_tokens=512, tensor_parallel=4) == serving.prefill(
        shape, prompt_tokens=512, tensor_parallel=4
    )
    demand = dict(requests_per_day=1e6, days=365.0)
    assert physical.serving_plan("llama-2-70b", **demand) == physical.serving_plan(shape, **demand)
    assert physical.training_plan("llama-2-70b", 1e12) == physical.training_plan(shape, 1e12)
    named = physical.physical_plan(7e10, 1e12, shape="llama-2-70b", **demand)
    assert named == physical.physical_plan(7e10, 1e12, shape=shape, **demand)
    counts = sp.step_counts(["llama-2-7b", MODELS["gpt-j-6b"]])
    np.testing.assert_array_equal(
        counts.params, sp.step_counts([MODELS["llama-2-7b"], MODELS["gpt-j-6b"]]).params
    )


def test_a_config_path_is_the_shape_it_describes(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(LLAMA_70B))
    for where in (tmp_path, tmp_path / "config.json", str(tmp_path / "config.json")):
        assert resolve_shape(where) == TransformerShape.from_hf_config(tmp_path)
    got = serving.decode(str(tmp_path), batch_size=4, context_tokens=1024, tensor_parallel=4)
    assert (
        got.seconds
        == serving.decode(
            MODELS["llama-2-70b"], batch_size=4, context_tokens=1024, tensor_parallel=4
        ).seconds
    )


@pytest.mark.parametrize(
    ("call", "argument"),
    [(lambda: serving.decode("llama-9b"), "shape"),
     (lambda: physical.serving_plan("", requests_per_day=1.0, days=1.0), "shape"),
     (lambda: physical.training_plan("/no/such/config.json", 1e12), "shape"),
     (lambda: sp.step_counts(["llama-2-7b", "gpt-5"]), "shapes")],
)  # fmt: skip
def test_a_text_that_names_nothing_is_refused_by_name(call, argument):
    with pytest.raises(sp.ScaleplanError, match="a model name \\(llama-2-7b") as err:
        call()
    assert err.value.argument == argument


def test_a_bad_config_is_blamed_on_the_shape_argument(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({**LLAMA_70B, "num_hidden_layers": 32.9}))
    with pytest.raises(sp.ScaleplanError, match="num_hidden_layers") as err:
        serving.decode(str(tmp_path))
    assert err.value.argument == "shape" and str(tmp_path) in str(err.value)


# The Hub's parameter totals (safetensors metadata of each checkpoint).
PUBLISHED_TOTALS = {
    "llama-2-7b": 6_738_415_616,
    "llama-2-13b": 13_015_864_320,
    "llama-2-70b": 68_976_648_192,
    "llama-3-8b": 8_030_261_248,
    "llama-3-70b": 70_553_706_496,
    "llama-3.1-405b": 405_853_388_800,
    "mistral-7b": 7_241_732_096,
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_TOTALS))
def test_totals_are_the_published_ones_to_the_parameter(name):
    # The Llama family's norms are weight vectors without biases, counted in the totals
    # (2 per layer and a final one), so the count is exact.
    assert sp.step_counts(name).params == PUBLISHED_TOTALS[name]
