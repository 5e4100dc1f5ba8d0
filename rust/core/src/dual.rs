//! The dual of lifetime sizing: the lowest loss reachable with a lifetime budget.
//!
//! With training cost `k_tr N D` and inference cost `K N`, a budget `b` allows
//! `N (D + m) = C` with `C = b / k_tr` and `m = K / k_tr = D_eff / 3`. Along that curve, in
//! `x = ln N`, `L(x) = A e^(-alpha x) + B (C e^(-x) - m)^(-beta)` is a sum of two convex
//! functions, so its derivative changes sign once; we bisect on that sign. At the minimum
//! the Lagrange conditions of the lifetime problem hold, so this is exactly the inverse of
//! [`crate::lifetime::optimum`]: the plan it returns costs `b`, and its loss gives it back.

use crate::batch::reject;
use crate::batch::{drive, use_parallel, Column, OnInvalid};
use crate::error::{Error, Result};
use crate::law::{check_positive, Law, LawColumns};
use crate::lifetime::{Demand, DemandColumns};

/// The best model for one budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BestModel {
    pub params: f64,
    pub tokens: f64,
    pub loss: f64,
    pub iterations: u32,
}

/// Bisection steps are cheap; this cap is only a guard (60 halvings of any bracket reach
/// the f64 resolution of ln N).
const MAX_STEPS: u32 = 200;

/// The lowest-loss `(N, D)` with `N (D + d_eff / 3) = budget`, `budget` in units of
/// `k_tr` (for FLOPs, training FLOPs / 6; see `scaleplan.costs` for dollars).
///
/// ```
/// use scaleplan::{dual::best_model, law::Law};
/// // Without demand it is the Chinchilla optimum for 6 * budget training FLOPs.
/// let m = best_model(&Law::CHINCHILLA, 1e23 / 6.0, 0.0).unwrap();
/// let (n, d) = Law::CHINCHILLA.chinchilla_for_compute(1e23);
/// assert!((m.params / n - 1.0).abs() < 1e-12 && (m.tokens / d - 1.0).abs() < 1e-12);
/// ```
pub fn best_model(law: &Law, budget: f64, d_eff: f64) -> Result<BestModel> {
    let law = Law::new(law.e, law.a, law.b, law.alpha, law.beta)?;
    check_positive("budget", budget, None)?;
    if !(d_eff.is_finite() && d_eff >= 0.0) {
        return Err(Error::Invalid {
            argument: "effective_demand",
            value: d_eff,
            requirement: "finite and >= 0",
            index: None,
        });
    }
    solve(&law, budget, d_eff / 3.0, 0)
}

/// `(ln N, steps)` of the best model with demand term `m > 0`: the root of `psi`, which
/// has the sign of `dL/d ln N` along the budget curve, bracketed by walking down from the
/// zero-demand optimum and then bisected to f64 resolution.
fn best_ln_params(law: &Law, c: f64, m: f64, index: usize) -> Result<(f64, u32)> {
    let ln_c = c.ln();
    let x_hi = ln_c - m.ln();
    // psi(x) > 0 exactly where dL/dx > 0; it increases with x (L is convex in x).
    let ln_aa = (law.alpha * law.a).ln();
    let ln_bb = (law.beta * law.b).ln();
    let psi = |x: f64| {
        // u = C e^-x - m > 0 for x < x_hi, computed in logs: ln u = ln C - x + ln(1 - e^(x - x_hi)).
        let ln_u = ln_c - x + (-(x - x_hi).exp_m1()).ln();
        ln_bb - (law.beta + 1.0) * ln_u + (ln_c - x) - (ln_aa - law.alpha * x)
    };
    // The optimum lies below both the zero-demand optimum and x_hi; walk down from
    // there, doubling the step, until psi < 0.
    let (n0, _) = law.chinchilla_for_compute(6.0 * c);
    let mut hi = n0.ln().min(x_hi);
    let mut step = 1.0;
    let mut lo = hi - step;
    let mut steps = 0;
    while psi(lo) >= 0.0 {
        hi = lo;
        step *= 2.0;
        lo -= step;
        steps += 1;
        if steps > 60 || !lo.is_finite() {
            return Err(Error::NotConverged {
                index,
                iterations: steps,
            });
        }
    }
    let mut it = 0;
    while hi - lo > 4.0 * f64::EPSILON * hi.abs().max(1.0) && it < MAX_STEPS {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if psi(mid) >= 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
        it += 1;
    }
    Ok((0.5 * (lo + hi), steps + it))
}

