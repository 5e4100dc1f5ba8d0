//! The root of psi for one row, in scalar code (libm): Newton's descent from the
//! zero-demand optimum, and where that cannot run (the optimum at the pole), a bracket with
//! safeguarded Newton and bisection.

use super::*;

/// Bisection steps are cheap; this cap is only a guard (60 halvings of any bracket reach
/// the f64 resolution of ln N).
const MAX_STEPS: u32 = 200;

/// One law with the logarithms the dual needs of it, computed once per law (once per
/// batch when every row shares it).
#[derive(Debug, Clone, Copy)]
pub(super) struct DualLaw {
    pub(super) law: Law,
    pub(super) ln_aa: f64,
    pub(super) ln_bb: f64,
    inv_b1: f64,
    floor_squared: f64,
}

impl DualLaw {
    pub(super) fn new(law: Law) -> DualLaw {
        DualLaw {
            law,
            ln_aa: (law.alpha * law.a).ln(),
            ln_bb: (law.beta * law.b).ln(),
            inv_b1: 1.0 / (law.beta + 1.0),
            floor_squared: (law.alpha + law.beta).powi(2),
        }
    }

    /// `[E, A, B, alpha, beta]`.
    pub(super) fn coefficients(&self) -> [f64; 5] {
        let l = &self.law;
        [l.e, l.a, l.b, l.alpha, l.beta]
    }
}

/// `psi(x)`, which has the sign of `dL/d ln N` along the budget curve `N (D + m) = C` at
/// `x = ln N`, and its slope. With `r = e^(x - x_hi)` (`x_hi = ln(C / m)`, where D reaches
/// 0) and `u = C e^-x - m = C e^-x (1 - r)`:
/// `psi = ln(beta B) - (beta + 1) ln u + (ln C - x) - ln(alpha A) + alpha x` and
/// `psi' = (beta + 1) / (1 - r) - 1 + alpha > 0`, increasing in x: psi is increasing and
/// convex, so it has one root, and Newton from the right of it descends monotonically.
pub(super) struct Psi {
    pub(super) ln_c: f64,
    x_hi: f64,
    ln_aa: f64,
    ln_bb: f64,
    alpha: f64,
    beta: f64,
    /// `1 / (beta + 1)`.
    inv_b1: f64,
    /// `(alpha + beta)^2`, the square of the least slope psi has (at `r = 0`).
    floor_squared: f64,
}

impl Psi {
    /// psi for budget `e^ln_c` and demand term `e^ln_m` (`ln_m = -inf` without demand).
    pub(super) fn new(law: &DualLaw, ln_c: f64, ln_m: f64) -> Psi {
        Psi {
            ln_c,
            x_hi: ln_c - ln_m,
            ln_aa: law.ln_aa,
            ln_bb: law.ln_bb,
            alpha: law.law.alpha,
            beta: law.law.beta,
            inv_b1: law.inv_b1,
            floor_squared: law.floor_squared,
        }
    }

    /// `ln N` of the zero-demand (Chinchilla) optimum for the same budget:
    /// `(ln(alpha A / (beta B)) + beta ln C) / (alpha + beta)`. The root lies below it.
    pub(super) fn zero_demand_optimum(&self) -> f64 {
        (self.ln_aa - self.ln_bb + self.beta * self.ln_c) / (self.alpha + self.beta)
    }

    /// Where Newton starts in `[lo, hi]`: `hi` unless it is the pole `x_hi`; then the
    /// point where the pole term `-(beta + 1) ln(1 - r)` cancels the rest of psi taken at
    /// the pole, which lies within a small fraction of the root when the demand dominates
    /// (the midpoint if that point is outside the bracket).
    fn start(&self, lo: f64, hi: f64) -> f64 {
        if hi < self.x_hi {
            return hi;
        }
        let (x, b1) = (self.x_hi, self.beta + 1.0);
        let rest =
            self.ln_bb - b1 * (self.ln_c - x) + (self.ln_c - x) - (self.ln_aa - self.alpha * x);
        // -(beta + 1) ln(1 - r) = -rest, so r = 1 - e^(rest / (beta + 1)), x = x_hi + ln r.
        let guess = x + (-(rest / b1).exp_m1()).ln();
        if guess > lo && guess < hi {
            guess
        } else {
            0.5 * (lo + hi)
        }
    }

    /// `(psi(x), psi'(x), noise, psi''(x))`; `1 - r` as `-expm1(x - x_hi)`, exact near the
    /// pole at `x_hi`. `noise` bounds the rounding in `psi(x)`: a few ulp of its largest
    /// terms. `psi'' = (beta + 1) r / (1 - r)^2`.
    fn at(&self, x: f64) -> (f64, f64, f64, f64) {
        let one_minus_r = one_minus_exp(x - self.x_hi);
        let ln_u = self.ln_c - x + one_minus_r.ln();
        let terms = [
            self.ln_bb,
            (self.beta + 1.0) * ln_u,
            self.ln_c - x,
            self.ln_aa - self.alpha * x,
        ];
        let value = terms[0] - terms[1] + terms[2] - terms[3];
        let pole = (self.beta + 1.0) / one_minus_r;
        let slope = pole - 1.0 + self.alpha;
        // (beta + 1) r / (1 - r)^2 as pole^2 r / (beta + 1), without a second division
        // (the caller only compares it; the loop is bound by its divisions and libm calls).
        let curve = pole * pole * (1.0 - one_minus_r) * self.inv_b1;
        // A plain comparison, not f64::max: its NaN rules cost six instructions a term,
        // and a NaN term makes `value` NaN, which every caller rejects anyway.
        let scale = terms
            .iter()
            .fold(0.0f64, |m, t| if t.abs() > m { t.abs() } else { m });
        (value, slope, 8.0 * f64::EPSILON * scale, curve)
    }
}

