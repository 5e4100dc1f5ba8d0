use super::*;
use crate::arch::tests::llama2_7b;

fn llama2_70b() -> Shape {
    Shape {
        d_model: 8192.0,
        n_layers: 80.0,
        n_heads: 64.0,
        n_kv_heads: 8.0,
        d_ff: 28672.0,
        ..llama2_7b()
    }
}

use super::tests_support::{ideal, load, rel};

#[test]
fn batch_one_decode_reads_the_weights_once_per_token() {
    let (s, g) = (llama2_7b(), ideal());
    let step = g
        .step(&s, &load(1.0, 0.0, 1.0), Phase::Decode, None)
        .unwrap();
    let weights = (s.params() - s.vocab * s.d_model) * 2.0;
    assert!(step.memory_bound);
    assert!(rel(1.0 / step.seconds, g.bandwidth / weights) < 1e-12);
    assert_eq!(step.comm_seconds, 0.0);
}

#[test]
fn the_crossover_batch_is_peak_bytes_over_twice_the_bandwidth() {
    // With no KV cache the compute and memory times meet at b = peak W / (2 bw P_mm), which
    // is peak * bytes per weight / (2 bw) up to the norms' share of the weights.
    let (s, g) = (llama2_7b(), ideal());
    let crossover = g.peak * 2.0 / (2.0 * g.bandwidth);
    let exact =
        g.peak * (s.params() - s.vocab * s.d_model) * 2.0 / (2.0 * g.bandwidth) / s.matmul_params();
    assert!(rel(exact, crossover) < 1e-3, "{exact} {crossover}");
    let at = |b: f64| g.step(&s, &load(b, 0.0, 1.0), Phase::Decode, None).unwrap();
    assert!(at(exact.floor()).memory_bound);
    assert!(!at(exact.ceil() + 1.0).memory_bound);
    // Below it the step time is flat, so the implied MFU 2 N b / (t peak) grows linearly.
    let mfu = |b: f64| 2.0 * s.params() * b / (at(b).seconds * g.peak);
    for b in [1.0, 10.0, 100.0] {
        assert!(rel(mfu(2.0 * b), 2.0 * mfu(b)) < 1e-12, "{b}");
    }
    assert!(mfu(2.0 * exact.ceil()) < 1.9 * mfu(exact.ceil()));
}

#[test]
fn the_kv_cache_fills_memory_at_max_batch() {
    let (s, g) = (llama2_7b(), ideal());
    let l = load(1.0, 4095.0, 1.0);
    let max = g.max_batch(&s, &l, Phase::Decode, None).unwrap();
    let used = |b: f64| s.params() * 2.0 + b * 4096.0 * 2.0 * 32.0 * 32.0 * 128.0 * 2.0;
    assert!(used(max) <= 0.9 * g.memory && used(max + 1.0) > 0.9 * g.memory);
    assert!(max > 10.0 && max < 100.0, "{max}");
    let over = g.step(&s, &load(max + 1.0, 4095.0, 1.0), Phase::Decode, Some(3));
    let e = over.unwrap_err();
    assert_eq!((e.argument(), e.index()), (Some("batch_size"), Some(3)));
}

#[test]
fn a_model_too_big_for_its_gpus_is_named() {
    let (s, g) = (llama2_70b(), ideal());
    let e = g
        .step(&s, &load(1.0, 128.0, 1.0), Phase::Decode, None)
        .unwrap_err();
    assert_eq!(e.argument(), Some("tensor_parallel"));
    assert!(e.to_string().contains("do not fit"), "{e}");
    let two = g.step(&s, &load(1.0, 128.0, 2.0), Phase::Decode, None);
    assert!(two.is_ok());
}

