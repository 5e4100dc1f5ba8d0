"""The serving roofline against every published measurement we collected: the rows, which
of them the roofline can predict, and its error on them.

`data/serving_published.csv` holds 1,996 published rows, each with its source
(`data/SOURCES.md`). Model and GPU columns are the sources' labels (`MODEL_NAMES` and
`GPU_NAMES` map them to ours); `predictable` says why a row is left out (pipeline
parallelism, GPUs outside the catalogue, online serving the engine did not keep up with).
A mixture of experts is predicted like a dense model: its step reads the experts its
tokens reach, and a group with expert parallelism and data-parallel attention (TensorRT-LLM's
"DEP" rows) is priced by that layout (`systems.serving`).

How a row is predicted (`predict_row`):

- `static_batch`: a batch of `batch_size` prompts prefilled, then decoded one token at a
  time (as `serving_fit.predict`).
- `inflight_max_throughput` (trtllm-bench: every request queued at once, the engine
  batching as many as fit): the same, with the batch the largest that memory holds.
  `memory="full"` reserves each sequence's whole length (prompt and output), as the
  planners do today; `memory="paged"` counts each at its mean length over its life
  (prompt plus half the output), as a paged cache under in-flight batching holds them.
- `latency_batch1`: one prompt's prefill (TTFT) or one decode step at its context (TPOT).
- `online_rate` (requests arriving at a steady rate the engine keeps up with): the mean
  TTFT and TPOT of `serving_online.online_latency` at the served rate.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, fields, replace
from functools import cache
from importlib import resources
from typing import Any

from .._utils.checks import choice
from .._utils.frames import Record
from ..arch.shapes import MODELS
from ..errors import ScaleplanError
from ..hardware.accelerators import accelerator
from .efficiency import IDEAL, Efficiency
from .serving import decode, prefill
from .serving_fit import Measurement, predict
from .serving_online import online_latency

__all__ = [
    "GPU_NAMES",
    "MODEL_NAMES",
    "PublishedRow",
    "group_size",
    "predict_row",
    "predictable",
    "published_rows",
]

# The sources' model labels, as ours (models with a named shape only).
MODEL_NAMES = {
    "Llama-2-7B": "llama-2-7b",
    "Llama-2-13B": "llama-2-13b",
    "Llama-2-70B": "llama-2-70b",
    "Llama-3-8B": "llama-3-8b",
    "Llama-3.1-8B": "llama-3-8b",
    "Llama-3-70B": "llama-3-70b",
    "Llama-3.1-70B": "llama-3-70b",
    "Llama-3.3-70B": "llama-3-70b",
    "Llama-3.1-405B": "llama-3.1-405b",
    "Mistral-7B": "mistral-7b",
    "GPT-J-6B": "gpt-j-6b",
    "Falcon-180B": "falcon-180b",
    "Mixtral-8x7B": "mixtral-8x7b",
    "Mixtral-8x22B": "mixtral-8x22b",
    "Qwen3-30B-A3B": "qwen3-30b-a3b",
    "Qwen3-235B-A22B": "qwen3-235b-a22b",
    "Llama-4-Scout-17B-16E": "llama-4-scout",
    "Llama-4-Maverick-17B-128E": "llama-4-maverick",
    "GPT-OSS-20B": "gpt-oss-20b",
    "GPT-OSS-120B": "gpt-oss-120b",
    "DeepSeek-R1-0528": "deepseek-v3",
    "DeepSeek-R1 (671B)": "deepseek-v3",
}
# The sources' GPU labels, as catalogue names. GH200-480GB is the 96 GB HBM3 GH200 (with
# 480 GB of CPU memory); A100 PCIe and RTX PRO 6000 are not in the catalogue.
GPU_NAMES = {
    "H100-SXM-80GB": "h100-sxm",
    "H200-SXM-141GB": "h200",
    "A100-SXM4-80GB": "a100-80gb",
    "L40S": "l40s",
    "B200-180GB": "b200",
    "B200-SXM-180GB": "b200",
    "GB200-192GB": "gb200",
    "GH200-480GB": "gh200",
    "MI300X-192GB": "mi300x",
}
_FORMATS = {"FP16": "fp16", "BF16": "bf16", "FP8": "fp8", "FP4": "fp4"}
_MODES = ("static_batch", "inflight_max_throughput", "latency_batch1", "online_rate")


@dataclass(frozen=True, repr=False)
class PublishedRow(Record):
    """One published measurement, as its source gives it (`published_rows` reads them).

    Parameters
    ----------
    source_id, engine, engine_version, date : str
        Where it comes from (`data/SOURCES.md` describes each source_id).
    model, gpu : str
        The source's labels (`MODEL_NAMES`, `GPU_NAMES` map them to ours).
    moe : bool
        Whether the model is a mixture of experts.
    gpu_count, tensor_parallel, pipeline_parallel, expert_parallel : int or None
        GPUs behind the number, and the layout (None where the source does not say).
    attention_data_parallel : bool
        Whether the source says attention ran data parallel (TensorRT-LLM's "DEP" labels,
        "attention DP on").
    weight_format, kv_format : str
        As printed ("FP8", "FP4", ""); "" where not stated.
    mode : str
        How it was run: static_batch, inflight_max_throughput, latency_batch1,
        online_rate (a steady request rate the engine kept up with), concurrency_sweep,
        mlperf_offline, mlperf_server or other.
    batch_size, input_tokens, output_tokens : int or None
    output_tokens_per_second_per_gpu : float or None
    ttft_ms, tpot_ms : float or None
    requests_per_second : float or None
        Requests served per second by the whole system (online serving).
    notes : str
        The literal value where it was converted, and anything doubtful.

    Examples
    --------
    >>> row = published_rows()[0]
    >>> print(row.source_id, row.model, row.gpu, row.mode, row.output_tokens_per_second_per_gpu)
    TRTLLM-PERF-v0.5 GPT-J-6B H100-SXM-80GB static_batch 10907.0
    """

    source_id: str
    engine: str = field(repr=False)
    engine_version: str = field(repr=False)
    date: str = field(repr=False)
    model: str
    moe: bool = field(repr=False)
    gpu: str
    gpu_count: int | None = field(repr=False)
    tensor_parallel: int | None
    pipeline_parallel: int | None = field(repr=False)
    expert_parallel: int | None = field(repr=False)
    attention_data_parallel: bool = field(repr=False)
    weight_format: str
    kv_format: str
    mode: str
    batch_size: int | None
    input_tokens: int | None
    output_tokens: int | None
    output_tokens_per_second_per_gpu: float | None
    ttft_ms: float | None
    tpot_ms: float | None
    requests_per_second: float | None = field(repr=False)
    notes: str = field(repr=False)


_INTS = ("gpu_count", "tensor_parallel", "pipeline_parallel", "expert_parallel", "batch_size",
         "input_tokens", "output_tokens")  # fmt: skip
_FLOATS = ("output_tokens_per_second_per_gpu", "ttft_ms", "tpot_ms", "requests_per_second")


def _row(text: dict[str, str]) -> PublishedRow:
    kw: dict[str, object] = {f.name: text[f.name] for f in fields(PublishedRow)}
    kw.update({k: int(text[k]) if text[k].strip() else None for k in _INTS})
    kw.update({k: float(text[k]) if text[k].strip() else None for k in _FLOATS})
    kw["moe"] = text["moe"] == "yes"
    kw["attention_data_parallel"] = text["attention_data_parallel"] == "yes"
    return PublishedRow(**kw)  # type: ignore[arg-type]


@cache
def _rows() -> tuple[PublishedRow, ...]:
    text = resources.files("scaleplan.data").joinpath("serving_published.csv").read_text()
    return tuple(_row(r) for r in csv.DictReader(text.splitlines()))


def published_rows() -> list[PublishedRow]:
    """Every published row of `data/serving_published.csv`, in file order.

    Examples
    --------
    >>> rows = published_rows()
    >>> len(rows), sum(r.moe for r in rows)
    (1996, 688)
    """
    return list(_rows())


def predictable(row: PublishedRow, *, moe: bool = False) -> str:
    """Why the roofline cannot predict `row`, or "" if it can.

    Parameters
    ----------
    row : PublishedRow
    moe : bool, optional
        Whether to take mixtures of experts (under tensor parallelism alone). They are
        held out unless asked for: the engine profiles are fitted on the dense rows, and
        the MoE rows measure how the MoE roofline does on rows no fit has seen.

    Examples
    --------
    >>> rows = published_rows()
    >>> mixtral = next(r for r in rows if r.moe)
    >>> predictable(rows[0]), predictable(mixtral), predictable(mixtral, moe=True)
    ('', 'a mixture of experts (held out)', '')
    """
    if row.moe and not moe:
        return "a mixture of experts (held out)"
    if row.model not in MODEL_NAMES:
        return f"no shape for {row.model}"
    if row.gpu not in GPU_NAMES:
        return f"{row.gpu} is not in the catalogue"
    if row.mode not in _MODES:
        return f"mode {row.mode}"
    if group_size(row) is None or (row.pipeline_parallel or 1) != 1:
        return "pipeline parallel, or no layout given"
    if _layout(row) != (1, False) and row.mode != "inflight_max_throughput":
        return "expert parallelism outside the in-flight rows"
    if row.weight_format not in _FORMATS:
        return f"weights {row.weight_format or 'not stated'}"
    if row.mode == "latency_batch1":
        return "" if row.input_tokens and (row.ttft_ms or row.tpot_ms) else "no latency"
    if row.mode == "online_rate":
        lengths = row.input_tokens and row.output_tokens and row.requests_per_second
        return "" if lengths and (row.ttft_ms or row.tpot_ms) else "no rate or latency"
    if not (row.output_tokens_per_second_per_gpu and row.input_tokens and row.output_tokens):
        return "no throughput"
    if row.mode == "static_batch" and row.batch_size is None:
        return "no batch size"
    return ""


def group_size(row: PublishedRow) -> int | None:
    """GPUs of the group serving one copy of the model: the tensor-parallel degree, or for
    TensorRT-LLM's "DEP n" rows (attention data parallel, experts over n GPUs, no TP
    printed) n; None where the source gives no layout.

    Examples
    --------
    >>> rows = published_rows()
    >>> dep = next(r for r in rows if r.attention_data_parallel and r.tensor_parallel is None)
    >>> dep.expert_parallel, group_size(dep)
    (4, 4)
    """
    if row.tensor_parallel is not None:
        return row.tensor_parallel
    return row.expert_parallel if row.attention_data_parallel else None


def _layout(row: PublishedRow) -> tuple[int, bool]:
    """`(expert_parallel, attention_data_parallel)` of the row's group."""
    return row.expert_parallel or 1, row.attention_data_parallel


