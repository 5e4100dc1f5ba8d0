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

/// Columns that must be positive integers; the others are flags (7, 8) or whole numbers
/// from 0 (11, 15, 16, 17, 18, 19).
const POSITIVE: [usize; 13] = [0, 1, 2, 3, 4, 5, 6, 9, 10, 12, 13, 14, 20];
const WHOLE: [usize; 6] = [11, 15, 16, 17, 18, 19];

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
        for k in [7, 8] {
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
        if s[3] % s[5] != 0.0 {
            return Err(invalid(5, s[5], "a divisor of n_heads", i));
        }
        if s[13] > s[12] {
            return Err(invalid(13, s[13], "at most experts", i));
        }
        if s[16] > s[2] {
            return Err(invalid(16, s[16], "at most n_layers", i));
        }
        if s[17] == 0.0 {
            for k in [18, 19] {
                if s[k] != 0.0 {
                    return Err(invalid(k, s[k], "0 without a kv_lora_rank", i));
                }
            }
        } else if s[19] >= s[4] {
            return Err(invalid(19, s[19], "below head_dim", i));
        }
        Ok(Shape {
            vocab: s[0],
            d_model: s[1],
            n_layers: s[2],
            n_heads: s[3],
            head_dim: s[4],
            n_kv_heads: s[5],
            d_ff: s[6],
            gated: s[7] == 1.0,
            tied: s[8] == 1.0,
            seq_len: s[9],
            batch_size: s[10],
            extra_params: s[11],
            experts: Experts {
                routed: s[12],
                per_token: s[13],
                d_ff: s[14],
                shared_d_ff: s[15],
                layers: s[16],
            },
            latent: Latent {
                kv_rank: s[17],
                q_rank: s[18],
                rope_dim: s[19],
                v_head_dim: s[20],
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
