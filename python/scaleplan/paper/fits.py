"""`scaleplan reproduce`'s fitting pieces: the Approach 2 figure (IsoFLOP profiles on the
recovered Chinchilla runs) beside Approach 3's and Hoffmann et al.'s exponents."""

from __future__ import annotations

from pathlib import Path

from ..fitting.family_comparison import family_table
from ..plot.isoflop import HOFFMANN_APPROACH_2, HOFFMANN_APPROACH_3, isoflop_profiles
from .figures import save

__all__ = ["HOFFMANN_APPROACH_2", "HOFFMANN_APPROACH_3", "approach_2", "family_tables"]


def approach_2(out: Path, format: str = "png") -> Path:
    """Write the Approach 2 figure: each IsoFLOP profile's runs and parabola (left); the
    minima and the fitted power laws `N_opt ~ C^a`, `D_opt ~ C^b` (right), with Approach 3
    (Epoch's refit) and Hoffmann's exponents in the legend (`scaleplan.plot.isoflop_profiles`
    on the recovered Chinchilla runs).

    Parameters
    ----------
    out : pathlib.Path
        The folder to write `approach2.<format>` into.
    format : {"png", "pdf", "svg"}
        The file format (PNG at 200 dpi).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ImportError
        If matplotlib is not installed.

    Examples
    --------
    The fit bootstraps 1,000 resamples and draws with matplotlib (seconds), so this is not
    run here:

    >>> from pathlib import Path
    >>> approach_2(Path("figures"), format="svg").name  # doctest: +SKIP
    'approach2.svg'
    """
    return save(isoflop_profiles(), out, "approach2", format)


def family_tables(out: Path) -> list[Path]:
    """Write the law-family comparison (`family_table`: 10-fold, seed 0, and
    leave-one-group-out; errors in nats/token) on both shipped data sets, as Markdown.

    Parameters
    ----------
    out : pathlib.Path
        The folder to write `families_chinchilla.md` and `families_sardana2024.md` into.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Examples
    --------
    Every fold refits every family (minutes on a small machine), so this is not run here:

    >>> from pathlib import Path
    >>> [p.name for p in family_tables(Path("tables"))]  # doctest: +SKIP
    ['families_chinchilla.md', 'families_sardana2024.md']
    """
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
