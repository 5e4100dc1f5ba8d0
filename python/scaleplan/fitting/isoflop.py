"""Chinchilla's Approach 2: IsoFLOP profiles.

Runs that share a compute budget C (FLOPs, `6 N D` unless given) form a profile; a
parabola in `ln N` through each profile's losses, `L = c0 + c1 x + c2 x^2` with
`x = ln N`, has its minimum at `N_opt = exp(-c1 / (2 c2))`, `D_opt = C / (6 N_opt)`. The
minima across budgets are fitted as power laws `N_opt = G_N C^a`, `D_opt = G_D C^b` by
least squares in logs (Hoffmann et al. 2022, §3.2: a = 0.49, b = 0.51).

Intervals come from resampling runs within each profile (so every budget keeps its
size) and refitting everything, from a seed. Every least-squares problem here is solved
by its normal equations in plain float arithmetic (3 x 3 and 2 x 2, by Cramer's rule on
sums taken in a fixed order) and every logarithm by the C library's `log`, not LAPACK or
NumPy's vectorised kernels, so the answer does not move with the BLAS or SIMD build.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._utils.arrays import as_float
from .._utils.checks import OPEN_UNIT, POSITIVE, first_bad, number, whole
from .._utils.checks import seed as check_seed
from .._utils.frames import Record
from ..errors import ScaleplanError
from ..laws.flops import tokens_for_flops, training_flops
from ._lstsq import line, parabola
from ._solver import run_columns
from .bootstrap import MAX_RESAMPLES

__all__ = [
    "DEFAULT_WIDTH",
    "HOFFMANN_BUDGETS",
    "MIN_RUNS",
    "Approach2",
    "IsoFlopProfile",
    "isoflop_fit",
]

# The nine budgets of Hoffmann et al.'s IsoFLOP profiles (Figure 3), in FLOPs.
HOFFMANN_BUDGETS = (6e18, 1e19, 3e19, 6e19, 1e20, 3e20, 6e20, 1e21, 3e21)
# Runs within this many decades of a budget belong to its profile: the recovered Chinchilla
# points sit up to 0.045 decades below the nominal budgets (FLOPs counted as 6ND).
DEFAULT_WIDTH = 0.05
MIN_RUNS = 4


@dataclass(frozen=True, repr=False)
class IsoFlopProfile(Record):
    """One budget's runs and the parabola through them, `L = c0 + c1 ln N + c2 (ln N)^2`.

    Parameters
    ----------
    budget : float
        The nominal budget, in FLOPs.
    flops : float
        The budget the profile's runs spent (their mean), in FLOPs.
    params : numpy.ndarray
        The runs' parameters (count).
    loss : numpy.ndarray
        Their losses, in nats/token.
    coefficients : tuple of float
        `(c0, c1, c2)`.
    params_opt, tokens_opt : float
        The parabola's minimum, `N_opt = exp(-c1 / (2 c2))`, and `D_opt = C / (6 N_opt)`.
    loss_opt : float
        The loss there, in nats/token.

    Examples
    --------
    >>> from scaleplan import isoflop_fit
    >>> from scaleplan.fitting.datasets import chinchilla_runs
    >>> profile = isoflop_fit(chinchilla_runs(), n_resamples=0).profiles[-1]
    >>> print(f"{profile.budget:.0e} FLOPs: N_opt = {profile.params_opt:.3g}, "
    ...       f"loss {profile.loss_opt:.3f}")
    3e+21 FLOPs: N_opt = 4.04e+09, loss 2.201
    """

    budget: float
    flops: float
    params: NDArray[np.float64]
    loss: NDArray[np.float64]
    coefficients: tuple[float, float, float]
    params_opt: float
    tokens_opt: float
    loss_opt: float


@dataclass(frozen=True, repr=False)
class Approach2(Record):
    """An IsoFLOP (Approach 2) fit, as `isoflop_fit` returns it.

    Parameters
    ----------
    profiles : list of IsoFlopProfile
        The profiles used.
    skipped : dict of float to str
        Budgets skipped, with the reason.
    a, b : float
        The exponents of `N_opt = G_N C^a` and `D_opt = G_D C^b`.
    params_coefficient, tokens_coefficient : float
        The prefactors G_N and G_D.
    intervals : dict of str to (float, float)
        Percentile intervals of a and b (empty without resamples).
    n_resamples : int
        Resamples drawn.
    confidence : float
        The intervals' coverage.

    Examples
    --------
    >>> from scaleplan import isoflop_fit
    >>> from scaleplan.fitting.datasets import chinchilla_runs
    >>> fit = isoflop_fit(chinchilla_runs(), n_resamples=0)
    >>> print(f"D_opt at 1e21 FLOPs: {fit.tokens_for(1e21):.3g}")
    D_opt at 1e21 FLOPs: 5.87e+10
    """

    profiles: list[IsoFlopProfile]
    skipped: dict[float, str]
    a: float
    b: float
    params_coefficient: float
    tokens_coefficient: float
    intervals: dict[str, tuple[float, float]]
    n_resamples: int
    confidence: float

    def params_for(self, flops: Any) -> Any:
        """`N_opt = G_N C^a`: the optimal parameters for a training budget C in FLOPs."""
        return self.params_coefficient * np.asarray(flops, dtype=float) ** self.a

    def tokens_for(self, flops: Any) -> Any:
        """`D_opt = G_D C^b`: the optimal training tokens for a budget C in FLOPs."""
        return self.tokens_coefficient * np.asarray(flops, dtype=float) ** self.b


def _logs(values: Any) -> NDArray[np.float64]:
    """Natural logs by the C library's `log`, one value at a time: NumPy's vectorised log
    may round differently on AVX-512 and AVX2 builds, and these feed the exponents."""
    return np.array([math.log(float(v)) for v in values])


def _profile(budget: float, c: Any, n: Any, loss: Any) -> IsoFlopProfile | str:
    """The profile of one budget's runs, or why there is none."""
    if len(n) < MIN_RUNS:
        return f"{len(n)} runs (a parabola needs {MIN_RUNS})"
    x = _logs(n)
    c0, c1, c2 = parabola(x, loss)
    if not c2 > 0:
        return "the losses do not curve upward around a minimum"
    x_opt = -c1 / (2.0 * c2)
    if not x.min() <= x_opt <= x.max():
        return "the parabola's minimum lies outside the runs' sizes"
    flops = math.exp(math.fsum(_logs(c)) / len(c))
    n_opt = math.exp(x_opt)
    return IsoFlopProfile(
        budget=budget,
        flops=flops,
        params=n,
        loss=loss,
        coefficients=(c0, c1, c2),
        params_opt=n_opt,
        tokens_opt=tokens_for_flops(flops, n_opt),
        loss_opt=c0 + c1 * x_opt + c2 * x_opt * x_opt,
    )


