//! The vectorised Newton: lanes of rows solved in lock-step, with an AVX2 copy chosen at
//! run time, and the batch job that drives it.

// Lane loops index several arrays by the same `j`, the shape LLVM vectorises best.
#![allow(clippy::needless_range_loop)]

use super::*;

/// ln 3: tokens served per token trained at equal FLOPs, in logs.
pub(crate) const LN_3: f64 = crate::laws::flops::LN_TRAINING_PER_INFERENCE;

/// Rows processed in lock-step by the vectorised Newton.
pub(crate) const LANES: usize = 8;

pub(crate) struct Job<'a> {
    pub(crate) loss: Column<'a>,
    pub(crate) demand: DemandColumns<'a>,
    pub(crate) laws: &'a LawColumns<'a>,
    pub(crate) options: &'a Options,
    /// The law and its logs when every row shares one valid law (rows then skip the law's
    /// checks: it passed them once).
    pub(crate) shared: Option<(Law, LawLogs)>,
    /// Newton starts for that law's beta, when the start rule asks for them.
    pub(crate) table: Option<Arc<StartTable>>,
}

impl Job<'_> {
    /// Validates row `i`: its law's logs, `l - E` and the demand, or what is wrong with it.
    #[inline(always)]
    pub(crate) fn validate(&self, i: usize) -> Result<(LawLogs, f64, f64)> {
        let (law, logs) = match self.shared {
            Some(shared) => shared,
            None => {
                let law = self.laws.get(i)?;
                (law, LawLogs::new(&law))
            }
        };
        let gap = law.gap(self.loss.get(i), Some(i))?;
        let d = self.demand.get(i)?;
        Ok((logs, gap, d))
    }

    /// The common case without per-row branches: one shared law, demand in tokens, and
    /// every row of the chunk `i0..i0 + width` valid (checked all at once). `None` sends
    /// the chunk down the per-row path, which finds and names what is wrong; the lanes
    /// are filled with the same numbers either way.
    #[inline(always)]
    fn valid_chunk(&self, i0: usize, width: usize) -> Option<LaneInput> {
        let (law, logs) = self.shared?;
        let DemandColumns::Tokens(_, tokens) = self.demand else {
            return None;
        };
        let mut input = LaneInput::filled(logs);
        let (mut loss, mut demand) = ([law.e + 1.0; LANES], [0.0; LANES]);
        self.loss.fill(i0, &mut loss[..width]);
        tokens.fill(i0, &mut demand[..width]);
        let mut all = true;
        for j in 0..LANES {
            let gap = loss[j] - law.e;
            all &= loss[j].is_finite() & (gap > 0.0) & is_non_negative(demand[j]);
            input.gap[j] = gap;
            input.demand[j] = demand[j];
        }
        all.then_some(input)
    }

    pub(crate) fn run(&self, start: usize, out: OutputsMut<'_>) -> Option<Error> {
        let ((params, tokens), (iterations, converged)) = out;
        let mut first = None;
        let n = params.len();
        let mut base = 0;
        // Invalid lanes hold a zero-demand placeholder: settled before the first step.
        let placeholder = LawLogs::new(&Law::CHINCHILLA);
        while base < n {
            let width = LANES.min(n - base);
            let (input, valid) = match self.valid_chunk(start + base, width) {
                Some(input) => (input, [true; LANES]),
                None => {
                    let mut input = LaneInput::filled(placeholder);
                    let mut valid = [false; LANES];
                    for j in 0..width {
                        match self.validate(start + base + j) {
                            Ok((logs, gap, d)) => {
                                input.set(j, logs, gap, d);
                                valid[j] = true;
                            }
                            Err(e) => reject(e, self.options.on_invalid, &mut first),
                        }
                    }
                    (input, valid)
                }
            };
            let solved = solve_lanes(&input, self.options, self.table.as_deref());
            for j in 0..width {
                let i = start + base + j;
                let (p, t) = if !valid[j] {
                    (f64::NAN, f64::NAN)
                } else if !solved.ok[j] {
                    let err = Error::NotConverged {
                        index: i,
                        iterations: solved.iterations[j],
                    };
                    reject(err, self.options.on_invalid, &mut first);
                    (f64::NAN, f64::NAN)
                } else if let Err(e) = in_range(i, solved.ln_tokens[j], solved.ln_params[j]) {
                    reject(e, self.options.on_invalid, &mut first);
                    (f64::NAN, f64::NAN)
                } else {
                    (solved.params[j], solved.tokens[j])
                };
                params[base + j] = p;
                tokens[base + j] = t;
                iterations[base + j] = solved.iterations[j];
                converged[base + j] = valid[j] && solved.ok[j] && p.is_finite();
            }
            base += width;
        }
        first
    }
}

