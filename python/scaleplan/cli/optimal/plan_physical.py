"""The physical half of `scaleplan plan`: each model's shape, training GPUs x days, and
serving GPUs at the latency targets by the roofline (`scaleplan.systems.physical`)."""

from __future__ import annotations

import argparse
from typing import Any

from ..render import render_table, si_number
from ..values import positive, positive_int


def add_options(p: argparse.ArgumentParser) -> None:
    from ...hardware.accelerators import PRECISION_BYTES
    from ...systems.deployment import DEFAULT_PEAK_TO_AVERAGE, DEFAULT_TPOT_SECONDS, TENSOR_PARALLEL

    p.add_argument("--tpot-ms", type=positive, default=DEFAULT_TPOT_SECONDS * 1e3,
                   help="serving latency target per output token, ms")  # fmt: skip
    p.add_argument("--ttft-ms", type=positive, help="latency target to the first token, ms")
    p.add_argument("--peak-to-average", type=positive, default=DEFAULT_PEAK_TO_AVERAGE,
                   help="peak over mean request rate (serving is sized for the peak)")  # fmt: skip
    p.add_argument(
        "--kv-precision",
        choices=list(PRECISION_BYTES),
        help="KV cache format when serving (default: the inference precision)",
    )
    p.add_argument(
        "--tensor-parallel",
        type=positive_int,
        choices=TENSOR_PARALLEL,
        metavar="{1,2,4,...,64}",
        help="GPUs per serving replica (default: the degree needing fewest GPUs)",
    )
    p.add_argument("--train-gpus", type=positive_int,
                   help="training GPUs (None: enough to finish within 30 days)")  # fmt: skip


# The models of both tables, in order.
HEADINGS = ("Chinchilla-style", "compute-optimal", "cost-optimal", "physical-optimal")


def _deployment(args: argparse.Namespace, costs: Any) -> Any:
    """How the plans serve (`Deployment`): the costs' inference GPU, format and price, and
    the serving options."""
    from ...systems.deployment import Deployment

    return Deployment.from_costs(
        costs, kv_precision=args.kv_precision, tensor_parallel=args.tensor_parallel,
        input_tokens=args.input_tokens, output_tokens=args.output_tokens,
        tpot_seconds=args.tpot_ms / 1e3,
        ttft_seconds=None if args.ttft_ms is None else args.ttft_ms / 1e3,
        peak_to_average=args.peak_to_average,
    )  # fmt: skip


def _options(args: argparse.Namespace, costs: Any) -> dict[str, Any]:
    """Everything `physical.physical_plan` takes besides the model, from the arguments."""
    return dict(
        deployment=_deployment(args, costs),
        requests_per_day=args.requests_per_day, days=args.days,
        train_gpu=costs.train_gpu, train_gpus=args.train_gpus,
        train_precision=costs.train_precision, train_mfu=costs.train_mfu,
        train_price_per_hour=costs.train_price_per_hour,
    )  # fmt: skip


def optimum(
    args: argparse.Namespace,
    loss: float,
    requests: float,
    costs: Any,
    law: Any,
    sizes: tuple[float, ...] = (),
) -> tuple[Any, Any]:
    """The lifetime optimum with serving priced by the roofline (`physical_optimal`, a
    fraction of a replica) and the cheapest whole-GPU plan near it (`whole_gpu_plan`),
    under `--unique-tokens` when given."""
    from ...arch.shapes import MODEL_SIZES
    from ...errors import ScaleplanError
    from ...optimal.physical_optimum import (
        CURVE_PARAMS,
        ServingCurve,
        physical_optimal,
        whole_gpu_plan,
    )

    # The default span, widened to take in the other plans' sizes (`sizes`) with room.
    lo = max(MODEL_SIZES.low, min((CURVE_PARAMS[0], *(n / 4 for n in sizes))))
    hi = min(MODEL_SIZES.high, max((CURVE_PARAMS[1], *(n * 4 for n in sizes))))
    curve = ServingCurve.roofline(_deployment(args, costs), params=(lo, hi))
    u = args.unique_tokens
    try:
        fluid = physical_optimal(loss, requests, curve=curve, costs=costs, law=law,
                                 unique_tokens=u)  # fmt: skip
    except ScaleplanError as exc:
        if "serving curve" not in str(exc):
            raise
        raise ScaleplanError(
            f"loss: the physical optimum of this target lies outside {lo:.3g} to {hi:.3g} "
            "parameters, where the shape policy and the serving roofline are defined",
            "loss",
        ) from None
    plan = whole_gpu_plan(loss, float(fluid.params), law=law, unique_tokens=u,
                          **_options(args, costs))  # fmt: skip
    return fluid, plan


