"""What one training step of a transformer shape costs: parameters, FLOPs (forward +
backward), elements moved and activations kept, counted by the Rust core
(`rust/core/src/arch/mod.rs` states every term), vectorised over grids of shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _core
from .._utils.arrays import shaped
from .._utils.frames import Record
from .._utils.labels import labelled
from ..errors import ScaleplanError
from .shapes import OPTIMIZER_BYTES_PER_PARAM, ShapeLike, shape_inputs

__all__ = ["StepCounts", "step_counts"]


@dataclass(frozen=True, repr=False)
class StepCounts(Record):
    """What one training step of a shape costs, as `step_counts` returns it.

    Arrays when the shapes were a grid.

    Parameters
    ----------
    params : float or numpy.ndarray
        Parameters (count), every expert included.
    flops : float or numpy.ndarray
        FLOPs of one step, forward and backward.
    memcpy_elements : float or numpy.ndarray
        Elements moved through memory (forward, backward, optimizer).
    activation_elements : float or numpy.ndarray
        Activation elements kept for the backward pass.
    active_params : float or numpy.ndarray
        The parameters one token uses: `params` less the routed experts it skips (equal
        to `params` in a dense model). Training and inference FLOPs follow it.

    Examples
    --------
    >>> from scaleplan import step_counts
    >>> counts = step_counts("llama-2-7b")  # 8 sequences of 2048 tokens
    >>> print(f"{counts.flops:.3g} FLOPs, {counts.memory_bytes() / 1e9:.0f} GB")
    7.02e+14 FLOPs, 325 GB
    """

    params: Any
    flops: Any
    memcpy_elements: Any
    activation_elements: Any
    active_params: Any

    def memcpy_bytes(self, bytes_per_element: float = 2.0) -> Any:
        """Bytes moved in one step: `memcpy_elements * bytes_per_element` (default 2,
        bf16).

        Examples
        --------
        >>> from scaleplan import step_counts
        >>> print(f"{step_counts('llama-2-7b').memcpy_bytes() / 1e12:.3g} TB")
        1.47 TB
        """
        return self.memcpy_elements * bytes_per_element

    def memory_bytes(self, bytes_per_element: float = 2.0) -> Any:
        """Training memory: `16 params + bytes_per_element activation_elements`, in bytes.

        Parameters with Adam state take 16 bytes each (bf16 weights and gradient, fp32
        master weights and two moments); activations `bytes_per_element` (default 2).

        Examples
        --------
        >>> from scaleplan import step_counts
        >>> print(f"{step_counts('llama-2-7b').memory_bytes(bytes_per_element=4) / 1e9:.0f} GB")
        543 GB
        """
        return (
            OPTIMIZER_BYTES_PER_PARAM * self.params + bytes_per_element * self.activation_elements
        )


@labelled
def step_counts(shapes: ShapeLike) -> StepCounts:
    """Parameters, FLOPs and memory traffic of one training step, for each shape.

    Counted by the Rust core, vectorised over grids of shapes; every term is stated in
    `rust/core/src/arch/mod.rs`.

    Parameters
    ----------
    shapes : TransformerShape or str or sequence or mapping
        One shape (or a model name or config path), a sequence of them, or a mapping of
        field name to arrays, broadcast together (`shape_inputs`).

    Returns
    -------
    StepCounts
        Scalars for one shape, arrays in the broadcast shape otherwise.

    Raises
    ------
    ScaleplanError
        If `shapes` cannot be read as shapes, or a count overflows float64.

    Examples
    --------
    >>> from scaleplan import step_counts
    >>> print(f"{step_counts('llama-2-70b').params:.4g}")
    6.898e+10
    >>> step_counts({"d_model": [2048, 4096], "n_layers": 32, "n_heads": 32}).params
    array([2.27868877e+09, 8.85234483e+09])
    """
    shape, cols = shape_inputs(shapes)
    outputs = _core.step_counts(cols, broadcast_shape=shape)
    bad = ~np.logical_and.reduce([np.isfinite(x) for x in outputs])
    if np.any(bad):
        # Valid fields whose products leave float64 (d_model = 1e200 once gave inf FLOPs).
        index = int(np.flatnonzero(bad)[0]) if shape else None
        at = f" at index {index}" if index is not None else ""
        raise ScaleplanError(
            f"the shape is too large: its parameter, FLOP or memory counts overflow float64{at}",
            "shapes",
            index,
        )
    return StepCounts(*(shaped(x, shape) for x in outputs))
