"""The lifetime optimum over expert counts (the joint MoE law of Ludziejewski et al. 2025):
the cheapest count against demand for a few memory caps, and the FLOPs it saves over the
dense model of the same loss."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..laws.moe import JOINT_MOE
from ..optimal.experts import EXPERT_COUNTS, expert_optimal
from ._figure import LOG, one_of, panels, style, titled

__all__ = ["optimal_experts"]

_COLORS = ["k", "C0", "C1", "C3", "C2"]


def optimal_experts(
    inference_tokens: Any = None,
    *,
    loss: float = 2.3,
    memory: Sequence[float | None] = (None, 16e9, 4e9),
    axes: Sequence[Any] | None = None,
) -> Any:
    """The expert count with the fewest lifetime FLOPs against lifetime inference tokens,
    one curve per memory cap on the bf16 weights (left, `expert_optimal`), and the share
    of the dense model's lifetime FLOPs it saves under the same cap (right, %).

    Parameters
    ----------
    inference_tokens : array_like, optional
        Lifetime inference demand, tokens; default 40 from 1e9 to 1e15.
    loss : float, optional
        Target loss, nats/token (default 2.3: a dense model of about 2B parameters).
    memory : sequence of float or None
        Memory caps on the weights, bytes, one curve each (None: no cap).
    axes : sequence of 2 matplotlib.axes.Axes, optional
        Where to draw; None: a new `Figure` with a title stating the law.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> fig = optimal_experts(np.logspace(10, 14, 5), memory=[4e9])
    >>> fig.axes[0].get_ylabel()
    'experts of the lifetime optimum (log scale)'
    """
    one_of("memory", memory)
    demand = np.logspace(9, 15, 40) if inference_tokens is None else np.asarray(inference_tokens)
    with style():
        fig, (count, saving), own = panels(axes, 2, (12, 5.0), "axes")
        titled(
            fig,
            own,
            f"Mixtures of experts at loss {loss:g} nats/token (the joint MoE law of "
            f"Ludziejewski et al. 2025)\nE = {EXPERT_COUNTS[0]} to {EXPERT_COUNTS[-1]}; "
            "FLOPs on active parameters; the bf16 weights within the memory",
        )
        for cap, color in zip(memory, _COLORS * len(memory), strict=False):
            found = [expert_optimal(loss, float(d), law=JOINT_MOE, memory_bytes=cap)
                     for d in demand]  # fmt: skip
            label = "no memory cap" if cap is None else f"weights within {cap / 1e9:g} GB"
            count.step(demand, [r.experts for r in found], where="mid", color=color,
                       label=label)  # fmt: skip
            saving.plot(demand, [100 * r.flop_saving for r in found], color=color, label=label)
        count.set_yscale("log", base=2)
        count.set_yticks(list(EXPERT_COUNTS), [str(e) for e in EXPERT_COUNTS])
        count.set_ylabel("experts of the lifetime optimum" + LOG)
        saving.set_ylabel("lifetime FLOPs saved over the dense model (%)")
        for ax in (count, saving):
            ax.set_xscale("log")
            ax.set_xlabel("lifetime inference tokens" + LOG)
            ax.legend()
    return fig
