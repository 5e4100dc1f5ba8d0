"""Model architecture: transformer shapes (`shapes`), their per-step counts (`counts`), the
shape policy for a parameter count (`policy`), and shapes read from Hugging Face configs
(`hf_config`)."""

from .counts import step_counts
from .shapes import TransformerShape

__all__ = ["TransformerShape", "step_counts"]
