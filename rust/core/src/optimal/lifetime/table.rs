//! The per-law start table of `s(K)` that lets large batches start Newton one step away.

use super::*;

/// Batches from this size on (with one shared law) start Newton from [`StartTable`]: its
/// ~1 ms of set-up is then a few percent of the solve.
pub const TABLE_MIN_ROWS: usize = 50_000;
pub(crate) const TABLE_K: f64 = 32.0;
pub(crate) const TABLE_N: usize = 4096;

/// The root `s(K)` of `beta s + softplus(s) = K` on a uniform grid of K in [-32, 32], with
/// its slope `ds/dK = 1 / (beta + sigma(s))`, for cubic Hermite interpolation. Interpolated
/// starts are within ~1e-9 of the root for beta >= 0.13 (4e-6 with a 1024-point grid), so
/// Newton needs one step instead of the ~4 that the bound start takes in lock-step. Newton
/// converges from either side of the root (h is convex and increasing), so the start only
/// changes the iteration count, never the answer beyond rounding.
pub(crate) struct StartTable {
    /// `(s, ds/dK)` at each grid point, side by side so one lookup touches one cache line;
    /// a fixed length so that lookups need no bounds checks and the lane loop vectorises.
    pub(crate) points: Box<[[f64; 2]; TABLE_N + 1]>,
}

/// Tables kept per process, most recent last: a table depends on beta alone, and a process
/// that solves many batches (a Dask worker running chunk after chunk) sees few betas.
pub(crate) static TABLES: Mutex<Vec<(u64, Arc<StartTable>)>> = Mutex::new(Vec::new());
pub(crate) const TABLES_KEPT: usize = 8;

impl StartTable {
    /// The table for `beta`, built on first use (~1 ms) and shared afterwards.
    pub(crate) fn cached(beta: f64) -> Arc<StartTable> {
        let key = beta.to_bits();
        // A poisoned lock only means another thread panicked mid-update; the cache is a
        // plain list of finished tables, so its contents are still sound.
        let mut tables = TABLES.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pos) = tables.iter().position(|(k, _)| *k == key) {
            let hit = tables.remove(pos);
            let table = Arc::clone(&hit.1);
            tables.push(hit);
            return table;
        }
        drop(tables);
        let table = Arc::new(StartTable::new(beta));
        let mut tables = TABLES.lock().unwrap_or_else(|e| e.into_inner());
        if tables.len() >= TABLES_KEPT {
            tables.remove(0);
        }
        tables.push((key, Arc::clone(&table)));
        table
    }

    pub(crate) fn new(beta: f64) -> Self {
        let logs = LawLogs {
            ln_p: 0.0,
            ln_qp0: 0.0,
            ln_r: 0.0,
            ln_nc: 0.0,
            beta,
            inv_alpha: 1.0,
        };
        let opts = Options {
            tol: 1e-15,
            ..Options::default()
        };
        let step = 2.0 * TABLE_K / TABLE_N as f64;
        let mut points = Box::new([[0.0; 2]; TABLE_N + 1]);
        for (j, point) in points.iter_mut().enumerate() {
            let k = -TABLE_K + j as f64 * step;
            let r = Reduced {
                logs,
                ln_gap: 0.0,
                ln_qp: 0.0,
                k,
                demand: true,
            };
            let (root, _, _) = halley(&r, &opts, false);
            *point = [root, 1.0 / r.residual(root).1];
        }
        StartTable { points }
    }

    /// Interpolated root at `k`, or `fallback` outside the grid.
    #[inline(always)]
    pub(crate) fn start(&self, k: f64, fallback: f64) -> f64 {
        let step = 2.0 * TABLE_K / TABLE_N as f64;
        let u = (k + TABLE_K) / step;
        let inside = u >= 0.0 && u < TABLE_N as f64;
        // `min` changes nothing (inside, u < TABLE_N) but proves j + 1 in bounds.
        let j = if inside {
            (u as usize).min(TABLE_N - 1)
        } else {
            0
        };
        let t = u - j as f64;
        let (t2, mt) = (t * t, 1.0 - t);
        let h00 = (1.0 + 2.0 * t) * mt * mt;
        let h10 = t * mt * mt;
        let h01 = t2 * (3.0 - 2.0 * t);
        let h11 = t2 * (t - 1.0);
        let ([s0, d0], [s1, d1]) = (self.points[j], self.points[j + 1]);
        let v = h00 * s0 + h10 * step * d0 + h01 * s1 + h11 * step * d1;
        if inside {
            v
        } else {
            fallback
        }
    }
}
