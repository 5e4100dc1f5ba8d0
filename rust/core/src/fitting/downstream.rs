//! A benchmark's error against the loss, `error = e - k exp(-g loss)` (Gadre et al. 2024),
//! fitted by least squares: for fixed `g` it is a line in `z = exp(-g loss)`, so the fit
//! is a scan of `ln g` over `G_RANGE` and golden section on the best bracket.
//!
//! The arithmetic is the pure-Python reference's (`scaleplan.testing.reference_fits.
//! downstream_fit`) step for step: sums correctly rounded (the value `math.fsum` gives),
//! the C library's `exp` and `ln` (the functions Python's `math` calls), the same operations
//! in the same order, no fused multiply-adds. The two agree to the bit, and the answer is
//! as machine-independent as that `exp` (tests/fitting/test_downstream.py).

/// The search range of `g`, per nat of loss.
pub const G_RANGE: (f64, f64) = (1e-3, 100.0);
/// Intervals of the scan of `ln g` (401 points).
const SCAN: usize = 400;
/// Golden-section steps at most (about 60 reach the stopping width).
const SECTION_STEPS: usize = 200;

/// The correctly rounded sum of `values` (Shewchuk's exact partials, then the final
/// rounding to nearest-even), using `partials` as scratch. A non-finite input makes the
/// sum the IEEE sum of the non-finite inputs (NaN for `inf + -inf`); an overflow of the
/// finite ones gives that infinity.
pub fn exact_sum(values: impl IntoIterator<Item = f64>, partials: &mut Vec<f64>) -> f64 {
    partials.clear();
    let mut special = 0.0;
    let mut any_special = false;
    for value in values {
        if !value.is_finite() {
            special += value;
            any_special = true;
            continue;
        }
        let mut x = value;
        let mut kept = 0;
        for j in 0..partials.len() {
            let mut y = partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[kept] = lo;
                kept += 1;
            }
            x = hi;
        }
        if !x.is_finite() {
            return x; // the finite terms' sum overflowed
        }
        partials.truncate(kept);
        if x != 0.0 {
            partials.push(x);
        }
    }
    if any_special {
        return special;
    }
    rounded(partials)
}

/// The nearest double to the exact sum of non-overlapping `partials` (increasing in
/// magnitude): the top partials added until the addition is exact, then a correction
/// when the remainder lies exactly half-way and the next partial breaks the tie.
fn rounded(partials: &[f64]) -> f64 {
    let Some((&top, rest)) = partials.split_last() else {
        return 0.0;
    };
    let mut hi = top;
    let mut lo = 0.0;
    let mut n = rest.len();
    while n > 0 {
        let x = hi;
        n -= 1;
        let y = partials[n];
        hi = x + y;
        lo = y - (hi - x);
        if lo != 0.0 {
            break;
        }
    }
    if n > 0 && ((lo < 0.0 && partials[n - 1] < 0.0) || (lo > 0.0 && partials[n - 1] > 0.0)) {
        let y = lo * 2.0;
        let x = hi + y;
        if y == x - hi {
            hi = x;
        }
    }
    hi
}

/// Least squares `y = intercept + slope x` by the centred normal equations:
/// `(intercept, slope)`; all `x` equal gives the flat line.
pub fn line(x: &[f64], y: &[f64], partials: &mut Vec<f64>) -> (f64, f64) {
    let x0 = exact_sum(x.iter().copied(), partials) / x.len() as f64;
    let y0 = exact_sum(y.iter().copied(), partials) / y.len() as f64;
    let sxx = exact_sum(
        x.iter().map(|&a| {
            let d = a - x0;
            d * d
        }),
        partials,
    );
    let sxy = exact_sum(
        x.iter().zip(y).map(|(&a, &b)| (a - x0) * (b - y0)),
        partials,
    );
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (y0 - slope * x0, slope)
}

/// Scratch space of one fit: `z = exp(-g loss)` and the partials of the sums.
struct Scratch {
    z: Vec<f64>,
    partials: Vec<f64>,
}

