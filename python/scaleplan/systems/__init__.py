"""Systems: what a model costs on real hardware. The step-time model (`steptime`; its
fit, `steptime_fit`; the best shapes in a budget, `shape_search`), the serving roofline
(`serving`) and its calibration (`serving_fit`), whole-GPU training and serving plans
(`physical`), how a model is served (`deployment`: GPU, number formats, tensor
parallelism, efficiency, latency targets, requests), how it is trained (`training`: GPU,
count, format, MFU, price), speculative decoding (`speculation`), and CPU measurement of
step times (`measure`)."""

from . import serving, speculation
from .deployment import Deployment
from .speculation import Speculation
from .training import Training

__all__ = ["Deployment", "Speculation", "Training", "serving", "speculation"]
