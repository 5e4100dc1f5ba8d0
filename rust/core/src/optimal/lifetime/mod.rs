//! Lifetime-optimal sizing (Sardana et al. 2024, §2 and Appendix A).
//!
//! Minimise `k_tr N D + K N` subject to `L(N, D) = l`. With the effective demand
//! `D_eff = 3 K / k_tr` (for FLOPs, `k_tr = 6`, `K = 2 D_inf`, so `D_eff = D_inf`) the
//! Lagrange conditions reduce to one equation in D (the paper's Eq. 12):
//!
//! `0 = (E - l) + P D^-beta + Q D^(-beta-1)`, `P = B (1 + beta/alpha)`, `Q = beta B D_eff / (3 alpha)`
//!
//! and then `A N^-alpha = (beta B / alpha) D^-beta (1 + D_eff / (3 D))`.
//!
//! We solve it in the variable `s = ln(Q / (P D))`. Dividing Eq. 12 by `P D^-beta` and
//! taking logs gives, with `K = ln(l - E) - ln P + beta ln(Q/P)`,
//!
//! `h(s) = beta s + softplus(s) = K`,
//!
//! a one-parameter family: h is increasing and convex with slope in `(beta, beta + 1)`.
//! Because `softplus(s) >= max(s, 0)`, `s0 = min(K / beta, K / (beta + 1))` has `h(s0) >= K`,
//! so Newton from s0 decreases monotonically to the root, quadratically; and
//! `softplus(s) <= max(s, 0) + ln 2` gives the lower end of a bracket for the bracketing
//! variants. This is the design's `x = ln D` iteration with x shifted by `ln(Q/P)`; every
//! quantity stays a logarithm until the end, so no finite input overflows midway.

// Lane loops index several arrays by the same `j`, the shape LLVM vectorises best.
#![allow(clippy::needless_range_loop)]

use crate::engine::batch::reject;
use crate::engine::batch::{drive, use_parallel, Column, OnInvalid};
use crate::engine::simd::Isa;
use crate::engine::vmath;
use crate::error::{is_non_negative, is_positive, Error, Result};
use crate::laws::{Law, LawColumns};
use std::sync::{Arc, Mutex};

mod lanes;
mod methods;
mod options;
mod reduce;
mod table;
#[cfg(test)]
mod table_tests;
#[cfg(test)]
mod tests;

use lanes::*;
use methods::*;
pub use options::*;
use reduce::*;
pub use table::TABLE_MIN_ROWS;
use table::*;

/// One lifetime optimum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Optimum {
    /// Parameters N.
    pub params: f64,
    /// Training tokens D.
    pub tokens: f64,
    /// Solver iterations spent (0 when the demand is zero: the Chinchilla closed form).
    pub iterations: u32,
    pub converged: bool,
}

/// The lifetime optimum for one law, loss target and effective demand (tokens).
///
/// ```
/// use scaleplan::{laws::Law, optimal::lifetime::{optimum, Options}};
/// // Table 2 of Sardana et al., row 2: a 7B-Chinchilla-quality model (loss 2.1274) that
/// // will serve 200B tokens is best trained as a ~5.4B model on ~367B tokens.
/// let o = optimum(&Law::CHINCHILLA, 2.1274, 2e11, &Options::default()).unwrap();
/// assert!((o.params / 5.4e9 - 1.0).abs() < 0.01);
/// assert!((o.tokens / 3.67e11 - 1.0).abs() < 0.01);
/// ```
pub fn optimum(law: &Law, loss: f64, effective_demand: f64, options: &Options) -> Result<Optimum> {
    let demand = [effective_demand];
    let demand = Demand::Tokens {
        name: "effective_demand",
        tokens: &demand,
    };
    optimum_of(law, loss, demand, options)
}