_LABELS = (
    "shape (width x depth, heads/KV)",
    "training GPUs x days",
    "serving GPUs (replicas x TP)",
    "decode batch, TPOT",
    "TTFT",
    "$ per M output tokens",
    "training $ (roofline plan)",
    "serving $ (roofline plan)",
    "lifetime $ (roofline plan)",
)


def section(
    args: argparse.Namespace,
    models: dict[str, tuple[float, float]],
    costs: Any,
    plans: dict[str, Any],
) -> tuple[dict[str, Any], str]:
    """The physical plan of each (params, tokens) in `models` (or the one in `plans`), as
    data and a table."""
    from ...systems.physical import physical_plan

    data, cols = {}, {}
    for name, (n, d) in models.items():
        p = plans[name] if name in plans else physical_plan(n, d, **_options(args, costs))
        s, t, v = p.shape, p.training, p.serving
        data[name] = {
            "shape": {
                "d_model": s.d_model,
                "n_layers": s.n_layers,
                "n_heads": s.n_heads,
                "n_kv_heads": s.n_kv_heads,
                "d_ff": s.d_ff,
                "params": p.params,
            },
            "training": vars(t),
            "serving": vars(v),
            "total_dollars": p.total_dollars,
        }
        cols[name] = [
            f"{s.d_model} x {s.n_layers}, {s.n_heads}/{s.n_kv_heads}",
            f"{t.gpus} x {t.days:.3g}",
            f"{v.gpus} ({v.replicas} x {v.tensor_parallel})",
            f"{v.batch_size:g}, {v.seconds_per_token * 1e3:.3g} ms",
            f"{v.ttft_seconds * 1e3:.3g} ms",
            f"${v.dollars_per_million_output_tokens:.3g}",
            f"${t.dollars:.3g}",
            f"${v.dollars:.3g}",
            f"${p.total_dollars:.3g}",
        ]
    rows = [(label, *(cols[m][i] for m in models)) for i, label in enumerate(_LABELS)]
    ttft = "" if args.ttft_ms is None else f", TTFT <= {args.ttft_ms:g} ms"
    text = (
        f"\n\nOn real hardware (roofline serving at TPOT <= {args.tpot_ms:g} ms{ttft}, "
        f"sized for {args.peak_to_average:g}x the mean request rate; shapes by the Llama-like "
        "policy of shapes.shape_for_params):\n\n"
        + render_table(("", *HEADINGS), rows)
        + "\n\nThe physical-optimal model minimises lifetime dollars with serving priced by "
        "this roofline: the optimum in fractions of a replica (physical_optimal), then the "
        "cheapest whole-GPU plan among the policy's shapes near it (whole_gpu_plan)"
        + (
            ""
            if args.unique_tokens is None
            else f", both with {si_number(args.unique_tokens)} unique tokens (the other "
            "columns assume unlimited unique data)"
        )
        + ". "
        f"It costs {_saving(data, 'cost_optimal')} over its life than the cost-optimal "
        f"model and {_saving(data, 'compute_optimal')} than the compute-optimal one."
    )
    return data, text


def _saving(data: dict[str, Any], other: str) -> str:
    """How much less (or more) the physical-optimal plan costs than `other`'s, in words."""
    saving = 1.0 - data["physical_optimal"]["total_dollars"] / data[other]["total_dollars"]
    return f"{100 * abs(saving):.1f}% {'less' if saving >= 0 else 'more'}"
