"""Precision-aware loss laws (issue 28, first slice): how the number formats of training
and of serving move the loss.

- Training in `P` bits (Kumar et al. 2024, "Scaling Laws for Precision", arXiv 2411.04330,
  Eq. 3-4) acts like fewer parameters: `N_eff = N prod_x (1 - exp(n_x - P_x / gamma_x))`
  over the weights, activations and KV cache (`x` in w, a, kv).
- Quantizing after training to `P_post` bits adds (their Eq. 2)
  `delta_PTQ = C_T D^gamma_D N^-gamma_N exp(-P_post / gamma_post)`, which grows with the
  tokens: past a critical data size `D_crit` (their Eq. 13) more training makes the
  quantized model worse.
- Ouyang et al. 2025 ("Low-Bit Quantization Favors Undertrained LLMs", arXiv 2411.17691,
  Fig. 6) fit `Delta = k D^a / (N^b P^c)` on GPTQ-quantized Pythia checkpoints.

The constants come from small models (Kumar: 30M-220M parameters, 1.5B-26B tokens, integer
formats; Ouyang: Pythia 160M-12B) and are not claimed for frontier scale. Kumar et al.'s
Table 2 prints an offset `n_x` beside each `gamma_x` without saying where it enters; the
reading `1 - exp(n_x - P / gamma_x)` is the one of three (none, `(P - n_x) / gamma_x`, this)
under which their stated compute-optimal training precision (7-8 bits) comes out (7.0
bits; 5.6 and 3.5 under the others), and it is taken for that reason, stated here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ScaleplanError
from .scaling import ScalingLaw

__all__ = [
    "KUMAR2024",
    "KUMAR2024_BASE",
    "KUMAR2024_PTQ",
    "OUYANG2025",
    "OuyangPenalty",
    "PTQPenalty",
    "TrainingPrecision",
    "critical_tokens",
]


@dataclass(frozen=True)
class PTQPenalty:
    """Kumar et al.'s post-training quantization penalty, nats/token:
    `C_T D^gamma_D N^-gamma_N exp(-P_post / gamma_post)`.

    Examples
    --------
    >>> from scaleplan.laws.precision import KUMAR2024_PTQ
    >>> p = KUMAR2024_PTQ
    >>> float(p.penalty(1e8, 2e10, 4)) < float(p.penalty(1e8, 2e11, 4))  # grows with D
    True
    """

    c_t: float
    gamma_d: float
    gamma_n: float
    gamma_post: float
    name: str = "custom"

    def penalty(self, params: Any, tokens: Any, bits: Any) -> Any:
        """The loss added by quantizing to `bits` a model of `params` trained on `tokens`."""
        n, d, p = _positive(params=params, tokens=tokens, bits=bits)
        return self.c_t * d**self.gamma_d * n**-self.gamma_n * np.exp(-p / self.gamma_post)


@dataclass(frozen=True)
class OuyangPenalty:
    """Ouyang et al.'s quantization-induced degradation, nats/token:
    `k D^a / (N^b P^c)`.

    Examples
    --------
    >>> from scaleplan.laws.precision import OUYANG2025
    >>> round(float(OUYANG2025.penalty(7e9, 2e12, 4)), 3)  # 7B, 2T tokens, 4 bits
    0.143
    """

    k: float
    a: float
    b: float
    c: float
    name: str = "custom"

    def penalty(self, params: Any, tokens: Any, bits: Any) -> Any:
        """The loss added by quantizing to `bits` a model of `params` trained on `tokens`."""
        n, d, p = _positive(params=params, tokens=tokens, bits=bits)
        return self.k * d**self.a / (n**self.b * p**self.c)


@dataclass(frozen=True)
class TrainingPrecision:
    """How training in low precision shrinks the parameters' worth (Kumar et al. Eq. 4):
    `N_eff = N prod_x (1 - exp(n_x - P_x / gamma_x))`, x over weights, activations and KV
    cache (`gammas` and `offsets` in that order).

    Examples
    --------
    >>> from scaleplan.laws.precision import KUMAR2024
    >>> round(float(KUMAR2024.effective_params(1e9, 8, 8, 8)) / 1e9, 3)
    0.828
    """

    gammas: tuple[float, float, float]
    offsets: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def effective_params(self, params: Any, weight_bits: Any, activation_bits: Any,
                         kv_bits: Any) -> Any:  # fmt: skip
        """`N_eff` (count) of `params` trained in those formats; a ScaleplanError naming
        the format where it leaves nothing (`P_x <= gamma_x n_x` bits)."""
        n, pw, pa = _positive(params=params, weight_bits=weight_bits,
                              activation_bits=activation_bits)  # fmt: skip
        (pkv,) = _positive(kv_bits=kv_bits)
        names = ("weight_bits", "activation_bits", "kv_bits")
        worth = 1.0
        for name, p, g, off in zip(names, (pw, pa, pkv), self.gammas, self.offsets,
                                   strict=True):  # fmt: skip
            if not np.all(p > g * off):
                raise ScaleplanError(f"{name} must be above {g * off:.4g} bits, where this fit "
                                     "leaves the format no worth", name)  # fmt: skip
            worth = worth * (1.0 - np.exp(off - p / g))
        return n * worth


def critical_tokens(law: ScalingLaw, penalty: PTQPenalty, params: Any, bits: Any) -> Any:
    """The training tokens past which more data makes the quantized model worse (Kumar et
    al. Eq. 13): where `d/dD [B D^-beta + C_T D^gamma_D N^-gamma_N e^(-P/gamma_post)] = 0`,

        D_crit = (beta B N^gamma_N e^(P / gamma_post) / (gamma_D C_T))^(1 / (gamma_D + beta)).

    Examples
    --------
    >>> from scaleplan.laws.precision import KUMAR2024_PTQ, KUMAR2024_BASE, critical_tokens
    >>> d = critical_tokens(KUMAR2024_BASE, KUMAR2024_PTQ, 3e7, [3, 4])
    >>> [f"{x:.2g}" for x in d]
    ['1.6e+10', '8.9e+10']
    """
    n, p = _positive(params=params, bits=bits)
    beta, b = float(law.beta), float(law.B)
    inner = beta * b * n**penalty.gamma_n * np.exp(p / penalty.gamma_post)
    return (inner / (penalty.gamma_d * penalty.c_t)) ** (1.0 / (penalty.gamma_d + beta))


def _positive(**values: Any) -> list[Any]:
    """Each value as a float array, or a ScaleplanError naming the first not finite and > 0."""
    out = []
    for name, v in values.items():
        arr = np.asarray(v, dtype=float)
        if not np.all(np.isfinite(arr) & (arr > 0)):
            raise ScaleplanError(f"{name} must be finite and > 0", name)
        out.append(arr)
    return out


# Kumar et al. 2024, Table 2 (App. K), as printed: the base law on their runs (alpha and
# beta tied), the training-precision gammas with their offsets, and the PTQ penalty.
KUMAR2024_BASE = ScalingLaw(E=2.7648, A=4.299e3, B=1.806e4, alpha=0.4965, beta=0.4965,
                            name="kumar2024", source="Kumar et al. 2024, Table 2")  # fmt: skip
KUMAR2024 = TrainingPrecision(gammas=(2.6745, 2.2102, 0.9578), offsets=(0.3037, 1.4072, 2.4185))
KUMAR2024_PTQ = PTQPenalty(c_t=0.0598, gamma_d=0.5068, gamma_n=0.3439, gamma_post=0.5907,
                           name="kumar2024")  # fmt: skip
# Ouyang et al. 2025, Fig. 6: one fit over 2, 3 and 4 bits (GPTQ, Pythia checkpoints).
OUYANG2025 = OuyangPenalty(k=0.017, a=0.5251, b=0.2261, c=5.4967, name="ouyang2025")
