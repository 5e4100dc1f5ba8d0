"""Transformer shapes and what one training step of each costs: parameters, FLOPs
(forward + backward), elements moved and activations kept, counted by the Rust core
(`rust/core/src/arch/mod.rs` states every term), vectorised over grids of shapes.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _core
from .._utils.arrays import as_float, broadcast
from .._utils.checks import MAX_SHAPE_FIELD, flag, shown, whole
from ..errors import ScaleplanError
from ._shape_checks import check_experts, check_latent
from .hf_config import shape_fields
from .models import MODEL_FIELDS

__all__ = [
    "FIELDS",
    "MAX_SHAPE_FIELD",
    "MODELS",
    "OPTIMIZER_BYTES_PER_PARAM",
    "ShapeLike",
    "TransformerShape",
    "resolve_shape",
    "shape_columns",
    "shape_inputs",
]

# The column order of the Rust kernel, from the kernel itself.
FIELDS: tuple[str, ...] = tuple(_core.SHAPE_FIELDS)
# Adam with fp32 master weights and moments: 2 (bf16 weights) + 4 + 4 + 4 + 2 (gradient).
OPTIMIZER_BYTES_PER_PARAM = 16


def _positive_int(name: str, value: Any) -> int:
    return whole(name, value, 1, MAX_SHAPE_FIELD)


@dataclass(frozen=True)
class TransformerShape:
    """A decoder-only transformer and its training batch.

    Parameters
    ----------
    d_model : int
        Width (hidden size).
    n_layers : int
        Depth (transformer blocks).
    n_heads : int
        Query heads per layer.
    vocab : int, optional
        Vocabulary size, in tokens (default 32,000).
    head_dim : int, optional
        Width of one head; defaults to `d_model / n_heads`, which must then divide.
    n_kv_heads : int, optional
        Key/value heads (grouped-query attention); defaults to `n_heads`, which it must
        divide.
    d_ff : int, optional
        MLP hidden width; defaults to `4 * d_model`.
    gated : bool, optional
        A gated (SwiGLU) MLP of three matrices, or a plain one of two (default True).
    tied : bool, optional
        Whether the output projection shares the embedding (default False).
    seq_len : int, optional
        Training sequence length, in tokens (default 2048).
    batch_size : int, optional
        Sequences per training step (default 8).
    extra_params : int, optional
        Parameters outside the matrices and norm weights (biases, norm biases, learned
        position tables): stored, optimised and read when serving, no FLOPs;
        `from_hf_config` fills it (default 0).
    experts : int, optional
        Routed experts in each mixture-of-experts layer (default 1: a dense model).
    experts_per_token : int, optional
        Routed experts each token goes through, top-k (default 1; at most `experts`).
    expert_d_ff : int, optional
        Hidden width of one routed expert; defaults to `d_ff`.
    shared_d_ff : int, optional
        Hidden width of the always-on shared experts of an MoE layer, all together
        (default 0: none).
    moe_layers : int, optional
        Layers whose MLP is a mixture of experts; the others are dense MLPs of `d_ff`.
        Defaults to every layer when `experts > 1`, else none.
    kv_lora_rank : int, optional
        Multi-head latent attention (DeepSeek-V2/V3): the width of the compressed
        key-value vector the cache holds (default 0: ordinary attention). `head_dim` is
        then the query/key head width, its rotary part included.
    q_lora_rank : int, optional
        Latent attention's query bottleneck (default 0: full-rank queries).
    rope_head_dim : int, optional
        The rotary part of a latent-attention head, cached beside the latent (default 0);
        below `head_dim`.
    v_head_dim : int, optional
        Width of a value head; defaults to `head_dim`.

    Raises
    ------
    ScaleplanError
        If a field is not a whole number in range, or the head counts do not divide.

    Examples
    --------
    Llama-2-7B's shape, and its parameter count:

    >>> from scaleplan import TransformerShape, step_counts
    >>> shape = TransformerShape(d_model=4096, n_layers=32, n_heads=32, d_ff=11008)
    >>> shape.head_dim, shape.n_kv_heads
    (128, 32)
    >>> print(f"{step_counts(shape).params:,.0f}")
    6,738,415,616
    """

    d_model: int
    n_layers: int
    n_heads: int
    vocab: int = 32000
    head_dim: int | None = None
    n_kv_heads: int | None = None
    d_ff: int | None = None
    gated: bool = True
    tied: bool = False
    seq_len: int = 2048
    batch_size: int = 8
    extra_params: int = 0
    experts: int = 1
    experts_per_token: int = 1
    expert_d_ff: int | None = None
    shared_d_ff: int = 0
    moe_layers: int | None = None
    kv_lora_rank: int = 0
    q_lora_rank: int = 0
    rope_head_dim: int = 0
    v_head_dim: int | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("d_model", "n_layers", "n_heads", "vocab", "seq_len", "batch_size"):
            _positive_int(name, getattr(self, name))
        if self.head_dim is None:
            if self.d_model % self.n_heads:
                raise ScaleplanError(
                    f"n_heads must divide d_model when head_dim is not given; got "
                    f"d_model={self.d_model}, n_heads={self.n_heads}",
                    "n_heads",
                )
            set_(self, "head_dim", self.d_model // self.n_heads)
        set_(self, "head_dim", _positive_int("head_dim", self.head_dim))
        if self.n_kv_heads is None:
            set_(self, "n_kv_heads", self.n_heads)
        set_(self, "n_kv_heads", _positive_int("n_kv_heads", self.n_kv_heads))
        if self.n_heads % self.n_kv_heads:  # type: ignore[operator]
            raise ScaleplanError(
                f"n_kv_heads must divide n_heads; got n_kv_heads={self.n_kv_heads}, "
                f"n_heads={self.n_heads}",
                "n_kv_heads",
            )
        set_(
            self,
            "d_ff",
            _positive_int("d_ff", 4 * self.d_model if self.d_ff is None else self.d_ff),
        )
        set_(self, "extra_params", whole("extra_params", self.extra_params, 0, MAX_SHAPE_FIELD))
        for name in ("gated", "tied"):
            flag(name, getattr(self, name))
        check_experts(self)
        check_latent(self)

    @classmethod
    def from_hf_config(
        cls, config: Any, *, seq_len: int | None = None, batch_size: int = 1
    ) -> TransformerShape:
        """The shape of a Hugging Face `config.json`.

        Llama, Mistral, Qwen2, Gemma, OLMo, GPT-2 and GPT-NeoX/Pythia, with biases and
        learned positions in `extra_params`; see `scaleplan.arch.hf_config`.

        Parameters
        ----------
        config : str or os.PathLike or mapping
            A `config.json` path, a directory holding one, or the config as a dict.
        seq_len : int, optional
            Sequence length, in tokens; defaults to the config's maximum positions, capped
            at 2**20.
        batch_size : int, optional
            Sequences per step (default 1).

        Returns
        -------
        TransformerShape

        Raises
        ------
        ScaleplanError
            If the file cannot be read, its `model_type` is not supported (or is a mixture
            of experts), or a key is missing or not a whole number.

        Examples
        --------
        >>> from scaleplan import TransformerShape
        >>> config = {"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32,
        ...           "num_attention_heads": 32, "intermediate_size": 11008,
        ...           "vocab_size": 32000, "max_position_embeddings": 4096}
        >>> shape = TransformerShape.from_hf_config(config)
        >>> shape.d_model, shape.n_layers, shape.seq_len
        (4096, 32, 4096)
        """
        return cls(**shape_fields(config, seq_len=seq_len, batch_size=batch_size))

    def columns(self) -> list[NDArray[np.float64]]:
        """The shape's fields in `FIELDS` order, each a one-element float array (the Rust
        kernel's columns)."""
        return [np.array([float(getattr(self, f))]) for f in FIELDS]


