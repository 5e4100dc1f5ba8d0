//! Shapes as columns of a batch, validated row by row, and their step counts.

use super::{Experts, Latent, Shape};
use crate::engine::batch::{drive, use_parallel, Column};
use crate::error::{Error, Result};

/// Column names, in the order of [`ShapeColumns`]: the dense shape's twelve, then the
/// experts' five ([`Experts`]) and latent attention's four ([`Latent`]).
pub const FIELDS: [&str; 21] = [
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
    "experts",
    "experts_per_token",
    "expert_d_ff",
    "shared_d_ff",
    "moe_layers",
    "kv_lora_rank",
    "q_lora_rank",
    "rope_head_dim",
    "v_head_dim",
];

/// Each field's column index in [`FIELDS`] (and in a row's values).
mod col {
    pub const VOCAB: usize = 0;
    pub const D_MODEL: usize = 1;
    pub const N_LAYERS: usize = 2;
    pub const N_HEADS: usize = 3;
    pub const HEAD_DIM: usize = 4;
    pub const N_KV_HEADS: usize = 5;
    pub const D_FF: usize = 6;
    pub const GATED: usize = 7;
    pub const TIED: usize = 8;
    pub const SEQ_LEN: usize = 9;
    pub const BATCH_SIZE: usize = 10;
    pub const EXTRA_PARAMS: usize = 11;
    pub const EXPERTS: usize = 12;
    pub const EXPERTS_PER_TOKEN: usize = 13;
    pub const EXPERT_D_FF: usize = 14;
    pub const SHARED_D_FF: usize = 15;
    pub const MOE_LAYERS: usize = 16;
    pub const KV_LORA_RANK: usize = 17;
    pub const Q_LORA_RANK: usize = 18;
    pub const ROPE_HEAD_DIM: usize = 19;
    pub const V_HEAD_DIM: usize = 20;
}

/// Columns that must be positive integers; the others are the flags (`FLAGS`) or whole
/// numbers from 0 (`WHOLE`).
const POSITIVE: [usize; 13] = [
    col::VOCAB,
    col::D_MODEL,
    col::N_LAYERS,
    col::N_HEADS,
    col::HEAD_DIM,
    col::N_KV_HEADS,
    col::D_FF,
    col::SEQ_LEN,
    col::BATCH_SIZE,
    col::EXPERTS,
    col::EXPERTS_PER_TOKEN,
    col::EXPERT_D_FF,
    col::V_HEAD_DIM,
];
const FLAGS: [usize; 2] = [col::GATED, col::TIED];
const WHOLE: [usize; 6] = [
    col::EXTRA_PARAMS,
    col::SHARED_D_FF,
    col::MOE_LAYERS,
    col::KV_LORA_RANK,
    col::Q_LORA_RANK,
    col::ROPE_HEAD_DIM,
];

/// Shapes as columns (length 1 or n each); flags are 0 or 1.
#[derive(Debug, Clone, Copy)]
pub struct ShapeColumns<'a> {
    pub columns: [Column<'a>; 21],
}

fn invalid(k: usize, value: f64, requirement: &'static str, i: usize) -> Error {
    Error::Invalid {
        argument: FIELDS[k],
        value,
        requirement,
        index: Some(i),
    }
}

