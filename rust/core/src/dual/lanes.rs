//! The dual for eight rows in lock-step: the logarithms of the budget and the demand,
//! Newton's descent on psi from the zero-demand optimum, and the finish to `(N, D, L)`, all
//! with the branch-free `exp`/`ln` of `vmath` over lane arrays so that they vectorise (and
//! give the same bits on every instruction set, like the lifetime lanes). A row the descent
//! cannot settle (its optimum near the pole, where `1 - e^t` would cancel) goes to the
//! scalar [`best_ln_params`] instead, as does every row under `Method::Bisect`.

// Lane loops index several arrays by the same `j`, the shape LLVM vectorises best.
#![allow(clippy::needless_range_loop)]

use super::*;
use crate::simd::Isa;
use crate::vmath;

/// Rows solved in lock-step.
pub(super) const LANES: usize = 8;

/// One validated row: its law, budget `C` (in units of `k_tr`) and demand term `m`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Row {
    pub(super) law: DualLaw,
    pub(super) c: f64,
    pub(super) m: f64,
}

/// Per lane: `None` where `rows` had none, else the best model or why there is none.
pub(super) type Solved = [Option<Result<BestModel>>; LANES];

/// Solves up to eight rows; row `j` is reported as `index0 + j` in errors.
pub(super) fn solve(rows: &[Option<Row>; LANES], method: Method, index0: usize) -> Solved {
    solve_on(Isa::active(), rows, method, index0)
}

