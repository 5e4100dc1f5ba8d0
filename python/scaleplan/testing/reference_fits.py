"""Pure-Python references for the fits (standard library `math` only): the test oracle for
the Rust objectives of Approach 3 and Epoch's likelihood, Kaplan et al.'s law, the
closed form of `implied_demand` and the downstream mapping's least-squares search,
written from the definitions rather than from the kernels (see `reference` for the
others). `reference` re-exports `huber` and
`huber_lse_objective`, as the tests import them from there.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = [
    "downstream_fit",
    "huber",
    "huber_likelihood",
    "huber_lse_objective",
    "implied_demand",
    "kaplan_objective",
]


def huber(r: float, delta: float) -> tuple[float, float]:
    """The Huber function at `r` and its slope: `r^2 / 2` inside `|r| <= delta`, else
    `delta (|r| - delta / 2)`.

    Parameters
    ----------
    r : float
        The residual (log-loss units in the fits).
    delta : float
        The threshold between the quadratic and the linear part; > 0.

    Returns
    -------
    tuple of float
        The value and its derivative in r.

    Examples
    --------
    >>> huber(0.5e-3, 1e-3)  # inside: r^2 / 2, slope r
    (1.25e-07, 0.0005)
    >>> huber(-2e-3, 1e-3)  # outside: delta (|r| - delta / 2), slope -delta
    (1.5e-06, -0.001)
    """
    if abs(r) <= delta:
        return r * r / 2.0, r
    return delta * abs(r) - delta * delta / 2.0, math.copysign(delta, r)


def huber_lse_objective(
    theta: tuple[float, float, float, float, float],
    params: list[float],
    tokens: list[float],
    losses: list[float],
    delta: float = 1e-3,
) -> tuple[float, list[float]]:
    """The Approach 3 objective: summed Huber loss of the log-loss residuals, and its
    gradient.

    `sum_i Huber_delta(LSE(a - alpha ln N_i, b - beta ln D_i, e) - ln L_i)` (Hoffmann et al.
    2022, §D.2), `A, B, E = exp(a), exp(b), exp(e)`; the gradient in (a, b, e, alpha,
    beta), written directly from the definitions.

    Parameters
    ----------
    theta : tuple of float
        `(a, b, e, alpha, beta)`.
    params, tokens, losses : list of float
        Each run's N (count), D (training tokens) and final loss (nats/token).
    delta : float, optional
        The Huber threshold (default 1e-3).

    Returns
    -------
    tuple
        The objective (log-loss units) and its gradient, a list of five floats.

    Examples
    --------
    >>> f, g = huber_lse_objective((6.0, 6.0, 0.5, 0.34, 0.28), [1e9, 1e10], [2e10, 2e11],
    ...                            [2.5, 2.2])
    >>> print(f"{f:.4g}", [f"{x:.3g}" for x in g])
    6.298e-05 ['6.21e-05', '7.59e-05', '-0.000138', '-0.00111', '-0.0015']
    """
    a, b, e, alpha, beta = theta
    total = 0.0
    grad = [0.0] * 5
    for n, d, loss in zip(params, tokens, losses, strict=True):
        u1 = a - alpha * math.log(n)
        u2 = b - beta * math.log(d)
        top = max(u1, u2, e)
        z = math.exp(u1 - top) + math.exp(u2 - top) + math.exp(e - top)
        r = top + math.log(z) - math.log(loss)
        h, slope = huber(r, delta)
        total += h
        p1, p2, p3 = (math.exp(u - top) / z for u in (u1, u2, e))
        grad[0] += slope * p1
        grad[1] += slope * p2
        grad[2] += slope * p3
        grad[3] += -slope * p1 * math.log(n)
        grad[4] += -slope * p2 * math.log(d)
    return total, grad


def huber_likelihood(
    theta: tuple[float, ...],
    params: list[float],
    tokens: list[float],
    losses: list[float],
    delta: float = 1e-3,
) -> tuple[float, list[float]]:
    """Negative log-likelihood of Epoch's estimator, constant included, and its gradient in
    `(a, b, e, alpha, beta, s)`: each residual `r = ln(A N^-alpha + B D^-beta + E) - ln L`
    has density `exp(-Huber_delta(r / sigma)) / (sigma Z(delta))`, `sigma = e^s`.

    Parameters
    ----------
    theta : tuple of float
        `(a, b, e, alpha, beta, s)`: `A, B, E = exp(a), exp(b), exp(e)` and the residuals'
        scale `sigma = exp(s)` (log-loss units).
    params, tokens, losses : list of float
        Each run's N (count), D (training tokens) and final loss (nats/token).
    delta : float, optional
        The Huber threshold (default 1e-3).

    Returns
    -------
    tuple
        The negative log-likelihood (nats, summed over runs) and its gradient, a list of
        six floats.

    Examples
    --------
    >>> f, g = huber_likelihood((6.0, 6.0, 0.5, 0.34, 0.28, -5.0), [1e9, 1e10],
    ...                         [2e10, 2e11], [2.5, 2.2])
    >>> print(f"{f:.4f}", [f"{x:.3g}" for x in g])
    5.2113 ['0.00921', '0.0113', '-0.0205', '-0.165', '-0.222', '1.99']
    """
    a, b, e, alpha, beta, s = theta
    sigma = math.exp(s)
    z = math.sqrt(2.0 * math.pi) * math.erf(delta / math.sqrt(2.0))
    z += 2.0 * math.exp(-delta * delta / 2.0) / delta
    total = 0.0
    grad = [0.0] * 6
    for n, d, loss in zip(params, tokens, losses, strict=True):
        terms = (math.exp(a) * n**-alpha, math.exp(b) * d**-beta, math.exp(e))
        pred = sum(terms)
        r = math.log(pred) - math.log(loss)
        x = r / sigma
        h, slope = huber(x, delta)
        total += h + math.log(sigma) + math.log(z)
        # d r / d theta_k, then the chain rule through x = r / sigma.
        dr = (
            terms[0] / pred,
            terms[1] / pred,
            terms[2] / pred,
            -terms[0] / pred * math.log(n),
            -terms[1] / pred * math.log(d),
        )
        for k in range(5):
            grad[k] += slope * dr[k] / sigma
        grad[5] += 1.0 - slope * x
    return total, grad


def implied_demand(law: tuple[float, ...], params: float, tokens: float) -> float:
    """Lifetime inference tokens for which `(params, tokens)` is compute-optimal: on the
    iso-loss curve, `d(6ND + 2 N D_inf) = 0` gives `D_inf = 3 D (alpha A N^-alpha /
    (beta B D^-beta) - 1)`; negative below the Chinchilla ratio.

    Parameters
    ----------
    law : tuple of float
        `(E, A, B, alpha, beta)` of `L = E + A N^-alpha + B D^-beta`.
    params, tokens : float
        N (count) and D (training tokens).

    Returns
    -------
    float
        D_inf, in lifetime inference tokens.

    Examples
    --------
    >>> import scaleplan as sp
    >>> law = sp.CHINCHILLA.coefficients
    >>> print(f"{implied_demand(law, 7e9, 1.4e12):.4g} tokens; package: "
    ...       f"{sp.implied_demand(7e9, 1.4e12).inference_tokens:.4g}")
    2.447e+12 tokens; package: 2.447e+12
    >>> implied_demand(law, 7e9, 1e11) < 0  # fewer tokens than Chinchilla's 2.8e11
    True
    """
    _, a_coef, b_coef, alpha, beta = law
    ratio = alpha * a_coef * params**-alpha / (beta * b_coef * tokens**-beta)
    return 3.0 * tokens * (ratio - 1.0)


def kaplan_objective(
    theta: tuple[float, ...],
    params: list[float],
    tokens: list[float],
    losses: list[float],
    delta: float = 1e-3,
) -> tuple[float, list[float]]:
    """Summed Huber loss of `ln L_pred - ln L` for Kaplan et al.'s
    `L = ((N_c / N)^(alpha_N / alpha_D) + D_c / D)^alpha_D`, theta = (alpha_D, q, ln N_c,
    ln D_c) with q = alpha_N / alpha_D, and its gradient by the chain rule on
    `ln L_pred = alpha_D ln(u + v)`, `u = (N_c / N)^q`, `v = D_c / D`.

    Parameters
    ----------
    theta : tuple of float
        `(alpha_D, q, ln N_c, ln D_c)`: N_c in parameters, D_c in tokens, the exponents
        dimensionless.
    params, tokens, losses : list of float
        Each run's N (count), D (training tokens) and final loss (nats/token).
    delta : float, optional
        The Huber threshold (default 1e-3).

    Returns
    -------
    tuple
        The objective (log-loss units) and its gradient, a list of four floats.

    Examples
    --------
    Kaplan et al.'s published values (alpha_N 0.076, alpha_D 0.095, N_c 8.8e13, D_c
    5.4e13):

    >>> import math
    >>> theta = (0.095, 0.076 / 0.095, math.log(8.8e13), math.log(5.4e13))
    >>> f, g = kaplan_objective(theta, [1e9, 1e10], [2e10, 2e11], [2.5, 2.2])
    >>> print(f"{f:.4g}", [f"{x:.3g}" for x in g])
    0.0001069 ['-0.0168', '-0.00156', '-0.000122', '-3.7e-05']
    """
    alpha_d, q, n_c, d_c = theta
    total = 0.0
    grad = [0.0] * 4
    for n, d, loss in zip(params, tokens, losses, strict=True):
        u = math.exp(q * (n_c - math.log(n)))
        v = math.exp(d_c - math.log(d))
        inner = math.log(u + v)
        r = alpha_d * inner - math.log(loss)
        h, slope = huber(r, delta)
        total += h
        grad[0] += slope * inner
        grad[1] += slope * alpha_d * u * (n_c - math.log(n)) / (u + v)
        grad[2] += slope * alpha_d * u * q / (u + v)
        grad[3] += slope * alpha_d * v / (u + v)
    return total, grad


def _exact_sum(values: Iterable[float]) -> float:
    """`math.fsum`, with the Rust kernel's answers where it raises: the overflowing
    infinity (sums of squares here, so +inf) and NaN for `inf + -inf`."""
    try:
        return math.fsum(values)
    except OverflowError:
        return math.inf
    except ValueError:
        return math.nan


def _line(x: list[float], y: list[float]) -> tuple[float, float, float]:
    """Least squares `y = e - k x` by the centred normal equations: (e, k, rss)."""
    x0, y0 = _exact_sum(x) / len(x), _exact_sum(y) / len(y)
    sxx = _exact_sum((a - x0) * (a - x0) for a in x)
    sxy = _exact_sum((a - x0) * (b - y0) for a, b in zip(x, y, strict=True))
    slope = sxy / sxx if sxx > 0 else 0.0  # all x equal: the flat line
    e = y0 - slope * x0
    rss = _exact_sum((e + slope * a - b) * (e + slope * a - b) for a, b in zip(x, y, strict=True))
    return e, -slope, rss


def downstream_fit(loss: list[float], error: list[float]) -> tuple[float, float, float]:
    """`(e, k, g)` of `error = e - k exp(-g loss)` by least squares (Gadre et al. 2024):
    `g` scanned on 401 points of `ln g` in [ln 1e-3, ln 100], the first lowest kept, then
    golden section on its two neighbours to a width of 1e-13 (relative beyond 1); `e` and
    `k` are the line's in `z = exp(-g loss)` at the midpoint. The oracle of the Rust fit
    (`_core.downstream_fit`), which must give the same bits.

    Parameters
    ----------
    loss : list of float
        The runs' losses, in nats/token.
    error : list of float
        Their benchmark errors, `1 - score`.

    Returns
    -------
    (float, float, float)
        `e`, `k` and `g` (per nat).

    Examples
    --------
    >>> loss = [2.0 + 0.1 * i for i in range(12)]
    >>> e, k, g = downstream_fit(loss, [0.9 - 2.0 * math.exp(-0.8 * v) for v in loss])
    >>> print(f"e {e:.6f}, k {k:.6f}, g {g:.6f}")
    e 0.900000, k 2.000000, g 0.800000
    """

    def rss(ln_g: float) -> float:
        g = math.exp(ln_g)
        return _line([math.exp(-g * v) for v in loss], error)[2]

    lo, hi = math.log(1e-3), math.log(100.0)
    grid = [lo + (hi - lo) * i / 400 for i in range(401)]
    values = [rss(x) for x in grid]
    best = min(range(len(grid)), key=values.__getitem__)
    a, b = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    for _ in range(200):
        if b - a <= 1e-13 * max(1.0, abs(a)):
            break
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        if rss(c) <= rss(d):
            b = d
        else:
            a = c
    g = math.exp(0.5 * (a + b))
    e, k, _ = _line([math.exp(-g * v) for v in loss], error)
    return e, k, g
