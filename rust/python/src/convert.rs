//! Python values to the core's inputs and the core's errors to Python: one place each.

use super::*;

// `scaleplan.errors.ScaleplanError`, a ValueError subclass defined in Python so that the
// facade raises the same class; imported on first use.
pyo3::import_exception!(scaleplan.errors, ScaleplanError);

/// The one mapping of the core's errors to Python: message, argument and row as data.
pub(crate) fn value_error(e: Error) -> PyErr {
    ScaleplanError::new_err((e.to_string(), e.argument(), e.index()))
}

/// A ScaleplanError about `argument` raised by the binding itself (shapes, layouts).
pub(crate) fn invalid(argument: &str, message: String) -> PyErr {
    ScaleplanError::new_err((message, argument.to_string(), None::<usize>))
}

/// A contiguous view of a 1-D float64 array, or a ValueError naming the argument.
pub(crate) fn slice<'a>(name: &str, a: &'a PyReadonlyArray1<'_, f64>) -> PyResult<&'a [f64]> {
    a.as_slice()
        .map_err(|_| invalid(name, format!("{name} must be a contiguous float64 array")))
}

pub(crate) type Coeffs<'py> = (
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
);

pub(crate) fn coefficient_slices<'a>(c: &'a Coeffs<'_>) -> PyResult<[&'a [f64]; 5]> {
    Ok([
        slice("E", &c.0)?,
        slice("A", &c.1)?,
        slice("B", &c.2)?,
        slice("alpha", &c.3)?,
        slice("beta", &c.4)?,
    ])
}

pub(crate) fn rows(inputs: &[&[f64]]) -> usize {
    if inputs.iter().any(|s| s.is_empty()) {
        0
    } else {
        inputs.iter().map(|s| s.len()).max().unwrap_or(0)
    }
}

pub(crate) fn options(
    method: &str,
    tol: f64,
    max_iter: u32,
    on_invalid: &str,
) -> PyResult<Options> {
    Options::new(
        Method::from_name(method).map_err(value_error)?,
        tol,
        max_iter,
        OnInvalid::from_name(on_invalid).map_err(value_error)?,
    )
    .map_err(value_error)
}

/// Error messages name the Python argument; kernels need a `'static` name.
pub(crate) fn static_name(name: &str) -> &'static str {
    const NAMES: &[&str] = &["inference_tokens", "effective_demand", "demand"];
    NAMES
        .iter()
        .find(|n| **n == name)
        .copied()
        .unwrap_or("demand")
}
