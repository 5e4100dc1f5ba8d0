"""The serving options of `scaleplan plan` (latency targets, peak over mean rate, KV
format, tensor-parallel degree, speculative decoding, training GPUs) and the `Deployment`
they describe."""

from __future__ import annotations

import argparse
from typing import Any

from .. import speculation
from ..options import group
from ..values import positive, positive_int


def add_options(p: argparse.ArgumentParser) -> None:
    from ...hardware.formats import KV_FORMATS
    from ...systems.deployment import DEFAULT_PEAK_TO_AVERAGE, DEFAULT_TPOT_SECONDS, TENSOR_PARALLEL
    from ...systems.engines import DEFAULT_ENGINE, ENGINES

    serving = group(p, "serving")
    serving.add_argument("--tpot-ms", type=positive, default=DEFAULT_TPOT_SECONDS * 1e3,
                         metavar="MS", help="latency target per output token, ms")  # fmt: skip
    serving.add_argument("--ttft-ms", type=positive, metavar="MS",
                         help="latency target to the first token, ms (default: none)")  # fmt: skip
    serving.add_argument("--peak-to-average", type=positive, default=DEFAULT_PEAK_TO_AVERAGE,
                         metavar="RATIO", help="peak over mean request rate (serving is "
                         "sized for the peak)")  # fmt: skip
    serving.add_argument(
        "--engine",
        choices=list(ENGINES),
        default=DEFAULT_ENGINE,
        help="engine profile the serving is priced with (default: %(default)s)",
    )
    serving.add_argument(
        "--kv-precision",
        choices=list(KV_FORMATS),
        help="KV cache format (default: the inference precision's; fp8 for 4-bit weights, "
        "fp16 for weight-only ones)",
    )
    serving.add_argument(
        "--tensor-parallel",
        type=positive_int,
        choices=TENSOR_PARALLEL,
        metavar="{1,2,4,...,64}",
        help="GPUs per serving replica (default: the degree needing fewest GPUs)",
    )
    speculation.add(p, serving)
    group(p, "hardware").add_argument(
        "--train-gpus", type=positive_int, metavar="N",
        help="training GPUs (default: the fewest, a multiple of 8, that finish within 30 "
        "days)",
    )  # fmt: skip


def deployment(args: argparse.Namespace, costs: Any) -> Any:
    """How the plan serves (`Deployment`): the cost model's inference GPU, format and
    price, and the serving options."""
    from ...systems.deployment import Deployment

    return Deployment.from_costs(
        costs, kv_precision=args.kv_precision, tensor_parallel=args.tensor_parallel,
        input_tokens=args.input_tokens, output_tokens=args.output_tokens,
        tpot_seconds=args.tpot_ms / 1e3,
        ttft_seconds=None if args.ttft_ms is None else args.ttft_ms / 1e3,
        peak_to_average=args.peak_to_average, engine=args.engine,
        speculation=speculation.of(args),
    )  # fmt: skip
