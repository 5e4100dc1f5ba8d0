//! Transformer step counts.

use super::*;

pub(crate) type CountArrays<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
);

/// (params, flops, memcpy elements, activation elements) of one training step per shape.
/// `shape` holds 11 columns: vocab, d_model, n_layers, n_heads, head_dim, n_kv_heads, d_ff,
/// gated, tied, seq_len, batch_size (each of length 1 or n).
#[pyfunction]
#[pyo3(signature = (shape, parallel=None))]
pub(crate) fn step_counts<'py>(
    py: Python<'py>,
    shape: Vec<PyReadonlyArray1<'py, f64>>,
    parallel: Option<bool>,
) -> PyResult<CountArrays<'py>> {
    if shape.len() != 11 {
        return Err(invalid("shape", "shape must have 11 columns".into()));
    }
    let cols: Vec<&[f64]> = shape
        .iter()
        .zip(scaleplan::steptime::FIELDS)
        .map(|(a, name)| slice(name, a))
        .collect::<PyResult<_>>()?;
    let n = rows(&cols);
    let data: [&[f64]; 11] = cols
        .try_into()
        .map_err(|_| invalid("shape", "shape must have 11 columns".into()))?;
    let out = py.detach(|| {
        let shapes = ShapeColumns::new(data, n)?;
        let (mut p, mut f, mut m, mut a) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        counts_batch(&shapes, parallel, ((&mut p, &mut f), (&mut m, &mut a)))?;
        Ok((p, f, m, a))
    });
    let (p, f, m, a) = out.map_err(value_error)?;
    Ok((
        p.into_pyarray(py),
        f.into_pyarray(py),
        m.into_pyarray(py),
        a.into_pyarray(py),
    ))
}
