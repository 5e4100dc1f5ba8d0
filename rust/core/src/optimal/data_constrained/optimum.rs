//! Optima under the data-constrained law: the lifetime optimum at a target loss (training
//! plus inference FLOPs, or dollars through an effective demand) and the training-only
//! optimum for a compute budget (the paper's question), both for a supply of unique tokens.

use super::*;
use crate::laws::flops::{INFERENCE_PER_PARAM, TRAINING_PER_INFERENCE, TRAINING_PER_PARAM};
use crate::optimal::dual::best_quality;
use crate::optimal::lifetime::{optimum, Method, Options};

/// Root-finding steps allowed: halving alone narrows any bracket here (a few hundred wide in
/// ln D at most) to rounding in ~60.
const MAX_ITER: u32 = 200;

/// An optimum: N, D, the effective tokens D', root-finding steps, and whether the supply
/// bound it (false: the answer is the plain law's, bit for bit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConstrainedOptimum {
    pub params: f64,
    pub tokens: f64,
    pub effective_tokens: f64,
    pub iterations: u32,
    pub binding: bool,
}

pub(super) fn check_unique(unique: f64, index: Option<usize>) -> Result<f64> {
    if is_positive(unique) {
        Ok(unique)
    } else {
        Err(Error::Invalid {
            argument: "unique_tokens",
            value: unique,
            requirement: "finite and > 0",
            index,
        })
    }
}

/// The error for a loss no model reaches with the supply.
pub(super) fn below_floor(index: usize) -> Error {
    Error::Unreachable {
        index,
        argument: "loss",
        reason: "the loss is at or below the floor the law reaches with these unique_tokens, \
                 however many parameters and repetitions",
    }
}

fn check_demand(demand: f64, index: Option<usize>) -> Result<f64> {
    if is_non_negative(demand) {
        Ok(demand)
    } else {
        Err(Error::Invalid {
            argument: "inference_tokens",
            value: demand,
            requirement: "finite and >= 0",
            index,
        })
    }
}

/// The parameters on the iso-loss curve at `y = ln D >= ln U`: `(ln N, d ln N / d y,
/// ln D')`, or None where no N reaches the loss. Closed form: D' follows from D, the
/// parameter term from the loss, and N from N' (inverting the decay beyond N_opt(U)).
fn curve(dc: &DataConstrained, loss: f64, ln_u: f64, y: f64) -> Option<(f64, f64, f64)> {
    let Law {
        e,
        a,
        b,
        alpha,
        beta,
    } = dc.law;
    let (u, d) = (ln_u.exp(), y.exp());
    let r_d = d / u - 1.0;
    let decay = (-r_d / dc.rd_star).exp();
    let d_eff = u + u * saturated(r_d, dc.rd_star);
    let dd = d * decay / d_eff;
    let q = b * d_eff.powf(-beta);
    let rest = loss - e - q;
    // NaN fails too: no N reaches the loss at this D.
    if rest.is_nan() || rest <= 0.0 {
        return None;
    }
    let ln_n_eff = (a.ln() - rest.ln()) / alpha;
    let dn_eff = -(beta * q / rest) * dd / alpha;
    let ln_cap = dc.ln_params_for_tokens(ln_u);
    if ln_n_eff <= ln_cap {
        return Some((ln_n_eff, dn_eff, d_eff.ln()));
    }
    let excess = (ln_n_eff - ln_cap).exp_m1(); // N'/N_opt(U) - 1
    if excess >= dc.rn_star {
        return None;
    }
    let r_n = -dc.rn_star * (-excess / dc.rn_star).ln_1p();
    let ln_n = ln_cap + r_n.ln_1p();
    let dn = (ln_n_eff - ln_n).exp() * (r_n / dc.rn_star).exp() * dn_eff;
    Some((ln_n, dn, d_eff.ln()))
}

