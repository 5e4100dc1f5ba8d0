"""`scaleplan step-time`: its options (`add`) and what it prints (`run`, data and text)."""

from __future__ import annotations

import argparse
from typing import Any

from ..commands import SUMMARIES
from ..options import group, timing
from ..render import render_table, si_number
from ..shared import CliError, preset_law
from ..values import positive, positive_int


def add(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "step-time",
        help=SUMMARIES["step-time"],
        description="Counts of one training step of a transformer shape, its predicted time, "
        "and with --hours the loss it reaches in that wall-clock budget.",
    )
    g = group(p, "shape")
    g.add_argument("--d-model", type=positive_int, required=True, help="model width (hidden size)")
    g.add_argument("--n-layers", type=positive_int, required=True, help="transformer blocks")
    g.add_argument("--n-heads", type=positive_int, default=32, help="attention heads")
    g.add_argument("--head-dim", type=positive_int,
                   help="width of each head (default: --d-model / --n-heads)")  # fmt: skip
    g.add_argument("--n-kv-heads", type=positive_int,
                   help="key/value heads (default: --n-heads)")  # fmt: skip
    g.add_argument("--d-ff", type=positive_int, help="MLP width (default: 4 x --d-model)")
    g.add_argument("--plain-mlp", action="store_true", help="two-matrix MLP instead of gated")
    g.add_argument("--tied", action="store_true", help="tie input and output embeddings")
    group(p, "budget").add_argument(
        "--hours", type=positive, help="also the loss reached in this many wall-clock hours"
    )
    timing(p)
    return p


def time_model(args: argparse.Namespace) -> Any:
    from ...systems.steptime import StepTimeModel

    if args.measured:
        from ...systems.measure import load_measurements
        from ...systems.steptime_fit import fit_step_time

        shapes, seconds = load_measurements()
        return fit_step_time(shapes, seconds).model
    if not 0 < args.mfu <= 1:
        raise CliError(f"--mfu must be in (0, 1]; got {args.mfu}")
    return StepTimeModel.from_hardware(args.gpu, args.precision, mfu=args.mfu)


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from ...systems.steptime import TransformerShape, loss_in_budget, step_counts

    shape = TransformerShape(
        d_model=args.d_model,
        n_layers=args.n_layers,
        n_heads=args.n_heads,
        head_dim=args.head_dim,
        n_kv_heads=args.n_kv_heads,
        d_ff=args.d_ff,
        vocab=args.vocab,
        gated=not args.plain_mlp,
        tied=args.tied,
        seq_len=args.seq_len,
        batch_size=args.batch_size,
    )
    model = time_model(args)
    c = step_counts(shape)
    seconds = model.predict(shape)
    data: dict[str, Any] = {
        "params": c.params,
        "flops": c.flops,
        "memcpy_bytes": c.memcpy_bytes(model.bytes_per_element),
        "memory_bytes": c.memory_bytes(model.bytes_per_element),
        "step_seconds": seconds,
        "time_model": model.source,
    }
    rows = [
        ("parameters", si_number(c.params)),
        ("FLOPs per step", f"{c.flops:.3g}"),
        ("bytes moved per step", f"{data['memcpy_bytes']:.3g}"),
        ("training memory (bytes)", f"{data['memory_bytes']:.3g}"),
        ("seconds per step", f"{seconds:.4g}"),
    ]
    if args.hours is not None:
        r = loss_in_budget(shape, args.hours * 3600.0, law=preset_law(args.law), time_model=model)
        data |= {"budget_hours": args.hours, "tokens": r.tokens, "loss": r.loss}
        rows += [
            (f"tokens in {args.hours:g} h", si_number(r.tokens)),
            ("loss reached", f"{r.loss:.4f}"),
        ]
    return data, render_table((f"Step time ({model.source})", "value"), rows)