#[test]
fn tensor_parallelism_splits_the_work_and_pays_for_its_links() {
    let (s, g) = (llama2_70b(), ideal());
    let a = g
        .step(&s, &load(64.0, 2048.0, 4.0), Phase::Decode, None)
        .unwrap();
    let b = g
        .step(&s, &load(64.0, 2048.0, 8.0), Phase::Decode, None)
        .unwrap();
    assert!(rel(a.flops, 2.0 * b.flops) < 1e-12);
    // 8 KV heads: one per GPU at tp 8, two at tp 4; the weights halve too.
    assert!(rel(a.bytes, 2.0 * b.bytes) < 1e-12);
    let reduce = |tp: f64| 4.0 * 80.0 * (tp - 1.0) / tp * 64.0 * 8192.0 * 2.0 / g.link_bandwidth;
    assert!(rel(a.comm_seconds, reduce(4.0)) < 1e-12);
    assert!(rel(b.comm_seconds, reduce(8.0)) < 1e-12);
    // More GPUs than KV heads: the heads are replicated, the KV bytes stop shrinking.
    let c = g
        .step(&s, &load(64.0, 2048.0, 16.0), Phase::Decode, None)
        .unwrap();
    let kv = 64.0 * 2048.0 * 2.0 * 80.0 * 128.0 * 2.0;
    assert!(rel(c.bytes - kv, (b.bytes - kv) / 2.0) < 1e-12);
    // Each of the 160 all-reduces waits its latency on a group, never on one GPU.
    let slow = Gpu {
        collective_latency: 1e-4,
        ..g
    };
    let d = slow
        .step(&s, &load(64.0, 2048.0, 4.0), Phase::Decode, None)
        .unwrap();
    assert!(rel(d.comm_seconds - a.comm_seconds, 160.0 * 1e-4) < 1e-12);
    assert!(rel(d.seconds - a.seconds, 160.0 * 1e-4) < 1e-12);
    let one = |gpu: Gpu| gpu.step(&llama2_7b(), &load(8.0, 512.0, 1.0), Phase::Decode, None);
    assert_eq!(one(slow).unwrap(), one(g).unwrap());
}

#[test]
fn prefill_is_compute_bound_for_long_prompts() {
    let (s, g) = (llama2_7b(), ideal());
    let step = g
        .step(&s, &load(1.0, 2048.0, 1.0), Phase::Prefill, None)
        .unwrap();
    assert!(!step.memory_bound);
    let matmuls = 2.0 * 2048.0 * (s.matmul_params() - 32000.0 * 4096.0) + 2.0 * 32000.0 * 4096.0;
    let attention = 2.0 * 2048.0 * 2048.0 * 32.0 * 32.0 * 128.0;
    assert!(rel(step.flops, matmuls + attention) < 1e-12);
    assert!(rel(step.seconds, step.flops / g.peak) < 1e-12);
}

#[test]
fn the_latency_target_takes_the_largest_batch_that_meets_it() {
    let s = llama2_7b();
    let g = Gpu {
        compute_efficiency: 0.6,
        memory_efficiency: 0.8,
        overhead: 2e-3,
        ..ideal()
    };
    let l = load(1.0, 1024.0, 1.0);
    for target in [0.008, 0.012, 0.02, 0.05] {
        let b = g
            .batch_for_latency(&s, &l, Phase::Decode, target, None)
            .unwrap();
        let at = |b: f64| g.step(&s, &load(b, 1024.0, 1.0), Phase::Decode, None);
        assert!(at(b).unwrap().seconds <= target, "{target}");
        match at(b + 1.0) {
            Ok(next) => assert!(next.seconds > target, "{target}"),
            Err(e) => assert_eq!(e.argument(), Some("batch_size")),
        }
    }
    let e = g
        .batch_for_latency(&s, &l, Phase::Decode, 0.004, None)
        .unwrap_err();
    assert_eq!(e.argument(), Some("target_seconds"));
}

