//! The architecture (`scaleplan.arch`): a decoder-only transformer's [`Shape`] and what one
//! training step of it counts (parameters, FLOPs, memory traffic; after "Time Matters", seed
//! 003), from the shape alone. The accounting is ours; each term is stated where it is added.
//!
//! Conventions: `T = batch * seq` tokens per step; a matmul of an `m x k` by a `k x n`
//! matrix costs `2 m k n` FLOPs and moves `m k + k n` elements in and `m n` out; an
//! elementwise op moves each operand in and its result out; nothing is fused. Backward is
//! twice the forward in both FLOPs and traffic; Adam moves 8 elements per parameter.

use crate::engine::batch::{drive, use_parallel, Column};
use crate::error::{Error, Result};

/// One transformer shape. Sizes are counts (validated as positive integers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    pub vocab: f64,
    pub d_model: f64,
    pub n_layers: f64,
    pub n_heads: f64,
    pub head_dim: f64,
    pub n_kv_heads: f64,
    pub d_ff: f64,
    /// Gated MLP (SwiGLU/GeGLU: three matrices) or plain (two).
    pub gated: bool,
    /// Output projection shares the embedding matrix.
    pub tied: bool,
    pub seq_len: f64,
    pub batch_size: f64,
    /// Parameters outside the matrices and norm weights: biases, norm biases, learned
    /// position tables. Stored, updated by the optimizer and (in serving) read every step;
    /// no FLOPs (a bias add or a table lookup is negligible beside the matmuls).
    pub extra_params: f64,
}

/// What one training step of a shape costs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Counts {
    pub params: f64,
    /// Forward + backward FLOPs per step.
    pub flops: f64,
    /// Elements read and written per step (forward, backward, optimizer).
    pub memcpy_elements: f64,
    /// Elements the forward writes and backward needs (activations kept, no recomputation).
    pub activation_elements: f64,
}

impl Shape {
    /// The parameter count N.
    ///
    /// ```
    /// use scaleplan::arch::Shape;
    /// let llama2_7b = Shape { vocab: 32000.0, d_model: 4096.0, n_layers: 32.0, n_heads: 32.0,
    ///     head_dim: 128.0, n_kv_heads: 32.0, d_ff: 11008.0, gated: true, tied: false,
    ///     seq_len: 4096.0, batch_size: 1.0, extra_params: 0.0 };
    /// assert!((llama2_7b.params() / 6.74e9 - 1.0).abs() < 0.005);
    /// ```
    pub fn params(&self) -> f64 {
        // The matmuls (attention's Q, K, V and output projections, no biases; the MLP; the
        // output projection), the input embedding unless tied, two RMSNorm weight vectors
        // per layer and the final norm, and whatever else the architecture has.
        let norms = 2.0 * self.d_model * self.n_layers + self.d_model;
        self.matmul_params() + self.embedding_params() + norms + self.extra_params
    }

    /// Parameters in matrix products, which every token multiplies: the layers'
    /// projections and MLP, and the output projection (also when tied to the embedding).
    /// The norms and the input embedding (a lookup) are the rest of [`Shape::params`].
    pub fn matmul_params(&self) -> f64 {
        let q_width = self.n_heads * self.head_dim;
        let kv_width = self.n_kv_heads * self.head_dim;
        let d = self.d_model;
        let attention = d * q_width + 2.0 * d * kv_width + q_width * d;
        let mlp = self.mlp_matrices() * d * self.d_ff;
        self.n_layers * (attention + mlp) + self.vocab * d
    }

    /// The input embedding: a table lookup, read a row per token, not as a whole.
    pub fn embedding_params(&self) -> f64 {
        if self.tied {
            0.0
        } else {
            self.vocab * self.d_model
        }
    }

    fn mlp_matrices(&self) -> f64 {
        if self.gated {
            3.0
        } else {
            2.0
        }
    }

