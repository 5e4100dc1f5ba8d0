"""scaleplan.dask: throughput with 1 and 2 workers, and what a chunk costs beyond its solve.

All on this machine's 2 cores, loopback only. Workers run one thread each and the Rust
kernel inside them runs serially (RAYON_NUM_THREADS=1), so a worker is one core and the
1-vs-2 ratio measures Dask's scaling, not the kernel's own threads. The baseline for the
overheads is the same solve in this process on one thread.

Where the time goes, measured separately:
- `dask_1w_reduce`: workers solve and keep the results (only sums come back): scheduling;
- `dask_1w_gather`: the results come back to this process: scheduling + transfer;
- `dask_1w_small_chunks`: the same rows in 16x more chunks: the per-chunk cost;
- `dask_sync_16`: no cluster, Dask's synchronous scheduler: the wrapper's own cost;
- `dask_one_row`: one row, lazily: the fixed cost of a call (graph, ordering, compute).
"""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest
from distributed import Client, LocalCluster

import scaleplan as sp
import scaleplan.dask as spd
from scaleplan import _core

N = 1 << 22  # 4.2M scenarios
CHUNK = 1 << 18  # the sweep default: 16 chunks
SMALL_CHUNK = 1 << 14  # 256 chunks
COEFFS = tuple(np.array([v]) for v in sp.CHINCHILLA.coefficients)


def lazy_loss(chunks=CHUNK):
    # Generated where it is used (on the workers), not shipped inside the graph.
    return (1.69 + 10 ** da.random.default_rng(3).uniform(-3, 0.5, N, chunks=CHUNK)).rechunk(chunks)


@pytest.fixture(scope="module")
def loss():
    return lazy_loss().compute(scheduler="sync")


def cluster(workers):
    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
        env={"RAYON_NUM_THREADS": "1"},
    )


def solve_inprocess_serial(loss):
    # What one chunk's kernel does, for all rows at once, on one thread.
    return _core.compute_optimal(
        loss,
        np.array([1e12]),
        COEFFS,
        parallel=False,
        start=spd.start_rule("auto", sp.CHINCHILLA, N),
    )


def reduce_on_workers(x):
    r = spd.compute_optimal(x, 1e12)
    return dask.compute(r.params.sum(), r.tokens.sum(), r.iterations.sum(), r.converged.sum())


def gather(x):
    return spd.compute_optimal(x, 1e12).compute()


def test_inprocess_one_thread(record, loss):
    out = record("dask_inproc_serial", solve_inprocess_serial, loss)
    assert np.isfinite(out[0]).all()


@pytest.mark.parametrize("workers", [1, 2])
def test_workers_reduce(record, loss, workers):
    with cluster(workers) as c, Client(c):
        x = lazy_loss().persist()  # data already on the workers
        sums = record(f"dask_{workers}w_reduce", reduce_on_workers, x)
    assert sums[3] == N


@pytest.mark.parametrize("workers", [1, 2])
def test_workers_sweep_to_zarr(record, tmp_path, workers):
    # The end-to-end job: 2048 losses x 2048 demands (4.2M scenarios, 16 chunks), each
    # chunk solved, its 8 outputs computed and written to Zarr by one task.
    loss, demand = np.linspace(1.8, 3.2, 2048), np.logspace(6, 14, 2048)
    runs = iter(range(1000))

    def run():
        return spd.sweep(tmp_path / f"s{next(runs)}.zarr", loss=loss, inference_tokens=demand)

    with cluster(workers) as c, Client(c):
        result = record(f"dask_{workers}w_sweep", run)
    assert result.n_scenarios == N


def test_inprocess_sweep_one_thread(record, tmp_path):
    # The same sweep's solving and output arithmetic without Dask or Zarr, on one thread.
    loss, demand = np.linspace(1.8, 3.2, 2048), np.logspace(6, 14, 2048)
    from scaleplan.dask._sweep_grid import _sweep_kernel

    options = dict(method="newton", tol=1e-13, max_iter=100, on_invalid="raise", start="table")
    static = dict(kind="compute", models=[sp.CostModel()], options=options)

    def run():
        coeffs = dict(
            zip(("E", "A", "B", "alpha", "beta"), sp.CHINCHILLA.coefficients, strict=True)
        )
        return _sweep_kernel(
            **static, loss=loss[:, None], inference_tokens=demand[None, :], **coeffs
        )

    record("dask_sweep_inproc", run)


def test_one_worker_gather(record, loss):
    with cluster(1) as c, Client(c):
        x = lazy_loss().persist()
        got = record("dask_1w_gather", gather, x)
    assert np.array_equal(got.params, sp.compute_optimal(loss, 1e12).params)


def test_one_worker_small_chunks(record, loss):
    with cluster(1) as c, Client(c):
        x = lazy_loss(SMALL_CHUNK).persist()
        sums = record("dask_1w_small_chunks", reduce_on_workers, x)
    assert sums[3] == N


def test_sync_scheduler_16_chunks(record, loss):
    # The wrapper alone (graph, ordering, the chunk adapter, the record array), no
    # cluster: the same 16 chunks in this process, against one in-process call.
    x = da.from_array(loss, chunks=CHUNK)

    def run():
        r = spd.compute_optimal(x, 1e12)
        return dask.compute(r.params, r.tokens, r.iterations, r.converged, scheduler="sync")

    got = record("dask_sync_16", run)
    assert np.array_equal(got[0], sp.compute_optimal(loss, 1e12).params)


def test_inprocess(record, loss):
    record("dask_inproc", sp.compute_optimal, loss, 1e12)


def test_one_row_lazy(record):
    x = da.from_array(np.array([2.0]), chunks=1)
    record("dask_one_row", lambda: spd.compute_optimal(x, 1e12).compute(scheduler="sync"))


def test_one_row_inprocess(record):
    x = np.array([2.0])
    record("dask_one_row_inproc", sp.compute_optimal, x, 1e12)
