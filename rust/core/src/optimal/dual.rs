//! The dual of lifetime sizing: the lowest loss reachable with a lifetime budget.
//!
//! With training cost `k_tr N D` and inference cost `K N`, a budget `b` allows
//! `N (D + m) = C` with `C = b / k_tr` and `m = K / k_tr = D_eff / 3`. Along that curve, in
//! `x = ln N`, `L(x) = A e^(-alpha x) + B (C e^(-x) - m)^(-beta)` is a sum of two convex
//! functions, so it has one minimum. Its condition is solved as an equation in the logit of
//! the inference share (`equation.rs`), by Newton's method eight rows at a time in SIMD
//! lanes (`lanes.rs`), or by bisection. At the minimum the Lagrange conditions of the
//! lifetime problem hold, so this is exactly the inverse of
//! [`crate::optimal::lifetime::optimum`]: the plan it returns costs `b`, and its loss gives it back.

use crate::engine::batch::reject;
use crate::engine::batch::{drive, use_parallel, Column, OnInvalid};
use crate::error::{is_non_negative, Error, Result};
use crate::laws::flops::TRAINING_PER_INFERENCE;
use crate::laws::{check_positive, Law, LawColumns};
use crate::optimal::lifetime::{Demand, DemandColumns, Method};

/// The methods the dual takes: Newton's (default) and bisection, the same names as the
/// lifetime solver's.
pub const METHODS: &[&str] = &["newton", "bisect"];

/// The dual's method called `name`, or an error listing [`METHODS`].
pub fn method_from_name(name: &str) -> Result<Method> {
    match name {
        "newton" => Ok(Method::Newton),
        "bisect" => Ok(Method::Bisect),
        _ => Err(Error::Unknown {
            argument: "method",
            given: name.to_string(),
            valid: METHODS,
        }),
    }
}

/// `method` if the dual has it, else an error listing [`METHODS`].
pub fn check_method(method: Method) -> Result<Method> {
    match method {
        Method::Newton | Method::Bisect => Ok(method),
        other => Err(Error::Unknown {
            argument: "method",
            given: other.name().to_string(),
            valid: METHODS,
        }),
    }
}

/// The best model for one budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BestQuality {
    pub params: f64,
    pub tokens: f64,
    pub loss: f64,
    pub iterations: u32,
}

/// The lowest-loss `(N, D)` with `N (D + d_eff / 3) = budget`, `budget` in units of
/// `k_tr` (for FLOPs, training FLOPs / 6; see `scaleplan.optimal.costs` for dollars).
///
/// ```
/// use scaleplan::{laws::Law, optimal::dual::best_quality};
/// // Without demand it is the Chinchilla optimum for 6 * budget training FLOPs.
/// use scaleplan::optimal::lifetime::Method;
/// let m = best_quality(&Law::CHINCHILLA, 1e23 / 6.0, 0.0, Method::Newton).unwrap();
/// let (n, d) = Law::CHINCHILLA.chinchilla_for_compute(1e23);
/// assert!((m.params / n - 1.0).abs() < 1e-12 && (m.tokens / d - 1.0).abs() < 1e-12);
/// ```
pub fn best_quality(law: &Law, budget: f64, d_eff: f64, method: Method) -> Result<BestQuality> {
    let method = check_method(method)?;
    let law = Law::new(law.e, law.a, law.b, law.alpha, law.beta)?;
    check_positive("budget", budget, None)?;
    if !is_non_negative(d_eff) {
        return Err(Error::Invalid {
            argument: "effective_demand",
            value: d_eff,
            requirement: "finite and >= 0",
            index: None,
        });
    }
    solve(
        DualLaw::new(law),
        budget,
        d_eff / TRAINING_PER_INFERENCE,
        method,
        0,
    )
}

/// Row `j` of a finished block as a model, or why it is none.
fn checked(done: &Finished, j: usize, iterations: u32, index: usize) -> Result<BestQuality> {
    let (params, tokens, loss) = (done.params[j], done.tokens[j], done.loss[j]);
    if !(params.is_finite() && tokens.is_finite()) {
        return Err(Error::Overflow {
            index,
            quantity: "params",
            ln_value: done.ln_params[j],
        });
    }
    // Below one parameter or one token there is no model, only arithmetic: a budget too
    // small for its demand once came back as a 0.005-parameter "model" at loss 2414.
    if !(params >= 1.0 && tokens >= 1.0) {
        return Err(Error::Unreachable {
            index,
            argument: "budget",
            reason: "budget is too small for the demand (inference_tokens, or requests x \
                     input_tokens and output_tokens for a dollar budget): it cannot train and \
                     serve a model of at least one parameter trained on at least one token",
        });
    }
    if !loss.is_finite() {
        return Err(Error::Unreachable {
            index,
            argument: "budget",
            reason: "budget buys no model whose loss is finite under this law",
        });
    }
    Ok(BestQuality {
        params,
        tokens,
        loss,
        iterations,
    })
}