def _groups(c: Any, budgets: Any, width: float) -> list[tuple[float, NDArray[np.intp]]]:
    lc = np.log10(c)
    return [(float(b), np.flatnonzero(np.abs(lc - math.log10(b)) <= width)) for b in budgets]


def _exponents(profiles: list[IsoFlopProfile]) -> tuple[float, float, float, float]:
    lc = _logs([p.flops for p in profiles])
    ln_n, a = line(lc, _logs([p.params_opt for p in profiles]))
    ln_d, b = line(lc, _logs([p.tokens_opt for p in profiles]))
    return a, b, math.exp(ln_n), math.exp(ln_d)


def isoflop_fit(
    params: Any,
    tokens: Any = None,
    loss: Any = None,
    *,
    flops: Any = None,
    budgets: Any = HOFFMANN_BUDGETS,
    width: float = DEFAULT_WIDTH,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> Approach2:
    """Chinchilla's Approach 2 on runs: IsoFLOP profiles and the exponents a and b.

    Each profile's parabola `L = c0 + c1 ln N + c2 (ln N)^2` has its minimum at
    `N_opt = exp(-c1 / (2 c2))`, `D_opt = C / (6 N_opt)`; the minima are fitted as
    `N_opt = G_N C^a`, `D_opt = G_D C^b` (the module's docstring). A budget with fewer
    than 4 runs, a profile that does not curve upward, or one whose minimum lies outside
    its runs' sizes is skipped and listed with the reason.

    Parameters
    ----------
    params, tokens, loss
        The runs, as `fit_law` takes them (arrays, or one table).
    flops : array_like, optional
        Each run's training FLOPs (default `6 N D`; a `datasets.Runs` table with a `flops`
        column uses it).
    budgets : array_like, optional
        The profiles' nominal budgets in FLOPs (default Hoffmann et al.'s nine).
    width : float, optional
        A run belongs to a budget within `width` decades of it.
    n_resamples : int, optional
        Resamples for the intervals (0: none; default 1000).
    confidence : float, optional
        The intervals' coverage (default 0.95).
    seed : int, optional
        Seeds the resamples (default 0).

    Returns
    -------
    Approach2

    Raises
    ------
    ScaleplanError
        If a run or setting is out of range, or fewer than 2 profiles are usable.

    Examples
    --------
    >>> from scaleplan import isoflop_fit
    >>> from scaleplan.fitting.datasets import chinchilla_runs
    >>> fit = isoflop_fit(chinchilla_runs(), n_resamples=100, seed=0)
    >>> print(f"a = {fit.a:.3f}, b = {fit.b:.3f}, {len(fit.profiles)} profiles")
    a = 0.510, b = 0.490, 9 profiles
    >>> print(f"N_opt at 5.76e23 FLOPs: {fit.params_for(5.76e23):.3g}")
    N_opt at 5.76e23 FLOPs: 7.27e+10
    """
    if flops is None and tokens is None and loss is None and hasattr(params, "extra"):
        flops = params.extra.get("flops")
    n, d, l_ = run_columns(params, tokens, loss, ("params", "tokens", "loss"))
    for name, col in (("params", n), ("tokens", d), ("loss", l_)):
        ok = POSITIVE.admits(col)
        if not np.all(ok):  # a NaN loss once passed and moved the answer
            raise first_bad(name, col, ~ok, POSITIVE)
    if flops is None:
        c = training_flops(n, d)
    else:
        c = as_float("flops", flops)
        if c.shape not in ((), n.shape):
            raise ScaleplanError(f"flops must be one number or one per run; got shape "
                                 f"{c.shape} for {n.size} runs", "flops")  # fmt: skip
        c = np.broadcast_to(c, n.shape)
    if not np.all(POSITIVE.admits(c)):
        raise first_bad("flops", c, ~POSITIVE.admits(c), POSITIVE)
    width = number("width", width, OPEN_UNIT, unit="decades")
    b_arr = np.atleast_1d(as_float("budgets", budgets))
    if b_arr.ndim != 1 or not np.all(POSITIVE.admits(b_arr)):
        raise ScaleplanError("budgets must be finite FLOP counts > 0, one list", "budgets")
    if len(np.unique(b_arr)) != len(b_arr):
        raise ScaleplanError("budgets must be distinct", "budgets")
    n_resamples = whole("n_resamples", n_resamples, 0, MAX_RESAMPLES)
    confidence = number("confidence", confidence, OPEN_UNIT)
    seed = check_seed("seed", seed)
    groups = _groups(c, b_arr, width)
    profiles, skipped = [], {}
    for budget, idx in groups:
        p = _profile(budget, c[idx], n[idx], l_[idx])
        if isinstance(p, str):
            skipped[budget] = p
        else:
            profiles.append(p)
    if len(profiles) < 2:
        raise ScaleplanError(
            f"Approach 2 needs at least 2 usable IsoFLOP profiles of the runs' flops near "
            f"the budgets; got {len(profiles)} "
            f"({'; '.join(f'{k:g}: {v}' for k, v in skipped.items())})",
            "budgets",
        )
    a, b, g_n, g_d = _exponents(profiles)
    used = [idx for (budget, idx) in groups if budget not in skipped]
    intervals = _intervals(n, c, l_, used, n_resamples, confidence, seed)
    return Approach2(profiles, skipped, a, b, g_n, g_d, intervals, n_resamples, confidence)


def _intervals(
    n: Any, c: Any, loss: Any, used: list[Any], n_resamples: int, confidence: float, seed: Any
) -> dict[str, tuple[float, float]]:
    """Percentile intervals of a and b, resampling runs within each used profile; a
    resample whose profile has no interior minimum is dropped (their count is small)."""
    if n_resamples == 0:
        return {}
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(n_resamples):
        profiles = []
        for idx in used:
            pick = rng.choice(idx, size=len(idx), replace=True)
            p = _profile(0.0, c[pick], n[pick], loss[pick]) if len(set(pick)) >= 3 else ""
            if isinstance(p, IsoFlopProfile):
                profiles.append(p)
        if len(profiles) >= 2:
            draws.append(_exponents(profiles)[:2])
    tail = 50.0 * (1.0 - confidence)
    arr = np.array(draws)
    return {
        k: (float(np.percentile(arr[:, i], tail)), float(np.percentile(arr[:, i], 100 - tail)))
        for i, k in enumerate(("a", "b"))
    }
