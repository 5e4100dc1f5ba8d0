//! Exact Hessian of the Huber-LSE fitting objective and a damped Newton polish.
//!
//! L-BFGS-B with SciPy's default `ftol` stops in the flat valley of this objective, at a
//! point that moves with the BLAS kernel (the exponents by ~5e-3, A by ~10%). A few
//! Newton steps on the exact Hessian from the best grid results reach the optimum to the
//! precision of f64, and with no BLAS involved the answer is the same on every CPU.
//!
//! Per run, with `r = LSE(t) - ln L`, `t = (a - alpha ln N, b - beta ln D, e)`,
//! `p = softmax(t)`, `c_1 = (1,0,0,-ln N,0)`, `c_2 = (0,1,0,0,-ln D)`, `c_3 = (0,0,1,0,0)`
//! and `u = grad r = sum_k p_k c_k`:
//!
//! `hess r = sum_k p_k c_k c_k^T - u u^T`, so the Huber term `h(r)` contributes
//! `w (h''(r) - h'(r)) u u^T + w h'(r) sum_k p_k c_k c_k^T`,
//!
//! with `h' = r` and `h'' = 1` inside `|r| <= delta`, `h' = delta sign r` and `h'' = 0`
//! outside.

// Small fixed-size matrix loops index several arrays by the same k, l.
#![allow(clippy::needless_range_loop)]

use crate::engine::vmath;
use crate::error::{Error, Result};
use crate::fitting::{check, huber, Runs, PARAMS};

/// A `K x K` symmetric matrix, row-major.
pub type Matrix<const K: usize = PARAMS> = [[f64; K]; K];

/// Objective, gradient and Hessian at one point of a `K`-parameter problem.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Curvature<const K: usize = PARAMS> {
    pub objective: f64,
    pub gradient: [f64; K],
    pub hessian: Matrix<K>,
}

impl<const K: usize> Curvature<K> {
    pub(crate) fn zero() -> Self {
        Curvature {
            objective: 0.0,
            gradient: [0.0; K],
            hessian: [[0.0; K]; K],
        }
    }

    /// Copies the summed upper triangle into the lower one: exactly symmetric.
    pub(crate) fn mirror(&mut self) {
        for k in 0..K {
            for l in 0..k {
                self.hessian[k][l] = self.hessian[l][k];
            }
        }
    }
}

/// Result of [`newton`]: where it stopped and whether that is a minimum to f64 precision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Polished<const K: usize = PARAMS> {
    pub theta: [f64; K],
    pub objective: f64,
    pub iterations: u32,
    pub converged: bool,
}

/// One run's residual and the pieces of its derivatives at `theta` (module notes):
/// `r = LSE(t) - ln L`, `p = softmax(t)`, `u = grad r`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Point {
    pub r: f64,
    pub p: [f64; 3],
    pub u: [f64; PARAMS],
    pub ln_n: f64,
    pub ln_d: f64,
}

impl Point {
    #[inline(always)]
    pub(crate) fn at(runs: &Runs, i: usize, theta: &[f64; PARAMS]) -> Point {
        let [a, b, e, alpha, beta] = *theta;
        let (ln_n, ln_d, ln_l) = runs.point(i);
        let t = [a - alpha * ln_n, b - beta * ln_d, e];
        let m = t[0].max(t[1]).max(t[2]);
        let x = t.map(|tk| vmath::exp(tk - m));
        let sum = x[0] + x[1] + x[2];
        let p = x.map(|xk| xk / sum);
        Point {
            r: m + vmath::ln(sum) - ln_l,
            p,
            u: [p[0], p[1], p[2], -p[0] * ln_n, -p[1] * ln_d],
            ln_n,
            ln_d,
        }
    }

