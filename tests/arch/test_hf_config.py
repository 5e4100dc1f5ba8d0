"""TransformerShape.from_hf_config against published parameter totals.

The configs hold the size keys of each model's public `config.json` on the Hugging Face
Hub; the totals are the parameter counts the Hub lists for each checkpoint (its
safetensors metadata), the Pythia paper's Table (Biderman et al. 2023) for Pythia and
OpenAI's GPT-2 release for GPT-2.
"""

import json

import pytest

from scaleplan.arch.counts import step_counts
from scaleplan.arch.shapes import TransformerShape
from scaleplan.systems import serving


def llama_like(kind, d, ff, layers, heads, kv, vocab, **more):
    return {"model_type": kind, "hidden_size": d, "intermediate_size": ff,
            "num_hidden_layers": layers, "num_attention_heads": heads,
            "num_key_value_heads": kv, "vocab_size": vocab, **more}  # fmt: skip


def neox(d, ff, layers, heads):
    return {"model_type": "gpt_neox", "hidden_size": d, "intermediate_size": ff,
            "num_hidden_layers": layers, "num_attention_heads": heads, "vocab_size": 50304,
            "tie_word_embeddings": False, "use_parallel_residual": True,
            "max_position_embeddings": 2048}  # fmt: skip


PUBLISHED = {
    "Llama-2-7b": (llama_like("llama", 4096, 11008, 32, 32, 32, 32000,
                              tie_word_embeddings=False), 6_738_415_616),
    "Mistral-7B-v0.1": (llama_like("mistral", 4096, 14336, 32, 32, 8, 32000), 7_241_732_096),
    "Qwen2-7B": (llama_like("qwen2", 3584, 18944, 28, 28, 4, 152064,
                            tie_word_embeddings=False), 7_615_616_512),
    "Qwen2-0.5B": (llama_like("qwen2", 896, 4864, 24, 14, 2, 151936,
                              tie_word_embeddings=True), 494_032_768),
    "gemma-7b": (llama_like("gemma", 3072, 24576, 28, 16, 16, 256000, head_dim=256),
                 8_537_680_896),
    "gemma-2b": (llama_like("gemma", 2048, 16384, 18, 8, 1, 256000, head_dim=256),
                 2_506_172_416),
    "OLMo-7B-hf": (llama_like("olmo", 4096, 11008, 32, 32, 32, 50304,
                              tie_word_embeddings=False), 6_888_095_744),
    "gpt2": ({"model_type": "gpt2", "n_embd": 768, "n_layer": 12, "n_head": 12,
              "n_positions": 1024, "vocab_size": 50257, "n_inner": None}, 124_439_808),
    "gpt2-medium": ({"model_type": "gpt2", "n_embd": 1024, "n_layer": 24, "n_head": 16,
                     "n_positions": 1024, "vocab_size": 50257}, 354_823_168),
    "pythia-160m": (neox(768, 3072, 12, 12), 162_322_944),
    "pythia-1.4b": (neox(2048, 8192, 24, 16), 1_414_647_808),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_totals_within_half_a_percent(name):
    config, total = PUBLISHED[name]
    shape = TransformerShape.from_hf_config(config)
    assert step_counts(shape).params == pytest.approx(total, rel=5e-3)


def test_most_totals_are_exact():
    # Every model but OLMo-1 (its layer norm has no weights; we count 2 d per layer).
    for name, (config, total) in PUBLISHED.items():
        got = step_counts(TransformerShape.from_hf_config(config)).params
        assert got == total or name == "OLMo-7B-hf", name
    olmo = PUBLISHED["OLMo-7B-hf"]
    got = step_counts(TransformerShape.from_hf_config(olmo[0])).params
    assert got - olmo[1] == 2 * 4096 * 32 + 4096


def test_what_the_config_says_reaches_the_shape(tmp_path):
    gemma = TransformerShape.from_hf_config(PUBLISHED["gemma-2b"][0])
    assert (gemma.head_dim, gemma.n_kv_heads, gemma.tied, gemma.gated) == (256, 1, True, True)
    assert gemma.seq_len == 2048  # no max_position_embeddings given
    gpt2 = TransformerShape.from_hf_config(PUBLISHED["gpt2"][0], batch_size=4)
    assert (gpt2.tied, gpt2.gated, gpt2.seq_len, gpt2.batch_size) == (True, False, 1024, 4)
    # Biases and learned positions are stored and read in serving, and cost no FLOPs.
    plain = TransformerShape(768, 12, 12, vocab=50257, gated=False, tied=True, seq_len=1024,
                             batch_size=4)  # fmt: skip
    assert step_counts(gpt2).flops == step_counts(plain).flops
    a, b = (serving.decode(s, "h100-sxm", precision="bf16") for s in (gpt2, plain))
    assert a.bytes - b.bytes == 2 * gpt2.extra_params
    # Llama's optional biases.
    cfg = dict(PUBLISHED["Llama-2-7b"][0], attention_bias=True, mlp_bias=True)
    biased = TransformerShape.from_hf_config(cfg)
    assert biased.extra_params == 32 * (4 * 4096 + 2 * 11008 + 4096)
    # A file, or the directory that holds it.
    (tmp_path / "config.json").write_text(json.dumps(PUBLISHED["Mistral-7B-v0.1"][0]))
    for where in (tmp_path, tmp_path / "config.json", str(tmp_path)):
        assert TransformerShape.from_hf_config(where).n_kv_heads == 8


@pytest.mark.parametrize(
    "change, argument, message",
    [
        ({"model_type": "mamba"}, "config", "not supported"),
        ({"model_type": "mixtral"}, "num_local_experts", "needs 'num_local_experts'"),
        ({"model_type": None}, "config", "not supported"),
        ({"num_local_experts": 8}, "config", "mixture of experts"),
        ({"hidden_size": None}, "hidden_size", "needs 'hidden_size'"),
        ({"hidden_size": "4096"}, "hidden_size", "must be a number"),
        ({"num_attention_heads": 30}, "head_dim", "do not divide"),
        ({"num_key_value_heads": 7}, "n_kv_heads", "must divide n_heads"),
        ({"tie_word_embeddings": "no"}, "tie_word_embeddings", "true or false"),
        ({"intermediate_size": 0}, "d_ff", "integer in"),
    ],
)
def test_what_cannot_be_expressed_is_an_error(change, argument, message):
    config = {**PUBLISHED["Llama-2-7b"][0], **change}
    config = {k: v for k, v in config.items() if v is not None or k == "model_type"}
    with pytest.raises(ValueError, match=message) as err:
        TransformerShape.from_hf_config(config)
    assert err.value.argument == argument


def test_unreadable_files_are_errors(tmp_path):
    for text in ("not json", "[1, 2]"):
        (tmp_path / "config.json").write_text(text)
        with pytest.raises(ValueError, match="config") as err:
            TransformerShape.from_hf_config(tmp_path)
        assert err.value.argument == "config"
    with pytest.raises(ValueError, match="cannot read"):
        TransformerShape.from_hf_config(tmp_path / "missing.json")


def test_the_0_1_reader_still_builds_a_shape_with_a_warning(tmp_path):
    """0.1's `scaleplan.hf_config.shape_from_hf_config` works through 0.2; the alias lives
    beside the class that builds the shape, so the reader imports nothing above it."""
    import importlib
    import warnings

    (tmp_path / "config.json").write_text(json.dumps(PUBLISHED["Mistral-7B-v0.1"][0]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = importlib.import_module("scaleplan.hf_config").shape_from_hf_config
    assert any("TransformerShape.from_hf_config" in str(w.message) for w in caught)
    assert old(tmp_path) == TransformerShape.from_hf_config(tmp_path)
    assert not hasattr(importlib.import_module("scaleplan.arch.hf_config"), "__getattr__")
