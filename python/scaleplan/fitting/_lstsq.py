"""Small least-squares fits in plain float arithmetic: normal equations on sums taken by
`math.fsum` in a fixed order, Cramer's rule, no LAPACK or BLAS, so their answers do not
move with the machine. Used by Approach 2 (`isoflop`) and the downstream mapping."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ..errors import ScaleplanError


def _det3(m: list[list[float]]) -> float:
    return (
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    )


def parabola(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[float, float, float]:
    """Least-squares `(c0, c1, c2)` of `y = c0 + c1 x + c2 x^2`, by the normal equations
    in `x - mean(x)` (for conditioning) and Cramer's rule, then shifted back."""
    x0 = math.fsum(x) / len(x)
    u = [float(v) - x0 for v in x]
    s = [math.fsum(t**k for t in u) for k in range(5)]
    r = [math.fsum(t**k * float(v) for t, v in zip(u, y, strict=True)) for k in range(3)]
    m = [[s[i + j] for j in range(3)] for i in range(3)]
    det = _det3(m)
    if not (det > 0 and math.isfinite(det)):
        raise ScaleplanError("a profile's runs do not determine a parabola", "params")
    sol = []
    for k in range(3):
        mk = [[r[i] if j == k else m[i][j] for j in range(3)] for i in range(3)]
        sol.append(_det3(mk) / det)
    d0, d1, d2 = sol
    # y = d0 + d1 (x - x0) + d2 (x - x0)^2, expanded in x.
    return d0 - d1 * x0 + d2 * x0 * x0, d1 - 2.0 * d2 * x0, d2


def line(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[float, float]:
    """Least-squares `(intercept, slope)` of `y = intercept + slope x`."""
    x0, y0 = math.fsum(x) / len(x), math.fsum(y) / len(y)
    sxx = math.fsum((float(a) - x0) ** 2 for a in x)
    sxy = math.fsum((float(a) - x0) * (float(b) - y0) for a, b in zip(x, y, strict=True))
    # All x equal: every slope fits equally well; the flat line is the least-norm answer.
    slope = sxy / sxx if sxx > 0 else 0.0
    return y0 - slope * x0, slope
