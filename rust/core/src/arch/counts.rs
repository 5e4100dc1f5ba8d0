//! What one training step of a [`Shape`] costs, op by op: each op's FLOPs, the elements it
//! reads and the elements it writes (every write is kept for the backward pass: no
//! recomputation).

use super::Shape;

/// What one training step of a shape costs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Counts {
    /// Every parameter, each expert included.
    pub params: f64,
    /// The parameters one token uses (all of them in a dense model).
    pub active_params: f64,
    /// Forward + backward FLOPs per step.
    pub flops: f64,
    /// Elements read and written per step (forward, backward, optimizer).
    pub memcpy_elements: f64,
    /// Elements the forward writes and backward needs (activations kept, no recomputation).
    pub activation_elements: f64,
}

/// A running sum over the forward pass's ops.
#[derive(Default)]
struct Tally {
    flops: f64,
    read: f64,
    written: f64,
}

impl Tally {
    /// An `rows x inner` by `inner x cols` product.
    fn matmul(&mut self, rows: f64, inner: f64, cols: f64) {
        self.flops += 2.0 * rows * inner * cols;
        self.read += rows * inner + inner * cols;
        self.written += rows * cols;
    }

    fn elementwise(&mut self, read: f64, written: f64) {
        self.read += read;
        self.written += written;
    }

    /// An RMSNorm of `rows` vectors of `width`: the vectors and the weight in, `rows` out.
    fn norm(&mut self, rows: f64, width: f64) {
        self.elementwise(rows * width + width, rows * width);
    }

    /// `self + times * other`, for ops repeated layer by layer.
    fn add(&mut self, other: &Tally, times: f64) {
        self.flops += times * other.flops;
        self.read += times * other.read;
        self.written += times * other.written;
    }
}

impl Shape {
    /// Parameters, FLOPs and traffic of one step.
    pub fn counts(&self) -> Counts {
        let t = self.batch_size * self.seq_len;
        let mut forward = Tally::default();
        forward.add(&self.layer_common(t), self.n_layers);
        let moe_layers = self.experts.layers;
        forward.add(&self.dense_mlp(t), self.n_layers - moe_layers);
        if moe_layers > 0.0 {
            forward.add(&self.moe_mlp(t), moe_layers);
        }
        forward.add(&self.head(t), 1.0);
        let params = self.params();
        // Adam: read parameter, gradient, two moments; write parameter and two moments; and
        // zero the gradient: 8 elements per parameter.
        let optimizer = 8.0 * params;
        Counts {
            params,
            active_params: self.active_params(),
            flops: 3.0 * forward.flops,
            memcpy_elements: 3.0 * (forward.read + forward.written) + optimizer,
            activation_elements: forward.written,
        }
    }

    /// A layer's ops but its MLP: the norms, attention, the residual adds and the MLP's
    /// input norm. Attention's two S x S products per head (QK^T and PV) run over the whole
    /// square, causal mask not exploited.
    fn layer_common(&self, t: f64) -> Tally {
        let (d, h, hd, v) = (self.d_model, self.n_heads, self.head_dim, self.v_head_dim());
        let scores = self.batch_size * h * self.seq_len * self.seq_len;
        let mut x = Tally::default();
        x.norm(t, d);
        let key_width = self.project_qkv(&mut x, t);
        let value_width = key_width / hd * v;
        x.flops += 2.0 * scores * hd; // Q K^T
        x.elementwise(t * h * hd + t * key_width, scores);
        x.elementwise(scores, scores); // softmax
        x.flops += 2.0 * scores * v; // P V
        x.elementwise(scores + t * value_width, t * h * v);
        x.matmul(t, h * v, d); // output projection
        x.elementwise(2.0 * t * d, t * d); // residual
        x.norm(t, d); // the MLP's input
        x.elementwise(2.0 * t * d, t * d); // residual
        x
    }

    /// Queries, keys and values from the normed input; returns the keys' width per token
    /// (KV heads x head_dim; every head's under latent attention, whose keys are rebuilt).
    fn project_qkv(&self, x: &mut Tally, t: f64) -> f64 {
        let (d, h, hd, v) = (self.d_model, self.n_heads, self.head_dim, self.v_head_dim());
        let l = &self.latent;
        if l.kv_rank == 0.0 {
            let kv = self.n_kv_heads;
            x.matmul(t, d, h * hd + kv * (hd + v)); // fused Q, K, V
            return kv * hd;
        }
        if l.q_rank > 0.0 {
            x.matmul(t, d, l.q_rank);
            x.norm(t, l.q_rank);
            x.matmul(t, l.q_rank, h * hd);
        } else {
            x.matmul(t, d, h * hd);
        }
        x.matmul(t, d, l.kv_rank + l.rope_dim); // the latent and the shared rotary key
        x.norm(t, l.kv_rank);
        x.matmul(t, l.kv_rank, h * (hd - l.rope_dim + v)); // every head's key and value
        h * hd
    }

    /// An MLP of hidden width `width` run on `rows` token vectors, its weights stored
    /// `copies` times over (once per expert: all are read).
    fn mlp(&self, rows: f64, width: f64, copies: f64) -> Tally {
        let d = self.d_model;
        let up = self.mlp_matrices() - 1.0; // up (and gate) projections
        let mut x = Tally::default();
        x.matmul(rows, d, up * width);
        x.read += (copies - 1.0) * up * d * width;
        x.elementwise(up * rows * width, rows * width); // activation (times the gate)
        x.matmul(rows, width, d);
        x.read += (copies - 1.0) * width * d;
        x
    }

    fn dense_mlp(&self, t: f64) -> Tally {
        self.mlp(t, self.d_ff, 1.0)
    }

    /// An MoE layer's MLP: the router's logits and probabilities, each token copied to its
    /// `k` experts, the experts run on `k T` rows (every expert's weights read: a training
    /// batch reaches all of them), the shared experts on `T`, and the weighted sum back.
    fn moe_mlp(&self, t: f64) -> Tally {
        let (d, e) = (self.d_model, &self.experts);
        let routed_rows = e.per_token * t;
        let mut x = Tally::default();
        x.matmul(t, d, e.routed);
        x.elementwise(t * e.routed, t * e.routed); // softmax and top-k
        x.elementwise(routed_rows * d, routed_rows * d); // dispatch
        x.add(&self.mlp(routed_rows, e.d_ff, e.routed), 1.0);
        let mut combined = routed_rows * d + routed_rows; // outputs and their weights
        if e.shared_d_ff > 0.0 {
            x.add(&self.mlp(t, e.shared_d_ff, 1.0), 1.0);
            combined += t * d;
        }
        x.elementwise(combined, t * d);
        x
    }

    /// Embedding gather, final norm, logits, and the softmax cross-entropy (logits in,
    /// probabilities out for the backward, one loss per token).
    fn head(&self, t: f64) -> Tally {
        let (d, vocab) = (self.d_model, self.vocab);
        let mut x = Tally::default();
        x.elementwise(t * d, t * d);
        x.norm(t, d);
        x.matmul(t, d, vocab);
        x.elementwise(t * vocab, t * vocab + t);
        x
    }
}
