//! The architecture (`scaleplan.arch`; core `scaleplan::arch`): a transformer shape's
//! step counts, and the names of its columns.

use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use scaleplan::arch::{counts_batch, ShapeColumns, FIELDS};

use crate::convert::{grid, invalid, value_error, Array};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("SHAPE_FIELDS", FIELDS.to_vec())?;
    m.add_function(wrap_pyfunction!(step_counts, m)?)?;
    Ok(())
}

pub(crate) type CountArrays<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
);

/// (params, flops, memcpy elements, activation elements, active params) of one training
/// step per shape. `shape` holds one column per name of `SHAPE_FIELDS` (each of length 1
/// or n).
#[pyfunction]
#[pyo3(signature = (shape, parallel=None, broadcast_shape=None))]
pub(crate) fn step_counts<'py>(
    py: Python<'py>,
    shape: Vec<Array<'py>>,
    parallel: Option<bool>,
    broadcast_shape: Option<Vec<usize>>,
) -> PyResult<CountArrays<'py>> {
    if shape.len() != FIELDS.len() {
        return Err(invalid(
            "shape",
            format!("shape must have {} columns", FIELDS.len()),
        ));
    }
    let named: Vec<(&'static str, &Array<'py>)> = FIELDS.iter().copied().zip(&shape).collect();
    let (grid, data) = grid(&named, broadcast_shape)?;
    let n = grid.len();
    let [mut p, mut f, mut m, mut a, mut active] = std::array::from_fn(|_| vec![0.0; n]);
    let out = (
        (p.as_mut_slice(), f.as_mut_slice()),
        ((m.as_mut_slice(), a.as_mut_slice()), active.as_mut_slice()),
    );
    py.detach(|| {
        grid.run(&data, out, parallel, &|c, o, par| {
            let columns: [&[f64]; FIELDS.len()] =
                std::array::from_fn(|k| c.get(k).copied().unwrap_or_default());
            let shapes = ShapeColumns::new(columns, o.0 .0.len())?;
            counts_batch(&shapes, par, o)
        })
    })
    .map_err(value_error)?;
    Ok((
        p.into_pyarray(py),
        f.into_pyarray(py),
        m.into_pyarray(py),
        a.into_pyarray(py),
        active.into_pyarray(py),
    ))
}