def predict_row(
    row: PublishedRow, efficiency: Efficiency = IDEAL, *, memory: str = "full"
) -> dict[str, float]:  # a mixture of experts is predicted like any row (`predictable`)
    """The roofline's values for a predictable `row`: `output_tokens_per_second_per_gpu`,
    `ttft_ms` and/or `tpot_ms`, whichever the row measured.

    Parameters
    ----------
    row : PublishedRow
        A row `predictable` accepts.
    efficiency : Efficiency, optional
        The serving stack (default `IDEAL`, the bare roofline).
    memory : {"full", "paged"}, optional
        How an in-flight engine holds its sequences (the module's docstring).

    Returns
    -------
    dict of str to float

    Raises
    ------
    ScaleplanError
        If `predictable` gives a reason (naming `row`).

    Examples
    --------
    >>> row = published_rows()[0]  # GPT-J on an H100, batch 64, 128 in / 128 out
    >>> print(f"{predict_row(row)['output_tokens_per_second_per_gpu']:,.0f} tokens/s on the "
    ...       f"bare roofline, {row.output_tokens_per_second_per_gpu:,.0f} measured")
    21,834 tokens/s on the bare roofline, 10,907 measured
    """
    why = predictable(row, moe=True)
    if why:
        raise ScaleplanError(f"row cannot be predicted: {why}", "row")
    memory = choice("memory", memory, ("full", "paged"))
    if row.mode in ("latency_batch1", "static_batch"):
        # The engine ran this batch, so it fit: the row asks the profile for speed, which
        # the memory terms do not touch, and not for the batch memory holds.
        efficiency = replace(efficiency, memory_fraction=1.0, reserve_bytes=0.0, kv_share=1.0)
    if row.mode == "latency_batch1":
        out = {}
        if row.ttft_ms is not None:
            out["ttft_ms"] = 1e3 * predict(_measurement(row, 1, None), efficiency)
        if row.tpot_ms is not None:
            out["tpot_ms"] = 1e3 * _tpot(row, efficiency)
        return out
    if row.mode == "static_batch":
        m = _measurement(row, row.batch_size or 1, row.output_tokens)
        return {"output_tokens_per_second_per_gpu": predict(m, efficiency)}
    if row.mode == "online_rate":
        return _online(row, efficiency)
    return {"output_tokens_per_second_per_gpu": _inflight(row, efficiency, memory)}


