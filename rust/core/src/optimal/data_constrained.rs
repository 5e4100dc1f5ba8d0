//! The data-constrained law of Muennighoff et al. 2023 ("Scaling Data-Constrained Language
//! Models"): repeated tokens and parameters beyond what the unique data supports are worth
//! less than new ones.
//!
//! ```text
//! L(N, D, U) = E + A / N'^alpha + B / D'^beta
//! U_s = min(U, D)                          unique tokens seen
//! R_D = D / U_s - 1,  D' = U_s + U_s R_D* (1 - exp(-R_D / R_D*))
//! U_N = min(N, N_opt(U_s)),  R_N = N / U_N - 1,  N' = U_N + U_N R_N* (1 - exp(-R_N / R_N*))
//! ```
//!
//! with `N_opt(U) = G (U G)^(beta/alpha)`, `G = (alpha A / (beta B))^(1/(alpha+beta))`: the
//! Chinchilla-optimal parameters for U tokens under the same law. `U_s = min(U, D)` is how
//! the authors' `optimal_allocation` calls their law (it is defined for U <= D only). With
//! `D <= U` and `N <= N_opt(D)` the law is the plain Chinchilla law.

use crate::error::{is_non_negative, is_positive, Error, Result};
use crate::laws::Law;

mod columns;
mod optimum;
pub(crate) mod served;
#[cfg(test)]
mod tests;

pub use columns::{optimum_row, point_row, rows_batch, DecayColumns};
pub use optimum::{budget_optimum, lifetime_optimum, ConstrainedOptimum};
pub use served::physical_optimum;

/// The law with its two decay constants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DataConstrained {
    pub law: Law,
    /// R_D*: how many repetitions of the unique data are worth new data, at most.
    pub rd_star: f64,
    /// R_N*: the same for parameters beyond what the unique data supports.
    pub rn_star: f64,
}

/// Muennighoff et al. 2023's fit on C4 (their repository's README): A, B, E are exp of
/// a 6.255414, b 7.3049974, e 0.6254804; alpha = beta = 0.3526596.
pub const MUENNIGHOFF2023_RD_STAR: f64 = 15.387756;
pub const MUENNIGHOFF2023_RN_STAR: f64 = 5.309743;

/// The law at one point, with its log-derivatives: `dL/d ln N`, `dL/d ln D`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub loss: f64,
    pub effective_params: f64,
    pub effective_tokens: f64,
    pub d_ln_params: f64,
    pub d_ln_tokens: f64,
}

impl DataConstrained {
    pub fn new(law: Law, rd_star: f64, rn_star: f64) -> Result<DataConstrained> {
        for (argument, value) in [("rd_star", rd_star), ("rn_star", rn_star)] {
            if !is_positive(value) {
                return Err(Error::Invalid {
                    argument,
                    value,
                    requirement: "finite and > 0",
                    index: None,
                });
            }
        }
        Ok(DataConstrained {
            law,
            rd_star,
            rn_star,
        })
    }

    /// `ln N_opt(U)`, the Chinchilla-optimal parameters for `U` tokens.
    pub fn ln_params_for_tokens(&self, ln_u: f64) -> f64 {
        let Law {
            a, b, alpha, beta, ..
        } = self.law;
        let ln_g = (alpha * a / (beta * b)).ln() / (alpha + beta);
        ln_g + beta / alpha * (ln_u + ln_g)
    }

    /// The loss at `n` parameters, `d` tokens and `u` unique tokens, with its gradient.
    pub fn point(&self, n: f64, d: f64, u: f64) -> Point {
        let Law {
            e,
            a,
            b,
            alpha,
            beta,
        } = self.law;
        let seen = u.min(d);
        // Tokens: D' and d ln D' / d ln D (1 without repetition).
        let (d_eff, dd) = if d <= u {
            (d, 1.0)
        } else {
            let r = d / seen - 1.0;
            let decay = (-r / self.rd_star).exp();
            let d_eff = seen + seen * saturated(r, self.rd_star);
            (d_eff, d * decay / d_eff)
        };
        // Parameters: the cap N_opt(U_s) moves with D while D < U.
        let cap = self.ln_params_for_tokens(seen.ln()).exp();
        let cap_moves = if d < u { beta / alpha } else { 0.0 };
        let (n_eff, dn, dn_d) = if n <= cap {
            (n, 1.0, 0.0)
        } else {
            let r = n / cap - 1.0;
            let decay = (-r / self.rn_star).exp();
            let n_eff = cap + cap * saturated(r, self.rn_star);
            let dn = n * decay / n_eff;
            (n_eff, dn, (1.0 - dn) * cap_moves)
        };
        let (p, q) = (a * n_eff.powf(-alpha), b * d_eff.powf(-beta));
        Point {
            loss: e + p + q,
            effective_params: n_eff,
            effective_tokens: d_eff,
            d_ln_params: -alpha * p * dn,
            d_ln_tokens: -alpha * p * dn_d - beta * q * dd,
        }
    }

    /// The lowest loss any N and D reach with `u` unique tokens: every repetition and every
    /// parameter saturated, `E + A (N_opt(U)(1 + R_N*))^-alpha + B (U (1 + R_D*))^-beta`.
    pub fn floor(&self, u: f64) -> f64 {
        let l = self.law;
        let cap = self.ln_params_for_tokens(u.ln()).exp();
        l.e + l.a * (cap * (1.0 + self.rn_star)).powf(-l.alpha)
            + l.b * (u * (1.0 + self.rd_star)).powf(-l.beta)
    }
}

/// `R* (1 - exp(-R / R*))`: the repetitions (or excess parameters) that count, between 0
/// and `R`, finite for every finite input. Formed as `R* x` with `x = -expm1(-R / R*)` so
/// that `U R*` never appears on its own: with R* near 1e297 that product overflowed and an
/// infinite D' gave a loss below the plain law's. For `R / R*` under 1e-8 the series
/// `R (1 - R / (2 R*))` is exact to the last bit and avoids an underflowing quotient.
#[inline]
pub(crate) fn saturated(r: f64, r_star: f64) -> f64 {
    let x = r / r_star;
    if x < 1e-8 {
        r * (1.0 - 0.5 * x)
    } else {
        r_star * -(-x).exp_m1()
    }
}
