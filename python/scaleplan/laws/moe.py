"""Mixtures of experts: the joint MoE scaling law of Ludziejewski et al. 2025 ("Joint MoE
Scaling Laws: Mixture of Experts Can Be Memory Efficient", arXiv 2502.05172) as a law family.

    L(N, D, E) = c + a Ê^delta N^(alpha + gamma ln Ê) + b Ê^omega D^(beta + zeta ln Ê)
    1 / Ê = 1 / (E - 1 + (1/E_start - 1/E_max)^-1) + 1/E_max

with N the active parameters (embeddings included), D the training tokens and E the
routed experts of each MoE layer (one a token: the paper trains Switch-style top-1 MoEs).
Ê, the effective expert count of Clark et al. 2022, runs from E_start at E = 1 (a dense
model) to E_max. The exponents are printed negative (`alpha = -0.1889`): at any fixed E the
law is `ScalingLaw(E=c, A=a Ê^delta, alpha=-(alpha + gamma ln Ê), B=b Ê^omega,
beta=-(beta + zeta ln Ê))` (the paper's Table 4, `JointMoELaw.at`), so every optimiser
serves it through that law, batches of expert counts as batches of laws in the Rust lanes.

FLOPs are the paper's: `6 N D` to train and `2 N D_inf` to serve, N active, routing left
out (the paper's choice, after Clark et al., at E <= 32 and granularity 1). Memory follows
the total parameters, which the law does not fix; `JointMoELaw.total_params` gives the
paper's own architecture's (its Eqs. 9-10).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .._utils.arrays import as_float
from .._utils.checks import FINITE, number, whole
from ..errors import ScaleplanError
from .flops import inference_flops, training_flops
from .scaling import ScalingLaw

__all__ = ["GPT2_VOCAB", "JOINT_MOE", "JointMoELaw", "cubic_root", "width_for_active"]

# The tokenizer the paper's models use (GPT-2's), in its parameter counts (Appendix A).
GPT2_VOCAB = 50257
# The largest E_max taken: no model routes among a million experts a layer.
MAX_EXPERTS = 1e6


@dataclass(frozen=True)
class JointMoELaw:
    """The joint MoE law (Ludziejewski et al. 2025), constants as its Table 3 prints them.

    Parameters
    ----------
    a, b : float
        Scales of the parameter and data terms, nats/token; positive.
    alpha, beta : float
        Exponents of N (active parameters) and D (tokens) at Ê = 1; printed negative.
    delta, omega : float
        Exponents of Ê in the two scales.
    gamma, zeta : float
        How the exponents of N and D move with ln Ê.
    e_start, e_max : float
        The effective expert count of a dense model, and its limit (Clark et al. 2022);
        1 < e_start < e_max.
    c : float
        The irreducible loss, nats/token.
    name : str, optional
        A label (default "joint-moe").

    Raises
    ------
    ScaleplanError
        If a constant is not finite, the scales or `c` are not positive, `e_start` and
        `e_max` are out of order (or `e_max` above 1e6), or an exponent of N or D is not
        negative at some E >= 1.

    Examples
    --------
    A 1B-active model on 20B tokens, dense and with 8 and 32 experts:

    >>> from scaleplan import JOINT_MOE
    >>> [round(float(JOINT_MOE.loss(1e9, 20e9, e)), 4) for e in (1, 8, 32)]
    [2.5776, 2.5088, 2.4546]
    """

    data: ClassVar[tuple[str, ...]] = ("experts",)

    a: float = 35.91
    alpha: float = -0.1889
    delta: float = -0.2285
    gamma: float = 0.0098
    b: float = 35.98
    beta: float = -0.1775
    omega: float = 0.5529
    zeta: float = -0.0259
    e_start: float = 2.0732
    e_max: float = 290.4521
    c: float = 1.3637
    name: str = field(default="joint-moe", compare=False)

    def __post_init__(self) -> None:
        for k in ("a", "alpha", "delta", "gamma", "b", "beta", "omega", "zeta", "e_start",
                  "e_max", "c"):  # fmt: skip
            object.__setattr__(self, k, number(k, getattr(self, k), FINITE))
        for k in ("a", "b", "c"):
            if getattr(self, k) <= 0:
                raise ScaleplanError(f"{k} must be positive; got {getattr(self, k)!r}", k)
        if not 1 < self.e_start < self.e_max <= MAX_EXPERTS:
            raise ScaleplanError(
                f"e_start and e_max must satisfy 1 < e_start < e_max <= {MAX_EXPERTS:g}; got "
                f"{self.e_start!r}, {self.e_max!r}",
                "e_start" if self.e_start <= 1 or self.e_start >= self.e_max else "e_max",
            )
        # The exponents are linear in ln Ê, which spans [ln e_start, ln e_max): negative at
        # both ends is negative at every expert count. At Ê = 1 they are alpha and beta.
        for k, slope in (("alpha", "gamma"), ("beta", "zeta")):
            if getattr(self, k) >= 0:
                raise ScaleplanError(
                    f"{k} must be negative (the paper's sign: the loss falls with "
                    f"{'N' if k == 'alpha' else 'D'}); got {getattr(self, k)!r}",
                    k,
                )
            for ln_e in (np.log(self.e_start), np.log(self.e_max)):
                if getattr(self, k) + getattr(self, slope) * ln_e >= 0:
                    raise ScaleplanError(
                        f"{k} + {slope} ln Ê must be negative for every expert count; "
                        f"{slope}={getattr(self, slope)!r} makes it positive at Ê = "
                        f"{np.exp(ln_e):.4g}",
                        slope,
                    )

    def effective_experts(self, experts: Any) -> Any:
        """Ê: `1 / (1 / (E - 1 + (1/E_start - 1/E_max)^-1) + 1/E_max)` (the paper's Eq. 4).

        Parameters
        ----------
        experts : float or array_like
            Routed experts E, >= 1 (1: dense).

        Returns
        -------
        float or numpy.ndarray

        Raises
        ------
        ScaleplanError
            If an expert count is not finite or below 1.

        Examples
        --------
        >>> from scaleplan import JOINT_MOE
        >>> [round(float(JOINT_MOE.effective_experts(e)), 4) for e in (1, 8, 32)]
        [2.0732, 8.8124, 29.7042]
        """
        e = _experts(experts)
        offset = 1.0 / (1.0 / self.e_start - 1.0 / self.e_max)
        return 1.0 / (1.0 / (e - 1.0 + offset) + 1.0 / self.e_max)

    def at(self, experts: Any) -> ScalingLaw:
        """The law at `experts` experts: `ScalingLaw(E=c, A=a Ê^delta, alpha=-(alpha +
        gamma ln Ê), B=b Ê^omega, beta=-(beta + zeta ln Ê))` (the paper's Eq. 5 and Table 4).

        Parameters
        ----------
        experts : float or array_like
            Routed experts E, >= 1; an array gives a law of array coefficients (one law
            per expert count, which every optimiser broadcasts).

        Returns
        -------
        ScalingLaw

        Examples
        --------
        >>> from scaleplan import JOINT_MOE
        >>> law = JOINT_MOE.at(32)
        >>> print(f"m = {law.A:.4f}, mu = {-law.alpha:.4f}, n = {law.B:.4f}, "
        ...       f"nu = {-law.beta:.4f}")
        m = 16.5454, mu = -0.1557, n = 234.6293, nu = -0.2653
        """
        ln_e = np.log(self.effective_experts(experts))
        e_hat = np.exp(ln_e)
        label = self.name if np.ndim(experts) else f"{self.name} E={float(experts):g}"
        return ScalingLaw(
            E=self.c,
            A=self.a * e_hat**self.delta,
            B=self.b * e_hat**self.omega,
            alpha=-(self.alpha + self.gamma * ln_e),
            beta=-(self.beta + self.zeta * ln_e),
            name=label,
            source="Ludziejewski et al. 2025 (arXiv 2502.05172), Table 3",
        )

    def loss(self, params: Any, tokens: Any, experts: Any) -> Any:
        """The loss `L(N, D, E)`, in nats/token: `at(experts).loss(params, tokens)`.

        Parameters
        ----------
        params : float or array_like
            Active parameters N (count, embeddings included).
        tokens : float or array_like
            Training tokens D.
        experts : float or array_like
            Routed experts E, >= 1.

        Returns
        -------
        float or numpy.ndarray

        Examples
        --------
        >>> from scaleplan import JOINT_MOE
        >>> round(float(JOINT_MOE.loss(1.7e9, 9.7e9, 1)), 4)  # Table 1's 1e20 dense model
        2.5909
        """
        return self.at(experts).loss(params, tokens)

    def floor(self, experts: Any = 1) -> float:
        """The loss no model reaches, whatever its experts: `c`."""
        return self.c

    def reduced(self) -> ScalingLaw:
        """The dense law (E = 1), which the optimisers solve when no expert count is given:
        `loss(N, D, 1)` is its loss bit for bit."""
        return self.at(1.0)

    def training_flops(self, params: Any, tokens: Any) -> Any:
        """`6 N D`, N active (routing left out, as the paper does)."""
        return training_flops(params, tokens)

    def inference_flops(self, params: Any, tokens: Any) -> Any:
        """`2 N D_inf`, N active."""
        return inference_flops(params, tokens)

    def total_params(self, params: Any, experts: Any, vocab: int = GPT2_VOCAB) -> Any:
        """Total parameters of the paper's architecture with `params` active (its Eqs.
        9-10): `N_act = 2 d V + 13 d^3 / 64`, `N_total = 2 d V + (4 + 9 E) d^3 / 64` for
        width d, `d / 64` blocks, a SwiGLU expert of `9 d^2` and attention of `4 d^2`.

        Parameters
        ----------
        params : float or array_like
            Active parameters N_act (count), above the embeddings' `2 d V` at any d > 0.
        experts : float or array_like
            Routed experts E, >= 1.
        vocab : int, optional
            Vocabulary V (default GPT-2's 50,257, the paper's).

        Returns
        -------
        float or numpy.ndarray

        Examples
        --------
        >>> from scaleplan import JOINT_MOE
        >>> print(f"{float(JOINT_MOE.total_params(1e9, 8)) / 1e9:.2f}B")
        5.06B
        """
        n = as_float("params", params)
        if np.any(~(n > 0)) or np.any(~(n <= 1e15)):
            raise ScaleplanError("params must be in (0, 1e15]", "params")
        vocab = whole("vocab", vocab, 1, 2**24)
        e = _experts(experts)
        d = width_for_active(n, vocab)
        return 2.0 * d * vocab + (4.0 + 9.0 * e) * d**3 / 64.0


def _experts(experts: Any) -> Any:
    e = as_float("experts", experts)
    if e.size == 0 or np.any(~(e >= 1)) or np.any(~(e <= MAX_EXPERTS)):
        raise ScaleplanError(f"experts must be numbers in [1, {MAX_EXPERTS:g}]", "experts")
    return e


def width_for_active(active: Any, vocab: int = GPT2_VOCAB) -> Any:
    """The width d of the paper's architecture with `active` active parameters: the one
    positive root of `2 d V + 13 d^3 / 64 = active` (its Eq. 10; `cubic_root`).

    Examples
    --------
    >>> from scaleplan.laws.moe import width_for_active
    >>> d = 1024.0
    >>> round(float(width_for_active(2 * d * 50257 + 13 * d**3 / 64)), 6)
    1024.0
    """
    return cubic_root(2.0 * vocab, 0.0, 13.0 / 64.0, active)


def cubic_root(linear: Any, square: Any, cube: Any, total: Any) -> Any:
    """The root d >= 0 of `linear d + square d^2 + cube d^3 = total` (coefficients >= 0,
    at least one > 0; `total` >= 0, else a ScaleplanError), by Newton from above: it
    starts at the least of the bounds each term alone gives (`total / linear`, ...), and
    the left side is convex and increasing for d > 0, so the iterates fall monotonically
    to the root. Each row stops on its own step, so its answer does not depend on the rows
    beside it.

    Examples
    --------
    >>> from scaleplan.laws.moe import cubic_root
    >>> float(cubic_root(1.0, 1.0, 1.0, 14.0))  # 2 + 4 + 8
    2.0
    """
    linear, square, cube, total = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (linear, square, cube, total))
    )
    coefficients = np.stack([linear, square, cube])
    finite = np.all(np.isfinite(coefficients))
    if not (finite and np.all(coefficients >= 0) and np.all(coefficients.sum(axis=0) > 0)):
        raise ScaleplanError("cubic_root needs finite coefficients >= 0, one of them > 0",
                             "linear")  # fmt: skip
    if not np.all(np.isfinite(total) & (total >= 0)):
        raise ScaleplanError("total must be >= 0 (and finite)", "total")
    # np.where computes both branches: the bounds of absent (zero) terms are discarded.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        d = np.minimum.reduce([
            np.where(linear > 0, total / linear, np.inf),
            np.where(square > 0, np.sqrt(total / square), np.inf),
            np.where(cube > 0, np.cbrt(total / cube), np.inf),
        ])  # fmt: skip
    done = np.zeros(d.shape, dtype=bool)
    for _ in range(100):
        f = linear * d + square * d**2 + cube * d**3 - total
        with np.errstate(invalid="ignore"):  # 0 / 0 at a root of 0 (total 0): no step
            step = np.where(f == 0, 0.0, f / (linear + 2.0 * square * d + 3.0 * cube * d**2))
        d = np.where(done, d, d - step)
        done |= np.abs(step) <= 1e-15 * d
        if np.all(done):
            break
    return d


JOINT_MOE = JointMoELaw()
