use super::*;
use crate::optimal::lifetime::{optimum as plain_optimum, Options};

/// The C4 fit of the authors' repository.
fn c4() -> DataConstrained {
    let law = Law::new(
        0.6254804f64.exp(),
        6.255414f64.exp(),
        7.3049974f64.exp(),
        0.3526596,
        0.3526596,
    )
    .unwrap();
    DataConstrained::new(law, MUENNIGHOFF2023_RD_STAR, MUENNIGHOFF2023_RN_STAR).unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    (a / b - 1.0).abs()
}

#[test]
fn the_repository_examples() {
    // Figure 1 (right) of the paper, as printed by the repository's README.
    let dc = c4();
    assert!((dc.point(6.34e9, 242e9, 25e9).loss - 2.2256440889984477).abs() < 1e-14);
    assert!((dc.point(8.67e9, 178e9, 25e9).loss - 2.2269634075087867).abs() < 1e-14);
}

#[test]
fn without_repetition_or_excess_it_is_the_plain_law() {
    let dc = c4();
    let (n, d): (f64, f64) = (1e9, 1e11);
    assert!(n < dc.ln_params_for_tokens(d.ln()).exp());
    let p = dc.point(n, d, 1e12);
    assert_eq!(p.loss, dc.law.loss(n, d));
    assert_eq!((p.effective_params, p.effective_tokens), (n, d));
}

#[test]
fn the_gradient_is_the_derivative() {
    let dc = c4();
    // Every regime: repetition or not, excess parameters or not, the cap moving with D.
    for (n, d, u) in [
        (1e9, 1e11, 1e12),
        (6.34e9, 242e9, 25e9),
        (5e10, 242e9, 25e9),
        (5e10, 1e10, 1e11),
        (1e8, 1e13, 1e10),
    ] {
        let p = dc.point(n, d, u);
        let h: f64 = 1e-6;
        let dn =
            (dc.point(n * h.exp(), d, u).loss - dc.point(n * (-h).exp(), d, u).loss) / (2.0 * h);
        let dd =
            (dc.point(n, d * h.exp(), u).loss - dc.point(n, d * (-h).exp(), u).loss) / (2.0 * h);
        assert!(
            (p.d_ln_params - dn).abs() < 1e-7 * dn.abs().max(1e-3),
            "{n} {d} {u}"
        );
        assert!(
            (p.d_ln_tokens - dd).abs() < 1e-7 * dd.abs().max(1e-3),
            "{n} {d} {u}"
        );
    }
}

#[test]
fn an_ample_supply_gives_todays_answer_bit_for_bit() {
    let law = Law::CHINCHILLA;
    let dc = DataConstrained::new(law, MUENNIGHOFF2023_RD_STAR, MUENNIGHOFF2023_RN_STAR).unwrap();
    let plain = plain_optimum(&law, 2.0, 1e12, &Options::default()).unwrap();
    let got = lifetime_optimum(&dc, 2.0, 1e12, plain.tokens * 1.0001, None).unwrap();
    assert!(!got.binding);
    assert_eq!((got.params, got.tokens), (plain.params, plain.tokens));
}