/// A validated row: its law, budget `c` in units of `k_tr` and demand term `m`.
type Row = (DualLaw, f64, f64);

/// The best models of up to [`LANES`] rows (`None` past the batch's end), row `j` being
/// row `index + j` of the batch: the logarithms, Newton's method and the model in lanes
/// on `isa`, and bisection in scalar code for `Method::Bisect`.
fn solve_block(
    rows: [Option<Result<Row>>; LANES],
    method: Method,
    index: usize,
    isa: Isa,
) -> [Option<Result<BestQuality>>; LANES] {
    let mut block = Block::idle();
    for (j, row) in rows.iter().enumerate() {
        if let Some(Ok((law, c, m))) = row {
            block.set(j, *c, *m, law);
        }
    }
    lanes::prepare(isa, &mut block);
    if method == Method::Newton {
        lanes::newton(isa, &mut block);
    }
    // Bisection, as asked or where Newton did not settle (no such row is known).
    for (j, row) in rows.iter().enumerate() {
        if matches!(row, Some(Ok(_))) && !block.settled[j] {
            let (s, q) = block.slopes(j);
            let (y, halvings) = bisect(block.k[j], s, q);
            (block.y[j], block.steps[j]) = (y, block.steps[j] + halvings);
        }
    }
    let done = lanes::finish(isa, &block);
    let mut j = 0;
    rows.map(|row| {
        let model = row.map(|r| r.and_then(|_| checked(&done, j, block.steps[j], index + j)));
        j += 1;
        model
    })
}

/// The best model for a validated row, through the same code as a batch row.
fn solve(dual: DualLaw, c: f64, m: f64, method: Method, index: usize) -> Result<BestQuality> {
    let mut rows = std::array::from_fn(|_| None);
    rows[0] = Some(Ok((dual, c, m)));
    let [first, ..] = solve_block(rows, method, index, Isa::active());
    first.expect("row 0 was given")
}

/// Output columns of [`best_quality_batch`]: ((params, tokens), (loss, iterations)).
pub type BestOutputs<'a> = (
    (&'a mut [f64], &'a mut [f64]),
    (&'a mut [f64], &'a mut [u32]),
);

/// [`best_quality`] for every row; inputs broadcast to the outputs' length. Row `i`'s budget
/// in units of `k_tr` is `budget[i] / per_unit` (6 for a budget in FLOPs, `k_tr` in dollars
/// per unit for one in dollars), so errors quote the budget as the caller gave it.
#[allow(clippy::too_many_arguments)]
pub fn best_quality_batch(
    budget: &[f64],
    per_unit: f64,
    demand: Demand<'_>,
    laws: &LawColumns<'_>,
    method: Method,
    on_invalid: OnInvalid,
    parallel: Option<bool>,
    out: BestOutputs<'_>,
) -> Result<()> {
    let method = check_method(method)?;
    let per_unit = check_positive("per_unit", per_unit, None)?;
    let n = out.0 .0.len();
    let budget = Column::new("budget", budget, n)?;
    let demand = DemandColumns::new(demand, n)?;
    // One shared valid law: its logarithms once, not per row.
    let shared = laws
        .is_scalar()
        .then(|| laws.get(0).ok().map(DualLaw::new))
        .flatten();
    let row = |i: usize| -> Result<Row> {
        let law = match shared {
            Some(law) => law,
            None => DualLaw::new(laws.get(i)?),
        };
        let given = check_positive("budget", budget.get(i), Some(i))?;
        let c = given / per_unit;
        if !(c.is_finite() && c >= f64::MIN_POSITIVE) {
            return Err(Error::Invalid {
                argument: "budget",
                value: given,
                requirement: "small enough that the problem stays in float64 range",
                index: Some(i),
            });
        }
        Ok((law, c, demand.get(i)? / TRAINING_PER_INFERENCE))
    };
    let isa = Isa::active();
    let kernel = |start: usize, ((p, t), (l, it)): BestOutputs<'_>| {
        let mut first = None;
        for lo in (0..p.len()).step_by(LANES) {
            let width = LANES.min(p.len() - lo);
            let rows = std::array::from_fn(|j| (j < width).then(|| row(start + lo + j)));
            let models = solve_block(rows, method, start + lo, isa);
            for (j, model) in models.into_iter().enumerate() {
                let o = lo + j;
                match model {
                    None => break,
                    Some(Ok(m)) => {
                        (p[o], t[o], l[o], it[o]) = (m.params, m.tokens, m.loss, m.iterations)
                    }
                    Some(Err(e)) => {
                        (p[o], t[o], l[o], it[o]) = (f64::NAN, f64::NAN, f64::NAN, 0);
                        reject(e, on_invalid, &mut first);
                    }
                }
            }
        }
        first
    };
    drive(out, use_parallel(n, parallel), &kernel)
}

mod equation;
mod lanes;

use crate::engine::simd::Isa;
use equation::{bisect, DualLaw};
use lanes::{Block, Finished, LANES};

#[cfg(test)]
mod tests;
