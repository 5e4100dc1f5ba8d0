"""The shape policy: a transformer shape for a parameter count, with Llama-2's proportions
and grouped-query attention (`shape_for_params`), over the model sizes it covers.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .._utils.checks import Span, number, whole
from ..errors import ScaleplanError
from .counts import step_counts
from .shapes import TransformerShape, resolve_shape

__all__ = [
    "MODEL_SIZES",
    "POLICY_ASPECT",
    "POLICY_GQA_GROUP",
    "POLICY_HEAD_DIM",
    "moe_shape",
    "shape_for_params",
]


# The shape policy's defaults: Llama-2's proportions (width = 128 x depth at 7B, heads of
# 128, SwiGLU MLP 8/3 x width, 32,000-token vocabulary) with Llama-2-70B's grouped-query
# attention (8 query heads per KV head).
POLICY_ASPECT = 128


POLICY_HEAD_DIM = 128


POLICY_GQA_GROUP = 8


# The model sizes the shape policy (and the serving curves built on it) covers, in
# parameters.
MODEL_SIZES = Span(1e6, 1e15, low_closed=True, high_closed=True)


def shape_for_params(
    params: float,
    *,
    aspect: int = POLICY_ASPECT,
    head_dim: int = POLICY_HEAD_DIM,
    gqa_group: int = POLICY_GQA_GROUP,
    vocab: int = 32000,
) -> TransformerShape:
    """A decoder shape of about `params` parameters under a fixed policy.

    Width near `aspect` x depth (Llama-2-7B's 4096 / 32), in whole groups of `gqa_group`
    heads of `head_dim` (one KV head per group; below one group, any head count and one KV
    head), `d_ff` = 8/3 width rounded up to a multiple of 256, and for each of five widths
    around the ideal the depth that comes closest to `params`; the closest wins, ties going
    to the width nearest the aspect ratio; `batch_size` 1 (a micro-batch of one sequence,
    which is what a GPU holds in `physical.training_plan`). The count is exact for the
    shape returned (see `step_counts`); tested within 3% of `params` from 1B to 1T.

    Parameters
    ----------
    params : float
        The parameter count to aim at, in [1e6, 1e15].
    aspect : int, optional
        Width per layer of depth (default 128).
    head_dim : int, optional
        Width of one head (default 128).
    gqa_group : int, optional
        Query heads per KV head (default 8).
    vocab : int, optional
        Vocabulary size, in tokens (default 32,000).

    Returns
    -------
    TransformerShape

    Raises
    ------
    ScaleplanError
        If `params` is outside [1e6, 1e15] or a policy number is not a positive whole
        number.

    Examples
    --------
    >>> from scaleplan import step_counts
    >>> from scaleplan.arch.policy import shape_for_params
    >>> shape = shape_for_params(7e9)
    >>> shape.d_model, shape.n_layers, shape.n_kv_heads
    (4096, 39, 4)
    >>> print(f"{step_counts(shape).params / 1e9:.3f}B")
    7.010B
    """
    target = number("params", params, MODEL_SIZES)
    aspect, head_dim = whole("aspect", aspect), whole("head_dim", head_dim)
    gqa_group, vocab = whole("gqa_group", gqa_group), whole("vocab", vocab)
    return _policy_shape(target, aspect, head_dim, gqa_group, vocab)


# The planners ask for the same sizes again and again (a serving curve's knots, the whole-
# GPU plan's neighbours); the shape is a pure function of these numbers and frozen.
@functools.lru_cache(maxsize=4096)
def _policy_shape(
    target: float, aspect: int, head_dim: int, gqa_group: int, vocab: int
) -> TransformerShape:
    depth = (target / (10.0 * aspect**2)) ** (1 / 3)
    ideal = aspect * depth / head_dim  # heads at the ideal width
    step = gqa_group if ideal >= gqa_group else 1
    heads = [max(step, (round(ideal / step) + k) * step) for k in range(-2, 3)]

    def fields(layers: Any, heads: Any) -> dict[str, Any]:
        d = np.asarray(heads) * head_dim
        return dict(d_model=d, n_layers=layers, n_heads=heads, head_dim=head_dim,
                    n_kv_heads=np.maximum(1, np.asarray(heads) // gqa_group),
                    d_ff=-(-8 * d // 3 // 256) * 256, vocab=vocab, batch_size=1)  # fmt: skip

    # Parameters are linear in depth: one and two layers of each width, in one count.
    counts = step_counts(fields(np.array([[1], [2]]), np.array([heads, heads])))
    one, two = (np.asarray(counts.params, dtype=float)[i] for i in (0, 1))
    best: tuple[float, int, int] | None = None
    for h, p1, p2 in zip(heads, one.tolist(), two.tolist(), strict=True):
        # The depth that comes closest for this width.
        layers = max(1, round((target - (p1 - (p2 - p1))) / (p2 - p1)))
        miss = abs((p1 + (layers - 1) * (p2 - p1)) / target - 1.0)
        # Among widths that miss alike, the one nearest the aspect ratio.
        score = miss + 0.1 * abs(np.log(h * head_dim / (aspect * layers)))
        if best is None or score < best[0]:
            best = (score, h, layers)
    assert best is not None
    _, h, layers = best
    return TransformerShape(**{k: int(v) for k, v in fields(layers, h).items()})


def moe_shape(shape: Any, experts: int) -> TransformerShape:
    """`shape` with every layer's MLP made `experts` experts of its width, one a token (a
    Switch-style MoE, as Ludziejewski et al. 2025 train): the same active parameters but
    for the routers' `d_model x experts` a layer, and `experts` times the MLP in memory.
    One expert is `shape` itself.

    Parameters
    ----------
    shape : TransformerShape or str
        A dense shape (or a model name or config path, `shapes.resolve_shape`).
    experts : int
        Routed experts, >= 1.

    Returns
    -------
    TransformerShape

    Examples
    --------
    >>> from scaleplan import step_counts
    >>> from scaleplan.arch.policy import moe_shape, shape_for_params
    >>> c = step_counts(moe_shape(shape_for_params(1e9), 8))
    >>> print(f"{c.active_params / 1e9:.2f}B active, {c.params / 1e9:.2f}B in all")
    1.01B active, 5.86B in all
    """
    shape = resolve_shape(shape)
    if not isinstance(shape, TransformerShape):
        raise ScaleplanError("shape must be a TransformerShape, a model name or a config path",
                             "shape")  # fmt: skip
    if shape.moe_layers:
        raise ScaleplanError("shape must be dense: it has experts already", "shape")
    experts = whole("experts", experts, 1, 2**20)
    if experts == 1:
        return shape
    from dataclasses import replace

    return replace(shape, experts=experts, experts_per_token=1, expert_d_ff=shape.d_ff,
                   moe_layers=shape.n_layers)  # fmt: skip
