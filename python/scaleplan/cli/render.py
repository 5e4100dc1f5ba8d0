"""Numbers and tables as the command line prints them."""

from __future__ import annotations

import math
from collections.abc import Sequence


def si_number(x: float) -> str:
    if not math.isfinite(x):
        return str(x)
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.3g}"


def cell(key: str, v: float) -> str:
    if key == "tokens_per_param":
        return f"{v:.1f}"
    return f"{v:.3g}" if "flops" in key else si_number(v)


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    # First column left-aligned (labels), the rest right-aligned (numbers).
    fmt = "  ".join(("{:<%d}" if i == 0 else "{:>%d}") % w for i, w in enumerate(widths))
    lines = [fmt.format(*headers), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*r) for r in rows]
    return "\n".join(lines)
