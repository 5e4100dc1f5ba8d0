//! The dual in SIMD lanes, eight rows at a time.
//!
//! Every step of a row is branch-free arithmetic on vmath's `exp`/`ln`: the logarithms of
//! the budget and the demand, Newton's method on `g(y) = K` (see `equation.rs`), which
//! takes the same two or three steps on every row so the lanes run in lock-step, and the
//! model that follows. Each loop is compiled once per [`Isa`] with the same bits on each; a
//! lane that has settled stops moving, so a row's bits never depend on the rows beside it.
//! A one-row call (`best_quality`) goes through the same code as its batch row.

use super::equation::{residual, start, DualLaw};
use crate::engine::simd::{on_isa, Isa};
use crate::engine::vmath;

/// Rows per block: one AVX-512 register of f64.
pub(super) const LANES: usize = 8;

/// Newton steps before a row is left to bisection (two to four are taken).
pub(super) const MAX_NEWTON: u32 = 30;

/// A block of rows: inputs, then what each stage finds. Rows without a valid input keep
/// the idle values, which run through harmlessly and are discarded by the caller.
#[derive(Debug, Clone, Copy)]
pub(super) struct Block {
    /// The budget `C` in units of the training cost's coefficient.
    pub(super) c: [f64; LANES],
    /// The demand term `m = D_eff / 3`.
    pub(super) m: [f64; LANES],
    /// The law's coefficients `[E, A, B, alpha, beta]` and `[ln(alpha A), ln(beta B)]`.
    pub(super) law: [[f64; LANES]; 5],
    pub(super) logs: [[f64; LANES]; 2],
    /// From [`prepare`]: `ln C`, `ln m` and `K` of `g(y) = K`.
    pub(super) ln_c: [f64; LANES],
    pub(super) ln_m: [f64; LANES],
    pub(super) k: [f64; LANES],
    /// The root `y` (from [`newton`] or the caller's bisection), its steps, and whether
    /// it has settled (rows without demand are settled from the start).
    pub(super) y: [f64; LANES],
    pub(super) steps: [u32; LANES],
    pub(super) settled: [bool; LANES],
}

impl Block {
    pub(super) fn idle() -> Block {
        Block {
            c: [1.0; LANES],
            m: [0.0; LANES],
            law: [[1.0; LANES]; 5],
            logs: [[0.0; LANES]; 2],
            ln_c: [0.0; LANES],
            ln_m: [0.0; LANES],
            k: [0.0; LANES],
            y: [0.0; LANES],
            steps: [0; LANES],
            settled: [true; LANES],
        }
    }

    /// Row `j`'s input: budget `c`, demand term `m` and its law.
    pub(super) fn set(&mut self, j: usize, c: f64, m: f64, law: &DualLaw) {
        (self.c[j], self.m[j]) = (c, m);
        let l = &law.law;
        for (column, value) in self.law.iter_mut().zip([l.e, l.a, l.b, l.alpha, l.beta]) {
            column[j] = value;
        }
        (self.logs[0][j], self.logs[1][j]) = (law.ln_aa, law.ln_bb);
    }

    /// `alpha + beta` and `1 - alpha` of row `j`: the `s` and `q` of `g`.
    #[inline(always)]
    pub(super) fn slopes(&self, j: usize) -> (f64, f64) {
        let (alpha, beta) = (self.law[3][j], self.law[4][j]);
        (alpha + beta, 1.0 - alpha)
    }
}

/// A block's models, before the caller checks them: ln params, params, tokens, loss.
#[derive(Debug, Clone, Copy)]
pub(super) struct Finished {
    pub(super) ln_params: [f64; LANES],
    pub(super) params: [f64; LANES],
    pub(super) tokens: [f64; LANES],
    pub(super) loss: [f64; LANES],
}

