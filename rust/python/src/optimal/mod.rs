//! The optimisers (`scaleplan.optimal`; core `scaleplan::optimal`): the lifetime optimum
//! and its dual (`lifetime`), the optimum under a serving curve (`physical`), and under a
//! finite supply of unique data (`data_constrained`).

mod data_constrained;
mod lifetime;
mod physical;

use pyo3::prelude::*;

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    lifetime::register(m)?;
    physical::register(m)?;
    data_constrained::register(m)
}
