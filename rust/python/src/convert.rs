//! Python values to the core's inputs and the core's errors to Python: one place each.

use numpy::{PyReadonlyArray1, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;
use scaleplan::engine::grid::Grid;
use scaleplan::error::Error;
use scaleplan::laws::LawColumns;
use scaleplan::optimal::lifetime::Options;

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

/// A float64 input of any shape; the binding reads it in place when it is C-contiguous.
pub(crate) type Array<'py> = PyReadonlyArrayDyn<'py, f64>;

/// The five law coefficient arrays (E, A, B, alpha, beta).
pub(crate) type Coeffs<'py> = (Array<'py>, Array<'py>, Array<'py>, Array<'py>, Array<'py>);

/// The coefficient arrays under their public names, to append to a kernel's inputs.
pub(crate) fn law_inputs<'a, 'py>(c: &'a Coeffs<'py>) -> [(&'static str, &'a Array<'py>); 5] {
    [
        ("E", &c.0),
        ("A", &c.1),
        ("B", &c.2),
        ("alpha", &c.3),
        ("beta", &c.4),
    ]
}

/// The law columns of one run: the last five of a kernel's columns.
pub(crate) fn law_columns<'a>(columns: &[&'a [f64]], rows: usize) -> Result<LawColumns<'a>, Error> {
    match columns {
        [.., e, a, b, alpha, beta] => LawColumns::new([e, a, b, alpha, beta], rows),
        _ => Err(Error::Length {
            argument: "coefficients",
            len: columns.len(),
            expected: 5,
        }),
    }
}

/// The one marshalling path of every batch kernel: each named input read in place (its
/// C-contiguous data and its own shape, never broadcast out), and the grid they broadcast
/// to (`broadcast_shape` when the caller gives it: an input cut from a broadcast view may
/// no longer span every axis), which runs the kernel over the outputs with the GIL released.
pub(crate) fn grid<'a>(
    named: &[(&'static str, &'a Array<'_>)],
    broadcast_shape: Option<Vec<usize>>,
) -> PyResult<(Grid, Vec<&'a [f64]>)> {
    let mut inputs = Vec::with_capacity(named.len());
    for (name, a) in named {
        let data = a
            .as_slice()
            .map_err(|_| invalid(name, format!("{name} must be a C-contiguous float64 array")))?;
        inputs.push((*name, data, a.shape()));
    }
    let grid = match broadcast_shape {
        None => Grid::new(&inputs),
        Some(shape) => Grid::with_shape(&inputs, shape.as_slice()),
    };
    let grid = grid.map_err(value_error)?;
    Ok((grid, inputs.iter().map(|i| i.1).collect()))
}

pub(crate) fn options(
    method: &str,
    tol: f64,
    max_iter: u32,
    on_invalid: &str,
    start: &str,
) -> PyResult<Options> {
    Options::parse(method, tol, f64::from(max_iter), on_invalid, start).map_err(value_error)
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
