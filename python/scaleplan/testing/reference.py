"""Pure-Python reference implementations (standard library `math` only).

They are the oracle the tests check the Rust core against and the baseline the benchmarks
measure it against. They are derived independently of the Rust code: the lifetime solver
here iterates on the design's `x = ln D` form with a log-sum-exp, where Rust iterates on a
shifted variable with a softplus. Nothing imports them as a fallback.

Laws are tuples `(E, A, B, alpha, beta)` of `L(N, D) = E + A N^-alpha + B D^-beta`: E, A
and B in nats/token, N in parameters, D in training tokens. The examples check each one
against the package (`CHINCHILLA.coefficients` is Chinchilla's law as such a tuple).
"""

from __future__ import annotations

import math

# Defined with their domain's references; the tests and benchmarks import them from here.
from .reference_data import data_constrained_loss
from .reference_fits import huber, huber_lse_objective
from .reference_moe import expert_grid
from .reference_systems import physical_optimum, serving_step, step_counts

__all__ = [
    "Law",
    "best_quality",
    "chinchilla_for_compute",
    "chinchilla_for_loss",
    "chinchilla_tokens_for_params",
    "data_constrained_loss",
    "eq12_residual",
    "expert_grid",
    "huber",
    "huber_lse_objective",
    "lifetime_log_optimum",
    "lifetime_optimum",
    "loss",
    "physical_optimum",
    "serving_step",
    "step_counts",
]

Law = tuple[float, float, float, float, float]


def loss(law: Law, params: float, tokens: float) -> float:
    """The loss `E + A N^-alpha + B D^-beta`, in nats/token.

    Parameters
    ----------
    law : Law
        `(E, A, B, alpha, beta)`.
    params, tokens : float
        N (count) and D (training tokens).

    Returns
    -------
    float
        The loss, in nats/token.

    Examples
    --------
    >>> from scaleplan import CHINCHILLA
    >>> print(f"{loss(CHINCHILLA.coefficients, 7e9, 1.4e11):.4f}")
    2.1778
    >>> loss(CHINCHILLA.coefficients, 7e9, 1.4e11) == CHINCHILLA.loss(7e9, 1.4e11)
    True
    """
    e, a, b, alpha, beta = law
    return e + a * params**-alpha + b * tokens**-beta


def chinchilla_for_compute(law: Law, flops: float) -> tuple[float, float]:
    """(N, D) minimising the loss at `6 N D = flops`, by the Lagrange conditions
    `alpha A N^-alpha = beta B D^-beta` and `N D = C / 6`.

    Parameters
    ----------
    law : Law
        `(E, A, B, alpha, beta)`.
    flops : float
        The training budget C, in FLOPs.

    Returns
    -------
    tuple of float
        N (count) and D (training tokens).

    Examples
    --------
    >>> from scaleplan import CHINCHILLA
    >>> n, d = chinchilla_for_compute(CHINCHILLA.coefficients, 5.88e23)  # Chinchilla's C
    >>> print(f"N = {n:.3g}, D = {d:.3g}, 6 N D = {n * d * 6:.3g}")
    N = 4.21e+10, D = 2.33e+12, 6 N D = 5.88e+23
    """
    _, a, b, alpha, beta = law
    # ln N (alpha + beta) = ln(alpha A / (beta B)) + beta ln(C/6)
    ln_c6 = math.log(flops / 6.0)
    ln_n = (math.log(alpha * a / (beta * b)) + beta * ln_c6) / (alpha + beta)
    return math.exp(ln_n), math.exp(ln_c6 - ln_n)


def chinchilla_tokens_for_params(law: Law, params: float) -> float:
    """The tokens D making N compute-optimal: `alpha A N^-alpha = beta B D^-beta`.

    Parameters
    ----------
    law : Law
        `(E, A, B, alpha, beta)`.
    params : float
        N (count).

    Returns
    -------
    float
        D, in training tokens.

    Examples
    --------
    >>> from scaleplan import CHINCHILLA
    >>> print(f"{chinchilla_tokens_for_params(CHINCHILLA.coefficients, 7e9):.4g} tokens")
    2.764e+11 tokens
    """
    _, a, b, alpha, beta = law
    return math.exp((math.log(beta * b / (alpha * a)) + alpha * math.log(params)) / beta)


