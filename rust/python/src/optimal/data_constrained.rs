//! The data-constrained law (Muennighoff et al. 2023): its loss and gradient, the lifetime
//! optimum with a unique-token supply, and the training-only optimum for a budget (core
//! `scaleplan::optimal::data_constrained`).

use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray1};
use pyo3::prelude::*;
use scaleplan::engine::batch::OnInvalid;
use scaleplan::error::Error;
use scaleplan::laws::{Law, LawColumns};
use scaleplan::optimal::data_constrained::{
    self, budget_optimum, lifetime_optimum, optimum_row, physical_optimum, point_row, rows_batch,
    DataConstrained, DecayColumns,
};

use crate::convert::{grid, invalid, law_columns, law_inputs, value_error, Array, Coeffs};

/// The kernels, and the decay constants of Muennighoff et al.'s C4 fit.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(data_constrained_point, m)?)?;
    m.add_function(wrap_pyfunction!(data_constrained_optimal, m)?)?;
    m.add_function(wrap_pyfunction!(data_constrained_budget, m)?)?;
    m.add_function(wrap_pyfunction!(data_constrained_floor, m)?)?;
    m.add_function(wrap_pyfunction!(data_constrained_physical, m)?)?;
    m.add(
        "MUENNIGHOFF2023_RD_STAR",
        data_constrained::MUENNIGHOFF2023_RD_STAR,
    )?;
    m.add(
        "MUENNIGHOFF2023_RN_STAR",
        data_constrained::MUENNIGHOFF2023_RN_STAR,
    )
}

/// One row of a kernel: the run's columns, the decay constants and laws, the row index.
type RowFn<'a, const K: usize> =
    dyn Fn(&[&[f64]], &DecayColumns, &LawColumns, usize) -> Result<[f64; K], Error> + Sync + 'a;

/// Runs a K-output row kernel over the broadcast grid of `named` (law columns and the
/// two decay constants last) with the GIL released: an `(n, K)` array.
fn row_columns<'py, const K: usize>(
    py: Python<'py>,
    named: &[(&'static str, &Array<'py>)],
    on_invalid: &str,
    parallel: Option<bool>,
    broadcast_shape: Option<Vec<usize>>,
    row: &RowFn<'_, K>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let on_invalid = OnInvalid::from_name(on_invalid).map_err(value_error)?;
    let (grid, data) = grid(named, broadcast_shape)?;
    let mut out = vec![[0.0; K]; grid.len()];
    py.detach(|| {
        grid.run(&data, out.as_mut_slice(), parallel, &|c, o, par| {
            let rows = o.len();
            let k = c.len();
            let laws = law_columns(&c[..k - 2], rows)?;
            let decay = DecayColumns::new(c[k - 2], c[k - 1], rows)?;
            rows_batch(rows, on_invalid, par, o, &|i| row(c, &decay, &laws, i))
        })
    })
    .map_err(value_error)?;
    let n = out.len();
    let flat: Vec<f64> = out.into_iter().flatten().collect();
    let array =
        Array2::from_shape_vec((n, K), flat).map_err(|e| invalid("shape", e.to_string()))?;
    Ok(array.into_pyarray(py))
}

fn at(c: &[f64], i: usize) -> f64 {
    if c.len() == 1 {
        c[0]
    } else {
        c[i]
    }
}

/// Per row `[loss, dL/dln N, dL/dln D, N', D']` at (params, tokens, unique_tokens).
#[pyfunction]
#[pyo3(signature = (params, tokens, unique_tokens, coefficients, rd_star, rn_star,
    on_invalid="raise", parallel=None, broadcast_shape=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn data_constrained_point<'py>(
    py: Python<'py>,
    params: Array<'py>,
    tokens: Array<'py>,
    unique_tokens: Array<'py>,
    coefficients: Coeffs<'py>,
    rd_star: Array<'py>,
    rn_star: Array<'py>,
    on_invalid: &str,
    parallel: Option<bool>,
    broadcast_shape: Option<Vec<usize>>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let mut named = vec![
        ("params", &params),
        ("tokens", &tokens),
        ("unique_tokens", &unique_tokens),
    ];
    named.extend(law_inputs(&coefficients));
    named.extend([("rd_star", &rd_star), ("rn_star", &rn_star)]);
    row_columns(
        py,
        &named,
        on_invalid,
        parallel,
        broadcast_shape,
        &|c, decay, laws, i| {
            point_row(
                &decay.get(laws, i)?,
                at(c[0], i),
                at(c[1], i),
                at(c[2], i),
                i,
            )
        },
    )
}

