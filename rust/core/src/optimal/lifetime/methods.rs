//! The other root finders (Halley, bisection, Brent, the paper's secant), one row at a time.

// Lane loops index several arrays by the same `j`, the shape LLVM vectorises best.
#![allow(clippy::needless_range_loop)]

use super::*;

/// The non-default methods, one row at a time: `(ln D, iterations, converged)`.
pub(crate) fn scalar_solve(method: Method, r: &Reduced, o: &Options) -> (f64, u32, bool) {
    if !r.demand {
        return (0.0, 0, true);
    }
    let (s, it, ok) = match method {
        Method::Newton | Method::Halley => halley(r, o, method == Method::Halley),
        Method::Bisect => bisect(r, o),
        Method::Brent => brent(r, o),
        Method::SecantD => return secant_d(r, o),
    };
    (r.ln_qp - s, it, ok)
}

pub(crate) fn halley(r: &Reduced, o: &Options, cubic: bool) -> (f64, u32, bool) {
    let mut s = r.start();
    for it in 1..=o.max_iter {
        let (f, d1, d2) = r.residual(s);
        let newton = f / d1;
        let step = if cubic {
            newton / (1.0 - 0.5 * newton * d2 / d1)
        } else {
            newton
        };
        s -= step;
        if step * step * r.curvature() <= o.tol {
            return (s, it, true);
        }
    }
    (s, o.max_iter, false)
}

pub(crate) fn bisect(r: &Reduced, o: &Options) -> (f64, u32, bool) {
    let (mut lo, mut hi) = (r.lower(), r.start());
    for it in 1..=o.max_iter {
        let mid = 0.5 * (lo + hi);
        if r.residual(mid).0 > 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
        if hi - lo <= 2.0 * o.tol {
            return (0.5 * (lo + hi), it, true);
        }
    }
    (0.5 * (lo + hi), o.max_iter, false)
}

/// Brent's method (inverse quadratic interpolation guarded by bisection) on `[s_lo, s0]`.
pub(crate) fn brent(r: &Reduced, o: &Options) -> (f64, u32, bool) {
    let f = |s: f64| r.residual(s).0;
    let (mut a, mut b) = (r.lower(), r.start());
    let (mut fa, mut fb) = (f(a), f(b));
    if fa == 0.0 {
        return (a, 0, true);
    }
    if fb == 0.0 {
        return (b, 0, true);
    }
    // c is the previous iterate on the other side of the root from b.
    let (mut c, mut fc) = (a, fa);
    let (mut d, mut e) = (b - a, b - a);
    for it in 1..=o.max_iter {
        if fb.signum() == fc.signum() {
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            (a, b, c) = (b, c, b);
            (fa, fb, fc) = (fb, fc, fb);
        }
        let tol = 2.0 * f64::EPSILON * b.abs() + 0.5 * o.tol;
        let m = 0.5 * (c - b);
        if m.abs() <= tol || fb == 0.0 {
            return (b, it, true);
        }
        if e.abs() >= tol && fa.abs() > fb.abs() {
            let s = fb / fa;
            let (mut p, mut q);
            if a == c {
                p = 2.0 * m * s;
                q = 1.0 - s;
            } else {
                let qa = fa / fc;
                let rr = fb / fc;
                p = s * (2.0 * m * qa * (qa - rr) - (b - a) * (rr - 1.0));
                q = (qa - 1.0) * (rr - 1.0) * (s - 1.0);
            }
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * m * q - (tol * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                d = m;
                e = m;
            }
        } else {
            d = m;
            e = m;
        }
        a = b;
        fa = fb;
        b += if d.abs() > tol { d } else { tol.copysign(m) };
        fb = f(b);
    }
    (b, o.max_iter, false)
}

/// Secant iteration on Eq. 12 in raw D from D = 1e8 and D = 1e8 (1 + 1e-4) + 1e-4, as the
/// paper's published scripts do through `scipy.optimize.newton` without a derivative.
/// Returns `(ln D, iterations, converged)`; it fails where a step leaves D > 0.
pub(crate) fn secant_d(r: &Reduced, o: &Options) -> (f64, u32, bool) {
    let l = &r.logs;
    let (p, q, gap) = (l.ln_p.exp(), (l.ln_p + r.ln_qp).exp(), r.ln_gap.exp());
    let f = |d: f64| p * d.powf(-l.beta) + q * d.powf(-l.beta - 1.0) - gap;
    let mut d0 = 1e8;
    let mut d1 = d0 * (1.0 + 1e-4) + 1e-4;
    let (mut f0, mut f1) = (f(d0), f(d1));
    for it in 1..=o.max_iter {
        if f1 == f0 {
            return (d1.ln(), it, f1 == 0.0);
        }
        let d2 = d1 - f1 * (d1 - d0) / (f1 - f0);
        if !(d2.is_finite() && d2 > 0.0) {
            return (f64::NAN, it, false);
        }
        if (d2 - d1).abs() <= o.tol * d2.abs() {
            return (d2.ln(), it, true);
        }
        (d0, f0) = (d1, f1);
        d1 = d2;
        f1 = f(d1);
    }
    (d1.ln(), o.max_iter, false)
}
