"""Multi-start fits and bootstraps on a `dask.distributed` cluster.

`scaleplan.fit_law` and `scaleplan.bootstrap_law` already take any
`concurrent.futures.Executor`; a distributed `Client` provides one. These wrappers find the
client, check that its workers run the same scaleplan as this process (a worker with
another version would fit another objective, silently), and pass the executor on. The
starts and resamples are fixed before any task is sent (from `seed`), so the cluster
changes where the work runs, never the answer.
"""

from __future__ import annotations

from typing import Any

from .._core import __version__
from ..errors import ScaleplanError
from ..fitting.bootstrap import BootstrapResult
from ..fitting.bootstrap import bootstrap_law as _bootstrap_law
from ..fitting.fit import FitResult
from ..fitting.fit import fit_law as _fit_law

__all__ = ["bootstrap_law", "check_workers", "fit_law"]


def _worker_version() -> str:
    # Runs on a worker: unpickling it there imports this module, and so scaleplan.
    return __version__


def _client(client: Any) -> Any:
    from distributed import Client, get_client

    if client is None:
        try:
            return get_client()
        except ValueError:
            raise ScaleplanError(
                "no dask.distributed client: pass client=, or create one first "
                "(Client(LocalCluster()) or Client('tcp://scheduler:8786'))"
            ) from None
    if not isinstance(client, Client):
        raise ScaleplanError(f"client must be a dask.distributed.Client; got {client!r}", "client")
    return client


def current_client() -> Any:
    """The default `dask.distributed` client, or None when Dask would run locally."""
    from distributed import default_client

    try:
        return default_client()
    except ValueError:
        return None


def check_workers(client: Any = None) -> dict[str, str]:
    """The scaleplan version of every worker of `client` (default: the current client).

    Raises RuntimeError if there are no workers, or if a worker cannot import scaleplan
    or runs another version than this process.
    """
    client = _client(client)
    try:
        versions: dict[str, str] = client.run(_worker_version)
    except ImportError as exc:
        raise RuntimeError(f"a worker cannot import scaleplan: {exc}") from None
    if not versions:
        raise RuntimeError("the cluster has no workers")
    other = {w: v for w, v in versions.items() if v != __version__}
    if other:
        w, v = next(iter(other.items()))
        raise RuntimeError(
            f"worker {w} runs scaleplan {v}, this process {__version__}: install the same "
            f"version on every worker"
        )
    return versions


def fit_law(*args: Any, client: Any = None, **kwargs: Any) -> FitResult:
    """`scaleplan.fit_law` with its L-BFGS-B starts spread over a distributed cluster.

    Arguments as `scaleplan.fit_law` (except `executor`); `client` defaults to the current
    `dask.distributed` client.
    """
    if "executor" in kwargs:
        raise ScaleplanError("pass client=, not executor=, to scaleplan.dask.fit_law")
    client = _client(client)
    check_workers(client)
    return _fit_law(*args, executor=client.get_executor(pure=False), **kwargs)


def bootstrap_law(*args: Any, client: Any = None, **kwargs: Any) -> BootstrapResult:
    """`scaleplan.bootstrap_law` with its fits spread over a distributed cluster; for the
    same `seed` the result equals the in-process one exactly."""
    if "executor" in kwargs:
        raise ScaleplanError("pass client=, not executor=, to scaleplan.dask.bootstrap_law")
    client = _client(client)
    check_workers(client)
    return _bootstrap_law(*args, executor=client.get_executor(pure=False), **kwargs)
