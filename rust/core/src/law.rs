//! The Chinchilla loss law `L(N, D) = E + A / N^alpha + B / D^beta` and its training-only
//! (Chinchilla-style) optima in closed form.

use crate::batch::{drive, use_parallel, Column, OnInvalid};
use crate::error::{Error, Result};
use crate::vmath;

/// Coefficients of `L(N, D) = E + A N^-alpha + B D^-beta` (N parameters, D tokens, L in nats).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Law {
    pub e: f64,
    pub a: f64,
    pub b: f64,
    pub alpha: f64,
    pub beta: f64,
}

/// A named set of published coefficients.
#[derive(Debug, Clone, Copy)]
pub struct Preset {
    pub name: &'static str,
    pub law: Law,
    pub source: &'static str,
}

const fn law(e: f64, a: f64, b: f64, alpha: f64, beta: f64) -> Law {
    Law {
        e,
        a,
        b,
        alpha,
        beta,
    }
}

/// Every published law scaleplan knows by name; the first is the default.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "chinchilla",
        law: law(1.69, 406.4, 410.7, 0.336, 0.283),
        source: "Hoffmann et al. 2022, unrounded exponents as used by Sardana et al. 2024 \
                 (Appendix A) and De Vries 2023",
    },
    Preset {
        name: "chinchilla_rounded",
        law: law(1.69, 406.4, 410.7, 0.34, 0.28),
        source: "Hoffmann et al. 2022, exponents as printed",
    },
    Preset {
        name: "epoch2024",
        law: law(1.81686, 482.00572, 2085.43420, 0.34781, 0.36585),
        source: "Besiroglu et al. 2024, Chinchilla scaling: a replication attempt",
    },
    Preset {
        name: "sardana2024_le100",
        law: law(0.17, 7.199, 25.97, 0.08, 0.13),
        source: "Sardana et al. 2024, Table 1, runs with <= 100 tokens/parameter",
    },
    Preset {
        name: "sardana2024_le250",
        law: law(0.98, 14.23, 39.54, 0.13, 0.16),
        source: "Sardana et al. 2024, Table 1, runs with <= 250 tokens/parameter",
    },
    Preset {
        name: "sardana2024_le500",
        law: law(0.95, 17.07, 35.80, 0.13, 0.16),
        source: "Sardana et al. 2024, Table 1, runs with <= 500 tokens/parameter",
    },
    Preset {
        name: "sardana2024_all",
        law: law(1.45, 33.66, 138.9, 0.18, 0.24),
        source: "Sardana et al. 2024, Table 1, all runs",
    },
];

const POSITIVE: &str = "finite and > 0";

/// Rejects NaN, infinities and values <= 0, naming the argument.
pub(crate) fn check_positive(
    argument: &'static str,
    value: f64,
    index: Option<usize>,
) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(Error::Invalid {
            argument,
            value,
            requirement: POSITIVE,
            index,
        })
    }
}

impl Law {
    /// The Chinchilla law of Hoffmann et al. 2022 with the unrounded exponents (the default).
    pub const CHINCHILLA: Law = PRESETS[0].law;

    /// Builds a law, rejecting any coefficient that is not finite and positive.
    ///
    /// ```
    /// use scaleplan::law::Law;
    /// let law = Law::new(1.69, 406.4, 410.7, 0.336, 0.283).unwrap();
    /// // The 7B Chinchilla-style model (276B tokens) of Sardana et al., Table 2.
    /// assert!((law.loss(7e9, 2.764e11) - 2.1274).abs() < 1e-3);
    /// assert!(Law::new(1.69, -1.0, 410.7, 0.336, 0.283).is_err());
    /// ```
    pub fn new(e: f64, a: f64, b: f64, alpha: f64, beta: f64) -> Result<Law> {
        Self::checked(e, a, b, alpha, beta, None)
    }

    pub(crate) fn checked(
        e: f64,
        a: f64,
        b: f64,
        alpha: f64,
        beta: f64,
        index: Option<usize>,
    ) -> Result<Law> {
        Ok(Law {
            e: check_positive("E", e, index)?,
            a: check_positive("A", a, index)?,
            b: check_positive("B", b, index)?,
            alpha: check_positive("alpha", alpha, index)?,
            beta: check_positive("beta", beta, index)?,
        })
    }

