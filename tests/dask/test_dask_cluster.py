"""scaleplan.dask on a real `dask.distributed.LocalCluster`: worker processes on loopback.

Every test is bounded in time (pytest-timeout); the cluster is shared by the module and
its workers run one thread each, like the benchmark's.
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
from distributed import Client, LocalCluster

import scaleplan as sp
import scaleplan.dask as spd
from scaleplan.fitting.datasets import chinchilla_runs
from scaleplan.fitting.fit import chinchilla_grid

# The clusters' worker processes and the wall-clock bounds: on one xdist worker, never
# two clusters at once (tests/conftest.py), with the Dask page's examples.
pytestmark = [pytest.mark.timeout(180), pytest.mark.xdist_group("dask_cluster")]


def cluster(**kwargs):
    return LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",  # a free port on the loopback host: no clash with 8787
        **kwargs,
    )


@pytest.fixture(scope="module")
def client():
    with cluster() as c, Client(c) as cl:
        yield cl


def test_workers_run_this_scaleplan(client):
    versions = spd.check_workers(client)
    assert len(versions) == 2 and set(versions.values()) == {sp.__version__}


def test_kernels_on_the_cluster_equal_the_in_memory_calls(client):
    n = 400_000  # above the start-table threshold: chunks must take the whole's rule
    loss = np.random.default_rng(7).uniform(1.75, 3.5, n)
    x = da.from_array(loss, chunks=60_000)
    lazy = spd.compute_optimal(x, 1e12).compute()
    eager = sp.compute_optimal(loss, 1e12)
    assert np.array_equal(lazy.params, eager.params) and np.array_equal(lazy.tokens, eager.tokens)
    assert np.array_equal(lazy.iterations, eager.iterations)
    cost = spd.cost_optimal(x, 1e10, 120.0, 80.0).compute()
    assert np.array_equal(cost.params, sp.cost_optimal(loss, 1e10, 120.0, 80.0).params)
    d_model = np.arange(64.0, 16384.0, 64.0)
    counts = spd.step_counts(
        {"d_model": da.from_array(d_model, chunks=50), "n_layers": 24, "n_heads": 16}
    ).compute()
    ref = sp.steptime.step_counts({"d_model": d_model, "n_layers": 24, "n_heads": 16})
    assert np.array_equal(counts.flops, ref.flops)


def test_a_bad_row_fails_on_the_cluster_with_the_local_valueerror(client):
    loss = np.random.default_rng(8).uniform(1.75, 3.5, 100_000)
    loss[71_234] = -2.0
    with pytest.raises(ValueError) as local:
        sp.compute_optimal(loss, 1e12)
    with pytest.raises(ValueError) as remote:
        spd.compute_optimal(da.from_array(loss, chunks=20_000), 1e12).params.compute()
    assert str(remote.value) == (
        f"in chunk (3,) (elements [60000:80000] of (100000,)): {local.value}"
    )


def test_fits_on_the_cluster_equal_the_local_fits(client):
    runs = chinchilla_runs()
    starts = chinchilla_grid()[::75]
    local = sp.fit_law(runs, starts=starts)
    remote = spd.fit_law(runs, starts=starts, client=client)
    assert np.array_equal(remote.theta, local.theta) and remote.objective == local.objective
    kwargs = dict(n_resamples=60, seed=11, starts=starts)
    b_local = sp.bootstrap_law(runs, **kwargs)
    b_remote = spd.bootstrap_law(runs, client=client, **kwargs)
    for c in ("E", "A", "B", "alpha", "beta"):
        assert np.array_equal(getattr(b_remote.laws, c), getattr(b_local.laws, c)), c
    assert b_remote.standard_errors == b_local.standard_errors
    other = sp.bootstrap_law(runs, n_resamples=60, seed=12, starts=starts)
    assert not np.array_equal(other.laws.E, b_local.laws.E)  # the seed does matter


def test_fit_helpers_refuse_an_executor_and_need_a_client():
    runs = chinchilla_runs()
    # The client is the executor: the signature has no executor (a TypeError at the call).
    with pytest.raises(TypeError, match="unexpected keyword argument 'executor'"):
        spd.fit_law(runs, executor=object())
    with pytest.raises(TypeError, match="unexpected keyword argument 'executor'"):
        spd.bootstrap_law(runs, executor=object())
    with pytest.raises(ValueError, match="client must be a dask.distributed.Client"):
        spd.bootstrap_law(runs, client="tcp://127.0.0.1:1")


def _peak_rss_bytes() -> int:
    # VmHWM, the high-water mark of this address space. Not getrusage's ru_maxrss: Linux
    # carries that across exec, so a spawned worker would report the parent's peak.
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _rss_bytes() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


@pytest.mark.timeout(300)
def test_a_sweep_larger_than_the_workers_memory_finishes_with_bounded_memory(tmp_path):
    limit = 320 * 2**20  # per worker; the nanny kills a worker that passes 95% of it
    loss, demand = np.linspace(1.8, 3.2, 1500), np.logspace(6, 14, 10_000)  # 15M scenarios
    # dask.array imports xarray whenever it is installed (the test extra installs it for
    # to_xarray), which adds ~70 MiB to every worker that touches dask.array; a sweep never
    # uses it. A preload hides it from these workers, so what is measured is the sweep on
    # the base install (README, "Scale out on Dask", states both numbers).
    hide = tmp_path / "hide_xarray.py"
    hide.write_text("import sys\n\nsys.modules.setdefault('xarray', None)\n")
    with cluster(memory_limit=limit, preload=[str(hide)]) as c, Client(c) as cl:
        before = cl.run(_rss_bytes)
        result = spd.sweep(tmp_path / "big.zarr", loss=loss, inference_tokens=demand)
        peaks = cl.run(_peak_rss_bytes)
        workers_alive = len(cl.scheduler_info()["workers"])
    out_bytes = sum(result.n_scenarios * np.dtype(dt).itemsize for _, dt in spd.OUTPUTS["compute"])
    assert out_bytes > 2 * limit  # the results alone would not fit in the workers' memory
    assert workers_alive == 2 and set(peaks) == set(before)  # nobody was killed and replaced
    assert max(peaks.values()) < 0.8 * limit, {w: p / 2**20 for w, p in peaks.items()}
    print("peak worker RSS MiB:", sorted(round(p / 2**20) for p in peaks.values()))
    rows = np.random.default_rng(0).integers(0, 1500, 4)
    params = result.array("params")[rows].compute()
    # These 40,000 rows alone would start from the bound; the 15M-row sweep used the table.
    eager = sp.compute_optimal(loss[rows, None], demand[None, :], start="table")
    assert np.array_equal(params, eager.params)


def test_a_worker_on_another_version_is_refused(client, monkeypatch, tmp_path):
    import scaleplan.dask.fits as fits

    monkeypatch.setattr(fits, "__version__", "0.0.0-other")
    with pytest.raises(RuntimeError, match=r"runs scaleplan .*, this process 0.0.0-other"):
        spd.check_workers(client)
    # The sweep checks the active client before writing anything.
    with pytest.raises(RuntimeError, match="install the same version on every worker"):
        spd.sweep(tmp_path / "x.zarr", loss=2.0, inference_tokens=1e9)
    assert not (tmp_path / "x.zarr").exists()
    with pytest.raises(RuntimeError, match="install the same version"):
        spd.bootstrap_law(chinchilla_runs(), n_resamples=2, client=client)


def test_a_sweep_reports_progress_on_a_cluster_and_writes_the_same(client, tmp_path):
    calls = []
    loss, demand = np.linspace(1.9, 2.6, 40), np.logspace(8, 13, 50)
    r = spd.sweep(
        tmp_path / "p.zarr",
        loss=loss,
        requests=demand,
        chunk_rows=200,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(k, 10) for k in range(1, 11)]
    whole = sp.cost_optimal(loss[:, None], demand)
    np.testing.assert_array_equal(r.array("params").compute(), whole.params)
