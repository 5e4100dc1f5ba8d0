//! The architecture (`scaleplan.arch`): a decoder-only transformer's [`Shape`] and what one
//! training step of it counts (parameters, FLOPs, memory traffic; after "Time Matters", seed
//! 003), from the shape alone. The accounting is ours; each term is stated where it is added.
//!
//! A shape may be a mixture of experts ([`Experts`]): in `moe_layers` of its layers the MLP
//! is `routed` experts of width `d_ff` each, of which a router (a `d x routed` matrix)
//! picks `per_token` for every token, beside `shared_d_ff` of always-on width. Parameters
//! count every expert; FLOPs and the active parameters count what one token multiplies.
//! Attention may be multi-head latent attention ([`Latent`], DeepSeek-V2/V3), whose keys and
//! values are rebuilt per head from a compressed vector.
//!
//! Conventions: `T = batch * seq` tokens per step; a matmul of an `m x k` by a `k x n`
//! matrix costs `2 m k n` FLOPs and moves `m k + k n` elements in and `m n` out; an
//! elementwise op moves each operand in and its result out; nothing is fused. Backward is
//! twice the forward in both FLOPs and traffic; Adam moves 8 elements per parameter.

mod columns;
mod counts;

pub use columns::{counts_batch, CountOutputs, ShapeColumns, FIELDS};
pub use counts::Counts;

/// The mixture-of-experts part of a shape. [`Experts::DENSE`] is a dense model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Experts {
    /// Routed experts in each MoE layer.
    pub routed: f64,
    /// Routed experts each token goes through (top-k).
    pub per_token: f64,
    /// Hidden width of one routed expert's MLP.
    pub d_ff: f64,
    /// Hidden width of the always-on shared experts of an MoE layer, all together (0: none).
    pub shared_d_ff: f64,
    /// Layers whose MLP is a mixture of experts; the rest are dense MLPs of `Shape::d_ff`.
    pub layers: f64,
}

impl Experts {
    /// No MoE layer (the other fields are then unread).
    pub const DENSE: Experts = Experts {
        routed: 1.0,
        per_token: 1.0,
        d_ff: 1.0,
        shared_d_ff: 0.0,
        layers: 0.0,
    };
}

/// Multi-head latent attention (DeepSeek-V2): keys and values rebuilt per head from a
/// `kv_rank` latent (plus a `rope_dim` rotary key shared by the heads), queries through an
/// optional `q_rank` bottleneck. `head_dim` is then the query/key head width (its
/// no-rotary part plus `rope_dim`). [`Latent::NONE`] is ordinary attention.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Latent {
    /// Width of the compressed key-value vector (0: ordinary attention).
    pub kv_rank: f64,
    /// Width of the query bottleneck (0: queries projected at full rank).
    pub q_rank: f64,
    /// The rotary part of a query/key head, kept out of the latent.
    pub rope_dim: f64,
    /// Width of a value head (0: `head_dim`).
    pub v_head_dim: f64,
}

impl Latent {
    pub const NONE: Latent = Latent {
        kv_rank: 0.0,
        q_rank: 0.0,
        rope_dim: 0.0,
        v_head_dim: 0.0,
    };
}

/// One transformer shape. Sizes are counts (validated as positive integers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    pub vocab: f64,
    pub d_model: f64,
    pub n_layers: f64,
    pub n_heads: f64,
    pub head_dim: f64,
    pub n_kv_heads: f64,
    /// Hidden width of a dense layer's MLP.
    pub d_ff: f64,
    /// Gated MLP (SwiGLU/GeGLU: three matrices) or plain (two); experts alike.
    pub gated: bool,
    /// Output projection shares the embedding matrix.
    pub tied: bool,
    pub seq_len: f64,
    pub batch_size: f64,
    /// Parameters outside the matrices and norm weights: biases, norm biases, learned
    /// position tables. Stored, updated by the optimizer and (in serving) read every step;
    /// no FLOPs (a bias add or a table lookup is negligible beside the matmuls).
    pub extra_params: f64,
    pub experts: Experts,
    pub latent: Latent,
}