/// `ln C`, `ln m`, `K`, and Newton's start `y = h^-1(K)`; rows with demand are unsettled.
pub(super) fn prepare(isa: Isa, block: &mut Block) {
    let b = *block;
    let (ln_c, ln_m, k, y, settled) = on_isa(
        isa,
        #[inline(always)]
        || {
            let (mut ln_c, mut ln_m, mut k, mut y) =
                ([0.0; LANES], [0.0; LANES], [0.0; LANES], [0.0; LANES]);
            let mut settled = [true; LANES];
            for j in 0..LANES {
                let demand = b.m[j] > 0.0;
                let (s, q) = b.slopes(j);
                ln_c[j] = vmath::ln(b.c[j]);
                ln_m[j] = vmath::ln(if demand { b.m[j] } else { 1.0 });
                let kj = b.logs[0][j] - b.logs[1][j] - b.law[3][j] * ln_c[j] + s * ln_m[j];
                k[j] = if demand { kj } else { 0.0 };
                y[j] = start(k[j], s, q);
                settled[j] = !demand;
            }
            (ln_c, ln_m, k, y, settled)
        },
    );
    (block.ln_c, block.ln_m, block.k, block.y, block.settled) = (ln_c, ln_m, k, y, settled);
}

/// Newton's method on every unsettled row, in lock-step, until all settle or
/// [`MAX_NEWTON`] steps. A row settles when `g(y) - K` is at its rounding, or when the step
/// it takes lands within half an ulp: the next error is `g''(xi) / (2 g'(y)) e^2` with
/// `|g''| <= |q| / 4` and `e <= |g(y) - K| / min(s, s + q)`.
pub(super) fn newton(isa: Isa, block: &mut Block) {
    let b = *block;
    let (y, steps, settled) = on_isa(
        isa,
        #[inline(always)]
        || {
            let (mut y, mut steps, mut settled) = (b.y, b.steps, b.settled);
            // `|q| / (8 min(s, s + q)^2)`, the bound's constant, once per row.
            let bend: [f64; LANES] = std::array::from_fn(|j| {
                let (s, q) = b.slopes(j);
                let least = if q < 0.0 { s + q } else { s };
                q.abs() / (8.0 * least * least)
            });
            for _ in 0..MAX_NEWTON {
                let mut all = true;
                for j in 0..LANES {
                    let (s, q) = b.slopes(j);
                    let (f, d, noise) = residual(y[j], b.k[j], s, q);
                    let next = y[j] - f / d;
                    let ulp = f64::EPSILON * next.abs().max(1.0);
                    let lands = f.abs() <= noise || bend[j] * f * f <= 0.5 * ulp * d;
                    y[j] = if settled[j] { y[j] } else { next };
                    steps[j] += u32::from(!settled[j]);
                    settled[j] |= lands;
                    all &= settled[j];
                }
                if all {
                    break;
                }
            }
            (y, steps, settled)
        },
    );
    (block.y, block.steps, block.settled) = (y, steps, settled);
}

/// The model at each row's root: `ln N = ln C - ln m - softplus(-y)` and `ln D = ln m - y`
/// (without demand, the zero-demand optimum `ln N = (ln(alpha A / (beta B)) + beta ln C) /
/// (alpha + beta)`), `N`, `D` and `L = E + A e^(-alpha ln N) + B e^(-beta ln D)`.
pub(super) fn finish(isa: Isa, block: &Block) -> Finished {
    on_isa(
        isa,
        #[inline(always)]
        || finish_rows(block),
    )
}

#[inline(always)]
fn finish_rows(b: &Block) -> Finished {
    let mut out = Finished {
        ln_params: [0.0; LANES],
        params: [0.0; LANES],
        tokens: [0.0; LANES],
        loss: [0.0; LANES],
    };
    let [e, a, bb, alpha, beta] = &b.law;
    for j in 0..LANES {
        let demand = b.m[j] > 0.0;
        let y = b.y[j];
        let (sp, _) = vmath::softplus_sigmoid(y);
        let x0 = (b.logs[0][j] - b.logs[1][j] + beta[j] * b.ln_c[j]) / (alpha[j] + beta[j]);
        let x = if demand {
            b.ln_c[j] - b.ln_m[j] - (sp - y)
        } else {
            x0
        };
        let ln_d = if demand {
            b.ln_m[j] - y
        } else {
            b.ln_c[j] - x0
        };
        out.ln_params[j] = x;
        out.params[j] = vmath::exp(x);
        out.tokens[j] = vmath::exp(ln_d);
        out.loss[j] = e[j] + a[j] * vmath::exp(-alpha[j] * x) + bb[j] * vmath::exp(-beta[j] * ln_d);
    }
    out
}
