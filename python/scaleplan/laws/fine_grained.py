"""Fine-grained mixtures of experts: the law of Krajewski et al. 2024 ("Scaling Laws for
Fine-Grained Mixture of Experts", arXiv 2402.07871), with its FLOP model.

    L(N, D, G) = c + (g / G^gamma + a) / N^alpha + b / D^beta

N is the total non-embedding parameters, D training tokens and G the granularity: each
expert is `1/G` of the dense MLP, and `G` times as many are routed to (`G x E` experts, the
expansion rate E fixed at 64, the paper's main study). Its models have `d = 64 n_blocks`
and `N = d^2 (8 E + 4) n_blocks`; a step of D tokens costs

    F = (12 d^2 c_f + d E G c_r) D n_blocks,   c_f = 6, c_r = 14

(its Eq. 10-11: the blocks' 12 d^2 active parameters at 6 FLOPs each, and the router's
`d E G` at 14). Finer experts lower the loss and cost routing FLOPs, so the best G grows
with the budget (`fine_grained_optimal`, its Table 2). The FLOPs are not the `6 N D` of the
other families (N is total, and routing is counted), so the planners' entry points do not
take this law; it implements the law-family protocol with its own FLOPs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .._utils.arrays import as_float
from .._utils.checks import POSITIVE, number
from ..errors import ScaleplanError
from .scaling import ScalingLaw

__all__ = ["KRAJEWSKI2024", "FineGrainedMoELaw"]


@dataclass(frozen=True)
class FineGrainedMoELaw:
    """The fine-grained MoE law (Krajewski et al. 2024), constants as its Table 1 prints
    them (the MoE row), and its FLOP model's.

    Parameters
    ----------
    a, b, g : float
        Scales (nats/token); positive.
    alpha, beta, gamma : float
        Exponents of N, D and G; positive.
    c : float
        The irreducible loss, nats/token; positive.
    expansion : float
        E, the experts' total MLP over the dense MLP (default 64, the paper's).
    c_f, c_r : float
        FLOPs per active parameter per token (6: forward and backward) and per router
        parameter per token (14: its seven routing operations).
    name : str, optional

    Raises
    ------
    ScaleplanError
        If a constant is not finite and positive.

    Examples
    --------
    >>> from scaleplan.laws.fine_grained import KRAJEWSKI2024
    >>> round(float(KRAJEWSKI2024.loss(64e9, 100e9, 8)), 4)
    2.285
    """

    data: ClassVar[tuple[str, ...]] = ("granularity",)

    a: float = 18.1
    alpha: float = 0.115
    b: float = 30.8
    beta: float = 0.147
    g: float = 2.1
    gamma: float = 0.58
    c: float = 0.47
    expansion: float = 64.0
    c_f: float = 6.0
    c_r: float = 14.0
    name: str = field(default="krajewski2024", compare=False)

    def __post_init__(self) -> None:
        for k in ("a", "alpha", "b", "beta", "g", "gamma", "c", "expansion", "c_f", "c_r"):
            object.__setattr__(self, k, number(k, getattr(self, k), POSITIVE))

    def at(self, granularity: Any) -> ScalingLaw:
        """The law at granularity G: `ScalingLaw(E=c, A=g / G^gamma + a, alpha, B=b, beta)`
        (N total non-embedding parameters).

        Examples
        --------
        >>> from scaleplan.laws.fine_grained import KRAJEWSKI2024
        >>> round(KRAJEWSKI2024.at(8).A, 4)
        18.7287
        """
        gran = _granularity(granularity)
        return ScalingLaw(E=self.c, A=self.g / gran**self.gamma + self.a, B=self.b,
                          alpha=self.alpha, beta=self.beta, name=self.name,
                          source="Krajewski et al. 2024 (arXiv 2402.07871), Table 1")  # fmt: skip

    def loss(self, params: Any, tokens: Any, granularity: Any) -> Any:
        """`L(N, D, G)`, nats/token (N total non-embedding parameters, D tokens)."""
        return self.at(granularity).loss(params, tokens)

    def floor(self, granularity: Any = 1) -> float:
        """The loss no model reaches: `c`."""
        return self.c

    def reduced(self) -> ScalingLaw:
        """The law at granularity 1 (experts as wide as the dense MLP, E of them; not the
        paper's separate dense fit)."""
        return self.at(1.0)

    def blocks(self, params: Any) -> Any:
        """n_blocks of the paper's architecture with `params` total non-embedding
        parameters: `N = 4096 (8 E + 4) n_blocks^3` (`d = 64 n_blocks`)."""
        return np.cbrt(as_float("params", params) / (4096.0 * (8.0 * self.expansion + 4.0)))

    def active_params(self, params: Any) -> Any:
        """Active non-embedding parameters: the blocks' `12 d^2 n_blocks` (routing not
        counted), `12 N / (8 E + 4)`."""
        return 12.0 * as_float("params", params) / (8.0 * self.expansion + 4.0)

    def training_flops(self, params: Any, tokens: Any, granularity: Any = 1.0) -> Any:
        """`(12 d^2 c_f + d E G c_r) D n_blocks` (the paper's Eq. 10-11), N total."""
        n = self.blocks(params)
        d = 64.0 * n
        gran = _granularity(granularity)
        per_token = (12.0 * d * d * self.c_f + d * self.expansion * gran * self.c_r) * n
        return per_token * as_float("tokens", tokens)

    def inference_flops(self, params: Any, tokens: Any, granularity: Any = 1.0) -> Any:
        """A third of `training_flops` a token (the forward pass; the paper counts
        forward and backward together)."""
        return self.training_flops(params, tokens, granularity) / 3.0


def _granularity(granularity: Any) -> Any:
    gran = as_float("granularity", granularity)
    if np.any(~np.isfinite(gran)) or np.any(gran < 1):
        raise ScaleplanError("granularity must be a finite number >= 1", "granularity")
    return gran if gran.ndim else float(gran)


KRAJEWSKI2024 = FineGrainedMoELaw()