/// [`solve`] on a given path; an unsupported one runs the portable code.
pub(super) fn solve_on(
    isa: Isa,
    rows: &[Option<Row>; LANES],
    method: Method,
    index0: usize,
) -> Solved {
    #[cfg(target_arch = "x86_64")]
    {
        if isa == Isa::Avx512 && isa.supported() {
            // SAFETY: the CPU has every feature the function is compiled for (checked).
            return unsafe { solve_avx512(rows, method, index0) };
        }
        if isa == Isa::Avx2 && isa.supported() {
            // SAFETY: as above.
            return unsafe { solve_avx2(rows, method, index0) };
        }
    }
    solve_portable(rows, method, index0)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn solve_avx2(rows: &[Option<Row>; LANES], method: Method, index0: usize) -> Solved {
    solve_portable(rows, method, index0)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
fn solve_avx512(rows: &[Option<Row>; LANES], method: Method, index0: usize) -> Solved {
    solve_portable(rows, method, index0)
}

/// Lane arrays of one group of rows.
struct Lanes {
    ln_c: [f64; LANES],
    x_hi: [f64; LANES],
    x: [f64; LANES],
    m: [f64; LANES],
    /// 1.0 while a lane iterates.
    live: [f64; LANES],
    /// 1.0 where the descent gave up (the scalar path takes the row).
    failed: [f64; LANES],
    steps: [f64; LANES],
}

#[inline(always)]
pub(super) fn solve_portable(rows: &[Option<Row>; LANES], method: Method, index0: usize) -> Solved {
    let laws = rows.map(|r| r.map(|r| r.law));
    let mut lanes = start(rows, method == Method::Newton);
    descend(&mut lanes, &laws);
    let mut solved: Solved = Default::default();
    for j in 0..LANES {
        let Some(row) = rows[j] else { continue };
        let redo = lanes.failed[j] == 1.0 || (row.m > 0.0 && method == Method::Bisect);
        if redo {
            match best_ln_params(&Psi::new(&row.law, row.c, row.m), method, index0 + j) {
                Ok((x, steps)) => (lanes.x[j], lanes.steps[j]) = (x, steps as f64),
                Err(e) => solved[j] = Some(Err(e)),
            }
        }
    }
    let finished = finish(&lanes, &laws);
    for j in 0..LANES {
        if rows[j].is_some() && solved[j].is_none() {
            solved[j] = Some(checked(finished[j], lanes.x[j], lanes.steps[j], index0 + j));
        }
    }
    solved
}

/// The logarithms, the pole `x_hi = ln(C / m)` and the zero-demand optimum `x0` as the
/// start; lanes without a row or without demand do not iterate.
#[inline(always)]
fn start(rows: &[Option<Row>; LANES], newton: bool) -> Lanes {
    let mut lanes = Lanes {
        ln_c: [0.0; LANES],
        x_hi: [0.0; LANES],
        x: [0.0; LANES],
        m: [0.0; LANES],
        live: [0.0; LANES],
        failed: [0.0; LANES],
        steps: [0.0; LANES],
    };
    let mut c = [1.0; LANES];
    let (mut ln_aa, mut ln_bb, mut alpha, mut beta) =
        ([0.0; LANES], [0.0; LANES], [1.0; LANES], [1.0; LANES]);
    for j in 0..LANES {
        if let Some(r) = rows[j] {
            (c[j], lanes.m[j]) = (r.c, r.m);
            (ln_aa[j], ln_bb[j]) = (r.law.ln_aa, r.law.ln_bb);
            (alpha[j], beta[j]) = (r.law.law.alpha, r.law.law.beta);
            lanes.live[j] = if newton && r.m > 0.0 { 1.0 } else { 0.0 };
        }
    }
    for j in 0..LANES {
        let demand = lanes.m[j] > 0.0;
        lanes.ln_c[j] = vmath::ln(c[j]);
        let ln_m = vmath::ln(if demand { lanes.m[j] } else { 1.0 });
        lanes.x_hi[j] = if demand {
            lanes.ln_c[j] - ln_m
        } else {
            f64::INFINITY
        };
        // ln N of the zero-demand optimum, (ln(alpha A / (beta B)) + beta ln C) / (alpha + beta).
        lanes.x[j] = (ln_aa[j] - ln_bb[j] + beta[j] * lanes.ln_c[j]) / (alpha[j] + beta[j]);
    }
    lanes
}

/// Newton's descent on psi in lock-step, each lane stopping on its own test (as the
/// scalar `descend` does): psi zero within its rounding, a step of at most 2 ulp, or a
/// failure (near the pole, psi not positive, or `MAX_NEWTON` steps) marked in `failed`.
#[inline(always)]
fn descend(lanes: &mut Lanes, laws: &[Option<DualLaw>; LANES]) {
    let (mut ln_aa, mut ln_bb, mut alpha, mut beta) =
        ([0.0; LANES], [0.0; LANES], [1.0; LANES], [1.0; LANES]);
    for j in 0..LANES {
        if let Some(l) = laws[j] {
            (ln_aa[j], ln_bb[j], alpha[j], beta[j]) = (l.ln_aa, l.ln_bb, l.law.alpha, l.law.beta);
        }
    }
    for _ in 0..MAX_NEWTON {
        for j in 0..LANES {
            let (x, live) = (lanes.x[j], lanes.live[j]);
            let t = x - lanes.x_hi[j];
            // Near the pole 1 - e^t cancels: rows there go to the scalar path (expm1).
            // Up to t = -1/16 (1 - e^t >= 0.06) the subtraction costs at most 16 ulp of
            // 1 - e^t, i.e. ~5e-15 in psi, below the rounding `settled` allows for.
            let near_pole = t > -0.0625;
            let one_minus_r = 1.0 - vmath::exp(t.min(-0.0625));
            let ln_u = lanes.ln_c[j] - x + vmath::ln(one_minus_r);
            let b1 = beta[j] + 1.0;
            let terms = [
                ln_bb[j],
                b1 * ln_u,
                lanes.ln_c[j] - x,
                ln_aa[j] - alpha[j] * x,
            ];
            let value = terms[0] - terms[1] + terms[2] - terms[3];
            let slope = b1 / one_minus_r - 1.0 + alpha[j];
            let scale = terms[0]
                .abs()
                .max(terms[1].abs())
                .max(terms[2].abs())
                .max(terms[3].abs());
            let settled = value.abs() <= 8.0 * f64::EPSILON * scale;
            let bad = near_pole || value.is_nan() || value <= 0.0;
            let step = value / slope;
            let tiny = step <= 2.0 * f64::EPSILON * x.abs().max(1.0);
            let moves = live == 1.0 && !settled && !bad;
            lanes.x[j] = if moves { x - step } else { x };
            lanes.steps[j] += live;
            let gives_up = live == 1.0 && !settled && bad;
            lanes.failed[j] = if gives_up { 1.0 } else { lanes.failed[j] };
            lanes.live[j] = if moves && !tiny { live } else { 0.0 };
        }
        // Kept out of the loop above so that LLVM vectorises it (see lifetime/lanes.rs).
        if lanes.live.iter().all(|&l| l == 0.0) {
            break;
        }
    }
    for j in 0..LANES {
        lanes.failed[j] = if lanes.live[j] == 1.0 {
            1.0
        } else {
            lanes.failed[j]
        };
    }
}

/// `(N, D, L)` of every lane from its `x = ln N`: `N = e^x`, `D = C e^-x - m`,
/// `L = E + A e^(-alpha x) + B e^(-beta ln D)`.
#[inline(always)]
fn finish(lanes: &Lanes, laws: &[Option<DualLaw>; LANES]) -> [(f64, f64, f64); LANES] {
    let mut law = [[1.0; 5]; LANES];
    for j in 0..LANES {
        if let Some(l) = laws[j] {
            law[j] = [l.law.e, l.law.a, l.law.b, l.law.alpha, l.law.beta];
        }
    }
    let mut out = [(0.0, 0.0, 0.0); LANES];
    for j in 0..LANES {
        let [e, a, b, alpha, beta] = law[j];
        let x = lanes.x[j];
        let params = vmath::exp(x);
        let tokens = vmath::exp(lanes.ln_c[j] - x) - lanes.m[j];
        // Below one token there is no model (`checked` says so); keep ln's domain.
        let ln_d = vmath::ln(tokens.max(1.0));
        let loss = e + a * vmath::exp(-alpha * x) + b * vmath::exp(-beta * ln_d);
        out[j] = (params, tokens, loss);
    }
    out
}

/// One lane's model, or why it is not one.
fn checked(
    (params, tokens, loss): (f64, f64, f64),
    x: f64,
    steps: f64,
    index: usize,
) -> Result<BestModel> {
    if !(params.is_finite() && tokens.is_finite()) {
        return Err(Error::Overflow {
            index,
            quantity: "params",
            ln_value: x,
        });
    }
    // Below one parameter or one token there is no model, only arithmetic: a budget too
    // small for its demand once came back as a 0.005-parameter "model" at loss 2414.
    if !(params >= 1.0 && tokens >= 1.0) {
        return Err(Error::Unreachable {
            index,
            argument: "budget",
            reason: "budget is too small for the demand: it cannot train and serve a model of \
                     at least one parameter trained on at least one token",
        });
    }
    if !loss.is_finite() {
        return Err(Error::Unreachable {
            index,
            argument: "budget",
            reason: "budget buys no model whose loss is finite under this law",
        });
    }
    Ok(BestModel {
        params,
        tokens,
        loss,
        iterations: steps as u32,
    })
}
