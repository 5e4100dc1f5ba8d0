//! Epoch AI's estimator (Besiroglu et al. 2024): maximum likelihood of the log-loss
//! residuals under a Huber-shaped density with a free scale.
//!
//! The density of a residual `r` at scale `sigma = exp(s)` is
//! `exp(-h_delta(r / sigma)) / (sigma Z(delta))`, `h_delta` the Huber function, so for
//! `theta6 = (a, b, e, alpha, beta, s)` the negative log-likelihood is
//!
//! `NLL = sum_i w_i [h_delta(r_i e^-s) + s] + W ln Z(delta)`, `W = sum_i w_i`,
//!
//! with `r_i = LSE(a - alpha ln N_i, b - beta ln D_i, e) - ln L_i` as in [`crate::fitting`].
//! The last term does not depend on the parameters; this module leaves it out (the caller
//! adds it: `Z(delta) = sqrt(2 pi) erf(delta / sqrt 2) + 2 exp(-delta^2 / 2) / delta`).
//!
//! Since `h_delta(r / sigma) = h_{delta sigma}(r) / sigma^2`, at a fixed scale this is
//! Approach 3's Huber sum with threshold `delta sigma`. The fitted scale comes out near
//! `delta` times the mean absolute residual (4.7e-6 on Chinchilla's runs), so only
//! residuals within ~5e-9 of zero sit in the quadratic zone: the estimator is a least-absolute-
//! deviations fit smoothed at that width, and its optimum has a few residuals pinned near 0.
//! Quasi-Newton methods lose precision there (SciPy's BFGS reports it); damped Newton on
//! the exact Hessian below reaches the optimum at f64 precision.
//!
//! Per run, with `v = r e^-s`, `psi = h'(v)`, `chi = h''(v)` (1 inside `|v| <= delta`,
//! else 0) and `u = grad r`:
//! - gradient: `w psi e^-s u` in theta, `w (1 - psi v)` in s;
//! - Hessian: `w [chi e^-2s u u^T + psi e^-s hess r]` in theta-theta,
//!   `-w e^-s (chi v + psi) u` in theta-s, `w (chi v^2 + psi v)` in s-s.

use crate::engine::symmetric::lowest_eigenpair;
use crate::error::Result;
use crate::fitting::newton::{check_theta, descend, Curvature, Point, Polished};
use crate::fitting::{check, huber, Runs, PARAMS};

/// Parameters of the likelihood: `(a, b, e, alpha, beta, s)`, `sigma = exp(s)`.
pub const SCALED: usize = PARAMS + 1;

/// Negative log-likelihood (without `W ln Z(delta)`), gradient and exact Hessian at
/// `theta` (module notes).
///
/// ```
/// use scaleplan::fitting::Runs;
/// use scaleplan::fitting::likelihood::curvature;
/// let runs = Runs::new(&[1e8, 1e9, 1e10], &[1e10, 2e10, 3e11], &[3.0, 2.6, 2.2]).unwrap();
/// let c = curvature(&runs, &[6.0, 6.0, 0.5, 0.34, 0.28, -9.0], None, 1e-3).unwrap();
/// assert_eq!(c.hessian[2][5], c.hessian[5][2]);
/// ```
pub fn curvature(
    runs: &Runs,
    theta: &[f64; SCALED],
    weights: Option<&[f64]>,
    delta: f64,
) -> Result<Curvature<SCALED>> {
    check(runs, weights, delta)?;
    check_theta(theta)?;
    Ok(evaluate(runs, theta, weights, delta, false))
}

/// [`curvature`] on checked inputs; with `majorise`, each residual outside the quadratic
/// zone also adds its majoriser's curvature `w (psi(v) / v) e^-2s u u^T` (see [`newton`]).
fn evaluate(
    runs: &Runs,
    theta: &[f64; SCALED],
    weights: Option<&[f64]>,
    delta: f64,
    majorise: bool,
) -> Curvature<SCALED> {
    let law: [f64; PARAMS] = std::array::from_fn(|k| theta[k]);
    let s = theta[PARAMS];
    let inv = (-s).exp();
    let mut out = Curvature::zero();
    for i in 0..runs.len() {
        let w = weights.map_or(1.0, |w| w[i]);
        let pt = Point::at(runs, i, &law);
        let v = pt.r * inv;
        let (h, psi, chi) = huber(v, delta);
        let extra = if majorise && chi == 0.0 {
            delta / v.abs()
        } else {
            0.0
        };
        out.objective += w * (h + s);
        for k in 0..PARAMS {
            out.gradient[k] += w * psi * inv * pt.u[k];
        }
        out.gradient[PARAMS] += w * (1.0 - psi * v);
        // hess r = sum_k p_k c_k c_k^T - u u^T, scaled by psi e^-s, plus chi e^-2s u u^T.
        let slope = w * psi * inv;
        pt.add_hessian(
            &mut out.hessian,
            w * (chi + extra) * inv * inv - slope,
            slope,
        );
        let cross = -w * inv * (chi * v + psi);
        for k in 0..PARAMS {
            out.hessian[k][PARAMS] += cross * pt.u[k];
        }
        out.hessian[PARAMS][PARAMS] += w * (chi * v * v + psi * v);
    }
    out.mirror();
    out
}