/// The cheapest point of the iso-loss curve by brute force: for D on a fine grid on both
/// sides of U, the N that reaches the loss (bisection; loss falls with N), and its cost.
fn brute(dc: &DataConstrained, loss: f64, demand: f64, u: f64) -> f64 {
    let mut best = f64::INFINITY;
    for k in 0..4000 {
        let d = u * 10f64.powf(-1.0 + 3.0 * k as f64 / 4000.0);
        let (mut lo, mut hi) = (1e3f64.ln(), 1e16f64.ln());
        if dc.point(hi.exp(), d, u).loss > loss {
            continue;
        }
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if dc.point(mid.exp(), d, u).loss > loss {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        best = best.min(hi.exp() * (6.0 * d + 2.0 * demand));
    }
    best
}

#[test]
fn a_binding_supply_gives_the_cheapest_point_of_the_curve() {
    let law = Law::CHINCHILLA;
    let dc = DataConstrained::new(law, MUENNIGHOFF2023_RD_STAR, MUENNIGHOFF2023_RN_STAR).unwrap();
    // Table 3's 30B and 70B scenarios in FLOPs, and a heavy demand, with 1-15T unique tokens.
    for (loss, demand, u) in [
        (1.9583, 5e15, 5e12),
        (1.8918, 1e16, 5e12),
        (1.8918, 1e16, 1.5e13),
        (2.1274, 1e15, 1e11),
        (2.1274, 0.0, 5e10),
    ] {
        let got = lifetime_optimum(&dc, loss, demand, u, None).unwrap();
        assert!(got.binding && got.tokens > u);
        let p = dc.point(got.params, got.tokens, u);
        assert!(
            (p.loss - loss).abs() < 1e-12,
            "{loss} {demand} {u}: {}",
            p.loss
        );
        assert!(rel(p.effective_tokens, got.effective_tokens) < 1e-12);
        let cost = got.params * (6.0 * got.tokens + 2.0 * demand);
        let brute = brute(&dc, loss, demand, u);
        assert!(
            cost <= brute * (1.0 + 1e-9),
            "{loss} {demand} {u}: {cost} vs {brute}"
        );
        // Unlimited data would have been cheaper.
        let plain = plain_optimum(&law, loss, demand, &Options::default()).unwrap();
        assert!(plain.params * (6.0 * plain.tokens + 2.0 * demand) < cost);
    }
}

#[test]
fn below_the_floor_is_an_error() {
    let dc = c4();
    let floor = dc.floor(1e9);
    let e = lifetime_optimum(&dc, floor, 0.0, 1e9, None).unwrap_err();
    assert!(e.to_string().contains("floor"), "{e}");
    assert!(lifetime_optimum(&dc, floor + 1e-3, 0.0, 1e9, None).is_ok());
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let e = lifetime_optimum(&dc, 2.5, 0.0, bad, None).unwrap_err();
        assert_eq!(e.argument(), Some("unique_tokens"));
    }
    assert!(DataConstrained::new(dc.law, 0.0, 1.0).is_err());
    assert!(DataConstrained::new(dc.law, 1.0, f64::NAN).is_err());
}

#[test]
fn the_training_optimum_beats_the_repositorys_grid() {
    // optimal_allocation(1e22, 25e9) in the repository: 237,336,955,477.55 tokens and
    // 7,022,364,735.88 parameters, found on a grid of 500 ratios.
    let dc = c4();
    let got = budget_optimum(&dc, 1e22, 0.0, 25e9, None).unwrap();
    let grid = dc.point(7022364735.879969, 237336955477.55075, 25e9).loss;
    let ours = dc.point(got.params, got.tokens, 25e9).loss;
    assert!(ours <= grid, "{ours} > {grid}");
    assert!(rel(got.tokens, 237336955477.55075) < 0.01);
    assert!(rel(got.params * got.tokens * 6.0, 1e22) < 1e-12);
    // Ample data: the Chinchilla split.
    let (n, d) = dc.law.chinchilla_for_compute(1e20);
    let free = budget_optimum(&dc, 1e20, 0.0, 1e15, None).unwrap();
    assert_eq!((free.params, free.tokens, free.binding), (n, d, false));
}

#[test]
fn the_budget_optimum_with_demand_is_the_lowest_loss_on_the_budget() {
    let law = Law::CHINCHILLA;
    let dc = DataConstrained::new(law, MUENNIGHOFF2023_RD_STAR, MUENNIGHOFF2023_RN_STAR).unwrap();
    for (flops, demand, u) in [(1e24, 1e13, 1e12), (1e25, 1e15, 5e12), (1e23, 0.0, 5e10)] {
        let got = budget_optimum(&dc, flops, demand, u, None).unwrap();
        assert!(got.binding);
        assert!(rel(got.params * (6.0 * got.tokens + 2.0 * demand), flops) < 1e-12);
        let ours = dc.point(got.params, got.tokens, u).loss;
        // Brute force along the budget, 20,000 values of D over six decades.
        for k in 0..20_000 {
            let d = got.tokens * 10f64.powf(-3.0 + 6.0 * k as f64 / 20_000.0);
            let n = flops / (6.0 * d + 2.0 * demand);
            assert!(
                dc.point(n, d, u).loss >= ours - 1e-12,
                "{flops} {demand} {u} at {d}"
            );
        }
    }
}

mod served {
    use super::*;
    use crate::optimal::physical::{optimum as physical_plain, ServingCurve};

    fn linear(k: f64) -> ServingCurve {
        let xs: Vec<f64> = (0..=8)
            .map(|i| (1e6f64).ln() + i as f64 * 10f64.ln())
            .collect();
        let ys: Vec<f64> = xs.iter().map(|x| k.ln() + x).collect();
        ServingCurve::new(&xs, &ys).unwrap()
    }

