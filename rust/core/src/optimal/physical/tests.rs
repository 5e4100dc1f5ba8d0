use super::*;
use crate::optimal::lifetime::{cost_optimum, Options};

const LAW: Law = Law::CHINCHILLA;

fn rel(a: f64, b: f64) -> f64 {
    (a / b - 1.0).abs()
}

/// `s(N) = k N` on knots from 1e6 to 1e14, `per_decade` a decade.
fn linear(k: f64, per_decade: usize) -> ServingCurve {
    let xs: Vec<f64> = (0..=8 * per_decade)
        .map(|i| (1e6f64).ln() + i as f64 * 10f64.ln() / per_decade as f64)
        .collect();
    let ys: Vec<f64> = xs.iter().map(|x| k.ln() + x).collect();
    ServingCurve::new(&xs, &ys).unwrap()
}

/// The objective itself, for brute force.
fn dollars(loss: f64, requests: f64, c: f64, curve: &ServingCurve, n: f64) -> f64 {
    let d = (LAW.b / (loss - LAW.e - LAW.a * n.powf(-LAW.alpha))).powf(1.0 / LAW.beta);
    let x = n.ln();
    let seg = curve.x.partition_point(|&k| k <= x).saturating_sub(1);
    6.0 * c * n * d + requests * curve.ln_dollars(seg, x).exp()
}

#[test]
fn linear_serving_is_cost_optimal() {
    // cost_optimal's objective is 6 N D + 2 N R (w_in i + w_out o) in training FLOPs; with
    // c = 1 dollar per FLOP that is s(N) = 2 (w_in i + w_out o) N dollars a request.
    let (w_in, w_out, i, o) = (0.3, 7.0, 70.0, 215.0);
    let k = 2.0 * (w_in * i + w_out * o);
    for per_decade in [1, 3, 16] {
        let curve = linear(k, per_decade);
        for (loss, requests) in [(2.1274, 1e9), (2.0, 1e11), (1.95, 3e7), (2.3, 1e12)] {
            let want =
                cost_optimum(&LAW, loss, requests, i, o, w_in, w_out, &Options::default()).unwrap();
            let got = optimum(&LAW, loss, requests, 1.0, &curve, None).unwrap();
            assert!(
                rel(got.params, want.params) < 1e-9,
                "{per_decade} {loss} {requests}"
            );
            assert!(rel(got.tokens, want.tokens) < 1e-9);
            let total = 6.0 * want.params * want.tokens + requests * k * want.params;
            assert!(rel(got.training_dollars + got.serving_dollars, total) < 1e-12);
            assert!(
                got.iterations > 0 && got.iterations < 20,
                "{}",
                got.iterations
            );
        }
    }
}

#[test]
fn no_requests_is_chinchilla() {
    let (n, d) = LAW.chinchilla_for_loss(2.1274).unwrap();
    let got = optimum(&LAW, 2.1274, 0.0, 1e-18, &linear(1e-12, 4), None).unwrap();
    assert!(rel(got.params, n) < 1e-9 && rel(got.tokens, d) < 1e-9);
    assert_eq!(got.serving_dollars, 0.0);
}

/// A serving curve with a step down (a larger tensor-parallel group that pays for
/// itself) and a steep rise: several local minima; the global one must be returned.
fn bumpy() -> ServingCurve {
    let xs: Vec<f64> = [1e8, 1e9, 3e9, 3.1e9, 8e9, 2e10, 2.1e10, 1e11, 1e12]
        .iter()
        .map(|v: &f64| v.ln())
        .collect();
    let per_param: [f64; 9] = [1.0, 1.0, 1.0, 0.5, 0.55, 0.6, 2.0, 2.0, 2.0];
    let ys: Vec<f64> = xs
        .iter()
        .zip(per_param)
        .map(|(x, k)| (1e-12 * k).ln() + x)
        .collect();
    ServingCurve::new(&xs, &ys).unwrap()
}

#[test]
fn bumpy_curve_gives_the_global_minimum() {
    let curve = bumpy();
    for (loss, requests) in [
        (2.1274, 1e6),
        (2.1274, 1e8),
        (2.0, 1e9),
        (2.3, 1e10),
        (1.9, 1e7),
    ] {
        let c = 1.5e-18;
        let got = optimum(&LAW, loss, requests, c, &curve, None).unwrap();
        let total = got.training_dollars + got.serving_dollars;
        assert!(rel(total, dollars(loss, requests, c, &curve, got.params)) < 1e-12);
        // Brute force over 200,000 points of ln N between the smallest reachable N and 1e12.
        let lo = (LAW.a / (loss - LAW.e))
            .powf(1.0 / LAW.alpha)
            .ln()
            .max(1e8f64.ln());
        let hi = 1e12f64.ln();
        let steps = 200_000;
        let brute = (1..steps)
            .map(|j| {
                dollars(
                    loss,
                    requests,
                    c,
                    &curve,
                    (lo + (hi - lo) * j as f64 / steps as f64).exp(),
                )
            })
            .fold(f64::INFINITY, f64::min);
        assert!(
            total <= brute * (1.0 + 1e-12),
            "{loss} {requests}: {total} vs {brute}"
        );
    }
}