#[test]
fn bad_columns_are_named() {
    let shape_data = [
        [32000.0],
        [4096.0],
        [32.0],
        [32.0],
        [128.0],
        [32.0],
        [11008.0],
        [1.0],
        [0.0],
        [4096.0],
        [1.0],
        [0.0],
        [1.0],
        [1.0],
        [11008.0],
        [0.0],
        [0.0],
        [0.0],
        [0.0],
        [0.0],
        [128.0],
    ];
    let shapes = ShapeColumns::new(shape_data.each_ref().map(|c| c.as_slice()), 1).unwrap();
    let good = [
        1.0, 128.0, 1.0, 2.0, 2.0, 989e12, 3.35e12, 80e9, 450e9, 0.7, 0.8, 1e-3, 0.9, 1e-4, 2.0,
        0.0, 0.8, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0,
    ];
    let run = |k: usize, v: f64, phase: Phase| {
        let mut cols = good;
        cols[k] = v;
        let data: Vec<[f64; 1]> = cols.iter().map(|c| [*c]).collect();
        let columns = ServingColumns::new(std::array::from_fn(|j| data[j].as_slice()), 1).unwrap();
        let mut o = [[0.0; 1]; 9];
        let [a, b, c, d, e, f, g, h, k] = &mut o;
        let out = (
            ((&mut a[..], &mut b[..]), (&mut c[..], &mut d[..])),
            (
                (&mut e[..], &mut f[..]),
                (&mut g[..], (&mut h[..], &mut k[..])),
            ),
        );
        serving_batch(phase, &shapes, &columns, None, OnInvalid::Raise, None, out)
    };
    assert!(run(0, 1.0, Phase::Decode).is_ok());
    assert!(run(18, 64.0, Phase::Decode).is_ok());
    assert!(run(19, 1e6, Phase::Prefill).is_ok());
    for (k, v) in [
        (0, 0.0),
        (1, -1.0),
        (2, 1.5),
        (2, 0.0),
        (3, 0.0),
        (5, f64::INFINITY),
        (9, 1.5),
        (10, 0.0),
        (11, -1e-3),
        (12, 2.0),
        (13, -1e-6),
        (13, f64::NAN),
        (14, 0.0),
        (15, -1.0),
        (15, f64::INFINITY),
        (16, 0.0),
        (16, 1.5),
        (17, -1.0),
        (18, -1.0),
        (18, 1.5),
        (18, 65.0),
        (18, f64::NAN),
        (19, -1.0),
        (19, f64::INFINITY),
        (20, 0.0),
        (20, 1.5),
        (20, f64::NAN),
    ] {
        let e = run(k, v, Phase::Decode).unwrap_err();
        assert_eq!(e.argument(), Some(FIELDS[k]), "{k} {v}: {e}");
    }
    let e = run(1, 0.0, Phase::Prefill).unwrap_err();
    assert_eq!(e.argument(), Some("tokens"));
    // Drafts are verified in decode steps; a prefill with one is refused, not ignored.
    let e = run(18, 1.0, Phase::Prefill).unwrap_err();
    assert_eq!(e.argument(), Some("draft_tokens"));
}

#[test]
fn an_engine_profile_changes_only_what_it_names() {
    // The default terms (no ramp, the cache read like the weights, no reserve, uniform
    // weights) are the plain roofline; each term then moves its own part of the step.
    let s = llama2_70b();
    let plain = ideal();
    let at = |g: &Gpu, l: &Load, phase| g.step(&s, l, phase, None).unwrap();
    let l = load(16.0, 4096.0, 4.0);
    let base = at(&plain, &l, Phase::Decode);
    // A GEMM ramp of m_half tokens: compute time times (m + m_half) / m.
    let ramp = Gpu {
        gemm_half_tokens: 48.0,
        ..plain
    };
    let long = load(1.0, 4096.0, 4.0);
    let (a, b) = (
        at(&plain, &long, Phase::Prefill),
        at(&ramp, &long, Phase::Prefill),
    );
    assert!(!a.memory_bound && !b.memory_bound);
    let busy = |x: StepCost| x.seconds - x.comm_seconds;
    assert!(rel(busy(b), busy(a) * (4096.0 + 48.0) / 4096.0) < 1e-12);
    // The cache read at half the bandwidth's efficiency: its time doubles, the weights' not.
    let slow_kv = Gpu {
        kv_efficiency: 0.5,
        ..plain
    };
    let kv = 16.0 * 4096.0 * 2.0 * 80.0 * 2.0 * 128.0 * 2.0;
    let c = at(&slow_kv, &l, Phase::Decode);
    assert!(base.memory_bound && rel(c.seconds - base.seconds, kv / plain.bandwidth) < 1e-12);
    assert_eq!(c.bytes, base.bytes);
    // A reserve of 8 GB per GPU: 8 GB less room for the cache, fewer sequences.
    let reserve = Gpu {
        reserve_bytes: 8e9,
        ..plain
    };
    let per_sequence: f64 = 4097.0 * 2.0 * 80.0 * 2.0 * 128.0 * 2.0;
    let fewer = at(&reserve, &load(1.0, 4096.0, 4.0), Phase::Decode).max_batch;
    assert!((base.max_batch - fewer - 8e9 / per_sequence).abs() < 1.0);
    // The cache takes 0.9 of what the weights and the reserve leave (TensorRT-LLM's
    // free-memory fraction): 0.9 of the sequences, to the whole one.
    let share = Gpu {
        kv_share: 0.9,
        ..reserve
    };
    let l1 = load(1.0, 4096.0, 4.0);
    let shared = at(&share, &l1, Phase::Decode).max_batch;
    let weights = parallel::weight_bytes_stored(&s, &l1);
    let free = plain.memory * plain.memory_fraction - 8e9 - weights;
    assert_eq!(shared, (0.9 * free / per_sequence).floor());
    assert!(shared < fewer && shared >= (0.9 * fewer).floor());
    // fp8 layers with a 16-bit head and embedding: the weights stored and read grow by the
    // edge weights' extra byte each; the cache and FLOPs do not move.
    let fp8 = Load {
        weight_bytes: 1.0,
        kv_bytes: 1.0,
        ..l
    };
    let mixed = Load {
        edge_bytes: 2.0,
        ..fp8
    };
    let uniform = Load {
        edge_bytes: 1.0,
        ..fp8
    };
    let (m, u) = (
        at(&plain, &mixed, Phase::Decode),
        at(&plain, &uniform, Phase::Decode),
    );
    let head_and_norms = s.vocab * s.d_model + 2.0 * s.d_model * s.n_layers + s.d_model;
    assert!(rel(m.bytes - u.bytes, head_and_norms / 4.0) < 1e-12);
    assert_eq!(m.flops, u.flops);
    assert!(m.max_batch <= u.max_batch);
}