/// `1 - e^t` for `t < 0`: libm's `expm1` (~4x the cost of `exp`) only near 0, where
/// `1 - e^t` would cancel; below -0.5 (`e^t < 0.61`) the subtraction loses at most 1.3 ulp.
#[inline(always)]
fn one_minus_exp(t: f64) -> f64 {
    if t > -0.5 {
        -t.exp_m1()
    } else {
        1.0 - t.exp()
    }
}

/// The best model lies below both the zero-demand optimum `x0` and `x_hi`: walk down from
/// there, doubling the step, until psi < 0. Returns `(lo, hi, steps)` with
/// `psi(lo) < 0 <= psi(hi)`.
fn bracket(psi: &Psi, x0: f64, index: usize) -> Result<(f64, f64, u32)> {
    let mut hi = x0.min(psi.x_hi);
    let mut step = 1.0;
    let mut lo = hi - step;
    let mut steps = 0;
    while psi.at(lo).0 >= 0.0 {
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
    Ok((lo, hi, steps))
}

/// Bisection of `[lo, hi]` to 4 ulp: `(x, steps)`.
fn bisect(psi: &Psi, mut lo: f64, mut hi: f64) -> (f64, u32) {
    let mut it = 0;
    while hi - lo > 4.0 * f64::EPSILON * hi.abs().max(1.0) && it < MAX_STEPS {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if psi.at(mid).0 >= 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
        it += 1;
    }
    (0.5 * (lo + hi), it)
}

/// Newton's method on psi from the bracket's right end (or its middle when that is the
/// pole), safeguarded: the bracket shrinks with every evaluation and a step that would
/// leave it bisects instead. Stops when psi is zero to within its own rounding, or a step
/// moves x by at most 2 ulp; `None` if neither happens within `MAX_NEWTON` steps (the
/// caller then bisects).
fn newton(psi: &Psi, mut lo: f64, mut hi: f64) -> Option<(f64, u32)> {
    let mut x = psi.start(lo, hi);
    for it in 1..=MAX_NEWTON {
        let (value, slope, noise, _) = psi.at(x);
        if value.abs() <= noise {
            return Some((x, it));
        }
        if value > 0.0 {
            hi = x;
        } else {
            lo = x;
        }
        let step = value / slope;
        if step.abs() <= 2.0 * f64::EPSILON * x.abs().max(1.0) {
            return Some((x - step, it));
        }
        x = match x - step {
            next if next > lo && next < hi => next,
            _ => 0.5 * (lo + hi),
        };
    }
    None
}

/// Newton steps before the dual falls back to bisection (it converges in about 6).
const MAX_NEWTON: u32 = 50;

/// Newton from `x0`, right of the root where psi is convex and increasing: every iterate
/// stays right of the root and the steps shrink, so no bracket is needed. Stops as
/// [`newton`] does; `None` when `x0` is at the pole, an iterate lands left of the root by
/// more than psi's rounding, or it has not settled in `MAX_NEWTON` steps.
fn descend(psi: &Psi, x0: f64) -> Option<(f64, u32)> {
    // Also refuses a NaN x0.
    if x0.partial_cmp(&psi.x_hi) != Some(std::cmp::Ordering::Less) {
        return None;
    }
    let mut x = x0;
    for it in 1..=MAX_NEWTON {
        let (value, slope, noise, curve) = psi.at(x);
        if value.abs() <= noise {
            return Some((x, it));
        }
        if !(value > 0.0 && value.is_finite()) {
            return None;
        }
        let step = value / slope;
        // Newton's next error is psi''(xi) / (2 psi'(x)) e^2 with xi between the root and
        // x, so psi''(xi) <= psi''(x) (psi'' grows with x), and the error e = x - root is at
        // most psi(x) / (alpha + beta), the least slope psi has. When that bound is under
        // half an ulp the step lands on the root and the evaluation that would confirm it
        // is saved: most rows then stop after one evaluation instead of two. (A bound from
        // the step alone, e ~ step, fails next to the pole, where psi' is huge at x.)
        let ulp = f64::EPSILON * x.abs().max(1.0);
        // curve / (2 slope) (value / floor)^2 <= ulp / 2, without divisions.
        if step <= 2.0 * ulp || curve * value * value <= slope * ulp * psi.floor_squared {
            return Some((x - step, it));
        }
        x -= step;
    }
    None
}

/// `(ln N, steps)` of the best model with demand term `m > 0`: the root of [`Psi`]. Newton
/// descends from the zero-demand optimum; where it cannot (the optimum at or beyond the
/// pole), the root is bracketed by walking down from there and found by the safeguarded
/// [`newton`], with bisection as the fallback; `Method::Bisect` bisects the bracket.
pub(super) fn best_ln_params(psi: &Psi, method: Method, index: usize) -> Result<(f64, u32)> {
    let x0 = psi.zero_demand_optimum();
    if method == Method::Newton {
        if let Some(found) = descend(psi, x0) {
            return Ok(found);
        }
    }
    let (lo, hi, steps) = bracket(psi, x0, index)?;
    let newton = match method {
        Method::Newton => newton(psi, lo, hi),
        _ => None,
    };
    let (x, it) = newton.unwrap_or_else(|| bisect(psi, lo, hi));
    Ok((x, steps + it))
}
