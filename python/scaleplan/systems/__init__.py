"""Systems: what a model costs on real hardware. The step-time model (`steptime`), the
serving roofline (`serving`) and its calibration (`serving_fit`), whole-GPU training and
serving plans (`physical`), how a model is served (`deployment`: GPU, number formats,
tensor parallelism, efficiency, latency targets, requests), and CPU measurement of step
times (`measure`)."""

from . import serving
from .deployment import Deployment

__all__ = ["Deployment", "serving"]
