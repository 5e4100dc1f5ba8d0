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

from ..arch.shapes import MODELS
from ..hardware.accelerators import accelerator
from .serving import IDEAL, Efficiency, decode, prefill

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


@dataclass(frozen=True)
class Measurement:
    """One published row: a throughput (output tokens/s per GPU of a static batch) or a
    time to first token (seconds, one prompt)."""

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
    """The shipped rows, in file order."""
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
    """The roofline's value for `row`: output tokens/s per GPU, or TTFT in seconds. Memory
    is not capped below the whole GPU here (`memory_fraction` 1): the published batches
    were chosen to fit."""
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
    """ln(predicted / measured) per row, with TTFT turned into a rate so that a positive
    error always means the roofline promises more than was measured."""
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
    valley."""
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
    """Relative errors (predicted / measured - 1) of each model's rows under efficiencies
    fitted to the other models' rows."""
    out = {}
    for model in sorted({r.model for r in rows}):
        train = [r for r in rows if r.model != model]
        test = [r for r in rows if r.model == model]
        out[model] = np.expm1(log_errors(test, fit_efficiency(train)))
    return out