/// Minimises `N (6 D + 2 demand)` at `L(N, D, U) = loss`. When the plain law's optimum
/// trains on no more than `unique` tokens it is the answer (the data-constrained loss is
/// never below the plain one, and equals it there); otherwise the optimum repeats data,
/// and is the root of the cost's derivative along the curve `N(D)`, D >= U (Illinois).
pub fn lifetime_optimum(
    dc: &DataConstrained,
    loss: f64,
    demand: f64,
    unique: f64,
    index: Option<usize>,
) -> Result<ConstrainedOptimum> {
    dc.law.gap(loss, index)?;
    let unique = check_unique(unique, index)?;
    check_demand(demand, index)?;
    let plain = optimum(&dc.law, loss, demand, &Options::default())?;
    if plain.tokens <= unique {
        return Ok(ConstrainedOptimum {
            params: plain.params,
            tokens: plain.tokens,
            effective_tokens: plain.tokens,
            iterations: plain.iterations,
            binding: false,
        });
    }
    let at = index.unwrap_or(0);
    if loss <= dc.floor(unique) {
        return Err(below_floor(at));
    }
    let ln_u = unique.ln();
    let slope = |y: f64| {
        curve(dc, loss, ln_u, y)
            .map(|(_, dn, _)| dn + 1.0 / (1.0 + demand / (TRAINING_PER_INFERENCE * y.exp())))
    };
    let mut iterations = 0;
    let lo = first_feasible(dc, loss, unique);
    if !lo.is_finite() {
        // Coefficients at the edge of the float range (A near 1.8e308) leave no finite
        // first feasible D; a NaN here once made the search below loop for ever.
        return Err(Error::Overflow {
            index: at,
            quantity: "tokens",
            ln_value: if lo.is_nan() { f64::INFINITY } else { lo },
        });
    }
    let y = match slope(lo) {
        Some(s) if s >= 0.0 => lo,
        _ => {
            let mut hi = lo.max(plain.tokens.ln());
            while slope(hi).is_none_or(|s| s <= 0.0) {
                hi += 1.0 + (hi - lo);
                // A NaN must stop the search too (it once looped for ever). The step
                // at least doubles `hi - lo`, so this ends within about 11 turns.
                if hi.is_nan() || hi > 700.0 {
                    return Err(Error::Overflow {
                        index: at,
                        quantity: "tokens",
                        ln_value: hi,
                    });
                }
            }
            let h = |y: f64| slope(y).unwrap_or(f64::NEG_INFINITY);
            illinois(h, lo, hi, &mut iterations, at)?
        }
    };
    let (ln_n, _, ln_d_eff) = curve(dc, loss, ln_u, y).ok_or(Error::NotConverged {
        index: at,
        iterations,
    })?;
    Ok(ConstrainedOptimum {
        params: ln_n.exp(),
        tokens: y.exp(),
        effective_tokens: ln_d_eff.exp(),
        iterations,
        binding: true,
    })
}

/// The smallest `ln D >= ln U` at which some N reaches the loss, in closed form: N is
/// finite while the parameter term can exceed its saturated value `A (N_opt(U) (1 +
/// R_N*))^-alpha`, so the data term must be below `l - E` minus that, which bounds D'
/// below, and D' inverts to D. At the bound itself N is infinite (the cost's slope there
/// is -inf, which the root finder takes as a bisection).
fn first_feasible(dc: &DataConstrained, loss: f64, unique: f64) -> f64 {
    let Law {
        e,
        a,
        b,
        alpha,
        beta,
    } = dc.law;
    let cap = dc.ln_params_for_tokens(unique.ln()).exp();
    let room = loss - e - a * (cap * (1.0 + dc.rn_star)).powf(-alpha);
    let d_eff = (b / room).powf(1.0 / beta);
    if d_eff <= unique {
        return unique.ln();
    }
    let r_d = -dc.rd_star * (-(d_eff / unique - 1.0) / dc.rd_star).ln_1p();
    unique.ln() + r_d.ln_1p()
}

/// The `y = start + step k`, k in 0..=steps, where `f` is least (the first on a tie).
fn lowest_step(f: impl Fn(f64) -> f64, start: f64, step: f64, steps: u32) -> f64 {
    let (mut best, mut lowest) = (start, f64::INFINITY);
    for k in 0..=steps {
        let y = start + step * f64::from(k);
        let v = f(y);
        if v < lowest {
            (best, lowest) = (y, v);
        }
    }
    best
}

