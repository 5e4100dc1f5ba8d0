//! Fitting laws to runs. This module: the Chinchilla "Approach 3" fitting objective (Hoffmann et al. 2022, §D.2; Sardana et
//! al. 2024, Eq. 4), with its exact gradient.
//!
//! For parameters `theta = (a, b, e, alpha, beta)` (so `A, B, E = exp(a), exp(b), exp(e)`)
//! and runs `(N_i, D_i, L_i)`:
//!
//! `f(theta) = sum_i w_i Huber_delta(LSE(a - alpha ln N_i, b - beta ln D_i, e) - ln L_i)`
//!
//! A sum, not a mean: with the mean the gradients shrink by the number of points and
//! L-BFGS-B's gradient test stops the fit early (the bug Besiroglu et al. 2024 found in the
//! original analysis). The weights `w_i` (default 1) let a bootstrap resample be a vector of
//! counts instead of a copy of the data.

// Lane loops index several arrays by the same `j`, the shape LLVM vectorises best.
#![allow(clippy::needless_range_loop)]

pub mod downstream;
pub mod kaplan;
pub mod likelihood;
pub mod newton;

use rayon::prelude::*;

use crate::engine::batch::PARALLEL_THRESHOLD;
use crate::engine::simd::Isa;
use crate::engine::vmath;
use crate::error::{is_non_negative, is_positive, Error, Result};

/// Number of parameters in `theta`.
pub const PARAMS: usize = 5;

/// Log-transformed runs, validated once.
#[derive(Debug, Clone, PartialEq)]
pub struct Runs {
    ln_n: Vec<f64>,
    ln_d: Vec<f64>,
    ln_l: Vec<f64>,
}

fn logs(argument: &'static str, values: &[f64]) -> Result<Vec<f64>> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if is_positive(v) {
                Ok(v.ln())
            } else {
                Err(Error::Invalid {
                    argument,
                    value: v,
                    requirement: "finite and > 0",
                    index: Some(i),
                })
            }
        })
        .collect()
}

impl Runs {
    /// Runs from parameter counts, token counts and losses (all finite and > 0, equal lengths).
    pub fn new(params: &[f64], tokens: &[f64], loss: &[f64]) -> Result<Runs> {
        for (argument, len) in [("tokens", tokens.len()), ("loss", loss.len())] {
            if len != params.len() {
                return Err(Error::Length {
                    argument,
                    len,
                    expected: params.len(),
                });
            }
        }
        Ok(Runs {
            ln_n: logs("params", params)?,
            ln_d: logs("tokens", tokens)?,
            ln_l: logs("loss", loss)?,
        })
    }

    pub fn len(&self) -> usize {
        self.ln_n.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ln_n.is_empty()
    }

    /// `(ln N, ln D, ln L)` of run `i < len()`.
    pub(crate) fn point(&self, i: usize) -> (f64, f64, f64) {
        (self.ln_n[i], self.ln_d[i], self.ln_l[i])
    }

    /// Objective and gradient at `theta`; `weights` (length `len()`) default to 1.
    ///
    /// ```
    /// use scaleplan::fitting::Runs;
    /// let runs = Runs::new(&[1e8, 1e9], &[1e10, 2e10], &[3.0, 2.6]).unwrap();
    /// let (f, g) = runs.objective(&[6.0, 6.0, 0.5, 0.34, 0.28], None, 1e-3);
    /// assert!(f > 0.0 && g.iter().all(|x| x.is_finite()));
    /// ```
    pub fn objective(
        &self,
        theta: &[f64; PARAMS],
        weights: Option<&[f64]>,
        delta: f64,
    ) -> (f64, [f64; PARAMS]) {
        self.objective_on(Isa::active(), theta, weights, delta)
    }

    /// [`Runs::objective`] on a given path; an unsupported one runs the portable code.
    pub(crate) fn objective_on(
        &self,
        isa: Isa,
        theta: &[f64; PARAMS],
        weights: Option<&[f64]>,
        delta: f64,
    ) -> (f64, [f64; PARAMS]) {
        #[cfg(target_arch = "x86_64")]
        {
            if isa == Isa::Avx512 && isa.supported() {
                // SAFETY: the CPU has every feature the function is compiled for (checked).
                return unsafe { self.objective_avx512(theta, weights, delta) };
            }
            if isa == Isa::Avx2 && isa.supported() {
                // SAFETY: as above.
                return unsafe { self.objective_avx2(theta, weights, delta) };
            }
        }
        self.objective_portable(theta, weights, delta)
    }