#[test]
fn a_kink_is_returned_exactly() {
    // Serving per parameter jumps tenfold past 3.1e9: for heavy demand the best model sits
    // at the kink itself, where the derivative changes sign without being zero.
    let xs = [1e8f64.ln(), 3.1e9f64.ln(), 3.2e9f64.ln(), 1e12f64.ln()];
    let ys = [
        (1e-13f64 * 1e8).ln(),
        (1e-13f64 * 3.1e9).ln(),
        (1e-12f64 * 3.2e9).ln(),
        (1e-12f64 * 1e12).ln(),
    ];
    let curve = ServingCurve::new(&xs, &ys).unwrap();
    let loss = LAW.loss(3.1e9, 3e11);
    // Requests at which the cheaper side's serving slope offsets a third of the training
    // cost's fall there (d/d ln N by central differences): a kink minimum.
    let training = |n: f64| dollars(loss, 0.0, 1e-18, &curve, n);
    let h: f64 = 1e-4;
    let slope = (training(3.1e9 * h.exp()) - training(3.1e9 * (-h).exp())) / (2.0 * h);
    assert!(slope < 0.0);
    let requests = -slope / 3.0 / (1e-13 * 3.1e9);
    let got = optimum(&LAW, loss, requests, 1e-18, &curve, None).unwrap();
    assert_eq!(got.params, xs[1].exp());
}

#[test]
fn answers_outside_the_curve_are_errors() {
    let curve = linear(1e-12, 2);
    // The Chinchilla-style model for this loss is far above 1e14 parameters.
    let e = optimum(&LAW, 1.7, 0.0, 1e-18, &curve, None).unwrap_err();
    assert!(
        e.to_string().contains("larger than the serving curve"),
        "{e}"
    );
    // Below its smallest knot: a loss any 1e5-parameter model reaches, at huge demand.
    let e = optimum(&LAW, 6.0, 1e20, 1e-18, &curve, None).unwrap_err();
    assert!(
        e.to_string().contains("smaller than the serving curve"),
        "{e}"
    );
    let e = optimum(&LAW, 1.69, 1.0, 1e-18, &curve, None).unwrap_err();
    assert_eq!(e.argument(), Some("loss"));
    let e = optimum(&LAW, 2.0, -1.0, 1e-18, &curve, None).unwrap_err();
    assert_eq!(e.argument(), Some("requests"));
    let e = optimum(&LAW, 2.0, 1.0, 0.0, &curve, None).unwrap_err();
    assert_eq!(e.argument(), Some("dollars_per_flop"));
}

#[test]
fn curves_are_checked() {
    assert!(ServingCurve::new(&[1.0], &[1.0]).is_err());
    assert!(ServingCurve::new(&[1.0, 2.0], &[1.0]).is_err());
    let e = ServingCurve::new(&[1.0, 2.0, 2.0], &[1.0, 1.0, 1.0]).unwrap_err();
    assert_eq!(e.index(), Some(2));
    assert!(ServingCurve::new(&[1.0, f64::NAN], &[1.0, 1.0]).is_err());
    assert!(ServingCurve::new(&[1.0, 2.0], &[1.0, f64::INFINITY]).is_err());
}

#[test]
fn batch_rows_match_single_rows_in_both_drivers() {
    let curve = bumpy();
    let n = 20_000;
    let loss: Vec<f64> = (0..n).map(|i| 1.9 + 0.4 * (i as f64 / n as f64)).collect();
    let requests: Vec<f64> = (0..n)
        .map(|i| 10f64.powf(6.0 + (i % 97) as f64 / 16.0))
        .collect();
    let mut bad = loss.clone();
    bad[7] = 1.0;
    let laws =
        LawColumns::new([&[LAW.e], &[LAW.a], &[LAW.b], &[LAW.alpha], &[LAW.beta]], 1).unwrap();
    for parallel in [false, true] {
        let (mut p, mut t, mut tr, mut sv) =
            (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let (mut it, mut ok) = (vec![0u32; n], vec![false; n]);
        let out = (
            (&mut p[..], &mut t[..]),
            ((&mut tr[..], &mut sv[..]), (&mut it[..], &mut ok[..])),
        );
        optimum_batch(
            &bad,
            &requests,
            &[1e-18],
            &laws,
            &curve,
            OnInvalid::Nan,
            Some(parallel),
            out,
        )
        .unwrap();
        assert!(p[7].is_nan() && !ok[7]);
        for i in (0..n).step_by(997).filter(|&i| i != 7) {
            let one = optimum(&LAW, loss[i], requests[i], 1e-18, &curve, None).unwrap();
            assert_eq!(
                (p[i], t[i], it[i]),
                (one.params, one.tokens, one.iterations)
            );
        }
        let out = (
            (&mut p[..], &mut t[..]),
            ((&mut tr[..], &mut sv[..]), (&mut it[..], &mut ok[..])),
        );
        let e = optimum_batch(
            &bad,
            &requests,
            &[1e-18],
            &laws,
            &curve,
            OnInvalid::Raise,
            Some(parallel),
            out,
        );
        assert_eq!(e.unwrap_err().index(), Some(7));
    }
}

#[test]
fn a_curve_counts_its_knots() {
    let curve = ServingCurve::new(&[1.0, 2.0, 3.5], &[0.0, 1.0, 1.5]).unwrap();
    assert_eq!(curve.len(), 3);
    assert!(!curve.is_empty());
}
