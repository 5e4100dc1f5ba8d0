"""Mixture-of-experts shapes from published Hugging Face configs: total and active
parameters against each model's published counts (sources beside each), and keys that
would change the count refused by name."""

import json
from pathlib import Path

import pytest

from scaleplan import TransformerShape, step_counts
from scaleplan.arch.shapes import FIELDS
from scaleplan.testing import reference as ref

CONFIGS = Path(__file__).parent / "hf_configs"  # SOURCES.md there says where each is from


def config(name):
    return json.loads((CONFIGS / f"{name}.json").read_text())


def counts(name):
    shape = TransformerShape.from_hf_config(CONFIGS / f"{name}.json")
    c = step_counts(shape)
    embedding = 0 if shape.tied else shape.vocab * shape.d_model
    return shape, c.params, c.active_params, c.active_params - embedding


def printed(value, published):
    """Whether `value` is `published` to the digits printed: within half a unit of the last
    printed digit (`published` given as the text the source prints, in billions)."""
    decimals = len(published.split(".")[1]) if "." in published else 0
    return abs(value / 1e9 - float(published)) <= 0.5 * 10.0**-decimals + 1e-12


# (config, published total, published active, whether the active figure counts the input
# embedding, source). Published figures are in billions, as printed.
PUBLISHED = [
    ("Mixtral-8x7B-v0.1", "46.7", "12.9", True,
     "Mistral AI, 'Mixtral of experts' (2023-12-11): 46.7B total, 12.9B per token"),
    ("Mixtral-8x22B-v0.1", "141", "39", True,
     "Mistral AI, 'Cheaper, Better, Faster, Stronger' (2024-04-17)"),
    ("DeepSeek-V2", "236", "21", True, "DeepSeek-V2 paper (arXiv 2405.04434), abstract"),
    ("DeepSeek-V3", "671", "36.6", False,
     "DeepSeek-V3 README_WEIGHTS.md: 671B without the MTP module; 36.6B activated, "
     "including 0.9B for the output head"),
    ("Qwen3-235B-A22B", "235", "22", True, "Qwen3 model card: 235B total, 22B activated"),
    ("Qwen1.5-MoE-A2.7B", "14.3", "2.7", True, "Qwen blog 'Qwen1.5-MoE' (2024-03-28)"),
    ("OLMoE-1B-7B-0924", "6.9", "1.3", True,
     "OLMoE README (revision ed327d8): 6.9B total, 1.3B active"),
    ("gpt-oss-20b", "21", "3.6", False, "OpenAI gpt-oss model card: 21B, 3.6B active"),
]  # fmt: skip


@pytest.mark.parametrize("name, total, active, with_embedding, source", PUBLISHED)
def test_totals_and_actives_match_the_published_counts(name, total, active, with_embedding, source):
    _, params, active_params, without_embedding = counts(name)
    assert printed(params, total), (params, source)
    assert printed(active_params if with_embedding else without_embedding, active), source


def test_mixtral_within_half_a_percent():
    _, params, active, _ = counts("Mixtral-8x7B-v0.1")
    assert params / 46.7e9 == pytest.approx(1, abs=5e-3)
    assert active / 12.9e9 == pytest.approx(1, abs=5e-3)


def test_the_counts_that_need_a_word():
    # Qwen3-30B-A3B: 30.5B total, 3.3B activated (its model card). Ours: 30.53B and 3.353B;
    # the active figure reads as truncated (3.35 would round to 3.4 if it were rounded).
    _, params, active, _ = counts("Qwen3-30B-A3B")
    assert printed(params, "30.5") and 3.30e9 <= active < 3.40e9
    # gpt-oss-120b: 117B total, 5.1B active (its model card). Every expert's biases sit in
    # extra_params, which every token counts as active: the 124 experts a token skips add
    # 124 x (2 x 2880 + 2880) x 36 = 38.6M, which the active count overstates (0.75%).
    shape, params, _, active = counts("gpt-oss-120b")
    skipped_biases = 124 * (3 * 2880) * 36
    assert printed(params, "117") and printed(active - skipped_biases, "5.1")
    # Llama 4 Scout: 17B activated, ~109B total with its vision tower; the text model read
    # here is 107.8B (Maverick's 400B is its text model, and 402B with the vision tower).
    shape, params, active, _ = counts("Llama-4-Scout-17B-16E-Instruct")
    assert printed(active, "17") and 107e9 < params < 109e9
    assert shape.moe_layers == 48 and shape.shared_d_ff == 8192 and shape.d_ff == 16384
    # Maverick: 17B activated, "~400B" total (its model card; the HF blog says ~400B,
    # transformers' docs 402B with the vision tower). Its text model here: 400.7B, 0.18%.
    _, params, active, _ = counts("Llama-4-Maverick-17B-128E-Instruct")
    assert printed(active, "17") and params / 400e9 == pytest.approx(1, abs=5e-3)


