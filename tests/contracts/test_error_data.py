"""Errors as data: `ScaleplanError` (a ValueError) carries the argument and the row, from
Rust and from the facade alike, through pickling and through Dask's chunks."""

from __future__ import annotations

import pickle

import dask.array as da
import numpy as np
import pytest

import scaleplan as sp
import scaleplan.dask as spd


def caught(call):
    with pytest.raises(sp.ScaleplanError) as info:
        call()
    assert isinstance(info.value, ValueError)
    return info.value


def test_rust_errors_carry_argument_and_row():
    e = caught(lambda: sp.compute_optimal([2.0, 2.1, 2.2, 1.5], 1e9))
    assert (e.argument, e.index) == ("loss", 3)
    assert str(e).endswith("got 1.5 at index 3")
    e = caught(lambda: sp.compute_optimal(2.0, 1e9, method="newtn"))
    assert (e.argument, e.index) == ("method", None)
    e = caught(lambda: sp.best_quality(np.array([1e23, 1e10]), 1e12))
    assert (e.argument, e.index) == ("flop_budget", 1)


def test_facade_errors_carry_the_argument():
    assert caught(lambda: sp.cost_optimal(2.0, 1e9, costs="h100")).argument == "costs"
    assert caught(lambda: sp.compute_optimal("2.0", 1e9)).argument == "loss"
    assert caught(lambda: sp.compute_optimal(2.0, 1e9, tol=2.0)).argument == "tol"
    e = caught(lambda: sp.lifetime_cost(np.array([1e9, 1e300]), 1e12, requests=1.0))
    assert e.index == 1


def test_errors_survive_pickling():
    e = caught(lambda: sp.compute_optimal([2.0, 1.5], 1e9))
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is sp.ScaleplanError
    assert (str(back), back.argument, back.index) == (str(e), "loss", 1)


def test_dask_reindexes_the_row_as_a_number():
    loss = np.full(100, 2.0)
    loss[71] = 1.5
    e = caught(lambda: spd.compute_optimal(da.from_array(loss, chunks=20), 1e9).compute())
    assert (e.argument, e.index) == ("loss", 71)
    assert str(e).startswith("in chunk (3,)") and str(e).endswith("at index 71")


def test_every_layer_raises_the_same_class():
    from scaleplan.dask import sweep

    assert caught(lambda: sp.fit_law([1e9] * 6, [1e10] * 6, [2.0] * 6, starts="x")).argument == (
        "starts"
    )
    assert caught(lambda: sp.CostModel(train_gpu="tpu-v9")).argument == "train_gpu"
    assert caught(lambda: sp.datasets.chinchilla_runs(drop_highest=-1)).argument == "drop_highest"
    assert caught(lambda: sweep("x.csv", loss=2.0, inference_tokens=1e9)).argument == "path"