/// Validated inputs of one chunk, structure-of-arrays so that lane loops vectorise.
#[derive(Clone, Copy)]
pub(crate) struct LaneInput {
    pub(crate) ln_p: [f64; LANES],
    pub(crate) ln_qp0: [f64; LANES],
    pub(crate) ln_r: [f64; LANES],
    pub(crate) ln_nc: [f64; LANES],
    pub(crate) beta: [f64; LANES],
    pub(crate) inv_alpha: [f64; LANES],
    pub(crate) gap: [f64; LANES],
    pub(crate) demand: [f64; LANES],
}

impl LaneInput {
    pub(crate) fn filled(l: LawLogs) -> Self {
        LaneInput {
            ln_p: [l.ln_p; LANES],
            ln_qp0: [l.ln_qp0; LANES],
            ln_r: [l.ln_r; LANES],
            ln_nc: [l.ln_nc; LANES],
            beta: [l.beta; LANES],
            inv_alpha: [l.inv_alpha; LANES],
            gap: [1.0; LANES],
            demand: [0.0; LANES],
        }
    }

    #[inline(always)]
    pub(crate) fn set(&mut self, j: usize, l: LawLogs, gap: f64, demand: f64) {
        self.ln_p[j] = l.ln_p;
        self.ln_qp0[j] = l.ln_qp0;
        self.ln_r[j] = l.ln_r;
        self.ln_nc[j] = l.ln_nc;
        self.beta[j] = l.beta;
        self.inv_alpha[j] = l.inv_alpha;
        self.gap[j] = gap;
        self.demand[j] = demand;
    }

    #[inline(always)]
    pub(crate) fn logs(&self, j: usize) -> LawLogs {
        LawLogs {
            ln_p: self.ln_p[j],
            ln_qp0: self.ln_qp0[j],
            ln_r: self.ln_r[j],
            ln_nc: self.ln_nc[j],
            beta: self.beta[j],
            inv_alpha: self.inv_alpha[j],
        }
    }

    #[inline(always)]
    pub(crate) fn reduced(&self, j: usize) -> Reduced {
        Reduced::new(self.logs(j), self.gap[j], self.demand[j])
    }
}

/// What [`solve_lanes`] returns for one chunk.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LaneOutput {
    pub(crate) ln_tokens: [f64; LANES],
    pub(crate) ln_params: [f64; LANES],
    pub(crate) tokens: [f64; LANES],
    pub(crate) params: [f64; LANES],
    pub(crate) iterations: [u32; LANES],
    pub(crate) ok: [bool; LANES],
}

/// Reduce, solve and finish one chunk on the CPU's best [`Isa`] (see `crate::engine::simd`: every
/// path gives the same bits).
pub(crate) fn solve_lanes(
    input: &LaneInput,
    options: &Options,
    table: Option<&StartTable>,
) -> LaneOutput {
    solve_lanes_on(Isa::active(), input, options, table)
}

