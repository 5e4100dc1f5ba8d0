"""Pure-Python reference for what one training step of a transformer shape costs, dense or
mixture-of-experts, ordinary or latent attention: counted op by op from a list of (FLOPs,
elements read, elements written), apart from the Rust core's sums. `reference_systems`
re-exports it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["step_counts"]

Op = tuple[Any, Any, Any]


def _matmul(rows: Any, inner: Any, cols: Any, copies: Any = 1) -> Op:
    """An `rows x inner` by `inner x cols` product whose weight is read `copies` times
    (once per expert of a layer whose every expert is read)."""
    return 2.0 * rows * inner * cols, rows * inner + copies * inner * cols, rows * cols


def _elementwise(inputs: Any, outputs: Any) -> Op:
    return 0.0, inputs, outputs


def _norm(rows: Any, width: Any) -> Op:
    return _elementwise(rows * width + width, rows * width)


def _scaled(ops: list[Op], k: Any) -> list[Op]:
    return [(k * a, k * b, k * c) for a, b, c in ops]


def _attention(t: Any, scores: Any, f: dict[str, Any]) -> list[Op]:
    """A layer's attention: projections, the two products and the softmax, the output.
    Latent attention (`kv_lora_rank` > 0) rebuilds every head's key and value from the
    latent; the selection is arithmetic (0/1 factors) so NumPy columns work."""
    d, h, hd, v, kv = f["d_model"], f["n_heads"], f["head_dim"], f["v"], f["n_kv_heads"]
    lat = 1.0 * (f["kv_lora_rank"] > 0)
    has_q = 1.0 * (f["q_lora_rank"] > 0)
    ql, kvl, r = f["q_lora_rank"], f["kv_lora_rank"], f["rope_head_dim"]
    key_width = (1 - lat) * kv * hd + lat * h * hd
    value_width = (1 - lat) * kv * v + lat * h * v
    ordinary = [_matmul(t, d, h * hd + kv * (hd + v))]
    latent = [
        *_scaled([_matmul(t, d, ql), _norm(t, ql), _matmul(t, ql, h * hd)], has_q),
        *_scaled([_matmul(t, d, h * hd)], 1 - has_q),
        _matmul(t, d, kvl + r),
        _norm(t, kvl),
        _matmul(t, kvl, h * (hd - r + v)),
    ]
    return [
        *_scaled(ordinary, 1 - lat),
        *_scaled(latent, lat),
        (2.0 * scores * hd, t * h * hd + t * key_width, scores),  # Q K^T
        _elementwise(scores, scores),  # softmax
        (2.0 * scores * v, scores + t * value_width, t * h * v),  # P V
        _matmul(t, h * v, d),  # output projection
    ]


def _mlp(rows: Any, width: Any, f: dict[str, Any], copies: Any = 1) -> list[Op]:
    d, up = f["d_model"], 1 + f["gated"]
    return [
        _matmul(rows, d, up * width, copies),  # up (and gate)
        _elementwise(up * rows * width, rows * width),  # activation (times the gate)
        _matmul(rows, width, d, copies),  # down
    ]


def _moe(t: Any, f: dict[str, Any]) -> list[Op]:
    """An MoE layer's MLP: router, dispatch to `k` experts, the experts (all read), the
    shared experts, the weighted combine."""
    d, e, k = f["d_model"], f["experts"], f["experts_per_token"]
    shared = 1.0 * (f["shared_d_ff"] > 0)
    return [
        _matmul(t, d, e),  # router logits
        _elementwise(t * e, t * e),  # softmax, top-k
        _elementwise(k * t * d, k * t * d),  # dispatch
        *_mlp(k * t, f["expert_d_ff"], f, e),
        *_scaled(_mlp(t, f["shared_d_ff"], f), shared),
        _elementwise(k * t * d + k * t + shared * t * d, t * d),  # combine
    ]


def _params(f: dict[str, Any]) -> tuple[Any, Any]:
    """(every parameter, the active ones), written out apart from the ops."""
    d, h, hd, v, kv = f["d_model"], f["n_heads"], f["head_dim"], f["v"], f["n_kv_heads"]
    ql, kvl, r = f["q_lora_rank"], f["kv_lora_rank"], f["rope_head_dim"]
    lat, has_q = 1.0 * (kvl > 0), 1.0 * (ql > 0)
    query = has_q * (d * ql + ql * h * hd) + (1 - has_q) * d * h * hd
    latent = query + d * (kvl + r) + kvl * h * (hd - r + v)
    attention = (1 - lat) * (d * h * hd + d * kv * (hd + v)) + lat * latent + h * v * d
    mats = 2 + f["gated"]
    dense = mats * d * f["d_ff"]
    expert = mats * d * f["expert_d_ff"]
    moe = f["experts"] * expert + mats * d * f["shared_d_ff"] + d * f["experts"]
    layers, moe_layers = f["n_layers"], f["moe_layers"]
    norms = layers * (2 * d + ql + kvl) + d
    total = 1.0 * (
        layers * attention
        + (layers - moe_layers) * dense
        + moe_layers * moe
        + (2 - f["tied"]) * f["vocab"] * d
        + norms
        + f["extra_params"]  # biases, learned positions: stored and updated, no FLOPs
    )
    return total, total - moe_layers * (f["experts"] - f["experts_per_token"]) * expert


def step_counts(
    vocab: int,
    d_model: int,
    n_layers: int,
    n_heads: int,
    head_dim: int,
    n_kv_heads: int,
    d_ff: int,
    gated: bool,
    tied: bool,
    seq_len: int,
    batch_size: int,
    extra_params: int = 0,
    experts: int = 1,
    experts_per_token: int = 1,
    expert_d_ff: int | None = None,
    shared_d_ff: int = 0,
    moe_layers: int = 0,
    kv_lora_rank: int = 0,
    q_lora_rank: int = 0,
    rope_head_dim: int = 0,
    v_head_dim: int | None = None,
) -> tuple[float, float, float, float, float]:
    """(params, flops, memcpy elements, activation elements, active params) of one
    training step, built op by op the way the forward pass runs; backward is twice the
    forward, Adam moves 8 elements per parameter.

    Parameters
    ----------
    vocab, d_model, n_layers, n_heads, head_dim, n_kv_heads, d_ff : int
        The shape, as `TransformerShape`'s fields of those names.
    gated, tied : bool
        A gated MLP (SwiGLU); input and output embeddings shared.
    seq_len, batch_size : int
        Tokens per sequence and sequences per step.
    extra_params : int, optional
        Parameters stored and updated without FLOPs (biases, learned positions).
    experts, experts_per_token, expert_d_ff, shared_d_ff, moe_layers : int, optional
        The mixture of experts, as `TransformerShape`'s fields (`expert_d_ff` defaults to
        `d_ff`; `moe_layers` to 0 here: pass it).
    kv_lora_rank, q_lora_rank, rope_head_dim, v_head_dim : int, optional
        Latent attention, as `TransformerShape`'s fields (`v_head_dim` defaults to
        `head_dim`).

    Returns
    -------
    tuple of float
        Parameters (count), FLOPs per step, elements moved to and from memory per step,
        activation elements kept for the backward pass, and the parameters one token uses.

    Examples
    --------
    >>> from scaleplan import step_counts as rust_counts
    >>> from scaleplan.arch.shapes import FIELDS, MODELS
    >>> shape = MODELS["llama-2-7b"]  # batch 8 x 2048 tokens
    >>> counts = step_counts(*(getattr(shape, f) for f in FIELDS))
    >>> print([f"{x:.4g}" for x in counts])
    ['6.738e+09', '7.023e+14', '7.374e+11', '1.087e+11', '6.738e+09']
    >>> print(f"{rust_counts(shape).flops:.4g}")
    7.023e+14
    """
    # Plain arithmetic only (flags and selections as 0/1), so NumPy arrays work too: the
    # benchmark's vectorised baseline is this same function.
    f = dict(locals())
    f["expert_d_ff"] = d_ff if expert_d_ff is None else expert_d_ff
    f["v"] = head_dim if v_head_dim is None else v_head_dim
    t = batch_size * seq_len
    scores = batch_size * n_heads * seq_len * seq_len
    layer = [
        _norm(t, d_model),  # attention RMSNorm
        *_attention(t, scores, f),
        _elementwise(2 * t * d_model, t * d_model),  # residual
        _norm(t, d_model),  # MLP RMSNorm
        _elementwise(2 * t * d_model, t * d_model),  # residual
    ]
    ops = [
        *_scaled(layer, n_layers),
        *_scaled(_mlp(t, d_ff, f), n_layers - moe_layers),
        *_scaled(_moe(t, f), moe_layers),
        _elementwise(t * d_model, t * d_model),  # embedding gather
        _norm(t, d_model),  # final RMSNorm
        _matmul(t, d_model, vocab),  # logits
        _elementwise(t * vocab, t * vocab + t),  # softmax cross-entropy
    ]
    flops = 3.0 * sum(op[0] for op in ops)
    kept = 1.0 * sum(op[2] for op in ops)
    moved = 3.0 * (sum(op[1] for op in ops) + kept)
    params, active = _params(f)
    return params, flops, moved + 8.0 * params, kept, active
