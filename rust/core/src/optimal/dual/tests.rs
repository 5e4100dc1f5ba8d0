use super::*;
use crate::optimal::lifetime::{optimum, Options};

#[test]
fn inverse_of_the_lifetime_optimum() {
    let law = Law::CHINCHILLA;
    for &loss in &[1.8, 2.0, 2.5, 3.5] {
        for &d_eff in &[1e3, 1e9, 1e12, 1e15, 1e19] {
            let o = optimum(&law, loss, d_eff, &Options::default()).unwrap();
            let budget = o.params * (o.tokens + d_eff / 3.0);
            let b = best_quality(&law, budget, d_eff, Method::Newton).unwrap();
            assert!(
                (b.loss - loss).abs() < 1e-11 * loss,
                "{loss} {d_eff}: {}",
                b.loss
            );
            assert!((b.params / o.params - 1.0).abs() < 1e-7, "{loss} {d_eff}");
            assert!((b.tokens / o.tokens - 1.0).abs() < 1e-7, "{loss} {d_eff}");
        }
    }
}

#[test]
fn rejects_bad_budget_and_demand() {
    let law = Law::CHINCHILLA;
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let e = best_quality(&law, bad, 1e9, Method::Newton)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("budget must be finite and > 0"), "{e}");
    }
    let e = best_quality(&law, 1e20, -1.0, Method::Newton)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("effective_demand must be"), "{e}");
}

#[test]
fn no_fractional_models_and_no_infinite_losses() {
    // 1e10 FLOPs against 1e12 inference tokens: at most 0.005 parameters.
    let e = best_quality(&Law::CHINCHILLA, 1e10 / 6.0, 1e12, Method::Newton).unwrap_err();
    assert!(e.to_string().starts_with("budget is too small"), "{e}");
    assert_eq!((e.argument(), e.index()), (Some("budget"), Some(0)));
    // Once returned loss inf with a subnormal parameter count.
    let law = Law::new(1.0, 1.0, 1.0, 1.0, 1.0).unwrap();
    assert!(best_quality(&law, 1.0 / 6.0, 1e308, Method::Newton).is_err());
}

#[test]
fn newton_finds_the_bisections_root_in_a_few_steps() {
    let law = Law::CHINCHILLA;
    let mut worst = 0;
    for k in 0..400 {
        let budget = 10f64.powf(15.0 + (k % 20) as f64 * 0.6);
        let d_eff = 10f64.powf(3.0 + (k / 20) as f64 * 0.9);
        let (Ok(n), Ok(b)) = (
            best_quality(&law, budget, d_eff, Method::Newton),
            best_quality(&law, budget, d_eff, Method::Bisect),
        ) else {
            continue;
        };
        assert!(
            (n.params.ln() / b.params.ln() - 1.0).abs() < 1e-14,
            "{budget} {d_eff}"
        );
        assert!((n.loss / b.loss - 1.0).abs() < 1e-14, "{budget} {d_eff}");
        assert!(
            n.iterations < b.iterations,
            "{budget} {d_eff} {} {}",
            n.iterations,
            b.iterations
        );
        worst = worst.max(n.iterations);
    }
    assert!(worst <= 5, "Newton took {worst} steps");
    let e = best_quality(&law, 1e20, 1e9, Method::Halley).unwrap_err();
    assert_eq!(e.argument(), Some("method"));
    assert!(e.to_string().contains("newton, bisect"), "{e}");
}

#[test]
fn one_row_equals_its_batch_row() {
    // Rows far from and near the pole (demand taking most of the budget), and none.
    let law = Law::CHINCHILLA;
    let budgets: Vec<f64> = (0..40)
        .map(|k| 10f64.powf(16.0 + k as f64 * 0.25))
        .collect();
    let demands: Vec<f64> = (0..40)
        .map(|k| 10f64.powf(4.0 + (k * 7 % 40) as f64 * 0.3))
        .collect();
    let coeffs = [[law.e], [law.a], [law.b], [law.alpha], [law.beta]];
    let laws = LawColumns::new(coeffs.each_ref().map(|c| c.as_slice()), 40).unwrap();
    let n = budgets.len();
    let (mut p, mut t, mut l, mut it) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0u32; n]);
    let demand = Demand::Tokens {
        name: "effective_demand",
        tokens: &demands,
    };
    let out = (
        (p.as_mut_slice(), t.as_mut_slice()),
        (l.as_mut_slice(), it.as_mut_slice()),
    );
    best_quality_batch(
        &budgets,
        1.0,
        demand,
        &laws,
        Method::Newton,
        OnInvalid::Nan,
        None,
        out,
    )
    .unwrap();
    let mut solved = 0;
    for i in 0..n {
        match best_quality(&law, budgets[i], demands[i], Method::Newton) {
            Ok(m) => {
                assert_eq!((m.params, m.tokens, m.loss), (p[i], t[i], l[i]), "row {i}");
                solved += 1;
            }
            Err(_) => assert!(p[i].is_nan(), "row {i}"),
        }
    }
    assert!(solved > 20, "{solved}");
}

