//! What serving a transformer costs on real hardware: one decode or prefill step of a
//! batch on a GPU, or on a tensor-parallel group of GPUs, by the roofline (docs/design.md §1.7).
//!
//! A step takes `max(FLOPs / (peak e_c r), W / (bandwidth e_m) + KV / (bandwidth e_kv)) +
//! comm + overhead` seconds (`r = m / (m + m_half)` for `m` tokens in the step: small
//! matmuls run below peak; `W` and `KV` the weight and cache bytes read), where FLOPs and
//! bytes are per GPU of a group of `tp` that splits the weights,
//! the heads and the KV cache evenly (Megatron-style tensor parallelism; KV heads are
//! replicated when there are fewer than `tp`), and `comm` is the two all-reduces per layer
//! that such a group does: each sends its bytes over the GPUs' links without overlap and
//! waits a fixed latency (`collective_latency`, fitted: launch and synchronisation of a
//! collective, which small decode all-reduces are dominated by). Everything else a real
//! stack adds per step is in `overhead`. Expert parallelism and data-parallel attention,
//! with its all-to-all dispatch and combine, change what a GPU holds, reads and sends
//! (`parallel`).
//!
//! - Decode, `b` sequences at context `c`, one new token each: FLOPs `2 b P_mm + 4 b c L h
//!   d_h` (the matmuls, then attention's two products over the context), bytes read
//!   `W + b c kv` (the weights once for the whole batch, each sequence's KV cache).
//! - Prefill, `b` prompts of `p` tokens: FLOPs `2 b p (P_mm - V d) + 2 b V d + 2 b p^2 L h
//!   d_h` (logits for the last token only; causal attention), bytes `W + b p kv` (the
//!   weights, and the KV cache written).
//!
//! `P_mm` is [`Shape::matmul_params`] (a token's matrices: for a mixture of experts, its
//! routed experts), `W` the bytes of every weight a step reads but the input embedding (a
//! lookup): the layers' matrices at the format's bytes, the rest (output head, norms) at
//! [`Load::edge_bytes`]; of a mixture of experts, the experts the step's tokens reach
//! (`weights::experts_touched`). `kv = L h_kv (d_h + d_v)` bytes per KV element per token,
//! `L (r_kv + r_rope)` under latent attention (`weights::kv_bytes_per_token`); decode
//! attention costs `weights::attention_flops_per_context_token` a context token.
//! Memory holds the weights, each sequence's cache and [`Gpu::reserve_bytes`] within
//! [`Gpu::memory_fraction`]; the cache takes [`Gpu::kv_share`] of what the rest leave.

use crate::arch::{Shape, ShapeColumns};
use crate::engine::batch::{drive, reject, use_parallel, Column, OnInvalid};
use crate::error::{is_non_negative, is_positive, Error, Result};
use crate::laws::flops::INFERENCE_PER_PARAM;

/// Bytes per element of the activations a tensor-parallel group all-reduces (bf16).
pub const ACTIVATION_BYTES: f64 = 2.0;

/// Largest tensor-parallel degree taken: larger groups than a few nodes are not serving.
pub const MAX_TENSOR_PARALLEL: f64 = 1024.0;

/// Most tokens a draft proposes for one verification: acceptance falls geometrically
/// along a draft, so engines propose a handful (EAGLE, Medusa, MTP: 1 to 8).
pub const MAX_DRAFT_TOKENS: f64 = 64.0;

/// Which step: a new token for every sequence, or a whole prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Decode,
    Prefill,
}

impl Phase {
    pub const NAMES: &'static [&'static str] = &["decode", "prefill"];

    pub fn from_name(name: &str) -> Result<Phase> {
        match name {
            "decode" => Ok(Phase::Decode),
            "prefill" => Ok(Phase::Prefill),
            _ => Err(Error::Unknown {
                argument: "phase",
                given: name.to_string(),
                valid: Phase::NAMES,
            }),
        }
    }
}

