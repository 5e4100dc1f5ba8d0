"""Chinchilla's closed form: the training-only optimum of a `ScalingLaw` for a compute budget,
a target loss or a parameter count (`chinchilla_optimal`, computed in Rust), as a
`scaling.ChinchillaModel`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _core
from .._utils.arrays import broadcast, check_on_invalid, shaped
from .._utils.labels import labelled
from ..errors import ScaleplanError
from .scaling import CHINCHILLA, ChinchillaModel, ScalingLaw, resolve_law

__all__ = ["chinchilla_given", "chinchilla_optimal"]


def chinchilla_given(compute: Any, loss: Any, params: Any) -> tuple[str, Any]:
    """Which of `compute`, `loss` and `params` was given, and its value.

    Parameters
    ----------
    compute, loss, params : float or array_like or None
        `chinchilla_optimal`'s three targets; exactly one is not None.

    Returns
    -------
    tuple of (str, value)
        The given target's name and its value.

    Raises
    ------
    ScaleplanError
        If none or more than one was given.

    Examples
    --------
    >>> from scaleplan.laws.closed_form import chinchilla_given
    >>> chinchilla_given(None, 2.0, None)
    ('loss', 2.0)
    """
    given = [(k, v) for k, v in (("compute", compute), ("loss", loss), ("params", params))]
    chosen = [(k, v) for k, v in given if v is not None]
    if len(chosen) != 1:
        raise ScaleplanError(
            "chinchilla_optimal takes exactly one of compute, loss or params; "
            f"got {', '.join(k for k, _ in chosen) if chosen else 'none'}"
        )
    return chosen[0]


@labelled
def chinchilla_optimal(
    *,
    compute: Any = None,
    loss: Any = None,
    params: Any = None,
    law: ScalingLaw | str = CHINCHILLA,
    on_invalid: str = "raise",
) -> ChinchillaModel:
    """The training-only (Chinchilla-optimal) model, in closed form.

    Given exactly one of the three targets:

    - `compute` C: `N = G (C/6)^(beta/(alpha+beta))`, `D = (C/6)^(alpha/(alpha+beta)) / G`
      with `G = (alpha A / (beta B))^(1/(alpha+beta))`;
    - `loss` l: `D = (B (1 + beta/alpha) / (l - E))^(1/beta)`, and N from the optimality
      condition below;
    - `params` N: D from `alpha A N^-alpha = beta B D^-beta`.

    Parameters
    ----------
    compute : float or array_like, optional
        A training budget C = 6 N D, in FLOPs.
    loss : float or array_like, optional
        A target loss, in nats/token; above the law's floor E.
    params : float or array_like, optional
        A model size N (count).
    law : ScalingLaw or str, optional
        The loss law, or a preset's name (default `CHINCHILLA`).
    on_invalid : {"raise", "nan"}, optional
        What a row of bad input does: raise, or give NaN in that row.

    Returns
    -------
    ChinchillaModel
        `params` N, `tokens` D and the `loss` reached (nats/token), in the inputs'
        broadcast shape.

    Raises
    ------
    ScaleplanError
        If not exactly one target is given, or a value is out of range (a loss at or below
        E, a non-positive budget or size) with `on_invalid="raise"`.

    Examples
    --------
    Chinchilla's own budget, 5.76e23 FLOPs:

    >>> from scaleplan import chinchilla_optimal
    >>> model = chinchilla_optimal(compute=5.76e23)
    >>> print(f"N = {model.params:.3g}, D = {model.tokens:.3g}, loss = {model.loss:.4f}")
    N = 4.17e+10, D = 2.3e+12, loss = 1.9301

    The tokens a 7B model should train on:

    >>> print(f"{chinchilla_optimal(params=7e9, law='epoch2024').tokens:.3g}")
    1.44e+11
    """
    kind, value = chinchilla_given(compute, loss, params)
    law = resolve_law(law)
    on_invalid = check_on_invalid(on_invalid)
    shape, cols = broadcast(**{kind: value}, **law.named_coefficients())
    n, d = _core.chinchilla_optimal(
        kind, cols[0], tuple(cols[1:]), on_invalid, broadcast_shape=shape
    )
    if kind == "loss":
        reached = np.array(np.broadcast_to(cols[0], shape)).reshape(-1)
        reached[np.isnan(n)] = np.nan
    else:
        reached = _core.loss(
            n.reshape(shape), d.reshape(shape), tuple(cols[1:]), "nan", broadcast_shape=shape
        )
    return ChinchillaModel(shaped(n, shape), shaped(d, shape), shaped(reached, shape))
