//! The laws (`scaleplan.laws`; core `scaleplan::laws`): presets, loss, the
//! Chinchilla-optimal model in closed form, and the FLOP convention's two factors.

use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use scaleplan::engine::batch::OnInvalid;
use scaleplan::laws::{chinchilla_batch, flops, loss_batch, Given, PRESETS};

use crate::convert::{grid, law_columns, law_inputs, value_error, Array, Coeffs};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("TRAINING_FLOPS_PER_PARAM", flops::TRAINING_PER_PARAM)?;
    m.add("INFERENCE_FLOPS_PER_PARAM", flops::INFERENCE_PER_PARAM)?;
    m.add_function(wrap_pyfunction!(presets, m)?)?;
    m.add_function(wrap_pyfunction!(loss, m)?)?;
    m.add_function(wrap_pyfunction!(chinchilla_optimal, m)?)?;
    Ok(())
}

/// (name, E, A, B, alpha, beta, source) of every preset.
#[pyfunction]
pub(crate) fn presets() -> Vec<(&'static str, f64, f64, f64, f64, f64, &'static str)> {
    PRESETS
        .iter()
        .map(|p| {
            (
                p.name,
                p.law.e,
                p.law.a,
                p.law.b,
                p.law.alpha,
                p.law.beta,
                p.source,
            )
        })
        .collect()
}

#[pyfunction]
#[pyo3(signature = (params, tokens, coefficients, on_invalid="raise", parallel=None, broadcast_shape=None))]
pub(crate) fn loss<'py>(
    py: Python<'py>,
    params: Array<'py>,
    tokens: Array<'py>,
    coefficients: Coeffs<'py>,
    on_invalid: &str,
    parallel: Option<bool>,
    broadcast_shape: Option<Vec<usize>>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let on_invalid = OnInvalid::from_name(on_invalid).map_err(value_error)?;
    let mut named = vec![("params", &params), ("tokens", &tokens)];
    named.extend(law_inputs(&coefficients));
    let (grid, data) = grid(&named, broadcast_shape)?;
    let mut out = vec![0.0; grid.len()];
    py.detach(|| {
        grid.run(&data, out.as_mut_slice(), parallel, &|c, o, par| {
            let laws = law_columns(c, o.len())?;
            loss_batch(c[0], c[1], &laws, on_invalid, par, o)
        })
    })
    .map_err(value_error)?;
    Ok(out.into_pyarray(py))
}

pub(crate) type ArrayPair<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);

/// Chinchilla-style (params, tokens) given "compute", "loss" or "params".
#[pyfunction]
#[pyo3(signature = (given, values, coefficients, on_invalid="raise", parallel=None, broadcast_shape=None))]
pub(crate) fn chinchilla_optimal<'py>(
    py: Python<'py>,
    given: &str,
    values: Array<'py>,
    coefficients: Coeffs<'py>,
    on_invalid: &str,
    parallel: Option<bool>,
    broadcast_shape: Option<Vec<usize>>,
) -> PyResult<ArrayPair<'py>> {
    let given = Given::from_name(given).map_err(value_error)?;
    let on_invalid = OnInvalid::from_name(on_invalid).map_err(value_error)?;
    let mut named = vec![("values", &values)];
    named.extend(law_inputs(&coefficients));
    let (grid, data) = grid(&named, broadcast_shape)?;
    let (mut p, mut t) = (vec![0.0; grid.len()], vec![0.0; grid.len()]);
    py.detach(|| {
        grid.run(
            &data,
            (p.as_mut_slice(), t.as_mut_slice()),
            parallel,
            &|c, (p, t), par| {
                let laws = law_columns(c, p.len())?;
                chinchilla_batch(given, c[0], &laws, on_invalid, par, p, t)
            },
        )
    })
    .map_err(value_error)?;
    Ok((p.into_pyarray(py), t.into_pyarray(py)))
}
