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
}
