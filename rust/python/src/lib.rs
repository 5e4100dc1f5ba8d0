//! The binding crate: the only code that knows about Python. Thin wrappers that borrow
//! NumPy buffers, call the `scaleplan` crate's kernels with the GIL released, and map its
//! [`Error`](scaleplan::error::Error) to `ValueError` in one place (`convert`).
//!
//! One module per domain of the core crate and of the Python package (`laws`, `arch`,
//! `systems`, `optimal`, `fitting`), each adding its own functions, classes and constants
//! to the one extension module, `scaleplan._core`.

use pyo3::prelude::*;
use scaleplan::engine::batch::{OnInvalid, PARALLEL_THRESHOLD};
use scaleplan::engine::simd::Isa;

mod arch;
mod convert;
mod fitting;
mod laws;
mod optimal;
mod systems;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // The engine every domain's kernels run on: the row count from which they go parallel,
    // the lane path ("avx512", "avx2" or "portable"), and the invalid-row policies.
    m.add("PARALLEL_THRESHOLD", PARALLEL_THRESHOLD)?;
    m.add("SIMD", Isa::active().name())?;
    m.add("ON_INVALID", OnInvalid::NAMES.to_vec())?;
    laws::register(m)?;
    arch::register(m)?;
    systems::register(m)?;
    optimal::register(m)?;
    fitting::register(m)
}