/// Per row `[params, tokens, effective tokens, iterations, binding]` of the lifetime
/// optimum at `loss` for `demand` (effective inference tokens) and `unique_tokens`.
#[pyfunction]
#[pyo3(signature = (loss, demand, unique_tokens, coefficients, rd_star, rn_star,
    on_invalid="raise", parallel=None, broadcast_shape=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn data_constrained_optimal<'py>(
    py: Python<'py>,
    loss: Array<'py>,
    demand: Array<'py>,
    unique_tokens: Array<'py>,
    coefficients: Coeffs<'py>,
    rd_star: Array<'py>,
    rn_star: Array<'py>,
    on_invalid: &str,
    parallel: Option<bool>,
    broadcast_shape: Option<Vec<usize>>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let mut named = vec![
        ("loss", &loss),
        ("inference_tokens", &demand),
        ("unique_tokens", &unique_tokens),
    ];
    named.extend(law_inputs(&coefficients));
    named.extend([("rd_star", &rd_star), ("rn_star", &rn_star)]);
    row_columns(
        py,
        &named,
        on_invalid,
        parallel,
        broadcast_shape,
        &|c, decay, laws, i| {
            let dc = decay.get(laws, i)?;
            lifetime_optimum(&dc, at(c[0], i), at(c[1], i), at(c[2], i), Some(i)).map(optimum_row)
        },
    )
}

/// Per row `[params, tokens, effective tokens, iterations, binding]` minimising the loss at
/// `N (6 D + 2 demand) = flops` with `unique_tokens`.
#[pyfunction]
#[pyo3(signature = (flops, demand, unique_tokens, coefficients, rd_star, rn_star,
    on_invalid="raise", parallel=None, broadcast_shape=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn data_constrained_budget<'py>(
    py: Python<'py>,
    flops: Array<'py>,
    demand: Array<'py>,
    unique_tokens: Array<'py>,
    coefficients: Coeffs<'py>,
    rd_star: Array<'py>,
    rn_star: Array<'py>,
    on_invalid: &str,
    parallel: Option<bool>,
    broadcast_shape: Option<Vec<usize>>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let mut named = vec![
        ("budget", &flops),
        ("inference_tokens", &demand),
        ("unique_tokens", &unique_tokens),
    ];
    named.extend(law_inputs(&coefficients));
    named.extend([("rd_star", &rd_star), ("rn_star", &rn_star)]);
    row_columns(
        py,
        &named,
        on_invalid,
        parallel,
        broadcast_shape,
        &|c, decay, laws, i| {
            let dc = decay.get(laws, i)?;
            budget_optimum(&dc, at(c[0], i), at(c[1], i), at(c[2], i), Some(i)).map(optimum_row)
        },
    )
}

/// The lowest loss the law reaches with `unique_tokens` (every repetition and parameter
/// saturated): the bound below which the optima raise.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub(crate) fn data_constrained_floor(
    unique_tokens: f64,
    e: f64,
    a: f64,
    b: f64,
    alpha: f64,
    beta: f64,
    rd_star: f64,
    rn_star: f64,
) -> PyResult<f64> {
    let law = Law::new(e, a, b, alpha, beta).map_err(value_error)?;
    let dc = DataConstrained::new(law, rd_star, rn_star).map_err(value_error)?;
    if !(unique_tokens.is_finite() && unique_tokens > 0.0) {
        return Err(invalid(
            "unique_tokens",
            format!("unique_tokens must be finite and > 0; got {unique_tokens:?}"),
        ));
    }
    Ok(dc.floor(unique_tokens))
}

/// Per row `[params, tokens, training $, serving $, effective tokens, binding, iterations]`
/// of the lifetime optimum in dollars with serving priced by the curve through
/// `(ln_params, ln_dollars)` and `unique_tokens` of unique data.
#[pyfunction]
#[pyo3(signature = (loss, requests, dollars_per_flop, unique_tokens, coefficients, rd_star,
    rn_star, ln_params, ln_dollars, on_invalid="raise", parallel=None, broadcast_shape=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn data_constrained_physical<'py>(
    py: Python<'py>,
    loss: Array<'py>,
    requests: Array<'py>,
    dollars_per_flop: Array<'py>,
    unique_tokens: Array<'py>,
    coefficients: Coeffs<'py>,
    rd_star: Array<'py>,
    rn_star: Array<'py>,
    ln_params: PyReadonlyArray1<'py, f64>,
    ln_dollars: PyReadonlyArray1<'py, f64>,
    on_invalid: &str,
    parallel: Option<bool>,
    broadcast_shape: Option<Vec<usize>>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let curve = super::physical::serving_curve(&ln_params, &ln_dollars)?;
    let mut named = vec![
        ("loss", &loss),
        ("requests", &requests),
        ("dollars_per_flop", &dollars_per_flop),
        ("unique_tokens", &unique_tokens),
    ];
    named.extend(law_inputs(&coefficients));
    named.extend([("rd_star", &rd_star), ("rn_star", &rn_star)]);
    row_columns(
        py,
        &named,
        on_invalid,
        parallel,
        broadcast_shape,
        &|c, decay, laws, i| {
            let dc = decay.get(laws, i)?;
            let (loss, requests, per_flop, unique) =
                (at(c[0], i), at(c[1], i), at(c[2], i), at(c[3], i));
            let (o, d_eff, binding) =
                physical_optimum(&dc, loss, requests, per_flop, &curve, unique, Some(i))?;
            Ok([
                o.params,
                o.tokens,
                o.training_dollars,
                o.serving_dollars,
                d_eff,
                f64::from(u8::from(binding)),
                f64::from(o.iterations),
            ])
        },
    )
}