#[test]
fn rows_next_to_the_pole_agree_with_bisection() {
    // Demand taking nearly the whole budget: D a small fraction of the demand term m.
    let law = Law::CHINCHILLA;
    let mut near = 0;
    for k in 0..300 {
        let d_eff = 10f64.powf(10.0 + (k % 30) as f64 * 0.3);
        let budget = d_eff / 3.0 * 10f64.powf(9.0 + (k / 30) as f64 * 0.35);
        let (Ok(n), Ok(b)) = (
            best_quality(&law, budget, d_eff, Method::Newton),
            best_quality(&law, budget, d_eff, Method::Bisect),
        ) else {
            continue;
        };
        assert!((n.loss / b.loss - 1.0).abs() < 1e-14, "{budget} {d_eff}");
        assert!(
            (n.params / b.params - 1.0).abs() < 1e-12,
            "{budget} {d_eff}"
        );
        assert!((n.tokens / b.tokens - 1.0).abs() < 1e-9, "{budget} {d_eff}");
        if n.tokens < 0.06 * d_eff / 3.0 {
            near += 1;
            assert!(
                n.iterations <= 5,
                "{budget} {d_eff}: {} steps",
                n.iterations
            );
        }
    }
    assert!(near > 20, "only {near} rows next to the pole");
}

#[test]
fn every_instruction_set_gives_the_same_bits() {
    // Blocks with rows far from and next to the pole, without demand, invalid, and missing.
    let dual = DualLaw::new(Law::CHINCHILLA);
    for k in 0..50 {
        let rows: [Option<Result<Row>>; LANES] = std::array::from_fn(|j| {
            let c = 10f64.powf(15.0 + ((k * 8 + j) % 37) as f64 * 0.4);
            let m = match (k + j) % 5 {
                0 => 0.0,
                1 => c.sqrt(),
                _ => 10f64.powf(3.0 + ((k * 3 + j * 7) % 41) as f64 * 0.35),
            };
            match (k + 3 * j) % 11 {
                0 => None,
                1 => Some(Err(Error::Invalid {
                    argument: "budget",
                    value: -1.0,
                    requirement: "finite and > 0",
                    index: Some(j),
                })),
                _ => Some(Ok((dual, c, m))),
            }
        });
        let bits = |isa: Isa| {
            solve_block(rows.clone(), Method::Newton, 0, isa).map(|model| match model {
                Some(Ok(m)) => Some(Ok([m.params, m.tokens, m.loss].map(f64::to_bits))),
                Some(Err(e)) => Some(Err(e.to_string())),
                None => None,
            })
        };
        let portable = bits(Isa::Portable);
        assert!(portable.iter().flatten().any(|r| r.is_ok()), "block {k}");
        for isa in Isa::ALL.into_iter().filter(|i| i.supported()) {
            assert_eq!(bits(isa), portable, "block {k} on {}", isa.name());
        }
    }
}

#[test]
fn concave_and_linear_equations_settle_too() {
    // alpha > 1 makes g concave (Newton then climbs to the root), alpha = 1 linear.
    for alpha in [0.3, 1.0, 1.7, 3.0] {
        let law = Law::new(1.5, 400.0, 900.0, alpha, 0.4).unwrap();
        let mut solved = 0;
        for k in 0..60 {
            let budget = 10f64.powf(14.0 + (k % 12) as f64 * 1.5);
            let d_eff = 10f64.powf(2.0 + (k / 12) as f64 * 4.0);
            let (Ok(n), Ok(b)) = (
                best_quality(&law, budget, d_eff, Method::Newton),
                best_quality(&law, budget, d_eff, Method::Bisect),
            ) else {
                continue;
            };
            assert!(n.iterations <= 6, "alpha {alpha}: {} steps", n.iterations);
            assert!(
                (n.params / b.params - 1.0).abs() < 1e-13,
                "alpha {alpha} {k}"
            );
            assert!((n.loss / b.loss - 1.0).abs() < 1e-14, "alpha {alpha} {k}");
            solved += 1;
        }
        assert!(solved >= 30, "alpha {alpha}: {solved} rows solved");
    }
}
