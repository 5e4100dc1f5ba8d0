//! The lifetime optimum in dollars with serving priced by a curve (the roofline's, in
//! practice; `physical.rs`) and a finite supply of unique tokens.

use super::*;
use crate::laws::flops::TRAINING_PER_PARAM;
use crate::optimal::physical::{optimum as plain_optimum, PhysicalOptimum, ServingCurve};

/// Steps of the scan in ln D, and its span around ln U: D from U e^-10 to U e^15.
const SCAN_STEP: f64 = 0.01;
const SCAN_BELOW: f64 = 10.0;
const SCAN_ABOVE: f64 = 15.0;
/// Golden-section steps refining the best scan point: the bracket shrinks by 0.618 each,
/// from 0.02 to below 1e-13 in ln D.
const GOLDEN_STEPS: u32 = 70;

/// The parameters reaching `loss` with `d` tokens of which `u` are unique (U_s = min(U, D)),
/// as `(ln N, ln D')`, or None where no N does. Closed form, as `optimum::curve` but on
/// both sides of U and without the derivative.
pub(super) fn params_for_tokens(
    dc: &DataConstrained,
    loss: f64,
    u: f64,
    d: f64,
) -> Option<(f64, f64)> {
    let Law {
        e,
        a,
        b,
        alpha,
        beta,
    } = dc.law;
    let seen = u.min(d);
    let r_d = d / seen - 1.0;
    let d_eff = seen + seen * saturated(r_d, dc.rd_star);
    let rest = loss - e - b * d_eff.powf(-beta);
    if rest.is_nan() || rest <= 0.0 {
        return None;
    }
    let ln_n_eff = (a.ln() - rest.ln()) / alpha;
    let ln_cap = dc.ln_params_for_tokens(seen.ln());
    if ln_n_eff <= ln_cap {
        return Some((ln_n_eff, d_eff.ln()));
    }
    let excess = (ln_n_eff - ln_cap).exp_m1();
    if excess >= dc.rn_star {
        return None;
    }
    let r_n = -dc.rn_star * (-excess / dc.rn_star).ln_1p();
    Some((ln_cap + r_n.ln_1p(), d_eff.ln()))
}

/// One point of the search: the lifetime dollars at `y = ln D`, `Err(true)` where N is
/// off the curve's span (the optimum may lie beyond it), `Err(false)` where no N reaches
/// the loss.
type Cost = std::result::Result<Point, bool>;

#[derive(Clone, Copy)]
struct Point {
    dollars: f64,
    ln_params: f64,
    training: f64,
    serving: f64,
    ln_effective_tokens: f64,
}

/// One row's data: what `cost` needs at each point of the search.
struct Problem<'a> {
    dc: &'a DataConstrained,
    loss: f64,
    unique: f64,
    requests: f64,
    per_flop: f64,
    curve: &'a ServingCurve,
}

impl Problem<'_> {
    /// The lifetime dollars at `y = ln D` on the iso-loss curve.
    fn cost(&self, y: f64) -> Cost {
        let (ln_n, ln_d_eff) =
            params_for_tokens(self.dc, self.loss, self.unique, y.exp()).ok_or(false)?;
        let ln_s = self.curve.ln_dollars_at(ln_n).ok_or(true)?;
        let training = TRAINING_PER_PARAM * self.per_flop * (ln_n + y).exp();
        let serving = self.requests * ln_s.exp();
        Ok(Point {
            dollars: training + serving,
            ln_params: ln_n,
            training,
            serving,
            ln_effective_tokens: ln_d_eff,
        })
    }
}

