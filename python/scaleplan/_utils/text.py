"""Plain-text tables and numbers, shared by the command line, the results' reprs and the
reproduction files."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["money", "render_table", "si_number"]

# Suffixes for counts (parameters, tokens, requests): K, M, B (billion), T.
_COUNT_SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))
# Suffixes for dollars, as finance writes them: k, M, B (billion), T.
_MONEY_SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def _scaled(x: float, scales: tuple[tuple[float, str], ...], digits: int) -> str:
    for scale, suffix in scales:
        # Round first so 999,950 reads $1.00M, not $1e+03k.
        if abs(float(f"{x:.{digits}g}")) >= scale:
            return f"{x / scale:.{digits}g}{suffix}"
    return f"{x:.{digits}g}"


def si_number(x: float) -> str:
    """A count in three significant digits with K/M/B/T: 7e9 -> '7B', 3.67e9 -> '3.67B'."""
    if not math.isfinite(x):
        return str(x)
    return _scaled(x, _COUNT_SCALES, 3)


def money(dollars: float) -> str:
    """Dollars as money, three significant digits kept (trailing zeros too) with k/M/B/T:
    31000 -> '$31.0k', 1.04e6 -> '$1.04M', 0.0368 -> '$0.0368'."""
    if not math.isfinite(dollars):
        return str(dollars)
    sign, x = ("-", -dollars) if dollars < 0 else ("", dollars)
    for scale, suffix in _MONEY_SCALES:
        if float(f"{x:.3g}") >= scale:
            return f"{sign}${_kept(x / scale)}{suffix}"
    return f"{sign}${_kept(x) if x >= 0.01 else f'{x:.3g}'}"


def _kept(x: float) -> str:
    """Three significant digits, trailing zeros kept (31.0, 1.00) but no bare point (541)."""
    return f"{x:#.3g}".rstrip(".")


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    # First column left-aligned (labels), the rest right-aligned (numbers).
    fmt = "  ".join(("{:<%d}" if i == 0 else "{:>%d}") % w for i, w in enumerate(widths))
    lines = [fmt.format(*headers), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*r) for r in rows]
    return "\n".join(lines)