impl Shape {
    /// The parameter count N, every expert included.
    ///
    /// ```
    /// use scaleplan::arch::{Experts, Latent, Shape};
    /// let llama2_7b = Shape { vocab: 32000.0, d_model: 4096.0, n_layers: 32.0, n_heads: 32.0,
    ///     head_dim: 128.0, n_kv_heads: 32.0, d_ff: 11008.0, gated: true, tied: false,
    ///     seq_len: 4096.0, batch_size: 1.0, extra_params: 0.0, experts: Experts::DENSE,
    ///     latent: Latent::NONE };
    /// assert!((llama2_7b.params() / 6.74e9 - 1.0).abs() < 0.005);
    /// ```
    pub fn params(&self) -> f64 {
        self.stored_matmul_params()
            + self.embedding_params()
            + self.norm_params()
            + self.extra_params
    }

    /// The parameters one token uses: [`Shape::params`] less the routed experts it skips.
    pub fn active_params(&self) -> f64 {
        self.params() - self.stored_matmul_params() + self.matmul_params()
    }

    /// Parameters in matrix products one token multiplies (its routed experts, not the
    /// others): the layers' projections, MLPs and routers, and the output projection (also
    /// when tied to the embedding). Forward FLOPs are twice this per token.
    pub fn matmul_params(&self) -> f64 {
        let e = &self.experts;
        let routed = e.per_token * self.expert_matrix();
        self.n_layers * self.attention_params()
            + (self.n_layers - e.layers) * self.dense_mlp_params()
            + e.layers * (routed + self.always_on_moe_params())
            + self.vocab * self.d_model
    }

    /// Parameters in matrix products, every expert counted: what memory holds of them.
    pub fn stored_matmul_params(&self) -> f64 {
        let e = &self.experts;
        self.matmul_params() + e.layers * (e.routed - e.per_token) * self.expert_matrix()
    }

    /// The input embedding: a table lookup, read a row per token, not as a whole.
    pub fn embedding_params(&self) -> f64 {
        if self.tied {
            0.0
        } else {
            self.vocab * self.d_model
        }
    }

    /// Norm weights: two RMSNorms a layer, the final one, and latent attention's norms of
    /// its compressed query and key-value vectors.
    pub fn norm_params(&self) -> f64 {
        let latent = self.latent.q_rank + self.latent.kv_rank;
        (2.0 * self.d_model + latent) * self.n_layers + self.d_model
    }

    /// Width of a value head.
    pub fn v_head_dim(&self) -> f64 {
        if self.latent.v_head_dim > 0.0 {
            self.latent.v_head_dim
        } else {
            self.head_dim
        }
    }

    /// One layer's attention matrices: Q, K, V and output projections (no biases); under
    /// latent attention, the query bottleneck, the down-projection to the latent and the
    /// rotary key, and the up-projection of the latent to every head's key and value.
    pub fn attention_params(&self) -> f64 {
        let (d, h, hd, v) = (self.d_model, self.n_heads, self.head_dim, self.v_head_dim());
        let output = h * v * d;
        let l = &self.latent;
        if l.kv_rank == 0.0 {
            let kv = self.n_kv_heads;
            return d * h * hd + d * kv * (hd + v) + output;
        }
        let query = if l.q_rank > 0.0 {
            d * l.q_rank + l.q_rank * h * hd
        } else {
            d * h * hd
        };
        let key_value = d * (l.kv_rank + l.rope_dim) + l.kv_rank * h * (hd - l.rope_dim + v);
        query + key_value + output
    }

    /// Matrices per MLP: three gated (gate, up, down), two plain.
    pub fn mlp_matrices(&self) -> f64 {
        if self.gated {
            3.0
        } else {
            2.0
        }
    }

    fn dense_mlp_params(&self) -> f64 {
        self.mlp_matrices() * self.d_model * self.d_ff
    }

    /// One routed expert's matrices.
    pub fn expert_matrix(&self) -> f64 {
        self.mlp_matrices() * self.d_model * self.experts.d_ff
    }

    /// What every token of an MoE layer multiplies whichever experts it takes: the shared
    /// experts and the router.
    fn always_on_moe_params(&self) -> f64 {
        let e = &self.experts;
        self.mlp_matrices() * self.d_model * e.shared_d_ff + self.d_model * e.routed
    }
}

#[cfg(test)]
pub(crate) mod tests;
