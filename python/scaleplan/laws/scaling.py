"""The Chinchilla loss law `L(N, D) = E + A / N**alpha + B / D**beta` and its presets.

N is the parameter count, D the number of training tokens and L the loss in nats per token.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .. import _core
from .._utils.arrays import as_float, broadcast, check_on_invalid, shaped
from .._utils.checks import POSITIVE
from .._utils.frames import Tabular
from ..errors import ScaleplanError
from .flops import inference_flops, training_flops

__all__ = [
    "CHINCHILLA",
    "CHINCHILLA_ROUNDED",
    "COEFFICIENTS",
    "EPOCH2024",
    "PRESETS",
    "SARDANA2024_ALL",
    "SARDANA2024_LE100",
    "SARDANA2024_LE250",
    "SARDANA2024_LE500",
    "ChinchillaModel",
    "FlopAccounting",
    "ScalingLaw",
    "chinchilla_given",
    "chinchilla_optimal",
    "resolve_law",
]

COEFFICIENTS = ("E", "A", "B", "alpha", "beta")


@dataclass(frozen=True)
class ScalingLaw:
    """Immutable coefficients of `L(N, D) = E + A N^-alpha + B D^-beta`.

    Each coefficient is a float, or an array when one object stands for many laws (for
    example bootstrap samples): arrays broadcast against each other and against the inputs
    of every function that takes a law. All must be finite and positive.
    """

    # The base law family (`law_family.LawFamily`): no data beyond N and D.
    data: ClassVar[tuple[str, ...]] = ()

    E: Any
    A: Any
    B: Any
    alpha: Any
    beta: Any
    name: str = field(default="custom", compare=False)
    source: str = field(default="", compare=False, repr=False)
    # (E, A, B, alpha, beta) as floats when no coefficient is an array, else None: what the
    # one-scenario paths pass to Rust, read in one attribute load (a field, not a property).
    scalar_coefficients: tuple[float, ...] | None = field(
        default=None, init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        for coef in COEFFICIENTS:
            value = getattr(self, coef)
            arr = as_float(coef, value)
            bad = ~POSITIVE.admits(arr)
            if np.any(bad):
                first = arr[bad].flat[0] if arr.ndim else arr.item()
                raise ScaleplanError(
                    f"{coef} must be {POSITIVE.words()}; got {float(first)!r}", coef
                )
            if arr.ndim == 0:
                object.__setattr__(self, coef, float(arr))
            else:
                frozen = np.array(arr, dtype=np.float64)
                frozen.flags.writeable = False
                object.__setattr__(self, coef, frozen)
        # Cached: the scalar fast path of compute_optimal asks on every call.
        batch = any(isinstance(getattr(self, c), np.ndarray) for c in COEFFICIENTS)
        object.__setattr__(self, "scalar_coefficients", None if batch else self.coefficients)
        try:
            np.broadcast_shapes(*(np.shape(getattr(self, c)) for c in COEFFICIENTS))
        except ValueError:
            shapes = ", ".join(f"{c} {np.shape(getattr(self, c))}" for c in COEFFICIENTS)
            raise ScaleplanError(f"law coefficients do not broadcast together: {shapes}") from None

    @classmethod
    def preset(cls, name: str) -> ScalingLaw:
        """A published law by name; `ScalingLaw.presets()` lists them."""
        try:
            return PRESETS[name]
        except KeyError:
            raise ScaleplanError(
                f"law must be one of {', '.join(PRESETS)}; got {name!r}", "law"
            ) from None

    @staticmethod
    def presets() -> dict[str, ScalingLaw]:
        """Every preset, by name."""
        return dict(PRESETS)

    @property
    def coefficients(self) -> tuple[Any, Any, Any, Any, Any]:
        """(E, A, B, alpha, beta)."""
        return (self.E, self.A, self.B, self.alpha, self.beta)

    @property
    def is_batch(self) -> bool:
        """Whether any coefficient is an array (the law stands for many laws)."""
        return self.scalar_coefficients is None

    def loss(self, params: Any, tokens: Any, *, on_invalid: str = "raise") -> Any:
        """`E + A params^-alpha + B tokens^-beta` (nats/token), broadcast over all inputs."""
        on_invalid = check_on_invalid(on_invalid)
        shape, cols = broadcast(params=params, tokens=tokens, **self.named_coefficients())
        out = _core.loss(cols[0], cols[1], tuple(cols[2:]), on_invalid, broadcast_shape=shape)
        return shaped(out, shape)

    def floor(self) -> Any:
        """The loss no model reaches: `E` (nats/token)."""
        return self.E

    def reduced(self) -> ScalingLaw:
        """The base family reduces to itself."""
        return self

    def training_flops(self, params: Any, tokens: Any) -> Any:
        """`6 N D` (`flops.training_flops`)."""
        return training_flops(params, tokens)

    def inference_flops(self, params: Any, tokens: Any) -> Any:
        """`2 N D_inf` (`flops.inference_flops`)."""
        return inference_flops(params, tokens)

    def named_coefficients(self) -> dict[str, Any]:
        """{"E": E, "A": A, ...}: the coefficients under the names `broadcast` reports
        a bad row with (scalars or arrays as given)."""
        return {c: getattr(self, c) for c in COEFFICIENTS}


def resolve_law(law: ScalingLaw | str) -> ScalingLaw:
    """A law object from a law or a preset name."""
    if isinstance(law, ScalingLaw):
        return law
    if isinstance(law, str):
        return ScalingLaw.preset(law)
    raise ScaleplanError(f"law must be a ScalingLaw or a preset name; got {law!r}", "law")


PRESETS: dict[str, ScalingLaw] = {
    name: ScalingLaw(E, A, B, alpha, beta, name=name, source=source)
    for name, E, A, B, alpha, beta, source in _core.presets()
}
# Muennighoff et al. 2023's C4 fit, printed as logs (a, b, e) in their repository; its
# decay constants R_D*, R_N* are the Rust core's (`optimal/data_constrained.rs`), and
# `data_constrained.MUENNIGHOFF2023` joins the two. Alone it is a plain law like the others.
PRESETS["muennighoff2023"] = ScalingLaw(
    math.exp(0.6254804), math.exp(6.255414), math.exp(7.3049974), 0.3526596, 0.3526596,
    name="muennighoff2023",
    source="Muennighoff et al. 2023, data-constrained fit on C4 (repository README: A, B, E "
    "= exp of 6.255414, 7.3049974, 0.6254804); with unique_tokens, R_D* 15.387756 and "
    "R_N* 5.309743",
)  # fmt: skip
CHINCHILLA = PRESETS["chinchilla"]
CHINCHILLA_ROUNDED = PRESETS["chinchilla_rounded"]
EPOCH2024 = PRESETS["epoch2024"]
SARDANA2024_LE100 = PRESETS["sardana2024_le100"]
SARDANA2024_LE250 = PRESETS["sardana2024_le250"]
SARDANA2024_LE500 = PRESETS["sardana2024_le500"]
SARDANA2024_ALL = PRESETS["sardana2024_all"]


class FlopAccounting:
    """FLOP totals of a model with `params` N, `tokens` D and `inference_tokens` D_inf
    (shared by every result type that has those three fields)."""

    params: Any
    tokens: Any
    inference_tokens: Any

    @property
    def training_flops(self) -> Any:
        """`6 N D`."""
        return training_flops(self.params, self.tokens)

    @property
    def inference_flops(self) -> Any:
        """`2 N D_inf`."""
        return inference_flops(self.params, self.inference_tokens)

    @property
    def total_flops(self) -> Any:
        return self.training_flops + self.inference_flops

    @property
    def tokens_per_param(self) -> Any:
        return self.tokens / self.params


@dataclass(frozen=True, repr=False)
class ChinchillaModel(FlopAccounting, Tabular):
    """A training-only (Chinchilla-style) optimum: `params` N and `tokens` D, reaching
    `loss`; `inference_tokens` (default 0) is the demand it is charged for in the FLOP
    totals. Arrays when the inputs were arrays."""

    _INPUTS = ("loss", "inference_tokens")
    _OUTPUTS = (
        "params",
        "tokens",
        "tokens_per_param",
        "training_flops",
        "inference_flops",
        "total_flops",
    )

    params: Any
    tokens: Any
    loss: Any
    inference_tokens: Any = 0.0


def chinchilla_given(compute: Any, loss: Any, params: Any) -> tuple[str, Any]:
    """Which of `compute`, `loss` and `params` was given, and its value (exactly one)."""
    given = [(k, v) for k, v in (("compute", compute), ("loss", loss), ("params", params))]
    chosen = [(k, v) for k, v in given if v is not None]
    if len(chosen) != 1:
        raise ScaleplanError(
            "chinchilla_optimal takes exactly one of compute, loss or params; "
            f"got {', '.join(k for k, _ in chosen) if chosen else 'none'}"
        )
    return chosen[0]


def chinchilla_optimal(
    *,
    compute: Any = None,
    loss: Any = None,
    params: Any = None,
    law: ScalingLaw | str = CHINCHILLA,
    on_invalid: str = "raise",
) -> ChinchillaModel:
    """The training-only optimum, in closed form, given exactly one of:

    - `compute`: a training budget C in FLOPs (C = 6 N D);
      `N = G (C/6)^(beta/(alpha+beta))`, `D = (C/6)^(alpha/(alpha+beta)) / G` with
      `G = (alpha A / (beta B))^(1/(alpha+beta))`;
    - `loss`: a target loss l; `D = (B (1 + beta/alpha) / (l - E))^(1/beta)`;
    - `params`: a model size N; D from `alpha A N^-alpha = beta B D^-beta`.
    """
    kind, value = chinchilla_given(compute, loss, params)
    law = resolve_law(law)
    on_invalid = check_on_invalid(on_invalid)
    shape, cols = broadcast(**{kind: value}, **law.named_coefficients())
    n, d = _core.chinchilla_optimal(
        kind, cols[0], tuple(cols[1:]), on_invalid, broadcast_shape=shape
    )
    if kind == "loss":
        reached = np.array(np.broadcast_to(cols[0], shape)).reshape(-1)
        reached[np.isnan(n)] = np.nan
    else:
        reached = _core.loss(
            n.reshape(shape), d.reshape(shape), tuple(cols[1:]), "nan", broadcast_shape=shape
        )
    return ChinchillaModel(shaped(n, shape), shaped(d, shape), shaped(reached, shape))