    /// The preset called `name` (see [`PRESETS`]).
    pub fn preset(name: &str) -> Result<Law> {
        PRESETS
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.law)
            .ok_or_else(|| Error::Unknown {
                argument: "law",
                given: name.to_string(),
                valid: &PRESET_NAMES,
            })
    }

    /// `L(N, D) = E + A N^-alpha + B D^-beta`, in nats per token.
    pub fn loss(&self, params: f64, tokens: f64) -> f64 {
        self.e + self.a * params.powf(-self.alpha) + self.b * tokens.powf(-self.beta)
    }

    /// The reducible loss target `l - E`, which must be positive for `l` to be reachable.
    pub(crate) fn gap(&self, loss: f64, index: Option<usize>) -> Result<f64> {
        let gap = loss - self.e;
        if loss.is_finite() && gap > 0.0 {
            Ok(gap)
        } else {
            Err(Error::Invalid {
                argument: "loss",
                value: loss,
                requirement: "finite and greater than the law's irreducible loss E",
                index,
            })
        }
    }

    /// Training-only optimum for a budget of `flops = 6 N D` training FLOPs:
    /// `G = (alpha A / (beta B))^(1/(alpha+beta))`, `N = G (C/6)^(beta/(alpha+beta))`,
    /// `D = (C/6)^(alpha/(alpha+beta)) / G`. Returns `(params, tokens)`.
    pub fn chinchilla_for_compute(&self, flops: f64) -> (f64, f64) {
        let (ln_n, ln_d) = ClosedForm::new(self).logs(Given::Compute, flops);
        (ln_n.exp(), ln_d.exp())
    }

    /// Training-only optimum reaching `loss`: `D = (B (1 + beta/alpha) / (l - E))^(1/beta)`
    /// and `N` from the stationarity `alpha A N^-alpha = beta B D^-beta`.
    pub fn chinchilla_for_loss(&self, loss: f64) -> Result<(f64, f64)> {
        let gap = self.gap(loss, None)?;
        let (ln_n, ln_d) = ClosedForm::new(self).logs(Given::Loss, gap);
        Ok((ln_n.exp(), ln_d.exp()))
    }

    /// Chinchilla-style tokens for a model of `params` parameters (the same stationarity
    /// condition solved for D): `D = (beta B / (alpha A))^(1/beta) N^(alpha/beta)`.
    pub fn chinchilla_tokens_for_params(&self, params: f64) -> f64 {
        ClosedForm::new(self).logs(Given::Params, params).1.exp()
    }
}

/// Names of [`PRESETS`], in order.
pub const PRESET_NAMES: [&str; PRESETS.len()] = {
    let mut names = [""; PRESETS.len()];
    let mut i = 0;
    while i < PRESETS.len() {
        names[i] = PRESETS[i].name;
        i += 1;
    }
    names
};

/// Law coefficients as columns, so one batch can evaluate many laws (bootstrap samples).
#[derive(Debug, Clone, Copy)]
pub struct LawColumns<'a> {
    pub e: Column<'a>,
    pub a: Column<'a>,
    pub b: Column<'a>,
    pub alpha: Column<'a>,
    pub beta: Column<'a>,
}

impl<'a> LawColumns<'a> {
    /// Columns from slices of length 1 or `n`.
    pub fn new(coefficients: [&'a [f64]; 5], n: usize) -> Result<Self> {
        let [e, a, b, alpha, beta] = coefficients;
        Ok(LawColumns {
            e: Column::new("E", e, n)?,
            a: Column::new("A", a, n)?,
            b: Column::new("B", b, n)?,
            alpha: Column::new("alpha", alpha, n)?,
            beta: Column::new("beta", beta, n)?,
        })
    }

    /// The law of row `i`, validated.
    #[inline]
    pub fn get(&self, i: usize) -> Result<Law> {
        Law::checked(
            self.e.get(i),
            self.a.get(i),
            self.b.get(i),
            self.alpha.get(i),
            self.beta.get(i),
            Some(i),
        )
    }

    pub fn is_scalar(&self) -> bool {
        self.e.is_scalar()
            && self.a.is_scalar()
            && self.b.is_scalar()
            && self.alpha.is_scalar()
            && self.beta.is_scalar()
    }
}

/// Which closed form [`chinchilla_batch`] evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Given {
    /// A training budget in FLOPs.
    Compute,
    /// A target loss.
    Loss,
    /// A model size in parameters.
    Params,
}

/// Writes NaN to a row and turns its error into the kernel's report, as `on_invalid` asks.
pub(crate) fn reject(err: Error, on_invalid: OnInvalid, first: &mut Option<Error>) {
    if on_invalid == OnInvalid::Raise && first.is_none() {
        *first = Some(err);
    }
}

