"""`scaleplan sweep`: a product of scenario axes solved on Dask and written to Zarr or
Parquet. Dask is imported only when the command runs, so the base install's CLI works
without the `[dask]` extra.
"""

from __future__ import annotations

import argparse
import copy
import math
import os
from contextlib import ExitStack
from typing import Any

import numpy as np

from ..._utils.arrays import ON_INVALID
from ...optimal.costs import CostModel
from ..commands import SUMMARIES
from ..options import common, hardware
from ..progress import progress_bar
from ..shared import cost_model, preset_law
from ..values import address, positive_int, processes


class SweepCliError(ValueError):
    pass


def axis_values(flag: str, text: str | None) -> Any:
    """A flag's value: one number, a list `a,b,c`, or a range `start:stop:count[:log]`
    (`log` spaces the points geometrically)."""
    if text is None:
        return None
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] != "log"):
                raise ValueError
            lo, hi, count = float(parts[0]), float(parts[1]), int(parts[2])
            if count < 1:
                raise ValueError
            if len(parts) == 4:
                if not (lo > 0 and hi > 0):
                    raise SweepCliError(f"{flag}: a log range needs start and stop > 0")
                return np.geomspace(lo, hi, count)
            return np.linspace(lo, hi, count)
        if "," in text:
            return np.array([float(v) for v in text.split(",")])
        return float(text)
    except SweepCliError:
        raise
    except ValueError:
        raise SweepCliError(
            f"{flag} must be a number, a list a,b,c or a range start:stop:count[:log]; got {text!r}"
        ) from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    values = "a number, a list a,b,c or a range start:stop:count[:log]"
    p.add_argument("out", help="output path: NAME.zarr or NAME.parquet")
    p.add_argument("--loss", required=True, help=f"target losses in nats/token: {values}")
    p.add_argument("--inference-tokens", help=f"FLOP sweep: lifetime inference tokens, {values}")
    p.add_argument("--requests", help=f"dollar sweep: lifetime requests, {values}")
    p.add_argument(
        "--input-tokens", help=f"dollar sweep: prompt tokens per request, {values} (default: 70)"
    )
    p.add_argument(
        "--output-tokens",
        help=f"dollar sweep: generated tokens per request, {values} (default: 215)",
    )
    p.add_argument("--chunk-rows", type=positive_int, default=1 << 18, help="scenarios per task")
    p.add_argument(
        "--on-invalid",
        choices=ON_INVALID,
        default="raise",
        help="a bad scenario stops the sweep (raise) or is written as NaN (nan)",
    )
    again = p.add_mutually_exclusive_group()
    again.add_argument("--overwrite", action="store_true", help="replace an existing sweep at OUT")
    again.add_argument(
        "--resume",
        action="store_true",
        help="finish an interrupted sweep at OUT (same arguments): only missing chunks run",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=processes, help="start a local cluster of this many worker processes"
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        type=address,
        help="run on an existing cluster (tcp://host:8786)",
    )


def _connect(args: argparse.Namespace, stack: ExitStack, spd: Any) -> str:
    """Starts or joins the cluster `--workers` or `--scheduler` asks for (closed with
    `stack`), its workers checked; returns where the work will run, in words."""
    if not (args.workers or args.scheduler):
        return "this process"
    from distributed import Client, LocalCluster

    if args.workers:
        cluster = stack.enter_context(
            LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=":0",
                # A worker is one core: the kernel's own threads would oversubscribe.
                env={"RAYON_NUM_THREADS": "1"},
            )
        )
        where = f"a local cluster of {args.workers} workers"
        client = stack.enter_context(Client(cluster))
    else:
        import dask

        # A Client sets dask's global scheduler before it connects and leaves it set when
        # the connection fails: every later compute in this process would then ask for a
        # client that does not exist. Put the configuration back on failure. (It also stays
        # registered as the default client, which a local sweep sidesteps by naming its
        # scheduler below. Both are needed: without this restore, a fresh-clone CI run
        # failed two later in-process Dask tests with "no Client active".)
        saved = copy.deepcopy(dask.config.config)
        try:
            client = stack.enter_context(Client(args.scheduler, timeout="10s"))
        except Exception as exc:  # any failure on the user's address (see below)
            # Whatever distributed raises while trying the user's address is about that
            # address: besides OSError, TimeoutError and ValueError, a fresh-clone CI run
            # (2026-12-07, in process, loaded) got a bare AssertionError from its
            # connection machinery for "5e-324", which must not be an internal error.
            dask.config.config.clear()
            dask.config.config.update(saved)
            why = str(exc) or type(exc).__name__
            raise SweepCliError(f"--scheduler: cannot reach {args.scheduler}: {why}") from None
        where = f"the cluster at {args.scheduler}"
    spd.check_workers(client)
    return where


def solve(args: argparse.Namespace, law: Any, costs: CostModel) -> tuple[dict[str, Any], str]:
    try:
        import scaleplan.dask as spd
    except ImportError as exc:
        raise SweepCliError(str(exc)) from None
    axes = {
        name: axis_values(f"--{name.replace('_', '-')}", getattr(args, name))
        for name in ("loss", "inference_tokens", "requests", "input_tokens", "output_tokens")
    }
    kwargs = {k: v for k, v in axes.items() if v is not None}
    if axes["requests"] is not None:
        kwargs["costs"] = costs
    elif axes["input_tokens"] is not None or axes["output_tokens"] is not None:
        raise SweepCliError("--input-tokens and --output-tokens belong to a --requests sweep")
    if os.path.exists(args.out) and not (args.overwrite or args.resume):
        raise SweepCliError(
            f"{args.out} exists; pass --overwrite to replace it or --resume to finish it"
        )
    with ExitStack() as stack:
        where = _connect(args, stack, spd)
        result = spd.sweep(
            args.out,
            law=law,
            chunk_rows=args.chunk_rows,
            on_invalid=args.on_invalid,
            overwrite=args.overwrite,
            resume=args.resume,
            progress=stack.enter_context(progress_bar("chunks", args.json)),
            # "this process" means this process: not a client some earlier call in the
            # same interpreter left registered as dask's default (a failed one included).
            **({} if args.workers or args.scheduler else {"scheduler": "threads"}),
            **kwargs,
        )
    dims = " x ".join(f"{d} {n}" for d, n in zip(result.dims, result.shape, strict=True))
    rate = result.n_scenarios / result.seconds if result.seconds > 0 else math.inf
    data = {
        "path": result.path,
        "format": result.format,
        "kind": result.kind,
        "dims": list(result.dims),
        "shape": list(result.shape),
        "scenarios": result.n_scenarios,
        "seconds": result.seconds,
        "outputs": list(result.outputs),
    }
    text = (
        f"Wrote {result.n_scenarios:,} {result.kind}-optimal scenarios ({dims or 'one'}) to "
        f"{result.path} ({result.format}) on {where} in {result.seconds:.2f} s "
        f"({rate:,.0f} scenarios/s).\nOutputs: {', '.join(result.outputs)}"
    )
    return data, text


def add(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "sweep",
        help=SUMMARIES["sweep"],
        description="Every combination of the given losses and demands (and, for a --requests "
        "sweep, prompt and answer lengths), solved chunk by chunk and written as it goes, so "
        "the grid may be larger than memory. Needs the [dask] extra. Runs in this process by "
        "default, on a local cluster with --workers N, or on a running cluster with "
        "--scheduler ADDRESS.",
    )
    add_arguments(p)
    hardware(p)
    common(p)
    return p


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    return solve(args, preset_law(args.law), cost_model(args))
