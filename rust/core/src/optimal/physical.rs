//! The lifetime optimum when serving is not linear in N: along the iso-loss curve
//! `D(N) = (B / (l - E - A N^-alpha))^(1/beta)`, the N that minimises
//!
//! ```text
//! dollars(N) = 6 c N D(N) + R s(N)
//! ```
//!
//! with `c` training dollars per model FLOP, `R` lifetime requests and `s(N)` dollars per
//! request of serving a model of N parameters. `s` comes as a table ([`ServingCurve`]),
//! linear in `(ln N, ln s)` between its knots: the serving roofline of a shape policy is
//! evaluated at the knots by the caller.
//!
//! Why the answer is the global minimum and not a local one: in `x = ln N`, `ln D` is
//! convex (its second derivative is `(alpha^2/beta) u/(1-u)^2` with `u = A N^-alpha/(l-E)`),
//! so the training term `e^(x + ln D)` is convex, and on each segment the serving term is
//! the exponential of a line. The objective is convex on every segment, so its minimum is
//! at a knot or at the single stationary point of some segment. Every knot is evaluated;
//! a segment is solved only where the tangents at its ends slope towards each other and
//! meet below the best value seen, and then by a bracketed Newton iteration on the
//! derivative, to rounding. When `s` is linear in N this is the problem `cost_optimal`
//! solves, and the answers agree to 1e-9 (tested on both sides).

use crate::engine::batch::{drive, reject, use_parallel, Column, OnInvalid};
use crate::error::{is_non_negative, is_positive, Error, Result};
use crate::laws::{Law, LawColumns};

mod row;
#[cfg(test)]
mod tests;

use row::Row;

/// Newton steps (bisections where Newton leaves the bracket) allowed per segment: bisection
/// alone narrows any segment of a float-range curve to rounding in under 70.
pub const MAX_ITER: u32 = 100;

/// Dollars per request against parameters, as knots joined by straight lines in log-log.
#[derive(Debug, Clone, PartialEq)]
pub struct ServingCurve {
    x: Vec<f64>,
    y: Vec<f64>,
    /// `floor[k]`: the least `y` from knot k on, so a row can stop scanning early.
    floor: Vec<f64>,
}

impl ServingCurve {
    /// The curve through `(ln_params[k], ln_dollars[k])`; `ln_params` must be finite and
    /// strictly increasing, with at least two knots.
    pub fn new(ln_params: &[f64], ln_dollars: &[f64]) -> Result<ServingCurve> {
        if ln_dollars.len() != ln_params.len() {
            return Err(Error::Length {
                argument: "ln_dollars",
                len: ln_dollars.len(),
                expected: ln_params.len(),
            });
        }
        let bad = |argument, k: usize, value, requirement| Error::Invalid {
            argument,
            value,
            requirement,
            index: Some(k),
        };
        if ln_params.len() < 2 {
            let v = ln_params.len() as f64;
            return Err(bad("ln_params", 0, v, "at least two knots long"));
        }
        for (k, (&x, &y)) in ln_params.iter().zip(ln_dollars).enumerate() {
            if !x.is_finite() || (k > 0 && x <= ln_params[k - 1]) {
                return Err(bad("ln_params", k, x, "finite and strictly increasing"));
            }
            if !y.is_finite() {
                return Err(bad("ln_dollars", k, y, "finite"));
            }
        }
        let mut floor = ln_dollars.to_vec();
        for k in (0..floor.len() - 1).rev() {
            floor[k] = floor[k].min(floor[k + 1]);
        }
        Ok(ServingCurve {
            x: ln_params.to_vec(),
            y: ln_dollars.to_vec(),
            floor,
        })
    }

    pub fn len(&self) -> usize {
        self.x.len()
    }

    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// `ln s` at `ln N = x` by the curve's lines, or None outside its span.
    pub fn ln_dollars_at(&self, x: f64) -> Option<f64> {
        let last = self.x.len() - 1;
        if !(x >= self.x[0] && x <= self.x[last]) {
            return None;
        }
        let seg = self
            .x
            .partition_point(|&k| k <= x)
            .saturating_sub(1)
            .min(last - 1);
        Some(self.ln_dollars(seg, x))
    }

