//! One row reduced to `h(s) = K`, with the per-law logarithms rows share, and the finish
//! from the root back to `(ln D, ln N)`.

// Lane loops index several arrays by the same `j`, the shape LLVM vectorises best.
#![allow(clippy::needless_range_loop)]

use super::*;

/// Logarithms of one law that every row with that law shares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LawLogs {
    /// `ln P = ln(B (alpha + beta) / alpha)`.
    pub(crate) ln_p: f64,
    /// `ln(Q/P) - ln D_eff = ln(beta / (3 (alpha + beta)))`.
    pub(crate) ln_qp0: f64,
    /// `ln((alpha + beta) / beta)`: `D_eff / (3 D) = e^s (alpha+beta)/beta`.
    pub(crate) ln_r: f64,
    /// `ln A - ln(beta B / alpha)`.
    pub(crate) ln_nc: f64,
    pub(crate) beta: f64,
    pub(crate) inv_alpha: f64,
}

impl LawLogs {
    #[inline(always)]
    pub(crate) fn new(law: &Law) -> Self {
        let ln_a = vmath::ln(law.a);
        let ln_b = vmath::ln(law.b);
        let ln_al = vmath::ln(law.alpha);
        let ln_be = vmath::ln(law.beta);
        let ln_ab = vmath::ln(law.alpha + law.beta);
        LawLogs {
            ln_p: ln_b + ln_ab - ln_al,
            ln_qp0: ln_be - LN_3 - ln_ab,
            ln_r: ln_ab - ln_be,
            ln_nc: ln_a - (ln_be + ln_b - ln_al),
            beta: law.beta,
            inv_alpha: 1.0 / law.alpha,
        }
    }
}

/// One row reduced to `h(s) = k` plus what the finish needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reduced {
    pub(crate) logs: LawLogs,
    /// `ln(l - E)`.
    pub(crate) ln_gap: f64,
    /// `ln(Q/P)`; meaningless when `demand` is false.
    pub(crate) ln_qp: f64,
    pub(crate) k: f64,
    /// Whether D_eff > 0 (otherwise the Chinchilla closed form applies).
    pub(crate) demand: bool,
}

impl Reduced {
    #[inline(always)]
    pub(crate) fn new(logs: LawLogs, gap: f64, d_eff: f64) -> Self {
        let demand = d_eff > 0.0;
        let ln_gap = vmath::ln(gap);
        let ln_qp = logs.ln_qp0 + vmath::ln(if demand { d_eff } else { 1.0 });
        Reduced {
            logs,
            ln_gap,
            ln_qp,
            k: ln_gap - logs.ln_p + logs.beta * ln_qp,
            demand,
        }
    }

    /// `h(s) - k` and `h'(s)`, `h''(s)`.
    #[inline(always)]
    pub(crate) fn residual(&self, s: f64) -> (f64, f64, f64) {
        let (sp, sig) = vmath::softplus_sigmoid(s);
        (
            self.logs.beta * s + sp - self.k,
            self.logs.beta + sig,
            sig * (1.0 - sig),
        )
    }

    /// Upper end of the bracket and the Newton start: `h(s0) >= k`.
    #[inline(always)]
    pub(crate) fn start(&self) -> f64 {
        (self.k / self.logs.beta).min(self.k / (self.logs.beta + 1.0))
    }

    /// Lower end of the bracket: `h(s_lo) <= k`.
    #[inline(always)]
    pub(crate) fn lower(&self) -> f64 {
        let k = self.k - std::f64::consts::LN_2;
        (k / self.logs.beta).min(k / (self.logs.beta + 1.0))
    }

    /// Newton's predicted error after a step is at most `curv * step^2` with
    /// `curv = max h'' / (2 min h') = 1 / (8 beta)`.
    #[inline(always)]
    pub(crate) fn curvature(&self) -> f64 {
        0.125 / self.logs.beta
    }

    /// `(ln D, ln N)` at the root `s` (or the Chinchilla closed form without demand).
    #[inline(always)]
    pub(crate) fn finish(&self, ln_d: f64) -> (f64, f64) {
        let l = &self.logs;
        let ln_d = if self.demand {
            ln_d
        } else {
            (l.ln_p - self.ln_gap) / l.beta
        };
        // ln(1 + D_eff/(3D)) = softplus(s + ln r), s = ln(Q/P) - ln D.
        let extra = if self.demand {
            vmath::softplus_sigmoid(self.ln_qp - ln_d + l.ln_r).0
        } else {
            0.0
        };
        (ln_d, (l.ln_nc + l.beta * ln_d - extra) * l.inv_alpha)
    }
}
