use super::*;

/// Llama-2-7B, for this module's tests and the serving ones.
pub(crate) fn llama2_7b() -> Shape {
    Shape {
        vocab: 32000.0,
        d_model: 4096.0,
        n_layers: 32.0,
        n_heads: 32.0,
        head_dim: 128.0,
        n_kv_heads: 32.0,
        d_ff: 11008.0,
        gated: true,
        tied: false,
        seq_len: 4096.0,
        batch_size: 1.0,
        extra_params: 0.0,
    }
}

#[test]
fn known_parameter_counts() {
    assert!((llama2_7b().params() / 6.738e9 - 1.0).abs() < 1e-3);
    // Llama-3-8B: grouped-query attention (8 KV heads), vocabulary 128256.
    let llama3 = Shape {
        vocab: 128256.0,
        n_kv_heads: 8.0,
        d_ff: 14336.0,
        ..llama2_7b()
    };
    assert!(
        (llama3.params() / 8.03e9 - 1.0).abs() < 5e-3,
        "{}",
        llama3.params()
    );
    // Gemma-2B: tied embeddings, one KV head, head size 256, vocabulary 256000.
    let gemma = Shape {
        vocab: 256000.0,
        d_model: 2048.0,
        n_layers: 18.0,
        n_heads: 8.0,
        head_dim: 256.0,
        n_kv_heads: 1.0,
        d_ff: 16384.0,
        tied: true,
        ..llama2_7b()
    };
    assert!(
        (gemma.params() / 2.506e9 - 1.0).abs() < 5e-3,
        "{}",
        gemma.params()
    );
}

#[test]
fn flops_per_token_match_6n_plus_attention() {
    // 6 N per token (the embedding gather costs nothing, the untied output matrix does)
    // plus 12 L S h d_h for attention; within 2% for a large model.
    let s = Shape {
        d_model: 8192.0,
        n_layers: 80.0,
        n_heads: 64.0,
        n_kv_heads: 8.0,
        d_ff: 28672.0,
        ..llama2_7b()
    };
    let c = s.counts();
    let t = s.seq_len * s.batch_size;
    let approx = 6.0 * c.params + 12.0 * s.n_layers * s.seq_len * s.n_heads * s.head_dim;
    assert!((c.flops / t / approx - 1.0).abs() < 0.02);
}

#[test]
fn invalid_rows_are_named() {
    let ones = [1.0];
    let mut cols = [&ones[..]; 12];
    let bad = [2.5];
    cols[1] = &bad;
    let shapes = ShapeColumns::new(cols, 1).unwrap();
    assert!(shapes
        .get(0)
        .unwrap_err()
        .to_string()
        .starts_with("d_model must be a positive integer"));
    let (h, kv) = ([4.0], [3.0]);
    let mut cols = [&ones[..]; 12];
    cols[3] = &h;
    cols[5] = &kv;
    let e = ShapeColumns::new(cols, 1)
        .unwrap()
        .get(0)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("n_kv_heads must be a divisor of n_heads"),
        "{e}"
    );
    // Extra parameters may be 0, never negative or fractional.
    for (v, ok) in [
        (0.0, true),
        (5.0, true),
        (-1.0, false),
        (0.5, false),
        (f64::NAN, false),
    ] {
        let extra = [v];
        let mut cols = [&ones[..]; 12];
        cols[11] = &extra;
        let got = ShapeColumns::new(cols, 1).unwrap().get(0);
        assert_eq!(got.is_ok(), ok, "{v}");
        if let Ok(s) = got {
            let plain = Shape {
                extra_params: 0.0,
                ..s
            };
            assert_eq!(s.params() - plain.params(), v);
            assert_eq!(s.counts().flops, plain.counts().flops);
        }
    }
}

/// A shape small enough to count by hand: every size differs, so a swapped factor shows.
fn tiny(gated: bool) -> Shape {
    Shape {
        vocab: 10.0,
        d_model: 4.0,
        n_layers: 1.0,
        n_heads: 2.0,
        head_dim: 2.0,
        n_kv_heads: 1.0,
        d_ff: 8.0,
        gated,
        tied: false,
        seq_len: 3.0,
        batch_size: 1.0,
        extra_params: 0.0,
    }
}

#[test]
fn a_tiny_shape_counted_by_hand() {
    // T = 3 tokens, Q width 4, KV width 2, 2 x 3 x 3 = 18 scores. Forward FLOPs: 2 T times
    // the layer's matmul parameters (16 + 8 + 8 for Q, K, V; 16 output; 64 or 96 MLP), 4 x
    // 18 x 2 for QK^T and PV, 2 x 3 x 4 x 10 = 240 for the logits; backward twice that.
    let plain = tiny(false).counts();
    assert_eq!(plain.flops, 3.0 * (2.0 * 3.0 * 112.0 + 144.0 + 240.0));
    let gated = tiny(true).counts();
    assert_eq!(gated.flops, 3.0 * (2.0 * 3.0 * 144.0 + 144.0 + 240.0));
    // Parameters: 112 or 144 in the layer, 40 output, 40 embedding, 2 x 4 + 4 norm weights.
    assert_eq!(plain.params, 204.0);
    assert_eq!(gated.params, 236.0);
    // Forward traffic, op by op: norms 2 x 28, QKV 68, QK^T 36, softmax 36, PV 36, output
    // 40, residuals 2 x 36, up 68, activation 48, down 68 = 528 in the layer; embedding 24,
    // final norm 28, logits 82, loss 63 = 197 in the head. The gate adds 2 x 4 x 8 weights
    // and 3 x 8 outputs to "up" and 3 x 8 inputs to the activation: 80 more.
    assert_eq!(plain.memcpy_elements, 3.0 * (528.0 + 197.0) + 8.0 * 204.0);
    assert_eq!(gated.memcpy_elements, 3.0 * (608.0 + 197.0) + 8.0 * 236.0);
    // Activations kept: 24 norm outputs, 24 QKV, 36 scores and probabilities, 12 attention
    // output, 12 projection, 24 residuals, 24 up (48 gated), 24 activated, 12 down = 192
    // (216); head 12 + 12 + 30 + 30 + 3 = 87.
    assert_eq!(plain.activation_elements, 192.0 + 87.0);
    assert_eq!(gated.activation_elements, 216.0 + 87.0);
}
