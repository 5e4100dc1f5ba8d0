"""What the serving roofline's kernel is given, shared by `decode` and `prefill`
(`serving`): the shapes and per-step load broadcast into its columns, and the kernel's
errors under the public argument names. Not public."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._utils.arrays import as_float, broadcast
from .._utils.checks import renamed
from ..arch.shapes import FIELDS, ShapeLike, shape_inputs
from ..errors import ScaleplanError

__all__ = ["broadcast_columns", "errors_named"]


@contextmanager
def errors_named(tokens_name: str) -> Iterator[None]:
    """The kernel's errors under the public names (`shape`, `context_tokens` or
    `prompt_tokens`); a cache that does not fit also names what fills it."""
    try:
        with renamed(shapes="shape", tokens=tokens_name):
            yield
    except ScaleplanError as exc:
        if exc.argument != "tensor_parallel" or "do not fit" not in str(exc):
            raise
        raise ScaleplanError(f"{exc} ({tokens_name} and batch_size set the cache)",
                             exc.argument, exc.index) from None  # fmt: skip


def broadcast_columns(
    shapes: ShapeLike,
    batch_size: Any,
    tokens: Any,
    tp: Any,
    target_seconds: Any,
    draft: tuple[Any, Any, Any] = (0.0, 0.0, 0.0),
    layout: tuple[Any, Any] = (1.0, 0.0),
) -> tuple[tuple[int, ...], list[NDArray[np.float64]]]:
    """The kernel's columns, broadcast: the shape fields (in `FIELDS` order), `batch_size`,
    `tokens`, `tensor_parallel`, `draft_tokens`, `draft_kv_bytes`, `draft_weight_bytes`
    (`draft`), `expert_parallel`, `attention_data_parallel` (`layout`, the latter 1 or 0)
    and, with a target, `target_seconds`."""
    grid_shape, shape_cols = shape_inputs(shapes)
    if grid_shape == ():
        shape_cols = [c.reshape(()) for c in shape_cols]
    load = {
        "batch_size": as_float("batch_size", batch_size),
        "tokens": as_float("tokens", tokens),
        "tensor_parallel": tp,
        "draft_tokens": as_float("draft_tokens", draft[0]),
        "draft_kv_bytes": as_float("draft_kv_bytes", draft[1]),
        "draft_weight_bytes": as_float("draft_weight_bytes", draft[2]),
        "expert_parallel": as_float("expert_parallel", layout[0]),
        "attention_data_parallel": as_float("attention_data_parallel", layout[1]),
    }
    named = {**{f"shape.{f}": c for f, c in zip(FIELDS, shape_cols, strict=True)}, **load}
    if target_seconds is not None:
        named["target_seconds"] = as_float("target_seconds", target_seconds)
    shape, cols = broadcast(**named)
    return shape, cols