    /// Adds `outer u u^T + s sum_k p_k c_k c_k^T` to the upper triangle of the leading
    /// 5 x 5 block of `h`: the Hessian of `phi(r)` is this with `outer = phi'' - phi'`
    /// and `s = phi'` (each `c_k` touches two coordinates at most).
    #[inline(always)]
    pub(crate) fn add_hessian<const K: usize>(&self, h: &mut Matrix<K>, outer: f64, s: f64) {
        for k in 0..PARAMS {
            for l in k..PARAMS {
                h[k][l] += outer * self.u[k] * self.u[l];
            }
        }
        let (p, ln_n, ln_d) = (self.p, self.ln_n, self.ln_d);
        h[0][0] += s * p[0];
        h[0][3] -= s * p[0] * ln_n;
        h[3][3] += s * p[0] * ln_n * ln_n;
        h[1][1] += s * p[1];
        h[1][4] -= s * p[1] * ln_d;
        h[4][4] += s * p[1] * ln_d * ln_d;
        h[2][2] += s * p[2];
    }
}

/// Objective, gradient and exact Hessian at `theta` (see the module notes for the formula).
///
/// ```
/// use scaleplan::fitting::Runs;
/// use scaleplan::fitting::newton::curvature;
/// let runs = Runs::new(&[1e8, 1e9, 1e10], &[1e10, 2e10, 3e11], &[3.0, 2.6, 2.2]).unwrap();
/// let c = curvature(&runs, &[6.0, 6.0, 0.5, 0.34, 0.28], None, 1e-3).unwrap();
/// assert_eq!(c.hessian[1][3], c.hessian[3][1]);
/// ```
pub fn curvature(
    runs: &Runs,
    theta: &[f64; PARAMS],
    weights: Option<&[f64]>,
    delta: f64,
) -> Result<Curvature> {
    check(runs, weights, delta)?;
    check_theta(theta)?;
    Ok(curvature_unchecked(runs, theta, weights, delta))
}

/// [`curvature`] on inputs already checked: the Newton loop checks them once, not per step.
fn curvature_unchecked(
    runs: &Runs,
    theta: &[f64; PARAMS],
    weights: Option<&[f64]>,
    delta: f64,
) -> Curvature {
    let mut out = Curvature::zero();
    for i in 0..runs.len() {
        let w = weights.map_or(1.0, |w| w[i]);
        let pt = Point::at(runs, i, theta);
        let (h, psi, second) = huber(pt.r, delta);
        out.objective += w * h;
        for k in 0..PARAMS {
            out.gradient[k] += w * psi * pt.u[k];
        }
        pt.add_hessian(&mut out.hessian, w * (second - psi), w * psi);
    }
    out.mirror();
    out
}

pub(crate) fn check_theta<const K: usize>(theta: &[f64; K]) -> Result<()> {
    match theta.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(Error::Invalid {
            argument: "theta",
            value: theta[i],
            requirement: "finite",
            index: Some(i),
        }),
        None => Ok(()),
    }
}

