//! The data-constrained kernels over columns: one row per element, each column of length 1
//! or n, the laws and decay constants as columns too (bootstrap samples of a fit).

use super::*;
use crate::engine::batch::{drive, reject, use_parallel, Column, OnInvalid};
use crate::laws::LawColumns;

/// The decay constants as columns.
#[derive(Debug, Clone, Copy)]
pub struct DecayColumns<'a> {
    pub rd_star: Column<'a>,
    pub rn_star: Column<'a>,
}

impl<'a> DecayColumns<'a> {
    pub fn new(rd_star: &'a [f64], rn_star: &'a [f64], n: usize) -> Result<Self> {
        Ok(DecayColumns {
            rd_star: Column::new("rd_star", rd_star, n)?,
            rn_star: Column::new("rn_star", rn_star, n)?,
        })
    }

    /// Row `i`'s law, validated.
    pub fn get(&self, laws: &LawColumns<'_>, i: usize) -> Result<DataConstrained> {
        let law = laws.get(i)?;
        DataConstrained::new(law, self.rd_star.get(i), self.rn_star.get(i))
            .map_err(|e| e.at_row(Some(i)))
    }
}

/// Fills every row of `out` (K outputs a row, row-major) with `row(i)`, or NaN where it
/// fails, as `on_invalid` says.
pub fn rows_batch<const K: usize>(
    n: usize,
    on_invalid: OnInvalid,
    parallel: Option<bool>,
    out: &mut [[f64; K]],
    row: &(dyn Fn(usize) -> Result<[f64; K]> + Sync),
) -> Result<()> {
    drive(
        out,
        use_parallel(n, parallel),
        &|start, o: &mut [[f64; K]]| {
            let mut first = None;
            for (j, slot) in o.iter_mut().enumerate() {
                *slot = row(start + j).unwrap_or_else(|e| {
                    reject(e, on_invalid, &mut first);
                    [f64::NAN; K]
                });
            }
            first
        },
    )
}

/// The law's loss and gradient at (N, D, U) per row: `[loss, dL/dln N, dL/dln D, N', D']`.
pub fn point_row(dc: &DataConstrained, n: f64, d: f64, u: f64, index: usize) -> Result<[f64; 5]> {
    for (argument, value) in [("params", n), ("tokens", d), ("unique_tokens", u)] {
        if !is_positive(value) {
            return Err(Error::Invalid {
                argument,
                value,
                requirement: "finite and > 0",
                index: Some(index),
            });
        }
    }
    let p = dc.point(n, d, u);
    Ok([
        p.loss,
        p.d_ln_params,
        p.d_ln_tokens,
        p.effective_params,
        p.effective_tokens,
    ])
}

/// An optimum as a row: `[params, tokens, effective tokens, iterations, binding (1/0)]`.
pub fn optimum_row(o: ConstrainedOptimum) -> [f64; 5] {
    [
        o.params,
        o.tokens,
        o.effective_tokens,
        f64::from(o.iterations),
        f64::from(u8::from(o.binding)),
    ]
}
