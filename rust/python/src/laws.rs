//! The loss law: presets, loss, and the Chinchilla-optimal model in closed form.

use super::*;

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
#[pyo3(signature = (params, tokens, coefficients, on_invalid="raise", parallel=None))]
pub(crate) fn loss<'py>(
    py: Python<'py>,
    params: PyReadonlyArray1<'py, f64>,
    tokens: PyReadonlyArray1<'py, f64>,
    coefficients: Coeffs<'py>,
    on_invalid: &str,
    parallel: Option<bool>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let on_invalid = OnInvalid::from_name(on_invalid).map_err(value_error)?;
    let (p, t) = (slice("params", &params)?, slice("tokens", &tokens)?);
    let c = coefficient_slices(&coefficients)?;
    let n = rows(&[p, t, c[0], c[1], c[2], c[3], c[4]]);
    let out = py.detach(|| {
        let laws = LawColumns::new(c, n)?;
        let mut out = vec![0.0; n];
        loss_batch(p, t, &laws, on_invalid, parallel, &mut out)?;
        Ok(out)
    });
    Ok(out.map_err(value_error)?.into_pyarray(py))
}

pub(crate) type ArrayPair<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);

/// Chinchilla-style (params, tokens) given "compute", "loss" or "params".
#[pyfunction]
#[pyo3(signature = (given, values, coefficients, on_invalid="raise", parallel=None))]
pub(crate) fn chinchilla<'py>(
    py: Python<'py>,
    given: &str,
    values: PyReadonlyArray1<'py, f64>,
    coefficients: Coeffs<'py>,
    on_invalid: &str,
    parallel: Option<bool>,
) -> PyResult<ArrayPair<'py>> {
    let given = match given {
        "compute" => Given::Compute,
        "loss" => Given::Loss,
        "params" => Given::Params,
        other => {
            return Err(value_error(Error::Unknown {
                argument: "given",
                given: other.to_string(),
                valid: &["compute", "loss", "params"],
            }))
        }
    };
    let on_invalid = OnInvalid::from_name(on_invalid).map_err(value_error)?;
    let v = slice("values", &values)?;
    let c = coefficient_slices(&coefficients)?;
    let n = rows(&[v, c[0], c[1], c[2], c[3], c[4]]);
    let out = py.detach(|| {
        let laws = LawColumns::new(c, n)?;
        let (mut p, mut t) = (vec![0.0; n], vec![0.0; n]);
        chinchilla_batch(given, v, &laws, on_invalid, parallel, &mut p, &mut t)?;
        Ok((p, t))
    });
    let (p, t) = out.map_err(value_error)?;
    Ok((p.into_pyarray(py), t.into_pyarray(py)))
}