impl Scratch {
    /// `(e, k, rss)` of the least-squares line `error = e - k z` at `g`.
    fn at(&mut self, g: f64, loss: &[f64], error: &[f64]) -> (f64, f64, f64) {
        self.z.clear();
        self.z.extend(loss.iter().map(|&v| (-g * v).exp()));
        let (e, slope) = line(&self.z, error, &mut self.partials);
        let rss = exact_sum(
            self.z.iter().zip(error).map(|(&a, &b)| {
                let r = e + slope * a - b;
                r * r
            }),
            &mut self.partials,
        );
        (e, -slope, rss)
    }

    fn rss(&mut self, ln_g: f64, loss: &[f64], error: &[f64]) -> f64 {
        self.at(ln_g.exp(), loss, error).2
    }
}

/// `(e, k, g)` minimising `sum (e - k exp(-g loss_i) - error_i)^2` over `g` in `G_RANGE`
/// (the module's search). `loss` and `error` have one length, at least 2.
pub fn fit(loss: &[f64], error: &[f64]) -> (f64, f64, f64) {
    let mut s = Scratch {
        z: Vec::with_capacity(loss.len()),
        partials: Vec::new(),
    };
    // black_box: the logs come from the C library at run time, as the reference's do, not
    // from the compiler's constant folding.
    let lo = std::hint::black_box(G_RANGE.0).ln();
    let hi = std::hint::black_box(G_RANGE.1).ln();
    let at = |i: usize| lo + (hi - lo) * i as f64 / SCAN as f64;
    // The first lowest point (NaN never compares lower), as Python's `min` picks it.
    let mut best = 0;
    let mut best_rss = s.rss(at(0), loss, error);
    for i in 1..=SCAN {
        let r = s.rss(at(i), loss, error);
        if r < best_rss {
            best = i;
            best_rss = r;
        }
    }
    let (mut a, mut b) = (at(best.saturating_sub(1)), at((best + 1).min(SCAN)));
    let ratio = (5.0f64.sqrt() - 1.0) / 2.0;
    for _ in 0..SECTION_STEPS {
        let scale = if a.abs() > 1.0 { a.abs() } else { 1.0 };
        if b - a <= 1e-13 * scale {
            break;
        }
        let c = b - ratio * (b - a);
        let d = a + ratio * (b - a);
        if s.rss(c, loss, error) <= s.rss(d, loss, error) {
            b = d;
        } else {
            a = c;
        }
    }
    let g = (0.5 * (a + b)).exp();
    let (e, k, _) = s.at(g, loss, error);
    (e, k, g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_sums_round_once() {
        let mut p = Vec::new();
        assert_eq!(exact_sum([1e16, 1.0, -1e16], &mut p), 1.0);
        assert_eq!(exact_sum([0.1; 10], &mut p), 1.0);
        // Half-way between two doubles, broken by a later partial: rounds up.
        assert_eq!(
            exact_sum([1.0, 2f64.powi(-53), 2f64.powi(-106)], &mut p),
            1.0 + f64::EPSILON
        );
        assert_eq!(exact_sum([], &mut p), 0.0);
        assert!(exact_sum([f64::INFINITY, f64::NEG_INFINITY], &mut p).is_nan());
        assert_eq!(exact_sum([f64::MAX, f64::MAX], &mut p), f64::INFINITY);
    }

    #[test]
    fn a_noiseless_mapping_comes_back() {
        let loss: Vec<f64> = (0..12).map(|i| 2.0 + 0.1 * i as f64).collect();
        let error: Vec<f64> = loss.iter().map(|l| 0.9 - 2.0 * (-0.8 * l).exp()).collect();
        let (e, k, g) = fit(&loss, &error);
        assert!((e - 0.9).abs() < 1e-9 && (k - 2.0).abs() < 1e-7 && (g - 0.8).abs() < 1e-8);
    }
}