    /// Parameters, FLOPs and traffic of one step.
    pub fn counts(&self) -> Counts {
        let m = self.sizes();
        let params = self.params();
        // Adam: read parameter, gradient, two moments; write parameter and two moments; and
        // zero the gradient: 8 elements per parameter.
        let optimizer = 8.0 * params;
        Counts {
            params,
            flops: 3.0 * self.forward_flops(&m),
            memcpy_elements: 3.0 * self.forward_traffic(&m) + optimizer,
            activation_elements: self.activations(&m),
        }
    }

    fn sizes(&self) -> Sizes {
        let t = self.batch_size * self.seq_len;
        let q_width = self.n_heads * self.head_dim;
        let kv_width = self.n_kv_heads * self.head_dim;
        Sizes {
            d: self.d_model,
            t,
            q_width,
            kv_width,
            qkv_width: q_width + 2.0 * kv_width,
            k: self.mlp_matrices() - 1.0, // up (and gate) projections
            scores: self.batch_size * self.n_heads * self.seq_len * self.seq_len,
        }
    }

    /// Forward FLOPs: per layer the four projections and the MLP as matmuls over T tokens,
    /// and attention's two S x S products per head (QK^T and PV), causal mask not
    /// exploited; then the logits, T x d by d x V.
    fn forward_flops(&self, m: &Sizes) -> f64 {
        let (d, t) = (m.d, m.t);
        let layer_matmul_params =
            d * m.qkv_width + m.q_width * d + self.mlp_matrices() * d * self.d_ff;
        let layer_flops = 2.0 * t * layer_matmul_params + 4.0 * m.scores * self.head_dim;
        let logit_flops = 2.0 * t * d * self.vocab;
        self.n_layers * layer_flops + logit_flops
    }

    /// Forward memory traffic in elements, op by op (reads + writes).
    fn forward_traffic(&self, m: &Sizes) -> f64 {
        let (d, t, k, scores) = (m.d, m.t, m.k, m.scores);
        let norm = t * d + d + t * d; // RMSNorm: x and weight in, y out
        let qkv = t * d + d * m.qkv_width + t * m.qkv_width; // fused Q, K, V projection
        let qk = t * m.q_width + t * m.kv_width + scores; // scores = Q K^T
        let softmax = 2.0 * scores; // scores in, probabilities out
        let pv = scores + t * m.kv_width + t * m.q_width; // probabilities times V
        let out_proj = t * m.q_width + m.q_width * d + t * d;
        let residual = 3.0 * t * d; // two inputs, one output
        let up = t * d + k * d * self.d_ff + k * t * self.d_ff;
        let activation = k * t * self.d_ff + t * self.d_ff; // (gate, up) in, activated out
        let down = t * self.d_ff + self.d_ff * d + t * d;
        let layer_traffic = 2.0 * norm
            + qkv
            + qk
            + softmax
            + pv
            + out_proj
            + 2.0 * residual
            + up
            + activation
            + down;
        // Embedding gather, final norm, logits, and the softmax cross-entropy (logits in,
        // probabilities out for the backward, one loss per token).
        let embed = 2.0 * t * d;
        let logits = t * d + d * self.vocab + t * self.vocab;
        let loss = t * self.vocab + t * self.vocab + t;
        let head_traffic = embed + norm + logits + loss;
        self.n_layers * layer_traffic + head_traffic
    }

    /// Elements written in the forward pass and kept for the backward pass.
    fn activations(&self, m: &Sizes) -> f64 {
        let (d, t) = (m.d, m.t);
        let layer_writes = 2.0 * t * d
            + t * m.qkv_width
            + 2.0 * m.scores
            + t * m.q_width
            + t * d
            + 2.0 * t * d
            + m.k * t * self.d_ff
            + t * self.d_ff
            + t * d;
        let head_writes = t * d + t * d + t * self.vocab + t * self.vocab + t;
        self.n_layers * layer_writes + head_writes
    }
}

/// Sizes the counts of one shape are built from (elements; `t` tokens per step).
struct Sizes {
    d: f64,
    t: f64,
    q_width: f64,
    kv_width: f64,
    qkv_width: f64,
    k: f64,
    scores: f64,
}

