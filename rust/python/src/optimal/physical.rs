//! The lifetime optimum under a tabulated serving cost (the roofline's, in practice; core
//! `scaleplan::optimal::physical`).

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use scaleplan::engine::batch::OnInvalid;
use scaleplan::optimal::physical::{optimum_batch as physical_batch, ServingCurve};

use crate::convert::{grid, law_columns, law_inputs, slice, value_error, Array, Coeffs};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(physical_optimal, m)?)
}

pub(crate) type PhysicalArrays<'py> = (
    (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>),
    (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>),
    (Bound<'py, PyArray1<u32>>, Bound<'py, PyArray1<bool>>),
);

/// The serving curve through `(ln_params, ln_dollars)`, checked by the core.
pub(crate) fn serving_curve(
    ln_params: &PyReadonlyArray1<'_, f64>,
    ln_dollars: &PyReadonlyArray1<'_, f64>,
) -> PyResult<ServingCurve> {
    ServingCurve::new(
        slice("ln_params", ln_params)?,
        slice("ln_dollars", ln_dollars)?,
    )
    .map_err(value_error)
}

/// ((params, tokens), (training $, serving $), (iterations, converged)) minimising
/// `6 c N D + R s(N)` at each row's loss, `s` the curve through `(ln_params, ln_dollars)`.
#[pyfunction]
#[pyo3(signature = (
    loss, requests, dollars_per_flop, coefficients, ln_params, ln_dollars,
    on_invalid="raise", parallel=None, broadcast_shape=None,
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn physical_optimal<'py>(
    py: Python<'py>,
    loss: Array<'py>,
    requests: Array<'py>,
    dollars_per_flop: Array<'py>,
    coefficients: Coeffs<'py>,
    ln_params: PyReadonlyArray1<'py, f64>,
    ln_dollars: PyReadonlyArray1<'py, f64>,
    on_invalid: &str,
    parallel: Option<bool>,
    broadcast_shape: Option<Vec<usize>>,
) -> PyResult<PhysicalArrays<'py>> {
    let on_invalid = OnInvalid::from_name(on_invalid).map_err(value_error)?;
    let curve = serving_curve(&ln_params, &ln_dollars)?;
    let mut named = vec![
        ("loss", &loss),
        ("requests", &requests),
        ("dollars_per_flop", &dollars_per_flop),
    ];
    named.extend(law_inputs(&coefficients));
    let (grid, data) = grid(&named, broadcast_shape)?;
    let n = grid.len();
    let mut f: [Vec<f64>; 4] = std::array::from_fn(|_| vec![0.0; n]);
    let (mut it, mut ok) = (vec![0u32; n], vec![false; n]);
    {
        let [p, t, tr, sv] = &mut f;
        let out = (
            (p.as_mut_slice(), t.as_mut_slice()),
            (
                (tr.as_mut_slice(), sv.as_mut_slice()),
                (it.as_mut_slice(), ok.as_mut_slice()),
            ),
        );
        py.detach(|| {
            grid.run(&data, out, parallel, &|c, o, par| {
                let laws = law_columns(c, o.0 .0.len())?;
                physical_batch(c[0], c[1], c[2], &laws, &curve, on_invalid, par, o)
            })
        })
        .map_err(value_error)?;
    }
    let [p, t, tr, sv] = f;
    Ok((
        (p.into_pyarray(py), t.into_pyarray(py)),
        (tr.into_pyarray(py), sv.into_pyarray(py)),
        (it.into_pyarray(py), ok.into_pyarray(py)),
    ))
}
