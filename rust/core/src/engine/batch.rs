//! Batch plumbing shared by every kernel: broadcast columns, the invalid-row policy, and
//! one driver that runs a chunk kernel serially or on rayon's pool above a size threshold.

use crate::error::{Error, Result};

/// Batches shorter than this run on the calling thread: below it rayon's fork-join costs
/// more than it saves (measured on the solver; see benches/).
pub const PARALLEL_THRESHOLD: usize = 16_384;

/// Smallest piece the parallel driver hands to one task.
pub(crate) const GRAIN: usize = 4_096;

/// What a batch kernel does with a row whose inputs are outside the domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnInvalid {
    /// Stop and report the first bad row.
    #[default]
    Raise,
    /// Write NaN for that row and carry on with the others.
    Nan,
}

impl OnInvalid {
    pub const NAMES: &'static [&'static str] = &["raise", "nan"];

    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "raise" => Ok(OnInvalid::Raise),
            "nan" => Ok(OnInvalid::Nan),
            _ => Err(Error::Unknown {
                argument: "on_invalid",
                given: name.to_string(),
                valid: Self::NAMES,
            }),
        }
    }
}

/// Writes NaN to a row and turns its error into the kernel's report, as `on_invalid` asks.
pub(crate) fn reject(err: Error, on_invalid: OnInvalid, first: &mut Option<Error>) {
    if on_invalid == OnInvalid::Raise && first.is_none() {
        *first = Some(err);
    }
}

/// A read-only input column of length 1 (broadcast to every row) or n.
#[derive(Debug, Clone, Copy)]
pub struct Column<'a> {
    data: &'a [f64],
}

impl<'a> Column<'a> {
    /// Wraps `data` as the column `argument` of an n-row batch.
    pub fn new(argument: &'static str, data: &'a [f64], n: usize) -> Result<Self> {
        if data.len() == 1 || data.len() == n {
            Ok(Column { data })
        } else {
            Err(Error::Length {
                argument,
                len: data.len(),
                expected: n,
            })
        }
    }

    /// A column holding one value for every row.
    pub fn scalar(value: &'a f64) -> Self {
        Column {
            data: std::slice::from_ref(value),
        }
    }

    #[inline(always)]
    pub fn is_scalar(&self) -> bool {
        self.data.len() == 1
    }

    #[inline(always)]
    pub fn get(&self, i: usize) -> f64 {
        if self.data.len() == 1 {
            self.data[0]
        } else {
            self.data[i]
        }
    }

    /// Copies rows `start..start + lanes.len()` into `lanes` (one length test per chunk).
    #[inline(always)]
    pub fn fill(&self, start: usize, lanes: &mut [f64]) {
        if self.data.len() == 1 {
            lanes.fill(self.data[0]);
        } else {
            lanes.copy_from_slice(&self.data[start..start + lanes.len()]);
        }
    }
}

/// The number of rows a set of columns broadcasts to (the longest; all others 1 or equal).
pub fn broadcast_len(columns: &[(&'static str, &[f64])]) -> Result<usize> {
    let n = columns.iter().map(|(_, c)| c.len()).max().unwrap_or(0);
    for (name, c) in columns {
        if c.len() != 1 && c.len() != n {
            return Err(Error::Length {
                argument: name,
                len: c.len(),
                expected: n,
            });
        }
    }
    Ok(n)
}

/// Mutable outputs of a kernel, splittable into disjoint row ranges for the workers.
pub trait Outputs: Send + Sized {
    fn rows(&self) -> usize;
    fn split(self, mid: usize) -> (Self, Self);
}

impl<T: Send> Outputs for &mut [T] {
    fn rows(&self) -> usize {
        self.len()
    }
    fn split(self, mid: usize) -> (Self, Self) {
        self.split_at_mut(mid)
    }
}

impl<A: Outputs, B: Outputs> Outputs for (A, B) {
    fn rows(&self) -> usize {
        self.0.rows()
    }
    fn split(self, mid: usize) -> (Self, Self) {
        let (a0, a1) = self.0.split(mid);
        let (b0, b1) = self.1.split(mid);
        ((a0, b0), (a1, b1))
    }
}

/// Of two errors, the one at the lower row, so a parallel run reports what a serial one would.
pub(crate) fn first(a: Option<Error>, b: Option<Error>) -> Option<Error> {
    match (a, b) {
        (Some(x), Some(y)) => {
            if y.index().unwrap_or(usize::MAX) < x.index().unwrap_or(usize::MAX) {
                Some(y)
            } else {
                Some(x)
            }
        }
        (x, None) => x,
        (None, y) => y,
    }
}

/// Runs `kernel(start_row, outputs_for_those_rows)` over all rows of `out`: on this thread
/// when `parallel` is false, else split in halves down to `GRAIN` rows on rayon's pool.
/// Every row is written whatever happens; the error returned is the one at the lowest row.
pub fn drive<O, F>(out: O, parallel: bool, kernel: &F) -> Result<()>
where
    O: Outputs,
    F: Fn(usize, O) -> Option<Error> + Sync,
{
    fn go<O, F>(start: usize, out: O, kernel: &F) -> Option<Error>
    where
        O: Outputs,
        F: Fn(usize, O) -> Option<Error> + Sync,
    {
        let n = out.rows();
        if n <= GRAIN {
            return kernel(start, out);
        }
        let mid = n / 2;
        let (lo, hi) = out.split(mid);
        let (a, b) = rayon::join(|| go(start, lo, kernel), || go(start + mid, hi, kernel));
        first(a, b)
    }
    let err = if parallel {
        go(0, out, kernel)
    } else {
        kernel(0, out)
    };
    err.map_or(Ok(()), Err)
}

/// Whether a batch of `n` rows should use the pool, given a caller override.
pub fn use_parallel(n: usize, force: Option<bool>) -> bool {
    force.unwrap_or(n >= PARALLEL_THRESHOLD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_broadcast_or_match() {
        let one = [2.0];
        let three = [1.0, 2.0, 3.0];
        assert_eq!(broadcast_len(&[("a", &one), ("b", &three)]).unwrap(), 3);
        let two = [1.0, 2.0];
        let err = broadcast_len(&[("a", &two), ("b", &three)]).unwrap_err();
        assert!(err.to_string().contains("a has length 2"));
        let c = Column::new("a", &one, 3).unwrap();
        assert_eq!(c.get(2), 2.0);
        assert!(Column::new("b", &two, 3).is_err());
    }

    #[test]
    fn parallel_driver_reports_lowest_row_and_writes_everything() {
        let n = 50_000;
        let mut out = vec![0.0; n];
        let kernel = |start: usize, o: &mut [f64]| {
            let mut err = None;
            for (j, v) in o.iter_mut().enumerate() {
                let i = start + j;
                *v = i as f64;
                if err.is_none() && i % 7_919 == 7_918 {
                    err = Some(Error::NotConverged {
                        index: i,
                        iterations: 1,
                    });
                }
            }
            err
        };
        let err = drive(out.as_mut_slice(), true, &kernel).unwrap_err();
        assert_eq!(err.index(), Some(7_918));
        assert!(out.iter().enumerate().all(|(i, v)| *v == i as f64));
    }

    #[test]
    fn on_invalid_names() {
        assert_eq!(OnInvalid::from_name("nan").unwrap(), OnInvalid::Nan);
        let e = OnInvalid::from_name("skip").unwrap_err().to_string();
        assert!(e.contains("raise, nan"), "{e}");
    }
}
