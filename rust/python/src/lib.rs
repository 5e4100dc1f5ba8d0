//! The binding crate: the only code that knows about Python. Thin wrappers that borrow
//! NumPy buffers, call the `scaleplan` crate's kernels with the GIL released, and map its
//! [`Error`] to `ValueError` in one place.

use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use scaleplan::batch::{OnInvalid, PARALLEL_THRESHOLD};
use scaleplan::dual::best_model_batch;
use scaleplan::error::Error;
use scaleplan::fit::{self, Runs, PARAMS};
use scaleplan::fit_newton;
use scaleplan::law::{chinchilla_batch, loss_batch, Given, Law, LawColumns, PRESETS};
use scaleplan::lifetime::{
    optimum, optimum_batch, Buffers, Demand, Method, Options, Start, TABLE_MIN_ROWS,
};
use scaleplan::steptime::{counts_batch, ShapeColumns};

// `scaleplan.errors.ScaleplanError`, a ValueError subclass defined in Python so that the
// facade raises the same class; imported on first use.
pyo3::import_exception!(scaleplan.errors, ScaleplanError);

/// The one mapping of the core's errors to Python: message, argument and row as data.
fn value_error(e: Error) -> PyErr {
    ScaleplanError::new_err((e.to_string(), e.argument(), e.index()))
}

/// A ScaleplanError about `argument` raised by the binding itself (shapes, layouts).
fn invalid(argument: &str, message: String) -> PyErr {
    ScaleplanError::new_err((message, argument.to_string(), None::<usize>))
}

/// A contiguous view of a 1-D float64 array, or a ValueError naming the argument.
fn slice<'a>(name: &str, a: &'a PyReadonlyArray1<'_, f64>) -> PyResult<&'a [f64]> {
    a.as_slice()
        .map_err(|_| invalid(name, format!("{name} must be a contiguous float64 array")))
}

type Coeffs<'py> = (
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
);

fn coefficient_slices<'a>(c: &'a Coeffs<'_>) -> PyResult<[&'a [f64]; 5]> {
    Ok([
        slice("E", &c.0)?,
        slice("A", &c.1)?,
        slice("B", &c.2)?,
        slice("alpha", &c.3)?,
        slice("beta", &c.4)?,
    ])
}

fn rows(inputs: &[&[f64]]) -> usize {
    if inputs.iter().any(|s| s.is_empty()) {
        0
    } else {
        inputs.iter().map(|s| s.len()).max().unwrap_or(0)
    }
}

fn options(method: &str, tol: f64, max_iter: u32, on_invalid: &str) -> PyResult<Options> {
    Options::new(
        Method::from_name(method).map_err(value_error)?,
        tol,
        max_iter,
        OnInvalid::from_name(on_invalid).map_err(value_error)?,
    )
    .map_err(value_error)
}

/// Error messages name the Python argument; kernels need a `'static` name.
fn static_name(name: &str) -> &'static str {
    const NAMES: &[&str] = &["inference_tokens", "effective_demand", "demand"];
    NAMES
        .iter()
        .find(|n| **n == name)
        .copied()
        .unwrap_or("demand")
}

/// (name, E, A, B, alpha, beta, source) of every preset.
#[pyfunction]
fn presets() -> Vec<(&'static str, f64, f64, f64, f64, f64, &'static str)> {
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
fn loss<'py>(
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

type ArrayPair<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);

/// Chinchilla-style (params, tokens) given "compute", "loss" or "params".
#[pyfunction]
#[pyo3(signature = (given, values, coefficients, on_invalid="raise", parallel=None))]
fn chinchilla<'py>(
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

type OptimumArrays<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<bool>>,
);

/// Shared by the FLOP and the dollar entry points: solve with the GIL released.
fn optimum_arrays<'py>(
    py: Python<'py>,
    loss: &[f64],
    demand: Demand<'_>,
    demand_columns: &[&[f64]],
    c: [&[f64]; 5],
    opts: &Options,
    parallel: Option<bool>,
) -> PyResult<OptimumArrays<'py>> {
    let mut all = vec![loss];
    all.extend_from_slice(demand_columns);
    all.extend_from_slice(&c);
    let n = rows(&all);
    let out = py.detach(|| {
        let laws = LawColumns::new(c, n)?;
        let mut out = Buffers::new(n);
        optimum_batch(loss, demand, &laws, opts, parallel, out.view())?;
        Ok(out)
    });
    let out = out.map_err(value_error)?;
    Ok((
        out.params.into_pyarray(py),
        out.tokens.into_pyarray(py),
        out.iterations.into_pyarray(py),
        out.converged.into_pyarray(py),
    ))
}

