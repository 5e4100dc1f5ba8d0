"""pandas and xarray in, labelled out, at every vectorised entry point (`entries.py`):
a Series keeps its index, DataArrays on two dims make the outer grid by dimension name
(never zipped by position), and every labelled output carries `units`."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from entries import ENTRIES

from scaleplan._utils.labels import UNITS, units_of
from scaleplan.errors import ScaleplanError

pd = pytest.importorskip("pandas")
xr = pytest.importorskip("xarray")

# The arguments of each labelled entry point that broadcast (the others are options).
ARRAY_ARGUMENTS = {
    "ScalingLaw.loss": ("params", "tokens"),
    "chinchilla_optimal(params)": ("params",),
    "compute_optimal": ("loss", "inference_tokens"),
    "compute_optimal(unique)": ("loss", "inference_tokens"),
    "cost_optimal": ("loss", "requests"),
    "cost_optimal(unique)": ("loss", "requests"),
    "best_quality": ("flop_budget", "inference_tokens"),
    "best_quality(dollars)": ("dollar_budget", "requests"),
    "best_quality(unique)": ("flop_budget", "inference_tokens"),
    "lifetime_cost": ("params", "tokens"),
    "breakeven_requests": ("params", "tokens"),
    "implied_demand": ("params", "tokens"),
    "DataConstrainedLaw.loss": ("params", "tokens"),
    "training_optimal": ("flops", "unique_tokens"),
    "physical_optimal": ("loss", "requests"),
    "decode": ("batch_size", "context_tokens"),
    "prefill": ("prompt_tokens", "batch_size"),
}
LABELLED = [e for e in ENTRIES if e.name in ARRAY_ARGUMENTS]


def _is_labelled(fn):
    return getattr(fn, "__labelled__", False)


def test_the_list_is_every_labelled_entry_point():
    """Every entry point taking pandas and xarray is tested here, and only those."""
    # step_counts takes arrays only inside a grid of shape fields: tested below.
    wrapped = {e.name for e in ENTRIES if _is_labelled(e.fn)} - {"step_counts"}
    named_chinchilla = {n for n in wrapped if n.startswith("chinchilla_optimal")}
    assert wrapped - named_chinchilla == set(ARRAY_ARGUMENTS) - {"chinchilla_optimal(params)"}
    assert "chinchilla_optimal(params)" in wrapped


def _values(base, steps):
    """`steps` values near `base`: whole numbers stay whole (batch sizes, prompts)."""
    if isinstance(base, (int, np.integer)):
        return np.array([base + k for k in range(steps)])
    return base * (1.0 + 0.02 * np.arange(steps))


def _arrays(result):
    """(name, value) of each field of `result` that is an array (or the result itself)."""
    if not dataclasses.is_dataclass(result):
        return [("value", result)]
    kinds = (np.ndarray, pd.Series, xr.DataArray)
    return [(f.name, getattr(result, f.name)) for f in dataclasses.fields(result)
            if isinstance(getattr(result, f.name), kinds)]  # fmt: skip


def _call(entry, **changes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return entry.fn(**{**entry.base, **changes})


@pytest.mark.parametrize("entry", LABELLED, ids=lambda e: e.name)
def test_a_series_keeps_its_index(entry):
    first = ARRAY_ARGUMENTS[entry.name][0]
    values = _values(entry.base[first], 3)
    index = pd.Index(["a", "b", "c"], name="scenario")
    got = _call(entry, **{first: pd.Series(values, index=index)})
    want = _call(entry, **{first: values})
    arrays = dict(_arrays(got))
    assert arrays, "no array output"
    for name, plain in _arrays(want):
        out = arrays[name]
        assert isinstance(out, pd.Series) and out.index.equals(index), name
        np.testing.assert_array_equal(out.to_numpy(), plain)


@pytest.mark.parametrize("entry", [e for e in LABELLED if len(ARRAY_ARGUMENTS[e.name]) == 2],
                         ids=lambda e: e.name)  # fmt: skip
def test_dataarrays_on_two_dims_make_the_outer_grid_with_units(entry):
    a, b = ARRAY_ARGUMENTS[entry.name]
    va, vb = _values(entry.base[a], 2), _values(entry.base[b], 3)
    got = _call(entry, **{a: xr.DataArray(va, dims="x", coords={"x": ["p", "q"]}),
                          b: xr.DataArray(vb, dims="y", coords={"y": [10, 20, 30]})})  # fmt: skip
    want = _call(entry, **{a: va[:, None], b: vb[None, :]})
    arrays = dict(_arrays(got))
    for name, plain in _arrays(want):
        out = arrays[name]
        assert isinstance(out, xr.DataArray) and out.dims == ("x", "y"), name
        assert list(out["x"].values) == ["p", "q"] and list(out["y"].values) == [10, 20, 30]
        # lifetime_cost echoes its inputs unbroadcast: compare in the grid's shape.
        np.testing.assert_array_equal(out.values, np.broadcast_to(plain, out.shape))
        assert out.attrs["units"] == units_of(str(out.name)), name


def test_units_are_the_glossarys():
    r = xr.DataArray([2.2, 2.3], dims="loss")
    import scaleplan as sp

    got = sp.cost_optimal(r, xr.DataArray([1e9, 1e10], dims="requests"))
    assert got.params.attrs["units"] == "count" and got.tokens.attrs["units"] == "tokens"
    assert (
        got.breakdown.total_dollars.attrs["units"] == "USD"
        and got.loss.attrs["units"] == "nats/token"
    )
    assert UNITS["training_flops"] == "FLOP"


def test_named_dims_broadcast_never_zip():
    """Two 1-D DataArrays of the same length on different dims were zipped as one axis."""
    import scaleplan as sp

    loss = xr.DataArray([2.2, 2.3], dims="loss")
    demand = xr.DataArray([1e9, 1e10], dims="demand")
    got = sp.compute_optimal(loss, demand)
    assert got.params.dims == ("loss", "demand") and got.params.shape == (2, 2)
    np.testing.assert_array_equal(
        got.params.values, sp.compute_optimal([[2.2], [2.3]], [1e9, 1e10]).params
    )
    # On one shared dim they pair up, and coordinates align by label (xarray's rule).
    a = xr.DataArray([2.2, 2.3], dims="s", coords={"s": [1, 2]})
    b = xr.DataArray([1e10, 1e9], dims="s", coords={"s": [2, 1]})
    paired = sp.compute_optimal(a, b)
    assert paired.params.dims == ("s",)
    np.testing.assert_array_equal(paired.params.values,
                                  sp.compute_optimal([2.2, 2.3], [1e9, 1e10]).params)  # fmt: skip


def test_plain_arrays_beside_labelled_ones():
    import scaleplan as sp

    loss = xr.DataArray([2.2, 2.3], dims="loss")
    with pytest.raises(ScaleplanError, match="inference_tokens is a plain array") as err:
        sp.compute_optimal(loss, [1e9, 1e10])
    assert err.value.argument == "inference_tokens"
    assert sp.compute_optimal(loss, 1e9).params.dims == ("loss",)  # a scalar is fine
    s = pd.Series([2.2, 2.3], index=["a", "b"])
    by_position = sp.compute_optimal(s, np.array([1e9, 1e10]))
    assert list(by_position.params.index) == ["a", "b"]
    with pytest.raises(ScaleplanError, match="inference_tokens has shape") as err:
        sp.compute_optimal(s, [1e9, 1e10, 1e11])
    assert err.value.argument == "inference_tokens"


def test_series_align_on_one_index_or_fail_naming_the_argument():
    import scaleplan as sp

    loss = pd.Series([2.2, 2.3], index=["a", "b"])
    shuffled = pd.Series([1e10, 1e9], index=["b", "a"])
    got = sp.compute_optimal(loss, shuffled)
    assert list(got.params.index) == ["a", "b"]
    np.testing.assert_array_equal(got.params, sp.compute_optimal([2.2, 2.3], [1e9, 1e10]).params)
    other = pd.Series([1e9, 1e10], index=["a", "c"])
    with pytest.raises(ScaleplanError, match="inference_tokens has another index") as err:
        sp.compute_optimal(loss, other)
    assert err.value.argument == "inference_tokens"
    with pytest.raises(ScaleplanError, match="mix pandas"):
        sp.compute_optimal(loss, xr.DataArray([1e9, 1e10], dims="d"))


def test_numpy_calls_import_neither():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, scaleplan as sp; sp.compute_optimal(np.array([2.2]), 1e9);"
        "sp.cost_optimal(2.2, [1e9]); print('pandas' in sys.modules, 'xarray' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_derived_outputs_have_their_own_units():
    import scaleplan as sp

    got = sp.cost_optimal(xr.DataArray([2.2, 2.3], dims="loss"), xr.DataArray([1e9], dims="r"))
    total = got.breakdown.total_dollars
    assert total.attrs["units"] == "USD" and total.name == "total_dollars"
    assert got.saving.attrs["units"] == "1"
    flops = sp.compute_optimal(pd.Series([2.2, 2.3]), 1e9).training_flops
    assert flops.name == "training_flops" and isinstance(flops, pd.Series)
    assert type(got).__name__ == "CostOptimum" and isinstance(got, sp.CostOptimum)


def test_a_grid_of_shape_fields_broadcasts_by_name():
    """A mapping of shape fields to DataArrays (`step_counts`, `decode`) is labelled like
    any other input: its fields broadcast with the other arguments by dimension name."""
    import scaleplan as sp
    from scaleplan.systems import serving

    width = xr.DataArray([1024.0, 2048.0], dims="width", coords={"width": [1024, 2048]})
    depth = xr.DataArray([8.0, 16.0, 24.0], dims="depth")
    grid = {"d_model": width, "n_layers": depth, "n_heads": 16.0}
    plain = {"d_model": width.values[:, None], "n_layers": depth.values[None, :], "n_heads": 16.0}
    counts = sp.step_counts(grid)
    assert counts.params.dims == ("width", "depth") and counts.params.attrs["units"] == "count"
    np.testing.assert_array_equal(counts.params.values, sp.step_counts(plain).params)
    batch = xr.DataArray([1, 8], dims="batch")
    step = serving.decode(grid, batch_size=batch, context_tokens=512)
    assert step.seconds.dims == ("width", "depth", "batch") and step.seconds.attrs["units"] == "s"
    want = serving.decode({k: np.asarray(v)[..., None] for k, v in plain.items()},
                          batch_size=batch.values, context_tokens=512)  # fmt: skip
    np.testing.assert_array_equal(step.seconds.values, want.seconds)
    assert list(step.seconds["width"].values) == [1024, 2048]