ShapeLike = TransformerShape | str | Sequence[TransformerShape | str] | Mapping[str, Any]

# Published shapes by name (`models.MODEL_FIELDS`): `resolve_shape` reads these names.
MODELS: dict[str, TransformerShape] = {k: TransformerShape(**v) for k, v in MODEL_FIELDS.items()}


def resolve_shape(shape: Any, argument: str = "shape") -> Any:
    """`shape` itself, or the `TransformerShape` a text or path names.

    Parameters
    ----------
    shape : object
        A model of `MODELS` ("llama-2-7b"), or a Hugging Face `config.json` path (or the
        directory holding it). Anything else passes through for the caller's own check.
    argument : str, optional
        The caller's name for it, which an error names.

    Returns
    -------
    TransformerShape or object

    Raises
    ------
    ScaleplanError
        If a text names neither a model nor a readable config.

    Examples
    --------
    >>> from scaleplan.arch.shapes import resolve_shape
    >>> shape = resolve_shape("llama-2-70b")
    >>> shape.n_layers, shape.n_kv_heads
    (80, 8)
    """
    if isinstance(shape, str) and shape in MODELS:
        return MODELS[shape]
    if isinstance(shape, (str, os.PathLike)):
        if not os.path.exists(shape):
            raise ScaleplanError(
                f"{argument} must be a TransformerShape, a model name ({', '.join(MODELS)}) "
                f"or the path of a Hugging Face config.json; got {shown(shape)}",
                argument,
            )
        try:
            return TransformerShape.from_hf_config(shape)
        except ScaleplanError as exc:  # a key of the file: the fault is the file named
            raise ScaleplanError(f"{argument} {str(shape)!r}: {exc}", argument) from None
    return shape