    /// The same code compiled for AVX2 (bit-identical: Rust never fuses `a * b + c`).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn objective_avx2(
        &self,
        theta: &[f64; PARAMS],
        weights: Option<&[f64]>,
        delta: f64,
    ) -> (f64, [f64; PARAMS]) {
        self.objective_portable(theta, weights, delta)
    }

    /// The same code compiled for AVX-512 (bit-identical, as above).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
    fn objective_avx512(
        &self,
        theta: &[f64; PARAMS],
        weights: Option<&[f64]>,
        delta: f64,
    ) -> (f64, [f64; PARAMS]) {
        self.objective_portable(theta, weights, delta)
    }

    #[inline(always)]
    fn objective_portable(
        &self,
        theta: &[f64; PARAMS],
        weights: Option<&[f64]>,
        delta: f64,
    ) -> (f64, [f64; PARAMS]) {
        // Lanes of 8 points with per-lane partial sums: summing into one scalar would be a
        // floating-point reduction that LLVM may not reorder, and it would not vectorise.
        let n = self.len();
        let mut acc = [[0.0; LANES]; PARAMS + 1];
        let mut base = 0;
        while base < n {
            let width = LANES.min(n - base);
            let mut ln_n = [0.0; LANES];
            let mut ln_d = [0.0; LANES];
            let mut ln_l = [0.0; LANES];
            let mut w = [0.0; LANES];
            ln_n[..width].copy_from_slice(&self.ln_n[base..base + width]);
            ln_d[..width].copy_from_slice(&self.ln_d[base..base + width]);
            ln_l[..width].copy_from_slice(&self.ln_l[base..base + width]);
            match weights {
                Some(ws) => w[..width].copy_from_slice(&ws[base..base + width]),
                None => w[..width].fill(1.0),
            }
            lanes(theta, delta, &ln_n, &ln_d, &ln_l, &w, &mut acc);
            base += width;
        }
        let total = |k: usize| acc[k].iter().sum::<f64>();
        (total(0), [total(1), total(2), total(3), total(4), total(5)])
    }

    /// Residuals `LSE(...) - ln L_i` at `theta` (in log-loss units).
    pub fn residuals(&self, theta: &[f64; PARAMS]) -> Vec<f64> {
        let [a, b, e, alpha, beta] = *theta;
        (0..self.len())
            .map(|i| {
                let t1 = a - alpha * self.ln_n[i];
                let t2 = b - beta * self.ln_d[i];
                let m = t1.max(t2).max(e);
                m + ((t1 - m).exp() + (t2 - m).exp() + (e - m).exp()).ln() - self.ln_l[i]
            })
            .collect()
    }

    /// The objective at many parameter vectors at once (screening starts, bootstrap
    /// work); parallel above the batch threshold (counted in points times vectors).
    pub fn objective_batch(
        &self,
        thetas: &[[f64; PARAMS]],
        weights: Option<&[f64]>,
        delta: f64,
    ) -> Vec<f64> {
        let one = |t: &[f64; PARAMS]| self.objective(t, weights, delta).0;
        if thetas.len() * self.len() >= PARALLEL_THRESHOLD {
            thetas.par_iter().map(one).collect()
        } else {
            thetas.iter().map(one).collect()
        }
    }
}

/// Points per lane block of [`Runs::objective`].
const LANES: usize = 8;

/// One block of points: adds each point's weighted Huber term and gradient to `acc`
/// (`acc[0]` objective, `acc[1..]` gradient). Padding lanes carry weight 0.
#[inline(always)]
fn lanes(
    theta: &[f64; PARAMS],
    delta: f64,
    ln_n: &[f64; LANES],
    ln_d: &[f64; LANES],
    ln_l: &[f64; LANES],
    w: &[f64; LANES],
    acc: &mut [[f64; LANES]; PARAMS + 1],
) {
    let [a, b, e, alpha, beta] = *theta;
    for j in 0..LANES {
        let t1 = a - alpha * ln_n[j];
        let t2 = b - beta * ln_d[j];
        let m = t1.max(t2).max(e);
        let (x1, x2, x3) = (vmath::exp(t1 - m), vmath::exp(t2 - m), vmath::exp(e - m));
        let sum = x1 + x2 + x3;
        let r = m + vmath::ln(sum) - ln_l[j];
        let (h, psi, _) = huber(r, delta);
        let s = w[j] * psi / sum;
        acc[0][j] += w[j] * h;
        acc[1][j] += s * x1;
        acc[2][j] += s * x2;
        acc[3][j] += s * x3;
        acc[4][j] -= s * x1 * ln_n[j];
        acc[5][j] -= s * x2 * ln_d[j];
    }
}