/// Rejects sizes that are not positive integers, naming the field.
fn size(field: &'static str, v: f64, index: usize) -> Result<f64> {
    if v.is_finite() && v >= 1.0 && v.fract() == 0.0 {
        Ok(v)
    } else {
        Err(Error::Invalid {
            argument: field,
            value: v,
            requirement: "a positive integer",
            index: Some(index),
        })
    }
}

/// Shapes as columns (length 1 or n each); flags are 0 or 1.
#[derive(Debug, Clone, Copy)]
pub struct ShapeColumns<'a> {
    pub columns: [Column<'a>; 12],
}

/// Column names, in the order of [`ShapeColumns`].
pub const FIELDS: [&str; 12] = [
    "vocab",
    "d_model",
    "n_layers",
    "n_heads",
    "head_dim",
    "n_kv_heads",
    "d_ff",
    "gated",
    "tied",
    "seq_len",
    "batch_size",
    "extra_params",
];

impl<'a> ShapeColumns<'a> {
    pub fn new(data: [&'a [f64]; 12], n: usize) -> Result<Self> {
        let mut columns = [Column::scalar(&0.0); 12];
        for (i, d) in data.iter().enumerate() {
            columns[i] = Column::new(FIELDS[i], d, n)?;
        }
        Ok(ShapeColumns { columns })
    }

    /// Shape of row `i`, validated: sizes positive integers, flags 0/1, kv heads divide heads.
    pub fn get(&self, i: usize) -> Result<Shape> {
        let c = |k: usize| self.columns[k].get(i);
        let flag = |k: usize| -> Result<bool> {
            let v = c(k);
            if v == 0.0 {
                Ok(false)
            } else if v == 1.0 {
                Ok(true)
            } else {
                Err(Error::Invalid {
                    argument: FIELDS[k],
                    value: v,
                    requirement: "0 or 1",
                    index: Some(i),
                })
            }
        };
        let mut s = [0.0; 12];
        for k in [0, 1, 2, 3, 4, 5, 6, 9, 10] {
            s[k] = size(FIELDS[k], c(k), i)?;
        }
        s[11] = match c(11) {
            v if v.is_finite() && v >= 0.0 && v.fract() == 0.0 => v,
            value => {
                return Err(Error::Invalid {
                    argument: FIELDS[11],
                    value,
                    requirement: "a whole number >= 0",
                    index: Some(i),
                })
            }
        };
        if s[3] % s[5] != 0.0 {
            return Err(Error::Invalid {
                argument: "n_kv_heads",
                value: s[5],
                requirement: "a divisor of n_heads",
                index: Some(i),
            });
        }
        Ok(Shape {
            vocab: s[0],
            d_model: s[1],
            n_layers: s[2],
            n_heads: s[3],
            head_dim: s[4],
            n_kv_heads: s[5],
            d_ff: s[6],
            gated: flag(7)?,
            tied: flag(8)?,
            seq_len: s[9],
            batch_size: s[10],
            extra_params: s[11],
        })
    }
}

/// Output columns of [`counts_batch`]: ((params, flops), (memcpy elements, activation elements)).
pub type CountOutputs<'a> = (
    (&'a mut [f64], &'a mut [f64]),
    (&'a mut [f64], &'a mut [f64]),
);

/// [`Shape::counts`] for every row; invalid rows are an error (shapes are built, not measured).
pub fn counts_batch(
    shapes: &ShapeColumns<'_>,
    parallel: Option<bool>,
    out: CountOutputs<'_>,
) -> Result<()> {
    let n = out.0 .0.len();
    let kernel = |start: usize, ((p, f), (m, a)): CountOutputs<'_>| {
        for j in 0..p.len() {
            match shapes.get(start + j) {
                Ok(s) => {
                    let c = s.counts();
                    (p[j], f[j], m[j], a[j]) =
                        (c.params, c.flops, c.memcpy_elements, c.activation_elements);
                }
                Err(e) => return Some(e),
            }
        }
        None
    };
    drive(out, use_parallel(n, parallel), &kernel)
}

#[cfg(test)]
pub(crate) mod tests;