def shape_inputs(shapes: ShapeLike) -> tuple[tuple[int, ...], list[NDArray[np.float64]]]:
    """The result shape and the Rust kernel's inputs, in `FIELDS` order.

    Each input is as the kernel reads it in place (its own shape; see
    `_utils.arrays.broadcast`).

    Parameters
    ----------
    shapes : TransformerShape or str or sequence or mapping
        One `TransformerShape` (or a model name or config path, `resolve_shape`), a
        sequence of them, or a mapping from field name to arrays for vectorised grids
        (broadcast together; missing fields take `TransformerShape`'s defaults except
        head_dim, which defaults to d_model / n_heads).

    Returns
    -------
    tuple of (tuple of int, list of numpy.ndarray)
        The result shape (`()` for one shape) and the input columns, one per `FIELDS`.

    Raises
    ------
    ScaleplanError
        If `shapes` is none of those, or a mapping names an unknown field or lacks
        d_model, n_layers or n_heads.

    Examples
    --------
    >>> from scaleplan.arch.shapes import shape_inputs
    >>> shape, columns = shape_inputs(["llama-2-7b", "gpt-j-6b"])
    >>> shape, len(columns)
    ((2,), 21)
    """
    shapes = resolve_shape(shapes, "shapes")
    if isinstance(shapes, TransformerShape):
        return (), shapes.columns()
    if isinstance(shapes, Mapping):
        return broadcast(**_filled(shapes))
    try:
        items = [] if isinstance(shapes, (str, bytes)) else list(shapes)
    except TypeError:
        items = [shapes]  # not iterable: refused below, with the others
    if isinstance(shapes, (str, bytes)):
        items = [shapes]
    items = [resolve_shape(s, "shapes") if isinstance(s, str) else s for s in items]
    if not all(isinstance(s, TransformerShape) for s in items):
        raise ScaleplanError(
            "shapes must be a TransformerShape, a sequence of them, or a mapping", "shapes"
        )
    if not items:
        return (0,), [np.zeros(0) for _ in FIELDS]
    return (len(items),), [np.array([float(getattr(s, f)) for s in items]) for f in FIELDS]


def _filled(shapes: Mapping[str, Any]) -> dict[str, Any]:
    """A mapping of shape fields with every field present, defaults filled in."""
    unknown = set(shapes) - set(FIELDS)
    if unknown:
        raise ScaleplanError(
            f"shapes: unknown shape field {sorted(unknown)[0]!r}; fields: {', '.join(FIELDS)}",
            "shapes",
        )
    given = {k: as_float(k, v) for k, v in shapes.items()}
    for k in ("d_model", "n_layers", "n_heads"):
        if k not in given:
            raise ScaleplanError(f"shapes: shape field {k!r} is required", "shapes")
    defaults = {f.name: f.default for f in fields(TransformerShape) if f.name in FIELDS}
    cols = dict(given)
    cols.setdefault("head_dim", given["d_model"] / given["n_heads"])
    cols.setdefault("n_kv_heads", given["n_heads"])
    cols.setdefault("d_ff", 4.0 * given["d_model"])
    cols.setdefault("expert_d_ff", cols["d_ff"])
    cols.setdefault("v_head_dim", cols["head_dim"])
    if "moe_layers" not in cols:  # every layer when there are experts, as the class does
        experts = cols.get("experts", 1.0)
        cols["moe_layers"] = np.where(np.asarray(experts) > 1, given["n_layers"], 0.0)
    return {k: cols[k] if k in cols else float(defaults[k]) for k in FIELDS}


def shape_columns(shapes: ShapeLike) -> tuple[list[NDArray[np.float64]], tuple[int, ...]]:
    """The columns of `shape_inputs` written out to one flat row per shape.

    For callers that index shapes by row.

    Parameters
    ----------
    shapes : TransformerShape or str or sequence or mapping
        As `shape_inputs` takes them.

    Returns
    -------
    tuple of (list of numpy.ndarray, tuple of int)
        The columns (one per `FIELDS`), each of one row per shape (length 1 for a single shape), and
        the result shape.

    Examples
    --------
    >>> from scaleplan.arch.shapes import shape_columns
    >>> columns, shape = shape_columns({"d_model": [2048, 4096], "n_layers": 32,
    ...                                 "n_heads": 32})
    >>> shape, columns[1].tolist()
    ((2,), [2048.0, 4096.0])
    """
    shape, inputs = shape_inputs(shapes)
    if shape == ():
        return [np.asarray(c, dtype=np.float64).reshape(1) for c in inputs], shape
    return [np.ascontiguousarray(np.broadcast_to(c, shape)).reshape(-1) for c in inputs], shape


def __getattr__(name: str) -> Any:
    # Kept for one release: 0.1's hf_config.shape_from_hf_config (reached through
    # `scaleplan.hf_config`, which forwards here); the class builds the shape now.
    if name == "shape_from_hf_config":
        warnings.warn(
            "shape_from_hf_config is deprecated; use TransformerShape.from_hf_config",
            DeprecationWarning,
            stacklevel=2,
        )
        return TransformerShape.from_hf_config
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
