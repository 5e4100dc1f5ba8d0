"""pandas and xarray inputs in, labelled outputs out.

Every vectorised entry point is wrapped in `labelled`. A call whose arguments are all
plain numbers and NumPy arrays passes straight through (the check reads each argument's
type's module name, so neither pandas nor xarray is imported). Otherwise the labelled
inputs are aligned, handed to the function as NumPy arrays, and every array field of
the result in the inputs' broadcast shape comes back labelled:

- xarray: the DataArrays are broadcast by dimension name (`xarray.broadcast`, so a
  `loss` along `loss` and a demand along `demand` make a 2-D grid, and coordinates are
  aligned by xarray's own outer join); each output is a DataArray with those dims and
  coords and a `units` attribute (`UNITS`). Any other array argument must be 0-d: a
  plain array has no dimension names to broadcast by, and matching it by position is
  what made two 1-D inputs zip as if they shared one axis.
- pandas: the Series must share one index (the same labels; another order is
  reindexed to the first's), otherwise an error naming the argument: pandas' own
  outer join would add rows of NaN that the solver then refuses as bad inputs. A plain
  array beside them must be 0-d or have the Series' length (matched by position, as
  pandas does). Each output is a Series with that index, named after its field.

pandas and xarray inputs together are an error: convert one (`Series.to_xarray()`).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from typing import Any, TypeVar, overload

import numpy as np

from ..errors import ScaleplanError

__all__ = ["UNITS", "labelled", "units_of"]

F = TypeVar("F", bound=Callable[..., Any])

_LABELLED = ("pandas", "xarray")

# The unit of each result field and input, by name (docs/developer/layout.md's table).
# A name not here is dimensionless ("1"): ratios, fractions, counts of steps.
_BY_UNIT = {
    "nats/token": "loss loss_floor",
    "count": "params smaller_params params_opt extra_params max_params requests batch_size "
    "max_batch_size tensor_parallel iterations",
    "tokens": "tokens inference_tokens effective_demand unique_tokens effective_tokens "
    "chinchilla_tokens input_tokens output_tokens context_tokens prompt_tokens tokens_opt "
    "demand",
    "FLOP": "flops compute training_flops inference_flops total_flops prefill_flops "
    "decode_flops flop_budget",
    "USD": "training_dollars inference_dollars prefill_dollars decode_dollars serving_dollars "
    "total_dollars dollars dollar_budget dollars_per_request premium",
    "GPU-hours": "training_gpu_hours prefill_gpu_hours decode_gpu_hours",
    "s": "seconds comm_seconds target_seconds collective_seconds",
    "tokens/s": "tokens_per_second",
    "tokens/param": "tokens_per_param",
    "bytes": "bytes",
}
UNITS: dict[str, str] = {name: unit for unit, names in _BY_UNIT.items() for name in names.split()}


def units_of(name: str) -> str:
    """The `units` attribute of a field or input called `name` ("1": dimensionless)."""
    return UNITS.get(name, "1")


def _kind(value: Any) -> str | None:
    """ "xarray" for a DataArray, "pandas" for a Series, else None, without importing
    either: the module of the value's type says which (as `frames.py` does)."""
    module = type(value).__module__.partition(".")[0]
    if module == "xarray" and type(value).__name__ == "DataArray":
        return "xarray"
    if module == "pandas" and type(value).__name__ == "Series":
        return "pandas"
    return None


@overload
def labelled(fn: F, *, output: str = ...) -> F: ...
@overload
def labelled(fn: None = None, *, output: str = ...) -> Callable[[F], F]: ...
def labelled(fn: F | None = None, *, output: str = "value") -> Any:
    """`fn` taking pandas Series and xarray DataArrays as well as NumPy arrays, and
    returning its array fields labelled like its inputs (see the module docstring).
    `output` names a result that is one array (`ScalingLaw.loss`: "loss")."""
    if fn is None:
        return functools.partial(labelled, output=output)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # The NumPy path, first and cheap (a scalar call is a few microseconds): a float
        # is never labelled, another value only by its type's module (or, for a dict of
        # shape fields, its values').
        for v in (*args, *kwargs.values()):
            if type(v) is not float and _suspect(v):
                break
        else:
            return fn(*args, **kwargs)
        return _call(fn, output, args, kwargs)

    wrapper.__labelled__ = True  # type: ignore[attr-defined]

    return wrapper  # type: ignore[return-value]


def _suspect(value: Any) -> bool:
    if type(value) is dict:
        return any(type(v).__module__.startswith(_LABELLED) for v in value.values())
    return type(value).__module__.startswith(_LABELLED)


def _call(fn: Callable[..., Any], output: str, args: tuple[Any, ...],
          kwargs: dict[str, Any]) -> Any:  # fmt: skip
    """`fn(*args, **kwargs)` with its labelled inputs aligned and its outputs labelled."""
    names = _names(fn, args)
    named = dict(zip(names, args, strict=True))
    named.update(kwargs)
    # A grid of shape fields (`decode({"d_model": ..., "n_layers": ...})`): its arrays are
    # inputs like any other, by the names `shape.d_model`, ... (in place: dims come in
    # the order of the arguments).
    grids = {n: list(v) for n, v in named.items() if type(v) is dict}
    named = {m: x for n, v in named.items()
             for m, x in [(n, v), *((f"{n}.{k}", v[k]) for k in grids.get(n, ()))]}  # fmt: skip
    found = {n: k for n, v in named.items() if (k := _kind(v))}
    if not found:  # a module of that name, but no Series or DataArray
        return fn(*args, **kwargs)
    if len(set(found.values())) > 1:
        raise ScaleplanError(
            "inputs mix pandas Series and xarray DataArrays: convert one kind "
            "(Series.to_xarray(), DataArray.to_series())",
            next(iter(found)),
        )
    plain, label = (_xarray if "xarray" in found.values() else _pandas)(named, found)
    for n, keys in grids.items():
        plain[n] = {k: plain.pop(f"{n}.{k}") for k in keys}
    values = [plain.pop(n) for n in names]
    return label(fn(*values, **plain), output=output)


