//! One row of the physical optimum: the objective in `x = ln N` with its first two
//! derivatives, the scan over knots, and the bracketed Newton on a segment.

use super::*;
use crate::laws::flops::TRAINING_PER_PARAM;

/// The objective at one point: `ln f`, `f'/f` and `f''/f` (derivatives in `x = ln N`),
/// with the pieces the answer is built from.
#[derive(Debug, Clone, Copy)]
pub(super) struct Point {
    x: f64,
    ln_f: f64,
    d1: f64,
    d2: f64,
    ln_tokens: f64,
    ln_training: f64,
    ln_serving: f64,
    /// The serving term's share of f, and the slope `d1` and `d2` were taken with.
    share: f64,
    slope: f64,
}

impl Point {
    /// The same point with the serving line's slope `m` (the other side of a knot):
    /// only the serving term's derivatives change.
    fn with_slope(mut self, m: f64) -> Point {
        let (dm, old) = (m - self.slope, self.slope);
        self.d1 += self.share * dm;
        self.d2 += self.share * (m * m - old * old);
        self.slope = m;
        self
    }
}

pub(super) struct Row<'c> {
    alpha: f64,
    beta: f64,
    /// `ln(B / (l - E)) / beta`: `ln D` as N goes to infinity.
    ln_d_inf: f64,
    /// The smallest `ln N` that reaches the loss (with infinitely many tokens).
    x_min: f64,
    /// Where the training cost alone is least (the Chinchilla-style model), and its log.
    x_chinchilla: f64,
    ln_training_min: f64,
    ln_c6: f64,
    ln_requests: f64,
    curve: &'c ServingCurve,
}

/// Tangents meeting this little above the best value still get their segment solved: a
/// stationary point within rounding of a knot must be found, not the knot returned.
const MARGIN: f64 = 1e-12;

