//! Branch-free `exp` and `ln` for the vectorised solver.
//!
//! `f64::exp` and `f64::ln` call into libm one element at a time, which stops LLVM from
//! vectorising the Newton loop of `optimal/lifetime`. These versions use only arithmetic, bit
//! operations and selects, so a loop over a fixed-size lane array compiles to SIMD code.
//! Accuracy is within a few ulp of libm over the ranges the solver uses (tested below);
//! callers clamp or check their arguments, these functions do not handle NaN.

/// `a * b + c` without a fused multiply-add: `f64::mul_add` is a libm call on targets
/// without FMA, which would defeat the point of this module.
#[inline(always)]
fn madd(a: f64, b: f64, c: f64) -> f64 {
    a * b + c
}

// ln 2 split so that n * LN2_HI is exact for |n| < 2^11 (the fdlibm constants).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
const LOG2_E: f64 = std::f64::consts::LOG2_E;
/// Adding 1.5 * 2^52 rounds a float of magnitude < 2^51 to an integer held in the low bits.
const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;
const SQRT_2: f64 = std::f64::consts::SQRT_2;

/// Largest argument whose exponential is finite.
pub const EXP_MAX_ARG: f64 = 709.782_712_893_384;

/// e^x for x in [-708, 709.78]; below -708 it flushes to 0 (the true value is < 3.3e-308,
/// negligible wherever the solver uses it), above 709.78 it gives +inf.
///
/// The whole finite range is computed, not clamped: an earlier version clamped at 709.0,
/// so e^709.5 came back as e^709 (2.2x too small) while callers accepted it as finite.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    let xc = x.clamp(-708.0, EXP_MAX_ARG);
    // x = n ln2 + r with |r| <= ln2/2, n an integer read from the low mantissa bits.
    let t = xc * LOG2_E + ROUND_MAGIC;
    let n = t - ROUND_MAGIC;
    let r = (xc - n * LN2_HI) - n * LN2_LO;
    // Taylor series of e^r to degree 13: truncation < 5e-18 for |r| <= 0.347.
    let mut p: f64 = 1.0 / 6_227_020_800.0;
    p = madd(p, r, 1.0 / 479_001_600.0);
    p = madd(p, r, 1.0 / 39_916_800.0);
    p = madd(p, r, 1.0 / 3_628_800.0);
    p = madd(p, r, 1.0 / 362_880.0);
    p = madd(p, r, 1.0 / 40_320.0);
    p = madd(p, r, 1.0 / 5_040.0);
    p = madd(p, r, 1.0 / 720.0);
    p = madd(p, r, 1.0 / 120.0);
    p = madd(p, r, 1.0 / 24.0);
    p = madd(p, r, 1.0 / 6.0);
    p = madd(p, r, 0.5);
    p = madd(p, r, 1.0);
    p = madd(p, r, 1.0);
    // 2^n assembled from the exponent bits as 2^h * 2^(n-h) with h = n >> 1: n is in
    // [-1022, 1024] after the clamp and 2^1024 is not a float, but both halves are. Scaling
    // by powers of two is exact, so this rounds exactly as one multiplication by 2^n.
    let n_int = t.to_bits().wrapping_sub(ROUND_MAGIC.to_bits()) as i64;
    let half = n_int >> 1;
    let scale_1 = f64::from_bits(((half + 1023) as u64) << 52);
    let scale_2 = f64::from_bits(((n_int - half + 1023) as u64) << 52);
    let y = (p * scale_1) * scale_2;
    if x > EXP_MAX_ARG {
        f64::INFINITY
    } else if x < -708.0 {
        0.0
    } else {
        y
    }
}

/// 2 atanh(f) = ln((1+f)/(1-f)) for |f| <= 3 - 2 sqrt(2) ~ 0.1716, by its odd series.
/// With f^2 <= 0.0295 eleven terms leave a truncation error below 1e-18.
#[inline(always)]
fn two_atanh(f: f64) -> f64 {
    let z = f * f;
    let mut p: f64 = 1.0 / 23.0;
    p = madd(p, z, 1.0 / 21.0);
    p = madd(p, z, 1.0 / 19.0);
    p = madd(p, z, 1.0 / 17.0);
    p = madd(p, z, 1.0 / 15.0);
    p = madd(p, z, 1.0 / 13.0);
    p = madd(p, z, 1.0 / 11.0);
    p = madd(p, z, 1.0 / 9.0);
    p = madd(p, z, 1.0 / 7.0);
    p = madd(p, z, 1.0 / 5.0);
    p = madd(p, z, 1.0 / 3.0);
    // 2f + 2f z p, keeping the leading term exact.
    let f2 = f + f;
    madd(f2, z * p, f2)
}