/// Per-law constants of the Chinchilla closed forms. A batch with one shared law computes
/// their logarithms once; each row is then one `ln` and two `exp` (libm's: in a scalar
/// loop they beat `vmath`'s branch-free forms, which pay off only across SIMD lanes).
#[derive(Debug, Clone, Copy)]
struct ClosedForm {
    /// `ln(B (1 + beta/alpha))`.
    ln_k: f64,
    /// `ln(alpha A) - ln(beta B)`.
    ln_ratio: f64,
    alpha: f64,
    beta: f64,
    inv_alpha: f64,
    inv_beta: f64,
    inv_sum: f64,
}

impl ClosedForm {
    fn new(law: &Law) -> Self {
        ClosedForm {
            ln_k: (law.b * (1.0 + law.beta / law.alpha)).ln(),
            ln_ratio: (law.alpha * law.a).ln() - (law.beta * law.b).ln(),
            alpha: law.alpha,
            beta: law.beta,
            inv_alpha: 1.0 / law.alpha,
            inv_beta: 1.0 / law.beta,
            inv_sum: 1.0 / (law.alpha + law.beta),
        }
    }

    /// `(ln N, ln D)` for `given` (validated > 0; the loss as its gap `l - E`).
    #[inline(always)]
    fn logs(&self, given: Given, v: f64) -> (f64, f64) {
        match given {
            Given::Compute => {
                let ln_g = self.ln_ratio * self.inv_sum;
                let ln_c6 = f64::ln(v / 6.0);
                (
                    ln_g + ln_c6 * self.beta * self.inv_sum,
                    ln_c6 * self.alpha * self.inv_sum - ln_g,
                )
            }
            Given::Loss => {
                let ln_d = (self.ln_k - f64::ln(v)) * self.inv_beta;
                ((self.ln_ratio + self.beta * ln_d) * self.inv_alpha, ln_d)
            }
            Given::Params => {
                let ln_n = f64::ln(v);
                (ln_n, (self.alpha * ln_n - self.ln_ratio) * self.inv_beta)
            }
        }
    }
}

/// `e^ln_v`, or an overflow error naming `quantity` when it is not a normal float64.
#[inline(always)]
fn from_ln(quantity: &'static str, ln_v: f64, index: usize) -> Result<f64> {
    if (-708.0..=vmath::EXP_MAX_ARG).contains(&ln_v) {
        Ok(ln_v.exp())
    } else {
        Err(Error::Overflow {
            index,
            quantity,
            ln_value: ln_v,
        })
    }
}

/// Chinchilla-style `(params, tokens)` for each row's `given` value, laws broadcast.
pub fn chinchilla_batch(
    given: Given,
    values: &[f64],
    laws: &LawColumns<'_>,
    on_invalid: OnInvalid,
    parallel: Option<bool>,
    params_out: &mut [f64],
    tokens_out: &mut [f64],
) -> Result<()> {
    let n = params_out.len();
    let values = Column::new(given_name(given), values, n)?;
    let shared = if laws.is_scalar() {
        laws.get(0).ok().map(|l| ClosedForm::new(&l))
    } else {
        None
    };
    let kernel = |start: usize, (p, t): (&mut [f64], &mut [f64])| {
        let mut first = None;
        for j in 0..p.len() {
            let i = start + j;
            let row = || -> Result<(f64, f64)> {
                let law = laws.get(i)?;
                let v = values.get(i);
                let v = match given {
                    Given::Loss => law.gap(v, Some(i))?,
                    _ => check_positive(given_name(given), v, Some(i))?,
                };
                let form = shared.unwrap_or_else(|| ClosedForm::new(&law));
                let (ln_n, ln_d) = form.logs(given, v);
                let np = match given {
                    Given::Params => v,
                    _ => from_ln("params", ln_n, i)?,
                };
                Ok((np, from_ln("tokens", ln_d, i)?))
            };
            match row() {
                Ok((np, nt)) => {
                    p[j] = np;
                    t[j] = nt;
                }
                Err(e) => {
                    p[j] = f64::NAN;
                    t[j] = f64::NAN;
                    reject(e, on_invalid, &mut first);
                }
            }
        }
        first
    };
    drive((params_out, tokens_out), use_parallel(n, parallel), &kernel)
}

fn given_name(given: Given) -> &'static str {
    match given {
        Given::Compute => "compute",
        Given::Loss => "loss",
        Given::Params => "params",
    }
}

