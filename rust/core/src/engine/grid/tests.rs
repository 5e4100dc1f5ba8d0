use super::*;

/// Row `i` of input `own` (a C-ordered array of shape `own_shape`) in the grid `shape`,
/// written out the slow way.
fn naive(shape: &[usize], own_shape: &[usize], own: &[f64], i: usize) -> f64 {
    let own = pad(own_shape, shape.len()).iter().zip(shape).rev().fold(
        (0usize, 1usize, i, own),
        |(at, step, rest, data), (&o, &s)| {
            let idx = rest % s;
            let at = at + if o == 1 { 0 } else { idx * step };
            (at, step * o, rest / s, data)
        },
    );
    own.3[own.0]
}

/// A kernel that encodes which value of each input it saw in every row.
fn encode(c: &[&[f64]], o: &mut [f64], _: Option<bool>) -> Result<()> {
    for (i, v) in o.iter_mut().enumerate() {
        *v = c
            .iter()
            .enumerate()
            .map(|(k, col)| col[if col.len() == 1 { 0 } else { i }] * 1000f64.powi(k as i32))
            .sum();
    }
    Ok(())
}

fn values(n: usize, seed: f64) -> Vec<f64> {
    (0..n).map(|i| seed + i as f64).collect()
}

fn check(shapes: &[&[usize]], parallel: Option<bool>) {
    let data: Vec<Vec<f64>> = shapes
        .iter()
        .enumerate()
        .map(|(k, s)| values(s.iter().product(), 1.0 + k as f64 * 0.25))
        .collect();
    let inputs: Vec<Input<'_>> = shapes
        .iter()
        .zip(&data)
        .map(|(s, d)| ("x", d.as_slice(), *s))
        .collect();
    let grid = Grid::new(&inputs).unwrap();
    let ndim = shapes.iter().map(|s| s.len()).max().unwrap();
    let padded: Vec<Vec<usize>> = shapes.iter().map(|s| pad(s, ndim)).collect();
    let shape = broadcast_shape(&inputs, &padded, ndim).unwrap();
    let mut out = vec![0.0; grid.len()];
    let cols: Vec<&[f64]> = data.iter().map(Vec::as_slice).collect();
    grid.run(&cols, out.as_mut_slice(), parallel, &encode)
        .unwrap();
    for (i, v) in out.iter().enumerate() {
        let want: f64 = (0..shapes.len())
            .map(|k| naive(&shape, shapes[k], &data[k], i) * 1000f64.powi(k as i32))
            .sum();
        assert_eq!(*v, want, "row {i} of {shapes:?}");
    }
}

#[test]
fn every_layout_reads_what_numpy_broadcasting_would() {
    let cases: &[&[&[usize]]] = &[
        &[&[300, 1], &[1, 400]],
        &[&[300, 1], &[1, 400], &[]],
        &[&[2, 300, 1], &[300, 400], &[1]],
        &[&[5, 1, 300], &[1, 4, 300], &[5, 4, 1]],
        &[&[3, 1], &[1, 7], &[3, 7]],
        &[&[1000, 1], &[1, 3]],
        &[&[600], &[2, 1, 600]],
        &[&[4, 1, 1, 300], &[1, 1, 2, 1]],
        &[&[0, 1], &[1, 5]],
        &[&[], &[]],
    ];
    for shapes in cases {
        for parallel in [Some(false), Some(true), None] {
            check(shapes, parallel);
        }
    }
}

#[test]
fn contiguous_inputs_make_one_call() {
    let (a, b) = (values(6, 1.0), [2.0]);
    let grid = Grid::new(&[("a", &a, &[2, 3]), ("b", &b, &[1, 1])]).unwrap();
    assert_eq!(grid.run_len(), 6);
    let outer = Grid::new(&[("a", &a[..2], &[2, 1]), ("b", &a[..3], &[1, 3])]).unwrap();
    assert_eq!(outer.run_len(), 3);
}

#[test]
fn shapes_that_do_not_broadcast_or_fill_their_data_are_errors() {
    let (a, b) = (values(3, 1.0), values(4, 1.0));
    let e = Grid::new(&[("a", &a, &[3]), ("b", &b, &[4])]).unwrap_err();
    assert_eq!(e.argument(), Some("b"));
    let e = Grid::new(&[("a", &a, &[2, 2])]).unwrap_err();
    assert_eq!(e.argument(), Some("a"));
    let many: Vec<Input<'_>> = (0..MAX_INPUTS + 1)
        .map(|_| ("a", &a[..1], &[][..]))
        .collect();
    assert!(Grid::new(&many).is_err());
    let e = Grid::new(&[("a", &a, &[usize::MAX, 3])]).unwrap_err();
    assert_eq!(e.argument(), Some("a"));
    let grid = Grid::new(&[("a", &a, &[3])]).unwrap();
    let mut short = vec![0.0; 2];
    assert!(grid
        .run(&[&a], short.as_mut_slice(), None, &encode)
        .is_err());
}

#[test]
fn errors_name_the_row_of_the_whole_grid_serial_or_pooled() {
    // Rows (r, c) of a 400 x 300 grid fail where the column input is negative; the
    // lowest such row must be reported whichever way the runs are scheduled.
    let rows = values(400, 0.0);
    let mut cols = values(300, 0.0);
    cols[217] = -1.0;
    let grid = Grid::new(&[("r", &rows, &[400, 1]), ("c", &cols, &[1, 300])]).unwrap();
    let kernel = |c: &[&[f64]], o: &mut [f64], _: Option<bool>| -> Result<()> {
        for (i, v) in o.iter_mut().enumerate() {
            *v = 1.0;
            if c[1][i] < 0.0 {
                return Err(Error::Invalid {
                    argument: "c",
                    value: -1.0,
                    requirement: "non-negative",
                    index: Some(i),
                });
            }
        }
        Ok(())
    };
    for parallel in [Some(false), Some(true)] {
        let mut out = vec![0.0; grid.len()];
        let e = grid
            .run(&[&rows, &cols], out.as_mut_slice(), parallel, &kernel)
            .unwrap_err();
        assert_eq!(e.index(), Some(217), "{parallel:?}");
    }
}

#[test]
fn a_given_shape_spans_axes_no_input_does() {
    // A loss cut to (3, 1) from a (3, 4) broadcast view still fills the (3, 4) grid.
    let loss = values(3, 1.0);
    let grid = Grid::with_shape(&[("loss", &loss, &[3, 1])], &[3, 4]).unwrap();
    assert_eq!(grid.len(), 12);
    let mut out = vec![0.0; 12];
    grid.run(&[&loss], out.as_mut_slice(), None, &encode)
        .unwrap();
    assert_eq!(out[4..8], [2.0; 4]);
    let scalar = Grid::with_shape(&[("x", &loss[..1], &[])], &[2, 0]).unwrap();
    assert!(scalar.is_empty());
    let e = Grid::with_shape(&[("loss", &loss, &[3, 1])], &[2, 4]).unwrap_err();
    assert_eq!(e.argument(), Some("loss"));
    assert!(Grid::with_shape(&[("loss", &loss, &[3, 1])], &[3]).is_err());
}
