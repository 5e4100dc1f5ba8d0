"""How a model is served: one value that every serving planner takes.

A `Deployment` carries the hardware (GPU and its price), the number formats of the weights
and of the KV cache, the tensor-parallel degree of a replica (or None: the planner picks
the power of two needing the fewest GPUs), the serving stack's efficiency, the latency
targets, and the requests it is sized for (prompt and output lengths, peak over mean
rate). `serving_plan`, `physical_plan`, `whole_gpu_plan` and `ServingCurve.roofline` take
one, so these options are declared and checked here once rather than in each signature.

Until 0.3 each planner also takes the fields as keywords, as changes to the deployment it
was given (or to the default one), with a `DeprecationWarning`: `serving_plan(shape,
tpot_seconds=0.1)` is `serving_plan(shape, Deployment(tpot_seconds=0.1))`
(`training.accepts_01_keywords`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from .._utils.checks import (
    AT_LEAST_ONE,
    NON_NEGATIVE,
    POSITIVE,
    choice,
    instance,
    number,
    optional,
    shown,
)
from .._utils.frames import short_repr
from ..errors import ScaleplanError
from ..hardware.accelerators import ACCELERATORS, Accelerator, accelerator, hourly_price
from ..hardware.cost_model import DEFAULT_INPUT_TOKENS, DEFAULT_OUTPUT_TOKENS, CostModel
from ..hardware.formats import FORMATS, KV_FORMATS
from .efficiency import Efficiency
from .engines import DEFAULT_ENGINE, engine_profile
from .speculation import Speculation

__all__ = [
    "DEFAULT_PEAK_TO_AVERAGE",
    "DEFAULT_TPOT_SECONDS",
    "MAX_TENSOR_PARALLEL",
    "TENSOR_PARALLEL",
    "Deployment",
    "deployment_of",
]

# Serving defaults shared by every planner: a 50 ms TPOT target (a reading speed well above
# a person's) and capacity for twice the mean request rate.
DEFAULT_TPOT_SECONDS = 0.05
DEFAULT_PEAK_TO_AVERAGE = 2.0
MAX_TENSOR_PARALLEL = 64
# The tensor-parallel degrees a planner may choose: powers of two up to MAX_TENSOR_PARALLEL.
TENSOR_PARALLEL = tuple(2**k for k in range(MAX_TENSOR_PARALLEL.bit_length()))


@dataclass(frozen=True)
class Deployment:
    """How a model is served, checked on construction (each error names its field).

    Parameters
    ----------
    gpu : str or Accelerator
        A catalogue name (`scaleplan hardware` lists them) or an `Accelerator`; stored as
        the `Accelerator`.
    precision : str
        The weights' number format (`hardware.formats.FORMATS`: bf16, fp16, fp8, int8,
        fp4 (NVFP4), mxfp4, or weight-only w8a16 / w4a16), one whose matmuls the GPU has
        a dense peak for.
    kv_precision : str or None
        The KV cache's format (None: `formats.default_kv_format` of the weights: the
        weights' own, fp8 for 4-bit weights, fp16 for weight-only ones); fp8 halves a
        16-bit cache's bytes, so more sequences fit and each decode step reads less.
    tensor_parallel : int or None
        GPUs per replica, a power of two up to 64 (None: the planner chooses the degree
        that needs the fewest GPUs in all). It must divide the model's heads, which the
        planner checks per shape.
    efficiency : Efficiency or None
        The serving stack's `Efficiency` (None: the engine profile's).
    tpot_seconds : float or None
        Latency target per output token, s (None: no target; a replica then decodes the
        largest batch its memory holds).
    ttft_seconds : float or None
        Latency target to the first token, s (None: no target).
    input_tokens, output_tokens : float
        A request's prompt (may be 0) and output lengths, tokens.
    peak_to_average : float
        Peak over mean request rate, >= 1 (serving is sized for the peak).
    price_per_hour : float or None
        US dollars per GPU-hour (None: the catalogue's price for `gpu`).
    engine : str or None
        An engine profile of `engines.ENGINES` ("trtllm-2023", "trtllm-2025"), whose
        `Efficiency` the deployment uses (None: `engines.DEFAULT_ENGINE`, unless
        `efficiency` is given; both given is an error).
    speculation : Speculation or None
        Speculative decoding (`speculation.Speculation`: a draft, the tokens it proposes a
        step, their acceptance), which every planner's TPOT, batch, memory and cost then
        include (None: none).

    Examples
    --------
    >>> from scaleplan import Deployment
    >>> d = Deployment("a100-80gb", tpot_seconds=0.1)
    >>> d.accelerator.name, d.replace(kv_precision="int8").kv_precision, d.hourly_price
    ('a100-80gb', 'int8', 1.5)
    """

    def __repr__(self) -> str:
        """Short: nested GPUs by name, numbers to four digits, and an engine profile's
        efficiency by the profile's name alone (`engine=`)."""
        items = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.engine is not None:
            items["efficiency"] = _ProfileName(self.engine)
        return short_repr(type(self).__name__, items)

    gpu: Accelerator | str = "h100-sxm"
    precision: str = "bf16"
    kv_precision: str | None = None
    tensor_parallel: int | None = None
    efficiency: Efficiency | None = None
    tpot_seconds: float | None = DEFAULT_TPOT_SECONDS
    ttft_seconds: float | None = None
    input_tokens: float = DEFAULT_INPUT_TOKENS
    output_tokens: float = DEFAULT_OUTPUT_TOKENS
    peak_to_average: float = DEFAULT_PEAK_TO_AVERAGE
    price_per_hour: float | None = None
    engine: str | None = None
    speculation: Speculation | None = None

    def __post_init__(self) -> None:
        def set_(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        acc = accelerator(self.gpu, argument="gpu")
        set_("gpu", acc)
        set_("precision", choice("precision", self.precision, FORMATS))
        acc.peak(self.precision)  # a format the GPU has no peak for is refused here
        if self.kv_precision is not None:
            set_("kv_precision", choice("kv_precision", self.kv_precision, KV_FORMATS))
        set_("tensor_parallel", _degree(self.tensor_parallel, acc))
        if self.efficiency is None:
            profile = engine_profile(DEFAULT_ENGINE if self.engine is None else self.engine)
            set_("engine", profile.name)
            set_("efficiency", profile.efficiency)
        elif self.engine is not None:
            raise ScaleplanError("give engine or efficiency, not both (an engine profile is "
                                 "an Efficiency with its sources)", "engine")  # fmt: skip
        set_("efficiency", instance("efficiency", self.efficiency, Efficiency,
                                    "an Efficiency or None"))  # fmt: skip
        set_("tpot_seconds", optional("tpot_seconds", self.tpot_seconds, POSITIVE))
        set_("ttft_seconds", optional("ttft_seconds", self.ttft_seconds, POSITIVE))
        set_("input_tokens", number("input_tokens", self.input_tokens, NON_NEGATIVE))
        set_("output_tokens", number("output_tokens", self.output_tokens, POSITIVE))
        set_("peak_to_average", number("peak_to_average", self.peak_to_average, AT_LEAST_ONE))
        set_("price_per_hour", optional("price_per_hour", self.price_per_hour, POSITIVE,
                                        unit="dollars"))  # fmt: skip
        if self.speculation is not None:
            instance("speculation", self.speculation, Speculation, "a Speculation or None")

    @property
    def accelerator(self) -> Accelerator:
        """`gpu` as the `Accelerator` it was resolved to (typed for checkers)."""
        assert isinstance(self.gpu, Accelerator)
        return self.gpu

    @property
    def degrees(self) -> tuple[int, ...]:
        """The tensor-parallel degrees a planner compares: the fixed one, else every power
        of two up to 64 (only 1 on a GPU without links)."""
        if self.tensor_parallel is not None:
            return (self.tensor_parallel,)
        return TENSOR_PARALLEL if self.accelerator.link_bandwidth is not None else (1,)

    @property
    def hourly_price(self) -> float:
        """Dollars per GPU-hour: `price_per_hour`, else the catalogue's for `gpu`."""
        return hourly_price(self.accelerator, self.price_per_hour)

    @property
    def groups(self) -> str:
        """The replicas a planner tries, in words, for messages about none serving."""
        if self.tensor_parallel is None:
            return f"tensor-parallel group of up to {MAX_TENSOR_PARALLEL}"
        return f"group of tensor_parallel={self.tensor_parallel}"

    def replace(self, **changes: Any) -> Deployment:
        """This deployment with `changes` (field names) applied and checked. A new
        `efficiency` replaces the engine profile, and a new `engine` its efficiency."""
        changes = _known(changes)
        if not changes:
            return self
        if "efficiency" in changes and "engine" not in changes:
            changes["engine"] = None
        if "efficiency" not in changes and (self.engine is not None or "engine" in changes):
            changes["efficiency"] = None  # the profile (kept or new) gives it again
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_costs(cls, costs: CostModel, **changes: Any) -> Deployment:
        """The deployment a `CostModel` describes: its inference GPU, format and price."""
        instance("costs", costs, CostModel, "a CostModel")
        base = cls(gpu=costs.inference_gpu, precision=costs.inference_precision,
                   price_per_hour=costs.inference_price_per_hour)  # fmt: skip
        return base.replace(**changes)


FIELDS = frozenset(f.name for f in dataclasses.fields(Deployment))


def _known(changes: dict[str, Any]) -> dict[str, Any]:
    """`changes`, each a field of `Deployment`; else a TypeError naming the first that is
    not (a misspelt keyword fails at the entry point, not two calls deeper)."""
    unknown = sorted(set(changes) - FIELDS)
    if unknown:
        raise TypeError(f"{unknown[0]!r} is not a serving option; a Deployment has "
                        f"{', '.join(sorted(FIELDS))}")  # fmt: skip
    return changes


def _degree(value: Any, gpu: Accelerator) -> int | None:
    if value is None:
        return None
    whole = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if not (whole and int(value) in TENSOR_PARALLEL):
        raise ScaleplanError(f"tensor_parallel must be None or a power of two up to "
                             f"{MAX_TENSOR_PARALLEL}; got {shown(value)}",
                             "tensor_parallel")  # fmt: skip
    if value > 1 and gpu.link_bandwidth is None:
        raise ScaleplanError(f"{gpu.name} has no link_bandwidth, which tensor_parallel > 1 "
                             "needs", "tensor_parallel")  # fmt: skip
    return int(value)


def deployment_of(deployment: Any, changes: dict[str, Any]) -> Deployment:
    """The deployment a planner was given, the keyword form's `changes` applied.

    Parameters
    ----------
    deployment : Deployment, str, Accelerator or None
        A `Deployment`; a GPU (catalogue name or `Accelerator`, the 0.1 positional
        form) for the default deployment on it; None for `Deployment()`.
    changes : dict
        Field names of `Deployment` and their values (the 0.1 loose keywords; `{}` for
        none), applied and checked.

    Returns
    -------
    Deployment
        The checked deployment.

    Raises
    ------
    TypeError
        If a key of `changes` is not a field of `Deployment`, or the GPU is given both
        as `deployment` and as `changes["gpu"]`.
    ScaleplanError
        If `deployment` is none of the above, or a changed field is out of range.

    Examples
    --------
    >>> from scaleplan import Deployment
    >>> from scaleplan.systems.deployment import deployment_of
    >>> deployment_of("a100-80gb", {}).accelerator.name
    'a100-80gb'
    >>> deployment_of(Deployment(), {"tpot_seconds": 0.1}).tpot_seconds
    0.1
    >>> deployment_of(None, {}) == Deployment()
    True
    """
    if deployment is None:
        return Deployment(**_known(changes))  # one construction, one set of checks
    if isinstance(deployment, (str, Accelerator)):
        if "gpu" in changes:
            raise TypeError("the GPU was given twice: positionally and as gpu=")
        if isinstance(deployment, str) and deployment not in ACCELERATORS:
            raise ScaleplanError(f"deployment must be a Deployment, a GPU name "
                                 f"({', '.join(ACCELERATORS)}) or None; got "
                                 f"{shown(deployment)}", "deployment")  # fmt: skip
        return Deployment(gpu=deployment, **_known(changes))
    checked: Deployment = instance("deployment", deployment, Deployment,
                                   "a Deployment, a GPU name or None")  # fmt: skip
    return checked.replace(**changes)


@dataclass(frozen=True)
class _ProfileName:
    """An engine profile's efficiency in a deployment's repr: the profile by name."""

    engine: str

    def __repr__(self) -> str:
        return f"<profile {self.engine}>"
