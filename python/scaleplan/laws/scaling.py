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
from .._utils.labels import labelled
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
    "resolve_law",
]

COEFFICIENTS = ("E", "A", "B", "alpha", "beta")


@dataclass(frozen=True)
class ScalingLaw:
    """Immutable coefficients of the loss law `L(N, D) = E + A N^-alpha + B D^-beta`.

    Each coefficient is a float, or an array when one object stands for many laws (for
    example bootstrap samples): arrays broadcast against each other and against the inputs
    of every function that takes a law.

    Parameters
    ----------
    E : float or array_like
        The irreducible loss, in nats/token; finite and positive.
    A, B : float or array_like
        The parameter and data terms' scales, in nats/token at N = 1 and D = 1; finite and
        positive.
    alpha, beta : float or array_like
        The exponents of N (parameters) and D (training tokens); dimensionless, finite and
        positive.
    name : str, optional
        A label for tables and reprs (default "custom").
    source : str, optional
        Where the coefficients come from.

    Raises
    ------
    ScaleplanError
        If a coefficient is not finite and positive (naming it), or the coefficients'
        shapes do not broadcast together.

    Examples
    --------
    >>> from scaleplan import ScalingLaw
    >>> law = ScalingLaw(E=1.69, A=406.4, B=410.7, alpha=0.336, beta=0.283)
    >>> round(law.loss(70e9, 1.4e12), 4)  # Chinchilla 70B on 1.4T tokens, nats/token
    1.9323
    >>> ScalingLaw.preset("epoch2024")
    ScalingLaw(E=1.81686, A=482.00572, B=2085.4342, alpha=0.34781, beta=0.36585, name='epoch2024')
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
        """A published law by name; `ScalingLaw.presets()` lists them.

        Raises
        ------
        ScaleplanError
            If `name` is not a preset.

        Examples
        --------
        >>> from scaleplan import ScalingLaw
        >>> ScalingLaw.preset("chinchilla").alpha
        0.336
        """
        try:
            return PRESETS[name]
        except KeyError:
            raise ScaleplanError(
                f"law must be one of {', '.join(PRESETS)}; got {name!r}", "law"
            ) from None

    @staticmethod
    def presets() -> dict[str, ScalingLaw]:
        """Every preset, by name.

        Examples
        --------
        >>> from scaleplan import ScalingLaw
        >>> sorted(ScalingLaw.presets())[:3]
        ['chinchilla', 'chinchilla_rounded', 'epoch2024']
        """
        return dict(PRESETS)

    @property
    def coefficients(self) -> tuple[Any, Any, Any, Any, Any]:
        """(E, A, B, alpha, beta)."""
        return (self.E, self.A, self.B, self.alpha, self.beta)

    @property
    def is_batch(self) -> bool:
        """Whether any coefficient is an array (the law stands for many laws)."""
        return self.scalar_coefficients is None

    @labelled(output="loss")
    def loss(self, params: Any, tokens: Any, *, on_invalid: str = "raise") -> Any:
        """The loss `E + A N^-alpha + B D^-beta`, broadcast over all inputs.

        Parameters
        ----------
        params : float or array_like
            Parameters N (count).
        tokens : float or array_like
            Training tokens D.
        on_invalid : {"raise", "nan"}, optional
            What a row of bad input does: raise a `ScaleplanError`, or give NaN.

        Returns
        -------
        float or numpy.ndarray
            The loss, in nats/token, in the inputs' broadcast shape.

        Examples
        --------
        >>> import numpy as np
        >>> from scaleplan import CHINCHILLA
        >>> np.round(CHINCHILLA.loss(np.array([1e9, 7e9]), 2e12), 4)
        array([2.2102, 2.0256])
        """
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
    """A law object from a law or a preset name.

    Parameters
    ----------
    law : ScalingLaw or str
        A law, returned as it is, or a preset's name (`ScalingLaw.presets()`).

    Returns
    -------
    ScalingLaw

    Raises
    ------
    ScaleplanError
        If `law` is neither a law nor a preset's name.

    Examples
    --------
    >>> from scaleplan.laws.scaling import resolve_law
    >>> resolve_law("chinchilla").E
    1.69
    """
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
    """FLOP totals of a model with `params` N, `tokens` D and `inference_tokens` D_inf.

    A mixin shared by every result type that has those three fields: `training_flops`
    (`6 N D`), `inference_flops` (`2 N D_inf`), `total_flops` (their sum), all in FLOPs, and
    `tokens_per_param` (`D / N`).

    Examples
    --------
    >>> from scaleplan import chinchilla_optimal
    >>> model = chinchilla_optimal(params=7e9)  # a ChinchillaModel is a FlopAccounting
    >>> print(f"{model.training_flops:.3g} FLOPs, {model.tokens_per_param:.1f} tokens/param")
    1.16e+22 FLOPs, 39.5 tokens/param
    """

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
        """`6 N D + 2 N D_inf`, in FLOPs."""
        return self.training_flops + self.inference_flops

    @property
    def tokens_per_param(self) -> Any:
        """`D / N`, training tokens per parameter."""
        return self.tokens / self.params


@dataclass(frozen=True, repr=False)
class ChinchillaModel(FlopAccounting, Tabular):
    """A training-only (Chinchilla-style) optimum, as `chinchilla_optimal` returns it.

    Arrays when the inputs were arrays. The FLOP totals (`training_flops`,
    `inference_flops`, `total_flops`) come from `FlopAccounting`.

    Parameters
    ----------
    params : float or numpy.ndarray
        Parameters N (count).
    tokens : float or numpy.ndarray
        Training tokens D.
    loss : float or numpy.ndarray
        The loss the model reaches, in nats/token.
    inference_tokens : float or numpy.ndarray, optional
        The lifetime demand D_inf it is charged for in the FLOP totals, in tokens
        (default 0).

    Examples
    --------
    >>> from scaleplan import chinchilla_optimal
    >>> model = chinchilla_optimal(loss=2.0)
    >>> print(f"N = {model.params:.3g}, D = {model.tokens:.3g}")
    N = 1.95e+10, D = 9.33e+11
    """

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
