"""Fitting an engine profile to published rows (`engines.ENGINES` holds the results).

The fit minimises the squared log errors of the roofline's predictions of published rows
(`serving_published.predict_row`) over nine terms of an `Efficiency`: the fractions of
the 16-, 8- and 4-bit peaks, of bandwidth for the weights and for the cache, and of the
links' rate for all-reduces, the per-step overhead, the latency per all-reduce and the
GEMM ramp's half-efficiency tokens, each kept inside its bounds by a logistic change of
variables so that MINPACK's Levenberg-Marquardt can run (its linear algebra is its own,
so the BLAS kernel does not move the answer). The runtime's memory reserve sets which
batch fits, a whole number, so the error is flat between its steps; it is chosen on a
grid instead (`reserve_bytes`). The whole memory is usable (`memory_fraction` 1, as the
published runs were sized to fit), the cache takes `kv_share` of what the weights and
the reserve leave (held fixed: TensorRT-LLM's documented default is 0.9), and
embeddings and head are held at 16 bits (`edge_bytes` 2), as quantised checkpoints keep
them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .efficiency import Efficiency
from .published_errors import ratio
from .serving_published import PublishedRow, predict_row

__all__ = ["BOUNDS", "fit_engine", "log_errors"]

# Upper bounds of the fitted terms (the lower are 0), in Efficiency's units.
BOUNDS = {
    "compute": 1.0,
    "memory": 1.0,
    "kv_memory": 1.0,
    "overhead_seconds": 0.02,
    "collective_seconds": 5e-4,
    "gemm_half_tokens": 4096.0,
    "compute_8bit": 1.0,
    "compute_4bit": 1.0,
    "link": 1.0,
}
_START = np.array([0.6, 0.85, 0.7, 0.003, 5e-5, 64.0, 0.6, 0.6, 0.8])
# A row whose model does not fit the memory under a trial profile: a large miss.
_NO_FIT = 3.0


def log_errors(rows: list[PublishedRow], efficiency: Efficiency, memory: str = "full"):
    """`ln(predicted / measured)` of every quantity of `rows` (latencies as rates), so
    that positive means the roofline promises more than was measured.

    Examples
    --------
    >>> from scaleplan.systems.serving_published import published_rows
    >>> row = published_rows()[0]
    >>> print(f"{log_errors([row], Efficiency())[0]:+.3f}")
    -0.377
    """
    out = []
    for row in rows:
        try:
            predicted = predict_row(row, efficiency, memory=memory)
        except ValueError:
            out.append(_NO_FIT)
            continue
        for quantity, value in predicted.items():
            out.append(np.log(ratio(quantity, value, getattr(row, quantity))))
    return np.array(out)


def _efficiency(z: np.ndarray, reserve_bytes: float, kv_share: float = 1.0) -> Efficiency:
    high = np.array(list(BOUNDS.values()))
    values = high / (1.0 + np.exp(-z))
    terms = dict(zip(BOUNDS, map(float, values), strict=True))
    return replace(Efficiency(**terms), reserve_bytes=reserve_bytes, memory_fraction=1.0,
                   edge_bytes=2.0, kv_share=kv_share)  # fmt: skip


def fit_engine(
    rows: list[PublishedRow],
    *,
    reserve_bytes: float = 0.0,
    memory: str = "full",
    kv_share: float = 1.0,
) -> Efficiency:
    """The `Efficiency` that minimises the squared log errors over `rows` (the module's
    docstring).

    Parameters
    ----------
    rows : list of PublishedRow
        Rows `serving_published.predictable` accepts.
    reserve_bytes : float, optional
        The runtime's reserve per GPU, held fixed (default 0).
    memory : {"full", "paged"}, optional
        How an in-flight engine holds its sequences.
    kv_share : float, optional
        The cache's share of the memory the weights and the reserve leave, held fixed
        (default 1; TensorRT-LLM's `free_gpu_memory_fraction` default is 0.9).

    Returns
    -------
    Efficiency

    Examples
    --------
    Each trial predicts every row (about a minute for the 868 in-flight rows here), so
    this is not run here:

    >>> from scaleplan.systems import serving_published as pub
    >>> rows = [r for r in pub.published_rows() if not pub.predictable(r)
    ...         and r.mode == "inflight_max_throughput"]  # doctest: +SKIP
    >>> fit_engine(rows).compute  # doctest: +SKIP
    0.48
    """
    from scipy.optimize import least_squares

    high = np.array(list(BOUNDS.values()))
    z0 = np.log(_START / (high - _START))
    fit = least_squares(
        lambda z: log_errors(rows, _efficiency(z, reserve_bytes, kv_share), memory),
        z0,
        method="lm",
        xtol=1e-10,
        ftol=1e-10,
        max_nfev=400,
    )
    return _efficiency(fit.x, reserve_bytes, kv_share)
