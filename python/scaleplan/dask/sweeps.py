"""Sweeps over the product of scenario axes, written chunk by chunk to Zarr or Parquet.

A sweep of 10^9 scenarios (losses x demands x prompt/answer lengths x law samples x cost
models) never exists in memory: each task builds its block of the product from the axes,
solves it with the in-memory kernel and writes it, so the memory a worker needs is set by
`chunk_rows`, not by the sweep.

Layout. The dimensions are, outermost first: `costs` (one `CostModel` per entry; a chunk
never spans two), `law` (the entries of a law whose coefficients are 1-D arrays, such as
bootstrap samples), then `loss`, the demand (`inference_tokens` or `requests`),
`input_tokens` and `output_tokens`; only the arguments given as 1-D arrays become axes,
scalars stay fixed. Zarr holds one N-D array per output, the axes as coordinate arrays
and the settings in the group's attributes (`dimension_names` are set, so xarray opens it).
Parquet holds one row per scenario with its axis values (axis indices for `law` and
`costs`) and the outputs; the settings are in `_scaleplan.json` beside the part files.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dask.array as da

from .._utils.frames import Record
from .._utils.progress import Progress
from ..errors import ScaleplanError
from ..laws.scaling import CHINCHILLA, ScalingLaw, resolve_law
from ..optimal.costs import DEFAULT_INPUT_TOKENS, DEFAULT_OUTPUT_TOKENS, CostModel
from ..optimal.solver import DEFAULT_MAX_ITER, DEFAULT_TOL, solver_options
from ._lazy import start_rule
from ._sweep_files import (
    Execution,
    check_path,
    check_resumable,
    format_of,
    read_settings,
    sweep_settings,
    write_parquet,
    write_zarr,
)
from ._sweep_grid import OUTPUTS, axes_and_fixed, chunk_sizes, costs_axis, sweep_grid
from .fits import check_workers, current_client

__all__ = ["DEFAULT_CHUNK_ROWS", "OUTPUTS", "SweepResult", "open_sweep", "sweep"]

# 2^18 scenarios per task: ~15 ms of solving, ~40 MB of working memory, and a Dask
# overhead of about 1 ms per task (see benches/test_bench_dask.py).
DEFAULT_CHUNK_ROWS = 1 << 18


@dataclass(frozen=True, repr=False)
class SweepResult(Record):
    """A sweep on disk: where, its dimensions and settings, and how long it took; what
    `sweep` and `open_sweep` return.

    Parameters
    ----------
    path : str
        The Zarr store or Parquet folder.
    format : {"zarr", "parquet"}
        How it is stored.
    kind : {"compute", "cost"}
        A FLOP sweep (`compute_optimal`) or a dollar sweep (`cost_optimal`).
    dims : tuple of str
        The swept axes, outermost first.
    shape : tuple of int
        Their lengths.
    settings : dict
        Axes, fixed values, law, cost models and solver options, as stored.
    seconds : float, optional
        Wall time of the `sweep` call, in seconds (NaN from `open_sweep`).

    Examples
    --------
    >>> import os, shutil, tempfile
    >>> import numpy as np
    >>> folder = tempfile.mkdtemp()
    >>> result = sweep(os.path.join(folder, "plans.zarr"), loss=np.linspace(1.9, 2.5, 4),
    ...                inference_tokens=np.array([1e11, 1e13, 1e15]), scheduler="synchronous")
    >>> result.dims, result.shape, result.n_scenarios
    (('loss', 'inference_tokens'), (4, 3), 12)
    >>> shutil.rmtree(folder)
    """

    path: str
    format: str
    kind: str
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    settings: dict[str, Any]
    seconds: float = math.nan

    @property
    def n_scenarios(self) -> int:
        """Scenarios in the sweep: the product of `shape`."""
        return math.prod(self.shape)

    @property
    def outputs(self) -> tuple[str, ...]:
        """The outputs stored per scenario (`params`, `tokens`, ... for the `kind`)."""
        return tuple(name for name, _ in OUTPUTS[self.kind])

    def array(self, name: str) -> da.Array:
        """One output or axis of a Zarr sweep as a (lazy) Dask array.

        Parameters
        ----------
        name : str
            An output (`outputs`) or a swept axis (`dims`).

        Returns
        -------
        dask.array.Array
            In the sweep's `shape` for an output; 1-D for an axis.

        Raises
        ------
        ScaleplanError
            If the sweep is Parquet or `name` is neither an output nor an axis.
        """
        if self.format != "zarr":
            raise ScaleplanError("array() reads Zarr sweeps; use frame() for Parquet")
        if name not in self.outputs and name not in self.settings["axes"]:
            raise ScaleplanError(
                f"name must be one of {', '.join(self.outputs + tuple(self.settings['axes']))}; "
                f"got {name!r}",
                "name",
            )
        return da.from_zarr(self.path, component=name)

    def frame(self) -> Any:
        """A Parquet sweep as a (lazy) Dask DataFrame: one row per scenario, its axis values
        and outputs.

        Returns
        -------
        dask.dataframe.DataFrame

        Raises
        ------
        ScaleplanError
            If the sweep is Zarr.
        """
        if self.format != "parquet":
            raise ScaleplanError("frame() reads Parquet sweeps; use array() for Zarr")
        import dask.dataframe as dd

        return dd.read_parquet(self.path)


def sweep(
    path: str | os.PathLike[str],
    *,
    loss: Any,
    inference_tokens: Any = None,
    requests: Any = None,
    input_tokens: Any = DEFAULT_INPUT_TOKENS,
    output_tokens: Any = DEFAULT_OUTPUT_TOKENS,
    law: ScalingLaw | str = CHINCHILLA,
    costs: CostModel | Sequence[CostModel] | None = None,
    format: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    method: str = "newton",
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    on_invalid: str = "raise",
    overwrite: bool = False,
    resume: bool = False,
    progress: Progress | None = None,
    **compute_kwargs: Any,
) -> SweepResult:
    """Solve every combination of the given axes and write the results to `path`.

    Give `inference_tokens` for a FLOP sweep (`compute_optimal`) or `requests` for a dollar
    sweep (`cost_optimal`, where `input_tokens`, `output_tokens` and `costs` may also be
    swept). Each of those arguments and `loss` is a number (fixed) or a 1-D array (an
    axis); `law` may carry 1-D coefficient arrays (an axis of laws); `costs` may be a
    list of `CostModel`s (an axis). `format` is "zarr" or "parquet" (default: from the
    suffix of `path`). Work runs on Dask's current scheduler (a distributed `Client` if one
    is active, after `check_workers` on it); `compute_kwargs` go to `dask.compute`.

    With `on_invalid="raise"` a bad scenario stops the sweep with a ValueError naming its
    chunk; "nan" writes NaN for it and goes on.

    `overwrite=True` replaces an existing sweep (and refuses to delete anything scaleplan
    did not write). `resume=True` finishes an interrupted sweep at `path` written with the
    same settings: only the chunks not yet written are computed. `progress(finished,
    total)`, if given, is called as each chunk is written, on a local scheduler or a
    distributed client (total: the chunks this call computes).

    Parameters
    ----------
    path : str or os.PathLike
        Where to write: a Zarr store or a Parquet folder.
    loss : float or array_like
        The target loss, in nats/token: a number or a 1-D axis.
    inference_tokens : float or array_like, optional
        Lifetime inference tokens (a FLOP sweep).
    requests : float or array_like, optional
        Lifetime requests (a dollar sweep).
    input_tokens, output_tokens : float or array_like, optional
        Prompt and generated tokens per request (dollar sweeps).
    law : ScalingLaw or str, optional
        The loss law; 1-D coefficient arrays make it an axis (default Chinchilla's).
    costs : CostModel or sequence of CostModel, optional
        Hardware, prices and MFUs (dollar sweeps); a list is an axis.
    format : {"zarr", "parquet"}, optional
        Default: from the suffix of `path`.
    chunk_rows : int, optional
        Scenarios per task (default 2^18: about 40 MB of working memory).
    method, tol, max_iter, on_invalid
        As `scaleplan.compute_optimal`.
    overwrite, resume : bool, optional
        Replace a sweep scaleplan wrote at `path`, or finish an interrupted one.
    progress : callable, optional
        Called as `progress(finished, total)` as each chunk is written.
    **compute_kwargs
        Passed to `dask.compute` (`scheduler="synchronous"`).

    Returns
    -------
    SweepResult

    Raises
    ------
    ScaleplanError
        If not exactly one of `inference_tokens` and `requests` is given, an option or axis
        is bad, `path` exists without `overwrite` or `resume`, or (with "raise") a
        scenario has no answer.

    Examples
    --------
    Four losses by three demands, written to Zarr and read back lazily:

    >>> import os, shutil, tempfile
    >>> import numpy as np
    >>> folder = tempfile.mkdtemp()
    >>> result = sweep(os.path.join(folder, "plans.zarr"), loss=np.linspace(1.9, 2.5, 4),
    ...                inference_tokens=np.array([1e11, 1e13, 1e15]), scheduler="synchronous")
    >>> result.outputs[:4]
    ('params', 'tokens', 'iterations', 'converged')
    >>> params = result.array("params").compute()
    >>> [f"{n:.3g}" for n in params[0]]  # at loss 1.9, for each demand
    ['6.13e+10', '3.56e+10', '1.24e+10']
    >>> shutil.rmtree(folder)
    """
    t0 = time.perf_counter()
    path = os.fspath(path)
    fmt = format_of(path, format)
    kind = _kind(inference_tokens, requests, costs, input_tokens, output_tokens, chunk_rows)
    check_path(path, overwrite, resume)
    law = resolve_law(law)
    tol, max_iter, on_invalid = solver_options(method, tol, max_iter, on_invalid)
    models = costs_axis(costs)
    values: dict[str, Any] = {"loss": loss}
    if kind == "compute":
        values["inference_tokens"] = inference_tokens
    else:
        values.update(requests=requests, input_tokens=input_tokens, output_tokens=output_tokens)
    axes, fixed = axes_and_fixed(kind, values, law, models)
    dims = tuple(axes)
    shape = tuple(len(a) for a in axes.values())
    chunk = chunk_sizes(shape, chunk_rows, 1 if "costs" in axes else 0)
    options = dict(
        method=method,
        tol=tol,
        max_iter=max_iter,
        on_invalid=on_invalid,
        start=start_rule("auto", law, math.prod(shape)),
    )
    settings = sweep_settings(kind, dims, axes, fixed, law, models, options)
    static = {"kind": kind, "models": models, "options": options}
    grid = sweep_grid(dims, axes, fixed, law, chunk, static)
    _write(path, fmt, grid, chunk, settings, resume, _execution(compute_kwargs, progress))
    return SweepResult(path, fmt, kind, dims, shape, settings, time.perf_counter() - t0)


def _kind(
    inference_tokens: Any,
    requests: Any,
    costs: Any,
    input_tokens: Any,
    output_tokens: Any,
    chunk_rows: Any,
) -> str:
    """ "compute" (a FLOP sweep) or "cost" (a dollar sweep), the arguments checked."""
    if (inference_tokens is None) == (requests is None):
        raise ScaleplanError(
            "sweep needs exactly one of inference_tokens (FLOPs) or requests (dollars)"
        )
    kind = "compute" if inference_tokens is not None else "cost"
    if kind == "compute" and (
        costs is not None
        or input_tokens is not DEFAULT_INPUT_TOKENS
        or output_tokens is not DEFAULT_OUTPUT_TOKENS
    ):
        raise ScaleplanError("costs, input_tokens and output_tokens belong to a requests sweep")
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ScaleplanError(
            f"chunk_rows must be an integer >= 1; got {chunk_rows!r}", "chunk_rows"
        )
    return kind


def _execution(compute_kwargs: dict[str, Any], progress: Progress | None) -> Execution:
    """The active distributed client, if any (its workers checked), else Dask's scheduler."""
    client = current_client() if "scheduler" not in compute_kwargs else None
    if client is not None:
        check_workers(client)  # a worker on another version would write other numbers
    return Execution(compute_kwargs, client, progress)


def _write(
    path: str,
    fmt: str,
    grid: Any,
    chunk: tuple[int, ...],
    settings: dict[str, Any],
    resume: bool,
    execution: Execution,
) -> None:
    """Writes (or, resuming, finishes) the sweep, then marks `settings` complete."""
    resuming = resume and os.path.exists(path)
    if resuming:
        check_resumable(path, fmt, settings)
    elif os.path.exists(path):
        shutil.rmtree(path)  # overwrite=True, and check_path said scaleplan wrote it
    if fmt == "zarr":
        write_zarr(path, grid, chunk, settings, resuming, execution)
    else:
        write_parquet(path, grid, settings, resuming, execution)
    settings["complete"] = True


def open_sweep(path: str | os.PathLike[str]) -> SweepResult:
    """A sweep written by `sweep`, from its settings on disk.

    Parameters
    ----------
    path : str or os.PathLike
        The Zarr store or Parquet folder `sweep` wrote.

    Returns
    -------
    SweepResult
        `seconds` is NaN (not stored).

    Raises
    ------
    ScaleplanError
        If `path` holds no sweep that scaleplan wrote.

    Examples
    --------
    >>> import os, shutil, tempfile
    >>> import numpy as np
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "plans.parquet")
    >>> _ = sweep(path, loss=np.array([2.0, 2.2]), requests=np.array([1e9, 1e10]),
    ...           scheduler="synchronous")
    >>> result = open_sweep(path)
    >>> result.kind, result.dims, result.format
    ('cost', ('loss', 'requests'), 'parquet')
    >>> frame = result.frame().compute()
    >>> [f"${d:,.0f}" for d in frame["total_dollars"]]
    ['$558,979', '$1,830,849', '$51,369', '$248,190']
    >>> shutil.rmtree(folder)
    """
    path = os.fspath(path)
    fmt, settings = read_settings(path)
    return SweepResult(
        path, fmt, settings["kind"], tuple(settings["dims"]), tuple(settings["shape"]), settings
    )
