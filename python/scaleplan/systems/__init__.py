"""Systems: what a model costs on real hardware. The step-time model (`steptime`), the
serving roofline (`serving`) and its calibration (`serving_fit`), whole-GPU training and
serving plans (`physical`), and CPU measurement of step times (`measure`)."""

from . import serving

__all__ = ["serving"]
