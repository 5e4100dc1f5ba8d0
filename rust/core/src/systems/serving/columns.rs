//! [`Gpu::step`] and [`Gpu::batch_for_latency`] over columns: the batch kernel.

use super::*;

/// Column names of [`ServingColumns`], in order (the shape's are `arch::FIELDS`).
pub const FIELDS: [&str; 23] = [
    "batch_size",
    "tokens",
    "tensor_parallel",
    "weight_bytes",
    "kv_bytes",
    "peak_flops",
    "memory_bandwidth",
    "memory_bytes",
    "link_bandwidth",
    "compute_efficiency",
    "memory_efficiency",
    "overhead_seconds",
    "memory_fraction",
    "collective_seconds",
    "edge_bytes",
    "gemm_half_tokens",
    "kv_efficiency",
    "reserve_bytes",
    "draft_tokens",
    "draft_kv_bytes",
    "kv_share",
    "expert_parallel",
    "attention_data_parallel",
];

/// The load and hardware columns of a serving batch, each of length 1 or n.
#[derive(Debug, Clone, Copy)]
pub struct ServingColumns<'a> {
    pub columns: [Column<'a>; 23],
}

impl<'a> ServingColumns<'a> {
    pub fn new(data: [&'a [f64]; 23], n: usize) -> Result<Self> {
        let mut columns = [Column::scalar(&0.0); 23];
        for (k, d) in data.iter().enumerate() {
            columns[k] = Column::new(FIELDS[k], d, n)?;
        }
        Ok(ServingColumns { columns })
    }

    /// Row `i`'s load and GPU, validated.
    pub fn get(&self, i: usize) -> Result<(Load, Gpu)> {
        let v = |k: usize| self.columns[k].get(i);
        let check = |k: usize, ok: bool, requirement: &'static str| -> Result<f64> {
            let value = v(k);
            if ok && value.is_finite() {
                Ok(value)
            } else {
                Err(Error::Invalid {
                    argument: FIELDS[k],
                    value,
                    requirement,
                    index: Some(i),
                })
            }
        };
        let positive = |k: usize| check(k, is_positive(v(k)), "finite and > 0");
        let fraction = |k: usize| check(k, is_positive(v(k)) && v(k) <= 1.0, "in (0, 1]");
        let tp = v(2);
        let whole_tp = (1.0..=MAX_TENSOR_PARALLEL).contains(&tp) && tp.fract() == 0.0;
        let load = Load {
            batch: check(0, v(0) >= 1.0 && v(0).fract() == 0.0, "a whole number >= 1")?,
            tokens: check(1, is_non_negative(v(1)), "finite and >= 0")?,
            tensor_parallel: check(2, whole_tp, "a whole number in [1, 1024]")?,
            weight_bytes: positive(3)?,
            kv_bytes: positive(4)?,
            edge_bytes: positive(14)?,
            draft_tokens: check(
                18,
                (0.0..=MAX_DRAFT_TOKENS).contains(&v(18)) && v(18).fract() == 0.0,
                "a whole number in [0, 64]",
            )?,
            draft_kv_bytes: check(19, is_non_negative(v(19)), "finite and >= 0")?,
            expert_parallel: check(
                21,
                v(21) >= 1.0 && v(21).fract() == 0.0 && (tp % v(21)) == 0.0,
                "a whole number dividing tensor_parallel",
            )?,
            attention_data_parallel: check(22, v(22) == 0.0 || v(22) == 1.0, "0 or 1")? == 1.0,
        };
        let gpu = Gpu {
            peak: positive(5)?,
            bandwidth: positive(6)?,
            memory: positive(7)?,
            link_bandwidth: positive(8)?,
            compute_efficiency: fraction(9)?,
            memory_efficiency: fraction(10)?,
            overhead: check(11, is_non_negative(v(11)), "finite and >= 0")?,
            memory_fraction: fraction(12)?,
            collective_latency: check(13, is_non_negative(v(13)), "finite and >= 0")?,
            gemm_half_tokens: check(15, is_non_negative(v(15)), "finite and >= 0")?,
            kv_efficiency: fraction(16)?,
            reserve_bytes: check(17, is_non_negative(v(17)), "finite and >= 0")?,
            kv_share: fraction(20)?,
        };
        Ok((load, gpu))
    }
}

