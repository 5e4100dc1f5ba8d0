//! The lifetime optimum (FLOPs, dollars, one scalar) and its dual, with the GIL released
//! (core `scaleplan::optimal::{lifetime, dual}`), and the solver options they take.

use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use scaleplan::engine::batch::OnInvalid;
use scaleplan::error::Error;
use scaleplan::laws::Law;
use scaleplan::optimal::dual::{self, best_quality_batch, method_from_name};
use scaleplan::optimal::lifetime::{
    self, cost_optimum, optimum, optimum_batch, Buffers, Demand, Method, Options, Start,
    TABLE_MIN_ROWS,
};

use crate::convert::{grid, law_columns, law_inputs, options, static_name, value_error};
use crate::convert::{Array, Coeffs};

/// The solvers, and their options' names, defaults and limits: defined in the core crate
/// only, read by the facade, the Dask layer, the CLI and the stubs.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("METHODS", Method::NAMES.to_vec())?;
    m.add("STARTS", Start::NAMES.to_vec())?;
    m.add("DUAL_METHODS", dual::METHODS.to_vec())?;
    m.add("DEFAULT_TOL", lifetime::DEFAULT_TOL)?;
    m.add("TOL_RANGE", lifetime::TOL_RANGE)?;
    m.add("DEFAULT_MAX_ITER", lifetime::DEFAULT_MAX_ITER)?;
    m.add("MAX_ITER_LIMIT", lifetime::MAX_ITER_LIMIT)?;
    m.add("MAX_ITER_RANGE", lifetime::MAX_ITER_RANGE)?;
    m.add("TABLE_MIN_ROWS", TABLE_MIN_ROWS)?;
    m.add_function(wrap_pyfunction!(compute_optimal, m)?)?;
    m.add_function(wrap_pyfunction!(compute_optimal_scalar, m)?)?;
    m.add_function(wrap_pyfunction!(cost_optimal, m)?)?;
    m.add_function(wrap_pyfunction!(cost_optimal_scalar, m)?)?;
    m.add_function(wrap_pyfunction!(best_quality, m)?)?;
    m.add_function(wrap_pyfunction!(check_options, m)?)?;
    Ok(())
}

pub(crate) type OptimumArrays<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<bool>>,
);

/// Which demand a solver's columns after `loss` hold.
#[derive(Clone, Copy)]
pub(crate) enum DemandOf {
    /// One column of tokens, named as the caller names it.
    Tokens(&'static str),
    /// Requests, input and output tokens, with the two token weights.
    Requests(f64, f64),
}

impl DemandOf {
    fn columns<'a>(self, c: &[&'a [f64]]) -> Demand<'a> {
        match self {
            DemandOf::Tokens(name) => Demand::Tokens { name, tokens: c[1] },
            DemandOf::Requests(w_in, w_out) => Demand::Requests {
                requests: c[1],
                input_tokens: c[2],
                output_tokens: c[3],
                w_in,
                w_out,
            },
        }
    }
}

/// Shared by the FLOP and the dollar entry points: the inputs (law last) read in place and
/// solved with the GIL released. `Start::Auto` is fixed for the whole grid first, and to the
/// bound start when the law varies, so the runs give the bits of one call on the whole.
pub(crate) fn optimum_arrays<'py>(
    py: Python<'py>,
    named: &[(&'static str, &Array<'py>)],
    demand: DemandOf,
    opts: Options,
    parallel: Option<bool>,
    broadcast_shape: Option<Vec<usize>>,
) -> PyResult<OptimumArrays<'py>> {
    let (grid, data) = grid(named, broadcast_shape)?;
    let one_law = data[data.len() - 5..].iter().all(|c| c.len() == 1);
    let start = match one_law {
        true => opts.start.for_rows(grid.len()),
        false => Start::Bound,
    };
    let opts = opts.with_start(start);
    let mut out = Buffers::new(grid.len());
    py.detach(|| {
        grid.run(&data, out.view(), parallel, &|c, o, par| {
            let laws = law_columns(c, o.0 .0.len())?;
            optimum_batch(c[0], demand.columns(c), &laws, &opts, par, o)
        })
    })
    .map_err(value_error)?;
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
    broadcast_shape=None,
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn compute_optimal<'py>(
    py: Python<'py>,
    loss: Array<'py>,
    demand: Array<'py>,
    coefficients: Coeffs<'py>,
    method: &str,
    tol: f64,
    max_iter: u32,
    on_invalid: &str,
    demand_name: &str,
    parallel: Option<bool>,
    start: &str,
    broadcast_shape: Option<Vec<usize>>,
) -> PyResult<OptimumArrays<'py>> {
    let opts = options(method, tol, max_iter, on_invalid, start)?;
    let name = static_name(demand_name);
    let mut named = vec![("loss", &loss), (name, &demand)];
    named.extend(law_inputs(&coefficients));
    optimum_arrays(
        py,
        &named,
        DemandOf::Tokens(name),
        opts,
        parallel,
        broadcast_shape,
    )
}

