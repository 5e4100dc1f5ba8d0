"""scaleplan: plan a language model for its whole life.

How many parameters and training tokens minimise training plus inference cost for the
quality and the demand you expect (Sardana et al. 2024, "Beyond Chinchilla-Optimal"),
on a Rust core that solves millions of scenarios per call.
"""

from ._core import __version__
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

__all__ = [
    "CHINCHILLA",
    "CHINCHILLA_ROUNDED",
    "EPOCH2024",
    "METHODS",
    "PRESETS",
    "SARDANA2024_ALL",
    "SARDANA2024_LE100",
    "SARDANA2024_LE250",
    "SARDANA2024_LE500",
    "ChinchillaModel",
    "LifetimeOptimum",
    "ScalingLaw",
    "__version__",
    "chinchilla_optimal",
    "compute_optimal",
]
