"""Public training-run data sets shipped with scaleplan (attribution in data/SOURCES.md)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import ScaleplanError
from ..laws.flops import tokens_for_flops

__all__ = ["Runs", "chinchilla_runs", "sardana2024_runs"]


@dataclass(frozen=True)
class Runs:
    """Training runs: parameters N, training tokens D, final loss L (arrays of one length),
    plus any other columns of the source under `extra`."""

    params: NDArray[np.float64]
    tokens: NDArray[np.float64]
    loss: NDArray[np.float64]
    extra: dict[str, NDArray[Any]] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.params)

    def as_dict(self) -> dict[str, NDArray[Any]]:
        """Columns by name (`pandas.DataFrame(runs.as_dict())` gives a frame)."""
        return {"params": self.params, "tokens": self.tokens, "loss": self.loss, **self.extra}

    def subset(self, mask: NDArray[np.bool_]) -> Runs:
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
    """Hoffmann et al.'s runs as recovered by Besiroglu et al. 2024 (245 rows); tokens are
    `Training FLOP / (6 N)`. By default the 5 highest losses are dropped, as in the
    replication (240 remain)."""
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
    """Sardana et al.'s 47 runs (150M-6B parameters, 10-10,000 tokens per parameter),
    optionally only those with at most `max_tokens_per_param` (their Table 1 subsets).
    `extra` holds the downstream scores too: the eval gauntlet's categories and
    core_average, and mmlu_5_shot_avg."""
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
