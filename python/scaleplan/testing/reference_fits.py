"""Pure-Python references for the fitting workbench (standard library `math` only): the
test oracle for the Rust likelihood and the closed forms of `scaleplan.workbench`, written
from the definitions rather than from the kernels (see `_reference` for the others)."""

from __future__ import annotations

import math

from .reference import huber


def huber_likelihood(
    theta: tuple[float, ...],
    params: list[float],
    tokens: list[float],
    losses: list[float],
    delta: float = 1e-3,
) -> tuple[float, list[float]]:
    """Negative log-likelihood of Epoch's estimator, constant included, and its gradient in
    `(a, b, e, alpha, beta, s)`: each residual `r = ln(A N^-alpha + B D^-beta + E) - ln L`
    has density `exp(-Huber_delta(r / sigma)) / (sigma Z(delta))`, `sigma = e^s`."""
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
    (beta B D^-beta) - 1)`; negative below the Chinchilla ratio."""
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
    `ln L_pred = alpha_D ln(u + v)`, `u = (N_c / N)^q`, `v = D_c / D`."""
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