/// Lifetime-optimal (params, tokens, iterations, converged) for every row.
///
/// Defaults are literals so that `__text_signature__` shows them; they equal
/// `lifetime::DEFAULT_TOL` and `lifetime::DEFAULT_MAX_ITER` (checked by the stub test).
#[pyfunction]
#[pyo3(signature = (
    loss, demand, coefficients, method="newton", tol=1e-13,
    max_iter=100, on_invalid="raise",
    demand_name="inference_tokens", parallel=None, start="auto",
))]
#[allow(clippy::too_many_arguments)]
fn lifetime_optimal<'py>(
    py: Python<'py>,
    loss: PyReadonlyArray1<'py, f64>,
    demand: PyReadonlyArray1<'py, f64>,
    coefficients: Coeffs<'py>,
    method: &str,
    tol: f64,
    max_iter: u32,
    on_invalid: &str,
    demand_name: &str,
    parallel: Option<bool>,
    start: &str,
) -> PyResult<OptimumArrays<'py>> {
    let opts = options(method, tol, max_iter, on_invalid)?
        .with_start(Start::from_name(start).map_err(value_error)?);
    let name = static_name(demand_name);
    let (l, d) = (slice("loss", &loss)?, slice(name, &demand)?);
    let c = coefficient_slices(&coefficients)?;
    let demand = Demand::Tokens { name, tokens: d };
    optimum_arrays(py, l, demand, &[d], c, &opts, parallel)
}

/// Cost-optimal rows: the demand is `requests (w_in input_tokens + w_out output_tokens)`.
#[pyfunction]
#[pyo3(signature = (
    loss, requests, input_tokens, output_tokens, w_in, w_out, coefficients, method="newton",
    tol=1e-13, max_iter=100, on_invalid="raise", parallel=None, start="auto",
))]
#[allow(clippy::too_many_arguments)]
fn cost_optimal<'py>(
    py: Python<'py>,
    loss: PyReadonlyArray1<'py, f64>,
    requests: PyReadonlyArray1<'py, f64>,
    input_tokens: PyReadonlyArray1<'py, f64>,
    output_tokens: PyReadonlyArray1<'py, f64>,
    w_in: f64,
    w_out: f64,
    coefficients: Coeffs<'py>,
    method: &str,
    tol: f64,
    max_iter: u32,
    on_invalid: &str,
    parallel: Option<bool>,
    start: &str,
) -> PyResult<OptimumArrays<'py>> {
    let opts = options(method, tol, max_iter, on_invalid)?
        .with_start(Start::from_name(start).map_err(value_error)?);
    let l = slice("loss", &loss)?;
    let r = slice("requests", &requests)?;
    let i = slice("input_tokens", &input_tokens)?;
    let o = slice("output_tokens", &output_tokens)?;
    let c = coefficient_slices(&coefficients)?;
    let demand = Demand::Requests {
        requests: r,
        input_tokens: i,
        output_tokens: o,
        w_in,
        w_out,
    };
    optimum_arrays(py, l, demand, &[r, i, o], c, &opts, parallel)
}

type BestArrays<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<u32>>,
);

/// Lowest-loss (params, tokens, loss, iterations) for `N (D + demand / 3) = budget`.
#[pyfunction]
#[pyo3(signature = (budget, demand, coefficients, on_invalid="raise", demand_name="inference_tokens", parallel=None))]
fn best_model<'py>(
    py: Python<'py>,
    budget: PyReadonlyArray1<'py, f64>,
    demand: PyReadonlyArray1<'py, f64>,
    coefficients: Coeffs<'py>,
    on_invalid: &str,
    demand_name: &str,
    parallel: Option<bool>,
) -> PyResult<BestArrays<'py>> {
    let on_invalid = OnInvalid::from_name(on_invalid).map_err(value_error)?;
    let name = static_name(demand_name);
    let (b, d) = (slice("budget", &budget)?, slice(name, &demand)?);
    let c = coefficient_slices(&coefficients)?;
    let n = rows(&[b, d, c[0], c[1], c[2], c[3], c[4]]);
    let out = py.detach(|| {
        let laws = LawColumns::new(c, n)?;
        let (mut p, mut t, mut l, mut it) =
            (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0u32; n]);
        let demand = Demand::Tokens { name, tokens: d };
        best_model_batch(
            b,
            demand,
            &laws,
            on_invalid,
            parallel,
            ((&mut p, &mut t), (&mut l, &mut it)),
        )?;
        Ok((p, t, l, it))
    });
    let (p, t, l, it) = out.map_err(value_error)?;
    Ok((
        p.into_pyarray(py),
        t.into_pyarray(py),
        l.into_pyarray(py),
        it.into_pyarray(py),
    ))
}

