"""scaleplan.dask sweeps on Dask's local schedulers: chunk sizes, Zarr and Parquet round
trips, bad scenarios, argument errors, overwrite safety, resuming a killed sweep and
progress. The lazy kernels are in test_dask.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import dask
import numpy as np
import pytest

import scaleplan as sp
import scaleplan.dask as spd
from scaleplan.dask._sweep_grid import chunk_sizes as _chunk_sizes

OPTIMUM_FIELDS = ("params", "tokens", "iterations", "converged")


def same(a, b):
    """Bit-for-bit equality (NaN equal to NaN), with equal shapes and dtypes."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    return np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


def losses(n, seed=0):
    return np.random.default_rng(seed).uniform(1.75, 3.5, n)


@pytest.fixture(autouse=True)
def synchronous():
    # One thread, in order: errors and call counts are deterministic.
    with dask.config.set(scheduler="sync"):
        yield


def test_chunk_sizes_fill_rows_from_the_inside():
    assert _chunk_sizes((10, 20, 30), 600, 0) == (1, 20, 30)
    assert _chunk_sizes((10, 20, 30), 100, 0) == (1, 3, 30)
    assert _chunk_sizes((10, 20, 30), 10**6, 0) == (10, 20, 30)
    assert _chunk_sizes((3, 20, 30), 10**6, 1) == (1, 20, 30)  # never across cost models
    assert _chunk_sizes((10, 20, 30), 7, 0) == (1, 1, 7)


@pytest.mark.parametrize("fmt", ["zarr", "parquet"])
def test_a_flop_sweep_round_trips_and_equals_the_in_memory_grid(tmp_path, fmt):
    loss, demand = np.linspace(1.8, 3.0, 37), np.logspace(6, 14, 41)
    path = tmp_path / f"flops.{fmt}"
    result = spd.sweep(path, loss=loss, inference_tokens=demand, chunk_rows=300)
    assert result.format == fmt and result.dims == ("loss", "inference_tokens")
    assert result.shape == (37, 41) and result.n_scenarios == 37 * 41
    eager = sp.compute_optimal(loss[:, None], demand[None, :])
    expected = {
        "params": eager.params,
        "iterations": eager.iterations,
        "converged": eager.converged,
        "total_flops": eager.total_flops,
        "flop_saving": eager.flop_saving,
    }
    reopened = spd.open_sweep(path)
    assert reopened.shape == result.shape and reopened.kind == "compute"
    if fmt == "zarr":
        for name, want in expected.items():
            assert same(reopened.array(name).compute(), want), name
        assert same(reopened.array("loss").compute(), loss)
    else:
        frame = reopened.frame().compute().sort_values(["loss", "inference_tokens"])
        assert len(frame) == 37 * 41
        assert same(frame["inference_tokens"].to_numpy(), np.tile(demand, 37))
        for name, want in expected.items():
            assert same(frame[name].to_numpy(), want.ravel()), name


@pytest.mark.parametrize("fmt", ["zarr", "parquet"])
def test_a_cost_sweep_over_laws_and_cost_models(tmp_path, fmt):
    laws = sp.ScalingLaw(
        E=np.array([1.69, 1.75, 1.8]),
        A=406.4,
        B=np.array([410.7, 420.0, 400.0]),
        alpha=0.34,
        beta=0.28,
    )
    models = [sp.CostModel(), sp.CostModel(train_mfu=0.3), sp.CostModel(decode_mfu=0.05)]
    loss, requests, out = np.linspace(2.0, 2.6, 11), np.logspace(8, 12, 9), np.array([64.0, 512.0])
    result = spd.sweep(
        tmp_path / f"dollars.{fmt}",
        loss=loss,
        requests=requests,
        output_tokens=out,
        law=laws,
        costs=models,
        chunk_rows=50,
    )
    assert result.dims == ("costs", "law", "loss", "requests", "output_tokens")
    assert result.shape == (3, 3, 11, 9, 2)
    k, j = 2, 1  # one cost model, one law
    law = sp.ScalingLaw(1.75, 406.4, 420.0, 0.34, 0.28)
    eager = sp.cost_optimal(
        loss[:, None, None], requests[None, :, None], 70.0, out, costs=models[k], law=law
    )
    if fmt == "zarr":
        dollars = result.array("total_dollars").compute()[k, j]
        saving = result.array("saving").compute()[k, j]
    else:
        f = result.frame().compute()
        f = f[(f["costs"] == k) & (f["law"] == j)].sort_values(
            ["loss", "requests", "output_tokens"]
        )
        dollars = f["total_dollars"].to_numpy().reshape(11, 9, 2)
        saving = f["saving"].to_numpy().reshape(11, 9, 2)
    assert same(dollars, eager.total_dollars) and same(saving, eager.saving)
    assert result.settings["costs"][1]["train_mfu"] == 0.3