def _measurement(row: PublishedRow, batch: int, output_tokens: int | None) -> Measurement:
    """`row` as the calibration's record (a TTFT row without `output_tokens`)."""
    return Measurement(
        model=MODEL_NAMES[row.model],
        gpu=GPU_NAMES[row.gpu],
        precision=_FORMATS[row.weight_format],
        tensor_parallel=group_size(row) or 1,
        batch_size=batch,
        input_tokens=row.input_tokens or 0,
        output_tokens=output_tokens,
        value=0.0,
        kind="ttft" if output_tokens is None else "throughput",
    )


def _on_whole_gpus(row: PublishedRow, efficiency: Efficiency) -> dict[str, Any]:
    """The keywords of a step on the row's GPUs, memory counted as `serving_fit.predict`
    counts it (the whole GPU, whose "80GB" is 80 GiB)."""
    acc = accelerator(GPU_NAMES[row.gpu])
    return dict(
        gpu=replace(acc, memory_bytes=acc.memory_bytes * 2**30 / 1e9),
        precision=_FORMATS[row.weight_format],
        tensor_parallel=group_size(row) or 1,
        efficiency=replace(efficiency, memory_fraction=1.0),
    )


def _inflight(row: PublishedRow, efficiency: Efficiency, memory: str) -> float:
    """Output tokens/s per GPU of an engine that keeps as many sequences in flight as its
    memory holds: each request is one prefill and `output - 1` decode steps, taken at
    the mean context of its life (`input + output / 2`; decode time is linear in the
    context, so the mean step is the step at the mean context)."""
    isl, osl = float(row.input_tokens or 0), float(row.output_tokens or 0)
    mean = isl + osl / 2.0
    held = mean + 1.0 if memory == "paged" else isl + osl
    expert_parallel, data_parallel = _layout(row)
    kw = dict(_on_whole_gpus(row, efficiency), expert_parallel=expert_parallel,
              attention_data_parallel=data_parallel)  # fmt: skip
    shape = MODELS[MODEL_NAMES[row.model]]
    batch = decode(shape, context_tokens=held - 1.0, **kw).max_batch_size
    batch = min(batch, row.batch_size or batch)
    first = prefill(shape, batch_size=batch, prompt_tokens=isl, **kw).seconds
    step = decode(shape, batch_size=batch, context_tokens=mean, **kw).seconds
    return float(batch * osl / ((first + (osl - 1.0) * step) * kw["tensor_parallel"]))


def _online(row: PublishedRow, efficiency: Efficiency) -> dict[str, float]:
    """Mean TTFT and TPOT, ms, at the row's served request rate (`serving_online`)."""
    kw = _on_whole_gpus(row, efficiency)
    peak = kw["gpu"].peak(kw["precision"])
    found = online_latency(MODELS[MODEL_NAMES[row.model]], float(row.requests_per_second or 0),
                           float(row.input_tokens or 0), float(row.output_tokens or 0), peak,
                           **kw)  # fmt: skip
    if found is None:
        raise ScaleplanError("row: the engine saturates at this request rate under this "
                             "efficiency (requests would queue)", "row")  # fmt: skip
    out = {"ttft_ms": 1e3 * found[0], "tpot_ms": 1e3 * found[1]}
    return {q: v for q, v in out.items() if getattr(row, q) is not None}


def _tpot(row: PublishedRow, efficiency: Efficiency) -> float:
    shape = MODELS[MODEL_NAMES[row.model]]
    kw = _on_whole_gpus(row, efficiency)
    return float(decode(shape, context_tokens=row.input_tokens, **kw).seconds)
