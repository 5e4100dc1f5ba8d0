//! The dual's straight-line work, eight rows at a time.
//!
//! The root of psi is a short scalar Newton loop. Around it is straight-line work: `ln C`
//! and `ln m` before, and four transcendentals after (`N = e^x`, `D = e^(ln C - x) - m` and
//! the loss). In libm that was over a third of the dual's time (`pow` alone 10%); here it
//! uses vmath's `exp`/`ln` over lane arrays, so it runs in SIMD lanes, compiled once per
//! [`Isa`] with the same bits on each. A one-row call (`best_model`) goes through the same
//! code, so it gives the bits of its batch row.

use crate::simd::Isa;
use crate::vmath;

/// Rows per block: one AVX-512 register of f64.
pub(super) const LANES: usize = 8;

/// A block of rows: their inputs, and once found their roots. Rows without a valid input
/// keep the idle values, which run through harmlessly and are discarded by the caller.
#[derive(Debug, Clone, Copy)]
pub(super) struct Block {
    /// The budget `C` in units of the training cost's coefficient.
    pub(super) c: [f64; LANES],
    /// The demand term `m = D_eff / 3`.
    pub(super) m: [f64; LANES],
    /// The law's coefficients `[E, A, B, alpha, beta]`, one array per coefficient.
    pub(super) law: [[f64; LANES]; 5],
    /// `ln C` and `ln m` (`-inf` for `m = 0`), from [`logs`].
    pub(super) ln_c: [f64; LANES],
    pub(super) ln_m: [f64; LANES],
    /// `x = ln N` at the root.
    pub(super) x: [f64; LANES],
}

impl Block {
    pub(super) fn idle() -> Block {
        Block {
            c: [1.0; LANES],
            m: [0.0; LANES],
            law: [[1.0; LANES]; 5],
            ln_c: [0.0; LANES],
            ln_m: [0.0; LANES],
            x: [0.0; LANES],
        }
    }

    /// Row `j`'s input: budget `c`, demand term `m`, law `[E, A, B, alpha, beta]`.
    pub(super) fn set(&mut self, j: usize, c: f64, m: f64, law: [f64; 5]) {
        (self.c[j], self.m[j]) = (c, m);
        for (column, value) in self.law.iter_mut().zip(law) {
            column[j] = value;
        }
    }
}

/// A block's models, before the caller checks them: params, tokens, loss.
#[derive(Debug, Clone, Copy)]
pub(super) struct Finished {
    pub(super) params: [f64; LANES],
    pub(super) tokens: [f64; LANES],
    pub(super) loss: [f64; LANES],
}

/// Fills `block.ln_c` and `block.ln_m` from its inputs (`c > 0`, `m >= 0`), in lanes.
pub(super) fn logs(isa: Isa, block: &mut Block) {
    on_isa(
        isa,
        #[inline(always)]
        || {
            // Local arrays, not the block's fields: written in place the loop stayed scalar.
            let (c, m) = (block.c, block.m);
            let (mut ln_c, mut ln_m) = ([0.0; LANES], [0.0; LANES]);
            for j in 0..LANES {
                ln_c[j] = vmath::ln(c[j]);
                let ln = vmath::ln(if m[j] > 0.0 { m[j] } else { 1.0 });
                ln_m[j] = if m[j] > 0.0 { ln } else { f64::NEG_INFINITY };
            }
            (block.ln_c, block.ln_m) = (ln_c, ln_m);
        },
    )
}

/// `N = e^x`, `D = e^(ln C - x) - m` and `L = E + A e^(-alpha x) + B e^(-beta ln D)` for
/// every row of `block`, in lanes.
pub(super) fn finish(isa: Isa, block: &Block) -> Finished {
    on_isa(
        isa,
        #[inline(always)]
        || finish_rows(block),
    )
}

#[inline(always)]
fn finish_rows(block: &Block) -> Finished {
    let mut out = Finished {
        params: [0.0; LANES],
        tokens: [0.0; LANES],
        loss: [0.0; LANES],
    };
    let [e, a, b, alpha, beta] = &block.law;
    for j in 0..LANES {
        let x = block.x[j];
        let tokens = vmath::exp(block.ln_c[j] - x) - block.m[j];
        // vmath's ln wants a positive finite argument; a row with fewer than one token is
        // rejected by the caller whatever its loss, so it gets ln 1 here.
        let usable = (1.0..=f64::MAX).contains(&tokens);
        let ln_tokens = vmath::ln(if usable { tokens } else { 1.0 });
        out.params[j] = vmath::exp(x);
        out.tokens[j] = tokens;
        out.loss[j] =
            e[j] + a[j] * vmath::exp(-alpha[j] * x) + b[j] * vmath::exp(-beta[j] * ln_tokens);
    }
    out
}

/// Runs `body` compiled for `isa` (see `crate::simd`), or as the build targets when the
/// CPU lacks it. `body` must be `#[inline(always)]` so that it is compiled inside each copy
/// below, with that copy's features.
#[inline(always)]
fn on_isa<R>(isa: Isa, body: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if isa == Isa::Avx512 && isa.supported() {
            // SAFETY: the CPU has every feature the function is compiled for (checked).
            return unsafe { on_avx512(body) };
        }
        if isa == Isa::Avx2 && isa.supported() {
            // SAFETY: as above.
            return unsafe { on_avx2(body) };
        }
    }
    body()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn on_avx2<R>(body: impl FnOnce() -> R) -> R {
    body()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx2,fma")]
fn on_avx512<R>(body: impl FnOnce() -> R) -> R {
    body()
}
