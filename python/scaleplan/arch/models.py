"""Published model shapes by name, as the fields of a `TransformerShape` (read from each
model's Hugging Face `config.json`). Every entry point that takes a shape also takes one of
these names (`shapes.resolve_shape`); `scaleplan.arch.shapes.MODELS` holds them as shapes.

A plain table with no imports, so that `shapes` can build on it.
"""

from __future__ import annotations

__all__ = ["MODEL_FIELDS"]

MODEL_FIELDS: dict[str, dict[str, int | bool]] = {
    # meta-llama/Llama-2-7b-hf
    "llama-2-7b": dict(d_model=4096, n_layers=32, n_heads=32, d_ff=11008),
    # meta-llama/Llama-2-70b-hf: grouped-query attention, 8 KV heads
    "llama-2-70b": dict(d_model=8192, n_layers=80, n_heads=64, n_kv_heads=8, d_ff=28672),
    # EleutherAI/gpt-j-6b: plain MLP, vocabulary 50,400
    "gpt-j-6b": dict(d_model=4096, n_layers=28, n_heads=16, d_ff=16384, gated=False, vocab=50400),
    # meta-llama/Llama-2-13b-hf
    "llama-2-13b": dict(d_model=5120, n_layers=40, n_heads=40, d_ff=13824),
    # meta-llama/Meta-Llama-3-8B (and Llama-3.1-8B, the same shape): 8 KV heads, a
    # vocabulary of 128,256
    "llama-3-8b": dict(
        d_model=4096, n_layers=32, n_heads=32, n_kv_heads=8, d_ff=14336, vocab=128256
    ),
    # meta-llama/Meta-Llama-3-70B (and 3.1-70B, 3.3-70B, the same shape)
    "llama-3-70b": dict(
        d_model=8192, n_layers=80, n_heads=64, n_kv_heads=8, d_ff=28672, vocab=128256
    ),
    # meta-llama/Llama-3.1-405B: 126 layers, 128 heads, 8 KV heads
    "llama-3.1-405b": dict(
        d_model=16384, n_layers=126, n_heads=128, n_kv_heads=8, d_ff=53248, vocab=128256
    ),
    # mistralai/Mistral-7B-v0.1: 8 KV heads (its sliding window is not modelled: the
    # cache holds the whole context, as engines without the window's ring buffer do)
    "mistral-7b": dict(d_model=4096, n_layers=32, n_heads=32, n_kv_heads=8, d_ff=14336),
    # tiiuae/falcon-180B: 232 heads of 64, 8 KV heads, a 4x plain MLP
    "falcon-180b": dict(
        d_model=14848,
        n_layers=80,
        n_heads=232,
        head_dim=64,
        n_kv_heads=8,
        d_ff=4 * 14848,
        gated=False,
        vocab=65024,
    ),
    # Mixtures of experts (`hf_moe` reads their configs; tests/arch/hf_configs holds them).
    # mistralai/Mixtral-8x7B-v0.1: 8 experts, 2 a token, every layer
    "mixtral-8x7b": dict(
        d_model=4096,
        n_layers=32,
        n_heads=32,
        n_kv_heads=8,
        d_ff=14336,
        experts=8,
        experts_per_token=2,
    ),
    # mistralai/Mixtral-8x22B-v0.1
    "mixtral-8x22b": dict(
        d_model=6144,
        n_layers=56,
        n_heads=48,
        n_kv_heads=8,
        d_ff=16384,
        experts=8,
        experts_per_token=2,
    ),
    # Qwen/Qwen3-30B-A3B: 128 experts of 768, 8 a token; per-head QK norms (extra_params)
    "qwen3-30b-a3b": dict(
        d_model=2048,
        n_layers=48,
        n_heads=32,
        vocab=151936,
        head_dim=128,
        n_kv_heads=4,
        d_ff=6144,
        extra_params=12288,
        experts=128,
        experts_per_token=8,
        expert_d_ff=768,
    ),
    # Qwen/Qwen3-235B-A22B
    "qwen3-235b-a22b": dict(
        d_model=4096,
        n_layers=94,
        n_heads=64,
        vocab=151936,
        head_dim=128,
        n_kv_heads=4,
        d_ff=12288,
        extra_params=24064,
        experts=128,
        experts_per_token=8,
        expert_d_ff=1536,
    ),
    # meta-llama/Llama-4-Scout-17B-16E: 16 experts and a shared one, every layer
    "llama-4-scout": dict(
        d_model=5120,
        n_layers=48,
        n_heads=40,
        vocab=202048,
        n_kv_heads=8,
        d_ff=16384,
        experts=16,
        expert_d_ff=8192,
        shared_d_ff=8192,
    ),
    # meta-llama/Llama-4-Maverick-17B-128E: 128 experts in every second layer
    "llama-4-maverick": dict(
        d_model=5120,
        n_layers=48,
        n_heads=40,
        vocab=202048,
        n_kv_heads=8,
        d_ff=16384,
        experts=128,
        expert_d_ff=8192,
        shared_d_ff=8192,
        moe_layers=24,
    ),
    # openai/gpt-oss-20b: heads of 64 over a width of 2880; biases and sinks in extra_params
    "gpt-oss-20b": dict(
        d_model=2880,
        n_layers=24,
        n_heads=64,
        head_dim=64,
        vocab=201088,
        n_kv_heads=8,
        d_ff=2880,
        extra_params=6829824,
        experts=32,
        experts_per_token=4,
    ),
    # openai/gpt-oss-120b
    "gpt-oss-120b": dict(
        d_model=2880,
        n_layers=36,
        n_heads=64,
        head_dim=64,
        vocab=201088,
        n_kv_heads=8,
        d_ff=2880,
        extra_params=40108032,
        experts=128,
        experts_per_token=4,
    ),
    # deepseek-ai/DeepSeek-V3 (and R1, the same shape): 3 dense layers, 256 experts of 2048
    # and a shared one, 8 a token; multi-head latent attention
    "deepseek-v3": dict(
        d_model=7168,
        n_layers=61,
        n_heads=128,
        vocab=129280,
        head_dim=192,
        d_ff=18432,
        experts=256,
        experts_per_token=8,
        expert_d_ff=2048,
        shared_d_ff=2048,
        moe_layers=58,
        kv_lora_rank=512,
        q_lora_rank=1536,
        rope_head_dim=64,
        v_head_dim=128,
    ),
}
