"""Transformer shapes from Hugging Face `config.json` files.

Each supported `model_type` maps its own key names onto `TransformerShape`, with what the
architecture adds to the matrices and norm weights (biases, norm biases, learned position
tables) counted in `extra_params`, so the parameter count matches the published total:

- llama, mistral, qwen2, gemma, olmo, olmo2: gated MLP, RMSNorm weights, rotary positions;
  grouped-query attention by `num_key_value_heads`; Llama's optional `attention_bias`
  (Q, K, V, O) and `mlp_bias`; Qwen2's Q, K, V biases. OLMo-1's layer norm has no weights;
  counting them anyway adds 2 d per layer (0.004% of OLMo-7B).
- gpt2: plain GELU MLP, learned positions, LayerNorm with biases, biases on every
  projection, embeddings tied.
- gpt_neox (Pythia): plain MLP, rotary positions, LayerNorm with biases, biases on every
  projection (`attention_bias`), untied embeddings; the parallel residual changes no count.

Mixtures of experts (Mixtral, Qwen2/3-MoE, OLMoE, DeepSeek-V2/V3, gpt-oss, Llama 4) are read by
`hf_moe`. Anything else (other `model_type`s, expert keys on a dense type, missing keys) is a
ValueError that says what cannot be expressed, never a wrong count.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._utils.checks import MAX_SHAPE_FIELD, shown, whole
from .._utils.files import read_json_file
from ..errors import ScaleplanError
from .hf_moe import MOE_TYPES, moe_fields

__all__ = ["LLAMA_LIKE", "MODEL_TYPES", "read_config", "shape_fields"]

LLAMA_LIKE = ("llama", "mistral", "qwen2", "gemma", "olmo", "olmo2")
MODEL_TYPES = (*LLAMA_LIKE, "gpt2", "gpt_neox", *MOE_TYPES)
# Keys that mean experts: a shape with one MLP per layer cannot count them.
_MOE_KEYS = ("num_local_experts", "num_experts", "moe_num_experts", "n_routed_experts")
# Whether the output projection shares the embedding when the file does not say: the
# defaults of each `transformers` config class.
_TIED_BY_DEFAULT = {"gemma": True, "gpt2": True}


def read_config(config: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """A Hugging Face config as a dict.

    Parameters
    ----------
    config : str or os.PathLike or mapping
        A mapping, returned as a dict; else a `config.json` file or a directory holding
        one (read by `read_json_file`: capped in size and depth, regular files only).

    Returns
    -------
    dict

    Raises
    ------
    ScaleplanError
        If `config` is none of those, or the file cannot be read or holds no JSON object.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> from scaleplan.arch.hf_config import read_config
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    >>> read_config(folder)
    {'model_type': 'gpt2'}
    """
    if isinstance(config, Mapping):
        return dict(config)
    if not isinstance(config, (str, Path)):
        raise ScaleplanError(
            f"config must be a path, a directory or a mapping; got {shown(config)}", "config"
        )
    path = Path(config)
    try:
        is_dir = path.is_dir()
    except OSError:  # a name too long for the file system, say: read_json_file names it
        is_dir = False
    if is_dir:
        path = path / "config.json"
    data = read_json_file(path, "config")
    if not isinstance(data, dict):
        raise ScaleplanError(f"{str(path)!r} does not hold a JSON object", "config")
    return data


def shape_fields(
    config: str | Path | Mapping[str, Any], *, seq_len: int | None = None, batch_size: int = 1
) -> dict[str, Any]:
    """The `TransformerShape` keyword arguments of a Hugging Face config.

    This module sits below `shapes`, so it returns the fields rather than the shape
    (`TransformerShape.from_hf_config` builds the shape); the module's docstring lists the
    model types read.

    Parameters
    ----------
    config : str or os.PathLike or mapping
        A `config.json` path, a directory holding one, or the config as a dict.
    seq_len : int, optional
        Sequence length, in tokens; defaults to the config's maximum positions, capped at
        2**20.
    batch_size : int, optional
        Sequences per step (default 1).

    Returns
    -------
    dict
        The shape's fields.

    Raises
    ------
    ScaleplanError
        If the `model_type` is not supported or is a mixture of experts, or a key is
        missing or not a whole number.

    Examples
    --------
    >>> from scaleplan.arch.hf_config import shape_fields
    >>> fields = shape_fields({"model_type": "llama", "hidden_size": 4096,
    ...                        "num_hidden_layers": 32, "num_attention_heads": 32,
    ...                        "num_key_value_heads": 8, "intermediate_size": 14336,
    ...                        "vocab_size": 128256, "max_position_embeddings": 8192})
    >>> fields["n_kv_heads"], fields["d_ff"], fields["seq_len"]
    (8, 14336, 8192)
    """
    c = read_config(config)
    kind = c.get("model_type")
    if kind not in MODEL_TYPES:
        raise ScaleplanError(
            f"model_type {kind!r} is not supported; supported: {', '.join(MODEL_TYPES)}",
            "config",
        )
    experts = [k for k in _MOE_KEYS if _experts(c, k) > 1]
    if kind in MOE_TYPES:
        fields = moe_fields(c, kind, _get)
    elif experts:
        raise ScaleplanError(
            f"{kind} with {experts[0]}={c[experts[0]]} is a mixture of experts, which a "
            "TransformerShape (one MLP per layer) cannot express",
            "config",
        )
    else:
        fields = _llama_like(c, kind) if kind in LLAMA_LIKE else _gpt(c, kind)
    positions = fields.pop("positions")
    fields["seq_len"] = seq_len if seq_len is not None else min(positions, 2**20)
    fields["batch_size"] = batch_size
    return fields


def _experts(c: Mapping[str, Any], key: str) -> int:
    """The expert count under `key` (0 when absent or null): a whole number, whatever
    JSON type it came as; anything else is refused rather than read as a dense model."""
    value = c.get(key)
    if value is None:
        return 0
    return whole(key, value, 0, 2**20, integral_floats=True)


def _get(c: Mapping[str, Any], key: str, kind: str, default: Any = None) -> int:
    """A whole-number field (JSON has one number type: 32.0 is read as 32, 32.9 refused)."""
    value = c.get(key, default)
    if value is None:
        raise ScaleplanError(f"a {kind} config needs {key!r}", key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScaleplanError(f"{key} must be a number in a {kind} config; got {value!r}", key)
    # Whole numbers only; the shape then checks each field's range under its own name.
    return whole(key, value, 0, MAX_SHAPE_FIELD, integral_floats=True)


def _flag(c: Mapping[str, Any], key: str, default: bool) -> bool:
    value = c.get(key, default)
    if not isinstance(value, bool):
        raise ScaleplanError(f"{key} must be true or false; got {value!r}", key)
    return value


def _llama_like(c: Mapping[str, Any], kind: str) -> dict[str, Any]:
    d = _get(c, "hidden_size", kind)
    layers = _get(c, "num_hidden_layers", kind)
    heads = _get(c, "num_attention_heads", kind)
    kv = _get(c, "num_key_value_heads", kind, heads)
    if c.get("head_dim") is not None:
        head_dim = _get(c, "head_dim", kind)
    elif d % heads == 0:
        head_dim = d // heads
    else:
        raise ScaleplanError(f"head_dim is needed: {heads} heads do not divide {d}", "head_dim")
    d_ff = _get(c, "intermediate_size", kind)
    q, kv_width = heads * int(head_dim), kv * int(head_dim)
    per_layer = 0
    if kind == "qwen2":
        per_layer += q + 2 * kv_width  # Q, K, V biases; none on the output projection
    elif _flag(c, "attention_bias", False):
        per_layer += q + 2 * kv_width + d
    if _flag(c, "mlp_bias", False):
        per_layer += 2 * d_ff + d
    return dict(
        d_model=d, n_layers=layers, n_heads=heads, head_dim=int(head_dim), n_kv_heads=kv,
        d_ff=d_ff, vocab=_get(c, "vocab_size", kind), gated=True,
        tied=_flag(c, "tie_word_embeddings", _TIED_BY_DEFAULT.get(kind, False)),
        extra_params=layers * per_layer,
        positions=_get(c, "max_position_embeddings", kind, 2048),
    )  # fmt: skip


def _gpt(c: Mapping[str, Any], kind: str) -> dict[str, Any]:
    if kind == "gpt2":
        d, layers = _get(c, "n_embd", kind), _get(c, "n_layer", kind)
        heads, positions = _get(c, "n_head", kind), _get(c, "n_positions", kind)
        d_ff = _get(c, "n_inner", kind) if c.get("n_inner") is not None else 4 * d
        attention = 3 * d + d  # fused QKV and output projection biases
        learned = positions * d
    else:
        d, layers = _get(c, "hidden_size", kind), _get(c, "num_hidden_layers", kind)
        heads, d_ff = _get(c, "num_attention_heads", kind), _get(c, "intermediate_size", kind)
        positions = _get(c, "max_position_embeddings", kind, 2048)
        attention = 4 * d if _flag(c, "attention_bias", True) else 0
        learned = 0  # rotary
    # Per layer: attention biases, MLP biases (up and down), two LayerNorm biases; then
    # the final LayerNorm's bias.
    extra = layers * (attention + d_ff + d + 2 * d) + d + learned
    return dict(
        d_model=d, n_layers=layers, n_heads=heads, d_ff=d_ff, vocab=_get(c, "vocab_size", kind),
        gated=False, tied=_flag(c, "tie_word_embeddings", _TIED_BY_DEFAULT.get(kind, False)),
        extra_params=extra, positions=positions,
    )  # fmt: skip
