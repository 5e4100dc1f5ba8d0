//! The training-only (Chinchilla-style) optima in closed form, and the loss, for batches.

use super::*;
use crate::engine::batch::reject;
use crate::laws::flops::TRAINING_PER_PARAM;

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

/// Per-law constants of the Chinchilla closed forms. A batch with one shared law computes
/// their logarithms once; each row is then one `ln` and two `exp` (libm's: in a scalar
/// loop they beat `vmath`'s branch-free forms, which pay off only across SIMD lanes).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClosedForm {
    /// `ln(B (1 + beta/alpha))`.
    pub(crate) ln_k: f64,
    /// `ln(alpha A) - ln(beta B)`.
    pub(crate) ln_ratio: f64,
    pub(crate) alpha: f64,
    pub(crate) beta: f64,
    pub(crate) inv_alpha: f64,
    pub(crate) inv_beta: f64,
    pub(crate) inv_sum: f64,
}

impl ClosedForm {
    pub(crate) fn new(law: &Law) -> Self {
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
    pub(crate) fn logs(&self, given: Given, v: f64) -> (f64, f64) {
        match given {
            Given::Compute => {
                let ln_g = self.ln_ratio * self.inv_sum;
                let ln_c6 = f64::ln(v / TRAINING_PER_PARAM);
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
pub(crate) fn from_ln(quantity: &'static str, ln_v: f64, index: usize) -> Result<f64> {
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

pub(crate) fn given_name(given: Given) -> &'static str {
    match given {
        Given::Compute => "compute",
        Given::Loss => "loss",
        Given::Params => "params",
    }
}

impl Given {
    /// The names `from_name` takes, in the order of the variants.
    pub const NAMES: &'static [&'static str] = &["compute", "loss", "params"];

    /// The variant called `name`, or an error listing the names.
    pub fn from_name(name: &str) -> Result<Given> {
        match name {
            "compute" => Ok(Given::Compute),
            "loss" => Ok(Given::Loss),
            "params" => Ok(Given::Params),
            _ => Err(Error::Unknown {
                argument: "given",
                given: name.to_string(),
                valid: Self::NAMES,
            }),
        }
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