    /// `d ln s / d ln N` on segment `seg` (knots `seg`, `seg + 1`), clamped to the ends.
    fn slope(&self, seg: usize) -> f64 {
        let k = seg.min(self.x.len() - 2);
        (self.y[k + 1] - self.y[k]) / (self.x[k + 1] - self.x[k])
    }

    /// `ln s` at `x` on the line of segment `seg`.
    fn ln_dollars(&self, seg: usize, x: f64) -> f64 {
        let k = seg.min(self.x.len() - 2);
        self.y[k] + self.slope(k) * (x - self.x[k])
    }
}

/// One row's answer: N, D, the two halves of the lifetime dollars, Newton steps taken.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhysicalOptimum {
    pub params: f64,
    pub tokens: f64,
    pub training_dollars: f64,
    pub serving_dollars: f64,
    pub iterations: u32,
}

/// The minimum of `6 c N D + R s(N)` at `loss`: `c` training dollars per model FLOP, `R`
/// requests (0 allowed: then it is the Chinchilla-style model, if the curve covers it).
pub fn optimum(
    law: &Law,
    loss: f64,
    requests: f64,
    dollars_per_flop: f64,
    curve: &ServingCurve,
    index: Option<usize>,
) -> Result<PhysicalOptimum> {
    let gap = law.gap(loss, index)?;
    let at = |argument, value, requirement| Error::Invalid {
        argument,
        value,
        requirement,
        index,
    };
    if !is_non_negative(requests) {
        return Err(at("requests", requests, "finite and >= 0"));
    }
    if !is_positive(dollars_per_flop) {
        return Err(at("dollars_per_flop", dollars_per_flop, "finite and > 0"));
    }
    Row::new(law, gap, requests, dollars_per_flop, curve).solve(index.unwrap_or(0))
}

/// The outputs of [`optimum_batch`]: ((params, tokens), ((training $, serving $),
/// (iterations, converged))).
pub type Out<'a> = (
    (&'a mut [f64], &'a mut [f64]),
    (
        (&'a mut [f64], &'a mut [f64]),
        (&'a mut [u32], &'a mut [bool]),
    ),
);

/// [`optimum`] for every row of the columns (each of length 1 or n); rejected rows hold
/// NaN and `converged = false` when `on_invalid` is `Nan`. On rayon's pool from
/// [`crate::engine::batch::PARALLEL_THRESHOLD`] rows unless `parallel` says otherwise.
#[allow(clippy::too_many_arguments)]
pub fn optimum_batch(
    loss: &[f64],
    requests: &[f64],
    dollars_per_flop: &[f64],
    laws: &LawColumns,
    curve: &ServingCurve,
    on_invalid: OnInvalid,
    parallel: Option<bool>,
    out: Out<'_>,
) -> Result<()> {
    let n = out.0 .0.len();
    let loss = Column::new("loss", loss, n)?;
    let requests = Column::new("requests", requests, n)?;
    let per_flop = Column::new("dollars_per_flop", dollars_per_flop, n)?;
    drive(out, use_parallel(n, parallel), &|start, o: Out<'_>| {
        let ((p, t), ((tr, sv), (it, ok))) = o;
        let mut err = None;
        for j in 0..p.len() {
            let i = start + j;
            let row = laws.get(i).and_then(|law| {
                optimum(
                    &law,
                    loss.get(i),
                    requests.get(i),
                    per_flop.get(i),
                    curve,
                    Some(i),
                )
            });
            match row {
                Ok(r) => {
                    (p[j], t[j], tr[j], sv[j]) =
                        (r.params, r.tokens, r.training_dollars, r.serving_dollars);
                    (it[j], ok[j]) = (r.iterations, true);
                }
                Err(e) => {
                    (p[j], t[j], tr[j], sv[j]) = (f64::NAN, f64::NAN, f64::NAN, f64::NAN);
                    (it[j], ok[j]) = (0, false);
                    reject(e, on_invalid, &mut err);
                }
            }
        }
        err
    })
}
