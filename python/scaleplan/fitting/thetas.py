"""Laws from fitted coefficients: `theta = (a, b, e, alpha, beta)`, the log-space parameters
every Huber and likelihood fit works in, as a `ScalingLaw` with `A, B, E = exp(a), exp(b),
exp(e)` (one law, or one law with a batch of coefficients).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ..laws.scaling import ScalingLaw

__all__ = ["law_from_theta", "laws_from_thetas"]


def law_from_theta(theta: Sequence[float], name: str = "fitted") -> ScalingLaw:
    """The law `L = E + A N^-alpha + B D^-beta` of a fit's `theta = (a, b, e, alpha, beta)`.

    `E, A, B = exp(e), exp(a), exp(b)`: the fits work in logs (`FitResult.theta`,
    `LikelihoodFit.theta`).

    Parameters
    ----------
    theta : sequence of 5 floats
        `(a, b, e, alpha, beta)`: `a, b, e` the logs of `A`, `B` and `E` (nats/token),
        `alpha, beta` dimensionless.
    name : str, optional
        The law's name (default "fitted").

    Returns
    -------
    ScalingLaw

    Raises
    ------
    ScaleplanError
        If an exponent is not positive (or the coefficients overflow).

    Examples
    --------
    >>> law = law_from_theta([6.17, 7.67, 0.6, 0.34, 0.28])
    >>> print(f"E={law.E:.4f} A={law.A:.1f} B={law.B:.0f}")
    E=1.8221 A=478.2 B=2143
    >>> print(f"{law.loss(7e10, 1.4e12):.4f} nats/token")
    2.7717 nats/token
    """
    a, b, e, alpha, beta = theta
    return ScalingLaw(math.exp(e), math.exp(a), math.exp(b), alpha, beta, name=name)


def laws_from_thetas(thetas: NDArray[np.float64], name: str = "fitted") -> ScalingLaw:
    """One law per row of `(a, b, e, alpha, beta, ...)`, as one law whose coefficients are
    arrays (a bootstrap's resamples, say), so the optimisers solve them all in one call.

    `E, A, B = exp(e), exp(a), exp(b)` row by row, as in `law_from_theta`.

    Parameters
    ----------
    thetas : numpy.ndarray
        Shape (k, 5) or wider: rows of `(a, b, e, alpha, beta)` (logs in nats/token,
        exponents dimensionless); extra columns are ignored.
    name : str, optional
        The law's name (default "fitted").

    Returns
    -------
    ScalingLaw
        Coefficients of shape (k,).

    Raises
    ------
    ScaleplanError
        If an exponent is not positive.

    Examples
    --------
    >>> import numpy as np
    >>> laws = laws_from_thetas(np.array([[6.17, 7.67, 0.6, 0.34, 0.28],
    ...                                   [6.00, 7.50, 0.55, 0.33, 0.30]]))
    >>> np.round(laws.E, 4)
    array([1.8221, 1.7333])
    >>> np.round(laws.loss(7e10, 1.4e12), 4)
    array([2.7717, 2.2502])
    """
    a, b, e, alpha, beta = (thetas[:, k] for k in range(5))
    return ScalingLaw(E=np.exp(e), A=np.exp(a), B=np.exp(b), alpha=alpha, beta=beta, name=name)