def chinchilla_for_loss(law: Law, target: float) -> tuple[float, float]:
    """(N, D) of the cheapest-to-train model reaching `target`.

    With the stationarity condition `A N^-alpha = (beta/alpha) B D^-beta`, the loss
    condition is `B D^-beta (1 + beta/alpha) = target - E`.

    Parameters
    ----------
    law : Law
        `(E, A, B, alpha, beta)`.
    target : float
        The loss, in nats/token; above E.

    Returns
    -------
    tuple of float
        N (count) and D (training tokens).

    Examples
    --------
    >>> from scaleplan import CHINCHILLA, chinchilla_optimal
    >>> n, d = chinchilla_for_loss(CHINCHILLA.coefficients, 2.0)
    >>> m = chinchilla_optimal(loss=2.0)
    >>> print(f"N = {n:.4g}, D = {d:.4g}; package: N = {m.params:.4g}, D = {m.tokens:.4g}")
    N = 1.951e+10, D = 9.333e+11; package: N = 1.951e+10, D = 9.333e+11
    """
    e, a, b, alpha, beta = law
    ln_d = (math.log(b * (1.0 + beta / alpha)) - math.log(target - e)) / beta
    ln_n = (math.log(alpha * a / (beta * b)) + beta * ln_d) / alpha
    return math.exp(ln_n), math.exp(ln_d)


def _logaddexp(u: float, v: float) -> float:
    hi, lo = max(u, v), min(u, v)
    if lo == -math.inf:
        return hi
    return hi + math.log1p(math.exp(lo - hi))


def lifetime_log_optimum(
    law: Law, target: float, demand: float, *, tol: float = 1e-15, max_iter: int = 200
) -> tuple[float, float, int]:
    """(ln N, ln D, iterations) minimising `6 N D + 2 N demand` at `L(N, D) = target`.

    With `x = ln D`, `P = B (1 + beta/alpha)`, `Q = beta B demand / (3 alpha)` and
    `c = target - E`, the optimum solves `g(x) = ln(P e^(-beta x) + Q e^(-(beta+1) x)) - ln c = 0`.
    g is convex and decreasing; every term of the sum is at most c at the root, so
    `x0 = max(ln(P/c)/beta, ln(Q/c)/(beta+1))` lies left of it and `x0 + ln 2 / beta` right
    of it. Newton runs from x0, kept inside that bracket by bisection.

    Parameters
    ----------
    law : Law
        `(E, A, B, alpha, beta)`.
    target : float
        The loss, in nats/token; above E.
    demand : float
        Lifetime inference tokens; >= 0.
    tol : float, optional
        Stop when a step moves x by at most `tol * max(1, |x|)`.
    max_iter : int, optional
        At most this many Newton steps.

    Returns
    -------
    tuple
        ln N (N in parameters), ln D (D in training tokens), and the Newton steps taken.

    Raises
    ------
    ValueError
        A `target` at or below E.

    Examples
    --------
    >>> import math
    >>> from scaleplan import CHINCHILLA
    >>> ln_n, ln_d, steps = lifetime_log_optimum(CHINCHILLA.coefficients, 2.0, 1e13)
    >>> print(f"N = {math.exp(ln_n):.4g}, D = {math.exp(ln_d):.4g}, {steps} steps")
    N = 7.717e+09, D = 3.426e+12, 6 steps
    """
    e, a, b, alpha, beta = law
    c = target - e
    if not c > 0:
        raise ValueError("target loss must exceed E")
    ln_p = math.log(b * (1.0 + beta / alpha))
    ln_c = math.log(c)
    iterations = 0
    if demand == 0:
        x = (ln_p - ln_c) / beta
    else:
        ln_q = math.log(beta * b * demand / (3.0 * alpha))
        lo = max((ln_p - ln_c) / beta, (ln_q - ln_c) / (beta + 1.0))
        hi = lo + math.log(2.0) / beta
        x = lo
        for iterations in range(1, max_iter + 1):  # noqa: B007
            u, v = ln_p - beta * x, ln_q - (beta + 1.0) * x
            lse = _logaddexp(u, v)
            g = lse - ln_c
            if g > 0:
                lo = x
            else:
                hi = x
            w = math.exp(v - lse)  # share of the Q term
            slope = -(beta + w)
            step = -g / slope
            x_new = x + step
            if not lo <= x_new <= hi:
                x_new = 0.5 * (lo + hi)
            if abs(x_new - x) <= tol * max(1.0, abs(x)):
                x = x_new
                break
            x = x_new
    # A N^-alpha = (beta B / alpha) D^-beta (1 + demand / (3 D))
    extra = 0.0 if demand == 0 else _logaddexp(0.0, math.log(demand / 3.0) - x)
    ln_n = (math.log(a) - math.log(beta * b / alpha) + beta * x - extra) / alpha
    return ln_n, x, iterations


