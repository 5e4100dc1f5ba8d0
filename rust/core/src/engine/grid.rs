//! Broadcast grids: inputs of different shapes read in place, run by run.
//!
//! A kernel takes columns of length 1 or n. Inputs that broadcast to an n-d grid (a
//! `(2000, 1)` loss against a `(1, 2000)` demand, say) need not be copied out to n rows
//! first: the grid is walked in runs along its innermost varying axis, and in each run every
//! input is either one value or a contiguous slice of its own data. Only the outputs are
//! full size.
//!
//! ```
//! use scaleplan::engine::grid::Grid;
//! let (col, row) = ([1.0, 2.0], [10.0, 20.0, 30.0]);
//! let grid = Grid::new(&[("a", &col, &[2, 1]), ("b", &row, &[1, 3])]).unwrap();
//! assert_eq!(grid.len(), 6);
//! let mut out = vec![0.0; grid.len()];
//! grid.run(&[&col, &row], out.as_mut_slice(), Some(false), &|c, o: &mut [f64], _| {
//!     for (i, v) in o.iter_mut().enumerate() {
//!         *v = c[0][i.min(c[0].len() - 1)] + c[1][i.min(c[1].len() - 1)];
//!     }
//!     Ok(())
//! })
//! .unwrap();
//! assert_eq!(out, [11.0, 21.0, 31.0, 12.0, 22.0, 32.0]);
//! ```

use crate::engine::batch::{first, use_parallel, Outputs, GRAIN, PARALLEL_THRESHOLD};
use crate::error::{Error, Result};

/// Runs shorter than this are gathered into full-length columns before one kernel call:
/// below it a call per run costs more than the copy (a `(10^6, 1) x (1, 3)` grid would
/// otherwise make a million calls of three rows).
pub const MIN_RUN: usize = 256;

/// Most inputs one grid takes (the serving kernel has 43: 21 shape, 21 load, a target).
pub const MAX_INPUTS: usize = 56;

/// How inputs of several shapes broadcast (NumPy's rules) to one C-ordered grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grid {
    len: usize,
    /// Sizes of the grid's axes after merging axes every input walks contiguously and
    /// dropping axes of size 1; outermost first. The last one is the run.
    dims: Vec<usize>,
    /// Per input, its element stride along each of `dims` (0 where it is broadcast).
    strides: Vec<Vec<usize>>,
}

/// `(argument, data, shape)`: a C-contiguous input and its shape.
pub type Input<'a> = (&'static str, &'a [f64], &'a [usize]);