/// One scenario with Python floats in and out: the low-latency path for schedulers.
#[pyfunction]
#[pyo3(signature = (
    loss, demand, e, a, b, alpha, beta, method="newton", tol=1e-13,
    max_iter=100, demand_name="inference_tokens",
))]
#[allow(clippy::too_many_arguments)]
fn lifetime_optimal_scalar(
    loss: f64,
    demand: f64,
    e: f64,
    a: f64,
    b: f64,
    alpha: f64,
    beta: f64,
    method: &str,
    tol: f64,
    max_iter: u32,
    demand_name: &str,
) -> PyResult<(f64, f64, u32, bool)> {
    let opts = options(method, tol, max_iter, "raise")?;
    let law = Law::new(e, a, b, alpha, beta).map_err(value_error)?;
    let o = optimum(&law, loss, demand, &opts).map_err(|err| match err {
        Error::Invalid {
            argument: "effective_demand",
            value,
            requirement,
            index,
        } => value_error(Error::Invalid {
            argument: static_name(demand_name),
            value,
            requirement,
            index,
        }),
        other => value_error(other),
    })?;
    Ok((o.params, o.tokens, o.iterations, o.converged))
}

type CountArrays<'py> = (
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
fn step_counts<'py>(
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

/// Training runs prepared for the Huber-LSE fitting objective (logs taken once).
#[pyclass(frozen, name = "FitRuns", module = "scaleplan._core")]
struct FitRuns {
    runs: Runs,
}

fn theta_of(theta: &PyReadonlyArray1<'_, f64>) -> PyResult<[f64; PARAMS]> {
    slice("theta", theta)?.try_into().map_err(|_| {
        invalid(
            "theta",
            format!("theta must have {PARAMS} elements (a, b, e, alpha, beta)"),
        )
    })
}

fn weights_of<'a>(w: &'a Option<PyReadonlyArray1<'_, f64>>) -> PyResult<Option<&'a [f64]>> {
    w.as_ref().map(|w| slice("weights", w)).transpose()
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
        fit::check(&self.runs, w, delta).map_err(value_error)?;
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
        fit::check(&self.runs, w, delta).map_err(value_error)?;
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
        let c = fit_newton::curvature(&self.runs, &theta, w, delta).map_err(value_error)?;
        let flat: Vec<f64> = c.hessian.iter().flatten().copied().collect();
        let hessian = Array2::from_shape_vec((PARAMS, PARAMS), flat)
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok((
            c.objective,
            c.gradient.to_vec().into_pyarray(py),
            hessian.into_pyarray(py),
        ))
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
    ) -> PyResult<(Bound<'py, PyArray1<f64>>, f64, u32, bool)> {
        let theta = theta_of(&theta)?;
        let w = weights_of(&weights)?;
        let p = py
            .detach(|| fit_newton::newton(&self.runs, &theta, w, delta, max_iter))
            .map_err(value_error)?;
        Ok((
            p.theta.to_vec().into_pyarray(py),
            p.objective,
            p.iterations,
            p.converged,
        ))
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

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("PARALLEL_THRESHOLD", PARALLEL_THRESHOLD)?;
    m.add("METHODS", Method::NAMES.to_vec())?;
    m.add("STARTS", Start::NAMES.to_vec())?;
    // Solver options, their defaults and limits: defined in the core crate only, read by
    // the facade, the Dask layer, the CLI and the stubs.
    m.add("ON_INVALID", OnInvalid::NAMES.to_vec())?;
    m.add("DEFAULT_TOL", scaleplan::lifetime::DEFAULT_TOL)?;
    m.add("TOL_RANGE", scaleplan::lifetime::TOL_RANGE)?;
    m.add("DEFAULT_MAX_ITER", scaleplan::lifetime::DEFAULT_MAX_ITER)?;
    m.add("MAX_ITER_LIMIT", scaleplan::lifetime::MAX_ITER_LIMIT)?;
    m.add("MAX_ITER_RANGE", scaleplan::lifetime::MAX_ITER_RANGE)?;
    m.add("TABLE_MIN_ROWS", TABLE_MIN_ROWS)?;
    m.add("SHAPE_FIELDS", scaleplan::steptime::FIELDS.to_vec())?;
    m.add_function(wrap_pyfunction!(presets, m)?)?;
    m.add_function(wrap_pyfunction!(loss, m)?)?;
    m.add_function(wrap_pyfunction!(chinchilla, m)?)?;
    m.add_function(wrap_pyfunction!(lifetime_optimal, m)?)?;
    m.add_function(wrap_pyfunction!(lifetime_optimal_scalar, m)?)?;
    m.add_function(wrap_pyfunction!(cost_optimal, m)?)?;
    m.add_function(wrap_pyfunction!(best_model, m)?)?;
    m.add_class::<FitRuns>()?;
    m.add_function(wrap_pyfunction!(step_counts, m)?)?;
    Ok(())
}
