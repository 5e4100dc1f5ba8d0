use super::*;

/// Columns of a one-row batch: every size 1, no experts or latent (the dense defaults).
fn unit_columns() -> [&'static [f64]; 21] {
    let mut cols: [&'static [f64]; 21] = [&[1.0]; 21];
    for k in [11, 15, 16, 17, 18, 19] {
        cols[k] = &[0.0];
    }
    cols
}

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
        experts: Experts::DENSE,
        latent: Latent::NONE,
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
    let mut cols = unit_columns();
    let bad = [2.5];
    cols[1] = &bad;
    let shapes = ShapeColumns::new(cols, 1).unwrap();
    assert!(shapes
        .get(0)
        .unwrap_err()
        .to_string()
        .starts_with("d_model must be a positive integer"));
    let (h, kv) = ([4.0], [3.0]);
    let mut cols = unit_columns();
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
        let mut cols = unit_columns();
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
        experts: Experts::DENSE,
        latent: Latent::NONE,
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

/// Mixtral-8x7B (its config.json): 8 experts of width 14336, two a token, in all 32 layers.
pub(crate) fn mixtral_8x7b() -> Shape {
    Shape {
        n_kv_heads: 8.0,
        d_ff: 14336.0,
        experts: Experts {
            routed: 8.0,
            per_token: 2.0,
            d_ff: 14336.0,
            shared_d_ff: 0.0,
            layers: 32.0,
        },
        ..llama2_7b()
    }
}

#[test]
fn mixtral_total_and_active_parameters() {
    // Published: 46.7B total, 12.9B active. By hand: attention 4096 x (4096 + 2 x 1024) +
    // 4096 x 4096, experts 3 x 4096 x 14336 each, router 4096 x 8, per layer; two 32000 x
    // 4096 embeddings; norms 2 x 4096 per layer and the final one.
    let attention = 4096.0 * (4096.0 + 2048.0) + 4096.0 * 4096.0;
    let expert = 3.0 * 4096.0 * 14336.0;
    let rest = 2.0 * 32000.0 * 4096.0 + 65.0 * 4096.0;
    let s = mixtral_8x7b();
    assert_eq!(
        s.params(),
        32.0 * (attention + 8.0 * expert + 4096.0 * 8.0) + rest
    );
    assert_eq!(
        s.active_params(),
        32.0 * (attention + 2.0 * expert + 4096.0 * 8.0) + rest
    );
    assert!((s.params() / 46.7e9 - 1.0).abs() < 5e-3, "{}", s.params());
    assert!((s.active_params() / 12.9e9 - 1.0).abs() < 5e-3);
    // FLOPs follow the active parameters: per token 6 N_active less the embedding's
    // gather, plus attention, as for a dense model of the active size.
    let c = s.counts();
    let t = s.seq_len * s.batch_size;
    let dense = 6.0 * (s.active_params() - s.embedding_params() - s.norm_params());
    let attention_flops = 12.0 * s.n_layers * s.seq_len * s.n_heads * s.head_dim;
    assert_eq!(c.flops / t, dense + attention_flops);
}

#[test]
fn one_expert_is_the_dense_model() {
    // An MoE layer of one expert of the dense width, taken by every token, is the dense
    // MLP plus a d x 1 router and its dispatch: the parameters differ by the routers only.
    let dense = llama2_7b();
    let one = Shape {
        experts: Experts {
            routed: 1.0,
            per_token: 1.0,
            d_ff: dense.d_ff,
            shared_d_ff: 0.0,
            layers: dense.n_layers,
        },
        ..dense
    };
    assert_eq!(one.params() - dense.params(), 32.0 * 4096.0);
    assert_eq!(one.params(), one.active_params());
    let shared_only = Shape {
        experts: Experts {
            routed: 4.0,
            per_token: 1.0,
            d_ff: 1000.0,
            shared_d_ff: 11008.0,
            layers: 0.0,
        },
        ..dense
    };
    // No MoE layer: the expert fields are unread.
    assert_eq!(shared_only.counts(), dense.counts());
}

/// DeepSeek-V3 (its config.json), as the test below describes it.
pub(crate) fn deepseek_v3() -> Shape {
    Shape {
        vocab: 129280.0,
        d_model: 7168.0,
        n_layers: 61.0,
        n_heads: 128.0,
        head_dim: 192.0,
        n_kv_heads: 128.0,
        d_ff: 18432.0,
        experts: Experts {
            routed: 256.0,
            per_token: 8.0,
            d_ff: 2048.0,
            shared_d_ff: 2048.0,
            layers: 58.0,
        },
        latent: Latent {
            kv_rank: 512.0,
            q_rank: 1536.0,
            rope_dim: 64.0,
            v_head_dim: 128.0,
        },
        ..llama2_7b()
    }
}

#[test]
fn deepseek_v3_latent_attention_and_shared_experts() {
    // DeepSeek-V3 (its config.json): 61 layers, the first 3 dense (d_ff 18432), 58 with
    // 256 routed experts of width 2048, 8 a token, and one shared of 2048; latent
    // attention with q rank 1536, kv rank 512, rotary 64, heads 128 x (128 + 64), values
    // 128. Published (its README_WEIGHTS): 671B total without the multi-token-prediction
    // module, and 36.6B active counting the output head but not the input embedding.
    let v3 = deepseek_v3();
    // Attention by hand: 7168 x 1536 + 1536 x 128 x 192 (queries), 7168 x 576 (latent and
    // rotary key), 512 x 128 x 256 (keys' no-rotary part and values), 128 x 128 x 7168.
    let attention = 7168.0 * 1536.0
        + 1536.0 * 128.0 * 192.0
        + 7168.0 * 576.0
        + 512.0 * 128.0 * 256.0
        + 128.0 * 128.0 * 7168.0;
    assert_eq!(v3.attention_params(), attention);
    assert!((v3.params() / 671e9 - 1.0).abs() < 5e-3, "{}", v3.params());
    let active = v3.active_params() - v3.embedding_params();
    assert!((active / 36.6e9 - 1.0).abs() < 5e-3, "{active}");
}

#[test]
fn latent_and_expert_fields_are_checked() {
    let row = |k: usize, v: f64| {
        let value = [v];
        let mut cols = unit_columns();
        cols[k] = &value;
        let shapes = ShapeColumns::new(cols, 1).unwrap();
        shapes.get(0).map(|_| ()).map_err(|e| e.to_string())
    };
    assert!(row(13, 2.0).unwrap_err().starts_with("experts_per_token"));
    assert!(row(16, 2.0).unwrap_err().contains("at most n_layers"));
    assert!(row(18, 1.0).unwrap_err().starts_with("q_lora_rank"));
    assert!(row(19, 1.0).unwrap_err().starts_with("rope_head_dim"));
    assert!(row(12, 0.0).unwrap_err().starts_with("experts must be"));
    assert!(row(15, -1.0).unwrap_err().starts_with("shared_d_ff"));
    assert!(row(17, 1.0).is_ok());
    assert!(row(20, 0.5).unwrap_err().starts_with("v_head_dim"));
}