impl Grid {
    /// The grid `inputs` broadcast to, or the first input whose data does not fill its
    /// shape or whose shape does not broadcast with the others.
    pub fn new(inputs: &[Input<'_>]) -> Result<Grid> {
        Grid::build(inputs, None)
    }

    /// The grid of shape `shape`, which every input must broadcast to (an input that was
    /// itself broadcast may have been cut to length 1 along any axis of `shape`).
    pub fn with_shape(inputs: &[Input<'_>], shape: &[usize]) -> Result<Grid> {
        Grid::build(inputs, Some(shape))
    }

    fn build(inputs: &[Input<'_>], target: Option<&[usize]>) -> Result<Grid> {
        if inputs.len() > MAX_INPUTS {
            return Err(Error::Length {
                argument: "inputs",
                len: inputs.len(),
                expected: MAX_INPUTS,
            });
        }
        let own_ndim = inputs.iter().map(|(_, _, s)| s.len()).max().unwrap_or(0);
        let ndim = target.map_or(own_ndim, |t| t.len().max(own_ndim));
        let padded: Vec<Vec<usize>> = inputs.iter().map(|(_, _, s)| pad(s, ndim)).collect();
        let shape = match target {
            None => broadcast_shape(inputs, &padded, ndim)?,
            Some(t) => fits(inputs, &padded, &pad(t, ndim))?,
        };
        let mut strides = Vec::with_capacity(inputs.len());
        for ((argument, data, _), own) in inputs.iter().zip(&padded) {
            let size = checked_size(argument, own)?;
            if data.len() != size {
                return Err(Error::Length {
                    argument,
                    len: data.len(),
                    expected: size,
                });
            }
            strides.push(broadcast_strides(own));
        }
        let len = checked_size("inputs", &shape)?;
        let (dims, strides) = coalesce(&shape, strides);
        Ok(Grid { len, dims, strides })
    }

    /// Rows of the grid (the product of its shape).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the grid has no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Rows per run: the length of the innermost varying axis (the whole grid when every
    /// input reads it contiguously).
    pub fn run_len(&self) -> usize {
        self.dims.last().copied().unwrap_or(1)
    }

    /// Calls `kernel(columns, outputs, parallel)` over the grid, each column of length 1 or
    /// the rows of `outputs`, in as few calls as the layout allows (one when the inputs
    /// read contiguously). `data` are the inputs' data in the order given to [`Grid::new`].
    /// Runs go to rayon's pool when `parallel` allows it (see [`use_parallel`]); errors
    /// carry rows of the whole grid, and the one at the lowest row is returned.
    pub fn run<O, F>(
        &self,
        data: &[&[f64]],
        out: O,
        parallel: Option<bool>,
        kernel: &F,
    ) -> Result<()>
    where
        O: Outputs,
        F: Fn(&[&[f64]], O, Option<bool>) -> Result<()> + Sync,
    {
        if data.len() != self.strides.len() || out.rows() != self.len {
            return Err(Error::Length {
                argument: "outputs",
                len: out.rows(),
                expected: self.len,
            });
        }
        if self.len == 0 {
            return Ok(());
        }
        if self.dims.len() <= 1 {
            return kernel(data, out, parallel);
        }
        if self.run_len() < MIN_RUN {
            let gathered: Vec<Vec<f64>> = data
                .iter()
                .enumerate()
                .map(|(k, d)| self.gather(k, d))
                .collect();
            let columns: Vec<&[f64]> = gathered.iter().map(Vec::as_slice).collect();
            return kernel(&columns, out, parallel);
        }
        let runs = self.len / self.run_len();
        let pool = use_parallel(self.len, parallel);
        let err = if pool && self.run_len() < PARALLEL_THRESHOLD {
            self.runs_on_pool(data, 0, runs, out, kernel)
        } else {
            self.runs_in_turn(data, 0, runs, out, Some(pool), kernel)
        };
        err.map_or(Ok(()), Err)
    }

    /// Runs `lo..hi` one after the other on this thread, stopping at the first error.
    fn runs_in_turn<O, F>(
        &self,
        data: &[&[f64]],
        lo: usize,
        hi: usize,
        out: O,
        parallel: Option<bool>,
        kernel: &F,
    ) -> Option<Error>
    where
        O: Outputs,
        F: Fn(&[&[f64]], O, Option<bool>) -> Result<()> + Sync,
    {
        let run = self.run_len();
        let mut rest = out;
        let mut columns: [&[f64]; MAX_INPUTS] = [&[]; MAX_INPUTS];
        for r in lo..hi {
            let (this, next) = rest.split(run);
            rest = next;
            for (k, d) in data.iter().enumerate() {
                columns[k] = self.column(k, d, r);
            }
            if let Err(e) = kernel(&columns[..data.len()], this, parallel) {
                return Some(e.offset(r * run));
            }
        }
        None
    }

    /// Runs `lo..hi` split in halves on rayon's pool down to about `GRAIN` rows a task.
    fn runs_on_pool<O, F>(
        &self,
        data: &[&[f64]],
        lo: usize,
        hi: usize,
        out: O,
        kernel: &F,
    ) -> Option<Error>
    where
        O: Outputs,
        F: Fn(&[&[f64]], O, Option<bool>) -> Result<()> + Sync,
    {
        if hi - lo <= 1 || (hi - lo) * self.run_len() <= GRAIN {
            return self.runs_in_turn(data, lo, hi, out, Some(false), kernel);
        }
        let mid = lo + (hi - lo) / 2;
        let (a, b) = out.split((mid - lo) * self.run_len());
        let (ea, eb) = rayon::join(
            || self.runs_on_pool(data, lo, mid, a, kernel),
            || self.runs_on_pool(data, mid, hi, b, kernel),
        );
        first(ea, eb)
    }

    /// Input `k`'s column for run `r`: one value, or a slice of `run_len` values.
    fn column<'d>(&self, k: usize, data: &'d [f64], r: usize) -> &'d [f64] {
        let strides = &self.strides[k];
        let last = self.dims.len() - 1;
        let mut rest = r;
        let mut start = 0;
        for d in (0..last).rev() {
            start += (rest % self.dims[d]) * strides[d];
            rest /= self.dims[d];
        }
        let width = if strides[last] == 0 {
            1
        } else {
            self.run_len()
        };
        // In range by construction (Grid::new checked every shape against its data); an
        // empty slice would make the kernel report a length error rather than panic.
        data.get(start..start + width).unwrap_or_default()
    }

    /// Input `k` written out for every row (or its one value, when it never varies).
    fn gather(&self, k: usize, data: &[f64]) -> Vec<f64> {
        if self.strides[k].iter().all(|&s| s == 0) {
            return data.get(..1).unwrap_or_default().to_vec();
        }
        let run = self.run_len();
        let mut all = Vec::with_capacity(self.len);
        for r in 0..self.len / run {
            let c = self.column(k, data, r);
            if c.len() == 1 {
                all.extend(std::iter::repeat_n(c[0], run));
            } else {
                all.extend_from_slice(c);
            }
        }
        all
    }
}

fn pad(shape: &[usize], ndim: usize) -> Vec<usize> {
    let mut p = vec![1; ndim - shape.len()];
    p.extend_from_slice(shape);
    p
}

/// NumPy's rule: along each axis every input has the grid's size or 1.
fn broadcast_shape(inputs: &[Input<'_>], padded: &[Vec<usize>], ndim: usize) -> Result<Vec<usize>> {
    let mut shape = vec![1; ndim];
    for (d, size) in shape.iter_mut().enumerate() {
        for own in padded {
            if own[d] != 1 {
                *size = if *size == 1 { own[d] } else { *size };
            }
        }
        for ((argument, _, _), own) in inputs.iter().zip(padded) {
            if own[d] != 1 && own[d] != *size {
                return Err(Error::Length {
                    argument,
                    len: own[d],
                    expected: *size,
                });
            }
        }
    }
    Ok(shape)
}

/// `shape` itself, when every input has its size or 1 along each axis.
fn fits(inputs: &[Input<'_>], padded: &[Vec<usize>], shape: &[usize]) -> Result<Vec<usize>> {
    for ((argument, _, _), own) in inputs.iter().zip(padded) {
        if let Some(d) = (0..shape.len()).find(|&d| own[d] != 1 && own[d] != shape[d]) {
            return Err(Error::Length {
                argument,
                len: own[d],
                expected: shape[d],
            });
        }
    }
    Ok(shape.to_vec())
}

fn checked_size(argument: &'static str, shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &s| acc.checked_mul(s))
        .ok_or(Error::Invalid {
            argument,
            value: f64::INFINITY,
            requirement: "a shape whose size fits in memory",
            index: None,
        })
}

/// C-order element strides of `shape`, 0 along its axes of size 1 (the broadcast ones).
fn broadcast_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![0; shape.len()];
    let mut step = 1;
    for d in (0..shape.len()).rev() {
        strides[d] = if shape[d] == 1 { 0 } else { step };
        step *= shape[d];
    }
    strides
}

/// Drops axes of size 1 and merges an axis into the next inner one wherever every input
/// steps through both as one (NumPy's iterator does the same).
fn coalesce(shape: &[usize], strides: Vec<Vec<usize>>) -> (Vec<usize>, Vec<Vec<usize>>) {
    let keep: Vec<usize> = (0..shape.len()).filter(|&d| shape[d] != 1).collect();
    let mut dims: Vec<usize> = Vec::new();
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); strides.len()];
    for &d in &keep {
        let merges = !dims.is_empty()
            && strides.iter().zip(&out).all(|(s, o)| {
                let inner = s[d];
                let outer = o[o.len() - 1];
                outer == inner * shape[d] || (outer == 0 && inner == 0)
            });
        if merges {
            let last = dims.len() - 1;
            dims[last] *= shape[d];
            for (s, o) in strides.iter().zip(out.iter_mut()) {
                let l = o.len() - 1;
                o[l] = s[d];
            }
        } else {
            dims.push(shape[d]);
            for (s, o) in strides.iter().zip(out.iter_mut()) {
                o.push(s[d]);
            }
        }
    }
    (dims, out)
}

#[cfg(test)]
mod tests;
