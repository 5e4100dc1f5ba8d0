"""Downstream targets: a benchmark's error as a function of the loss (Gadre et al. 2024).

    error = e - k exp(-g loss),    error = 1 - score,

fitted by least squares to runs that carry both. For a fixed `g` the model is a straight
line in `z = exp(-g loss)`, so `e` and `k` have a closed form and the fit is a 1-D search
over `g` (a log-spaced scan, then golden section on the best bracket), in Rust: sums
correctly rounded, no BLAS or vector maths, so the bits do not move with the CPU's vector
width or a BLAS kernel (the same arithmetic as the pure-Python reference
`testing.reference_fits.downstream_fit`). Its inverse turns a target score into the loss
a plan needs: `loss = -ln((e - error) / k) / g`, defined for `e - k < error < e`.

A mapping is only as good as its held-out error: `fit_downstream` reports leave-one-out
predictions (mean absolute error, and R^2 against predicting the other runs' mean) and the
share of runs at the benchmark's chance level. It is `usable` when fewer than half of the
runs are within 0.02 of chance, the leave-one-out R^2 is at least 0.5 and `g` did not end
at an edge of its search range (1e-3 to 100); an unusable
mapping still fits, but `loss_for` refuses to plan from it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import _core
from .._utils.arrays import as_float
from .._utils.checks import POSITIVE, Span, first_bad, instance, number, whole
from .._utils.frames import Record
from ..errors import ScaleplanError

__all__ = [
    "BENCHMARKS",
    "CHANCE",
    "CHANCE_SPAN",
    "MIN_HELD_OUT_R2",
    "NEAR_CHANCE",
    "DownstreamFit",
    "bootstrap_losses",
    "fit_downstream",
    "sardana_downstream",
]

# A benchmark's chance score: a share of questions, in [0, 1).
CHANCE_SPAN = Span(0.0, 1.0, low_closed=True)

# Chance scores of the shipped benchmarks: MMLU is 4-way multiple choice; MosaicML's eval
# gauntlet subtracts each task's random baseline before averaging, so its chance is 0.
CHANCE = {
    "world_knowledge": 0.0,
    "reading_comprehension": 0.0,
    "language_understanding": 0.0,
    "commonsense_reasoning": 0.0,
    "symbolic_problem_solving": 0.0,
    "core_average": 0.0,
    "mmlu_5_shot_avg": 0.25,
}
BENCHMARKS = tuple(CHANCE)
_SCORE = Span(0.0, 1.0)  # a target score: a share strictly between 0 and 1
# A run's score: a share of questions right, at most 1; a score centred on a chance
# baseline (MosaicML's gauntlet) can fall below 0.
_SCORES = Span(high=1.0, high_closed=True)
NEAR_CHANCE = 0.02
MIN_HELD_OUT_R2 = 0.5
_G_RANGE = (1e-3, 100.0)


@dataclass(frozen=True, repr=False)
class DownstreamFit(Record):
    """A mapping from loss to a benchmark's score: `error = e - k exp(-g loss)`.

    What `fit_downstream` returns: the mapping fitted to `n` runs, with its held-out
    quality and the runs' loss range (a target beyond it is an extrapolation).

    Parameters
    ----------
    benchmark : str
        The benchmark's name.
    e, k, g : float
        The mapping's constants (`g` per nat).
    n : int
        Runs fitted.
    chance : float
        The benchmark's chance score.
    at_chance : float
        Share of runs within 0.02 of chance.
    held_out_mae : float
        Leave-one-out mean absolute error of the score.
    held_out_r2 : float
        Leave-one-out R^2.
    baseline_mae : float
        The mean-predicting baseline's leave-one-out error.
    loss_range : tuple of float
        The runs' lowest and highest loss, in nats/token.

    Examples
    --------
    >>> from scaleplan import fit_downstream
    >>> mapping = fit_downstream([2.4, 2.6, 2.8, 3.0, 3.2, 3.4],
    ...                          [0.42, 0.36, 0.30, 0.25, 0.21, 0.18])
    >>> print(f"held-out R^2 {mapping.held_out_r2:.3f}; a score of 0.3 needs loss "
    ...       f"{mapping.loss_for(0.3):.3f}")
    held-out R^2 0.993; a score of 0.3 needs loss 2.799
    """

    benchmark: str
    e: float
    k: float
    g: float
    n: int
    chance: float
    at_chance: float
    held_out_mae: float
    held_out_r2: float
    baseline_mae: float
    loss_range: tuple[float, float]

    @property
    def at_bound(self) -> bool:
        """Whether `g` ended at an edge of its search range (a degenerate fit)."""
        lo, hi = _G_RANGE
        return not lo * 1.01 < self.g < hi / 1.01

    @property
    def usable(self) -> bool:
        return self.at_chance < 0.5 and self.held_out_r2 >= MIN_HELD_OUT_R2 and not self.at_bound

    def score(self, loss: Any) -> Any:
        """The predicted score `1 - e + k exp(-g loss)`."""
        return 1.0 - self.e + self.k * np.exp(-self.g * np.asarray(loss, dtype=float))

    def loss_for(self, score: Any) -> Any:
        """The loss at which the mapping predicts `score` (a ValueError naming `score`
        outside `(1 - e, min(1, 1 - e + k))`, or when the mapping is not usable)."""
        if not self.usable:
            raise ScaleplanError(
                f"the {self.benchmark} mapping is not usable for planning: {self.verdict()}",
                "score",
            )
        s = as_float("score", score)
        low, high = 1.0 - self.e, min(1.0, 1.0 - self.e + self.k)
        # The bounds are read off the quantity the log takes, not `low` and `high`: a score
        # a rounding above `low` can still give `e - (1 - s)` of 0 (an infinite loss).
        with np.errstate(invalid="ignore"):
            gap = (self.e - (1.0 - s)) / self.k
            bad = ~(np.isfinite(s) & (gap > 0) & (gap < 1) & (s < high))
        if bad.any():
            raise ScaleplanError(
                f"score must be in ({low:.4g}, {high:.4g}) for the {self.benchmark} mapping "
                f"(above its value at infinite loss, below 1 and its value at zero loss); got "
                f"{s.flat[int(np.flatnonzero(bad.ravel())[0])]!r}",
                "score",
            )
        out = -np.log(gap) / self.g
        return float(out) if out.ndim == 0 else out

    def verdict(self) -> str:
        why = []
        if self.at_chance >= 0.5:
            why.append(f"{100 * self.at_chance:.0f}% of runs score within {NEAR_CHANCE} of chance")
        if self.held_out_r2 < MIN_HELD_OUT_R2:
            why.append(f"held-out R^2 {self.held_out_r2:.2f} < {MIN_HELD_OUT_R2}")
        if self.at_bound:
            why.append(f"g = {self.g:.3g} sits at an edge of its range {_G_RANGE}")
        return "; ".join(why) or "usable"


def _fit(loss: Any, error: Any) -> tuple[float, float, float]:
    """(e, k, g) minimising the squared error: the scan of ln g, then golden section, in
    Rust (`_core.downstream_fit`; `testing.reference_fits.downstream_fit` is the same
    arithmetic in Python, and the tests hold the two to the same bits)."""
    return _core.downstream_fit(
        np.ascontiguousarray(loss, dtype=np.float64), np.ascontiguousarray(error, dtype=np.float64)
    )


def fit_downstream(
    loss: Any, score: Any, *, benchmark: str = "custom", chance: float = 0.0
) -> DownstreamFit:
    """Fit `1 - score = e - k exp(-g loss)` to runs, with leave-one-out held-out error.

    Parameters
    ----------
    loss : array_like
        The runs' losses, in nats/token (> 0); at least 5.
    score : array_like
        Their benchmark scores, one per loss: shares of questions right (<= 1; a score
        centred on a chance baseline may be below 0).
    benchmark : str, optional
        A name for the benchmark (default "custom").
    chance : float, optional
        The benchmark's chance score (default 0).

    Returns
    -------
    DownstreamFit

    Raises
    ------
    ScaleplanError
        If fewer than 5 runs are given, the lengths differ, a loss is not finite and
        > 0 (nats/token), or a score is not finite and <= 1.

    Examples
    --------
    >>> from scaleplan import fit_downstream
    >>> mapping = fit_downstream([2.4, 2.6, 2.8, 3.0, 3.2, 3.4],
    ...                          [0.42, 0.36, 0.30, 0.25, 0.21, 0.18])
    >>> print(f"score at loss 2.5: {mapping.score(2.5):.3f}, "
    ...       f"held-out MAE {mapping.held_out_mae:.4f}")
    score at loss 2.5: 0.388, held-out MAE 0.0064
    """
    l_arr, s_arr = np.ravel(as_float("loss", loss)), np.ravel(as_float("score", score))
    chance = number("chance", chance, CHANCE_SPAN)
    if not isinstance(benchmark, str):
        raise ScaleplanError(f"benchmark must be a name; got {benchmark!r}", "benchmark")
    if len(l_arr) != len(s_arr):
        raise ScaleplanError(
            f"score must have one length with loss; got {len(l_arr)} losses, {len(s_arr)} scores",
            "score",
        )
    if len(l_arr) < 5:
        raise ScaleplanError(f"a downstream fit needs at least 5 runs; got {len(l_arr)}", "loss")
    for name, arr, span in (("loss", l_arr, POSITIVE), ("score", s_arr, _SCORES)):
        if not np.all(span.admits(arr)):
            raise first_bad(name, arr, ~span.admits(arr), span)
    lv, ev = [float(v) for v in l_arr], [1.0 - float(v) for v in s_arr]
    e, k, g = _fit(lv, ev)
    preds, means = [], []
    for i in range(len(lv)):
        rest_l, rest_e = lv[:i] + lv[i + 1 :], ev[:i] + ev[i + 1 :]
        ei, ki, gi = _fit(rest_l, rest_e)
        preds.append(ei - ki * math.exp(-gi * lv[i]))
        means.append(math.fsum(rest_e) / len(rest_e))
    press = math.fsum((p - y) ** 2 for p, y in zip(preds, ev, strict=True))
    base = math.fsum((m - y) ** 2 for m, y in zip(means, ev, strict=True))
    return DownstreamFit(
        benchmark=benchmark,
        e=e,
        k=k,
        g=g,
        n=len(lv),
        chance=chance,
        at_chance=float(np.mean(s_arr <= chance + NEAR_CHANCE)),
        held_out_mae=math.fsum(abs(p - y) for p, y in zip(preds, ev, strict=True)) / len(ev),
        held_out_r2=1.0 - press / base if base > 0 else -math.inf,
        baseline_mae=math.fsum(abs(m - y) for m, y in zip(means, ev, strict=True)) / len(ev),
        loss_range=(min(lv), max(lv)),
    )


def sardana_downstream(benchmark: str = "core_average") -> DownstreamFit:
    """The loss-to-score mapping for one benchmark of Sardana et al.'s 47 runs.

    Fitted once a process per benchmark (the shipped runs do not change; the result is
    frozen), so a second call costs nothing.

    Parameters
    ----------
    benchmark : str, optional
        One of `BENCHMARKS` (default "core_average", the eval gauntlet's average).

    Returns
    -------
    DownstreamFit

    Raises
    ------
    ScaleplanError
        If `benchmark` is not one of `BENCHMARKS`.

    Examples
    --------
    >>> from scaleplan import sardana_downstream
    >>> mapping = sardana_downstream()
    >>> print(f"{mapping.n} runs, held-out R^2 {mapping.held_out_r2:.3f}; "
    ...       f"a score of 0.3 needs loss {mapping.loss_for(0.3):.3f}")
    47 runs, held-out R^2 0.990; a score of 0.3 needs loss 2.371
    """
    if not (isinstance(benchmark, str) and benchmark in CHANCE):
        raise ScaleplanError(
            f"benchmark must be one of {', '.join(BENCHMARKS)}; got {benchmark!r}", "benchmark"
        )
    return _sardana_fit(benchmark)


@functools.cache
def _sardana_fit(benchmark: str) -> DownstreamFit:
    from .datasets import sardana2024_runs

    runs = sardana2024_runs()
    return fit_downstream(
        runs.loss, runs.extra[benchmark], benchmark=benchmark, chance=CHANCE[benchmark]
    )


@functools.lru_cache(maxsize=16)
def _resampled_fits(benchmark: str, n_resamples: int, seed: int) -> tuple[tuple[float, ...], ...]:
    """(e, k, g) of the mapping refitted to each of `n_resamples` seeded resamples of
    Sardana's runs: the part of `bootstrap_losses` that does not depend on the score,
    kept for the 16 most recent (benchmark, count, seed) of the process (a sweep over
    more seeds refits the ones evicted)."""
    from .datasets import sardana2024_runs

    runs = sardana2024_runs()
    lv = runs.loss
    sv = runs.extra[benchmark]
    rng = np.random.default_rng(seed)
    fits = []
    for _ in range(n_resamples):
        idx = rng.integers(0, len(lv), len(lv))
        fits.append(_fit([float(v) for v in lv[idx]], [1.0 - float(v) for v in sv[idx]]))
    return tuple(fits)


def bootstrap_losses(
    fit: DownstreamFit, score: float, n_resamples: int = 200, seed: int | None = 0
) -> NDArray[np.float64]:
    """The loss for `score` under mappings refitted to resamples of Sardana's runs.

    The fit's uncertainty, to carry into a plan; resamples whose mapping cannot reach the
    score are dropped.

    Parameters
    ----------
    fit : DownstreamFit
        A mapping of one of Sardana et al.'s benchmarks (`sardana_downstream`).
    score : float
        The target score (0-1).
    n_resamples : int, optional
        Resamples (default 200).
    seed : int, optional
        Seeds the resamples (default 0).

    Returns
    -------
    numpy.ndarray
        Losses in nats/token, one per resample that reaches the score.

    Raises
    ------
    ScaleplanError
        If `fit` is not a mapping of one of `BENCHMARKS`, `score` is not in (0, 1),
        `n_resamples` is not a whole number >= 1 or `seed` one >= 0.

    Notes
    -----
    The resampled mappings do not depend on the score: they are fitted once and kept for
    the 16 most recent (benchmark, n_resamples, seed) of the process, so every score after
    the first reuses them.

    Examples
    --------
    >>> import numpy as np
    >>> from scaleplan import bootstrap_losses, sardana_downstream
    >>> losses = bootstrap_losses(sardana_downstream(), 0.3,
    ...                           n_resamples=20)
    >>> print(np.percentile(losses, [5, 95]).round(3))
    [2.362 2.378]
    """
    instance("fit", fit, DownstreamFit, "a DownstreamFit (sardana_downstream)")
    if fit.benchmark not in CHANCE:
        names = ", ".join(BENCHMARKS)
        raise ScaleplanError(
            f"fit must map one of Sardana et al.'s benchmarks ({names}); got {fit.benchmark!r}",
            "fit",
        )
    from .bootstrap import MAX_RESAMPLES  # here: the CLI's parser imports this module, not SciPy

    score = number("score", score, _SCORE)
    n_resamples = whole("n_resamples", n_resamples, 1, MAX_RESAMPLES)
    # A fresh draw each call without a seed: nothing to reuse.
    seed = int(np.random.default_rng().integers(2**63)) if seed is None else seed
    seed = whole("seed", seed, 0, 2**63 - 1)
    out = []
    for e, k, g in _resampled_fits(fit.benchmark, n_resamples, seed):
        gap = (e - (1.0 - score)) / k if k > 0 else -1.0
        if gap > 0 and math.isfinite(gap):
            out.append(-math.log(gap) / g)
    return np.array(out)