@functools.cache
def _positional(fn: Callable[..., Any]) -> tuple[str, ...]:
    import inspect

    params = inspect.signature(fn).parameters.values()
    return tuple(p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


def _names(fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[str, ...]:
    """The parameter names of `args` as `fn` binds them (past its named ones: `arg<k>`)."""
    names = _positional(fn)[: len(args)]
    return names + tuple(f"arg{k}" for k in range(len(names), len(args)))


def _xarray(named: dict[str, Any], found: dict[str, str]) -> tuple[dict[str, Any], Callable]:
    xr = importlib.import_module("xarray")
    arrays = xr.broadcast(*(named[n] for n in found))
    dims = arrays[0].dims
    plain = dict(named)
    for n, a in zip(found, arrays, strict=True):
        plain[n] = a.transpose(*dims).data
    _only_scalars_beside(named, found, "xarray DataArrays (which broadcast by dimension "
                        "name): give it as a DataArray with named dims, or a scalar")  # fmt: skip
    coords = arrays[0].coords
    shape = tuple(arrays[0].sizes[d] for d in dims)

    def label(value: np.ndarray, name: str) -> Any:
        return xr.DataArray(value, dims=dims, coords=coords, name=name,
                            attrs={"units": units_of(name)})  # fmt: skip

    return plain, functools.partial(_relabel, shape=shape, label=label)


def _pandas(named: dict[str, Any], found: dict[str, str]) -> tuple[dict[str, Any], Callable]:
    first = next(iter(found))
    index = named[first].index
    plain = dict(named)
    for n in found:
        s = named[n]
        if not s.index.equals(index):
            if len(s.index) != len(index) or not s.index.sort_values().equals(index.sort_values()):
                raise ScaleplanError(
                    f"{n} has another index than {first}: align them first "
                    f"({n}, {first} = {n}.align({first}, join='inner'))",
                    n,
                )
            s = s.reindex(index)
        plain[n] = s.to_numpy()
    for n, v in named.items():
        if n not in found and _is_array(v) and np.shape(v) not in ((), (len(index),)):
            raise ScaleplanError(
                f"{n} has shape {np.shape(v)} beside pandas Series of length {len(index)}: "
                "give it as a Series on the same index, a scalar, or an array of that length",
                n,
            )
    pd = importlib.import_module("pandas")

    def label(value: np.ndarray, name: str) -> Any:
        return pd.Series(value, index=index, name=name)

    return plain, functools.partial(_relabel, shape=(len(index),), label=label)


def _is_array(value: Any) -> bool:
    return isinstance(value, (np.ndarray, list, tuple))


def _only_scalars_beside(named: dict[str, Any], found: dict[str, str], why: str) -> None:
    for n, v in named.items():
        if n not in found and _is_array(v) and np.ndim(v) > 0:
            raise ScaleplanError(f"{n} is a plain array of shape {np.shape(v)} beside {why}", n)


def _relabel(result: Any, *, shape: tuple[int, ...], label: Callable, output: str) -> Any:
    """`result` with every array in `shape` labelled: the result itself if it is one
    array, else each field of a result dataclass (a copy, of `_labelled_class`, whose
    derived outputs are labelled too; the result is frozen)."""
    if isinstance(result, np.ndarray):
        return label(result, output) if result.shape == shape else result
    if not is_dataclass(result) or isinstance(result, type):
        return result
    out = _copy(result)
    for f in fields(result):
        value = getattr(result, f.name)
        if isinstance(value, np.ndarray) and value.shape == shape and shape != ():
            object.__setattr__(out, f.name, label(np.asarray(value), f.name))
    return out


@functools.cache
def _labelled_class(cls: type) -> type:
    """`cls` with each property that returns a DataArray or Series named after itself and
    given its own units: xarray arithmetic keeps the first operand's attributes, so
    `training_dollars + serving_dollars` would otherwise say "count" if a field did."""
    getters = {}
    for klass in reversed(cls.__mro__):
        for n, v in vars(klass).items():
            if isinstance(v, property) and v.fget is not None:
                getters[n] = v.fget
            elif isinstance(v, functools.cached_property):
                getters[n] = v.func
    space: dict[str, Any] = {n: property(_named(g, n), doc=g.__doc__)
                             for n, g in getters.items()}  # fmt: skip
    space.update(__module__=cls.__module__, __qualname__=cls.__qualname__,
                 __doc__=cls.__doc__, _labelled=True)  # fmt: skip
    return type(cls.__name__, (cls,), space)


def _named(fget: Callable[[Any], Any], name: str) -> Callable[[Any], Any]:
    def get(self: Any) -> Any:
        value = fget(self)
        kind = _kind(value)
        if is_dataclass(value) and not getattr(value, "_labelled", False):
            return _adopted(value)  # a result made from labelled fields (a breakdown)
        if kind == "xarray":
            return value.rename(name).assign_attrs(units=units_of(name))
        return value.rename(name) if kind == "pandas" else value

    return get


def _adopted(result: Any) -> Any:
    """`result`, of the labelled class if any field of it is labelled."""
    if not any(_kind(getattr(result, f.name)) for f in fields(result)):
        return result
    return _copy(result)


def _copy(result: Any) -> Any:
    """A shallow copy of `result` of its labelled class."""
    cls: type = type(result)
    out: Any = object.__new__(_labelled_class(cls))
    out.__dict__.update(result.__dict__)
    return out