/// [`solve_lanes`] on a given path; an unsupported one runs the portable code.
pub(crate) fn solve_lanes_on(
    isa: Isa,
    input: &LaneInput,
    options: &Options,
    table: Option<&StartTable>,
) -> LaneOutput {
    #[cfg(target_arch = "x86_64")]
    {
        if isa == Isa::Avx512 && isa.supported() {
            // SAFETY: the CPU has every feature the function is compiled for (checked).
            return unsafe { solve_lanes_avx512(input, options, table) };
        }
        if isa == Isa::Avx2 && isa.supported() {
            // SAFETY: as above.
            return unsafe { solve_lanes_avx2(input, options, table) };
        }
    }
    solve_lanes_portable(input, options, table)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn solve_lanes_avx2(
    input: &LaneInput,
    options: &Options,
    table: Option<&StartTable>,
) -> LaneOutput {
    solve_lanes_portable(input, options, table)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
fn solve_lanes_avx512(
    input: &LaneInput,
    options: &Options,
    table: Option<&StartTable>,
) -> LaneOutput {
    solve_lanes_portable(input, options, table)
}

#[inline(always)]
pub(crate) fn solve_lanes_portable(
    input: &LaneInput,
    options: &Options,
    table: Option<&StartTable>,
) -> LaneOutput {
    let mut ln_d = [0.0; LANES];
    let mut iterations = [0u32; LANES];
    let mut ok = [false; LANES];
    // Reduced once, as lane arrays: the solve and the finish share its logarithms.
    let mut ln_gap = [0.0; LANES];
    let mut ln_qp = [0.0; LANES];
    let mut k = [0.0; LANES];
    for j in 0..LANES {
        let r = input.reduced(j);
        (ln_gap[j], ln_qp[j], k[j]) = (r.ln_gap, r.ln_qp, r.k);
    }
    let reduced = |j: usize| Reduced {
        logs: input.logs(j),
        ln_gap: ln_gap[j],
        ln_qp: ln_qp[j],
        k: k[j],
        demand: input.demand[j] > 0.0,
    };
    match options.method {
        Method::Newton => newton_lanes(
            &reduced,
            &input.beta,
            options,
            table,
            &mut ln_d,
            &mut iterations,
            &mut ok,
        ),
        method => {
            for j in 0..LANES {
                (ln_d[j], iterations[j], ok[j]) = scalar_solve(method, &reduced(j), options);
            }
        }
    }
    let mut out = LaneOutput {
        ln_tokens: [0.0; LANES],
        ln_params: [0.0; LANES],
        tokens: [0.0; LANES],
        params: [0.0; LANES],
        iterations,
        ok,
    };
    for j in 0..LANES {
        let (ld, ln) = reduced(j).finish(ln_d[j]);
        out.ln_tokens[j] = ld;
        out.ln_params[j] = ln;
        out.tokens[j] = vmath::exp(ld);
        out.params[j] = vmath::exp(ln);
    }
    out
}

/// `(params, tokens)` from their logs, or an overflow error naming the one out of range.
#[inline(always)]
pub(crate) fn representable(index: usize, ln_d: f64, ln_n: f64) -> Result<(f64, f64)> {
    in_range(index, ln_d, ln_n)?;
    Ok((vmath::exp(ln_n), vmath::exp(ln_d)))
}

/// Whether `e^ln_d` tokens and `e^ln_n` params are normal floats; else an overflow error
/// naming the one out of range. The lanes have the exponentials already.
#[inline(always)]
pub(crate) fn in_range(index: usize, ln_d: f64, ln_n: f64) -> Result<()> {
    // Below -708 the exponential is subnormal or 0: as much a lie as +inf.
    for (quantity, v) in [("tokens", ln_d), ("params", ln_n)] {
        if !(-708.0..=vmath::EXP_MAX_ARG).contains(&v) {
            return Err(Error::Overflow {
                index,
                quantity,
                ln_value: v,
            });
        }
    }
    Ok(())
}

/// Newton on all lanes at once, each stopping on its own criterion; lane state is kept as
/// structure-of-arrays and nothing branches on lane data, so LLVM vectorises the loops.
#[inline(always)]
pub(crate) fn newton_lanes(
    reduced: &impl Fn(usize) -> Reduced,
    beta: &[f64; LANES],
    options: &Options,
    table: Option<&StartTable>,
    ln_d: &mut [f64; LANES],
    iters: &mut [u32; LANES],
    ok: &mut [bool; LANES],
) {
    let mut s = [0.0; LANES];
    let mut k = [0.0; LANES];
    let mut ln_qp = [0.0; LANES];
    let mut curv = [0.0; LANES];
    // 1.0 while a lane still iterates, 0.0 once it has converged (or never needed to).
    let mut live = [0.0; LANES];
    for j in 0..LANES {
        let r = reduced(j);
        s[j] = r.start();
        k[j] = r.k;
        ln_qp[j] = r.ln_qp;
        curv[j] = r.curvature();
        // Without demand the closed form applies: nothing to iterate.
        live[j] = if r.demand { 1.0 } else { 0.0 };
    }
    if let Some(t) = table {
        for j in 0..LANES {
            s[j] = t.start(k[j], s[j]);
        }
    }
    let mut count = [0.0; LANES];
    for _ in 0..options.max_iter {
        for j in 0..LANES {
            let (sp, sig) = vmath::softplus_sigmoid(s[j]);
            let step = (beta[j] * s[j] + sp - k[j]) / (beta[j] + sig);
            s[j] -= live[j] * step;
            count[j] += live[j];
            let settled = step * step * curv[j] <= options.tol;
            live[j] = if settled { 0.0 } else { live[j] };
        }
        // Kept out of the loop above: a floating-point sum there would be a reduction LLVM
        // may not reorder, and it would refuse to vectorise the whole loop.
        if live.iter().all(|&l| l == 0.0) {
            break;
        }
    }
    for j in 0..LANES {
        ln_d[j] = ln_qp[j] - s[j];
        iters[j] = count[j] as u32;
        ok[j] = live[j] == 0.0;
    }
}
