//! Tests of the loss law, its presets and its closed forms.

use super::*;

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

#[test]
fn presets_are_valid_and_named() {
    for p in PRESETS {
        let l = p.law;
        assert_eq!(Law::new(l.e, l.a, l.b, l.alpha, l.beta).unwrap(), l);
        assert_eq!(Law::preset(p.name).unwrap(), l);
    }
    let e = Law::preset("gpt5").unwrap_err().to_string();
    assert!(e.contains("chinchilla, chinchilla_rounded"), "{e}");
}

#[test]
fn rejects_bad_coefficients_by_name() {
    for (i, name) in ["E", "A", "B", "alpha", "beta"].iter().enumerate() {
        let mut c = [1.69, 406.4, 410.7, 0.336, 0.283];
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            c[i] = bad;
            let e = Law::new(c[0], c[1], c[2], c[3], c[4]).unwrap_err();
            assert!(e.to_string().starts_with(&format!("{name} must be")), "{e}");
        }
    }
}

#[test]
fn closed_forms_agree_with_each_other() {
    let law = Law::CHINCHILLA;
    for loss in [1.8, 2.0, 2.5, 3.5] {
        let (n, d) = law.chinchilla_for_loss(loss).unwrap();
        assert!(close(law.loss(n, d), loss, 1e-13));
        let (n2, d2) = law.chinchilla_for_compute(6.0 * n * d);
        assert!(close(n2, n, 1e-12) && close(d2, d, 1e-12));
        assert!(close(law.chinchilla_tokens_for_params(n), d, 1e-12));
    }
}

#[test]
fn compute_optimum_is_a_minimum_of_loss() {
    // On the iso-FLOP curve, moving N either way must raise the loss.
    let law = Law::CHINCHILLA;
    let c = 1e22;
    let (n, d) = law.chinchilla_for_compute(c);
    let best = law.loss(n, d);
    for f in [0.9, 0.99, 1.01, 1.1] {
        assert!(law.loss(n * f, d / f) > best);
    }
}

#[test]
fn chinchilla_70b_matches_the_paper() {
    // Hoffmann et al.: 70B parameters and 1.4T tokens is compute-optimal at ~5.76e23 FLOPs.
    let (n, d) = Law::preset("chinchilla_rounded")
        .unwrap()
        .chinchilla_for_compute(5.76e23);
    assert!(n > 3e10 && n < 1e11, "{n}");
    assert!(d > 1e12 && d < 3e12, "{d}");
}

#[test]
fn batches_broadcast_and_flag_rows() {
    let law = Law::CHINCHILLA;
    let coeffs = [[law.e], [law.a], [law.b], [law.alpha], [law.beta]];
    let cols = LawColumns::new(coeffs.each_ref().map(|c| c.as_slice()), 3).unwrap();
    let losses = [2.0, 1.0, 2.5];
    let (mut p, mut t) = (vec![0.0; 3], vec![0.0; 3]);
    let err = chinchilla_batch(
        Given::Loss,
        &losses,
        &cols,
        OnInvalid::Raise,
        None,
        &mut p,
        &mut t,
    )
    .unwrap_err();
    assert_eq!(err.index(), Some(1));
    assert!(err.to_string().starts_with("loss must be"));
    chinchilla_batch(
        Given::Loss,
        &losses,
        &cols,
        OnInvalid::Nan,
        None,
        &mut p,
        &mut t,
    )
    .unwrap();
    assert!(p[1].is_nan() && t[1].is_nan());
    assert_eq!((p[0], t[0]), law.chinchilla_for_loss(2.0).unwrap());
    let mut out = vec![0.0; 3];
    loss_batch(&p, &t, &cols, OnInvalid::Nan, None, &mut out).unwrap();
    assert!(close(out[2], 2.5, 1e-13) && out[1].is_nan());
}

#[test]
fn a_loss_equal_to_e_is_unreachable_not_a_zero_gap() {
    // cargo-mutants found `gap > 0` as `gap >= 0` untested (issue 23's sample): a loss of
    // exactly E would then reach the solvers with ln(0) = -inf.
    let law = Law::CHINCHILLA;
    assert!(law.gap(law.e, None).is_err());
    assert!(law.gap(law.e - 1e-9, None).is_err());
    assert_eq!(law.gap(law.e + 0.5, None).unwrap(), 0.5);
}
