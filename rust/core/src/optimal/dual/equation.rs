//! The dual's optimality condition as an equation in one well-behaved unknown.
//!
//! Along the budget curve `N (D + m) = C` the best model has the Lagrange condition
//! `beta B D^-beta (1 + m / D) = alpha A N^-alpha`. Write it in the inference share of
//! the budget, `r = m / (D + m)`, so that `N = r C / m` and `D = m (1 - r) / r`, and in its
//! logit `y = ln(r / (1 - r))`:
//!
//! `g(y) = (alpha + beta) y + (1 - alpha) softplus(y) = K`, with
//! `K = ln(alpha A) - ln(beta B) - alpha ln C + (alpha + beta) ln m`.
//!
//! `g' = (alpha + beta) + (1 - alpha) sigma(y)` lies between `alpha + beta` and `1 + beta`,
//! and `g'' = (1 - alpha) sigma (1 - sigma)` keeps one sign, so Newton's method converges
//! from anywhere, monotonically after its first step. `g` is within `|1 - alpha| ln 2` of the
//! broken line `h(y) = (alpha + beta) y + (1 - alpha) max(y, 0)`, and Newton starts at
//! `h^-1(K)`: two or three evaluations a row, the same for every row, which is what lets
//! eight rows run in lock-step in SIMD lanes. The model follows without cancellation
//! however close the demand comes to the whole budget: `ln N = ln C - ln m - softplus(-y)`
//! and `ln D = ln m - y`.
//!
//! An earlier version solved the condition in `x = ln N`, where it has a pole at `D = 0`:
//! Newton took up to 8 steps near it and needed a bracket, so its rows ran one at a time.

use crate::engine::vmath;
use crate::laws::Law;

/// Halvings are cheap; this cap is only a guard (the bracket is at most a few units wide,
/// and 60 halvings reach the f64 resolution of y).
const MAX_HALVINGS: u32 = 200;

/// One law with the logarithms the dual needs of it, computed once per law (once per
/// batch when every row shares it).
#[derive(Debug, Clone, Copy)]
pub(super) struct DualLaw {
    pub(super) law: Law,
    /// `ln(alpha A)` and `ln(beta B)`.
    pub(super) ln_aa: f64,
    pub(super) ln_bb: f64,
}

impl DualLaw {
    pub(super) fn new(law: Law) -> DualLaw {
        DualLaw {
            law,
            ln_aa: (law.alpha * law.a).ln(),
            ln_bb: (law.beta * law.b).ln(),
        }
    }
}

/// `(g(y) - k, g'(y), noise)` for `g(y) = s y + q softplus(y)`, `s = alpha + beta`,
/// `q = 1 - alpha`. `noise` bounds the rounding in `g(y) - k`.
#[inline(always)]
pub(super) fn residual(y: f64, k: f64, s: f64, q: f64) -> (f64, f64, f64) {
    let (sp, sig) = vmath::softplus_sigmoid(y);
    let (a, b) = (s * y, q * sp);
    let noise = 4.0 * f64::EPSILON * (a.abs() + b.abs() + k.abs());
    (a + b - k, s + q * sig, noise)
}

/// Where Newton starts: `h^-1(k)`, the root of the broken line that `g` follows within
/// `|q| ln 2` (slope `s` below 0, `s + q = 1 + beta` above).
#[inline(always)]
pub(super) fn start(k: f64, s: f64, q: f64) -> f64 {
    if k < 0.0 {
        k / s
    } else {
        k / (s + q)
    }
}

/// The root of `g(y) = k` by bisection: `(y, halvings)`. `g` lies between `h` and
/// `h + q ln 2`, so the root lies between `h^-1(k)` and `h^-1(k - q ln 2)`, widened by one
/// unit on each side against rounding.
pub(super) fn bisect(k: f64, s: f64, q: f64) -> (f64, u32) {
    let (a, b) = (start(k, s, q), start(k - q * std::f64::consts::LN_2, s, q));
    let (mut lo, mut hi) = (a.min(b) - 1.0, a.max(b) + 1.0);
    let mut halvings = 0;
    while hi - lo > 4.0 * f64::EPSILON * hi.abs().max(lo.abs()).max(1.0) && halvings < MAX_HALVINGS
    {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if residual(mid, k, s, q).0 >= 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
        halvings += 1;
    }
    (0.5 * (lo + hi), halvings)
}
