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
from .._utils.progress import Progress
from ..errors import ScaleplanError
from ..fitting._lbfgsb import SCIPY_TOLERANCES
from ..fitting.bootstrap import BootstrapResult
from ..fitting.bootstrap import bootstrap_law as _bootstrap_law
from ..fitting.fit import DEFAULT_DELTA, DEFAULT_POLISH, FitResult
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

    A worker on another version would fit another objective, silently; `fit_law`,
    `bootstrap_law` and `sweep` call this before sending work.

    Parameters
    ----------
    client : dask.distributed.Client, optional
        The cluster (default: the current client).

    Returns
    -------
    dict of str to str
        Worker address to scaleplan version (all equal to this process's).

    Raises
    ------
    ScaleplanError
        If there is no client, or `client` is not a `dask.distributed.Client`.
    RuntimeError
        If there are no workers, or a worker cannot import scaleplan or runs another
        version than this process.

    Examples
    --------
    Starting even an in-process cluster takes seconds, so this is not run here:

    >>> import scaleplan
    >>> from distributed import Client
    >>> client = Client(processes=False, dashboard_address=None)  # doctest: +SKIP
    >>> versions = check_workers(client)  # doctest: +SKIP
    >>> set(versions.values()) == {scaleplan.__version__}  # doctest: +SKIP
    True
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


def fit_law(
    params: Any,
    tokens: Any = None,
    loss: Any = None,
    *,
    client: Any = None,
    params_col: str = "params",
    tokens_col: str = "tokens",
    loss_col: str = "loss",
    delta: float = DEFAULT_DELTA,
    starts: Any = "chinchilla",
    objective: str = "sum",
    ftol: float = SCIPY_TOLERANCES[0],
    gtol: float = SCIPY_TOLERANCES[1],
    polish: int = DEFAULT_POLISH,
    progress: Progress | None = None,
) -> FitResult:
    """`scaleplan.fit_law` with its L-BFGS-B starts spread over a distributed cluster (the
    client's executor; there is no `executor=`).

    `client` defaults to the current `dask.distributed` client. The answer is the
    in-process one: the cluster changes where the starts run, not which.

    Parameters
    ----------
    params, tokens, loss
        The runs: arrays of parameters (count), training tokens (tokens) and final
        losses (nats/token), or one table in `params` (see `scaleplan.fit_law`).
    client : distributed.Client or None
        The cluster (None: the current `dask.distributed` client).
    params_col, tokens_col, loss_col, delta, starts, objective, ftol, gtol, polish, progress
        As `scaleplan.fit_law` (`delta`: the Huber threshold, in log-loss).

    Returns
    -------
    FitResult
        The fit `scaleplan.fit_law` returns for the same arguments: the starts are fixed
        before any task is sent.

    Raises
    ------
    ScaleplanError
        If there is no client or `fit_law` refuses its input.
    RuntimeError
        If a worker runs another scaleplan (`check_workers`).
    FitError
        As `scaleplan.fit_law`.

    Examples
    --------
    Starting even an in-process cluster takes seconds, so this is not run here:

    >>> from distributed import Client
    >>> from scaleplan.fitting.datasets import chinchilla_runs
    >>> from scaleplan.fitting.fit import chinchilla_grid
    >>> client = Client(processes=False, dashboard_address=None)  # doctest: +SKIP
    >>> fit = fit_law(chinchilla_runs(), starts=chinchilla_grid()[::500],
    ...               client=client)  # doctest: +SKIP
    >>> print(f"{fit.n_starts} starts: E={fit.law.E:.4f} "
    ...       f"alpha={fit.law.alpha:.4f}")  # doctest: +SKIP
    9 starts: E=1.8172 alpha=0.3473
    """
    client = _client(client)
    check_workers(client)
    return _fit_law(params, tokens, loss, params_col=params_col, tokens_col=tokens_col,
                    loss_col=loss_col, delta=delta, starts=starts,
                    executor=client.get_executor(pure=False), objective=objective, ftol=ftol,
                    gtol=gtol, polish=polish, progress=progress)  # fmt: skip


def bootstrap_law(
    params: Any,
    tokens: Any = None,
    loss: Any = None,
    *,
    client: Any = None,
    n_resamples: int = 1000,
    seed: int | None = None,
    confidence: float = 0.95,
    params_col: str = "params",
    tokens_col: str = "tokens",
    loss_col: str = "loss",
    delta: float = DEFAULT_DELTA,
    starts: Any = "chinchilla",
    resample_starts: Any = None,
    progress: Progress | None = None,
) -> BootstrapResult:
    """`scaleplan.bootstrap_law` with its fits spread over a distributed cluster; for the
    same `seed` the result equals the in-process one exactly.

    Parameters
    ----------
    params, tokens, loss
        The runs, as `fit_law` takes them.
    client : distributed.Client or None
        The cluster (None: the current `dask.distributed` client).
    n_resamples, seed, confidence, params_col, tokens_col, loss_col, delta, starts,
    resample_starts, progress
        As `scaleplan.bootstrap_law`.

    Returns
    -------
    BootstrapResult
        Equal to `scaleplan.bootstrap_law`'s for the same `seed`.

    Raises
    ------
    ScaleplanError
        If there is no client or `bootstrap_law` refuses its input.
    RuntimeError
        If a worker runs another scaleplan (`check_workers`).
    FitError
        As `scaleplan.bootstrap_law`.

    Examples
    --------
    Starting even an in-process cluster takes seconds, so this is not run here:

    >>> import numpy as np
    >>> from distributed import Client
    >>> from scaleplan.fitting.datasets import chinchilla_runs
    >>> client = Client(processes=False, dashboard_address=None)  # doctest: +SKIP
    >>> boot = bootstrap_law(chinchilla_runs(), n_resamples=8, seed=0,
    ...                      starts=np.array([[6.0, 7.0, 0.5, 0.34, 0.34]]),
    ...                      client=client)  # doctest: +SKIP
    >>> boot.n_resamples, boot.n_failed  # doctest: +SKIP
    (8, 0)
    """
    client = _client(client)
    check_workers(client)
    return _bootstrap_law(params, tokens, loss, n_resamples=n_resamples, seed=seed,
                          confidence=confidence, params_col=params_col,
                          tokens_col=tokens_col, loss_col=loss_col, delta=delta,
                          starts=starts, resample_starts=resample_starts,
                          executor=client.get_executor(pure=False),
                          progress=progress)  # fmt: skip
