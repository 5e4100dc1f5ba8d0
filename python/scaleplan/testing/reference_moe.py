"""Pure-Python reference for the lifetime optimum over expert counts (standard library
`math` only): a brute-force grid of active sizes per count, which the tests check
`expert_optimal` against and the benchmarks time it against. `reference` re-exports it.

Laws are tuples `(E, A, B, alpha, beta)`, as in `reference`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

__all__ = ["expert_grid"]

Law = tuple[float, float, float, float, float]


def expert_grid(
    laws: Mapping[int, Law],
    loss: float,
    demand: float,
    memory: float | None,
    total_params: Callable[[float, int], float],
    sizes: int = 20000,
) -> tuple[float, int | None, float | None]:
    """(lifetime FLOPs, experts, active N) of the cheapest point on a grid: for each count
    E of `laws`, `sizes` active sizes N log-spaced over 1e6 to 1e13, each trained on the
    tokens reaching `loss` under the law at E, `D = (B / (loss - E - A N^-alpha))^(1/beta)`,
    and costing `6 N D + 2 N demand`; with `memory`, only sizes whose bf16 weights (2 bytes
    times `total_params(N, E)`) fit. `(inf, None, None)` where no point qualifies.

    Parameters
    ----------
    laws : mapping of int to Law
        The law at each expert count.
    loss : float
        Target loss, nats/token.
    demand : float
        Lifetime inference tokens.
    memory : float or None
        Bytes the weights must fit (None: no cap).
    total_params : callable
        Total parameters (count) of a model of N active parameters and E experts.
    sizes : int, optional
        Grid points per count (default 20,000: 0.1% apart).

    Returns
    -------
    tuple
        Lifetime FLOPs, the expert count and the active parameters of the cheapest point.

    Examples
    --------
    >>> from scaleplan import JOINT_MOE, expert_optimal
    >>> laws = {e: JOINT_MOE.at(e).coefficients for e in (1, 2, 4, 8, 16, 32)}
    >>> flops, e, n = expert_grid(laws, 2.3, 1e12, 4e9, JOINT_MOE.total_params, sizes=2000)
    >>> rust = expert_optimal(2.3, 1e12, memory_bytes=4e9)
    >>> e == rust.experts, rust.total_flops <= flops
    (True, True)
    """
    step = math.log(1e13 / 1e6) / (sizes - 1)
    best: tuple[float, int | None, float | None] = (math.inf, None, None)
    for e, (floor, a, b, alpha, beta) in laws.items():
        for i in range(_fitting(e, sizes, step, memory, total_params)):
            n = 1e6 * math.exp(i * step)
            reducible = loss - floor - a * n**-alpha
            if reducible <= 0:
                continue
            try:
                d = (b / reducible) ** (1.0 / beta)
            except OverflowError:
                continue
            flops = 6.0 * n * d + 2.0 * n * demand
            if flops < best[0]:
                best = (flops, e, n)
    return best


def _fitting(e: int, sizes: int, step: float, memory: float | None,
             total_params: Callable[[float, int], float]) -> int:  # fmt: skip
    """How many grid sizes (from the smallest) fit `memory` at E experts: the total grows
    with N, so bisection over the grid's indices finds the first that does not."""
    if memory is None:
        return sizes
    fits = lambda i: 2.0 * total_params(1e6 * math.exp(i * step), e) <= memory  # noqa: E731
    lo, hi = -1, sizes  # fits(lo) taken true, fits(hi) false
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return hi
