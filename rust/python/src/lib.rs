//! The binding crate: the only code that knows about Python. Thin wrappers that borrow
//! NumPy buffers, call the `scaleplan` crate's kernels with the GIL released, and map its
//! [`Error`] to `ValueError` in one place.

use numpy::ndarray::Array2;
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArrayDyn,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use scaleplan::dual::{best_quality_batch, method_from_name};
use scaleplan::engine::batch::{OnInvalid, PARALLEL_THRESHOLD};
use scaleplan::engine::grid::Grid;
use scaleplan::error::Error;
use scaleplan::fit::{self, Runs, PARAMS};
use scaleplan::fit::{kaplan, likelihood, newton};
use scaleplan::law::{chinchilla_batch, loss_batch, Given, Law, LawColumns, PRESETS};
use scaleplan::lifetime::{
    cost_optimum, optimum, optimum_batch, Buffers, Demand, Method, Options, Start, TABLE_MIN_ROWS,
};
use scaleplan::steptime::{counts_batch, ShapeColumns, FIELDS};

mod convert;
mod data_constrained;
mod fit_runs;
mod laws;
mod physical;
mod serving;
mod solvers;
mod steptime;

use convert::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("PARALLEL_THRESHOLD", PARALLEL_THRESHOLD)?;
    m.add(
        "TRAINING_FLOPS_PER_PARAM",
        scaleplan::flops::TRAINING_PER_PARAM,
    )?;
    m.add(
        "INFERENCE_FLOPS_PER_PARAM",
        scaleplan::flops::INFERENCE_PER_PARAM,
    )?;
    m.add("METHODS", Method::NAMES.to_vec())?;
    m.add("STARTS", Start::NAMES.to_vec())?;
    m.add("DUAL_METHODS", scaleplan::dual::METHODS.to_vec())?;
    // The lane path the kernels run on here ("avx512", "avx2" or "portable").
    m.add("SIMD", scaleplan::engine::simd::Isa::active().name())?;
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
    m.add_function(wrap_pyfunction!(laws::presets, m)?)?;
    m.add_function(wrap_pyfunction!(laws::loss, m)?)?;
    m.add_function(wrap_pyfunction!(laws::chinchilla_optimal, m)?)?;
    m.add_function(wrap_pyfunction!(solvers::compute_optimal, m)?)?;
    m.add_function(wrap_pyfunction!(solvers::compute_optimal_scalar, m)?)?;
    m.add_function(wrap_pyfunction!(solvers::cost_optimal, m)?)?;
    m.add_function(wrap_pyfunction!(solvers::cost_optimal_scalar, m)?)?;
    m.add_function(wrap_pyfunction!(solvers::best_quality, m)?)?;
    m.add_function(wrap_pyfunction!(solvers::check_options, m)?)?;
    m.add_class::<fit_runs::FitRuns>()?;
    m.add_function(wrap_pyfunction!(steptime::step_counts, m)?)?;
    m.add_function(wrap_pyfunction!(serving::serving_step, m)?)?;
    m.add_function(wrap_pyfunction!(physical::physical_optimal, m)?)?;
    m.add_function(wrap_pyfunction!(
        data_constrained::data_constrained_point,
        m
    )?)?;
    m.add_function(wrap_pyfunction!(
        data_constrained::data_constrained_optimal,
        m
    )?)?;
    m.add_function(wrap_pyfunction!(
        data_constrained::data_constrained_budget,
        m
    )?)?;
    m.add_function(wrap_pyfunction!(
        data_constrained::data_constrained_floor,
        m
    )?)?;
    m.add_function(wrap_pyfunction!(
        data_constrained::data_constrained_physical,
        m
    )?)?;
    m.add(
        "MUENNIGHOFF2023_RD_STAR",
        scaleplan::data_constrained::MUENNIGHOFF2023_RD_STAR,
    )?;
    m.add(
        "MUENNIGHOFF2023_RN_STAR",
        scaleplan::data_constrained::MUENNIGHOFF2023_RN_STAR,
    )?;
    m.add("SERVING_FIELDS", scaleplan::serving::FIELDS.to_vec())?;
    m.add("PHASES", scaleplan::serving::Phase::NAMES.to_vec())?;
    Ok(())
}
