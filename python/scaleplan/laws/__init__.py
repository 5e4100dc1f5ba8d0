"""Loss laws: the law families, their published constants, the law-family protocol the
optimisers dispatch through (`family`), and the FLOP convention every family states
(`flops`). A family is a value: `ScalingLaw` (`E + A N^-alpha + B D^-beta`, the base) and
`DataConstrainedLaw` (Muennighoff et al. 2023); mixture-of-experts and precision-aware
families join as modules here that call `family.register`."""

from .._moved import forward
from .data_constrained import MUENNIGHOFF2023, DataConstrainedLaw
from .family import LawFamily
from .files import load_law
from .scaling import (
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

__all__ = [
    "CHINCHILLA",
    "CHINCHILLA_ROUNDED",
    "EPOCH2024",
    "MUENNIGHOFF2023",
    "PRESETS",
    "SARDANA2024_ALL",
    "SARDANA2024_LE100",
    "SARDANA2024_LE250",
    "SARDANA2024_LE500",
    "ChinchillaModel",
    "DataConstrainedLaw",
    "LawFamily",
    "ScalingLaw",
    "chinchilla_optimal",
    "load_law",
]

# In scaleplan 0.1 `scaleplan.laws` was the module that is `laws.scaling` now.
__getattr__ = forward(["scaleplan.laws.scaling"], old="laws")