    fn dc() -> DataConstrained {
        DataConstrained::new(
            Law::CHINCHILLA,
            MUENNIGHOFF2023_RD_STAR,
            MUENNIGHOFF2023_RN_STAR,
        )
        .unwrap()
    }

    #[test]
    fn an_ample_supply_gives_the_plain_answer() {
        let curve = linear(2e-13);
        let plain = physical_plain(&Law::CHINCHILLA, 2.0, 1e10, 1e-18, &curve, None).unwrap();
        let (got, d_eff, binding) =
            physical_optimum(&dc(), 2.0, 1e10, 1e-18, &curve, plain.tokens * 2.0, None).unwrap();
        assert!(!binding && d_eff == plain.tokens);
        assert_eq!((got.params, got.tokens), (plain.params, plain.tokens));
    }

    #[test]
    fn a_linear_curve_gives_the_flop_optimum() {
        // Serving k N dollars a request for R requests, training c per FLOP: the FLOP
        // problem with demand R k / (2 c).
        let (c, k, requests) = (1e-18, 2e-13, 1e10);
        let demand = requests * k / (2.0 * c);
        for (loss, u) in [(1.9583, 5e12), (1.8918, 5e12), (2.1274, 1e11)] {
            let want = lifetime_optimum(&dc(), loss, demand, u, None).unwrap();
            assert!(want.binding);
            let (got, d_eff, binding) =
                physical_optimum(&dc(), loss, requests, c, &linear(k), u, None).unwrap();
            assert!(binding);
            assert!(rel(got.params, want.params) < 1e-6, "{loss} {u}");
            assert!(rel(got.tokens, want.tokens) < 1e-6);
            assert!(rel(d_eff, want.effective_tokens) < 1e-6);
            let dollars = c * want.params * (6.0 * want.tokens + 2.0 * demand);
            assert!(rel(got.training_dollars + got.serving_dollars, dollars) < 1e-12);
        }
    }

    #[test]
    fn a_bumpy_curve_gives_the_cheapest_point_of_a_fine_scan() {
        let xs: Vec<f64> = [1e8, 1e9, 3e9, 3.1e9, 8e9, 2e10, 2.1e10, 1e11, 1e13]
            .iter()
            .map(|v: &f64| v.ln())
            .collect();
        let per: [f64; 9] = [1.0, 1.0, 1.0, 0.5, 0.55, 0.6, 2.0, 2.0, 2.0];
        let ys: Vec<f64> = xs
            .iter()
            .zip(per)
            .map(|(x, p)| (1e-12 * p).ln() + x)
            .collect();
        let curve = ServingCurve::new(&xs, &ys).unwrap();
        let dc = dc();
        for (loss, requests, u) in [(2.1274, 1e8, 1e11), (2.0, 1e9, 3e11), (1.9583, 1e7, 1e12)] {
            let (got, _, binding) =
                physical_optimum(&dc, loss, requests, 1.5e-18, &curve, u, None).unwrap();
            assert!(binding);
            let ours = got.training_dollars + got.serving_dollars;
            let mut brute = f64::INFINITY;
            for j in 0..200_000 {
                let d = u * (-10.0 + 25.0 * j as f64 / 200_000.0).exp();
                let Some((ln_n, _)) =
                    crate::optimal::data_constrained::served::params_for_tokens(&dc, loss, u, d)
                else {
                    continue;
                };
                let Some(ln_s) = curve.ln_dollars_at(ln_n) else {
                    continue;
                };
                brute = brute.min(6.0 * 1.5e-18 * ln_n.exp() * d + requests * ln_s.exp());
            }
            assert!(
                ours <= brute * (1.0 + 1e-9),
                "{loss} {requests} {u}: {ours} vs {brute}"
            );
        }
    }

    #[test]
    fn an_optimum_off_the_curve_is_an_error() {
        let xs = [1e9f64.ln(), 1.2e9f64.ln()];
        let ys = [(1e-3f64).ln(), (1.2e-3f64).ln()];
        let curve = ServingCurve::new(&xs, &ys).unwrap();
        let e = physical_optimum(&dc(), 1.8918, 1e6, 1e-18, &curve, 1e12, None).unwrap_err();
        assert_eq!(e.argument(), Some("loss"), "{e}");
    }
}
