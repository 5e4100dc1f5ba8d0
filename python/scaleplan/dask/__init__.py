"""scaleplan on Dask: lazy chunked kernels, distributed fits and out-of-core sweeps.

Needs the `[dask]` extra (`pip install 'scaleplan[dask]'`). Everything here runs on Dask's
current scheduler; to use a cluster, create a `dask.distributed.Client` for it first (the
scheduler's address is the only thing that changes between a laptop and a real cluster).
"""

from __future__ import annotations

try:
    import dask.array  # noqa: F401
    import distributed  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        f"scaleplan.dask needs Dask ({exc}); install it with: pip install 'scaleplan[dask]'"
    ) from None

from ._lazy import start_rule
from .arrays import LazyChinchillaModel, LazyLifetimeOptimum, chinchilla_optimal, compute_optimal
from .costs import LazyCostOptimum, cost_optimal
from .fits import bootstrap_law, check_workers, fit_law
from .steptime import LazyBudgetResult, LazyStepCounts, loss_in_budget, step_counts, step_time
from .sweeps import DEFAULT_CHUNK_ROWS, OUTPUTS, SweepResult, open_sweep, sweep

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "OUTPUTS",
    "LazyBudgetResult",
    "LazyChinchillaModel",
    "LazyCostOptimum",
    "LazyLifetimeOptimum",
    "LazyStepCounts",
    "SweepResult",
    "bootstrap_law",
    "check_workers",
    "chinchilla_optimal",
    "compute_optimal",
    "cost_optimal",
    "fit_law",
    "loss_in_budget",
    "open_sweep",
    "start_rule",
    "step_counts",
    "step_time",
    "sweep",
]