/// Cost-optimal rows: the demand is `requests (w_in input_tokens + w_out output_tokens)`.
#[pyfunction]
#[pyo3(signature = (
    loss, requests, input_tokens, output_tokens, w_in, w_out, coefficients, method="newton",
    tol=1e-13, max_iter=100, on_invalid="raise", parallel=None, start="auto",
    broadcast_shape=None,
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn cost_optimal<'py>(
    py: Python<'py>,
    loss: Array<'py>,
    requests: Array<'py>,
    input_tokens: Array<'py>,
    output_tokens: Array<'py>,
    w_in: f64,
    w_out: f64,
    coefficients: Coeffs<'py>,
    method: &str,
    tol: f64,
    max_iter: u32,
    on_invalid: &str,
    parallel: Option<bool>,
    start: &str,
    broadcast_shape: Option<Vec<usize>>,
) -> PyResult<OptimumArrays<'py>> {
    let opts = options(method, tol, max_iter, on_invalid, start)?;
    let mut named = vec![
        ("loss", &loss),
        ("requests", &requests),
        ("input_tokens", &input_tokens),
        ("output_tokens", &output_tokens),
    ];
    named.extend(law_inputs(&coefficients));
    optimum_arrays(
        py,
        &named,
        DemandOf::Requests(w_in, w_out),
        opts,
        parallel,
        broadcast_shape,
    )
}

pub(crate) type BestArrays<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<u32>>,
);

/// Lowest-loss (params, tokens, loss, iterations) for `N (D + demand / 3) = budget`.
#[pyfunction]
#[pyo3(signature = (
    budget, demand, coefficients, on_invalid="raise", demand_name="inference_tokens",
    parallel=None, broadcast_shape=None, method="newton", per_unit=1.0,
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn best_quality<'py>(
    py: Python<'py>,
    budget: Array<'py>,
    demand: Array<'py>,
    coefficients: Coeffs<'py>,
    on_invalid: &str,
    demand_name: &str,
    parallel: Option<bool>,
    broadcast_shape: Option<Vec<usize>>,
    method: &str,
    per_unit: f64,
) -> PyResult<BestArrays<'py>> {
    let on_invalid = OnInvalid::from_name(on_invalid).map_err(value_error)?;
    let method = method_from_name(method).map_err(value_error)?;
    let name = static_name(demand_name);
    let mut named = vec![("budget", &budget), (name, &demand)];
    named.extend(law_inputs(&coefficients));
    let (grid, data) = grid(&named, broadcast_shape)?;
    let n = grid.len();
    let (mut p, mut t, mut l, mut it) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0u32; n]);
    let out = (
        (p.as_mut_slice(), t.as_mut_slice()),
        (l.as_mut_slice(), it.as_mut_slice()),
    );
    py.detach(|| {
        grid.run(&data, out, parallel, &|c, o, par| {
            let laws = law_columns(c, o.0 .0.len())?;
            let demand = Demand::Tokens { name, tokens: c[1] };
            best_quality_batch(c[0], per_unit, demand, &laws, method, on_invalid, par, o)
        })
    })
    .map_err(value_error)?;
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
pub(crate) fn compute_optimal_scalar(
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
    let opts = options(method, tol, max_iter, "raise", "auto")?;
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

/// One dollar scenario with Python floats in and out: the scheduler's path for pricing one
/// job at a time. `w_in`, `w_out` are the cost model's demand weights.
#[pyfunction]
#[pyo3(signature = (
    loss, requests, input_tokens, output_tokens, w_in, w_out, e, a, b, alpha, beta,
    method="newton", tol=1e-13, max_iter=100,
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn cost_optimal_scalar(
    loss: f64,
    requests: f64,
    input_tokens: f64,
    output_tokens: f64,
    w_in: f64,
    w_out: f64,
    e: f64,
    a: f64,
    b: f64,
    alpha: f64,
    beta: f64,
    method: &str,
    tol: f64,
    max_iter: u32,
) -> PyResult<(f64, f64, u32, bool)> {
    let opts = options(method, tol, max_iter, "raise", "auto")?;
    let law = Law::new(e, a, b, alpha, beta).map_err(value_error)?;
    let (r, i, o) = (requests, input_tokens, output_tokens);
    let o = cost_optimum(&law, loss, r, i, o, w_in, w_out, &opts).map_err(value_error)?;
    Ok((o.params, o.tokens, o.iterations, o.converged))
}

/// Checks the solver's options (names, ranges, messages: all the core's) without solving,
/// so the facade and the Dask layer fail before any work is scheduled.
#[pyfunction]
#[pyo3(signature = (method, tol, max_iter, on_invalid, start="auto"))]
pub(crate) fn check_options(
    method: &str,
    tol: f64,
    max_iter: f64,
    on_invalid: &str,
    start: &str,
) -> PyResult<()> {
    Options::parse(method, tol, max_iter, on_invalid, start).map_err(value_error)?;
    Ok(())
}
