"""The figures of `scaleplan reproduce`, written to files: Figures 2 and 6 of Sardana et al.
2024, the training share at the optimum, the step-time fit, the optimum against demand
and finite data (matplotlib, extra `[plot]`).

Each is drawn by `scaleplan.plot` at its defaults and saved in one of `FORMATS`, PNG at
`PNG_DPI`; the figure is then released (no pyplot: nothing global is left open).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ScaleplanError
from ..plot import demand, experts, finite, share, steptime, surfaces

__all__ = [
    "FIGURES",
    "FORMATS",
    "PNG_DPI",
    "figure_2",
    "figure_6",
    "finite_data",
    "optimal_experts",
    "optimum_vs_demand",
    "save",
    "step_time_fit",
    "training_share",
]

FORMATS = ("png", "pdf", "svg")
# Raster resolution: 200 dpi keeps 9-10 pt text sharp when a figure is shown at half width.
PNG_DPI = 200


def save(fig: Any, out: Path, name: str, format: str = "png") -> Path:
    """Write a matplotlib figure to `out/name.format` and return the path.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure (any object with matplotlib's `savefig`).
    out : pathlib.Path
        An existing folder.
    name : str
        The file's name without its extension.
    format : str, optional
        One of `FORMATS`: "png" (default, raster at `PNG_DPI` dots per inch), "pdf" or
        "svg" (vector).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ScaleplanError
        A `format` not in `FORMATS`.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from matplotlib.figure import Figure
    >>> fig = Figure()
    >>> _ = fig.add_subplot().plot([1, 2, 3])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(save(fig, Path(tmp), "line", "svg").name)
    line.svg
    >>> save(fig, Path("."), "line", "gif")
    Traceback (most recent call last):
    ...
    scaleplan.errors.ScaleplanError: format must be one of png, pdf, svg; got 'gif'
    """
    if format not in FORMATS:
        raise ScaleplanError(
            f"format must be one of {', '.join(FORMATS)}; got {format!r}", "format"
        )
    path = Path(out) / f"{name}.{format}"
    fig.savefig(path, format=format, dpi=PNG_DPI if format == "png" else None)
    return path


def figure_2(out: Path, format: str = "png") -> Path:
    """Figure 2 of Sardana et al. 2024 to `out/figure2.{format}`.

    The compute-optimal model over the Chinchilla-style one, in parameters, tokens and
    lifetime FLOPs (`6 N D + 2 N D_inf`), over loss (nats/token) x lifetime inference
    tokens: `plot.flop_ratio_surfaces` at its defaults.

    Parameters
    ----------
    out : pathlib.Path
        An existing folder.
    format : str, optional
        One of `FORMATS`: "png" (default, at `PNG_DPI`), "pdf" or "svg".

    Returns
    -------
    pathlib.Path
        The file written, `out/figure2.{format}`.

    Raises
    ------
    ScaleplanError
        A `format` not in `FORMATS`.

    Examples
    --------
    It solves an 80 x 90 grid three ways and draws three contour panels (seconds), so
    this is not run here:

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:  # doctest: +SKIP
    ...     print(figure_2(Path(tmp), format="svg").name)
    figure2.svg
    """
    return save(surfaces.flop_ratio_surfaces(), out, "figure2", format)


def figure_6(out: Path, format: str = "png") -> Path:
    """Figure 6 of Sardana et al. 2024 to `out/figure6.{format}`.

    The cost-optimal model over the Chinchilla-style one, in parameters, tokens and
    lifetime US dollars, over loss (nats/token) x lifetime requests under Table 3's cost
    model: `plot.cost_ratio_surfaces` at its defaults.

    Parameters
    ----------
    out : pathlib.Path
        An existing folder.
    format : str, optional
        One of `FORMATS`: "png" (default, at `PNG_DPI`), "pdf" or "svg".

    Returns
    -------
    pathlib.Path
        The file written, `out/figure6.{format}`.

    Raises
    ------
    ScaleplanError
        A `format` not in `FORMATS`.

    Examples
    --------
    It solves an 80 x 90 grid three ways and draws three contour panels (seconds), so
    this is not run here:

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:  # doctest: +SKIP
    ...     print(figure_6(Path(tmp), format="svg").name)
    figure6.svg
    """
    return save(surfaces.cost_ratio_surfaces(), out, "figure6", format)


def training_share(out: Path, format: str = "png") -> Path:
    """The training share of lifetime cost against demand to `out/training_share.{format}`.

    Training's share of lifetime FLOPs against inference tokens, and of lifetime US
    dollars against requests, at the lifetime optimum for the qualities of 7B, 30B and
    70B Chinchilla-style models: `plot.training_share` at its defaults.

    Parameters
    ----------
    out : pathlib.Path
        An existing folder.
    format : str, optional
        One of `FORMATS`: "png" (default, at `PNG_DPI`), "pdf" or "svg".

    Returns
    -------
    pathlib.Path
        The file written, `out/training_share.{format}`.

    Raises
    ------
    ScaleplanError
        A `format` not in `FORMATS`.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(training_share(Path(tmp), format="svg").name)
    training_share.svg
    """
    return save(share.training_share(), out, "training_share", format)


def step_time_fit(out: Path, format: str = "png") -> Path:
    """The step-time model against measurements to `out/steptime_fit.{format}`.

    Predicted against measured seconds per training step on the shipped CPU
    measurements: `plot.step_time_fit` at its defaults.

    Parameters
    ----------
    out : pathlib.Path
        An existing folder.
    format : str, optional
        One of `FORMATS`: "png" (default, at `PNG_DPI`), "pdf" or "svg".

    Returns
    -------
    pathlib.Path
        The file written, `out/steptime_fit.{format}`.

    Raises
    ------
    ScaleplanError
        A `format` not in `FORMATS`.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(step_time_fit(Path(tmp), format="svg").name)
    steptime_fit.svg
    """
    return save(steptime.step_time_fit(), out, "steptime_fit", format)


def optimum_vs_demand(out: Path, format: str = "png") -> Path:
    """The optimum against demand to `out/optimum_vs_demand.{format}`.

    The lifetime optimum's parameters and training tokens per parameter against lifetime
    requests, with serving priced at the paper's constant MFU and by the roofline:
    `plot.optimum_vs_demand` at its defaults.

    Parameters
    ----------
    out : pathlib.Path
        An existing folder.
    format : str, optional
        One of `FORMATS`: "png" (default, at `PNG_DPI`), "pdf" or "svg".

    Returns
    -------
    pathlib.Path
        The file written, `out/optimum_vs_demand.{format}`.

    Raises
    ------
    ScaleplanError
        A `format` not in `FORMATS`.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(optimum_vs_demand(Path(tmp), format="svg").name)
    optimum_vs_demand.svg
    """
    return save(demand.optimum_vs_demand(), out, "optimum_vs_demand", format)


def finite_data(out: Path, format: str = "png") -> Path:
    """The optimum under finite data to `out/finite_data.{format}`.

    The dollar optimum under 1T, 5T and 15T unique tokens against lifetime requests
    (Muennighoff et al.'s data-constrained law): its parameters, epochs over the unique
    data and premium over unlimited data (%): `plot.finite_data` at its defaults.

    Parameters
    ----------
    out : pathlib.Path
        An existing folder.
    format : str, optional
        One of `FORMATS`: "png" (default, at `PNG_DPI`), "pdf" or "svg".

    Returns
    -------
    pathlib.Path
        The file written, `out/finite_data.{format}`.

    Raises
    ------
    ScaleplanError
        A `format` not in `FORMATS`.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(finite_data(Path(tmp), format="svg").name)
    finite_data.svg
    """
    return save(finite.finite_data(), out, "finite_data", format)


def optimal_experts(out: Path, format: str = "png") -> Path:
    """The optimal expert count against demand and memory to `out/optimal_experts.{format}`.

    The joint MoE law's lifetime optimum at 2.3 nats/token over 1 to 32 experts, with no
    memory cap and with the bf16 weights within 16 GB and 4 GB, and the FLOPs it saves over
    the dense model: `plot.optimal_experts` at its defaults.

    Parameters
    ----------
    out : pathlib.Path
        An existing folder.
    format : str, optional
        One of `FORMATS`: "png" (default, at `PNG_DPI`), "pdf" or "svg".

    Returns
    -------
    pathlib.Path
        The file written, `out/optimal_experts.{format}`.

    Raises
    ------
    ScaleplanError
        A `format` not in `FORMATS`.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(optimal_experts(Path(tmp), format="svg").name)
    optimal_experts.svg
    """
    return save(experts.optimal_experts(), out, "optimal_experts", format)


FIGURES: tuple[Callable[..., Path], ...] = (
    figure_2,
    figure_6,
    training_share,
    step_time_fit,
    optimum_vs_demand,
    finite_data,
    optimal_experts,
)
