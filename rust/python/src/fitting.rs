//! Fitting (`scaleplan.fitting`; core `scaleplan::fitting`): `FitRuns`, training runs for
//! the fitting objective, its gradient, Hessian and Newton; the downstream mapping's fit.

use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use scaleplan::fitting::{self, downstream, kaplan, likelihood, newton, Runs, PARAMS};

use crate::convert::{invalid, slice, value_error};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<FitRuns>()?;
    m.add_function(wrap_pyfunction!(downstream_fit, m)?)
}

/// `(e, k, g)` of `error = e - k exp(-g loss)` fitted by least squares (core
/// `fitting::downstream::fit`); the caller checks the runs (`fitting.downstream`).
#[pyfunction]
fn downstream_fit(
    py: Python<'_>,
    loss: PyReadonlyArray1<'_, f64>,
    error: PyReadonlyArray1<'_, f64>,
) -> PyResult<(f64, f64, f64)> {
    let (loss, error) = (slice("loss", &loss)?, slice("error", &error)?);
    if loss.len() != error.len() || loss.len() < 2 {
        return Err(invalid(
            "error",
            "loss and error must have one length, at least 2".into(),
        ));
    }
    Ok(py.detach(|| downstream::fit(loss, error)))
}

/// Training runs prepared for the Huber-LSE fitting objective (logs taken once).
#[pyclass(frozen, name = "FitRuns", module = "scaleplan._core")]
pub(crate) struct FitRuns {
    runs: Runs,
}

pub(crate) fn theta_of<const K: usize>(theta: &PyReadonlyArray1<'_, f64>) -> PyResult<[f64; K]> {
    let names = if K == PARAMS {
        "(a, b, e, alpha, beta)"
    } else {
        "(a, b, e, alpha, beta, s)"
    };
    slice("theta", theta)?
        .try_into()
        .map_err(|_| invalid("theta", format!("theta must have {K} elements {names}")))
}

pub(crate) fn weights_of<'a>(
    w: &'a Option<PyReadonlyArray1<'_, f64>>,
) -> PyResult<Option<&'a [f64]>> {
    w.as_ref().map(|w| slice("weights", w)).transpose()
}

/// (objective, gradient, Hessian) as a float and two NumPy arrays.
#[allow(clippy::type_complexity)]
fn curvature_arrays<'py, const K: usize>(
    py: Python<'py>,
    objective: f64,
    gradient: &[f64; K],
    hessian: &[[f64; K]; K],
) -> PyResult<(f64, Bound<'py, PyArray1<f64>>, Bound<'py, PyArray2<f64>>)> {
    let flat: Vec<f64> = hessian.iter().flatten().copied().collect();
    let hessian =
        Array2::from_shape_vec((K, K), flat).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok((
        objective,
        gradient.to_vec().into_pyarray(py),
        hessian.into_pyarray(py),
    ))
}

/// A Newton result as Python sees it: (theta, objective, iterations, converged).
type PolishedTuple<'py> = (Bound<'py, PyArray1<f64>>, f64, u32, bool);

