//! Fixtures the serving tests share.

use super::*;

/// An H100 SXM at full efficiency, no overhead.
pub(super) fn ideal() -> Gpu {
    Gpu {
        peak: 989e12,
        bandwidth: 3.35e12,
        memory: 80e9,
        link_bandwidth: 450e9,
        compute_efficiency: 1.0,
        memory_efficiency: 1.0,
        overhead: 0.0,
        memory_fraction: 0.9,
        collective_latency: 0.0,
        gemm_half_tokens: 0.0,
        kv_efficiency: 1.0,
        reserve_bytes: 0.0,
        kv_share: 1.0,
    }
}

pub(super) fn load(batch: f64, tokens: f64, tp: f64) -> Load {
    Load {
        batch,
        tokens,
        tensor_parallel: tp,
        weight_bytes: 2.0,
        kv_bytes: 2.0,
        edge_bytes: 2.0,
        draft_tokens: 0.0,
        draft_kv_bytes: 0.0,
        expert_parallel: 1.0,
        attention_data_parallel: false,
    }
}

pub(super) fn rel(a: f64, b: f64) -> f64 {
    (a / b - 1.0).abs()
}
