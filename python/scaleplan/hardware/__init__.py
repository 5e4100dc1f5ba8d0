"""Hardware and its prices: the accelerator catalogue with sources and dates
(`accelerators`), the number formats and their bytes (`formats`) and the cost model that
turns FLOPs into dollars (`cost_model`)."""

from .._moved import forward
from .accelerators import ACCELERATORS, Accelerator, accelerator
from .cost_model import CostModel
from .files import load_accelerator

__all__ = ["ACCELERATORS", "Accelerator", "CostModel", "accelerator", "load_accelerator"]

# In scaleplan 0.1 `scaleplan.hardware` was the module that is `hardware.accelerators` now.
__getattr__ = forward(["scaleplan.hardware.accelerators"], old="hardware")
