//! Systems (`scaleplan.systems`; core `scaleplan::systems`): the serving roofline, its
//! load columns and phases.

use numpy::{IntoPyArray, PyArray1};
use pyo3::prelude::*;
use scaleplan::arch::{ShapeColumns, FIELDS};
use scaleplan::engine::batch::OnInvalid;
use scaleplan::systems::serving::{self, serving_batch, Phase, ServingColumns};

use crate::convert::{grid, invalid, value_error, Array};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("SERVING_FIELDS", serving::FIELDS.to_vec())?;
    m.add("PHASES", Phase::NAMES.to_vec())?;
    m.add_function(wrap_pyfunction!(serving_step, m)?)?;
    Ok(())
}

type Pair<'py> = (Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>);

pub(crate) type ServingArrays<'py> = (
    Pair<'py>,
    Pair<'py>,
    Pair<'py>,
    Pair<'py>,
    Bound<'py, PyArray1<f64>>,
);

/// ((seconds, flops), (bytes, comm seconds), (max batch, batch), (tokens per second, MFU),
/// memory-bound 1/0) of one decode or prefill step per row. `shape` holds the shape
/// columns (`SHAPE_FIELDS`),
/// `load` those of `SERVING_FIELDS`; with `target_seconds` each row's batch is the
/// largest that meets it.
#[pyfunction]
#[pyo3(signature = (phase, shape, load, target_seconds=None, on_invalid="raise",
    parallel=None, broadcast_shape=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn serving_step<'py>(
    py: Python<'py>,
    phase: &str,
    shape: Vec<Array<'py>>,
    load: Vec<Array<'py>>,
    target_seconds: Option<Array<'py>>,
    on_invalid: &str,
    parallel: Option<bool>,
    broadcast_shape: Option<Vec<usize>>,
) -> PyResult<ServingArrays<'py>> {
    let phase = Phase::from_name(phase).map_err(value_error)?;
    let on_invalid = OnInvalid::from_name(on_invalid).map_err(value_error)?;
    if shape.len() != FIELDS.len() || load.len() != serving::FIELDS.len() {
        return Err(invalid(
            "shape",
            format!(
                "serving_step takes {} shape and {} load columns",
                FIELDS.len(),
                serving::FIELDS.len()
            ),
        ));
    }
    let mut named: Vec<(&'static str, &Array<'py>)> = FIELDS.iter().copied().zip(&shape).collect();
    named.extend(serving::FIELDS.iter().copied().zip(&load));
    if let Some(t) = &target_seconds {
        named.push(("target_seconds", t));
    }
    let (grid, data) = grid(&named, broadcast_shape)?;
    let n = grid.len();
    let mut o: [Vec<f64>; 9] = std::array::from_fn(|_| vec![0.0; n]);
    {
        let [s, f, b, c, mb, bt, mem, tps, mfu] = &mut o;
        let out = (
            (
                (s.as_mut_slice(), f.as_mut_slice()),
                (b.as_mut_slice(), c.as_mut_slice()),
            ),
            (
                (mb.as_mut_slice(), bt.as_mut_slice()),
                (mem.as_mut_slice(), (tps.as_mut_slice(), mfu.as_mut_slice())),
            ),
        );
        py.detach(|| {
            grid.run(&data, out, parallel, &|c, o, par| {
                let rows = o.0 .0 .0.len();
                let col = |k: usize| c.get(k).copied().unwrap_or_default();
                let shapes = ShapeColumns::new(std::array::from_fn(col), rows)?;
                let n_shape = FIELDS.len();
                let load = ServingColumns::new(std::array::from_fn(|k| col(n_shape + k)), rows)?;
                let target = c.get(n_shape + serving::FIELDS.len()).copied();
                serving_batch(phase, &shapes, &load, target, on_invalid, par, o)
            })
        })
        .map_err(value_error)?;
    }
    let [s, f, b, c, mb, bt, mem, tps, mfu] = o;
    Ok((
        (s.into_pyarray(py), f.into_pyarray(py)),
        (b.into_pyarray(py), c.into_pyarray(py)),
        (mb.into_pyarray(py), bt.into_pyarray(py)),
        (tps.into_pyarray(py), mfu.into_pyarray(py)),
        mem.into_pyarray(py),
    ))
}