/// The likelihood's minimum from `theta`, by damped Newton steps on a majorised Hessian,
/// then checked by Newton on the exact one.
///
/// Newton on the exact Hessian alone stalls here: outside the quadratic zone a residual
/// adds only `psi hess r` to the Hessian (indefinite, ~`delta` in size), so from a start
/// whose pinned residuals are not yet inside the ~1e-8-wide zone, every damped step is a
/// crawl. The steps below add `w (psi(v) / v) e^-2s u u^T` for each residual outside the
/// zone: the curvature of the Huber function's quadratic majoriser (the weight of
/// iteratively reweighted least squares), which the exact Hessian lacks. Near the zone
/// that weight is ~`e^-2s`, so one step pins a residual that a kink hides from Newton;
/// far outside it is `delta / |v|` times smaller and barely perturbs the step. Gradient
/// and objective stay exact, so the point where the steps stop is a stationary point of
/// the likelihood; `converged` is then the verdict of Newton on the exact Hessian (as in
/// [`crate::fitting::newton::newton`]). Phases of 25 steps of each kind alternate, with an escape
/// from saddles between them, until the exact one converges or `iterations` (both kinds)
/// reaches `max_iter`; it may overshoot by at most one round (50 steps).
///
/// ```
/// use scaleplan::fitting::Runs;
/// use scaleplan::fitting::likelihood::newton;
/// let n: [f64; 8] = [1e7, 1e8, 1e9, 1e10, 3e7, 3e8, 3e9, 2e9];
/// let d: [f64; 8] = [3e9, 1e11, 4e9, 2e11, 6e10, 1e10, 5e11, 3e10];
/// let noise = [0.01, -0.02, 0.015, 0.0, -0.01, 0.02, -0.005, 0.012];
/// let l: Vec<f64> = (0..8).map(|i| (1.7 + 400.0 * n[i].powf(-0.34)
///     + 410.0 * d[i].powf(-0.28)) * (1.0 + noise[i])).collect();
/// let start = [400f64.ln(), 410f64.ln(), 1.7f64.ln(), 0.34, 0.28, -10.0];
/// let p = newton(&Runs::new(&n, &d, &l).unwrap(), &start, None, 1e-3, 2000).unwrap();
/// assert!(p.converged);
/// ```
pub fn newton(
    runs: &Runs,
    theta: &[f64; SCALED],
    weights: Option<&[f64]>,
    delta: f64,
    max_iter: u32,
) -> Result<Polished<SCALED>> {
    let start = curvature(runs, theta, weights, delta)?;
    let majorised = |t: &[f64; SCALED]| evaluate(runs, t, weights, delta, true);
    let exact = |t: &[f64; SCALED]| evaluate(runs, t, weights, delta, false);
    let mut from = (*theta, start.objective);
    let mut iterations = 0;
    let stopped = |(theta, objective): ([f64; SCALED], f64), iterations| Polished {
        theta,
        objective,
        iterations,
        converged: false,
    };
    loop {
        // Short phases, each from the lowest point so far: the majorised steps pin the
        // residuals a kink hides from Newton, the exact steps finish, and either alone can
        // crawl (a residual just outside the zone that wants to stay there, a saddle).
        let pinned = descend(&from.0, majorised(&from.0), PHASE, majorised);
        iterations += pinned.iterations;
        if pinned.objective <= from.1 {
            from = (pinned.theta, pinned.objective);
        }
        let mut out = descend(&from.0, exact(&from.0), PHASE, exact);
        iterations += out.iterations;
        if out.converged {
            out.iterations = iterations;
            return Ok(out);
        }
        if out.objective <= from.1 {
            from = (out.theta, out.objective);
        }
        if iterations >= max_iter {
            return Ok(stopped(from, iterations));
        }
        // Where the Hessian is indefinite (fewer residuals pinned than the law has
        // parameters: a saddle between two vertices), leave along the most negative
        // curvature, downhill, as far as the objective keeps falling on a doubling scale.
        match escape(&from.0, &exact(&from.0), exact) {
            Some(next) => from = next,
            // Nothing lowers the objective: a round without progress repeats itself.
            None if pinned.iterations + out.iterations == 0 => {
                return Ok(stopped(from, iterations))
            }
            None => {}
        }
    }
}

