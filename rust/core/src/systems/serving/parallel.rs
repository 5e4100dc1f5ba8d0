//! How a group of `tp` GPUs splits a serving step: what one GPU stores and reads, the
//! sequences its cache holds, and the collectives the group pays.
//!
//! - Tensor parallelism (the default): every weight, the attention heads and the KV heads
//!   split `tp` ways; two all-reduces of the step's activations a layer (Megatron). Expert
//!   parallelism under it (`ep` GPUs hold whole experts, `tp / ep` slices each) stores and
//!   reads the same bytes per GPU in expectation under uniform routing and combines the
//!   experts' outputs by the same all-reduce, so the roofline prices it as tensor
//!   parallelism; it only decides which expert counts divide the group.
//! - Attention data parallelism (with `ep = tp`): each GPU holds all but the routed
//!   experts whole (attention, dense and shared MLPs, router, embeddings) and `E / tp`
//!   routed experts, and serves `1 / tp` of the sequences with every KV head of their
//!   cache. An MoE layer sends each token to the GPUs holding its experts and back
//!   (dispatch and combine, two all-to-alls: DeepSeek-V3's and the engines' wide-EP
//!   layout); attention needs no collective. A token goes once to each other GPU holding
//!   at least one of its `k` experts (engines deduplicate per rank), expected
//!   `(tp - 1) (1 - C(E - E/tp, k) / C(E, k))` GPUs under uniform routing.
//!
//! Loads are expected values: the busiest GPU of a real step carries more than the mean
//! (routing is neither uniform nor balanced per step), which the roofline, a bound, omits.

use super::weights::weight_bytes_stored as group_stored;
use super::weights::{experts_touched, routed_bytes, weight_bytes_read as group_read};
use super::{Gpu, Load, ACTIVATION_BYTES};
use crate::arch::Shape;

/// Bytes of weights one GPU of the group stores.
pub(super) fn weight_bytes_stored(shape: &Shape, load: &Load) -> f64 {
    let routed = routed_bytes(shape, load, shape.experts.routed);
    per_gpu(group_stored(shape, load), routed, load)
}

/// Bytes of weights one GPU reads in a step of `tokens` tokens on the whole group.
pub(super) fn weight_bytes_read(shape: &Shape, load: &Load, tokens: f64) -> f64 {
    let routed = routed_bytes(shape, load, experts_touched(shape, tokens));
    per_gpu(group_read(shape, load, tokens), routed, load)
}

/// One GPU's share of `total` bytes of which `routed` are routed experts': all of them
/// split under tensor parallelism; only the experts under attention data parallelism.
fn per_gpu(total: f64, routed: f64, load: &Load) -> f64 {
    let tp = load.tensor_parallel;
    if load.attention_data_parallel {
        total - routed + routed / tp
    } else {
        total / tp
    }
}

/// Sequences of the batch whose cache one GPU holds and reads.
pub(super) fn sequences_per_gpu(load: &Load) -> f64 {
    load.batch / cache_replicas(load)
}

/// Groups of sequences the group's GPUs hold apart: `tp` under attention data
/// parallelism (a batch of `b` is `b / tp` a GPU), 1 when every GPU holds a slice of all.
pub(super) fn cache_replicas(load: &Load) -> f64 {
    if load.attention_data_parallel {
        load.tensor_parallel
    } else {
        1.0
    }
}

/// Seconds of the group's collectives in a step of `tokens` tokens: bytes each GPU sends
/// over its links, plus `collective_latency` per collective (0 on one GPU).
pub(super) fn comm_seconds(gpu: &Gpu, shape: &Shape, load: &Load, tokens: f64) -> f64 {
    let tp = load.tensor_parallel;
    if tp <= 1.0 {
        return 0.0;
    }
    let hidden = shape.d_model * ACTIVATION_BYTES;
    if load.attention_data_parallel {
        // Dispatch and combine: a GPU's tokens to the other GPUs their experts live on.
        let sent = tokens / tp * other_gpus_reached(shape, tp) * hidden;
        return 2.0 * shape.experts.layers * (sent / gpu.link_bandwidth + gpu.collective_latency);
    }
    // Ring all-reduce: each GPU sends 2 (tp - 1) / tp of the tensor, twice a layer.
    let sent = 2.0 * (tp - 1.0) / tp * tokens * hidden;
    2.0 * shape.n_layers * (sent / gpu.link_bandwidth + gpu.collective_latency)
}

/// Expected GPUs other than its own that a token's `k` experts (drawn without replacement
/// from `E`, `E / tp` on each GPU) reach: `(tp - 1) (1 - prod_i (E - E/tp - i) / (E - i))`.
pub fn other_gpus_reached(shape: &Shape, tp: f64) -> f64 {
    let e = &shape.experts;
    let elsewhere = e.routed - e.routed / tp;
    // The product in k steps (k is a few dozen in real models); it stops once it reaches
    // 0, which every factor below 1 brings it to within ~750 tp steps, so a k of millions
    // (a valid but odd shape) costs no more.
    let mut missed = 1.0;
    let mut i = 0.0;
    while i < e.per_token && missed > 0.0 {
        missed *= ((elsewhere - i) / (e.routed - i)).max(0.0);
        i += 1.0;
    }
    (tp - 1.0) * (1.0 - missed)
}