/// The Huber function at `r` with threshold `delta`: `(h, h', h'')`, i.e. `r^2 / 2`, `r`
/// and 1 inside `|r| <= delta`; `delta (|r| - delta / 2)`, `delta sign r` and 0 outside.
/// One definition for every objective that fits a law (the Huber sum, its Newton polish,
/// Epoch's likelihood, Kaplan's family).
#[inline(always)]
pub(crate) fn huber(r: f64, delta: f64) -> (f64, f64, f64) {
    if r.abs() <= delta {
        (0.5 * r * r, r, 1.0)
    } else {
        (delta * (r.abs() - 0.5 * delta), delta.copysign(r), 0.0)
    }
}

/// Checks `delta` and optional weights against the runs.
pub fn check(runs: &Runs, weights: Option<&[f64]>, delta: f64) -> Result<()> {
    if !is_positive(delta) {
        return Err(Error::Invalid {
            argument: "delta",
            value: delta,
            requirement: "finite and > 0",
            index: None,
        });
    }
    if let Some(w) = weights {
        if w.len() != runs.len() {
            return Err(Error::Length {
                argument: "weights",
                len: w.len(),
                expected: runs.len(),
            });
        }
        if let Some((i, &v)) = w.iter().enumerate().find(|(_, v)| !is_non_negative(**v)) {
            return Err(Error::Invalid {
                argument: "weights",
                value: v,
                requirement: "finite and >= 0",
                index: Some(i),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs() -> Runs {
        let n: [f64; 5] = [1e8, 3e8, 1e9, 3e9, 1e10];
        let d: [f64; 5] = [2e9, 6e9, 2e10, 6e10, 2e11];
        let l: Vec<f64> = n
            .iter()
            .zip(d)
            .map(|(n, d)| 1.69 + 406.4 * n.powf(-0.34) + 410.7 * d.powf(-0.28) + 0.01)
            .collect();
        Runs::new(&n, &d, &l).unwrap()
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let r = runs();
        for delta in [1e-3, 1.0] {
            let theta = [6.0, 6.1, 0.52, 0.35, 0.29];
            let (_, g) = r.objective(&theta, None, delta);
            for k in 0..PARAMS {
                let h = 1e-6;
                let (mut up, mut dn) = (theta, theta);
                up[k] += h;
                dn[k] -= h;
                let fd =
                    (r.objective(&up, None, delta).0 - r.objective(&dn, None, delta).0) / (2.0 * h);
                assert!(
                    (fd - g[k]).abs() <= 1e-6 * (1.0 + g[k].abs()),
                    "{k}: {fd} vs {}",
                    g[k]
                );
            }
        }
    }

    #[test]
    fn counts_as_weights_equal_repeated_points() {
        let r = runs();
        let theta = [6.0, 6.1, 0.52, 0.35, 0.29];
        let w = [2.0, 0.0, 1.0, 3.0, 1.0];
        let idx = [0, 0, 2, 3, 3, 3, 4];
        let pick = |v: &Vec<f64>| idx.iter().map(|&i| v[i].exp()).collect::<Vec<_>>();
        let copy = Runs::new(&pick(&r.ln_n), &pick(&r.ln_d), &pick(&r.ln_l)).unwrap();
        let (fw, gw) = r.objective(&theta, Some(&w), 1e-3);
        let (fc, gc) = copy.objective(&theta, None, 1e-3);
        assert!((fw - fc).abs() <= 1e-12 * fc);
        for k in 0..PARAMS {
            assert!((gw[k] - gc[k]).abs() <= 1e-12 * (1.0 + gc[k].abs()));
        }
    }

    #[test]
    fn every_objective_path_the_cpu_has_gives_the_portable_bits() {
        let r = runs();
        for k in 0..50 {
            let theta = [
                5.0 + 0.1 * k as f64,
                6.1,
                0.52 - 0.02 * k as f64,
                0.35,
                0.29,
            ];
            let portable = r.objective_portable(&theta, None, 1e-3);
            assert_eq!(r.objective(&theta, None, 1e-3), portable);
            for isa in Isa::ALL.into_iter().filter(|i| i.supported()) {
                assert_eq!(r.objective_on(isa, &theta, None, 1e-3), portable, "{isa:?}");
            }
        }
    }

    #[test]
    fn bad_runs_are_named() {
        let e = Runs::new(&[1.0, -1.0], &[1.0, 1.0], &[1.0, 1.0]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "params must be finite and > 0; got -1.0 at index 1"
        );
        assert!(Runs::new(&[1.0], &[1.0, 2.0], &[1.0]).is_err());
        let r = runs();
        assert!(check(&r, Some(&[1.0]), 1e-3).is_err());
        assert!(check(&r, None, 0.0).is_err());
    }
}
