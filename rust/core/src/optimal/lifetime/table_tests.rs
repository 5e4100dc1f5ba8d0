//! Tests of the start table: the roots it gives, the bits pieces share with the whole, and
//! its cache.

use super::tests::{rel, tokens};
use super::*;

#[test]
fn start_table_gives_the_same_roots_in_fewer_steps() {
    // Batches above TABLE_MIN_ROWS start from the table; the answers agree with the
    // bound start to rounding and Newton settles in at most two steps.
    let law = Law::CHINCHILLA;
    let coeffs = [[law.e], [law.a], [law.b], [law.alpha], [law.beta]];
    let n = TABLE_MIN_ROWS + 3;
    let laws = LawColumns::new(coeffs.each_ref().map(|c| c.as_slice()), n).unwrap();
    let loss: Vec<f64> = (0..n).map(|i| 1.6901 + (i % 1009) as f64 * 2e-3).collect();
    let demand: Vec<f64> = (0..n).map(|i| 10f64.powf((i % 97) as f64 * 0.2)).collect();
    let mut big = Buffers::new(n);
    optimum_batch(
        &loss,
        tokens("d", &demand),
        &laws,
        &Options::default(),
        None,
        big.view(),
    )
    .unwrap();
    let mut worst = 0u32;
    for i in (0..n).step_by(37) {
        let one = optimum(&law, loss[i], demand[i], &Options::default()).unwrap();
        assert!(rel(big.tokens[i], one.tokens) < 1e-12, "{i}");
        assert!(rel(big.params[i], one.params) < 1e-12, "{i}");
        worst = worst.max(big.iterations[i]);
    }
    assert!(worst <= 2, "table starts needed {worst} steps");
}

#[test]
fn pieces_with_the_whole_problems_start_rule_equal_the_whole() {
    // A problem split into chunks (as Dask does) gives the whole problem's bits when
    // each chunk is told the start rule the whole problem used.
    let law = Law::CHINCHILLA;
    let coeffs = [[law.e], [law.a], [law.b], [law.alpha], [law.beta]];
    let n = TABLE_MIN_ROWS + 1001;
    let loss: Vec<f64> = (0..n)
        .map(|i| 1.6901 + (i % 1013) as f64 * 1.7e-3)
        .collect();
    let demand: Vec<f64> = (0..n).map(|i| 10f64.powf((i % 89) as f64 * 0.25)).collect();
    let solve = |lo: usize, hi: usize, start: Start| {
        let laws = LawColumns::new(coeffs.each_ref().map(|c| c.as_slice()), hi - lo).unwrap();
        let mut out = Buffers::new(hi - lo);
        let opts = Options::default().with_start(start);
        optimum_batch(
            &loss[lo..hi],
            tokens("d", &demand[lo..hi]),
            &laws,
            &opts,
            None,
            out.view(),
        )
        .unwrap();
        out
    };
    let whole = solve(0, n, Start::Auto);
    let bound = solve(0, n, Start::Bound);
    let mut differs = 0;
    for (lo, hi) in [(0, 7), (7, 20_000), (20_000, n)] {
        let piece = solve(lo, hi, Start::Table);
        assert_eq!(piece.tokens, whole.tokens[lo..hi]);
        assert_eq!(piece.params, whole.params[lo..hi]);
        let plain = solve(lo, hi, Start::Bound);
        assert_eq!(plain.tokens, bound.tokens[lo..hi]);
        differs += (lo..hi)
            .filter(|&i| bound.tokens[i] != whole.tokens[i])
            .count();
    }
    // Otherwise this test would not tell the two rules apart.
    assert!(
        differs > 0,
        "the table and the bound start agreed on every bit"
    );
    assert!(Start::from_name("table").is_ok() && Start::from_name("x").is_err());
}

#[test]
fn start_tables_are_built_once_per_beta() {
    let a = StartTable::cached(0.123_456);
    let b = StartTable::cached(0.123_456);
    assert!(Arc::ptr_eq(&a, &b));
    assert!(!Arc::ptr_eq(&a, &StartTable::cached(0.234_567)));
}
