"""`scaleplan reproduce`'s fitting pieces: the Approach 2 figure (IsoFLOP profiles on the
recovered Chinchilla runs) beside Approach 3's and Hoffmann et al.'s exponents."""

from __future__ import annotations

from pathlib import Path

from ..fitting.families import family_table
from ..plot.isoflop import HOFFMANN_APPROACH_2, HOFFMANN_APPROACH_3, isoflop_profiles
from .figures import save

__all__ = ["HOFFMANN_APPROACH_2", "HOFFMANN_APPROACH_3", "approach_2", "family_tables"]


def approach_2(out: Path, format: str = "png") -> Path:
    """Each profile's runs and parabola (left); the minima and the fitted power laws
    (right), with Approach 3 (Epoch's refit) and Hoffmann's exponents in the legend
    (`scaleplan.plot.isoflop_profiles` on the recovered Chinchilla runs)."""
    return save(isoflop_profiles(), out, "approach2", format)


def family_tables(out: Path) -> list[Path]:
    """The law-family comparison on both shipped data sets, as Markdown."""
    written = []
    for dataset in ("chinchilla", "sardana2024"):
        _, text = family_table(dataset)
        path = out / f"families_{dataset}.md"
        path.write_text(
            f"Law families on the {dataset} runs: held-out error in loss (nats), 10-fold "
            f"(seed 0) and leave-one-group-out.\n\n```\n{text}\n```\n"
        )
        written.append(path)
    return written