/// One GPU and how much of it a serving stack gets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gpu {
    /// Dense peak FLOP/s at the matmuls' precision.
    pub peak: f64,
    /// Memory bandwidth, bytes/s.
    pub bandwidth: f64,
    /// Memory, bytes.
    pub memory: f64,
    /// Bytes/s each GPU sends in an all-reduce (NVLink, or PCIe); used when `tp > 1`.
    pub link_bandwidth: f64,
    /// Fractions of peak and of bandwidth a step reaches, in (0, 1].
    pub compute_efficiency: f64,
    pub memory_efficiency: f64,
    /// Seconds every step adds (kernel launches, scheduling, sampling).
    pub overhead: f64,
    /// Seconds each all-reduce of a tensor-parallel group waits beyond its bytes' time.
    pub collective_latency: f64,
    /// Fraction of memory the weights and the KV cache may take, in (0, 1].
    pub memory_fraction: f64,
    /// Tokens in a step at which its matmuls reach half of `compute_efficiency` (0: full
    /// efficiency at any size). Small matrices run below peak: the compute time is
    /// `flops / (peak e_c m / (m + m_half))` for `m` tokens in the step.
    pub gemm_half_tokens: f64,
    /// Fraction of bandwidth the KV-cache reads reach, in (0, 1]: decode attention over a
    /// grouped-query cache streams less efficiently than the weights' large reads.
    pub kv_efficiency: f64,
    /// Bytes of each GPU's memory the runtime keeps for itself (workspace, activations,
    /// its context), beyond the weights and the cache.
    pub reserve_bytes: f64,
    /// Fraction of the memory left after the weights and the reserve that the KV cache
    /// takes, in (0, 1] (TensorRT-LLM's `free_gpu_memory_fraction`, 0.9 there).
    pub kv_share: f64,
}

/// What a step carries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    /// Sequences in the batch, >= 1.
    pub batch: f64,
    /// Decode: tokens of context each sequence attends to (>= 0). Prefill: prompt tokens (>= 1).
    pub tokens: f64,
    /// GPUs in the tensor-parallel group, an integer >= 1.
    pub tensor_parallel: f64,
    /// Bytes per weight and per KV-cache element.
    pub weight_bytes: f64,
    pub kv_bytes: f64,
    /// Bytes per weight outside the layers' matrices (embeddings, output head, norms),
    /// which quantised checkpoints keep at 16 bits; `weight_bytes` for a uniform model.
    pub edge_bytes: f64,
    /// Decode only: tokens a draft proposed for each sequence, which this step verifies
    /// with the sequence's new token (speculative decoding; 0 without it). The step
    /// computes `1 + draft_tokens` positions a sequence but reads the weights and the
    /// cache once.
    pub draft_tokens: f64,
    /// Bytes per token of each sequence held beside its own cache on one GPU of the group
    /// (a draft model's KV cache; 0 without one).
    pub draft_kv_bytes: f64,
    /// GPUs of the group the routed experts are split over, a whole number dividing
    /// `tensor_parallel` and the routed experts (1 for a dense model): each holds `E / ep`
    /// whole experts, each sliced `tp / ep` ways (`parallel`).
    pub expert_parallel: f64,
    /// Whether attention runs data parallel: every GPU of the group holds all but the
    /// routed experts and serves its own `1 / tp` of the sequences, and the tokens reach
    /// their experts by all-to-all (`parallel`). Needs `expert_parallel = tensor_parallel`
    /// for a mixture of experts; a dense model so served is `tp` replicas.
    pub attention_data_parallel: bool,
}

/// The cost of one step, per GPU of the group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepCost {
    /// Wall-clock seconds of the step: TPOT for decode, TTFT for prefill.
    pub seconds: f64,
    pub flops: f64,
    pub bytes: f64,
    /// Seconds of the group's collectives, bytes and latency (0 on one GPU): the
    /// all-reduces of tensor parallelism, or the all-to-alls of attention data parallelism.
    pub comm_seconds: f64,
    /// Whether bytes, not FLOPs, set the step's time.
    pub memory_bound: bool,
    /// Largest batch whose weights and KV cache fit the group's memory at these tokens.
    pub max_batch: f64,
    /// Tokens the step produces (decode: one per sequence, or the `1 + draft_tokens`
    /// positions it verifies, whatever the draft's acceptance) or takes in (prefill: the
    /// prompts), per second per GPU.
    pub tokens_per_second: f64,
    /// `2 N tokens / (seconds * peak * tp)`: the model FLOPs utilisation the step implies.
    pub mfu: f64,
}

impl StepCost {
    /// What a row without an answer reports.
    pub const NAN: StepCost = StepCost {
        seconds: f64::NAN,
        flops: f64::NAN,
        bytes: f64::NAN,
        comm_seconds: f64::NAN,
        memory_bound: false,
        max_batch: f64::NAN,
        tokens_per_second: f64::NAN,
        mfu: f64::NAN,
    };
}

