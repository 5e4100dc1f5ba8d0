"""`scaleplan hardware`: its options (`add`) and what it prints (`run`, data and text)."""

from __future__ import annotations

import argparse
from typing import Any

from ...hardware.accelerators import ACCELERATORS, PRECISIONS
from ..commands import SUMMARIES
from ..options import output
from ..render import render_table


def add(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "hardware",
        help=SUMMARIES["hardware"],
        description="Peak FLOP/s per precision, memory, bandwidth, link bandwidth (one "
        "way, per GPU) and prices of each accelerator, with the sources and dates.",
    )
    output(p)
    return p


def run(args: argparse.Namespace) -> tuple[Any, str]:
    data = {
        name: {
            "peak_flops": dict(a.peak_flops),
            "memory_bytes": a.memory_bytes,
            "memory_bandwidth": a.memory_bandwidth,
            "link_bandwidth": a.link_bandwidth,
            "price_per_hour": a.price_per_hour,
            "spot_price_per_hour": a.spot_price_per_hour,
            "price_source": a.price_source,
            "source": a.source,
        }
        for name, a in ACCELERATORS.items()
    }
    rows = [
        (
            name,
            *(f"{a.peak_flops[p] / 1e12:g}" if p in a.peak_flops else "-" for p in PRECISIONS),
            f"{a.memory_bytes / 1e9:g}",
            f"{a.memory_bandwidth / 1e12:g}",
            f"{a.link_bandwidth / 1e9:g}" if a.link_bandwidth else "-",
            f"{a.price_per_hour:.2f}" if a.price_per_hour else "-",
            f"{a.spot_price_per_hour:.2f}" if a.spot_price_per_hour else "-",
        )
        for name, a in ACCELERATORS.items()
    ]
    headers = (
        "accelerator",
        *(f"{p} TFLOP/s" for p in PRECISIONS),
        "GB",
        "TB/s",
        "link GB/s",
        "$/h",
        "spot $/h",
    )
    lines = [f"  {name}: {a.source}" for name, a in ACCELERATORS.items()]
    sources = sorted({a.price_source for a in ACCELERATORS.values()})
    return data, (
        render_table(headers, rows)
        + "\n\nFigures:\n"
        + "\n".join(lines)
        + "\n\nPrices: "
        + "; ".join(sources)
    )