impl<'c> Row<'c> {
    pub(super) fn new(
        law: &Law,
        gap: f64,
        requests: f64,
        per_flop: f64,
        curve: &'c ServingCurve,
    ) -> Row<'c> {
        let x_min = (law.a.ln() - gap.ln()) / law.alpha;
        let mut row = Row {
            alpha: law.alpha,
            beta: law.beta,
            ln_d_inf: (law.b.ln() - gap.ln()) / law.beta,
            x_min,
            // d ln(N D)/d ln N = 0 where u = beta / (alpha + beta).
            x_chinchilla: x_min + ((law.alpha + law.beta) / law.beta).ln() / law.alpha,
            ln_training_min: 0.0,
            ln_c6: (TRAINING_PER_PARAM * per_flop).ln(),
            ln_requests: requests.ln(),
            curve,
        };
        row.ln_training_min = row.at(row.x_chinchilla, 0).ln_training;
        row
    }

    /// A lower bound of `ln f` on `x >= xs[k]`: the least training cost there (it falls
    /// to the Chinchilla point, then rises) plus the requests times the least serving cost
    /// of the knots from k on (a log-log line's least value is at an end).
    fn ln_floor_from(&self, k: usize, at_knot: &Point) -> f64 {
        let training = match at_knot.x >= self.x_chinchilla {
            true => at_knot.ln_training,
            false => self.ln_training_min,
        };
        let serving = self.ln_requests + self.curve.floor[k];
        let (hi, lo) = (training.max(serving), training.min(serving));
        hi + (lo - hi).exp().ln_1p()
    }

    /// The objective at `x > x_min`, serving on the line of segment `seg`.
    fn at(&self, x: f64, seg: usize) -> Point {
        // u = A N^-alpha / (l - E) = e^-z; 1 - u by expm1 keeps its digits near x_min.
        let z = self.alpha * (x - self.x_min);
        let u = (-z).exp();
        let one_minus_u = -(-z).exp_m1();
        let ln_tokens = self.ln_d_inf - one_minus_u.ln() / self.beta;
        let ratio = u / one_minus_u;
        // 1 + d ln D/dx and d^2 ln D/dx^2.
        let g1 = 1.0 - self.alpha / self.beta * ratio;
        let g2 = self.alpha * self.alpha / self.beta * ratio / one_minus_u;
        let m = self.curve.slope(seg);
        let ln_training = self.ln_c6 + x + ln_tokens;
        let ln_serving = self.ln_requests + self.curve.ln_dollars(seg, x);
        let top = ln_training.max(ln_serving);
        let (t, s) = ((ln_training - top).exp(), (ln_serving - top).exp());
        let sum = t + s;
        Point {
            x,
            ln_f: top + sum.ln(),
            d1: (t * g1 + s * m) / sum,
            d2: (t * (g1 * g1 + g2) + s * m * m) / sum,
            ln_tokens,
            ln_training,
            ln_serving,
            share: s / sum,
            slope: m,
        }
    }

    /// The global minimum over the part of the curve that reaches the loss.
    pub(super) fn solve(&self, index: usize) -> Result<PhysicalOptimum> {
        let xs = &self.curve.x;
        let k0 = xs.partition_point(|&x| x <= self.x_min);
        let unreachable = |reason| Error::Unreachable {
            index,
            argument: "loss",
            reason,
        };
        if k0 == xs.len() {
            return Err(unreachable(
                "reaching this loss takes more parameters than the serving curve covers",
            ));
        }
        let mut iterations = 0;
        let first = self.at(xs[k0], k0.saturating_sub(1));
        let mut best = first;
        if k0 > 0 && first.d1 > 0.0 {
            // The part-segment from x_min, where the cost is infinite, to the first knot.
            best = self.stationary(self.x_min, xs[k0], k0 - 1, &mut iterations, index)?;
        }
        let mut left = first.with_slope(self.curve.slope(k0));
        for (k, &x) in xs.iter().enumerate().skip(k0 + 1) {
            let right = self.at(x, k - 1);
            if right.ln_f < best.ln_f {
                best = right;
            }
            if left.d1 < 0.0 && right.d1 > 0.0 && self.could_beat(&left, &right, best.ln_f) {
                let s = self.stationary(left.x, right.x, k - 1, &mut iterations, index)?;
                if s.ln_f <= best.ln_f + MARGIN {
                    best = s;
                }
            }
            left = right.with_slope(self.curve.slope(k));
            if self.ln_floor_from(k, &left) > best.ln_f + MARGIN {
                break; // nothing from here on can beat the best
            }
        }
        let last = xs.len() - 1;
        if best.x == xs[last] && left.d1 < 0.0 {
            return Err(unreachable(
                "the cheapest model is larger than the serving curve's largest; extend the curve",
            ));
        }
        if k0 == 0 && best.x == xs[0] && first.d1 > 0.0 {
            return Err(unreachable(
                "the cheapest model is smaller than the serving curve's smallest; extend the curve",
            ));
        }
        self.answer(best, iterations, index)
    }

    /// Whether the tangents at a segment's ends (which slope towards each other) meet
    /// below the best value seen: only then can the segment's minimum beat it.
    fn could_beat(&self, l: &Point, r: &Point, best: f64) -> bool {
        let (vl, vr) = ((l.ln_f - best).exp(), (r.ln_f - best).exp());
        let (pl, pr) = (vl * l.d1, vr * r.d1);
        let w = r.x - l.x;
        let t = (vr - vl - pr * w) / (pl - pr);
        vl + pl * t < 1.0 + MARGIN
    }

    /// The stationary point of segment `seg` between `lo` and `hi`, where the derivative
    /// goes from negative to positive: Newton's step, or bisection where it leaves the
    /// bracket, until the step is at rounding.
    fn stationary(
        &self,
        mut lo: f64,
        mut hi: f64,
        seg: usize,
        iterations: &mut u32,
        index: usize,
    ) -> Result<Point> {
        // From the Chinchilla point where it lies inside: heavy demand moves the optimum
        // below it, and Newton on the convex side converges without a bisection.
        let mut x = match self.x_chinchilla > lo && self.x_chinchilla < hi {
            true => self.x_chinchilla,
            false => 0.5 * (lo + hi),
        };
        for _ in 0..MAX_ITER {
            *iterations += 1;
            let p = self.at(x, seg);
            let step = p.d1 / p.d2;
            let scale = 4.0 * f64::EPSILON * x.abs().max(1.0);
            if step.abs() <= scale {
                return Ok(p);
            }
            if p.d1 < 0.0 {
                lo = x;
            } else {
                hi = x;
            }
            x -= step;
            if !(x > lo && x < hi) {
                x = 0.5 * (lo + hi);
            }
            if hi - lo <= scale {
                return Ok(self.at(x, seg));
            }
        }
        Err(Error::NotConverged {
            index,
            iterations: *iterations,
        })
    }

    fn answer(&self, p: Point, iterations: u32, index: usize) -> Result<PhysicalOptimum> {
        let parts = [
            ("params", p.x),
            ("tokens", p.ln_tokens),
            ("training dollars", p.ln_training),
            ("serving dollars", p.ln_serving),
        ];
        for (quantity, ln_value) in parts {
            // Serving dollars are exactly 0 without requests; anything else must be normal.
            let zero = quantity == "serving dollars" && ln_value == f64::NEG_INFINITY;
            if !zero && !ln_value.exp().is_normal() {
                return Err(Error::Overflow {
                    index,
                    quantity,
                    ln_value,
                });
            }
        }
        Ok(PhysicalOptimum {
            params: p.x.exp(),
            tokens: p.ln_tokens.exp(),
            training_dollars: p.ln_training.exp(),
            serving_dollars: p.ln_serving.exp(),
            iterations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_across_a_knot_is_the_point_on_the_next_segment() {
        // Serving dollars a request rise as N^1 to 1e10 parameters, then as N^0.5: at the
        // knot both segments give the same cost, and only the derivatives change.
        let ln10 = 10f64.ln();
        let xs = [6.0 * ln10, 10.0 * ln10, 14.0 * ln10];
        let ys = [-8.0 * ln10, -4.0 * ln10, -2.0 * ln10];
        let curve = ServingCurve::new(&xs, &ys).unwrap();
        let row = Row::new(&Law::CHINCHILLA, 0.41, 1e9, 1e-17, &curve);
        let (left, right) = (row.at(xs[1], 0), row.at(xs[1], 1));
        assert!(
            left.share > 0.1 && left.share < 0.9,
            "both terms weigh: {}",
            left.share
        );
        assert!((left.slope - 1.0).abs() < 1e-12 && (right.slope - 0.5).abs() < 1e-12);
        let moved = left.with_slope(right.slope);
        for (got, want) in [
            (moved.ln_f, right.ln_f),
            (moved.d1, right.d1),
            (moved.d2, right.d2),
            (moved.share, right.share),
            (moved.slope, right.slope),
        ] {
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{got} {want}"
            );
        }
        assert!(
            (left.d2 - right.d2).abs() > 1e-3,
            "the slopes' squares differ"
        );
    }
}
