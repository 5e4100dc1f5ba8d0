"""Public training-run data sets shipped with scaleplan (attribution in data/SOURCES.md)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._utils.frames import Tabular
from ..errors import ScaleplanError
from ..laws.flops import tokens_for_flops

__all__ = ["Runs", "chinchilla_runs", "sardana2024_runs"]


@dataclass(frozen=True, repr=False)
class Runs(Tabular):
    """Training runs: parameters N, training tokens D, final loss L.

    Every fit (`fit_law`, `isoflop_fit`, ...) takes a `Runs` as its table of runs.

    Parameters
    ----------
    params : numpy.ndarray
        Parameters N (count), one per run.
    tokens : numpy.ndarray
        Training tokens D.
    loss : numpy.ndarray
        Final loss, in nats/token.
    extra : dict of str to numpy.ndarray, optional
        Any other columns of the source, one entry per run.

    Examples
    --------
    >>> from scaleplan.fitting.datasets import sardana2024_runs
    >>> runs = sardana2024_runs()
    >>> len(runs), sorted(runs.as_dict())[:4]
    (47, ['commonsense_reasoning', 'core_average', 'language_understanding', 'loss'])
    >>> len(runs.subset(runs.params > 1e9))
    16
    """

    _INPUTS = ("params", "tokens")
    _OUTPUTS = ("loss",)

    params: NDArray[np.float64]
    tokens: NDArray[np.float64]
    loss: NDArray[np.float64]
    extra: dict[str, NDArray[Any]] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.params)

    def columns(self) -> dict[str, np.ndarray]:
        """Every column by name, `extra`'s after the three of the law."""
        return self.as_dict()

    def as_dict(self) -> dict[str, NDArray[Any]]:
        """Columns by name (`pandas.DataFrame(runs.as_dict())` gives a frame).

        Examples
        --------
        >>> from scaleplan.fitting.datasets import chinchilla_runs
        >>> sorted(chinchilla_runs().as_dict())
        ['flops', 'loss', 'params', 'tokens']
        """
        return {"params": self.params, "tokens": self.tokens, "loss": self.loss, **self.extra}

    def subset(self, mask: NDArray[np.bool_]) -> Runs:
        """The runs where `mask` (a boolean array, one per run) is True, every column
        kept."""
        return Runs(
            self.params[mask],
            self.tokens[mask],
            self.loss[mask],
            {k: v[mask] for k, v in self.extra.items()},
        )


def _read(name: str) -> dict[str, list[str]]:
    text = resources.files("scaleplan").joinpath("data", name).read_text()
    reader = csv.DictReader(text.splitlines())
    columns: dict[str, list[str]] = {k: [] for k in reader.fieldnames or []}
    for row in reader:
        for k, v in row.items():
            columns[k].append(v)
    return columns


def chinchilla_runs(drop_highest: int = 5) -> Runs:
    """Hoffmann et al.'s runs as recovered by Besiroglu et al. 2024 (245 rows).

    Tokens are `Training FLOP / (6 N)`; `extra["flops"]` keeps the training FLOPs.

    Parameters
    ----------
    drop_highest : int, optional
        How many of the highest losses to drop: 5 by default, as in the replication (240
        remain).

    Returns
    -------
    Runs

    Raises
    ------
    ScaleplanError
        If `drop_highest` is not an integer >= 0.

    Examples
    --------
    >>> from scaleplan.fitting.datasets import chinchilla_runs
    >>> len(chinchilla_runs()), len(chinchilla_runs(drop_highest=0))
    (240, 245)
    """
    if isinstance(drop_highest, bool) or not isinstance(drop_highest, int) or drop_highest < 0:
        raise ScaleplanError(
            f"drop_highest must be an integer >= 0; got {drop_highest!r}", "drop_highest"
        )
    cols = _read("chinchilla_svg_extracted.csv")
    n = np.array(cols["Model Size"], dtype=float)
    c = np.array(cols["Training FLOP"], dtype=float)
    loss = np.array(cols["loss"], dtype=float)
    keep = np.ones(len(loss), dtype=bool)
    if drop_highest:
        keep[np.argsort(loss)[len(loss) - drop_highest :]] = False
    return Runs(n[keep], tokens_for_flops(c[keep], n[keep]), loss[keep], {"flops": c[keep]})


def sardana2024_runs(max_tokens_per_param: float | None = None) -> Runs:
    """Sardana et al.'s 47 runs (150M-6B parameters, 10-10,000 tokens per parameter).

    `extra` holds the downstream scores too: the eval gauntlet's categories and
    core_average, and mmlu_5_shot_avg.

    Parameters
    ----------
    max_tokens_per_param : float, optional
        Keep only the runs with at most this many tokens per parameter (their Table 1
        subsets); None keeps all.

    Returns
    -------
    Runs

    Examples
    --------
    >>> from scaleplan.fitting.datasets import sardana2024_runs
    >>> len(sardana2024_runs()), len(sardana2024_runs(max_tokens_per_param=100))
    (47, 34)
    """
    cols = _read("sardana2024_training_runs.csv")
    ratio = np.array(cols["Tokens/Params"], dtype=float)
    runs = Runs(
        np.array(cols["Parameters"], dtype=float),
        np.array(cols["Tokens"], dtype=float),
        np.array(cols["Smoothed Loss"], dtype=float),
        {
            "tokens_per_param": ratio,
            "name": np.array(cols["Model Name"]),
            # Downstream scores, by their short names (`downstream.BENCHMARKS`).
            **{
                k.rsplit("/", 1)[-1]: np.array(v, dtype=float)
                for k, v in cols.items()
                if k.startswith(("eval_gauntlet/", "mmlu"))
            },
        },
    )
    if max_tokens_per_param is None:
        return runs
    return runs.subset(ratio <= max_tokens_per_param)
