"""Loss laws: the law families, their published constants, the law-family protocol the
optimisers dispatch through (`family`), the FLOP convention every family states (`flops`)
and Chinchilla's closed-form optimum (`closed_form`). A family is a value: `ScalingLaw`
(`E + A N^-alpha + B D^-beta`, the base) and `DataConstrainedLaw` (Muennighoff et al.
2023) and `JointMoELaw` (Ludziejewski et al. 2025, `moe`); `FineGrainedMoELaw` (Krajewski
et al. 2024, `fine_grained`) has FLOPs of its own and its own optimum; precision-aware
families join as modules here whose optima call `family.register`."""

from .._moved import forward
from .closed_form import chinchilla_optimal
from .data_constrained import MUENNIGHOFF2023, DataConstrainedLaw
from .family import LawFamily
from .files import load_law
from .fine_grained import KRAJEWSKI2024, FineGrainedMoELaw
from .moe import JOINT_MOE, JointMoELaw
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
)

__all__ = [
    "CHINCHILLA",
    "CHINCHILLA_ROUNDED",
    "EPOCH2024",
    "JOINT_MOE",
    "KRAJEWSKI2024",
    "MUENNIGHOFF2023",
    "PRESETS",
    "SARDANA2024_ALL",
    "SARDANA2024_LE100",
    "SARDANA2024_LE250",
    "SARDANA2024_LE500",
    "ChinchillaModel",
    "DataConstrainedLaw",
    "FineGrainedMoELaw",
    "JointMoELaw",
    "LawFamily",
    "ScalingLaw",
    "chinchilla_optimal",
    "load_law",
]

# In scaleplan 0.1 `scaleplan.laws` was the module that is `laws.scaling` (and
# `laws.closed_form`) now.
__getattr__ = forward(["scaleplan.laws.scaling", "scaleplan.laws.closed_form"], old="laws")
