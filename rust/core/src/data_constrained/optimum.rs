//! Optima under the data-constrained law: the lifetime optimum at a target loss (training
//! plus inference FLOPs, or dollars through an effective demand) and the training-only
//! optimum for a compute budget (the paper's question), both for a supply of unique tokens.

use super::*;
use crate::lifetime::{optimum, Options};

/// Bisection steps allowed: a bracket of the float range narrows to rounding in ~1,100, and
/// every bracket here spans at most a few hundred in ln D.
const MAX_ITER: u32 = 200;

/// An optimum: N, D, the effective tokens D', bisection steps, and whether the supply
/// bound it (false: the answer is the plain law's, bit for bit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConstrainedOptimum {
    pub params: f64,
    pub tokens: f64,
    pub effective_tokens: f64,
    pub iterations: u32,
    pub binding: bool,
}

fn check_unique(unique: f64, index: Option<usize>) -> Result<f64> {
    if unique.is_finite() && unique > 0.0 {
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
    let d_eff = u + u * dc.rd_star * -(-r_d / dc.rd_star).exp_m1();
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
/// and is the root of the cost's derivative along the curve `N(D)`, D >= U, by bisection.
pub fn lifetime_optimum(
    dc: &DataConstrained,
    loss: f64,
    demand: f64,
    unique: f64,
    index: Option<usize>,
) -> Result<ConstrainedOptimum> {
    dc.law.gap(loss, index)?;
    let unique = check_unique(unique, index)?;
    if !(demand.is_finite() && demand >= 0.0) {
        return Err(Error::Invalid {
            argument: "inference_tokens",
            value: demand,
            requirement: "finite and >= 0",
            index,
        });
    }
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
        return Err(Error::Unreachable {
            index: at,
            argument: "loss",
            reason: "the loss is at or below the floor the law reaches with these unique \
                     tokens, however many parameters and repetitions",
        });
    }
    let ln_u = unique.ln();
    let slope = |y: f64| {
        curve(dc, loss, ln_u, y).map(|(_, dn, _)| dn + 1.0 / (1.0 + demand / (3.0 * y.exp())))
    };
    let mut iterations = 0;
    let lo = feasible_start(|y| slope(y).is_some(), ln_u, at, &mut iterations)?;
    let y = match slope(lo) {
        Some(s) if s >= 0.0 => lo,
        _ => {
            let mut hi = lo.max(plain.tokens.ln());
            while slope(hi).is_none_or(|s| s <= 0.0) {
                hi += 1.0 + (hi - lo);
                if hi > 700.0 {
                    return Err(Error::Overflow {
                        index: at,
                        quantity: "tokens",
                        ln_value: hi,
                    });
                }
            }
            bisect(
                |y| slope(y).is_none_or(|s| s < 0.0),
                lo,
                hi,
                &mut iterations,
                at,
            )?
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

/// The smallest `y >= ln U` where `feasible(y)`: `ln U` itself, or the boundary found by
/// bisection after stepping right until feasible (the feasible set is a half-line: more
/// tokens only lower the loss).
fn feasible_start(
    feasible: impl Fn(f64) -> bool,
    ln_u: f64,
    index: usize,
    iterations: &mut u32,
) -> Result<f64> {
    if feasible(ln_u) {
        return Ok(ln_u);
    }
    let mut step = 1.0;
    while !feasible(ln_u + step) {
        step *= 2.0;
        if ln_u + step > 700.0 {
            return Err(Error::Overflow {
                index,
                quantity: "tokens",
                ln_value: ln_u + step,
            });
        }
    }
    // The feasible side of the boundary, to rounding.
    let below = |y: f64| !feasible(y);
    let y = bisect(below, ln_u, ln_u + step, iterations, index)?;
    Ok(if feasible(y) { y } else { ln_u + step })
}

/// The point where `left(y)` turns false in `[lo, hi]` (`left(lo)`, `!left(hi)`), to 4 ulp,
/// returned on its right side.
fn bisect(
    left: impl Fn(f64) -> bool,
    mut lo: f64,
    mut hi: f64,
    iterations: &mut u32,
    index: usize,
) -> Result<f64> {
    for _ in 0..MAX_ITER {
        if hi - lo <= 4.0 * f64::EPSILON * hi.abs().max(1.0) {
            return Ok(hi);
        }
        *iterations += 1;
        let mid = 0.5 * (lo + hi);
        if left(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Err(Error::NotConverged {
        index,
        iterations: *iterations,
    })
}

/// The paper's question, solved exactly: the N and D with `6 N D = flops` that minimise
/// `L(N, D, U)`. The plain Chinchilla split when its tokens fit the supply; otherwise the
/// loss along `N = flops / (6 D)` is scanned in steps of 0.05 in ln D around the Chinchilla
/// split and the best step's neighbourhood is bisected on the derivative.
pub fn training_optimum(
    dc: &DataConstrained,
    flops: f64,
    unique: f64,
    index: Option<usize>,
) -> Result<ConstrainedOptimum> {
    let unique = check_unique(unique, index)?;
    if !(flops.is_finite() && flops > 6.0) {
        return Err(Error::Invalid {
            argument: "flops",
            value: flops,
            requirement: "finite and > 6",
            index,
        });
    }
    let (n, d) = dc.law.chinchilla_for_compute(flops);
    if d <= unique {
        let effective_tokens = d;
        return Ok(ConstrainedOptimum {
            params: n,
            tokens: d,
            effective_tokens,
            iterations: 0,
            binding: false,
        });
    }
    let ln_c6 = (flops / 6.0).ln();
    let at = |y: f64| dc.point((ln_c6 - y).exp(), y.exp(), unique);
    let start = d.ln() - 2.0;
    let (mut best, mut best_loss) = (start, f64::INFINITY);
    for k in 0..=240 {
        let y = start + 0.05 * f64::from(k);
        let l = at(y).loss;
        if l < best_loss {
            (best, best_loss) = (y, l);
        }
    }
    let slope = |y: f64| {
        let p = at(y);
        p.d_ln_tokens - p.d_ln_params
    };
    let (lo, hi) = (best - 0.05, best + 0.05);
    let mut iterations = 241;
    let y = if slope(lo) < 0.0 && slope(hi) > 0.0 {
        bisect(
            |y| slope(y) < 0.0,
            lo,
            hi,
            &mut iterations,
            index.unwrap_or(0),
        )?
    } else {
        best
    };
    let p = at(y);
    Ok(ConstrainedOptimum {
        params: (ln_c6 - y).exp(),
        tokens: y.exp(),
        effective_tokens: p.effective_tokens,
        iterations,
        binding: true,
    })
}
