"""The serving roofline's error on the published rows (`serving_published`): one entry
per predicted quantity (`published_errors`), the ratio they are measured by (`ratio`),
and summaries by any field (`error_summary`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._utils.frames import Record
from .efficiency import Efficiency
from .engines import default_efficiency
from .serving_published import group_size, predict_row, predictable, published_rows

__all__ = ["PublishedError", "error_summary", "published_errors", "ratio"]

# A row's layout, by whether its attention ran data parallel.
LAYOUTS = {False: "tensor parallel", True: "attention data parallel"}


@dataclass(frozen=True, repr=False)
class PublishedError(Record):
    """The roofline against one published quantity (`published_errors` makes them).

    `ratio` is the roofline's rate over the measured one (for a latency, the measured time
    over the predicted one), so that above 1 always means the roofline promises more than
    was measured.

    Parameters
    ----------
    source_id, model, gpu, weight_format, mode : str
        The row's, as its source gives them.
    tensor_parallel : int
        GPUs of the group serving one copy (`serving_published.group_size`).
    quantity : str
        "output_tokens_per_second_per_gpu", "ttft_ms" or "tpot_ms".
    measured, predicted : float
        In the quantity's unit.
    ratio : float
    layout : str, optional
        "tensor parallel" (default; expert parallelism under it prices the same), or
        "attention data parallel" (the experts split over the group, `serving.decode`).

    Examples
    --------
    >>> e = PublishedError("s", "m", "g", 1, "FP8", "latency_batch1", "ttft_ms", 20.0, 10.0,
    ...                    2.0)
    >>> e.ratio  # the roofline promises half the measured time
    2.0
    """

    source_id: str
    model: str
    gpu: str
    tensor_parallel: int
    weight_format: str
    mode: str
    quantity: str
    measured: float
    predicted: float
    ratio: float
    layout: str = "tensor parallel"


def published_errors(
    efficiency: Efficiency | None = None, *, memory: str = "full", moe: bool = False
) -> list[PublishedError]:
    """The roofline against every predictable published row, one entry per quantity.

    Parameters
    ----------
    efficiency : Efficiency or None
        The serving stack (None: the default engine profile's).
    memory : {"full", "paged"}
        How an in-flight engine holds its sequences (the module's docstring).
    moe : bool, optional
        The mixtures of experts instead of the dense rows (`serving_published.predictable`:
        held out of every fit, so their errors are out of sample).

    Returns
    -------
    list of PublishedError

    Examples
    --------
    >>> from scaleplan.systems.serving import IDEAL
    >>> bound = published_errors(IDEAL, memory="paged")  # doctest: +SKIP
    >>> print(len(bound), f"{min(e.ratio for e in bound):.2f}")  # doctest: +SKIP
    1151 1.17
    """
    eff = default_efficiency() if efficiency is None else efficiency
    out = []
    for row in published_rows():
        if row.moe != moe or predictable(row, moe=moe):
            continue
        for quantity, predicted in predict_row(row, eff, memory=memory).items():
            measured = getattr(row, quantity)
            out.append(
                PublishedError(
                    row.source_id,
                    row.model,
                    row.gpu,
                    group_size(row) or 1,
                    row.weight_format,
                    row.mode,
                    quantity,
                    measured,
                    predicted,
                    ratio(quantity, predicted, measured),
                    LAYOUTS[row.attention_data_parallel],
                )
            )
    return out


def ratio(quantity: str, predicted: float, measured: float) -> float:
    """Predicted over measured for a rate, measured over predicted for a latency: above 1
    always means the roofline promises more than was measured.

    Examples
    --------
    >>> ratio("output_tokens_per_second_per_gpu", 300.0, 200.0), ratio("ttft_ms", 50.0, 75.0)
    (1.5, 1.5)
    """
    return predicted / measured if quantity.startswith("output") else measured / predicted


def error_summary(errors: list[PublishedError], by: str) -> dict[str, dict[str, float]]:
    """Per value of the field `by` (for example "gpu", "source_id"): the rows, the median
    |ratio - 1|, the share within 25%, and the highest and lowest ratio.

    Examples
    --------
    >>> errors = [PublishedError("s", "m", "g", 1, "FP8", "static_batch", "ttft_ms", 1.0,
    ...                          1.0, r) for r in (0.9, 1.0, 1.5)]
    >>> error_summary(errors, "gpu")["g"]["within_25"]
    0.6666666666666666
    """
    groups: dict[str, list[float]] = {}
    for e in errors:
        groups.setdefault(str(getattr(e, by)), []).append(e.ratio)
    out = {}
    for key, ratios in sorted(groups.items()):
        r = np.array(ratios)
        dev = np.abs(r - 1.0)
        out[key] = {"rows": float(len(r)), "median_abs_error": float(np.median(dev)),
                    "within_25": float(np.mean(dev <= 0.25)), "highest": float(r.max()),
                    "lowest": float(r.min())}  # fmt: skip
    return out
