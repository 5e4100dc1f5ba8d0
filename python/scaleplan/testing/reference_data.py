"""Pure-Python reference for the data-constrained law (standard library `math` only).

Muennighoff et al. 2023's law as their repository writes it, with the derivatives by the
chain rule in N and D themselves, where the Rust core works in logs; the tests check the
package's data-constrained loss and its optimum's conditions against it. Laws are tuples
`(E, A, B, alpha, beta)` as in `reference`, which re-exports this function.
"""

from __future__ import annotations

import math

__all__ = ["data_constrained_loss"]

Law = tuple[float, float, float, float, float]


def data_constrained_loss(
    law: Law, rd_star: float, rn_star: float, n: float, d: float, u: float
) -> tuple[float, float, float]:
    """(L, dL/dN, dL/dD) of Muennighoff et al.'s law, written as their repository writes
    it (with U_s = min(U, D) as their `optimal_allocation` passes it); the derivatives by
    the chain rule in N and D themselves (the Rust core works in logs).

    `L = E + A N'^-alpha + B D'^-beta` (Muennighoff et al. 2023), with the effective data
    `D' = U_s + U_s R_D* (1 - exp(-R_D / R_D*))`, `R_D = D / U_s - 1` repeats, and the
    effective parameters N' likewise with R_N*, beyond the size U_s's tokens make
    compute-optimal.

    Parameters
    ----------
    law : Law
        `(E, A, B, alpha, beta)`.
    rd_star, rn_star : float
        R_D* and R_N*: how many repeats of the data, and how much excess size, are still
        worth something (dimensionless).
    n, d, u : float
        N (count), D (training tokens) and U (unique tokens).

    Returns
    -------
    tuple of float
        L (nats/token), dL/dN (nats/token per parameter) and dL/dD (nats/token per
        token).

    Examples
    --------
    >>> from scaleplan.laws.data_constrained import MUENNIGHOFF2023 as law
    >>> value, dl_dn, dl_dd = data_constrained_loss(law.law.coefficients, law.rd_star,
    ...                                             law.rn_star, 7e9, 4e12, 1e12)
    >>> print(f"L = {value:.4f} nats/token; package: {law.loss(7e9, 4e12, 1e12):.4f}")
    L = 2.0997 nats/token; package: 2.0997
    >>> print(f"dL/dD = {dl_dd:.3g} per token")
    dL/dD = -4.27e-15 per token
    """
    e, a, b, alpha, beta = law
    seen = min(u, d)
    g = (alpha * a / (beta * b)) ** (1 / (alpha + beta))
    cap = (seen * g) ** (beta / alpha) * g  # D_to_N(U)
    dcap_dd = cap * beta / alpha / d if d < u else 0.0
    r_d = max(d / seen - 1, 0.0)
    d_eff = seen + seen * rd_star * (1 - math.exp(-r_d / rd_star))
    dd_eff = math.exp(-r_d / rd_star) if d > u else 1.0  # dD'/dD
    u_n = min(n, cap)
    r_n = max(n / u_n - 1, 0.0)
    n_eff = u_n + u_n * rn_star * (1 - math.exp(-r_n / rn_star))
    if n <= cap:
        dn_eff_dn, dn_eff_dd = 1.0, 0.0
    else:
        decay = math.exp(-r_n / rn_star)
        dn_eff_dn = decay
        # N' = cap (1 + R* (1 - exp(-(N/cap - 1)/R*))): d/dcap at fixed N.
        dn_eff_dcap = 1 + rn_star * (1 - decay) - decay * n / cap
        dn_eff_dd = dn_eff_dcap * dcap_dd
    loss_ = e + a * n_eff**-alpha + b * d_eff**-beta
    dl_dneff = -alpha * a * n_eff ** (-alpha - 1)
    dl_dn = dl_dneff * dn_eff_dn
    dl_dd = dl_dneff * dn_eff_dd - beta * b * d_eff ** (-beta - 1) * dd_eff
    return loss_, dl_dn, dl_dd
