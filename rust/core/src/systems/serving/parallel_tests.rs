//! The group layouts of `parallel`: expert parallelism, attention data parallelism.

use super::tests_support::{ideal, load, rel};
use super::*;
use crate::arch::tests::{deepseek_v3, llama2_7b, mixtral_8x7b};

fn data_parallel(batch: f64, tokens: f64, tp: f64) -> Load {
    Load {
        expert_parallel: tp,
        attention_data_parallel: true,
        ..load(batch, tokens, tp)
    }
}

#[test]
fn expert_parallelism_alone_costs_what_tensor_parallelism_does() {
    // Uniform routing: a GPU holding E / ep whole experts stores and reads, in expectation,
    // the same bytes as one holding a 1 / tp slice of each, and sums by the same all-reduce.
    let (s, g) = (mixtral_8x7b(), ideal());
    for (b, ep) in [(1.0, 2.0), (64.0, 4.0), (256.0, 8.0)] {
        let tp = load(b, 1024.0, 8.0);
        let ep = Load {
            expert_parallel: ep,
            ..tp
        };
        let at = |l: &Load| g.step(&s, l, Phase::Decode, None).unwrap();
        assert_eq!(at(&tp), at(&ep));
    }
}

#[test]
fn a_dense_model_under_data_parallel_attention_is_replicas() {
    // No routed expert: every GPU holds the whole model and a quarter of the sequences, so
    // a group of four at batch 4b runs each GPU's step as one GPU at batch b, and holds
    // four times one GPU's batch.
    // Also in compute: a GPU's matmuls multiply its own sequences' rows, so the
    // small-matmul ramp is one GPU's (a compute-bound prefill shows it).
    let s = llama2_7b();
    let g = Gpu {
        gemm_half_tokens: 500.0,
        ..ideal()
    };
    for (phase, tokens) in [(Phase::Decode, 2048.0), (Phase::Prefill, 128.0)] {
        let dense = |b: f64| Load {
            attention_data_parallel: true,
            ..load(b, tokens, 4.0)
        };
        let group = g.step(&s, &dense(64.0), phase, None).unwrap();
        let one = g.step(&s, &load(16.0, tokens, 1.0), phase, None).unwrap();
        assert_eq!(group.comm_seconds, 0.0);
        assert!(rel(group.seconds, one.seconds) < 1e-12, "{phase:?}");
        assert!(rel(group.bytes, one.bytes) < 1e-12);
        assert!(rel(group.tokens_per_second, one.tokens_per_second) < 1e-12);
        assert_eq!(group.max_batch, 4.0 * one.max_batch);
    }
    let prefill = g
        .step(&s, &load(16.0, 128.0, 1.0), Phase::Prefill, None)
        .unwrap();
    assert!(!prefill.memory_bound);
}

#[test]
fn mixtral_data_parallel_by_hand() {
    // Mixtral on 8 GPUs, one expert each, two a token: a token reaches 2 distinct GPUs, its
    // own with chance 2/8, so 1.75 others. Decode of 64 sequences at 1024 context: each
    // GPU sends 8 tokens x 1.75 x 4096 x 2 bytes twice in each of 32 layers, waits 64
    // latencies, and reads every weight but the routed experts and the input embedding,
    // the experts its 64 tokens touch (1 - (6/8)^64 of its one each layer), and 8
    // sequences' cache of all 8 KV heads.
    let s = mixtral_8x7b();
    let g = Gpu {
        collective_latency: 1e-5,
        ..ideal()
    };
    let step = g
        .step(&s, &data_parallel(64.0, 1024.0, 8.0), Phase::Decode, None)
        .unwrap();
    let sent = 8.0 * 1.75 * 4096.0 * 2.0;
    let comm = 64.0 * (sent / g.link_bandwidth + 1e-5);
    assert!(rel(step.comm_seconds, comm) < 1e-12);
    let expert = 3.0 * 4096.0 * 14336.0;
    let attention = 4096.0 * (4096.0 + 2048.0) + 4096.0 * 4096.0;
    let rest = 32.0 * (attention + 4096.0 * 8.0) + 32000.0 * 4096.0 + 65.0 * 4096.0;
    let touched = 1.0 - 0.75_f64.powi(64);
    let cache = 8.0 * 1024.0 * 32.0 * 8.0 * 256.0 * 2.0;
    let read = 2.0 * (rest + 32.0 * touched * expert) + cache;
    assert!(rel(step.bytes, read) < 1e-12, "{} {read}", step.bytes);
    // The same FLOPs per GPU as tensor parallelism: the batch's, split eight ways.
    let tp = g
        .step(&s, &load(64.0, 1024.0, 8.0), Phase::Decode, None)
        .unwrap();
    assert!(rel(step.flops, tp.flops) < 1e-12);
}

