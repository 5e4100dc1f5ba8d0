"""Engine profiles: named, dated calibrations of how a serving engine runs a model.

A profile is an `Efficiency` (fractions of peak and bandwidth, per-step and per-collective
latencies, the GEMM ramp, the runtime's memory reserve, 16-bit edges of quantised
checkpoints) fitted to published measurements of one generation of engines, with what it
was fitted on and how well it predicts rows it was not fitted on. `Deployment(engine=...)`
and the command line's `--engine` take one by name.

- `trtllm-2023`: TensorRT-LLM 0.5-0.6.1 (2023), static batching; the 57 rows of
  `data/serving_measurements.csv` (`serving_fit.fit_efficiency`); `Efficiency()`'s
  field defaults.
- `trtllm-2025` (the default): TensorRT-LLM 0.14-1.x (2024-25), in-flight batching;
  the matmuls of each number format at their own fraction of its peak, all-reduces at
  a fraction of the links' rate, the cache given 0.9 of the memory the weights and a
  4 GB runtime reserve leave (TensorRT-LLM's `free_gpu_memory_fraction` default), each
  sequence reserved at its full length (its default scheduler, GUARANTEED_NO_EVICT,
  admits a request only when its prompt and whole output fit); fitted to the 868
  max-throughput rows of those releases in `data/serving_published.csv`
  (`systems.serving_published`), each sequence reserved at its full length as the
  planners reserve it, and to the 38 online-serving rows of release 0.14 (mean TTFT and
  TPOT at a steady request rate, `serving_online`), which alone pin the per-step and
  per-all-reduce latencies; FP8 and FP4 checkpoints keep their embeddings and head at 16
  bits.

The figures are calibrations, not hardware facts: the overhead and the collective
latency absorb whatever the roofline leaves out, and they move with the engine's release.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .._utils.checks import choice
from .._utils.frames import Record
from .efficiency import Efficiency

__all__ = ["DEFAULT_ENGINE", "ENGINES", "EngineProfile", "default_efficiency", "engine_profile"]


@dataclass(frozen=True, repr=False)
class EngineProfile(Record):
    """One engine generation's calibration.

    Parameters
    ----------
    name : str
        The profile's name ("trtllm-2025").
    batching : {"static", "inflight"}
        How the engine batches: fixed batches run to the end, or requests joining and
        leaving every step.
    releases : str
        The engine and the releases measured.
    efficiency : Efficiency
        The fitted serving stack.
    fitted_on : str
        The rows it was fitted to.
    held_out : str
        Its error on rows it was not fitted to.

    Examples
    --------
    >>> p = ENGINES["trtllm-2025"]
    >>> p.batching, p.efficiency.edge_bytes
    ('inflight', 2.0)
    """

    name: str
    batching: str
    releases: str
    efficiency: Efficiency = field(repr=False)
    fitted_on: str = field(repr=False)
    held_out: str = field(repr=False)


ENGINES: Mapping[str, EngineProfile] = MappingProxyType(
    {
        "trtllm-2023": EngineProfile(
            "trtllm-2023",
            "static",
            "TensorRT-LLM 0.5-0.6.1 (2023-10 to 2024-02)",
            Efficiency(),
            "57 rows of data/serving_measurements.csv (H100 FP8, A100 FP16, L40S FP8)",
            "each model's rows under a fit to the others: median 11%, 86% within 25%",
        ),
        "trtllm-2025": EngineProfile(
            "trtllm-2025",
            "inflight",
            "TensorRT-LLM 0.14-1.x (2024-10 to 2025)",
            Efficiency(
                compute=0.6736,
                memory=0.8542,
                overhead_seconds=2.894e-3,
                memory_fraction=1.0,
                collective_seconds=6.580e-5,
                gemm_half_tokens=138.4,
                kv_memory=0.6564,
                reserve_bytes=4e9,
                edge_bytes=2.0,
                compute_8bit=0.5481,
                compute_4bit=0.3217,
                link=0.4485,
                kv_share=0.9,
            ),
            "868 in-flight max-throughput rows and 38 online-serving rows (mean TTFT and "
            "TPOT at a steady request rate) of data/serving_published.csv",
            "each source's rows under a fit to the other sources': median 13%, 80% within "
            "25%, 97% within 2x (2.36x optimistic to 0.33x); the online rows, the only "
            "source of latency under load, 41% held out",
        ),
    }
)

# The default: the current engine's profile, which fits its own releases' rows and
# today's latency under load far better than trtllm-2023, and is no worse on the 62
# published batch-1 TTFT rows of 2023-24 engines (median error 10.9% against 11.4%),
# the rule a profile must pass to be the default (docs/guide/serving.md, "Engine
# profiles"; tests/systems/test_engines.py).
DEFAULT_ENGINE = "trtllm-2025"


def engine_profile(name: str | EngineProfile) -> EngineProfile:
    """A profile of `ENGINES` by name, or the profile itself.

    Raises
    ------
    ScaleplanError
        If the name is not in `ENGINES` (naming `engine` and the names it has).

    Examples
    --------
    >>> engine_profile("trtllm-2023").efficiency.overhead_seconds
    0.0053
    """
    if isinstance(name, EngineProfile):
        return name
    return ENGINES[choice("engine", name, tuple(ENGINES))]


def default_efficiency() -> Efficiency:
    """The default engine profile's `Efficiency`: what a serving step given none uses.

    Examples
    --------
    >>> default_efficiency() is ENGINES[DEFAULT_ENGINE].efficiency
    True
    """
    return ENGINES[DEFAULT_ENGINE].efficiency
