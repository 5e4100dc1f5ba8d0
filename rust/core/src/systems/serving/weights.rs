//! What a serving step holds and reads: the weights (every expert stored, the experts a
//! step's tokens reach read) and the KV cache (a latent per token under latent attention),
//! and attention's FLOPs per token of context.

use super::{Load, Phase};
use crate::arch::Shape;

/// Bytes of KV cache per token of one sequence on one GPU of the group. Ordinary attention:
/// keys and values of every layer for the group's share of the KV heads (all of one head
/// when `tp` exceeds their number; every head under attention data parallelism, where a
/// sequence lives on one GPU). Latent attention: the latent and the rotary key of
/// every layer, held whole on every GPU (the heads are rebuilt from it, so tensor
/// parallelism cannot split it).
pub fn kv_bytes_per_token(shape: &Shape, load: &Load) -> f64 {
    let l = &shape.latent;
    if l.kv_rank > 0.0 {
        return shape.n_layers * (l.kv_rank + l.rope_dim) * load.kv_bytes;
    }
    let split = if load.attention_data_parallel {
        1.0
    } else {
        load.tensor_parallel
    };
    let heads = (shape.n_kv_heads / split).ceil();
    shape.n_layers * heads * (shape.head_dim + shape.v_head_dim()) * load.kv_bytes
}

/// FLOPs of attention's two products per query token per context token, over all layers
/// (before the tensor-parallel split). Ordinary attention: `2 L h (d_h + d_v)` (Q K^T, then
/// P V). Latent attention decodes with the up-projections absorbed into the query and the
/// output (as DeepSeek's and the engines' decode kernels do): scores over the latent and
/// the rotary key, the weighted sum over the latent, `2 L h (2 r_kv + r_rope)`; its prefill
/// rebuilds every head's key and value and costs what ordinary attention does.
pub fn attention_flops_per_context_token(shape: &Shape, phase: Phase) -> f64 {
    let heads = shape.n_layers * shape.n_heads;
    let l = &shape.latent;
    if l.kv_rank > 0.0 && phase == Phase::Decode {
        return 2.0 * heads * (2.0 * l.kv_rank + l.rope_dim);
    }
    2.0 * heads * (shape.head_dim + shape.v_head_dim())
}

/// The expected number of distinct routed experts `tokens` tokens reach in one MoE layer,
/// each token taking `k` of `E` experts with every expert equally likely (uniform routing,
/// tokens independent): `E (1 - (1 - k / E)^tokens)`. All of them in a dense model's terms
/// when `k = E`; one token reaches exactly `k`.
pub fn experts_touched(shape: &Shape, tokens: f64) -> f64 {
    let e = &shape.experts;
    e.routed * (1.0 - (1.0 - e.per_token / e.routed).powf(tokens))
}

/// Parameters of the layers' matrices, every expert included: what a quantised checkpoint
/// stores in its format (the rest, [`Load::edge_bytes`] each).
fn layer_matmul_params(shape: &Shape) -> f64 {
    shape.stored_matmul_params() - shape.vocab * shape.d_model
}

/// Bytes of the routed experts' weights when `experts` of each MoE layer's are counted.
pub(super) fn routed_bytes(shape: &Shape, load: &Load, experts: f64) -> f64 {
    shape.experts.layers * experts * shape.expert_matrix() * load.weight_bytes
}

/// Bytes of the weights on the whole group.
pub(super) fn weight_bytes_stored(shape: &Shape, load: &Load) -> f64 {
    let layers = layer_matmul_params(shape);
    layers * load.weight_bytes + (shape.params() - layers) * load.edge_bytes
}

/// Bytes of the weights a step of `tokens` tokens reads on the whole group: all but the
/// input embedding and the routed experts none of its tokens reach.
pub(super) fn weight_bytes_read(shape: &Shape, load: &Load, tokens: f64) -> f64 {
    let untouched = shape.experts.routed - experts_touched(shape, tokens);
    weight_bytes_stored(shape, load)
        - shape.embedding_params() * load.edge_bytes
        - routed_bytes(shape, load, untouched)
}
