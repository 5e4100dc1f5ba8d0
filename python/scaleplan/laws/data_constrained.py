"""Finite unique data: the data-constrained law of Muennighoff et al. 2023 ("Scaling
Data-Constrained Language Models") as a law family.

    L(N, D, U) = E + A / N'^alpha + B / D'^beta
    U_s = min(U, D),  R_D = D / U_s - 1,  D' = U_s + U_s R_D* (1 - exp(-R_D / R_D*))
    U_N = min(N, N_opt(U_s)),  R_N = N / U_N - 1,  N' = U_N + U_N R_N* (1 - exp(-R_N / R_N*))

with N_opt(U) the Chinchilla-optimal parameters for U tokens under the same law. Repeated
tokens decay in value with a half-life set by R_D*, and so do parameters beyond what the
unique data supports (R_N*). The Rust core (`rust/core/src/optimal/data_constrained.rs`) evaluates
it with its gradient; `testing.reference.data_constrained_loss` checks it. The optima under
it, and the kernels it registers, are in `plan.data_constrained`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .. import _core
from .._utils.arrays import broadcast, check_on_invalid, shaped
from .._utils.checks import POSITIVE, number
from .._utils.labels import labelled
from ..errors import ScaleplanError
from .scaling import PRESETS, ScalingLaw, resolve_law

__all__ = ["MUENNIGHOFF2023", "RD_STAR", "RN_STAR", "DataConstrainedLaw", "resolve_data_law"]

# The published decay constants (the authors' C4 fit; their repository's README).
RD_STAR: float = _core.MUENNIGHOFF2023_RD_STAR
RN_STAR: float = _core.MUENNIGHOFF2023_RN_STAR


@dataclass(frozen=True)
class DataConstrainedLaw:
    """A law for finite unique data (Muennighoff et al. 2023).

    A `ScalingLaw` with the two decay constants of repeated data (`rd_star`, R_D*) and of
    excess parameters (`rn_star`, R_N*):

        L(N, D, U) = E + A / N'^alpha + B / D'^beta

    with D' and N' the effective tokens and parameters of the module's docstring. Any law
    takes the published constants by default; `MUENNIGHOFF2023` is the authors' whole C4
    fit.

    Parameters
    ----------
    law : ScalingLaw or str
        The base law (scalar coefficients), or a preset's name.
    rd_star : float, optional
        R_D*, the decay constant of repeated epochs (dimensionless; default the published
        15.39).
    rn_star : float, optional
        R_N*, the decay constant of parameters beyond what the unique data supports
        (dimensionless; default the published 5.31).

    Raises
    ------
    ScaleplanError
        If a decay constant is not finite and positive, or the law's coefficients are
        arrays.

    Examples
    --------
    A 1B model on 100B tokens drawn from 25B unique ones (four epochs) loses a little
    against fresh data:

    >>> from scaleplan import MUENNIGHOFF2023
    >>> round(MUENNIGHOFF2023.loss(1e9, 100e9, 25e9), 4)
    2.4195
    >>> round(MUENNIGHOFF2023.law.loss(1e9, 100e9), 4)
    2.4145
    """

    # Its data in the law-family protocol: the loss is L(N, D, U).
    data: ClassVar[tuple[str, ...]] = ("unique_tokens",)

    law: ScalingLaw
    rd_star: float = RD_STAR
    rn_star: float = RN_STAR

    def __post_init__(self) -> None:
        object.__setattr__(self, "law", resolve_law(self.law))
        for name in ("rd_star", "rn_star"):
            object.__setattr__(self, name, number(name, getattr(self, name), POSITIVE))
        if self.law.is_batch:
            raise ScaleplanError("a DataConstrainedLaw takes a law of scalar coefficients", "law")

    @property
    def name(self) -> str:
        """The base law's name."""
        return self.law.name

    def kernel_columns(self) -> tuple[Any, ...]:
        """The law as the Rust data-constrained kernels take it: the base law's five
        coefficients, R_D* and R_N*, each a one-element array."""
        coefficients = tuple(np.array([float(c)]) for c in self.law.coefficients)
        return coefficients, np.array([self.rd_star]), np.array([self.rn_star])

    def evaluate(
        self, params: Any, tokens: Any, unique_tokens: Any, on_invalid: str = "raise"
    ) -> Any:
        """`(loss, dL/dln N, dL/dln D, N', D')`, each in the broadcast shape."""
        shape, cols = broadcast(params=params, tokens=tokens, unique_tokens=unique_tokens)
        out = _core.data_constrained_point(*cols, *self.kernel_columns(),
                                           on_invalid=check_on_invalid(on_invalid),
                                           broadcast_shape=shape)  # fmt: skip
        return tuple(shaped(out[:, k].copy(), shape) for k in range(5))

    @labelled(output="loss")
    def loss(self, params: Any, tokens: Any, unique_tokens: Any) -> Any:
        """The loss `L(N, D, U)`, in nats/token.

        Parameters
        ----------
        params : float or array_like
            Parameters N (count).
        tokens : float or array_like
            Training tokens D, repeats included.
        unique_tokens : float or array_like
            The supply of unique tokens U.

        Returns
        -------
        float or numpy.ndarray
            The loss in the inputs' broadcast shape.

        Examples
        --------
        >>> from scaleplan import MUENNIGHOFF2023
        >>> round(MUENNIGHOFF2023.loss(1e9, 20e9, 1e9), 3)  # 20 epochs of 1B tokens
        2.81
        """
        return self.evaluate(params, tokens, unique_tokens)[0]

    def reduced(self) -> ScalingLaw:
        """The plain law, which the optimisers solve when no supply is given. Their
        answers with a supply that does not bind are the plain law's bit for bit: an
        optimum is never larger than Chinchilla-optimal for its tokens, where the decay of
        excess parameters would start (so `loss` with unlimited U can still exceed the
        plain law's for such over-sized models: Muennighoff et al.'s U_N)."""
        return self.law

    def training_flops(self, params: Any, tokens: Any) -> Any:
        """`6 N D`: repeated tokens cost what fresh ones do."""
        return self.law.training_flops(params, tokens)

    def inference_flops(self, params: Any, tokens: Any) -> Any:
        """`2 N D_inf`."""
        return self.law.inference_flops(params, tokens)

    def floor(self, unique_tokens: float) -> float:
        """The lowest loss any model reaches with `unique_tokens`.

        `E + A (N_opt(U)(1 + R_N*))^-alpha + B (U (1 + R_D*))^-beta` (the Rust core's, the
        bound its optima check).

        Parameters
        ----------
        unique_tokens : float
            The supply of unique tokens U.

        Returns
        -------
        float
            The floor, in nats/token.

        Examples
        --------
        >>> from scaleplan import MUENNIGHOFF2023
        >>> round(MUENNIGHOFF2023.floor(25e9), 4)
        2.1559
        """
        coefficients = (float(c) for c in self.law.coefficients)
        return _core.data_constrained_floor(float(unique_tokens), *coefficients, self.rd_star,
                                            self.rn_star)  # fmt: skip


MUENNIGHOFF2023 = DataConstrainedLaw(PRESETS["muennighoff2023"])


def resolve_data_law(law: Any) -> DataConstrainedLaw:
    """`law` as a DataConstrainedLaw.

    Parameters
    ----------
    law : DataConstrainedLaw or ScalingLaw or str
        Returned as given if a DataConstrainedLaw; a ScalingLaw or preset name (the name
        `muennighoff2023` is the authors' fit) takes the published R_D* and R_N*.

    Returns
    -------
    DataConstrainedLaw

    Raises
    ------
    ScaleplanError
        If `law` is not a law or a preset's name.

    Examples
    --------
    >>> from scaleplan.laws.data_constrained import resolve_data_law
    >>> resolve_data_law("chinchilla").rd_star
    15.387756
    """
    if isinstance(law, DataConstrainedLaw):
        return law
    return DataConstrainedLaw(resolve_law(law))
