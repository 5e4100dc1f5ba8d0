"""Every public result class, in one place, with how to get a small instance of it: the
contract tests (`test_result_classes.py`) check each prints short, converts to a table
and shows as HTML. Most come from the calls of `entries.py` (results nested in results
included); the rest are made here. `test_result_classes` walks the package so a new
result class must be added to one of these lists."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from entries import CURVE, ENTRIES, SHAPE

import scaleplan as sp

# Value objects: inputs a planner takes, not results (they need a short repr only).
VALUES = (
    "scaleplan.arch.shapes.TransformerShape",
    "scaleplan.hardware.accelerators.Accelerator",
    "scaleplan.hardware.cost_model.CostModel",
    "scaleplan.laws.data_constrained.DataConstrainedLaw",
    "scaleplan.laws.moe.JointMoELaw",
    "scaleplan.laws.fine_grained.FineGrainedMoELaw",
    "scaleplan.laws.precision.OuyangPenalty",
    "scaleplan.laws.precision.PTQPenalty",
    "scaleplan.laws.precision.TrainingPrecision",
    "scaleplan.laws.scaling.ScalingLaw",
    "scaleplan.systems.deployment.Deployment",
    "scaleplan.systems.speculation.Speculation",
    "scaleplan.systems.training.Training",
)
# Dask's lazy twins of results tested here: `compute()` gives the in-memory class.
LAZY = (
    "scaleplan.dask.steptime.LazyBudgetResult",
    "scaleplan.dask.arrays.LazyChinchillaModel",
    "scaleplan.dask.costs.LazyCostOptimum",
    "scaleplan.dask.arrays.LazyLifetimeOptimum",
    "scaleplan.dask.steptime.LazyStepCounts",
)


# Entry points too slow to call for an instance (their results are made in `_extra`).
SLOW = ("compare_families",)
PLAN: Any = None  # one `scaleplan.plan()`, made in `_extra`
ENTRY = {e.name: lambda e=e: e.fn(**e.base) for e in ENTRIES}


def _extra() -> list[Callable[[], Any]]:
    """Results no entry point of `entries.py` returns (or returns only nested)."""
    from scaleplan.dask.sweeps import SweepResult
    from scaleplan.fitting import families, family_comparison
    from scaleplan.fitting.datasets import chinchilla_runs
    from scaleplan.fitting.nextrun_simulation import Simulation
    from scaleplan.optimal.allocation import TRADEOFF_REGIMES, lifetime_split
    from scaleplan.paper import tables
    from scaleplan.systems import (
        engines,
        physical,
        published_errors,
        serving_fit,
        serving_published,
        speculation,
        steptime_fit,
    )

    runs = chinchilla_runs()
    global PLAN
    PLAN = sp.plan()
    counts = [sp.TransformerShape(d, n, 8) for d in (256, 512) for n in (2, 4)]
    return [
        lambda: SweepResult("s.zarr", "zarr", "compute_optimal", ("loss",), (3,), {"a": 1}, 1.0),
        lambda: TRADEOFF_REGIMES[0],
        lambda: sp.expert_optimal(2.3, 1e12, memory_bytes=4e9),
        lambda: sp.expert_plan(2.3, 1e9, experts=[1, 4]),
        lambda: sp.fine_grained_optimal(1e20),
        lambda: lifetime_split(sp.compute_optimal(2.0, 1e12)),
        lambda: physical.replicas([SHAPE], sp.Deployment(tensor_parallel=2)),
        lambda: speculation.speculative_decode(SHAPE, speculation.Speculation(), batch_size=4),
        lambda: serving_fit.measurements()[0],
        lambda: serving_published.published_rows()[0],
        lambda: published_errors.published_errors()[0],
        lambda: engines.ENGINES["trtllm-2025"],
        lambda: runs,
        lambda: tables.table_2()[0],
        lambda: tables.table_3()[0],
        lambda: tables.table_3_roofline(curve=CURVE)[0],
        lambda: Simulation(np.ones(3), np.ones(3), np.ones(3)),
        lambda: sp.physical_optimal(2.1, 1e9, curve=CURVE, unique_tokens=1e11),
        lambda: steptime_fit.fit_step_time(counts, [1.0, 1.5, 2.1, 3.2]),
        # compare_families takes minutes on a busy machine: its results, made directly.
        lambda: families.FamilyFit("gadre", np.ones(5), 0.1),
        lambda: family_comparison.HeldOut("gadre", 5, 0.01, 0.02, 0.03, 0.02, 0.03),
        lambda: ENTRY["isoflop_fit"]().profiles[0],
        lambda: PLAN,
        lambda: next(iter(PLAN.alternatives.values())),
    ]


def _nested(result: Any) -> list[Any]:
    """`result` and the results among its fields, depth first."""
    out = [result]
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        for f in dataclasses.fields(result):
            value = getattr(result, f.name)
            if hasattr(value, "_repr_html_") and hasattr(value, "to_pandas"):
                out += _nested(value)
    return out


def instances() -> dict[str, Any]:
    """One instance of every result class reached, by qualified class name."""
    found: dict[str, Any] = {}
    made = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        made += [call() for name, call in ENTRY.items() if name not in SLOW]
        made += [f() for f in _extra()]
    for result in made:
        for r in (x for item in (result if isinstance(result, list) else [result])
                  for x in _nested(item)):  # fmt: skip
            if hasattr(r, "to_pandas"):
                name = f"{type(r).__module__}.{type(r).__qualname__}"
                found.setdefault(name, r)
    return found