/// The dollar optimum of one scenario: [`optimum`] at the effective demand
/// `requests (w_in input_tokens + w_out output_tokens)`, computed and checked exactly as a
/// batch row of [`optimum_batch`] with [`Demand::Requests`] is, so the bits are the same.
///
/// ```
/// use scaleplan::{laws::Law, optimal::lifetime::{cost_optimum, optimum, Options}};
/// let o = Options::default();
/// let dollars = cost_optimum(&Law::CHINCHILLA, 2.2, 1e9, 70.0, 215.0, 2.0, 30.0, &o).unwrap();
/// let flops = optimum(&Law::CHINCHILLA, 2.2, 1e9 * (2.0 * 70.0 + 30.0 * 215.0), &o).unwrap();
/// assert_eq!(dollars, flops);
/// ```
#[allow(clippy::too_many_arguments)]
pub fn cost_optimum(
    law: &Law,
    loss: f64,
    requests: f64,
    input_tokens: f64,
    output_tokens: f64,
    w_in: f64,
    w_out: f64,
    options: &Options,
) -> Result<Optimum> {
    let (r, i, o) = ([requests], [input_tokens], [output_tokens]);
    let demand = Demand::Requests {
        requests: &r,
        input_tokens: &i,
        output_tokens: &o,
        w_in,
        w_out,
    };
    optimum_of(law, loss, demand, options)
}

/// One row through the batch's validation and the lane loop's arithmetic, without its
/// buffers: the path a scheduler calls per decision, so it allocates nothing.
fn optimum_of(law: &Law, loss: f64, demand: Demand<'_>, options: &Options) -> Result<Optimum> {
    let coeffs = [[law.e], [law.a], [law.b], [law.alpha], [law.beta]];
    let laws = LawColumns::new(coeffs.each_ref().map(|c| c.as_slice()), 1)?;
    let loss = [loss];
    let job = Job {
        loss: Column::new("loss", &loss, 1)?,
        demand: DemandColumns::new(demand, 1)?,
        laws: &laws,
        options,
        shared: None,
        table: None,
    };
    // A scalar call has no rows: its errors carry no index.
    let (logs, gap, d) = job.validate(0).map_err(|e| e.at_row(None))?;
    // One row: the scalar loop does exactly the lane loop's arithmetic (same functions,
    // same order, no fused operations), so the answer is bit-identical to a batch's.
    let r = Reduced::new(logs, gap, d);
    let (ln_d, iterations, ok) = scalar_solve(options.method, &r, options);
    if !ok {
        return Err(Error::NotConverged {
            index: 0,
            iterations,
        });
    }
    let (ln_d, ln_n) = r.finish(ln_d);
    let (params, tokens) = representable(0, ln_d, ln_n)?;
    Ok(Optimum {
        params,
        tokens,
        iterations,
        converged: true,
    })
}

/// Owned output columns of [`optimum_batch`].
#[derive(Debug, Clone, PartialEq)]
pub struct Buffers {
    pub params: Vec<f64>,
    pub tokens: Vec<f64>,
    pub iterations: Vec<u32>,
    pub converged: Vec<bool>,
}

impl Buffers {
    pub fn new(n: usize) -> Self {
        Buffers {
            params: vec![0.0; n],
            tokens: vec![0.0; n],
            iterations: vec![0; n],
            converged: vec![false; n],
        }
    }

    pub fn view(&mut self) -> OutputsMut<'_> {
        (
            (self.params.as_mut_slice(), self.tokens.as_mut_slice()),
            (
                self.iterations.as_mut_slice(),
                self.converged.as_mut_slice(),
            ),
        )
    }
}

/// Borrowed output columns: ((params, tokens), (iterations, converged)).
pub type OutputsMut<'a> = (
    (&'a mut [f64], &'a mut [f64]),
    (&'a mut [u32], &'a mut [bool]),
);

/// Where each row's effective demand `D_eff` (tokens) comes from.
#[derive(Debug, Clone, Copy)]
pub enum Demand<'a> {
    /// `D_eff` given directly (for FLOPs it is the inference tokens); `name` is the
    /// argument errors name.
    Tokens {
        name: &'static str,
        tokens: &'a [f64],
    },
    /// The cost form: `D_eff = requests (w_in input_tokens + w_out output_tokens)`, with
    /// `w = (c_inf / c_tr) MFU_tr / MFU_phase` (see `scaleplan.optimal.costs`).
    Requests {
        requests: &'a [f64],
        input_tokens: &'a [f64],
        output_tokens: &'a [f64],
        w_in: f64,
        w_out: f64,
    },
}

/// [`Demand`] with its slices checked against the batch length.
#[derive(Clone, Copy)]
pub(crate) enum DemandColumns<'a> {
    Tokens(&'static str, Column<'a>),
    /// requests, input tokens, output tokens, w_in, w_out, and the per-request demand
    /// when both token counts are shared by every row and valid.
    Requests(Column<'a>, Column<'a>, Column<'a>, f64, f64, Option<f64>),
}