@pytest.mark.parametrize("name", [p[0] for p in PUBLISHED])
def test_the_reference_counts_the_same(name):
    shape = TransformerShape.from_hf_config(CONFIGS / f"{name}.json")
    c = step_counts(shape)
    want = ref.step_counts(*(getattr(shape, f) for f in FIELDS))
    assert (c.params, c.active_params) == pytest.approx((want[0], want[4]), rel=1e-12)


def test_what_each_config_sets():
    v3 = TransformerShape.from_hf_config(config("DeepSeek-V3"))
    assert (v3.moe_layers, v3.experts, v3.experts_per_token, v3.shared_d_ff) == (58, 256, 8, 2048)
    assert (v3.kv_lora_rank, v3.q_lora_rank, v3.rope_head_dim, v3.head_dim) == (512, 1536, 64, 192)
    maverick = TransformerShape.from_hf_config(config("Llama-4-Maverick-17B-128E-Instruct"))
    assert (maverick.moe_layers, maverick.n_layers) == (24, 48)  # every second layer
    qwen = {**config("Qwen3-30B-A3B"), "mlp_only_layers": [0, 1], "decoder_sparse_step": 2}
    assert TransformerShape.from_hf_config(qwen).moe_layers == 23  # odd layers, less layer 1
    # V2-Lite has no query bottleneck: q_lora_rank null.
    lite = {**config("DeepSeek-V2"), "q_lora_rank": None}
    assert TransformerShape.from_hf_config(lite).q_lora_rank == 0


@pytest.mark.parametrize(
    "name, change, argument",
    [
        ("Mixtral-8x7B-v0.1", {"n_shared_experts": 2}, "n_shared_experts"),
        ("Mixtral-8x7B-v0.1", {"moe_layer_freq": 2}, "moe_layer_freq"),
        (
            "Qwen3-30B-A3B",
            {"shared_expert_intermediate_size": 5},
            "shared_expert_intermediate_size",
        ),
        ("DeepSeek-V3", {"moe_layer_freq": 2}, "moe_layer_freq"),
        ("DeepSeek-V3", {"expert_granularity": 4}, "expert_granularity"),
        ("OLMoE-1B-7B-0924", {"num_experts_per_tok": 65}, "experts_per_token"),
        ("gpt-oss-20b", {"num_local_experts": None}, "num_local_experts"),
        ("Qwen3-30B-A3B", {"decoder_sparse_step": 0}, "decoder_sparse_step"),
        ("Qwen3-30B-A3B", {"mlp_only_layers": "all"}, "mlp_only_layers"),
    ],
)
def test_what_would_miscount_is_refused_by_name(name, change, argument):
    c = {k: v for k, v in {**config(name), **change}.items() if v is not None}
    with pytest.raises(ValueError, match=argument) as err:
        TransformerShape.from_hf_config(c)
    assert err.value.argument == argument


def test_expert_keys_on_a_dense_type_are_still_refused():
    llama = {**config("Mixtral-8x7B-v0.1"), "model_type": "llama"}
    with pytest.raises(ValueError, match="mixture of experts"):
        TransformerShape.from_hf_config(llama)


@pytest.mark.parametrize(
    "model, name",
    [("mixtral-8x7b", "Mixtral-8x7B-v0.1"), ("mixtral-8x22b", "Mixtral-8x22B-v0.1"),
     ("qwen3-30b-a3b", "Qwen3-30B-A3B"), ("qwen3-235b-a22b", "Qwen3-235B-A22B"),
     ("llama-4-scout", "Llama-4-Scout-17B-16E-Instruct"),
     ("llama-4-maverick", "Llama-4-Maverick-17B-128E-Instruct"),
     ("gpt-oss-20b", "gpt-oss-20b"), ("gpt-oss-120b", "gpt-oss-120b"),
     ("deepseek-v3", "DeepSeek-V3")],
)  # fmt: skip
def test_the_named_moe_shapes_are_their_configs(model, name):
    from dataclasses import replace

    from scaleplan.arch.shapes import MODELS

    read = TransformerShape.from_hf_config(CONFIGS / f"{name}.json")
    assert replace(read, seq_len=2048, batch_size=8) == MODELS[model]