fn solve(law: &Law, c: f64, m: f64, index: usize) -> Result<BestModel> {
    let ln_c = c.ln();
    let (x, iterations) = if m == 0.0 {
        let (n, _) = law.chinchilla_for_compute(6.0 * c);
        (n.ln(), 0)
    } else {
        best_ln_params(law, c, m, index)?
    };
    let params = x.exp();
    let tokens = (ln_c - x).exp() - m;
    if !(params.is_finite() && tokens.is_finite()) {
        return Err(Error::Overflow {
            index,
            quantity: "params",
            ln_value: x,
        });
    }
    // Below one parameter or one token there is no model, only arithmetic: a budget too
    // small for its demand once came back as a 0.005-parameter "model" at loss 2414.
    if !(params >= 1.0 && tokens >= 1.0) {
        return Err(Error::Unreachable {
            index,
            argument: "budget",
            reason: "budget is too small for the demand: it cannot train and serve a model of \
                     at least one parameter trained on at least one token",
        });
    }
    let loss = law.loss(params, tokens);
    if !loss.is_finite() {
        return Err(Error::Unreachable {
            index,
            argument: "budget",
            reason: "budget buys no model whose loss is finite under this law",
        });
    }
    Ok(BestModel {
        params,
        tokens,
        loss,
        iterations,
    })
}

/// Output columns of [`best_model_batch`]: ((params, tokens), (loss, iterations)).
pub type BestOutputs<'a> = (
    (&'a mut [f64], &'a mut [f64]),
    (&'a mut [f64], &'a mut [u32]),
);

/// [`best_model`] for every row; inputs broadcast to the outputs' length.
pub fn best_model_batch(
    budget: &[f64],
    demand: Demand<'_>,
    laws: &LawColumns<'_>,
    on_invalid: OnInvalid,
    parallel: Option<bool>,
    out: BestOutputs<'_>,
) -> Result<()> {
    let n = out.0 .0.len();
    let budget = Column::new("budget", budget, n)?;
    let demand = DemandColumns::new(demand, n)?;
    let kernel = |start: usize, ((p, t), (l, it)): BestOutputs<'_>| {
        let mut first = None;
        for j in 0..p.len() {
            let i = start + j;
            let row = || -> Result<BestModel> {
                let law = laws.get(i)?;
                let c = check_positive("budget", budget.get(i), Some(i))?;
                solve(&law, c, demand.get(i)? / 3.0, i)
            };
            match row() {
                Ok(m) => {
                    (p[j], t[j], l[j], it[j]) = (m.params, m.tokens, m.loss, m.iterations);
                }
                Err(e) => {
                    (p[j], t[j], l[j], it[j]) = (f64::NAN, f64::NAN, f64::NAN, 0);
                    reject(e, on_invalid, &mut first);
                }
            }
        }
        first
    };
    drive(out, use_parallel(n, parallel), &kernel)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifetime::{optimum, Options};

    #[test]
    fn inverse_of_the_lifetime_optimum() {
        let law = Law::CHINCHILLA;
        for &loss in &[1.8, 2.0, 2.5, 3.5] {
            for &d_eff in &[1e3, 1e9, 1e12, 1e15, 1e19] {
                let o = optimum(&law, loss, d_eff, &Options::default()).unwrap();
                let budget = o.params * (o.tokens + d_eff / 3.0);
                let b = best_model(&law, budget, d_eff).unwrap();
                assert!(
                    (b.loss - loss).abs() < 1e-11 * loss,
                    "{loss} {d_eff}: {}",
                    b.loss
                );
                assert!((b.params / o.params - 1.0).abs() < 1e-7, "{loss} {d_eff}");
                assert!((b.tokens / o.tokens - 1.0).abs() < 1e-7, "{loss} {d_eff}");
            }
        }
    }

    #[test]
    fn rejects_bad_budget_and_demand() {
        let law = Law::CHINCHILLA;
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let e = best_model(&law, bad, 1e9).unwrap_err().to_string();
            assert!(e.starts_with("budget must be finite and > 0"), "{e}");
        }
        let e = best_model(&law, 1e20, -1.0).unwrap_err().to_string();
        assert!(e.starts_with("effective_demand must be"), "{e}");
    }

    #[test]
    fn no_fractional_models_and_no_infinite_losses() {
        // 1e10 FLOPs against 1e12 inference tokens: at most 0.005 parameters.
        let e = best_model(&Law::CHINCHILLA, 1e10 / 6.0, 1e12).unwrap_err();
        assert!(e.to_string().starts_with("budget is too small"), "{e}");
        assert_eq!((e.argument(), e.index()), (Some("budget"), Some(0)));
        // Once returned loss inf with a subnormal parameter count.
        let law = Law::new(1.0, 1.0, 1.0, 1.0, 1.0).unwrap();
        assert!(best_model(&law, 1.0 / 6.0, 1e308).is_err());
    }
}