def test_a_sweep_with_a_bad_scenario_names_its_chunk_or_writes_nan(tmp_path):
    loss = np.array([2.0, 2.1, 1.5, 2.3])  # 1.5 < E
    demand = np.logspace(8, 12, 5)
    with pytest.raises(ValueError, match=r"^in chunk \(2, 0\) \(elements \[2:3, 0:5\]"):
        spd.sweep(tmp_path / "bad.zarr", loss=loss, inference_tokens=demand, chunk_rows=5)
    r = spd.sweep(
        tmp_path / "nan.zarr", loss=loss, inference_tokens=demand, chunk_rows=5, on_invalid="nan"
    )
    params = r.array("params").compute()
    assert np.isnan(params[2]).all() and np.isfinite(np.delete(params, 2, axis=0)).all()
    with pytest.raises(ValueError, match=r"^in chunk \(2, 0\)"):
        spd.sweep(tmp_path / "bad.parquet", loss=loss, inference_tokens=demand, chunk_rows=5)
    # What was written before the stop stays on disk, marked unfinished.
    for name in ("bad.zarr", "bad.parquet"):
        if (tmp_path / name).exists():
            with pytest.raises(ValueError, match="unfinished .* sweep"):
                spd.open_sweep(tmp_path / name)
    assert (tmp_path / "bad.zarr").exists()


def test_sweep_argument_errors(tmp_path):
    demand = np.logspace(8, 12, 5)
    cases = [
        (dict(loss=2.0), "exactly one of inference_tokens"),
        (dict(loss=2.0, inference_tokens=1.0, requests=1.0), "exactly one of inference_tokens"),
        (dict(loss=np.ones((2, 2)) * 2, inference_tokens=demand), "non-empty 1-D array"),
        (dict(loss=np.array([]), inference_tokens=demand), "non-empty 1-D array"),
        (dict(loss=2.0, inference_tokens=demand, costs=sp.CostModel()), "belong to a requests"),
        (dict(loss=2.0, requests=demand, costs=["a100"]), "costs must be a CostModel"),
        (dict(loss=2.0, requests=demand, format="csv"), "format must be zarr or parquet"),
        (dict(loss=2.0, requests=demand, path="x.csv"), "must end in .zarr or .parquet"),
        (dict(loss=2.0, inference_tokens=demand, chunk_rows=0), "chunk_rows must be"),
        (dict(loss=2.0, inference_tokens=demand, method="x"), "method must be one of"),
        (
            dict(
                loss=2.0,
                inference_tokens=demand,
                law=sp.ScalingLaw(np.ones((2, 2)) * 1.7, 406.4, 410.7, 0.34, 0.28),
            ),
            "swept law's coefficients",
        ),
    ]
    for kwargs, match in cases:
        path = tmp_path / kwargs.pop("path", "x.zarr")
        with pytest.raises(ValueError, match=match):
            spd.sweep(path, **kwargs)
    assert not (tmp_path / "x.zarr").exists()  # nothing written by a refused call
    spd.sweep(tmp_path / "y.zarr", loss=2.0, inference_tokens=demand)
    with pytest.raises(ValueError, match="exists; pass overwrite=True"):
        spd.sweep(tmp_path / "y.zarr", loss=2.0, inference_tokens=demand)
    again = spd.sweep(tmp_path / "y.zarr", loss=2.5, inference_tokens=demand, overwrite=True)
    assert again.settings["fixed"]["loss"] == 2.5
    with pytest.raises(ValueError, match="use frame\\(\\) for Parquet|reads Zarr"):
        spd.sweep(tmp_path / "z.parquet", loss=2.0, inference_tokens=demand).array("params")
    with pytest.raises(ValueError, match="name must be one of"):
        again.array("nope")
    with pytest.raises(ValueError, match="is not a sweep written by scaleplan"):
        spd.open_sweep(tmp_path / "missing.zarr")


def test_a_sweep_with_only_fixed_values_is_one_scenario(tmp_path):
    r = spd.sweep(tmp_path / "one.zarr", loss=2.0, inference_tokens=1e12)
    assert r.shape == () and r.dims == ()
    assert r.array("params").compute() == sp.compute_optimal(2.0, 1e12, start="bound").params
    assert re.match(r"^\d", str(r.n_scenarios))