#[test]
fn latent_attention_caches_once_under_data_parallel_attention() {
    // DeepSeek-V3's latent cache is whole on every GPU of a tensor-parallel group, so at
    // tp 8 each GPU holds every sequence's; with attention data parallel it holds an
    // eighth of them. Its replicated attention and shared weights cost room instead.
    let (s, g) = (
        deepseek_v3(),
        Gpu {
            memory: 141e9,
            ..ideal()
        },
    );
    let fp8 = |l: Load| Load {
        weight_bytes: 1.0,
        edge_bytes: 1.0,
        ..l
    };
    let tp = fp8(load(64.0, 4096.0, 8.0));
    let dp = fp8(data_parallel(64.0, 4096.0, 8.0));
    let (a, b) = (
        g.step(&s, &tp, Phase::Decode, None).unwrap(),
        g.step(&s, &dp, Phase::Decode, None).unwrap(),
    );
    let cache = |l: &Load| parallel::sequences_per_gpu(l) * 4096.0 * kv_bytes_per_token(&s, l);
    assert!(rel(cache(&tp), 8.0 * cache(&dp)) < 1e-12);
    let per_token = 61.0 * (512.0 + 64.0) * 2.0;
    assert!(rel(cache(&dp), 8.0 * 4096.0 * per_token) < 1e-12);
    assert!(
        b.max_batch > 4.0 * a.max_batch,
        "{} {}",
        a.max_batch,
        b.max_batch
    );
    assert_eq!(b.max_batch % 8.0, 0.0);
    // 61 all-reduce pairs replaced by 58 dispatch-combine pairs: 1 - (C(224, 8) / C(256, 8))
    // of each other GPU is reached.
    let missed: f64 = (0..8)
        .map(|i| (224.0 - i as f64) / (256.0 - i as f64))
        .product();
    assert!(rel(parallel::other_gpus_reached(&s, 8.0), 7.0 * (1.0 - missed)) < 1e-12);
    assert!(b.comm_seconds < a.comm_seconds);
}

#[test]
fn layouts_the_group_cannot_take_are_named() {
    let row = |l: Load| {
        let mut cols: [Vec<f64>; 23] = std::array::from_fn(|_| vec![1.0]);
        let values = [
            l.batch,
            l.tokens,
            l.tensor_parallel,
            2.0,
            2.0,
            989e12,
            3.35e12,
            80e9,
            450e9,
            1.0,
            1.0,
            0.0,
            0.9,
            0.0,
            2.0,
            0.0,
            1.0,
            0.0,
            0.0,
            0.0,
            1.0,
            l.expert_parallel,
            f64::from(u8::from(l.attention_data_parallel)),
        ];
        for (c, v) in cols.iter_mut().zip(values) {
            c[0] = v;
        }
        cols
    };
    let check = |shape: Shape, l: Load| -> std::result::Result<(), String> {
        let cols = row(l);
        let data: [&[f64]; 23] = std::array::from_fn(|k| cols[k].as_slice());
        let columns = ServingColumns::new(data, 1).map_err(|e| e.to_string())?;
        let (load, _) = columns.get(0).map_err(|e| e.to_string())?;
        columns::check_layout(&shape, &load, 0).map_err(|e| e.to_string())
    };
    let m = mixtral_8x7b();
    let ep = |e: f64, tp: f64| Load {
        expert_parallel: e,
        ..load(8.0, 128.0, tp)
    };
    assert!(check(m, ep(8.0, 8.0)).is_ok());
    assert!(check(m, ep(16.0, 16.0))
        .unwrap_err()
        .starts_with("expert_parallel"));
    assert!(check(m, ep(4.0, 2.0))
        .unwrap_err()
        .contains("dividing tensor_parallel"));
    assert!(check(m, ep(1.5, 3.0))
        .unwrap_err()
        .starts_with("expert_parallel"));
    assert!(check(llama2_7b(), ep(2.0, 2.0))
        .unwrap_err()
        .contains("dense"));
    let dp = |e: f64| Load {
        attention_data_parallel: true,
        ..ep(e, 8.0)
    };
    assert!(check(m, dp(4.0))
        .unwrap_err()
        .contains("attention_data_parallel"));
    assert!(check(m, dp(8.0)).is_ok());
    // Data-parallel attention keeps whole heads on a GPU: any group size divides them.
    let odd = Load {
        attention_data_parallel: true,
        ..load(8.0, 128.0, 3.0)
    };
    assert!(check(llama2_7b(), odd).is_ok());
    assert!(check(llama2_7b(), load(8.0, 128.0, 3.0))
        .unwrap_err()
        .starts_with("tensor_parallel"));
    let mut bad = row(dp(8.0));
    bad[22][0] = 0.5;
    let data: [&[f64]; 23] = std::array::from_fn(|k| bad[k].as_slice());
    let columns = ServingColumns::new(data, 1).unwrap();
    let e = columns.get(0).unwrap_err();
    assert_eq!(e.argument(), Some("attention_data_parallel"));
}

#[test]
fn each_expert_multiplies_only_its_own_tokens() {
    // Mixtral prefill of one 4096-token prompt: all 8 experts are reached, each by 4096 x
    // 2 / 8 = 1024 tokens, so the experts' FLOPs (2 x 4096 x 2 experts x 3 x 4096 x 14336
    // x 32 layers) run at the ramp of 1024 tokens and the rest at that of 4096.
    let s = mixtral_8x7b();
    let g = Gpu {
        gemm_half_tokens: 500.0,
        memory: 400e9,
        ..ideal()
    };
    let step = g
        .step(&s, &load(1.0, 4096.0, 1.0), Phase::Prefill, None)
        .unwrap();
    assert!(!step.memory_bound);
    let routed = 2.0 * 4096.0 * 2.0 * 3.0 * 4096.0 * 14336.0 * 32.0;
    let ramp = |m: f64| m / (m + 500.0);
    let compute =
        (step.flops - routed) / (g.peak * ramp(4096.0)) + routed / (g.peak * ramp(1024.0));
    assert!(
        rel(step.seconds, compute) < 1e-12,
        "{} {compute}",
        step.seconds
    );
    // A dense model of the same active matmuls runs all of them at the step's ramp.
    let dense = g
        .step(&llama2_7b(), &load(1.0, 4096.0, 1.0), Phase::Prefill, None)
        .unwrap();
    assert!(rel(dense.seconds, dense.flops / (g.peak * ramp(4096.0))) < 1e-12);
}