impl<'a> DemandColumns<'a> {
    pub(crate) fn new(demand: Demand<'a>, n: usize) -> Result<Self> {
        Ok(match demand {
            Demand::Tokens { name, tokens } => {
                DemandColumns::Tokens(name, Column::new(name, tokens, n)?)
            }
            Demand::Requests {
                requests,
                input_tokens,
                output_tokens,
                w_in,
                w_out,
            } => {
                let inp = Column::new("input_tokens", input_tokens, n)?;
                let out = Column::new("output_tokens", output_tokens, n)?;
                let (w_in, w_out) = (check_weight("w_in", w_in)?, check_weight("w_out", w_out)?);
                let valid = |c: Column<'_>| c.is_scalar() && is_non_negative(c.get(0));
                // Invalid shared values fall through to the per-row checks, which name them.
                let shared =
                    (valid(inp) && valid(out)).then(|| w_in * inp.get(0) + w_out * out.get(0));
                DemandColumns::Requests(
                    Column::new("requests", requests, n)?,
                    inp,
                    out,
                    w_in,
                    w_out,
                    shared,
                )
            }
        })
    }

    /// `D_eff` of row `i`, or the argument that is out of range.
    #[inline(always)]
    pub(crate) fn get(&self, i: usize) -> Result<f64> {
        let non_negative = |argument: &'static str, v: f64| {
            if is_non_negative(v) {
                Ok(v)
            } else {
                Err(Error::Invalid {
                    argument,
                    value: v,
                    requirement: "finite and >= 0",
                    index: Some(i),
                })
            }
        };
        match *self {
            DemandColumns::Tokens(name, c) => non_negative(name, c.get(i)),
            DemandColumns::Requests(r, inp, out, w_in, w_out, shared) => {
                let r = non_negative("requests", r.get(i))?;
                let per_request = if let Some(shared) = shared {
                    shared
                } else {
                    w_in * non_negative("input_tokens", inp.get(i))?
                        + w_out * non_negative("output_tokens", out.get(i))?
                };
                let d = r * per_request;
                if d.is_finite() {
                    Ok(d)
                } else {
                    // Blame the larger factor: the number of requests, or the token
                    // column that makes one request's equivalents huge.
                    let (in_part, out_part) = (w_in * inp.get(i), w_out * out.get(i));
                    let (argument, value) = if per_request.is_finite() && r >= per_request {
                        ("requests", r)
                    } else if in_part >= out_part {
                        ("input_tokens", inp.get(i))
                    } else {
                        ("output_tokens", out.get(i))
                    };
                    Err(Error::Invalid {
                        argument,
                        value,
                        requirement: "small enough that the demand in tokens is finite",
                        index: Some(i),
                    })
                }
            }
        }
    }
}

fn check_weight(argument: &'static str, w: f64) -> Result<f64> {
    if is_positive(w) {
        Ok(w)
    } else {
        Err(Error::Invalid {
            argument,
            value: w,
            requirement: "finite and > 0",
            index: None,
        })
    }
}

/// Solves every row: `loss`, the demand and the law columns broadcast to the length of the
/// outputs. `parallel: None` uses rayon at and above [`crate::engine::batch::PARALLEL_THRESHOLD`] rows.
pub fn optimum_batch(
    loss: &[f64],
    demand: Demand<'_>,
    laws: &LawColumns<'_>,
    options: &Options,
    parallel: Option<bool>,
    out: OutputsMut<'_>,
) -> Result<()> {
    let n = out.0 .0.len();
    let loss = Column::new("loss", loss, n)?;
    let demand = DemandColumns::new(demand, n)?;
    let job = Job {
        loss,
        demand,
        laws,
        options,
        shared: if laws.is_scalar() {
            laws.get(0).ok().map(|l| (l, LawLogs::new(&l)))
        } else {
            None
        },
        table: None,
    };
    let job = Job {
        table: match (job.shared, options.method) {
            (Some((_, logs)), Method::Newton) if options.start.uses_table(n) => {
                Some(StartTable::cached(logs.beta))
            }
            _ => None,
        },
        ..job
    };
    drive(out, use_parallel(n, parallel), &|start, o| {
        job.run(start, o)
    })
}