def test_overwrite_never_deletes_what_scaleplan_did_not_write(tmp_path):
    demand = np.logspace(8, 12, 5)
    mine = tmp_path / "notes.zarr"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    for kwargs in (dict(overwrite=True), dict(resume=True)):
        with pytest.raises(ValueError, match="is not a sweep written by scaleplan: refusing"):
            spd.sweep(mine, loss=2.0, inference_tokens=demand, **kwargs)
    assert (mine / "thesis.tex").read_text() == "years of work"
    with pytest.raises(ValueError, match="at most one of overwrite and resume"):
        spd.sweep(
            tmp_path / "a.zarr", loss=2.0, inference_tokens=demand, overwrite=True, resume=True
        )


_KILLABLE_SWEEP = """
import sys, numpy as np, dask
import scaleplan.dask as spd
dask.config.set(scheduler="synchronous")
spd.sweep(sys.argv[1], loss=np.linspace(1.9, 2.6, 400), requests=np.logspace(8, 13, 2000),
          chunk_rows=4000, **({"resume": True} if len(sys.argv) > 2 else {}))
"""


@pytest.mark.parametrize("fmt", ["parquet", "zarr"])
def test_a_killed_sweep_resumes_to_the_same_answer(tmp_path, fmt):
    # SIGKILL midway (no cleanup runs), then resume: only the missing chunks are computed,
    # and the result equals an uninterrupted sweep. No torn part file keeps a final name.
    path = tmp_path / f"killed.{fmt}"
    proc = subprocess.Popen([sys.executable, "-c", _KILLABLE_SWEEP, str(path)])
    done = path / "_scaleplan_done"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if done.is_dir() and len(os.listdir(done)) >= 5:
            break
        time.sleep(0.005)
    proc.kill()
    proc.wait()
    finished_before = len(os.listdir(done))
    assert 5 <= finished_before < 200, "the sweep must have been killed midway"
    with pytest.raises(ValueError, match="unfinished .* sweep"):
        spd.open_sweep(path)
    subprocess.run([sys.executable, "-c", _KILLABLE_SWEEP, str(path), "resume"], check=True)
    assert len(os.listdir(done)) == 200
    resumed = spd.open_sweep(path)
    whole = sp.cost_optimal(np.linspace(1.9, 2.6, 400)[:, None], np.logspace(8, 13, 2000))
    if fmt == "zarr":
        np.testing.assert_array_equal(resumed.array("params").compute(), whole.params)
    else:
        frame = resumed.frame().compute().sort_values(["loss", "requests"])
        np.testing.assert_array_equal(frame["params"].to_numpy(), whole.params.ravel())
        assert not [f for f in os.listdir(path) if f.endswith(".tmp")]
    with pytest.raises(ValueError, match="other settings .*fixed"):
        spd.sweep(
            path,
            loss=np.linspace(1.9, 2.6, 400),
            requests=np.logspace(8, 13, 2000),
            input_tokens=71.0,
            chunk_rows=4000,
            resume=True,
        )


def test_a_sweep_reports_progress_on_a_local_scheduler(tmp_path):
    calls = []
    with dask.config.set(scheduler="synchronous"):
        spd.sweep(
            tmp_path / "p.parquet",
            loss=np.linspace(1.9, 2.6, 30),
            inference_tokens=np.logspace(8, 13, 40),
            chunk_rows=300,
            progress=lambda done, total: calls.append((done, total)),
        )
    chunks = len(os.listdir(tmp_path / "p.parquet" / "_scaleplan_done"))
    assert chunks > 1 and calls == [(k, chunks) for k in range(1, chunks + 1)]


def test_any_failure_to_reach_a_scheduler_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    # A loaded fresh-clone CI run got a bare AssertionError out of distributed's Client for
    # `--scheduler=5e-324` (an internal error, exit 1); whatever the connection raises is
    # the address's fault, and dask's configuration is put back.
    import dask
    import distributed

    from scaleplan.cli import main

    def refuse(*args, **kwargs):
        raise AssertionError

    before = dask.config.get("scheduler", None)
    monkeypatch.setattr(distributed, "Client", refuse)
    out = str(tmp_path / "s.zarr")
    code = main(["sweep", out, "--loss", "2.1", "--inference-tokens", "1e12",
                 "--scheduler", "5e-324"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.strip().splitlines() == [
        "scaleplan sweep: error: --scheduler: cannot reach 5e-324: AssertionError"
    ]
    assert dask.config.get("scheduler", None) == before