fn polished<const K: usize>(py: Python<'_>, p: newton::Polished<K>) -> PyResult<PolishedTuple<'_>> {
    Ok((
        p.theta.to_vec().into_pyarray(py),
        p.objective,
        p.iterations,
        p.converged,
    ))
}

#[pymethods]
impl FitRuns {
    #[new]
    fn new(
        params: PyReadonlyArray1<'_, f64>,
        tokens: PyReadonlyArray1<'_, f64>,
        loss: PyReadonlyArray1<'_, f64>,
    ) -> PyResult<Self> {
        let runs = Runs::new(
            slice("params", &params)?,
            slice("tokens", &tokens)?,
            slice("loss", &loss)?,
        )
        .map_err(value_error)?;
        Ok(FitRuns { runs })
    }

    fn __len__(&self) -> usize {
        self.runs.len()
    }

    /// (objective, gradient) at theta = (a, b, e, alpha, beta); weights default to 1.
    #[pyo3(signature = (theta, delta=1e-3, weights=None))]
    fn objective<'py>(
        &self,
        py: Python<'py>,
        theta: PyReadonlyArray1<'py, f64>,
        delta: f64,
        weights: Option<PyReadonlyArray1<'py, f64>>,
    ) -> PyResult<(f64, Bound<'py, PyArray1<f64>>)> {
        let theta = theta_of(&theta)?;
        let w = weights_of(&weights)?;
        fitting::check(&self.runs, w, delta).map_err(value_error)?;
        let (f, g) = self.runs.objective(&theta, w, delta);
        Ok((f, g.to_vec().into_pyarray(py)))
    }

    /// The objective at every row of `thetas` (shape (k, 5)), in parallel.
    #[pyo3(signature = (thetas, delta=1e-3, weights=None))]
    fn objective_batch<'py>(
        &self,
        py: Python<'py>,
        thetas: PyReadonlyArray2<'py, f64>,
        delta: f64,
        weights: Option<PyReadonlyArray1<'py, f64>>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let w = weights_of(&weights)?;
        fitting::check(&self.runs, w, delta).map_err(value_error)?;
        let view = thetas.as_array();
        if view.ncols() != PARAMS {
            return Err(invalid(
                "thetas",
                format!("thetas must have shape (k, {PARAMS})"),
            ));
        }
        let rows: Vec<[f64; PARAMS]> = view
            .rows()
            .into_iter()
            .map(|r| [r[0], r[1], r[2], r[3], r[4]])
            .collect();
        let out = py.detach(|| self.runs.objective_batch(&rows, w, delta));
        Ok(out.into_pyarray(py))
    }

    /// (objective, gradient, Hessian) at theta; the Hessian is exact and symmetric.
    #[pyo3(signature = (theta, delta=1e-3, weights=None))]
    #[allow(clippy::type_complexity)]
    fn curvature<'py>(
        &self,
        py: Python<'py>,
        theta: PyReadonlyArray1<'py, f64>,
        delta: f64,
        weights: Option<PyReadonlyArray1<'py, f64>>,
    ) -> PyResult<(f64, Bound<'py, PyArray1<f64>>, Bound<'py, PyArray2<f64>>)> {
        let theta = theta_of(&theta)?;
        let w = weights_of(&weights)?;
        let c = newton::curvature(&self.runs, &theta, w, delta).map_err(value_error)?;
        curvature_arrays(py, c.objective, &c.gradient, &c.hessian)
    }

    /// Damped Newton on the exact Hessian from theta: (theta, objective, iterations,
    /// converged). Deterministic to the bit on every CPU (no BLAS).
    #[pyo3(signature = (theta, delta=1e-3, weights=None, max_iter=100))]
    fn newton<'py>(
        &self,
        py: Python<'py>,
        theta: PyReadonlyArray1<'py, f64>,
        delta: f64,
        weights: Option<PyReadonlyArray1<'py, f64>>,
        max_iter: u32,
    ) -> PyResult<PolishedTuple<'py>> {
        let theta = theta_of(&theta)?;
        let w = weights_of(&weights)?;
        let p = py.detach(|| newton::newton(&self.runs, &theta, w, delta, max_iter));
        polished(py, p.map_err(value_error)?)
    }

    /// Epoch's likelihood at theta = (a, b, e, alpha, beta, s): (NLL without the constant
    /// W ln Z(delta), gradient, exact Hessian).
    #[pyo3(signature = (theta, delta=1e-3, weights=None))]
    #[allow(clippy::type_complexity)]
    fn likelihood_curvature<'py>(
        &self,
        py: Python<'py>,
        theta: PyReadonlyArray1<'py, f64>,
        delta: f64,
        weights: Option<PyReadonlyArray1<'py, f64>>,
    ) -> PyResult<(f64, Bound<'py, PyArray1<f64>>, Bound<'py, PyArray2<f64>>)> {
        let theta = theta_of(&theta)?;
        let w = weights_of(&weights)?;
        let c = likelihood::curvature(&self.runs, &theta, w, delta).map_err(value_error)?;
        curvature_arrays(py, c.objective, &c.gradient, &c.hessian)
    }

    /// Epoch's likelihood minimised from theta (reweighted steps, then Newton):
    /// (theta, NLL without the constant, iterations, converged).
    #[pyo3(signature = (theta, delta=1e-3, weights=None, max_iter=1000))]
    fn likelihood_newton<'py>(
        &self,
        py: Python<'py>,
        theta: PyReadonlyArray1<'py, f64>,
        delta: f64,
        weights: Option<PyReadonlyArray1<'py, f64>>,
        max_iter: u32,
    ) -> PyResult<PolishedTuple<'py>> {
        let theta = theta_of(&theta)?;
        let w = weights_of(&weights)?;
        let p = py.detach(|| likelihood::newton(&self.runs, &theta, w, delta, max_iter));
        polished(py, p.map_err(value_error)?)
    }

    /// The Kaplan family's (objective, gradient) at theta = (alpha_D, q, ln N_c, ln D_c).
    #[pyo3(signature = (theta, delta=1e-3, weights=None))]
    fn kaplan_objective<'py>(
        &self,
        py: Python<'py>,
        theta: PyReadonlyArray1<'py, f64>,
        delta: f64,
        weights: Option<PyReadonlyArray1<'py, f64>>,
    ) -> PyResult<(f64, Bound<'py, PyArray1<f64>>)> {
        let theta: [f64; kaplan::KAPLAN] = slice("theta", &theta)?.try_into().map_err(|_| {
            invalid(
                "theta",
                "theta must have 4 elements (alpha_D, q, ln N_c, ln D_c)".into(),
            )
        })?;
        let w = weights_of(&weights)?;
        let (f, g) = kaplan::objective(&self.runs, &theta, w, delta).map_err(value_error)?;
        Ok((f, g.to_vec().into_pyarray(py)))
    }

    /// Residuals LSE(...) - ln L at theta, one per run.
    fn residuals<'py>(
        &self,
        py: Python<'py>,
        theta: PyReadonlyArray1<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        Ok(self.runs.residuals(&theta_of(&theta)?).into_pyarray(py))
    }
}