impl Gpu {
    /// The cost of a step of `load` for `shape`; an error if the batch does not fit.
    ///
    /// ```
    /// use scaleplan::systems::serving::{Gpu, Load, Phase};
    /// use scaleplan::arch::{Experts, Latent, Shape};
    /// // Llama-2-7B in bf16 on an H100 SXM at full efficiency: batch-1 decode reads the
    /// // weights once per token, about 3.35e12 / 13.2e9 = 254 tokens/s.
    /// let shape = Shape { vocab: 32000.0, d_model: 4096.0, n_layers: 32.0, n_heads: 32.0,
    ///     head_dim: 128.0, n_kv_heads: 32.0, d_ff: 11008.0, gated: true, tied: false,
    ///     seq_len: 4096.0, batch_size: 1.0, extra_params: 0.0, experts: Experts::DENSE,
    ///     latent: Latent::NONE };
    /// let h100 = Gpu { peak: 989e12, bandwidth: 3.35e12, memory: 80e9, link_bandwidth: 450e9,
    ///     compute_efficiency: 1.0, memory_efficiency: 1.0, overhead: 0.0, memory_fraction: 0.9,
    ///     collective_latency: 0.0, gemm_half_tokens: 0.0, kv_efficiency: 1.0,
    ///     reserve_bytes: 0.0, kv_share: 1.0 };
    /// let load = Load { batch: 1.0, tokens: 0.0, tensor_parallel: 1.0, weight_bytes: 2.0,
    ///     kv_bytes: 2.0, edge_bytes: 2.0, draft_tokens: 0.0, draft_kv_bytes: 0.0,
    ///     expert_parallel: 1.0, attention_data_parallel: false };
    /// let step = h100.step(&shape, &load, Phase::Decode, None).unwrap();
    /// assert!(step.memory_bound && (1.0 / step.seconds - 254.0).abs() < 1.0);
    /// ```
    pub fn step(
        &self,
        shape: &Shape,
        load: &Load,
        phase: Phase,
        index: Option<usize>,
    ) -> Result<StepCost> {
        let max_batch = self.max_batch(shape, load, phase, index)?;
        if load.batch > max_batch {
            return Err(Error::Invalid {
                argument: "batch_size",
                value: load.batch,
                requirement: "at most the largest batch whose KV cache, context_tokens a \
                              sequence, fits the GPUs' memory (max_batch_size)",
                index,
            });
        }
        Ok(self.cost(shape, load, phase, max_batch))
    }

    /// [`Gpu::step`] for a batch known to fit.
    fn cost(&self, shape: &Shape, load: &Load, phase: Phase, max_batch: f64) -> StepCost {
        let tp = load.tensor_parallel;
        let (b, t) = (load.batch, load.tokens);
        let logits = shape.vocab * shape.d_model;
        let (flops, tokens_in_step) = match phase {
            Phase::Decode => {
                let positions = b * (1.0 + load.draft_tokens);
                let attention = attention_flops_per_context_token(shape, Phase::Decode);
                (
                    2.0 * positions * shape.matmul_params() + positions * t * attention,
                    positions,
                )
            }
            Phase::Prefill => {
                // Causal: prompt token i attends to i tokens, t^2 / 2 pairs a prompt.
                let attention = attention_flops_per_context_token(shape, Phase::Prefill);
                (
                    2.0 * b * t * (shape.matmul_params() - logits)
                        + 2.0 * b * logits
                        + 0.5 * b * t * t * attention,
                    b * t,
                )
            }
        };
        // Every layout splits the FLOPs evenly: by heads and slices, or by sequences and
        // experts (uniform routing).
        let flops = flops / tp;
        let weights = parallel::weight_bytes_read(shape, load, tokens_in_step);
        let moved = parallel::sequences_per_gpu(load) * t * kv_bytes_per_token(shape, load);
        let bytes = weights + moved;
        let comm_seconds = parallel::comm_seconds(self, shape, load, tokens_in_step);
        let compute = self.compute_seconds(shape, load, flops, tokens_in_step);
        let memory = weights / (self.bandwidth * self.memory_efficiency)
            + moved / (self.bandwidth * self.kv_efficiency);
        let seconds = compute.max(memory) + comm_seconds + self.overhead;
        let tokens_per_second = tokens_in_step / (seconds * tp);
        StepCost {
            seconds,
            flops,
            bytes,
            comm_seconds,
            memory_bound: memory > compute,
            max_batch,
            tokens_per_second,
            mfu: INFERENCE_PER_PARAM * shape.active_params() * tokens_per_second / self.peak,
        }
    }