#[test]
fn a_verification_step_computes_every_drafted_position_and_reads_once() {
    let (s, g) = (llama2_70b(), ideal());
    let at = |l: &Load| g.step(&s, l, Phase::Decode, None).unwrap();
    let plain = load(8.0, 2048.0, 4.0);
    let verify = Load {
        draft_tokens: 4.0,
        ..plain
    };
    let (p, v) = (at(&plain), at(&verify));
    // Five positions a sequence: five times the FLOPs, the weights and cache read once,
    // five times the activations all-reduced.
    assert!(rel(v.flops, 5.0 * p.flops) < 1e-12);
    assert_eq!(v.bytes, p.bytes);
    assert!(v.comm_seconds > p.comm_seconds);
    // Memory-bound at batch 8: verifying four more tokens costs no more time but the
    // larger all-reduces.
    assert!(v.memory_bound && p.memory_bound);
    assert!(rel(v.seconds - v.comm_seconds, p.seconds - p.comm_seconds) < 1e-12);
    // The verified positions are held in the cache: four fewer tokens of room a sequence.
    let per_sequence = |held: f64| held * 2.0 * 80.0 * 2.0 * 128.0 * 2.0;
    let room = g.memory * g.memory_fraction - s.params() * 2.0 / 4.0;
    assert_eq!(p.max_batch, (room / per_sequence(2049.0)).floor());
    assert_eq!(v.max_batch, (room / per_sequence(2053.0)).floor());
}

#[test]
fn a_drafts_cache_shares_the_room_of_every_sequence() {
    let (s, g) = (llama2_70b(), ideal());
    let own = 2.0 * 80.0 * 2.0 * 128.0 * 2.0; // bytes a token, one GPU of four
    let with = |draft: f64| Load {
        draft_kv_bytes: draft,
        ..load(1.0, 4096.0, 4.0)
    };
    let mb = |l: &Load| g.step(&s, l, Phase::Decode, None).unwrap().max_batch;
    let room = g.memory * g.memory_fraction - s.params() * 2.0 / 4.0;
    assert_eq!(mb(&with(own)), (room / (4097.0 * 2.0 * own)).floor());
    assert!(mb(&with(own)) < mb(&with(0.0)));
    // And it is held under a prefill too (the draft prefills the prompt as well).
    let prefill = |l: &Load| g.step(&s, l, Phase::Prefill, None).unwrap().max_batch;
    assert_eq!(prefill(&with(own)), (room / (4096.0 * 2.0 * own)).floor());
}
