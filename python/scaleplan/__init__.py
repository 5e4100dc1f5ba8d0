"""scaleplan: plan a language model for its whole life.

How many parameters and training tokens minimise training plus inference cost for the
quality and the demand you expect (Sardana et al. 2024, "Beyond Chinchilla-Optimal"),
on a Rust core that solves millions of scenarios per call.
"""

import importlib
from typing import TYPE_CHECKING, Any

from . import serving
from ._core import __version__
from .budgets import BestQuality, best_quality
from .cost_model import CostModel
from .costs import CostOptimum, LifetimeCost, breakeven_requests, cost_optimal, lifetime_cost
from .data_constrained import (
    MUENNIGHOFF2023,
    ConstrainedOptimum,
    DataConstrainedLaw,
    training_optimal,
)
from .errors import ScaleplanError
from .hardware import ACCELERATORS, Accelerator, accelerator
from .implied import ImpliedDemand, implied_demand
from .law_family import LawFamily
from .laws import (
    CHINCHILLA,
    CHINCHILLA_ROUNDED,
    EPOCH2024,
    PRESETS,
    SARDANA2024_ALL,
    SARDANA2024_LE100,
    SARDANA2024_LE250,
    SARDANA2024_LE500,
    ChinchillaModel,
    ScalingLaw,
    chinchilla_optimal,
)
from .lifetime import METHODS, LifetimeOptimum, compute_optimal
from .physical_optimum import PhysicalOptimum, ServingCurve, physical_optimal, whole_gpu_plan
from .ratio_grids import RatioGrid, cost_ratio_grid, flop_ratio_grid
from .shapes import TransformerShape, step_counts

# Fitting pulls in SciPy; import it on first use so that `import scaleplan` stays quick.
# The table is what runs; the block under TYPE_CHECKING says the same to type checkers
# (tests/test_public_api.py holds the two equal).
_LAZY = {
    "BootstrapResult": "scaleplan.bootstrap",
    "FitError": "scaleplan.fit",
    "FitResult": "scaleplan.fit",
    "bootstrap_law": "scaleplan.bootstrap",
    "fit_law": "scaleplan.fit",
    "LikelihoodFit": "scaleplan.likelihood",
    "bootstrap_likelihood": "scaleplan.likelihood",
    "fit_likelihood": "scaleplan.likelihood",
    "test_law": "scaleplan.likelihood",
    "compare_families": "scaleplan.families",
    "bootstrap_losses": "scaleplan.downstream",
    "fit_downstream": "scaleplan.downstream",
    "sardana_downstream": "scaleplan.downstream",
    "isoflop_fit": "scaleplan.isoflop",
    "next_run": "scaleplan.nextrun",
}
if TYPE_CHECKING:
    from . import datasets
    from .bootstrap import BootstrapResult, bootstrap_law
    from .downstream import bootstrap_losses, fit_downstream, sardana_downstream
    from .families import compare_families
    from .fit import FitError, FitResult, fit_law
    from .isoflop import isoflop_fit
    from .likelihood import LikelihoodFit, bootstrap_likelihood, fit_likelihood, test_law
    from .nextrun import next_run


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "datasets":
        return importlib.import_module("scaleplan.datasets")
    raise AttributeError(f"module 'scaleplan' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names (`__all__`), loaded or not; nothing imported for internal use."""
    return sorted(__all__)


__all__ = [
    "ACCELERATORS",
    "CHINCHILLA",
    "CHINCHILLA_ROUNDED",
    "EPOCH2024",
    "METHODS",
    "MUENNIGHOFF2023",
    "PRESETS",
    "SARDANA2024_ALL",
    "SARDANA2024_LE100",
    "SARDANA2024_LE250",
    "SARDANA2024_LE500",
    "Accelerator",
    "BestQuality",
    "BootstrapResult",
    "ChinchillaModel",
    "ConstrainedOptimum",
    "CostModel",
    "CostOptimum",
    "DataConstrainedLaw",
    "FitError",
    "FitResult",
    "ImpliedDemand",
    "LawFamily",
    "LifetimeCost",
    "LifetimeOptimum",
    "LikelihoodFit",
    "PhysicalOptimum",
    "RatioGrid",
    "ScaleplanError",
    "ScalingLaw",
    "ServingCurve",
    "TransformerShape",
    "__version__",
    "accelerator",
    "best_quality",
    "bootstrap_law",
    "bootstrap_likelihood",
    "bootstrap_losses",
    "breakeven_requests",
    "chinchilla_optimal",
    "compare_families",
    "compute_optimal",
    "cost_optimal",
    "cost_ratio_grid",
    "datasets",
    "fit_downstream",
    "fit_law",
    "fit_likelihood",
    "flop_ratio_grid",
    "implied_demand",
    "isoflop_fit",
    "lifetime_cost",
    "next_run",
    "physical_optimal",
    "sardana_downstream",
    "serving",
    "step_counts",
    "test_law",
    "training_optimal",
    "whole_gpu_plan",
]