/// Minimises `6 c N D + R s(N)` at `L(N, D, U) = loss`. The plain optimum
/// (`physical::optimum`) when it trains on at most U tokens and is not over-parameterised
/// for them (then the data-constrained loss equals the plain one there, and is never
/// below it elsewhere); otherwise a scan of the iso-loss curve in steps of 0.01 in ln D
/// over D = U e^-10 .. U e^15, refined by golden section around the best step. The
/// returned flag is `binding`.
pub fn physical_optimum(
    dc: &DataConstrained,
    loss: f64,
    requests: f64,
    per_flop: f64,
    curve: &ServingCurve,
    unique: f64,
    index: Option<usize>,
) -> Result<(PhysicalOptimum, f64, bool)> {
    let unique = optimum::check_unique(unique, index)?;
    let plain = plain_optimum(&dc.law, loss, requests, per_flop, curve, index)?;
    let fits = plain.tokens <= unique
        && plain.params.ln() <= dc.ln_params_for_tokens(plain.tokens.min(unique).ln());
    if fits {
        return Ok((plain, plain.tokens, false));
    }
    let at = index.unwrap_or(0);
    if loss <= dc.floor(unique) {
        return Err(optimum::below_floor(at));
    }
    let problem = Problem {
        dc,
        loss,
        unique,
        requests,
        per_flop,
        curve,
    };
    let cost = |y: f64| problem.cost(y);
    let start = unique.ln() - SCAN_BELOW;
    let steps = ((SCAN_BELOW + SCAN_ABOVE) / SCAN_STEP) as u32;
    let y_at = |k: u32| start + SCAN_STEP * f64::from(k);
    let (best, edge) = best_step(&cost, start, steps);
    let unreachable = |reason| Error::Unreachable {
        index: at,
        argument: "loss",
        reason,
    };
    let (_, k) = best.ok_or(unreachable(
        "no model on the serving curve's span reaches this loss with these unique tokens",
    ))?;
    if edge {
        return Err(unreachable(
            "the cheapest model lies at the edge of the serving curve's span; extend the curve",
        ));
    }
    let y0 = y_at(k);
    let y = golden(
        |y| cost(y).map_or(f64::INFINITY, |p| p.dollars),
        y0 - SCAN_STEP,
        y0 + SCAN_STEP,
    );
    let iterations = steps + GOLDEN_STEPS;
    let p = cost(y).map_err(|_| Error::NotConverged {
        index: at,
        iterations,
    })?;
    let optimum = PhysicalOptimum {
        params: p.ln_params.exp(),
        tokens: y.exp(),
        training_dollars: p.training,
        serving_dollars: p.serving,
        iterations,
    };
    Ok((optimum, p.ln_effective_tokens.exp(), true))
}

/// The scan: the cheapest step `(dollars, k)` of `y = start + SCAN_STEP k`, and whether a
/// step beside it had N off the curve's span (then the optimum may lie beyond the span).
fn best_step(cost: &dyn Fn(f64) -> Cost, start: f64, steps: u32) -> (Option<(f64, u32)>, bool) {
    let (mut best, mut edge, mut last_off) = (None::<(f64, u32)>, false, false);
    for k in 0..=steps {
        match cost(start + SCAN_STEP * f64::from(k)) {
            Ok(p) => {
                if best.is_none_or(|(b, _)| p.dollars < b) {
                    (best, edge) = (Some((p.dollars, k)), last_off);
                }
                last_off = false;
            }
            Err(off_span) => {
                edge |= off_span && best.is_some_and(|(_, b)| b + 1 == k);
                last_off = off_span;
            }
        }
    }
    (best, edge)
}

/// The minimiser of `f` in `[lo, hi]` by golden section (the best point seen).
fn golden(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    let r = 0.5 * (5f64.sqrt() - 1.0);
    let (mut a, mut b) = (hi - r * (hi - lo), lo + r * (hi - lo));
    let (mut fa, mut fb) = (f(a), f(b));
    for _ in 0..GOLDEN_STEPS {
        if fa <= fb {
            (hi, b, fb) = (b, a, fa);
            a = hi - r * (hi - lo);
            fa = f(a);
        } else {
            (lo, a, fa) = (a, b, fb);
            b = lo + r * (hi - lo);
            fb = f(b);
        }
    }
    if fa <= fb {
        a
    } else {
        b
    }
}
