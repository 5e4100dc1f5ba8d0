"""Model architecture: transformer shapes and their per-step counts (`shapes`), and shapes
read from Hugging Face configs (`hf_config`)."""

from .shapes import TransformerShape, step_counts

__all__ = ["TransformerShape", "step_counts"]
