"""Mixture-of-experts shapes from Hugging Face `config.json` files.

Each model type maps its own keys onto `TransformerShape`'s expert and latent-attention
fields, with what it adds beyond the matrices and norm weights (biases, QK norms, gates,
attention sinks) in `extra_params`, the way its `transformers` modeling code builds it:

- mixtral: every layer MoE, no shared expert, no biases.
- qwen2_moe: layers MoE by `decoder_sparse_step` and `mlp_only_layers` (the others dense of
  `intermediate_size`); one shared expert of `shared_expert_intermediate_size` with a
  `d x 1` sigmoid gate; Q, K, V biases (`qkv_bias`, default true).
- qwen3_moe: the same layer rule, no shared expert; per-head QK norms (`2 head_dim`).
- olmoe: every layer MoE; QK norms over the whole projections (`d + h_kv d_h`).
- deepseek_v2, deepseek_v3: the first `first_k_dense_replace` layers dense, the rest MoE
  with `n_shared_experts` shared experts of `moe_intermediate_size`; multi-head latent
  attention. The multi-token-prediction module (`num_nextn_predict_layers`) is not part of
  the shape: `transformers` does not build it and the published totals leave it out
  (DeepSeek-V3's 671B); V3's routing-bias buffer is not a parameter.
- gpt_oss: every layer MoE; biases on the experts, the router and attention, one attention
  sink per head.
- llama4 (its `text_config`) and llama4_text: MoE layers every `interleave_moe_layer_step`
  (or the `moe_layers` list), each with a shared expert of `intermediate_size`; dense
  layers of `intermediate_size_mlp`; weightless QK norms. The vision tower is not counted.

Routing details that hold no parameters (top-k groups, scaling factors, auxiliary losses)
are read past; any other key about experts that the model type does not define is refused
by name, never ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ScaleplanError

__all__ = ["MOE_TYPES", "moe_fields"]

Getter = Callable[..., int]

# Keys whose name is about experts or routing: each MoE type lists the ones it knows.
_EXPERT_KEY = re.compile(r"expert|moe|router|routed|sparse|dense_replace|mlp_only|topk|nextn")
# Routing and training settings that hold no parameters, read past in every type.
_NO_PARAMETERS = {
    "router_aux_loss_coef", "output_router_logits", "router_jitter_noise", "norm_topk_prob",
    "routed_scaling_factor", "topk_method", "topk_group", "aux_loss_alpha", "seq_aux",
    "ep_size", "router_z_loss_coef",
}  # fmt: skip
_KNOWN = {
    "mixtral": {"num_local_experts", "num_experts_per_tok"},
    "qwen2_moe": {"num_experts", "num_experts_per_tok", "moe_intermediate_size",
                  "shared_expert_intermediate_size", "decoder_sparse_step", "mlp_only_layers"},
    "qwen3_moe": {"num_experts", "num_experts_per_tok", "moe_intermediate_size",
                  "decoder_sparse_step", "mlp_only_layers"},
    "olmoe": {"num_experts", "num_experts_per_tok"},
    "deepseek_v2": {"n_routed_experts", "n_shared_experts", "num_experts_per_tok",
                    "moe_intermediate_size", "first_k_dense_replace", "moe_layer_freq",
                    "num_nextn_predict_layers"},
    "gpt_oss": {"num_local_experts", "num_experts_per_tok", "experts_per_token"},
    "llama4_text": {"num_local_experts", "num_experts_per_tok", "interleave_moe_layer_step",
                    "moe_layers", "intermediate_size_mlp"},
}  # fmt: skip
_KNOWN["deepseek_v3"] = _KNOWN["deepseek_v2"]
MOE_TYPES: tuple[str, ...] = (*_KNOWN, "llama4")


def _refuse_unknown(c: Mapping[str, Any], kind: str) -> None:
    for key in c:
        if _EXPERT_KEY.search(key) and key not in _KNOWN[kind] | _NO_PARAMETERS:
            raise ScaleplanError(
                f"{kind} config key {key!r} is not one scaleplan reads, and ignoring it "
                "could miscount the experts; remove it if it holds no parameters",
                key,
            )


def moe_fields(c: Mapping[str, Any], kind: str, get: Getter) -> dict[str, Any]:
    """The `TransformerShape` fields of an MoE config (`positions` for the caller).

    `get(c, key, kind, default)` reads a whole-number key (`hf_config._get`).

    Examples
    --------
    Mixtral-8x7B's keys (its `config.json`, less what holds no parameters):

    >>> from scaleplan import TransformerShape, step_counts
    >>> mixtral = {"model_type": "mixtral", "hidden_size": 4096, "num_hidden_layers": 32,
    ...            "num_attention_heads": 32, "num_key_value_heads": 8,
    ...            "intermediate_size": 14336, "num_local_experts": 8,
    ...            "num_experts_per_tok": 2, "vocab_size": 32000,
    ...            "max_position_embeddings": 32768}
    >>> shape = TransformerShape.from_hf_config(mixtral)
    >>> shape.experts, shape.experts_per_token, shape.moe_layers
    (8, 2, 32)
    >>> c = step_counts(shape)
    >>> print(f"{c.params / 1e9:.1f}B total, {c.active_params / 1e9:.1f}B active")
    46.7B total, 12.9B active
    """
    if kind == "llama4":
        text = c.get("text_config")
        if not isinstance(text, Mapping):
            raise ScaleplanError("a llama4 config needs a 'text_config' object", "text_config")
        c, kind = text, "llama4_text"
    _refuse_unknown(c, kind)
    d, layers = get(c, "hidden_size", kind), get(c, "num_hidden_layers", kind)
    heads = get(c, "num_attention_heads", kind)
    kv = get(c, "num_key_value_heads", kind, heads)
    head_dim = get(c, "head_dim", kind, d // heads if d % heads == 0 else None)
    fields: dict[str, Any] = dict(
        d_model=d, n_layers=layers, n_heads=heads, n_kv_heads=kv, head_dim=head_dim,
        vocab=get(c, "vocab_size", kind), gated=True,
        tied=_flag(c, "tie_word_embeddings", False),
        positions=get(c, "max_position_embeddings", kind, 2048),
    )  # fmt: skip
    fields.update(_READERS[kind](c, kind, get, fields))
    return fields


def _flag(c: Mapping[str, Any], key: str, default: bool) -> bool:
    value = c.get(key, default)
    if not isinstance(value, bool):
        raise ScaleplanError(f"{key} must be true or false; got {value!r}", key)
    return value


def _mixtral(c: Mapping[str, Any], kind: str, get: Getter, f: dict[str, Any]) -> dict[str, Any]:
    width = get(c, "intermediate_size", kind)
    return dict(
        d_ff=width, expert_d_ff=width, experts=get(c, "num_local_experts", kind),
        experts_per_token=get(c, "num_experts_per_tok", kind), moe_layers=f["n_layers"],
    )  # fmt: skip


def _qwen_moe_layers(c: Mapping[str, Any], kind: str, get: Getter, layers: int) -> int:
    """Layers MoE under Qwen's rule: `(i + 1) % decoder_sparse_step == 0`, not listed in
    `mlp_only_layers`."""
    step = get(c, "decoder_sparse_step", kind, 1)
    if step < 1:
        raise ScaleplanError(f"decoder_sparse_step must be >= 1; got {step}", "decoder_sparse_step")
    dense = c.get("mlp_only_layers") or []
    if not isinstance(dense, list) or not all(isinstance(i, int) for i in dense):
        raise ScaleplanError("mlp_only_layers must be a list of layer indices", "mlp_only_layers")
    dense_set = set(dense)
    return sum(1 for i in range(layers) if (i + 1) % step == 0 and i not in dense_set)


def _qwen(c: Mapping[str, Any], kind: str, get: Getter, f: dict[str, Any]) -> dict[str, Any]:
    d, hd, heads, kv = f["d_model"], f["head_dim"], f["n_heads"], f["n_kv_heads"]
    moe_layers = _qwen_moe_layers(c, kind, get, f["n_layers"])
    out = dict(
        d_ff=get(c, "intermediate_size", kind),
        expert_d_ff=get(c, "moe_intermediate_size", kind), experts=get(c, "num_experts", kind),
        experts_per_token=get(c, "num_experts_per_tok", kind),
        moe_layers=moe_layers,
    )  # fmt: skip
    per_layer = 0
    if kind == "qwen2_moe":
        out["shared_d_ff"] = get(c, "shared_expert_intermediate_size", kind)
        if _flag(c, "qkv_bias", True):
            per_layer += (heads + 2 * kv) * hd
        extra = f["n_layers"] * per_layer + moe_layers * d  # the shared expert's gate
    else:
        if _flag(c, "attention_bias", False):
            per_layer += (heads + 2 * kv) * hd + d
        extra = f["n_layers"] * (per_layer + 2 * hd)  # per-head QK norms
    out["extra_params"] = extra
    return out


def _olmoe(c: Mapping[str, Any], kind: str, get: Getter, f: dict[str, Any]) -> dict[str, Any]:
    width = get(c, "intermediate_size", kind)
    d, kv_width = f["d_model"], f["n_kv_heads"] * f["head_dim"]
    bias = 0
    if _flag(c, "attention_bias", False):
        bias = f["n_heads"] * f["head_dim"] + 2 * kv_width + d
    return dict(
        d_ff=width, expert_d_ff=width, experts=get(c, "num_experts", kind),
        experts_per_token=get(c, "num_experts_per_tok", kind), moe_layers=f["n_layers"],
        extra_params=f["n_layers"] * (d + kv_width + bias),  # QK norms over the projections
    )  # fmt: skip


def _deepseek(c: Mapping[str, Any], kind: str, get: Getter, f: dict[str, Any]) -> dict[str, Any]:
    if get(c, "moe_layer_freq", kind, 1) != 1:
        raise ScaleplanError(
            "moe_layer_freq other than 1 is not read by transformers' DeepSeek model, so "
            "which layers hold experts is unknown",
            "moe_layer_freq",
        )
    if _flag(c, "attention_bias", False):
        raise ScaleplanError(
            "a DeepSeek config with attention_bias is not supported", "attention_bias"
        )
    dense = min(get(c, "first_k_dense_replace", kind, 0), f["n_layers"])
    width = get(c, "moe_intermediate_size", kind)
    nope, rope = get(c, "qk_nope_head_dim", kind), get(c, "qk_rope_head_dim", kind)
    q_rank = c.get("q_lora_rank")
    return dict(
        d_ff=get(c, "intermediate_size", kind), expert_d_ff=width,
        experts=get(c, "n_routed_experts", kind),
        experts_per_token=get(c, "num_experts_per_tok", kind),
        shared_d_ff=width * get(c, "n_shared_experts", kind, 0), moe_layers=f["n_layers"] - dense,
        head_dim=nope + rope, n_kv_heads=f["n_heads"], kv_lora_rank=get(c, "kv_lora_rank", kind),
        q_lora_rank=0 if q_rank is None else get(c, "q_lora_rank", kind), rope_head_dim=rope,
        v_head_dim=get(c, "v_head_dim", kind),
    )  # fmt: skip


def _gpt_oss(c: Mapping[str, Any], kind: str, get: Getter, f: dict[str, Any]) -> dict[str, Any]:
    d, hd, heads, kv = f["d_model"], f["head_dim"], f["n_heads"], f["n_kv_heads"]
    width, experts = get(c, "intermediate_size", kind), get(c, "num_local_experts", kind)
    attention = (heads + 2 * kv) * hd + d if _flag(c, "attention_bias", False) else 0
    # Per layer: each expert's up/gate and down biases, the router's bias, one sink a head.
    per_layer = experts * (2 * width + d) + experts + attention + heads
    return dict(
        d_ff=width, expert_d_ff=width, experts=experts,
        experts_per_token=get(c, "num_experts_per_tok", kind), moe_layers=f["n_layers"],
        extra_params=f["n_layers"] * per_layer,
    )  # fmt: skip


def _llama4(c: Mapping[str, Any], kind: str, get: Getter, f: dict[str, Any]) -> dict[str, Any]:
    layers = f["n_layers"]
    listed = c.get("moe_layers")
    if listed is not None:
        if not isinstance(listed, list) or not all(isinstance(i, int) for i in listed):
            raise ScaleplanError("moe_layers must be a list of layer indices", "moe_layers")
        moe_layers = len({i for i in listed if 0 <= i < layers})
    else:
        step = get(c, "interleave_moe_layer_step", kind, 1)
        if step < 1:
            raise ScaleplanError(
                f"interleave_moe_layer_step must be >= 1; got {step}", "interleave_moe_layer_step"
            )
        moe_layers = len(range(step - 1, layers, step))
    width = get(c, "intermediate_size", kind)
    return dict(
        d_ff=get(c, "intermediate_size_mlp", kind), expert_d_ff=width, shared_d_ff=width,
        experts=get(c, "num_local_experts", kind),
        experts_per_token=get(c, "num_experts_per_tok", kind), moe_layers=moe_layers,
    )  # fmt: skip


_READERS: dict[str, Callable[..., dict[str, Any]]] = {
    "mixtral": _mixtral, "qwen2_moe": _qwen, "qwen3_moe": _qwen, "olmoe": _olmoe,
    "deepseek_v2": _deepseek, "deepseek_v3": _deepseek, "gpt_oss": _gpt_oss,
    "llama4_text": _llama4,
}  # fmt: skip