/// Natural log of a finite x > 0 (subnormals included).
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    // Subnormals: scale by 2^54 so the exponent field is meaningful.
    let sub = x < f64::MIN_POSITIVE;
    let xs = if sub { x * 18_014_398_509_481_984.0 } else { x };
    let bits = xs.to_bits();
    let e_raw = ((bits >> 52) & 0x7ff) as i64 - 1023 - if sub { 54 } else { 0 };
    // Mantissa m in [1, 2); fold to [sqrt(1/2), sqrt(2)) so |f| stays small.
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let big = m > SQRT_2;
    let m = if big { m * 0.5 } else { m };
    let e = (e_raw + i64::from(big)) as f64;
    let f = (m - 1.0) / (m + 1.0);
    madd(e, LN2_HI, two_atanh(f) + e * LN2_LO)
}

/// ln(1 + u) for u in [0, 1], accurate for tiny u (no 1 + u is formed below sqrt 2 - 1).
#[inline(always)]
pub fn ln_1p_unit(u: f64) -> f64 {
    // Below sqrt(2)-1, f = u / (2 + u); above, ln 2 + ln((1+u)/2) with f = (u-1)/(u+3).
    let hi = u > SQRT_2 - 1.0;
    // Select numerator and denominator first: one division instead of two per call.
    let num = if hi { u - 1.0 } else { u };
    let den = if hi { u + 3.0 } else { 2.0 + u };
    let f = num / den;
    let base = if hi { LN2_HI } else { 0.0 };
    let lo = if hi { LN2_LO } else { 0.0 };
    base + (two_atanh(f) + lo)
}

/// softplus(s) = ln(1 + e^s) and the logistic sigma(s) = e^s / (1 + e^s), from one exp.
#[inline(always)]
pub fn softplus_sigmoid(s: f64) -> (f64, f64) {
    let u = exp(-s.abs());
    let sp = s.max(0.0) + ln_1p_unit(u);
    let inv = 1.0 / (1.0 + u);
    let sig = if s >= 0.0 { inv } else { u * inv };
    (sp, sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> f64 {
        if a == b {
            return 0.0;
        }
        let scale = b.abs().max(f64::MIN_POSITIVE);
        (a - b).abs() / (scale * f64::EPSILON)
    }

    /// Deterministic spread of points without a dependency on `rand`.
    fn grid(lo: f64, hi: f64, n: usize) -> impl Iterator<Item = f64> {
        let golden = 0.618_033_988_749_894_9;
        (0..n).map(move |i| lo + (hi - lo) * ((i as f64 * golden).fract()))
    }

    #[test]
    fn exp_matches_libm() {
        let mut worst: f64 = 0.0;
        let top = [709.0, 709.3, 709.5, 709.7, 709.78, EXP_MAX_ARG];
        for x in grid(-708.0, EXP_MAX_ARG, 200_000).chain([0.0, -0.0, 1.0, -1.0, -708.0]) {
            worst = worst.max(ulps(exp(x), x.exp()));
        }
        // The top of the range once came back clamped at e^709 (issue: silent 2.2x errors).
        for x in top {
            worst = worst.max(ulps(exp(x), x.exp()));
        }
        assert!(worst <= 4.0, "exp worst error {worst} ulp");
    }

    #[test]
    fn exp_saturates() {
        assert_eq!(exp(710.0), f64::INFINITY);
        assert_eq!(exp(1e300), f64::INFINITY);
        assert_eq!(exp(-1e300), 0.0);
        assert_eq!(exp(-708.5), 0.0);
    }

    #[test]
    fn ln_matches_libm() {
        let mut worst: f64 = 0.0;
        for lx in grid(-744.0, 709.0, 200_000) {
            let x = lx.exp();
            if x > 0.0 && x.is_finite() {
                worst = worst.max(ulps(ln(x), x.ln()));
            }
        }
        for x in [
            1.0,
            2.0,
            0.5,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            1e-310,
            1.0 + 1e-15,
        ] {
            worst = worst.max(ulps(ln(x), x.ln()));
        }
        assert!(worst <= 4.0, "ln worst error {worst} ulp");
    }

    #[test]
    fn ln_1p_unit_matches_libm() {
        let mut worst: f64 = 0.0;
        for u in grid(0.0, 1.0, 100_000).chain([0.0, 1.0, 1e-300, 1e-17, 1e-9, 0.4142, 0.4143]) {
            worst = worst.max(ulps(ln_1p_unit(u), u.ln_1p()));
        }
        for lu in grid(-700.0, 0.0, 50_000) {
            let u = lu.exp();
            worst = worst.max(ulps(ln_1p_unit(u), u.ln_1p()));
        }
        assert!(worst <= 4.0, "ln_1p_unit worst error {worst} ulp");
    }

    #[test]
    fn softplus_sigmoid_are_consistent() {
        for s in grid(-800.0, 800.0, 20_000) {
            let (sp, sig) = softplus_sigmoid(s);
            let sp_ref = s.max(0.0) + (-s.abs()).exp().ln_1p();
            let sig_ref = 1.0 / (1.0 + (-s).exp());
            assert!(
                (sp - sp_ref).abs() <= 1e-15 * sp_ref.abs() + 1e-300,
                "softplus {s}"
            );
            assert!(
                (sig - sig_ref).abs() <= 1e-15 * sig_ref + 1e-300,
                "sigmoid {s}"
            );
        }
    }
}
