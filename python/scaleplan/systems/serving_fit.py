"""The serving roofline against published measurements: predictions, a fit of the
efficiencies, and its error on models it was not fitted to.

The measurements (`data/serving_measurements.csv`, sources in `data/SOURCES.md`) are
TensorRT-LLM's static-batch benchmarks: a batch of prompts is prefilled, then decoded one
token at a time. The roofline predicts such a run as one prefill plus a decode step at
each context length it passes through; a first-token row is one prefill of one prompt.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

import numpy as np

from .._utils.frames import Record
from ..arch.shapes import MODELS
from ..hardware.accelerators import accelerator
from .efficiency import IDEAL, Efficiency
from .serving import decode, prefill

__all__ = [
    "MAX_COLLECTIVE_SECONDS",
    "MAX_OVERHEAD_SECONDS",
    "Measurement",
    "fit_efficiency",
    "held_out_errors",
    "log_errors",
    "measurements",
    "predict",
]


@dataclass(frozen=True, repr=False)
class Measurement(Record):
    """One published row: a throughput (output tokens/s per GPU of a static batch) or a
    time to first token (seconds, one prompt); `measurements` reads them.

    Parameters
    ----------
    model : str
        The model's name in `arch.shapes.MODELS` ("llama-2-7b").
    gpu : str
        The accelerator's name ("h100-sxm").
    precision : str
        The weights' precision ("fp8", "fp16").
    tensor_parallel : int
        GPUs in the group.
    batch_size : int
        Sequences in the static batch.
    input_tokens : int
        Tokens per prompt.
    output_tokens : int or None
        Tokens generated per sequence (None for a time-to-first-token row).
    value : float
        Output tokens/s per GPU ("throughput") or seconds to first token ("ttft").
    kind : {"throughput", "ttft"}
        Which `value` is.

    Examples
    --------
    >>> row = measurements()[0]
    >>> print(f"{row.model} on {row.gpu} ({row.precision}), batch {row.batch_size}, "
    ...       f"{row.input_tokens} in / {row.output_tokens} out: {row.value:,.0f} tokens/s")
    gpt-j-6b on h100-sxm (fp8), batch 1024, 128 in / 128 out: 26,150 tokens/s
    """

    model: str
    gpu: str
    precision: str
    tensor_parallel: int
    batch_size: int
    input_tokens: int
    output_tokens: int | None
    value: float
    kind: str  # "throughput" or "ttft"


def measurements() -> list[Measurement]:
    """The 57 published TensorRT-LLM rows shipped in `data/serving_measurements.csv`, in
    file order (sources in `data/SOURCES.md`).

    Returns
    -------
    list of Measurement

    Examples
    --------
    >>> rows = measurements()
    >>> len(rows), sum(r.kind == "ttft" for r in rows)
    (57, 20)
    >>> sorted({r.gpu for r in rows})
    ['a100-80gb', 'h100-sxm', 'l40s']
    """
    text = resources.files("scaleplan.data").joinpath("serving_measurements.csv").read_text()
    rows = []
    for r in csv.DictReader(text.splitlines()):
        ttft = r["ttft_ms"] != ""
        rows.append(
            Measurement(
                model=r["model"],
                gpu=r["gpu"],
                precision=r["precision"],
                tensor_parallel=int(r["tensor_parallel"]),
                batch_size=int(r["batch_size"]),
                input_tokens=int(r["input_tokens"]),
                output_tokens=None if ttft else int(r["output_tokens"]),
                value=float(r["ttft_ms"]) / 1e3
                if ttft
                else float(r["output_tokens_per_second_per_gpu"]),
                kind="ttft" if ttft else "throughput",
            )
        )
    return rows


def predict(row: Measurement, efficiency: Efficiency = IDEAL) -> float:
    """The roofline's value for a published row: output tokens/s per GPU, or TTFT in seconds.

    A throughput row is one prefill plus a decode step at each context length it passes
    through: `batch * output_tokens / ((TTFT + sum of decode steps) * tensor_parallel)`.
    Memory is not capped below the whole GPU here (`memory_fraction` 1): the published
    batches were chosen to fit.

    Parameters
    ----------
    row : Measurement
        The published row.
    efficiency : Efficiency, optional
        The serving stack's fractions of peak and overheads (default `IDEAL`, the bare
        roofline).

    Returns
    -------
    float
        Output tokens/s per GPU (throughput rows) or seconds (TTFT rows).

    Examples
    --------
    >>> from scaleplan.systems.serving import Efficiency
    >>> row = measurements()[0]  # 26,150 tokens/s measured
    >>> print(f"roofline {predict(row):,.0f}, calibrated {predict(row, Efficiency()):,.0f} "
    ...       f"tokens/s per GPU")
    roofline 48,906, calibrated 32,842 tokens/s per GPU
    """
    eff = replace(efficiency, memory_fraction=1.0)
    # The catalogue keeps the datasheets' decimal gigabytes, but an "80GB" A100 holds 80 GiB
    # (nvidia-smi: 81,920 MiB), and a Llama-2-7B batch of 60 at 2,176 tokens of context
    # (a published row) fits only in the binary figure.
    gpu = accelerator(row.gpu)
    gpu = replace(gpu, memory_bytes=gpu.memory_bytes * 2**30 / 1e9)
    common: dict[str, Any] = dict(
        gpu=gpu,
        precision=row.precision,
        tensor_parallel=row.tensor_parallel,
        efficiency=eff,
    )
    shape = MODELS[row.model]
    first = prefill(shape, batch_size=row.batch_size, prompt_tokens=row.input_tokens, **common)
    if row.kind == "ttft":
        return float(first.seconds)
    assert row.output_tokens is not None
    # The prefill gives the first output token; each later one is a decode step whose
    # context is everything before it.
    contexts = row.input_tokens + np.arange(1, row.output_tokens)
    steps = decode(shape, batch_size=row.batch_size, context_tokens=contexts, **common)
    seconds = first.seconds + float(np.sum(steps.seconds))
    return row.batch_size * row.output_tokens / (seconds * row.tensor_parallel)


def log_errors(rows: list[Measurement], efficiency: Efficiency) -> np.ndarray:
    """`ln(predicted / measured)` per row, with TTFT turned into a rate (`ln(measured /
    predicted)`), so that a positive error always means the roofline promises more than
    was measured.

    Parameters
    ----------
    rows : list of Measurement
        Published rows.
    efficiency : Efficiency
        The serving stack's fractions of peak and overheads.

    Returns
    -------
    numpy.ndarray
        One log error per row (nepers: 0.1 is about 10%).

    Examples
    --------
    >>> from scaleplan.systems.serving import Efficiency
    >>> errors = log_errors(measurements(), Efficiency())
    >>> print(f"mean |ln(predicted / measured)| = {abs(errors).mean():.3f}")
    mean |ln(predicted / measured)| = 0.143
    """
    out = []
    for r in rows:
        p = predict(r, efficiency)
        out.append(np.log(p / r.value) if r.kind == "throughput" else np.log(r.value / p))
    return np.array(out)


def fit_efficiency(rows: list[Measurement]) -> Efficiency:
    """Compute and memory efficiencies in (0, 1), a per-step overhead in (0, 50 ms) and a
    latency per all-reduce in (0, 1 ms) minimising the squared log errors over `rows`.

    The bounds are a logistic change of variables, so that MINPACK's Levenberg-Marquardt
    (`least_squares(method="lm")`) can run: its linear algebra is its own, not the BLAS
    kernel's. SciPy's bounded method gave answers that moved in the 9th digit with
    `OPENBLAS_CORETYPE`, even run to the f64 limit, because the optimum lies in a flat
    valley.

    Parameters
    ----------
    rows : list of Measurement
        Published rows to fit.

    Returns
    -------
    Efficiency
        The fitted fractions and seconds (`memory_fraction` left at its default).

    Examples
    --------
    The fit predicts every row at each of its iterations (about 20 s here), so this
    is not run here; `Efficiency`'s defaults are this fit to two figures:

    >>> eff = fit_efficiency(measurements())  # doctest: +SKIP
    >>> print(f"compute {eff.compute:.2f}, memory {eff.memory:.2f}, overhead "
    ...       f"{eff.overhead_seconds * 1e3:.1f} ms, all-reduce "
    ...       f"{eff.collective_seconds * 1e3:.2f} ms")  # doctest: +SKIP
    compute 0.55, memory 0.99, overhead 5.3 ms, all-reduce 0.16 ms
    """
    from scipy.optimize import least_squares

    def efficiency(z: np.ndarray) -> Efficiency:
        c, m, o, a = 1.0 / (1.0 + np.exp(-z))
        return Efficiency(float(c), float(m), float(o) * MAX_OVERHEAD_SECONDS,
                          collective_seconds=float(a) * MAX_COLLECTIVE_SECONDS)  # fmt: skip

    def residuals(z: np.ndarray) -> np.ndarray:
        return log_errors(rows, efficiency(z))

    start = np.array([0.7, 0.7, 1e-3 / MAX_OVERHEAD_SECONDS, 1e-5 / MAX_COLLECTIVE_SECONDS])
    fit = least_squares(
        residuals, x0=np.log(start / (1.0 - start)), method="lm", xtol=1e-15, ftol=1e-15
    )
    return efficiency(fit.x)


# The largest per-step overhead and per-all-reduce latency the fit considers.
MAX_OVERHEAD_SECONDS = 0.05
MAX_COLLECTIVE_SECONDS = 1e-3


def held_out_errors(rows: list[Measurement]) -> dict[str, np.ndarray]:
    """Relative errors `predicted / measured - 1` of each model's rows under efficiencies
    fitted to the other models' rows (leave-one-model-out).

    Parameters
    ----------
    rows : list of Measurement
        Published rows.

    Returns
    -------
    dict of str to numpy.ndarray
        Per model name, the relative errors of its rows (fractions; TTFT rows as rates, as
        in `log_errors`).

    Examples
    --------
    One fit per model (about 20 s here), so this is not run here:

    >>> errors = held_out_errors(measurements())  # doctest: +SKIP
    >>> {model: f"{abs(e).mean():.0%}" for model, e in errors.items()}  # doctest: +SKIP
    {'falcon-180b': '25%', 'gpt-j-6b': '11%', 'llama-2-70b': '21%', 'llama-2-7b': '11%'}
    """
    out = {}
    for model in sorted({r.model for r in rows}):
        train = [r for r in rows if r.model != model]
        test = [r for r in rows if r.model == model]
        out[model] = np.expm1(log_errors(test, fit_efficiency(train)))
    return out
