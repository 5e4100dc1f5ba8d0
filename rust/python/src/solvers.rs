//! The lifetime optimum (FLOPs, dollars, one scalar) and its dual, with the GIL released.

use super::*;

pub(crate) type OptimumArrays<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<u32>>,
    Bound<'py, PyArray1<bool>>,
);

/// Shared by the FLOP and the dollar entry points: solve with the GIL released.
pub(crate) fn optimum_arrays<'py>(
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
pub(crate) fn lifetime_optimal<'py>(
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
pub(crate) fn cost_optimal<'py>(
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

pub(crate) type BestArrays<'py> = (
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<u32>>,
);

/// Lowest-loss (params, tokens, loss, iterations) for `N (D + demand / 3) = budget`.
#[pyfunction]
#[pyo3(signature = (budget, demand, coefficients, on_invalid="raise", demand_name="inference_tokens", parallel=None))]
pub(crate) fn best_model<'py>(
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
pub(crate) fn lifetime_optimal_scalar(
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