/// Whether the group can lay out `shape` as `load` says: tensor parallelism splits the
/// attention heads; expert parallelism whole experts; data-parallel attention needs the
/// experts split over the whole group.
pub(super) fn check_layout(shape: &Shape, load: &Load, i: usize) -> Result<()> {
    let invalid = |argument, value, requirement| {
        Err(Error::Invalid {
            argument,
            value,
            requirement,
            index: Some(i),
        })
    };
    let (tp, ep) = (load.tensor_parallel, load.expert_parallel);
    let e = &shape.experts;
    let moe = e.layers > 0.0;
    if !load.attention_data_parallel && shape.n_heads % tp != 0.0 {
        let requirement = "a divisor of the shape's n_heads (each GPU holds whole heads)";
        return invalid("tensor_parallel", tp, requirement);
    }
    if ep > 1.0 && (!moe || e.routed % ep != 0.0) {
        let requirement = "1 for a dense shape, else a divisor of its routed experts (each \
                           GPU holds whole experts)";
        return invalid("expert_parallel", ep, requirement);
    }
    if load.attention_data_parallel && moe && ep != tp {
        let requirement = "equal to tensor_parallel under attention_data_parallel (the \
                           routed experts split over the whole group)";
        return invalid("expert_parallel", ep, requirement);
    }
    Ok(())
}

/// Output columns of [`serving_batch`]: ((seconds, flops), (bytes, comm seconds)),
/// ((max batch, batch), (memory-bound as 1 or 0, (tokens per second, MFU))).
pub type ServingOutputs<'a> = (
    (
        (&'a mut [f64], &'a mut [f64]),
        (&'a mut [f64], &'a mut [f64]),
    ),
    (
        (&'a mut [f64], &'a mut [f64]),
        (&'a mut [f64], (&'a mut [f64], &'a mut [f64])),
    ),
);

/// Every row's step. With `target` (seconds, a column of length 1 or n) the batch column is
/// ignored and each row's batch is the largest that meets the target; the batch output
/// says which batch each row's step was costed at.
pub fn serving_batch(
    phase: Phase,
    shapes: &ShapeColumns<'_>,
    columns: &ServingColumns<'_>,
    target: Option<&[f64]>,
    on_invalid: OnInvalid,
    parallel: Option<bool>,
    out: ServingOutputs<'_>,
) -> Result<()> {
    let n = out.0 .0 .0.len();
    let target = target
        .map(|t| Column::new("target_seconds", t, n))
        .transpose()?;
    let row = |i: usize| -> Result<(StepCost, f64)> {
        let shape = shapes.get(i)?;
        let (mut load, gpu) = columns.get(i)?;
        check_layout(&shape, &load, i)?;
        if phase == Phase::Prefill && load.draft_tokens != 0.0 {
            return Err(Error::Invalid {
                argument: "draft_tokens",
                value: load.draft_tokens,
                requirement: "0 for a prefill (drafts are verified in decode steps)",
                index: Some(i),
            });
        }
        if phase == Phase::Prefill && load.tokens < 1.0 {
            return Err(Error::Invalid {
                argument: "tokens",
                value: load.tokens,
                requirement: ">= 1 for a prefill (a prompt of at least one token)",
                index: Some(i),
            });
        }
        if let Some(target) = &target {
            let seconds = target.get(i);
            if !is_positive(seconds) {
                return Err(Error::Invalid {
                    argument: "target_seconds",
                    value: seconds,
                    requirement: "finite and > 0",
                    index: Some(i),
                });
            }
            load.batch = gpu.batch_for_latency(&shape, &load, phase, seconds, Some(i))?;
        }
        Ok((gpu.step(&shape, &load, phase, Some(i))?, load.batch))
    };
    let kernel = |start: usize, out: ServingOutputs<'_>| {
        let (((s, f), (b, c)), ((mb, bt), (mem, (tps, mfu)))) = out;
        let mut first = None;
        for j in 0..s.len() {
            let (cost, batch) = match row(start + j) {
                Ok(found) => found,
                Err(e) => {
                    reject(e, on_invalid, &mut first);
                    (StepCost::NAN, f64::NAN)
                }
            };
            (s[j], f[j], b[j], c[j]) = (cost.seconds, cost.flops, cost.bytes, cost.comm_seconds);
            (mb[j], bt[j], tps[j], mfu[j]) =
                (cost.max_batch, batch, cost.tokens_per_second, cost.mfu);
            mem[j] = if batch.is_nan() {
                f64::NAN
            } else {
                f64::from(u8::from(cost.memory_bound))
            };
        }
        first
    };
    drive(out, use_parallel(n, parallel), &kernel)
}
