"""The best shapes for a wall-clock budget: every shape of a grid ranked by the loss it
reaches (`steptime.loss_in_budget`), within a parameter and memory limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._utils.checks import instance, number, optional, renamed, whole
from .._utils.frames import Record
from ..arch.shapes import FIELDS, shape_columns
from ..laws.scaling import CHINCHILLA, ScalingLaw
from .steptime import BudgetResult, StepTimeModel, loss_in_budget, shape_grid

__all__ = ["ShapeRanking", "best_shapes"]


@dataclass(frozen=True, repr=False)
class ShapeRanking(Record):
    """The best shapes for a wall-clock budget, best first, as `best_shapes` returns them.

    Parameters
    ----------
    shapes : dict of str to numpy.ndarray
        The chosen shapes' fields as columns, best first.
    result : BudgetResult
        What each reaches in the budget (loss in nats/token, tokens, seconds per step).
    considered : int
        Candidate shapes.
    feasible : int
        Candidates within the limits on parameters and memory.

    Examples
    --------
    >>> best = best_shapes(86400.0, top=3)
    >>> best.considered, best.feasible
    (2000, 2000)
    >>> print(f"{best.result.loss[0]:.3f} nats/token")
    2.718 nats/token
    """

    shapes: dict[str, NDArray[np.float64]]
    result: BudgetResult
    considered: int
    feasible: int


def best_shapes(
    seconds: float,
    *,
    law: ScalingLaw | str = CHINCHILLA,
    time_model: StepTimeModel | None = None,
    candidates: Mapping[str, Any] | None = None,
    max_params: float | None = None,
    params: float | None = None,
    params_tolerance: float = 0.1,
    max_memory_bytes: float | None = None,
    top: int = 10,
) -> ShapeRanking:
    """The `top` lowest-loss shapes for a wall-clock budget.

    Each candidate's loss in the budget is `loss_in_budget`'s; candidates outside the
    limits are dropped, the rest ranked by loss.

    Parameters
    ----------
    seconds : float
        The training budget, in seconds of wall clock.
    law : ScalingLaw or str, optional
        The loss law (default Chinchilla's).
    time_model : StepTimeModel, optional
        Seconds per step (default: the H100 bf16 roofline at 50% MFU).
    candidates : mapping of str to array_like, optional
        Shapes as columns, as `shape_grid` returns them (default `shape_grid()`).
    max_params : float, optional
        At most this many parameters.
    params : float, optional
        Parameters to aim at, within `params_tolerance` (a fraction, default 0.1).
    params_tolerance : float, optional
        Relative tolerance on `params`.
    max_memory_bytes : float, optional
        At most this much training memory, in bytes.
    top : int, optional
        How many shapes to return (default 10).

    Returns
    -------
    ShapeRanking

    Raises
    ------
    ScaleplanError
        If `seconds` is not > 0, a limit is out of range, or `candidates` is not a mapping.

    Examples
    --------
    >>> best = best_shapes(86400.0, max_params=1e9, top=3)  # a day on one H100
    >>> s, r = best.shapes, best.result
    >>> for i in range(3):
    ...     print(f"{s['d_model'][i]:.0f} wide, {s['n_layers'][i]:.0f} layers, "
    ...           f"{s['n_heads'][i]:.0f} heads, d_ff {s['d_ff'][i]:.0f}: "
    ...           f"N = {r.params[i]:.3g}, loss {r.loss[i]:.3f}")
    4096 wide, 2 layers, 4 heads, d_ff 4096: N = 4.97e+08, loss 2.718
    4096 wide, 2 layers, 8 heads, d_ff 4096: N = 4.97e+08, loss 2.721
    4096 wide, 2 layers, 4 heads, d_ff 8192: N = 5.98e+08, loss 2.722
    """
    top = whole("top", top)
    max_params = optional("max_params", max_params)
    params = optional("params", params)
    params_tolerance = number("params_tolerance", params_tolerance)
    max_memory_bytes = optional("max_memory_bytes", max_memory_bytes)
    if candidates is not None:
        instance("candidates", candidates, Mapping, "a mapping of shape fields to arrays")
    cand = dict(candidates) if candidates is not None else shape_grid()
    with renamed(shapes="candidates"):
        r = loss_in_budget(cand, seconds, law=law, time_model=time_model)
    loss = np.atleast_1d(np.asarray(r.loss, dtype=float))
    ok = np.isfinite(loss)
    p = np.atleast_1d(r.params)
    if max_params is not None:
        ok &= p <= max_params
    if params is not None:
        ok &= np.abs(p / params - 1.0) <= params_tolerance
    if max_memory_bytes is not None:
        ok &= np.atleast_1d(r.memory_bytes) <= max_memory_bytes
    idx = np.flatnonzero(ok)
    order = idx[np.argsort(loss[idx], kind="stable")[:top]]
    full, _ = shape_columns(cand)
    chosen = {k: full[i][order] for i, k in enumerate(FIELDS)}  # one entry per candidate
    pick = lambda x: np.atleast_1d(x)[order]  # noqa: E731
    result = BudgetResult(*(pick(getattr(r, f.name)) for f in fields(BudgetResult)))
    return ShapeRanking(chosen, result, len(loss), int(ok.sum()))