/// Solves `(H + mu diag(H)) x = -g` by Cholesky; `None` if the damped matrix is not
/// positive definite. Diagonal entries are floored at a tiny fraction of the largest so a
/// direction the data do not see still gets some damping.
pub(crate) fn damped_step<const K: usize>(c: &Curvature<K>, mu: f64) -> Option<[f64; K]> {
    let max_diag = (0..K).map(|k| c.hessian[k][k].abs()).fold(0.0, f64::max);
    if !(max_diag.is_finite() && max_diag > 0.0) {
        return None;
    }
    let mut m = c.hessian;
    for (k, row) in m.iter_mut().enumerate() {
        row[k] += mu * row[k].abs().max(1e-12 * max_diag);
    }
    // In-place Cholesky: m = L L^T with L in the lower triangle.
    for j in 0..K {
        let pivot = m[j][j] - (0..j).map(|k| m[j][k] * m[j][k]).sum::<f64>();
        if !(pivot > 0.0 && pivot.is_finite()) {
            return None;
        }
        m[j][j] = pivot.sqrt();
        for i in j + 1..K {
            let dot = (0..j).map(|k| m[i][k] * m[j][k]).sum::<f64>();
            m[i][j] = (m[i][j] - dot) / m[j][j];
        }
    }
    let mut y = [0.0; K];
    for i in 0..K {
        let dot = (0..i).map(|k| m[i][k] * y[k]).sum::<f64>();
        y[i] = (-c.gradient[i] - dot) / m[i][i];
    }
    let mut x = [0.0; K];
    for i in (0..K).rev() {
        let dot = (i + 1..K).map(|k| m[k][i] * x[k]).sum::<f64>();
        x[i] = (y[i] - dot) / m[i][i];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Relative size of a Newton step below which the iterate is a minimum to f64 precision:
/// the next step would move no coordinate by more than rounding noise of the gradient.
pub const STEP_TOL: f64 = 1e-10;
/// Newton decrement `-g . step`, relative to the objective, that counts as converged: the
/// local quadratic model says no more than this fraction of the objective is left to gain.
pub const DECREMENT_TOL: f64 = 1e-13;

/// Damped Newton (Levenberg-Marquardt on the exact Hessian) from `theta` to a local
/// minimum. `converged` means the undamped step on a positive definite Hessian meets
/// [`STEP_TOL`] or [`DECREMENT_TOL`] at the returned point; otherwise the last accepted point is returned with
/// `converged = false` and must not be reported as an optimum.
///
/// ```
/// use scaleplan::fitting::Runs;
/// use scaleplan::fitting::newton::newton;
/// // Noiseless runs of a known law, N and D varied independently.
/// let n: [f64; 7] = [1e7, 1e8, 1e9, 1e10, 3e7, 3e8, 3e9];
/// let d: [f64; 7] = [3e9, 1e11, 4e9, 2e11, 6e10, 1e10, 5e11];
/// let l: Vec<f64> = n.iter().zip(&d).map(|(n, d)| 1.7 + 400.0 * n.powf(-0.34)
///     + 410.0 * d.powf(-0.28)).collect();
/// let start = [400f64.ln() + 0.1, 410f64.ln() - 0.1, 1.7f64.ln(), 0.35, 0.27];
/// let p = newton(&Runs::new(&n, &d, &l).unwrap(), &start, None, 1e-3, 100).unwrap();
/// assert!(p.converged && p.objective < 1e-20);
/// assert!((p.theta[3] - 0.34).abs() < 1e-8);
/// ```
pub fn newton(
    runs: &Runs,
    theta: &[f64; PARAMS],
    weights: Option<&[f64]>,
    delta: f64,
    max_iter: u32,
) -> Result<Polished> {
    let start = curvature(runs, theta, weights, delta)?;
    Ok(descend(theta, start, max_iter, |t| {
        curvature_unchecked(runs, t, weights, delta)
    }))
}

/// The damped Newton loop of [`newton`] for any smooth-enough `K`-parameter objective:
/// `eval` gives objective, gradient and exact Hessian at a point (already checked), and
/// `start` is its value at `theta`. Convergence as in [`newton`], with the decrement taken
/// relative to `|objective|` (an objective may be negative, as a log-likelihood is).
pub(crate) fn descend<const K: usize>(
    theta: &[f64; K],
    start: Curvature<K>,
    max_iter: u32,
    eval: impl Fn(&[f64; K]) -> Curvature<K>,
) -> Polished<K> {
    let (mut x, mut c) = (*theta, start);
    let mut out = Polished {
        theta: x,
        objective: c.objective,
        iterations: 0,
        converged: false,
    };
    if !c.objective.is_finite() {
        return out;
    }
    let mut mu = 0.0_f64;
    while out.iterations < max_iter {
        // Convergence is judged on the undamped step even while damping is on: damping only
        // decides how far to move, not whether the point is already a minimum.
        if let Some(newton_step) = damped_step(&c, 0.0) {
            let small = (0..K).all(|k| newton_step[k].abs() <= STEP_TOL * (1.0 + x[k].abs()));
            let decrement = -(0..K).map(|k| c.gradient[k] * newton_step[k]).sum::<f64>();
            if small || decrement <= DECREMENT_TOL * c.objective.abs() {
                out.converged = true;
                break;
            }
        }
        out.iterations += 1;
        let Some(step) = damped_step(&c, mu) else {
            mu = (mu * 10.0).max(1e-4);
            if mu > 1e12 {
                break;
            }
            continue;
        };
        let trial: [f64; K] = std::array::from_fn(|k| x[k] + step[k]);
        let next = eval(&trial);
        if next.objective.is_finite() && next.objective <= c.objective {
            (x, c) = (trial, next);
            out.theta = x;
            out.objective = c.objective;
            mu = if mu < 1e-10 { 0.0 } else { mu / 10.0 };
        } else {
            mu = (mu * 10.0).max(1e-4);
            if mu > 1e12 {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs() -> Runs {
        let n: [f64; 7] = [1e8, 3e8, 1e9, 3e9, 1e10, 2e8, 5e9];
        let d: [f64; 7] = [2e9, 6e9, 2e10, 6e10, 2e11, 1e11, 3e10];
        let noise = [0.01, -0.02, 0.015, 0.0, -0.01, 0.02, -0.005];
        let l: Vec<f64> = (0..7)
            .map(|i| 1.69 + 406.4 * n[i].powf(-0.34) + 410.7 * d[i].powf(-0.28) + noise[i])
            .collect();
        Runs::new(&n, &d, &l).unwrap()
    }

    #[test]
    fn hessian_matches_finite_differences_of_the_gradient() {
        let r = runs();
        for delta in [1e-3, 1.0] {
            let theta = [6.0, 6.1, 0.52, 0.35, 0.29];
            let c = curvature(&r, &theta, None, delta).unwrap();
            for l in 0..PARAMS {
                let h = 1e-6;
                let (mut up, mut dn) = (theta, theta);
                up[l] += h;
                dn[l] -= h;
                let (gu, gd) = (
                    r.objective(&up, None, delta).1,
                    r.objective(&dn, None, delta).1,
                );
                for k in 0..PARAMS {
                    let fd = (gu[k] - gd[k]) / (2.0 * h);
                    let want = c.hessian[k][l];
                    assert!((fd - want).abs() <= 1e-5 * (1.0 + want.abs()), "{k},{l}");
                }
            }
            let (f, g) = r.objective(&theta, None, delta);
            assert!((c.objective - f).abs() <= 1e-13 * f);
            for k in 0..PARAMS {
                assert!((c.gradient[k] - g[k]).abs() <= 1e-11 * (1.0 + g[k].abs()));
            }
        }
    }

    #[test]
    fn newton_reaches_a_stationary_point_from_a_nearby_start() {
        let r = runs();
        let p = newton(&r, &[6.2, 6.0, 0.5, 0.34, 0.28], None, 1.0, 200).unwrap();
        assert!(p.converged);
        let (_, g) = r.objective(&p.theta, None, 1.0);
        assert!(g.iter().all(|v| v.abs() < 1e-10), "{g:?}");
        // Any nearby point is no better.
        for k in 0..PARAMS {
            let mut t = p.theta;
            t[k] += 1e-4;
            assert!(r.objective(&t, None, 1.0).0 >= p.objective);
        }
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let r = runs();
        assert!(curvature(&r, &[f64::NAN, 0.0, 0.0, 0.0, 0.0], None, 1e-3).is_err());
        assert!(newton(&r, &[1.0; 5], Some(&[1.0]), 1e-3, 10).is_err());
        assert!(newton(&r, &[1.0; 5], None, -1.0, 10).is_err());
        // Overflowing start: not converged, not a panic.
        let p = newton(&r, &[1e308, 1e308, 1e308, -1e308, -1e308], None, 1e-3, 10).unwrap();
        assert!(!p.converged);
    }
}
