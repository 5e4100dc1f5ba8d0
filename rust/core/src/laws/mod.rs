//! The laws (`scaleplan.laws`): `L(N, D) = E + A / N^alpha + B / D^beta`, its presets and
//! training-only (Chinchilla-style) optima in closed form, and the FLOP convention ([`flops`]).

use crate::engine::batch::{drive, use_parallel, Column, OnInvalid};
use crate::engine::vmath;
use crate::error::{is_positive, Error, Result};

mod closed_form;
mod columns;
pub mod flops;
#[cfg(test)]
mod tests;

pub use closed_form::*;
pub use columns::*;

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
    if is_positive(value) {
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
    /// use scaleplan::laws::Law;
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