/// Steps in one phase of [`newton`].
const PHASE: u32 = 25;

/// A lower point along the Hessian's most negative eigenvector from `x`, or `None` where
/// the Hessian has no negative curvature or no step along it lowers the objective.
fn escape(
    x: &[f64; SCALED],
    here: &Curvature<SCALED>,
    eval: impl Fn(&[f64; SCALED]) -> Curvature<SCALED>,
) -> Option<([f64; SCALED], f64)> {
    let (lambda, mut d) = lowest_eigenpair(&here.hessian);
    if lambda.is_nan() || lambda >= 0.0 {
        return None;
    }
    if (0..SCALED).map(|k| here.gradient[k] * d[k]).sum::<f64>() > 0.0 {
        d = d.map(|v| -v);
    }
    let mut best: Option<([f64; SCALED], f64)> = None;
    let mut t = 1e-10;
    while t <= 1.0 {
        let trial: [f64; SCALED] = std::array::from_fn(|k| x[k] + t * d[k]);
        let f = eval(&trial).objective;
        if f.is_finite() && f < best.map_or(here.objective, |b| b.1) {
            best = Some((trial, f));
        } else if best.is_some() {
            break;
        }
        t *= 2.0;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs() -> Runs {
        let n: [f64; 9] = [1e8, 3e8, 1e9, 3e9, 1e10, 2e8, 5e9, 7e8, 2e10];
        let d: [f64; 9] = [2e9, 6e9, 2e10, 6e10, 2e11, 1e11, 3e10, 9e9, 4e11];
        let noise = [0.01, -0.02, 0.015, 0.0, -0.01, 0.02, -0.005, 0.007, -0.013];
        let l: Vec<f64> = (0..9)
            .map(|i| 1.69 + 406.4 * n[i].powf(-0.34) + 410.7 * d[i].powf(-0.28) + noise[i])
            .collect();
        Runs::new(&n, &d, &l).unwrap()
    }

    fn objective(r: &Runs, t: &[f64; SCALED], delta: f64) -> f64 {
        curvature(r, t, None, delta).unwrap().objective
    }

    #[test]
    fn derivatives_match_central_differences() {
        let r = runs();
        // A scale where some residuals are inside the quadratic zone and some are not.
        for (delta, s) in [(1e-3, -9.0), (1.0, -4.5), (1.0, -3.0)] {
            let theta = [6.0, 6.1, 0.52, 0.35, 0.29, s];
            let c = curvature(&r, &theta, None, delta).unwrap();
            let h = 1e-6;
            for l in 0..SCALED {
                let (mut up, mut dn) = (theta, theta);
                up[l] += h;
                dn[l] -= h;
                let fd = (objective(&r, &up, delta) - objective(&r, &dn, delta)) / (2.0 * h);
                let g = c.gradient[l];
                assert!(
                    (fd - g).abs() <= 1e-5 * (1.0 + g.abs()),
                    "grad {l}: {fd} {g}"
                );
                let (gu, gd) = (
                    curvature(&r, &up, None, delta).unwrap().gradient,
                    curvature(&r, &dn, None, delta).unwrap().gradient,
                );
                for k in 0..SCALED {
                    let fd = (gu[k] - gd[k]) / (2.0 * h);
                    let want = c.hessian[k][l];
                    assert!((fd - want).abs() <= 1e-4 * (1.0 + want.abs()), "{k},{l}");
                }
            }
        }
    }

    #[test]
    fn at_a_fixed_scale_it_is_the_huber_sum_with_threshold_delta_sigma() {
        let r = runs();
        let (delta, s) = (1e-3, -6.0_f64);
        let law = [6.0, 6.1, 0.52, 0.35, 0.29];
        let theta = [law[0], law[1], law[2], law[3], law[4], s];
        let nll = objective(&r, &theta, delta);
        let (sum, _) = r.objective(&law, None, delta * s.exp());
        let want = sum * (-2.0 * s).exp() + r.len() as f64 * s;
        assert!((nll - want).abs() <= 1e-12 * want.abs(), "{nll} {want}");
    }

    #[test]
    fn newton_reaches_a_minimum_nothing_nearby_beats() {
        let r = runs();
        let p = newton(&r, &[6.0, 6.0, 0.52, 0.34, 0.28, -8.0], None, 1e-3, 2000).unwrap();
        assert!(p.converged, "{p:?}");
        for k in 0..SCALED {
            for step in [-1e-7, 1e-7] {
                let mut t = p.theta;
                t[k] += step;
                assert!(objective(&r, &t, 1e-3) >= p.objective, "{k} {step}");
            }
        }
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let r = runs();
        let good = [6.0, 6.0, 0.5, 0.3, 0.3, -8.0];
        let mut bad = good;
        bad[5] = f64::INFINITY;
        assert!(curvature(&r, &bad, None, 1e-3).is_err());
        assert!(newton(&r, &good, Some(&[1.0]), 1e-3, 10).is_err());
        assert!(newton(&r, &good, None, 0.0, 10).is_err());
        let p = newton(
            &r,
            &[1e308, 1e308, 1e308, -1e308, -1e308, -1e308],
            None,
            1e-3,
            10,
        );
        assert!(!p.unwrap().converged);
    }

    /// `f(x) = -x0^2 / 2 + a x0 + c x0^4 + sum_k>0 x_k^2 / 2`: a saddle at 0 when a = 0,
    /// with its exact gradient and Hessian.
    fn saddle(a: f64, c: f64) -> impl Fn(&[f64; SCALED]) -> Curvature<SCALED> {
        move |x: &[f64; SCALED]| {
            let rest: f64 = x[1..].iter().map(|v| v * v / 2.0).sum();
            let mut out = Curvature::zero();
            out.objective = -x[0] * x[0] / 2.0 + a * x[0] + c * x[0].powi(4) + rest;
            out.gradient = std::array::from_fn(|k| if k == 0 { 0.0 } else { x[k] });
            out.gradient[0] = -x[0] + a + 4.0 * c * x[0].powi(3);
            out.hessian = std::array::from_fn(|i| std::array::from_fn(|j| f64::from(i == j)));
            out.hessian[0][0] = -1.0 + 12.0 * c * x[0] * x[0];
            out
        }
    }

    #[test]
    fn escape_leaves_a_saddle_downhill_along_the_negative_curvature() {
        // Unbounded below along x0: the doubling steps from 1e-10 go on to the last one
        // within 1, 1e-10 * 2^33, downhill: against the gradient's sign along x0.
        let x = [0.0; SCALED];
        let last = 1e-10 * 2f64.powi(33);
        for a in [0.1, -0.1] {
            let f = saddle(a, 0.0);
            let (next, value) = escape(&x, &f(&x), &f).unwrap();
            let want = if a > 0.0 { -last } else { last };
            assert_eq!(next[0], want);
            assert!(next[1..].iter().all(|v| *v == 0.0));
            assert_eq!(value, f(&next).objective);
            assert!(value < f(&x).objective);
        }
        // Where the objective turns back up (a quartic wall), the lowest point of the
        // doubling steps: no lower than at half or twice its step.
        let f = saddle(0.0, 1.0);
        let (next, value) = escape(&x, &f(&x), &f).unwrap();
        let along = |t: f64| f(&std::array::from_fn(|k| if k == 0 { t } else { 0.0 })).objective;
        let t = next[0];
        assert!(t != 0.0 && value < 0.0);
        assert!(value <= along(t / 2.0) && value <= along(2.0 * t), "{t}");
    }

    #[test]
    fn escape_finds_nothing_without_negative_curvature() {
        // A minimum (positive definite Hessian) and a saddle whose every step rises.
        let x = [0.0; SCALED];
        let bowl = |x: &[f64; SCALED]| {
            let mut out = Curvature::zero();
            out.objective = x.iter().map(|v| v * v).sum();
            out.gradient = x.map(|v| 2.0 * v);
            out.hessian = std::array::from_fn(|i| std::array::from_fn(|j| 2.0 * f64::from(i == j)));
            out
        };
        assert!(escape(&x, &bowl(&x), bowl).is_none());
        // Also away from the minimum, where steps along the lowest eigenvector would lower
        // the objective: positive curvature is no saddle to leave.
        let off: [f64; SCALED] = std::array::from_fn(|k| 0.3 + k as f64);
        assert!(escape(&off, &bowl(&off), bowl).is_none());
        let f = saddle(0.0, 0.0);
        let mut here = f(&x);
        here.objective = f64::NEG_INFINITY; // nothing can be lower
        assert!(escape(&x, &here, &f).is_none());
    }
}
