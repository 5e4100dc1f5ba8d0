"""Optima over mixtures of experts under the joint MoE law (`laws.moe`): the family's
kernels behind the entry points (each solves the law at its expert count, a batch of counts
as a batch of laws in the Rust lanes) and the lifetime optimum over the expert count under
a memory cap (the paper's training question under memory is `expert_training`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._utils.checks import NON_NEGATIVE, number, whole
from .._utils.frames import Record
from ..errors import ScaleplanError
from ..laws.family import register
from ..laws.flops import inference_flops, training_flops
from ..laws.moe import JOINT_MOE, JointMoELaw
from ._expert_memory import MAX_BYTES, MAX_MEMORY, MIN_BYTES, bounded, largest_fitting
from .budgets import best_quality
from .costs import cost_optimal
from .lifetime import compute_optimal
from .physical_optimum import physical_optimal
from .whole_gpu import tokens_at_loss

__all__ = [
    "EXPERT_COUNTS",
    "ExpertOptimum",
    "expert_counts",
    "expert_optimal",
    "resolve_moe_law",
]

# The expert counts `expert_optimal` compares unless told: the paper's, 1 to 32. Its fit
# spans them; larger counts may be passed, and are the law extrapolated (Ê saturates
# towards E_max = 290, so the gains flatten).
EXPERT_COUNTS: tuple[int, ...] = (1, 2, 4, 8, 16, 32)


def resolve_moe_law(law: Any) -> JointMoELaw:
    """`law` as a JointMoELaw: a JointMoELaw as given; "joint-moe" (or a plain law, whose
    constants cannot say how experts help) is the published one, or an error.

    Examples
    --------
    >>> from scaleplan.optimal.experts import resolve_moe_law
    >>> resolve_moe_law("joint-moe").e_max
    290.4521
    """
    if isinstance(law, JointMoELaw):
        return law
    if law == "joint-moe":
        return JOINT_MOE
    raise ScaleplanError(
        f"experts= needs a mixture-of-experts law (law='joint-moe' or a JointMoELaw); got {law!r}",
        "law",
    )


# The family's kernels (`laws.family.route`): each takes its entry point's arguments and
# solves the law at the expert count, finite data passed on.


def _compute_optimal(loss: Any, inference_tokens: Any, *, law: JointMoELaw, on_invalid: str,
                     experts: Any = 1.0, unique_tokens: Any = None) -> Any:  # fmt: skip
    return compute_optimal(loss, inference_tokens, law=law.at(experts), on_invalid=on_invalid,
                           unique_tokens=unique_tokens)  # fmt: skip


def _cost_optimal(loss: Any, requests: Any, input_tokens: Any, output_tokens: Any, *, costs: Any,
                  law: JointMoELaw, on_invalid: str, experts: Any = 1.0,
                  unique_tokens: Any = None) -> Any:  # fmt: skip
    return cost_optimal(loss, requests, input_tokens, output_tokens, costs=costs,
                        law=law.at(experts), on_invalid=on_invalid,
                        unique_tokens=unique_tokens)  # fmt: skip


def _best_quality(budget: Any, inference_tokens: Any, requests: Any, input_tokens: Any,
                  output_tokens: Any, *, costs: Any, law: JointMoELaw, on_invalid: str,
                  experts: Any = 1.0, unique_tokens: Any = None) -> Any:  # fmt: skip
    if requests is None:
        return best_quality(budget, inference_tokens, law=law.at(experts), on_invalid=on_invalid,
                            unique_tokens=unique_tokens)  # fmt: skip
    return best_quality(dollar_budget=budget, requests=requests, input_tokens=input_tokens,
                        output_tokens=output_tokens, costs=costs, law=law.at(experts),
                        on_invalid=on_invalid, unique_tokens=unique_tokens)  # fmt: skip


def _physical_optimal(loss: Any, requests: Any, *, costs: Any, curve: Any, law: JointMoELaw,
                      on_invalid: str, experts: Any = 1.0,
                      unique_tokens: Any = None) -> Any:  # fmt: skip
    return physical_optimal(loss, requests, costs=costs, curve=curve, law=law.at(experts),
                            on_invalid=on_invalid, unique_tokens=unique_tokens)  # fmt: skip


def _tokens_for_params(loss: Any, params: Any, *, law: JointMoELaw, experts: Any = 1.0,
                       unique_tokens: Any = None) -> Any:  # fmt: skip
    return tokens_at_loss(loss, params, law.at(experts), unique_tokens)


register(
    JointMoELaw,
    adopt=resolve_moe_law,
    kernels={
        "compute_optimal": _compute_optimal,
        "cost_optimal": _cost_optimal,
        "best_quality": _best_quality,
        "physical_optimal": _physical_optimal,
        "tokens_for_params": _tokens_for_params,
    },
    passes=("unique_tokens",),
)


@dataclass(frozen=True, repr=False)
class ExpertOptimum(Record):
    """The lifetime compute-optimal model over expert counts, as `expert_optimal` returns
    it: the cheapest count, its active and total parameters and tokens, and every count
    compared (the `candidates` arrays, NaN where a count cannot reach the loss in memory).

    Parameters
    ----------
    experts : int
        The chosen expert count.
    params, total_params : float
        Its active and total parameters (count; total by `JointMoELaw.total_params`).
    tokens : float
        Training tokens.
    training_flops, inference_flops, total_flops : float
        `6 N D`, `2 N D_inf` and their sum (N active).
    memory_bound : bool
        Whether the memory cap set its size (the unconstrained optimum did not fit).
    dense_total_flops : float
        Lifetime FLOPs of the dense (E = 1) optimum under the same cap; NaN if none fits.
    candidates : dict of str to numpy.ndarray
        Per expert count compared: experts, params, total_params, tokens, total_flops,
        memory_bound.

    Examples
    --------
    A 2.3-nat model serving 1T tokens, its bf16 weights within 4 GB:

    >>> from scaleplan.optimal.experts import expert_optimal
    >>> r = expert_optimal(2.3, 1e12, memory_bytes=4e9)
    >>> print(f"E = {r.experts}: {r.params / 1e9:.2f}B active, {r.total_params / 1e9:.1f}B "
    ...       f"total, saves {100 * r.flop_saving:.0f}% of the dense model's FLOPs")
    E = 4: 0.75B active, 2.0B total, saves 20% of the dense model's FLOPs
    """

    experts: int
    params: float
    total_params: float
    tokens: float
    training_flops: float
    inference_flops: float
    total_flops: float
    memory_bound: bool
    dense_total_flops: float
    candidates: dict[str, Any]

    @property
    def flop_saving(self) -> float:
        """`1 - total_flops / dense_total_flops`: what the experts save over dense."""
        return 1.0 - self.total_flops / self.dense_total_flops


def expert_counts(experts: Any) -> Any:
    """The expert counts compared, as floats: one count or a list, each whole in [1, 2**20].

    Examples
    --------
    >>> from scaleplan.optimal.experts import expert_counts
    >>> expert_counts([1, 8.0]).tolist()
    [1.0, 8.0]
    """
    if isinstance(experts, (list, tuple, np.ndarray)):
        items = np.asarray(experts, dtype=object)
        if items.ndim != 1 or items.size == 0:
            raise ScaleplanError("experts must be one count or a list of counts", "experts")
        values = list(items)
    else:
        values = [experts]
    return np.array([whole("experts", e, 1, 2**20, integral_floats=True) for e in values],
                    dtype=float)  # fmt: skip


def expert_optimal(
    loss: float,
    inference_tokens: float,
    *,
    law: JointMoELaw | str = JOINT_MOE,
    experts: Any = EXPERT_COUNTS,
    memory_bytes: float | None = None,
    bytes_per_param: float = 2.0,
) -> ExpertOptimum:
    """The expert count, active parameters and tokens minimising lifetime FLOPs at a loss.

    For each count E, the lifetime optimum of `compute_optimal` under the law at E (all
    counts one batch of laws in the Rust lanes): minimise `6 N D + 2 N D_inf` (N active)
    subject to `L(N, D, E) = loss`. With a memory cap, a count whose optimum's weights
    (`bytes_per_param` times the total parameters) do not fit takes the largest N that
    fits, and the tokens that reach the loss there (the lifetime cost is unimodal along the
    iso-loss curve, so the boundary is the constrained optimum); a count that cannot reach
    the loss in memory at all is out. The cheapest count wins.

    Parameters
    ----------
    loss : float
        Target loss, nats/token; above the law's floor c.
    inference_tokens : float
        Lifetime inference demand D_inf, in tokens; >= 0.
    law : JointMoELaw or str, optional
        The MoE law (default the published joint law).
    experts : int or sequence of int, optional
        The expert counts compared (default `EXPERT_COUNTS`, the paper's 1 to 32).
    memory_bytes : float, optional
        Memory the weights must fit, in bytes (one serving GPU's, say); None: no cap.
    bytes_per_param : float, optional
        Bytes a weight takes in that memory (default 2, bf16; at most 16).

    Returns
    -------
    ExpertOptimum

    Raises
    ------
    ScaleplanError
        If an argument is out of range, or no count reaches the loss within the memory.

    Examples
    --------
    Without a memory cap more experts always save FLOPs under this law; within 4 GB the
    count grows with demand:

    >>> from scaleplan import expert_optimal
    >>> expert_optimal(2.3, 1e12).experts
    32
    >>> [expert_optimal(2.3, d, memory_bytes=4e9).experts for d in (0.0, 1e12, 1e14)]
    [1, 4, 32]
    """
    law = resolve_moe_law(law)
    counts = expert_counts(experts)
    loss = number("loss", loss)
    if loss <= law.c:
        raise ScaleplanError(f"loss must be above the law's floor {law.c}; got {loss!r}", "loss")
    d_inf = number("inference_tokens", inference_tokens, NON_NEGATIVE)
    bytes_per_param = bounded("bytes_per_param", bytes_per_param, MIN_BYTES, MAX_BYTES)
    if memory_bytes is not None:
        memory_bytes = bounded("memory_bytes", memory_bytes, 0.0, MAX_MEMORY)
    n, d, bound = _optima(law, counts, loss, d_inf, memory_bytes, bytes_per_param)
    flops = training_flops(n, d) + inference_flops(n, d_inf)
    if np.any(np.isfinite(n) & ~np.isfinite(flops)):
        raise ScaleplanError(
            "the lifetime FLOPs overflow float64 at this inference_tokens", "inference_tokens"
        )
    if not np.any(np.isfinite(flops)):
        raise ScaleplanError(
            f"no expert count of {counts.astype(int).tolist()} reaches loss {loss} with its "
            f"weights in {memory_bytes:.4g} bytes",
            "memory_bytes",
        )
    best = int(np.nanargmin(flops))
    total = law.total_params(np.where(np.isfinite(n), n, 1.0), counts)
    total = np.where(np.isfinite(n), total, np.nan)
    candidates = dict(experts=counts, params=n, total_params=total, tokens=d,
                      total_flops=flops, memory_bound=bound)  # fmt: skip
    dense = _dense_flops(law, loss, d_inf, memory_bytes, bytes_per_param)
    return ExpertOptimum(int(counts[best]), float(n[best]), float(total[best]), float(d[best]),
                         float(training_flops(n[best], d[best])),
                         float(inference_flops(n[best], d_inf)),
                         float(flops[best]), bool(bound[best]), dense, candidates)  # fmt: skip


def _optima(law: JointMoELaw, counts: Any, loss: float, d_inf: float, memory: float | None,
            bytes_per_param: float) -> tuple[Any, Any, Any]:  # fmt: skip
    """Each count's (N, D) of least lifetime FLOPs at `loss` (one batch of laws in the
    Rust lanes), and whether memory bound it: a count whose optimum's weights do not fit
    takes the largest N that fits and the tokens reaching the loss there (NaN where no
    number of tokens does)."""
    laws = law.at(counts)
    r = compute_optimal(np.full(counts.shape, loss), d_inf, law=laws)
    n, d = np.asarray(r.params, dtype=float), np.asarray(r.tokens, dtype=float)
    bound = np.zeros(counts.shape, dtype=bool)
    if memory is None:
        return n, d, bound
    cap = largest_fitting(counts, memory, bytes_per_param)
    bound = ~(n <= cap)
    n = np.where(bound, cap, n)
    d = np.where(bound, tokens_at_loss(loss, n, laws, None), d)
    reached = np.isfinite(d)  # beyond float64's tokens: out of reach
    return np.where(reached, n, np.nan), np.where(reached, d, np.nan), bound


def _dense_flops(law: JointMoELaw, loss: float, d_inf: float, memory: float | None,
                 bytes_per_param: float) -> float:  # fmt: skip
    """Lifetime FLOPs of the dense optimum (E = 1) under the same cap, NaN if none fits."""
    n, d, _ = _optima(law, np.ones(1), loss, d_inf, memory, bytes_per_param)
    return float(training_flops(n[0], d[0]) + inference_flops(n[0], d_inf))