def lifetime_optimum(law: Law, target: float, demand: float) -> tuple[float, float]:
    """(N, D) minimising lifetime FLOPs `6 N D + 2 N demand` at `L(N, D) = target`.

    `lifetime_log_optimum`, exponentiated.

    Parameters
    ----------
    law : Law
        `(E, A, B, alpha, beta)`.
    target : float
        The loss, in nats/token; above E.
    demand : float
        Lifetime inference tokens; >= 0.

    Returns
    -------
    tuple of float
        N (count) and D (training tokens).

    Examples
    --------
    >>> from scaleplan import CHINCHILLA, compute_optimal
    >>> n, d = lifetime_optimum(CHINCHILLA.coefficients, 2.0, 1e13)
    >>> rust = compute_optimal(2.0, 1e13)
    >>> print(f"N = {n:.4g}, D = {d:.4g}")
    N = 7.717e+09, D = 3.426e+12
    >>> abs(n / rust.params - 1) < 1e-12 and abs(d / rust.tokens - 1) < 1e-12
    True
    """
    ln_n, ln_d, _ = lifetime_log_optimum(law, target, demand)
    return math.exp(ln_n), math.exp(ln_d)


def eq12_residual(law: Law, target: float, demand: float, tokens: float) -> float:
    """The residual of the lifetime optimum's equation in D, relative to its largest term.

    `|(E - l) + B (1 + beta/alpha) D^-beta + (beta B demand / (3 alpha)) D^(-beta-1)|`
    over the largest of `l - E` and the two D terms (Sardana et al. 2024, Eq. 12); 0 at
    the optimum's D.

    Parameters
    ----------
    law : Law
        `(E, A, B, alpha, beta)`.
    target : float
        The loss l, in nats/token.
    demand : float
        Lifetime inference tokens.
    tokens : float
        The D to test, in training tokens.

    Returns
    -------
    float
        The relative residual (dimensionless).

    Examples
    --------
    >>> from scaleplan import CHINCHILLA, compute_optimal
    >>> d = compute_optimal(2.0, 1e13).tokens
    >>> eq12_residual(CHINCHILLA.coefficients, 2.0, 1e13, d) < 1e-12
    True
    >>> print(f"{eq12_residual(CHINCHILLA.coefficients, 2.0, 1e13, 2 * d):.3f}")
    0.305
    """
    e, _, b, alpha, beta = law
    p = b * (1.0 + beta / alpha) * tokens**-beta
    q = beta * b * demand / (3.0 * alpha) * tokens ** (-beta - 1.0)
    return abs(e - target + p + q) / max(target - e, p, q)


def best_quality(law: Law, budget: float, effective_demand: float) -> tuple[float, float]:
    """(N, D) with the lowest loss on the budget curve `N (D + m) = budget`, `m =
    effective_demand / 3` (the budget in units of the training cost, FLOPs / 6).

    Derived apart from the Rust core, which solves an equation in the logit of the
    inference share: here the loss is minimised directly over `x = ln N`, by bisection on
    the sign of `dL/dx = -alpha A e^(-alpha x) + beta B D^(-beta - 1) C e^(-x)`, compared in
    logs, on `(-inf, ln(C / m))` where `D = C e^-x - m > 0`.

    Parameters
    ----------
    law : Law
        `(E, A, B, alpha, beta)`.
    budget : float
        The lifetime budget C in units of the training cost: FLOPs / 6.
    effective_demand : float
        Lifetime inference tokens (or their training-FLOP equivalents); >= 0.

    Returns
    -------
    tuple of float
        N (count) and D (training tokens).

    Examples
    --------
    >>> import scaleplan as sp
    >>> n, d = best_quality(sp.CHINCHILLA.coefficients, 1e24 / 6, 1e13)
    >>> rust = sp.best_quality(flop_budget=1e24, inference_tokens=1e13)
    >>> print(f"N = {n:.4g}, D = {d:.4g}; package: N = {rust.params:.4g}, D = {rust.tokens:.4g}")
    N = 1.94e+10, D = 5.257e+12; package: N = 1.94e+10, D = 5.257e+12
    """
    _, a, b, alpha, beta = law
    m = effective_demand / 3.0
    if m == 0.0:
        return chinchilla_for_compute(law, 6.0 * budget)
    ln_c = math.log(budget)
    x_hi = ln_c - math.log(m)

    def ln_tokens(x: float) -> float:
        return ln_c - x + math.log(-math.expm1(x - x_hi))

    def rising(x: float) -> bool:
        grow = math.log(beta * b) - (beta + 1.0) * ln_tokens(x) + ln_c - x
        return grow >= math.log(alpha * a) - alpha * x

    hi, width = x_hi, 1.0
    while rising(hi - width):
        hi, width = hi - width, 2.0 * width
    lo = hi - width
    for _ in range(400):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        lo, hi = (lo, mid) if rising(mid) else (mid, hi)
    # The midpoint of two neighbouring floats can round onto the pole itself.
    x = min(0.5 * (lo + hi), lo if hi == x_hi else hi)
    return math.exp(x), math.exp(ln_tokens(x))