/// The root of `h` in `[lo, hi]` (`h(lo) < 0 < h(hi)`, continuous between) by the
/// Illinois variant of regula falsi, which halves the weight of an end kept twice and so
/// converges superlinearly; the bracket is narrowed to 4 ulp and its right end returned.
fn illinois(
    h: impl Fn(f64) -> f64,
    mut lo: f64,
    mut hi: f64,
    iterations: &mut u32,
    index: usize,
) -> Result<f64> {
    let (mut f_lo, mut f_hi) = (h(lo), h(hi));
    let mut kept = 0i8; // which end the last step kept: -1 low, 1 high
    for step in 0..MAX_ITER {
        if hi - lo <= 4.0 * f64::EPSILON * hi.abs().max(1.0) {
            return Ok(hi);
        }
        *iterations += 1;
        let mut x = (lo * f_hi - hi * f_lo) / (f_hi - f_lo);
        // Past 40 steps something is pathological: halve, which always finishes.
        if !(x > lo && x < hi) || step >= 40 {
            x = 0.5 * (lo + hi);
        }
        let f = h(x);
        if f < 0.0 {
            (lo, f_lo) = (x, f);
            if kept == -1 {
                f_hi *= 0.5;
            }
            kept = -1;
        } else if f > 0.0 {
            (hi, f_hi) = (x, f);
            if kept == 1 {
                f_lo *= 0.5;
            }
            kept = 1;
        } else {
            return Ok(x);
        }
    }
    Err(Error::NotConverged {
        index,
        iterations: *iterations,
    })
}

/// The lowest loss for a lifetime budget, `N (6 D + 2 demand) = flops`, with `unique`
/// tokens; with no demand it is the paper's question (the best split of a training
/// budget), solved exactly. The plain law's answer where its tokens fit the supply (with
/// no demand the Chinchilla closed form, otherwise the dual's); else the loss along the
/// budget, `N = flops / (6 D + 2 demand)`, is scanned in steps of 0.05 in ln D from 2
/// below to 10 above the plain answer's and the best step's neighbourhood is narrowed on
/// the derivative (Illinois).
pub fn budget_optimum(
    dc: &DataConstrained,
    flops: f64,
    demand: f64,
    unique: f64,
    index: Option<usize>,
) -> Result<ConstrainedOptimum> {
    let unique = check_unique(unique, index)?;
    if !(flops.is_finite() && flops > TRAINING_PER_PARAM) {
        return Err(Error::Invalid {
            argument: "budget",
            value: flops,
            requirement: "finite and > 6",
            index,
        });
    }
    check_demand(demand, index)?;
    let (n, d) = match demand {
        0.0 => dc.law.chinchilla_for_compute(flops),
        _ => {
            let m = best_quality(&dc.law, flops / TRAINING_PER_PARAM, demand, Method::Newton)?;
            (m.params, m.tokens)
        }
    };
    if d <= unique {
        return Ok(ConstrainedOptimum {
            params: n,
            tokens: d,
            effective_tokens: d,
            iterations: 0,
            binding: false,
        });
    }
    let at = |y: f64| {
        let d = y.exp();
        let n = flops / (TRAINING_PER_PARAM * d + INFERENCE_PER_PARAM * demand);
        (
            n,
            dc.point(n, d, unique),
            TRAINING_PER_PARAM * d / (TRAINING_PER_PARAM * d + INFERENCE_PER_PARAM * demand),
        )
    };
    let best = lowest_step(|y| at(y).1.loss, d.ln() - 2.0, 0.05, 240);
    // d L / d ln D along the budget: N falls as D rises, by d ln N / d ln D = -share.
    let slope = |y: f64| {
        let (_, p, share) = at(y);
        p.d_ln_tokens - share * p.d_ln_params
    };
    let (lo, hi) = (best - 0.05, best + 0.05);
    let mut iterations = 241;
    let y = if slope(lo) < 0.0 && slope(hi) > 0.0 {
        illinois(slope, lo, hi, &mut iterations, index.unwrap_or(0))?
    } else {
        best
    };
    let (n, p, _) = at(y);
    Ok(ConstrainedOptimum {
        params: n,
        tokens: y.exp(),
        effective_tokens: p.effective_tokens,
        iterations,
        binding: true,
    })
}