impl<'a> ShapeColumns<'a> {
    pub fn new(data: [&'a [f64]; 21], n: usize) -> Result<Self> {
        let mut columns = [Column::scalar(&0.0); 21];
        for (i, d) in data.iter().enumerate() {
            columns[i] = Column::new(FIELDS[i], d, n)?;
        }
        Ok(ShapeColumns { columns })
    }

    /// Row `i`'s fields, each a whole number in its range (flags 0 or 1).
    fn values(&self, i: usize) -> Result<[f64; 21]> {
        let mut s = [0.0; 21];
        for (k, v) in s.iter_mut().enumerate() {
            *v = self.columns[k].get(i);
        }
        let whole = |v: f64| v.is_finite() && v.fract() == 0.0;
        for k in POSITIVE {
            if !(whole(s[k]) && s[k] >= 1.0) {
                return Err(invalid(k, s[k], "a positive integer", i));
            }
        }
        for k in FLAGS {
            if s[k] != 0.0 && s[k] != 1.0 {
                return Err(invalid(k, s[k], "0 or 1", i));
            }
        }
        for k in WHOLE {
            if !(whole(s[k]) && s[k] >= 0.0) {
                return Err(invalid(k, s[k], "a whole number >= 0", i));
            }
        }
        Ok(s)
    }

    /// Shape of row `i`, validated: sizes positive integers, flags 0/1, kv heads divide
    /// heads, at most `experts` per token, at most `n_layers` MoE layers, and the latent
    /// fields only with a latent (`kv_lora_rank` > 0) whose rotary part leaves a key part.
    pub fn get(&self, i: usize) -> Result<Shape> {
        let s = self.values(i)?;
        if s[col::N_HEADS] % s[col::N_KV_HEADS] != 0.0 {
            return Err(invalid(
                col::N_KV_HEADS,
                s[col::N_KV_HEADS],
                "a divisor of n_heads",
                i,
            ));
        }
        if s[col::EXPERTS_PER_TOKEN] > s[col::EXPERTS] {
            return Err(invalid(
                col::EXPERTS_PER_TOKEN,
                s[col::EXPERTS_PER_TOKEN],
                "at most experts",
                i,
            ));
        }
        if s[col::MOE_LAYERS] > s[col::N_LAYERS] {
            return Err(invalid(
                col::MOE_LAYERS,
                s[col::MOE_LAYERS],
                "at most n_layers",
                i,
            ));
        }
        if s[col::KV_LORA_RANK] == 0.0 {
            for k in [col::Q_LORA_RANK, col::ROPE_HEAD_DIM] {
                if s[k] != 0.0 {
                    return Err(invalid(k, s[k], "0 without a kv_lora_rank", i));
                }
            }
        } else if s[col::ROPE_HEAD_DIM] >= s[col::HEAD_DIM] {
            return Err(invalid(
                col::ROPE_HEAD_DIM,
                s[col::ROPE_HEAD_DIM],
                "below head_dim",
                i,
            ));
        }
        Ok(Shape {
            vocab: s[col::VOCAB],
            d_model: s[col::D_MODEL],
            n_layers: s[col::N_LAYERS],
            n_heads: s[col::N_HEADS],
            head_dim: s[col::HEAD_DIM],
            n_kv_heads: s[col::N_KV_HEADS],
            d_ff: s[col::D_FF],
            gated: s[col::GATED] == 1.0,
            tied: s[col::TIED] == 1.0,
            seq_len: s[col::SEQ_LEN],
            batch_size: s[col::BATCH_SIZE],
            extra_params: s[col::EXTRA_PARAMS],
            experts: Experts {
                routed: s[col::EXPERTS],
                per_token: s[col::EXPERTS_PER_TOKEN],
                d_ff: s[col::EXPERT_D_FF],
                shared_d_ff: s[col::SHARED_D_FF],
                layers: s[col::MOE_LAYERS],
            },
            latent: Latent {
                kv_rank: s[col::KV_LORA_RANK],
                q_rank: s[col::Q_LORA_RANK],
                rope_dim: s[col::ROPE_HEAD_DIM],
                v_head_dim: s[col::V_HEAD_DIM],
            },
        })
    }
}

/// Output columns of [`counts_batch`]: ((params, flops), ((memcpy elements, activation
/// elements), active params)).
pub type CountOutputs<'a> = (
    (&'a mut [f64], &'a mut [f64]),
    ((&'a mut [f64], &'a mut [f64]), &'a mut [f64]),
);

/// [`Shape::counts`] for every row; invalid rows are an error (shapes are built, not measured).
pub fn counts_batch(
    shapes: &ShapeColumns<'_>,
    parallel: Option<bool>,
    out: CountOutputs<'_>,
) -> Result<()> {
    let n = out.0 .0.len();
    let kernel = |start: usize, ((p, f), ((m, a), active)): CountOutputs<'_>| {
        for j in 0..p.len() {
            match shapes.get(start + j) {
                Ok(s) => {
                    let c = s.counts();
                    (p[j], f[j], m[j], a[j], active[j]) = (
                        c.params,
                        c.flops,
                        c.memcpy_elements,
                        c.activation_elements,
                        c.active_params,
                    );
                }
                Err(e) => return Some(e),
            }
        }
        None
    };
    drive(out, use_parallel(n, parallel), &kernel)
}