/// `L(N, D)` for each row, laws broadcast; params and tokens must be finite and > 0.
pub fn loss_batch(
    params: &[f64],
    tokens: &[f64],
    laws: &LawColumns<'_>,
    on_invalid: OnInvalid,
    parallel: Option<bool>,
    out: &mut [f64],
) -> Result<()> {
    let n = out.len();
    let params = Column::new("params", params, n)?;
    let tokens = Column::new("tokens", tokens, n)?;
    let kernel = |start: usize, o: &mut [f64]| {
        let mut first = None;
        for (j, slot) in o.iter_mut().enumerate() {
            let i = start + j;
            let row = || -> Result<f64> {
                let law = laws.get(i)?;
                let np = check_positive("params", params.get(i), Some(i))?;
                let nt = check_positive("tokens", tokens.get(i), Some(i))?;
                Ok(law.loss(np, nt))
            };
            *slot = row().unwrap_or_else(|e| {
                reject(e, on_invalid, &mut first);
                f64::NAN
            });
        }
        first
    };
    drive(out, use_parallel(n, parallel), &kernel)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    #[test]
    fn presets_are_valid_and_named() {
        for p in PRESETS {
            let l = p.law;
            assert_eq!(Law::new(l.e, l.a, l.b, l.alpha, l.beta).unwrap(), l);
            assert_eq!(Law::preset(p.name).unwrap(), l);
        }
        let e = Law::preset("gpt5").unwrap_err().to_string();
        assert!(e.contains("chinchilla, chinchilla_rounded"), "{e}");
    }

    #[test]
    fn rejects_bad_coefficients_by_name() {
        for (i, name) in ["E", "A", "B", "alpha", "beta"].iter().enumerate() {
            let mut c = [1.69, 406.4, 410.7, 0.336, 0.283];
            for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
                c[i] = bad;
                let e = Law::new(c[0], c[1], c[2], c[3], c[4]).unwrap_err();
                assert!(e.to_string().starts_with(&format!("{name} must be")), "{e}");
            }
        }
    }

    #[test]
    fn closed_forms_agree_with_each_other() {
        let law = Law::CHINCHILLA;
        for loss in [1.8, 2.0, 2.5, 3.5] {
            let (n, d) = law.chinchilla_for_loss(loss).unwrap();
            assert!(close(law.loss(n, d), loss, 1e-13));
            let (n2, d2) = law.chinchilla_for_compute(6.0 * n * d);
            assert!(close(n2, n, 1e-12) && close(d2, d, 1e-12));
            assert!(close(law.chinchilla_tokens_for_params(n), d, 1e-12));
        }
    }

    #[test]
    fn compute_optimum_is_a_minimum_of_loss() {
        // On the iso-FLOP curve, moving N either way must raise the loss.
        let law = Law::CHINCHILLA;
        let c = 1e22;
        let (n, d) = law.chinchilla_for_compute(c);
        let best = law.loss(n, d);
        for f in [0.9, 0.99, 1.01, 1.1] {
            assert!(law.loss(n * f, d / f) > best);
        }
    }

    #[test]
    fn chinchilla_70b_matches_the_paper() {
        // Hoffmann et al.: 70B parameters and 1.4T tokens is compute-optimal at ~5.76e23 FLOPs.
        let (n, d) = Law::preset("chinchilla_rounded")
            .unwrap()
            .chinchilla_for_compute(5.76e23);
        assert!(n > 3e10 && n < 1e11, "{n}");
        assert!(d > 1e12 && d < 3e12, "{d}");
    }

    #[test]
    fn batches_broadcast_and_flag_rows() {
        let law = Law::CHINCHILLA;
        let coeffs = [[law.e], [law.a], [law.b], [law.alpha], [law.beta]];
        let cols = LawColumns::new(coeffs.each_ref().map(|c| c.as_slice()), 3).unwrap();
        let losses = [2.0, 1.0, 2.5];
        let (mut p, mut t) = (vec![0.0; 3], vec![0.0; 3]);
        let err = chinchilla_batch(
            Given::Loss,
            &losses,
            &cols,
            OnInvalid::Raise,
            None,
            &mut p,
            &mut t,
        )
        .unwrap_err();
        assert_eq!(err.index(), Some(1));
        assert!(err.to_string().starts_with("loss must be"));
        chinchilla_batch(
            Given::Loss,
            &losses,
            &cols,
            OnInvalid::Nan,
            None,
            &mut p,
            &mut t,
        )
        .unwrap();
        assert!(p[1].is_nan() && t[1].is_nan());
        assert_eq!((p[0], t[0]), law.chinchilla_for_loss(2.0).unwrap());
        let mut out = vec![0.0; 3];
        loss_batch(&p, &t, &cols, OnInvalid::Nan, None, &mut out).unwrap();
        assert!(close(out[2], 2.5, 1e-13) && out[1].is_nan());
    }
}
