//! The Kaplan et al. 2020 law family's fitting objective, with its exact gradient.
//!
//! `L(N, D) = ((N_c / N)^(alpha_N / alpha_D) + D_c / D)^alpha_D` (their Eq. 1.5), with no
//! irreducible term. In logs, with `theta = (alpha_D, q, n_c, d_c)`, `q = alpha_N /
//! alpha_D`, `n_c = ln N_c`, `d_c = ln D_c`:
//!
//! `ln L = alpha_D LSE(q (n_c - ln N), d_c - ln D)`,
//!
//! and the objective is Approach 3's: `sum_i w_i Huber_delta(ln L_pred - ln L_i)`, so
//! families are compared on one footing. With `p = softmax(t)`, `t = (q (n_c - ln N),
//! d_c - ln D)`, the residual's gradient is `(LSE(t), alpha_D p_1 (n_c - ln N),
//! alpha_D p_1 q, alpha_D p_2)`.

use crate::engine::vmath;
use crate::error::Result;
use crate::fitting::{check, huber, Runs};

/// Parameters of the Kaplan family: `(alpha_D, q, n_c, d_c)`.
pub const KAPLAN: usize = 4;

/// Summed Huber objective and its gradient at `theta` (module notes).
///
/// ```
/// use scaleplan::fitting::Runs;
/// use scaleplan::fitting::kaplan::objective;
/// let runs = Runs::new(&[1e8, 1e9, 1e10], &[1e10, 2e10, 3e11], &[3.0, 2.6, 2.2]).unwrap();
/// let (f, g) = objective(&runs, &[0.095, 0.076 / 0.095, 31.6, 24.1], None, 1e-3).unwrap();
/// assert!(f > 0.0 && g.iter().all(|v| v.is_finite()));
/// ```
pub fn objective(
    runs: &Runs,
    theta: &[f64; KAPLAN],
    weights: Option<&[f64]>,
    delta: f64,
) -> Result<(f64, [f64; KAPLAN])> {
    check(runs, weights, delta)?;
    let [alpha_d, q, n_c, d_c] = *theta;
    let mut f = 0.0;
    let mut g = [0.0; KAPLAN];
    for i in 0..runs.len() {
        let w = weights.map_or(1.0, |w| w[i]);
        let (ln_n, ln_d, ln_l) = runs.point(i);
        let gap = n_c - ln_n;
        let t = [q * gap, d_c - ln_d];
        let m = t[0].max(t[1]);
        let x = t.map(|tk| vmath::exp(tk - m));
        let sum = x[0] + x[1];
        let lse = m + vmath::ln(sum);
        let r = alpha_d * lse - ln_l;
        let (h, psi, _) = huber(r, delta);
        let (p1, p2) = (x[0] / sum, x[1] / sum);
        f += w * h;
        let s = w * psi;
        g[0] += s * lse;
        g[1] += s * alpha_d * p1 * gap;
        g[2] += s * alpha_d * p1 * q;
        g[3] += s * alpha_d * p2;
    }
    Ok((f, g))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs() -> Runs {
        let n = [1e8, 3e8, 1e9, 3e9, 1e10, 2e8, 5e9];
        let d = [2e9, 6e9, 2e10, 6e10, 2e11, 1e11, 3e10];
        let l: Vec<f64> = (0..7)
            .map(|i: usize| {
                let v: f64 = (8.8e13_f64 / n[i]).powf(0.076 / 0.095) + 5.4e13 / d[i];
                v.powf(0.095) * (1.0 + 0.01 * (i as f64 - 3.0))
            })
            .collect();
        Runs::new(&n, &d, &l).unwrap()
    }

    #[test]
    fn gradient_matches_central_differences() {
        let r = runs();
        for delta in [1e-3, 1.0] {
            let theta = [0.1, 0.8, 31.0, 24.5];
            let (_, g) = objective(&r, &theta, None, delta).unwrap();
            for k in 0..KAPLAN {
                let h = 1e-6;
                let (mut up, mut dn) = (theta, theta);
                up[k] += h;
                dn[k] -= h;
                let fd = (objective(&r, &up, None, delta).unwrap().0
                    - objective(&r, &dn, None, delta).unwrap().0)
                    / (2.0 * h);
                assert!(
                    (fd - g[k]).abs() <= 1e-6 * (1.0 + g[k].abs()),
                    "{k}: {fd} {}",
                    g[k]
                );
            }
        }
    }

    #[test]
    fn the_generating_law_scores_near_zero() {
        let r = runs();
        let truth = [0.095, 0.076 / 0.095, 8.8e13_f64.ln(), 5.4e13_f64.ln()];
        let (f, _) = objective(&r, &truth, None, 1.0).unwrap();
        // Residuals are the 1%-scale noise only: ln(1 + 0.01 k), k = -3..3.
        assert!(f < 7.0 * 0.5 * 0.031 * 0.031, "{f}");
    }

    #[test]
    fn bad_input_is_an_error() {
        let r = runs();
        assert!(objective(&r, &[0.1, 0.8, 31.0, 24.5], None, -1.0).is_err());
        assert!(objective(&r, &[0.1, 0.8, 31.0, 24.5], Some(&[1.0]), 1e-3).is_err());
    }
}