    /// Seconds of `flops` FLOPs per GPU in a step of `tokens` tokens on the group:
    /// matmuls of `m` rows run at `e_c m / (m + m_half)` of peak. A GPU multiplies every
    /// token's rows under tensor parallelism (slices of each weight), its own `1 / tp`
    /// under data-parallel attention; a routed expert's matmuls see only the tokens routed
    /// to it, `tokens k / E_touched` in expectation from the whole group (grouped GEMMs
    /// over narrow batches), so the experts' share of the FLOPs, `2 tokens k P_expert
    /// L_moe / tp`, runs at that smaller ramp.
    fn compute_seconds(&self, shape: &Shape, load: &Load, flops: f64, tokens: f64) -> f64 {
        let e = &shape.experts;
        let ramp = |m: f64| m / (m + self.gemm_half_tokens);
        let peak = self.peak * self.compute_efficiency;
        let own = tokens / parallel::cache_replicas(load);
        let routed =
            2.0 * tokens / load.tensor_parallel * e.per_token * shape.expert_matrix() * e.layers;
        if routed == 0.0 {
            return flops / (peak * ramp(own));
        }
        let per_expert = tokens * e.per_token / experts_touched(shape, tokens);
        (flops - routed) / (peak * ramp(own)) + routed / (peak * ramp(per_expert))
    }

    /// The largest whole batch whose KV cache fits `kv_share` of what the weights and the
    /// reserve leave of `memory_fraction` of each GPU's memory: a decode sequence holds its
    /// context and the new token, a prefill its prompt. An error naming `tensor_parallel`
    /// if not even one sequence fits.
    pub fn max_batch(
        &self,
        shape: &Shape,
        load: &Load,
        phase: Phase,
        index: Option<usize>,
    ) -> Result<f64> {
        let held = match phase {
            Phase::Decode => load.tokens + 1.0 + load.draft_tokens,
            Phase::Prefill => load.tokens,
        };
        let weights = parallel::weight_bytes_stored(shape, load);
        let free = self.memory * self.memory_fraction - self.reserve_bytes - weights;
        let room = self.kv_share * free;
        let per_token = kv_bytes_per_token(shape, load) + load.draft_kv_bytes;
        // Sequences on one GPU's cache: every GPU holds its own under data parallelism.
        let batch = (room / (held * per_token)).floor();
        if batch >= 1.0 {
            Ok(batch * parallel::cache_replicas(load))
        } else {
            Err(Error::Unreachable {
                index: index.unwrap_or(0),
                argument: "tensor_parallel",
                reason: "the weights and one sequence's KV cache do not fit the GPUs' memory \
                         at this tensor-parallel degree (raise it, or lower the precision or \
                         the context)",
            })
        }
    }

    /// The largest whole batch, at most [`Gpu::max_batch`], whose step takes at most
    /// `target` seconds (a TPOT for decode, a TTFT for prefill): the step time grows with
    /// the batch, so bisection over the integers finds it exactly.
    pub fn batch_for_latency(
        &self,
        shape: &Shape,
        load: &Load,
        phase: Phase,
        target: f64,
        index: Option<usize>,
    ) -> Result<f64> {
        let max_batch = self.max_batch(shape, load, phase, index)?;
        let at = |b: f64| self.cost(shape, &Load { batch: b, ..*load }, phase, max_batch);
        if at(1.0).seconds > target {
            return Err(Error::Unreachable {
                index: index.unwrap_or(0),
                argument: "target_seconds",
                reason: "even a batch of one takes longer than the latency target on this \
                         hardware (raise the target or the tensor-parallel degree)",
            });
        }
        let (mut lo, mut hi) = (1.0, max_batch);
        if at(hi).seconds <= target {
            return Ok(hi);
        }
        // at(lo) meets the target, at(hi) does not.
        while hi - lo > 1.0 {
            let mid = (0.5 * (lo + hi)).floor();
            if at(mid).seconds <= target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }
}

mod columns;
mod parallel;
mod weights;

pub use columns::{serving_batch, ServingColumns, ServingOutputs, FIELDS};
pub use weights::{attention_flops_per_context_token, experts_touched, kv_bytes_per_token};

#[cfg(test)]
mod parallel_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_support;
