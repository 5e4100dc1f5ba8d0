"""The `scaleplan` command line.

    scaleplan plan [--loss L | --as-good-as N] [--requests-per-day R --days D] [hardware]
    scaleplan reproduce [--out DIR]
    scaleplan compute-optimal [--loss L | --chinchilla-params N] [--inference-tokens D] [--json]
    scaleplan chinchilla (--params N | --loss L | --compute C) [--json]
    scaleplan cost-optimal [--loss L | --chinchilla-params N] [--requests R] [hardware options]
    scaleplan best-quality --budget B (--inference-tokens D | --requests R) [--json]
    scaleplan fit (FILE.csv --params-col C --tokens-col C --loss-col C | --dataset NAME)
                  [--bootstrap N] [--seed S] [--workers W] [--json]
    scaleplan step-time --d-model D --n-layers L [--n-heads H ...] [--gpu G --precision P]
    scaleplan best-shapes --hours H [--gpu G --precision P --mfu M] [--max-params N] [--json]
    scaleplan hardware [--json]
    scaleplan presets [--json]

Bad arguments print one line on stderr and exit with status 2; nothing prints a traceback.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from typing import Any

from . import cli_guard, cli_parser, cli_sweep
from .cli_csv import read_runs
from .cli_progress import progress_bar
from .costs import CostModel, best_quality, cost_optimal
from .hardware import ACCELERATORS, PRECISIONS
from .laws import PRESETS, ScalingLaw, chinchilla_optimal
from .lifetime import compute_optimal

# With no target given, compute-optimal plans the paper's Figure 1 scenario: the quality of
# a Chinchilla-style 13B model serving 2 trillion inference tokens.
DEFAULT_CHINCHILLA_PARAMS = 13e9
DEFAULT_INFERENCE_TOKENS = 2e12


class CliError(ValueError):
    """A user mistake, reported as one line."""


def _si(x: float) -> str:
    if not math.isfinite(x):
        return str(x)
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{suffix}"
    return f"{x:.3g}"


def _cell(key: str, v: float) -> str:
    if key == "tokens_per_param":
        return f"{v:.1f}"
    return f"{v:.3g}" if "flops" in key else _si(v)


def _law(name: str) -> ScalingLaw:
    if name not in PRESETS:
        raise CliError(f"unknown law {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    # First column left-aligned (labels), the rest right-aligned (numbers).
    fmt = "  ".join(("{:<%d}" if i == 0 else "{:>%d}") % w for i, w in enumerate(widths))
    lines = [fmt.format(*headers), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*r) for r in rows]
    return "\n".join(lines)


def _compute_optimal(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    law = _law(args.law)
    loss = _target_loss(args, law)
    r = compute_optimal(loss, args.inference_tokens, law=law, method=args.method)
    c = r.chinchilla
    data = {
        "law": law.name,
        "loss": r.loss,
        "inference_tokens": r.inference_tokens,
        "optimal": {
            "params": r.params,
            "tokens": r.tokens,
            "tokens_per_param": r.tokens_per_param,
            "training_flops": r.training_flops,
            "inference_flops": r.inference_flops,
            "total_flops": r.total_flops,
            "iterations": r.iterations,
        },
        "chinchilla": {
            "params": c.params,
            "tokens": c.tokens,
            "tokens_per_param": c.tokens_per_param,
            "training_flops": c.training_flops,
            "inference_flops": c.inference_flops,
            "total_flops": c.total_flops,
        },
        "flop_saving": r.flop_saving,
    }
    rows = []
    for key, label in (
        ("params", "parameters"),
        ("tokens", "training tokens"),
        ("tokens_per_param", "tokens / parameter"),
        ("training_flops", "training FLOPs"),
        ("inference_flops", "inference FLOPs"),
        ("total_flops", "lifetime FLOPs"),
    ):
        o, ch = data["optimal"][key], data["chinchilla"][key]
        ratio = f"{o / ch:.3f}" if ch else "-"
        rows.append((label, _cell(key, ch), _cell(key, o), ratio))
    text = (
        f"Lifetime compute-optimal model (law {law.name}, loss {r.loss:.4f} nats/token, "
        f"inference demand {_si(r.inference_tokens)} tokens)\n\n"
        + _table(("", "Chinchilla-style", "compute-optimal", "ratio"), rows)
        + f"\n\nThe compute-optimal model saves {100 * r.flop_saving:.1f}% of lifetime FLOPs."
    )
    return data, text


def _chinchilla(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    law = _law(args.law)
    given = {"params": args.params, "loss": args.loss, "compute": args.compute}
    chosen = {k: v for k, v in given.items() if v is not None}
    if len(chosen) != 1:
        raise CliError("give exactly one of --params, --loss or --compute")
    m = chinchilla_optimal(**chosen, law=law)
    data = {
        "law": law.name,
        "params": m.params,
        "tokens": m.tokens,
        "loss": m.loss,
        "training_flops": m.training_flops,
        "tokens_per_param": m.tokens_per_param,
    }
    text = _table(
        ("Chinchilla-style model", "value"),
        [
            ("parameters", _si(m.params)),
            ("training tokens", _si(m.tokens)),
            ("tokens / parameter", f"{m.tokens_per_param:.1f}"),
            ("loss (nats/token)", f"{m.loss:.4f}"),
            ("training FLOPs", f"{m.training_flops:.3g}"),
        ],
    )
    return data, text


def _target_loss(args: argparse.Namespace, law: ScalingLaw) -> float:
    if args.loss is not None and args.chinchilla_params is not None:
        raise CliError("give --loss or --chinchilla-params, not both")
    if args.loss is not None:
        return float(args.loss)
    size = DEFAULT_CHINCHILLA_PARAMS if args.chinchilla_params is None else args.chinchilla_params
    return float(chinchilla_optimal(params=size, law=law).loss)


def _cost_model(args: argparse.Namespace) -> CostModel:
    if args.table3 and (args.inference_price is not None or args.train_price is not None):
        raise CliError("--table3 fixes the prices; drop --train-price/--inference-price")
    if args.table3:
        return CostModel.sardana2024_table3()
    return CostModel(
        train_gpu=args.train_gpu,
        inference_gpu=args.inference_gpu,
        train_precision=args.train_precision,
        inference_precision=args.inference_precision,
        train_price_per_hour=args.train_price,
        inference_price_per_hour=args.inference_price,
        train_mfu=args.train_mfu,
        prefill_mfu=args.prefill_mfu,
        decode_mfu=args.decode_mfu,
    )


def _cost_optimal(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    law = _law(args.law)
    costs = _cost_model(args)
    loss = _target_loss(args, law)
    r = cost_optimal(
        loss, args.requests, args.input_tokens, args.output_tokens, costs=costs, law=law
    )
    keys = (
        ("params", "parameters"),
        ("tokens", "training tokens"),
        ("training_dollars", "training $"),
        ("prefill_dollars", "prefill $"),
        ("decode_dollars", "decode $"),
        ("total_dollars", "lifetime $"),
        ("training_gpu_hours", "training GPU-hours"),
        ("prefill_gpu_hours", "prefill GPU-hours"),
        ("decode_gpu_hours", "decode GPU-hours"),
        ("total_flops", "lifetime FLOPs"),
    )

    def record(b: Any) -> dict[str, float]:
        return {k: float(getattr(b, k)) for k, _ in keys}

    opt, chin = record(r.breakdown), record(r.chinchilla)
    data = {
        "law": law.name,
        "loss": r.loss,
        "requests": r.requests,
        "input_tokens": r.input_tokens,
        "output_tokens": r.output_tokens,
        "costs": {
            "train_gpu": costs.train_gpu.name,  # type: ignore[union-attr]
            "inference_gpu": costs.inference_gpu.name,  # type: ignore[union-attr]
            "train_precision": costs.train_precision,
            "inference_precision": costs.inference_precision,
            "train_price_per_hour": costs.train_price_per_hour,
            "inference_price_per_hour": costs.inference_price_per_hour,
            "train_mfu": costs.train_mfu,
            "prefill_mfu": costs.prefill_mfu,
            "decode_mfu": costs.decode_mfu,
        },
        "optimal": opt,
        "chinchilla": chin,
        "saving": r.saving,
    }
    rows = []
    for key, label in keys:
        o, c = opt[key], chin[key]
        cell = _si if key in ("params", "tokens") else (lambda v: f"{v:.3g}")
        rows.append((label, cell(c), cell(o), f"{o / c:.3f}" if c else "-"))
    text = (
        f"Lifetime cost-optimal model (law {law.name}, loss {r.loss:.4f}, {_si(r.requests)} "
        f"requests of {r.input_tokens:g} + {r.output_tokens:g} tokens)\n"
        f"train on {costs.train_gpu.name} {costs.train_precision} at "  # type: ignore[union-attr]
        f"${costs.train_price_per_hour:g}/h, MFU {costs.train_mfu:g}; serve on "
        f"{costs.inference_gpu.name} {costs.inference_precision} at "  # type: ignore[union-attr]
        f"${costs.inference_price_per_hour:g}/h, MFU {costs.prefill_mfu:g} prefill / "
        f"{costs.decode_mfu:g} decode\n\n"
        + _table(("", "Chinchilla-style", "cost-optimal", "ratio"), rows)
        + f"\n\nThe cost-optimal model saves {100 * r.saving:.1f}% of lifetime dollars."
    )
    return data, text


def _best_quality(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    law = _law(args.law)
    if (args.inference_tokens is None) == (args.requests is None):
        raise CliError("give --inference-tokens (FLOP budget) or --requests (dollar budget)")
    if args.requests is None:
        b = best_quality(args.budget, args.inference_tokens, law=law)
        unit = "FLOPs"
    else:
        b = best_quality(
            args.budget,
            requests=args.requests,
            input_tokens=args.input_tokens,
            output_tokens=args.output_tokens,
            costs=_cost_model(args),
            law=law,
        )
        unit = "dollars"
    data = {
        "law": law.name,
        "budget": b.budget,
        "unit": unit,
        "loss": b.loss,
        "params": b.params,
        "tokens": b.tokens,
    }
    text = _table(
        (f"Best model for {b.budget:.3g} {unit}", "value"),
        [
            ("loss (nats/token)", f"{b.loss:.4f}"),
            ("parameters", _si(b.params)),
            ("training tokens", _si(b.tokens)),
        ],
    )
    return data, text


def _read_csv(path: str, columns: Sequence[str]) -> dict[str, list[float]]:
    return read_runs(path, columns)


def _fit(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from concurrent.futures import ProcessPoolExecutor

    from . import datasets
    from .bootstrap import bootstrap_law
    from .fit import fit_law

    if (args.file is None) == (args.dataset is None):
        raise CliError("give a CSV file or --dataset, not both or neither")
    if args.dataset is not None:
        runs = (
            datasets.chinchilla_runs()
            if args.dataset == "chinchilla"
            else datasets.sardana2024_runs(args.max_tokens_per_param)
        )
        table: Any = runs.as_dict()
        cols = ("params", "tokens", "loss")
        source = args.dataset
    else:
        cols = (args.params_col, args.tokens_col, args.loss_col)
        table = _read_csv(args.file, cols)
        source = args.file
    kw = {"params_col": cols[0], "tokens_col": cols[1], "loss_col": cols[2]}
    with ProcessPoolExecutor(args.workers) if args.workers else _no_executor() as ex:
        if args.bootstrap:
            with progress_bar("resamples", args.json) as tick:
                b = bootstrap_law(
                    table,
                    n_resamples=args.bootstrap,
                    seed=args.seed,
                    executor=ex,
                    progress=tick,
                    **kw,
                )
            fit, intervals = b.fit, b.intervals
        else:
            with progress_bar("starts", args.json) as tick:
                fit, intervals = fit_law(table, executor=ex, progress=tick, **kw), None
    law = fit.law
    values = dict(zip(("E", "A", "B", "alpha", "beta"), law.coefficients, strict=True))
    data: dict[str, Any] = {
        "source": source,
        "points": fit.n_points,
        **values,
        "objective": fit.objective,
        "starts": fit.n_starts,
        "converged": fit.n_converged,
        "seconds": fit.seconds,
    }
    headers: tuple[str, ...] = ("coefficient", "value")
    rows: list[tuple[str, ...]] = [(k, f"{v:.6g}") for k, v in values.items()]
    if intervals is not None:
        data["intervals"] = intervals
        data["standard_errors"] = b.standard_errors
        data["bootstrap_failed"] = b.n_failed
        headers = ("coefficient", "value", "95% interval", "std. error")
        rows = [
            (
                k,
                f"{v:.6g}",
                f"[{intervals[k][0]:.4g}, {intervals[k][1]:.4g}]",
                f"{b.standard_errors[k]:.3g}",
            )
            for k, v in values.items()
        ]
    text = (
        f"Loss law fitted to {fit.n_points} runs from {source} (Huber delta {fit.delta:g}, "
        f"{fit.n_converged}/{fit.n_starts} starts converged, {fit.seconds:.1f} s)\n\n"
        + _table(headers, rows)
        + f"\n\nobjective (summed Huber loss): {fit.objective:.6g}"
    )
    return data, text


class _no_executor:
    """A context manager standing for 'run in this process'."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _time_model(args: argparse.Namespace) -> Any:
    from .steptime import StepTimeModel

    if args.measured:
        from .measure import load_measurements
        from .steptime import fit_step_time

        shapes, seconds = load_measurements()
        return fit_step_time(shapes, seconds).model
    if not 0 < args.mfu <= 1:
        raise CliError(f"--mfu must be in (0, 1]; got {args.mfu}")
    return StepTimeModel.from_hardware(args.gpu, args.precision, mfu=args.mfu)


def _step_time(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from .steptime import TransformerShape, loss_in_budget, step_counts

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
    model = _time_model(args)
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
        ("parameters", _si(c.params)),
        ("FLOPs per step", f"{c.flops:.3g}"),
        ("bytes moved per step", f"{data['memcpy_bytes']:.3g}"),
        ("training memory (bytes)", f"{data['memory_bytes']:.3g}"),
        ("seconds per step", f"{seconds:.4g}"),
    ]
    if args.hours is not None:
        r = loss_in_budget(shape, args.hours * 3600.0, law=_law(args.law), time_model=model)
        data |= {"budget_hours": args.hours, "tokens": r.tokens, "loss": r.loss}
        rows += [(f"tokens in {args.hours:g} h", _si(r.tokens)), ("loss reached", f"{r.loss:.4f}")]
    return data, _table((f"Step time ({model.source})", "value"), rows)


def _best_shapes(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from .steptime import best_shapes, shape_grid

    if not args.hours > 0:
        raise CliError(f"--hours must be > 0; got {args.hours}")
    model = _time_model(args)
    grid = shape_grid(
        vocab=float(args.vocab), seq_len=float(args.seq_len), batch_size=float(args.batch_size)
    )
    r = best_shapes(
        args.hours * 3600.0,
        law=_law(args.law),
        time_model=model,
        candidates=grid,
        max_params=args.max_params,
        max_memory_bytes=args.max_memory,
        top=args.top,
    )
    rows = []
    items = []
    for i in range(len(r.result.loss)):
        sh = {k: int(v[i]) for k, v in r.shapes.items()}
        items.append(
            sh
            | {
                "loss": float(r.result.loss[i]),
                "params": float(r.result.params[i]),
                "tokens": float(r.result.tokens[i]),
            }
        )
        rows.append(
            (
                str(sh["d_model"]),
                str(sh["n_layers"]),
                str(sh["n_heads"]),
                f"{sh['d_ff'] / sh['d_model']:.2g}",
                _si(r.result.params[i]),
                _si(r.result.tokens[i]),
                f"{r.result.loss[i]:.4f}",
            )
        )
    data = {
        "hours": args.hours,
        "time_model": model.source,
        "considered": r.considered,
        "feasible": r.feasible,
        "best": items,
    }
    text = (
        f"Best of {r.feasible} feasible shapes ({r.considered} considered) for "
        f"{args.hours:g} h on {model.source}\n\n"
        + _table(("d_model", "layers", "heads", "d_ff/d", "params", "tokens", "loss"), rows)
    )
    return data, text


def _plan(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from .allocation import lifetime_split
    from .costs import breakeven_requests, lifetime_cost

    law = _law(args.law)
    costs = _cost_model(args)
    if args.loss is not None and args.as_good_as is not None:
        raise CliError("give --loss or --as-good-as, not both")
    if args.loss is not None:
        loss = float(args.loss)
        target = f"loss {loss:.4f}"
    else:
        size = 7e9 if args.as_good_as is None else args.as_good_as
        loss = float(chinchilla_optimal(params=size, law=law).loss)
        target = f"as good as a Chinchilla-optimal {_si(size)} model (loss {loss:.4f})"
    for name in ("requests_per_day", "days"):
        v = getattr(args, name)
        if not (v >= 0 and v < float("inf")):
            raise CliError(f"--{name.replace('_', '-')} must be a finite number >= 0; got {v}")
    requests = args.requests_per_day * args.days
    tokens = requests * (args.input_tokens + args.output_tokens)
    flops_plan = compute_optimal(loss, tokens, law=law)
    dollar_plan = cost_optimal(
        loss, requests, args.input_tokens, args.output_tokens, costs=costs, law=law
    )
    chin = dollar_plan.chinchilla
    models = {
        "chinchilla_style": (chin.params, chin.tokens),
        "compute_optimal": (flops_plan.params, flops_plan.tokens),
        "cost_optimal": (dollar_plan.params, dollar_plan.tokens),
    }
    data: dict[str, Any] = {
        "law": law.name,
        "loss": loss,
        "requests": requests,
        "inference_tokens": tokens,
        "models": {},
    }
    cols: dict[str, list[str]] = {}
    for name, (n, d) in models.items():
        c = lifetime_cost(n, d, requests, args.input_tokens, args.output_tokens, costs=costs)
        entry = {
            "params": n,
            "tokens": d,
            "tokens_per_param": d / n,
            "training_flops": c.training_flops,
            "inference_flops": c.inference_flops,
            "total_flops": c.total_flops,
            "training_dollars": c.training_dollars,
            "inference_dollars": c.inference_dollars,
            "total_dollars": c.total_dollars,
            "training_share_of_dollars": c.training_dollars / c.total_dollars,
        }
        data["models"][name] = entry
        cols[name] = [
            _si(n),
            _si(d),
            f"{d / n:.0f}",
            f"{c.training_flops:.3g}",
            f"{c.inference_flops:.3g}",
            f"{c.total_flops:.3g}",
            f"${c.training_dollars:.3g}",
            f"${c.inference_dollars:.3g}",
            f"${c.total_dollars:.3g}",
            f"{100 * c.training_dollars / c.total_dollars:.0f}%",
        ]
    split = lifetime_split(dollar_plan)
    data["exchange_rate"] = float(split.exchange_rate)
    be = breakeven_requests(
        chin.params,
        chin.tokens,
        dollar_plan.params,
        args.input_tokens,
        args.output_tokens,
        costs=costs,
        law=law,
    )
    data["breakeven_requests"] = be
    labels = [
        "parameters",
        "training tokens",
        "tokens / parameter",
        "training FLOPs",
        "inference FLOPs",
        "lifetime FLOPs",
        "training $",
        "inference $",
        "lifetime $",
        "training share of $",
    ]
    rows = [(label, *(cols[m][i] for m in models)) for i, label in enumerate(labels)]
    saving = (
        1
        - data["models"]["cost_optimal"]["total_dollars"]
        / data["models"]["chinchilla_style"]["total_dollars"]
    )
    text = (
        f"Plan for a model {target}, serving {_si(requests)} requests "
        f"({_si(tokens)} tokens) over its life\n"
        f"train on {costs.train_gpu.name}, serve on {costs.inference_gpu.name} "  # type: ignore[union-attr]
        f"({costs.inference_precision}), law {law.name}\n\n"
        + _table(("", "Chinchilla-style", "compute-optimal", "cost-optimal"), rows)
        + f"\n\nThe cost-optimal model saves {100 * saving:.1f}% of lifetime dollars. At its "
        f"optimum training and inference trade at r = {split.exchange_rate:.3g} (training "
        f"share r/(1+r) = {100 * split.exchange_rate / (1 + split.exchange_rate):.0f}%).\n"
        f"It beats the Chinchilla-style model beyond {_si(be)} lifetime requests."
    )
    return data, text


def _reproduce(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    from .reproduce import reproduce

    with progress_bar("steps", args.json) as tick:
        written = reproduce(args.out, progress=tick)
    return {"out": str(args.out), "files": [str(p) for p in written]}, (
        f"Wrote {len(written)} files to {args.out}:\n" + "\n".join(f"  {p}" for p in written)
    )


def _hardware(args: argparse.Namespace) -> tuple[Any, str]:
    data = {
        name: {
            "peak_flops": dict(a.peak_flops),
            "memory_bytes": a.memory_bytes,
            "memory_bandwidth": a.memory_bandwidth,
            "price_per_hour": a.price_per_hour,
            "price_source": a.price_source,
        }
        for name, a in ACCELERATORS.items()
    }
    rows = [
        (
            name,
            *(f"{a.peak_flops[p] / 1e12:g}" if p in a.peak_flops else "-" for p in PRECISIONS),
            f"{a.memory_bytes / 1e9:g}",
            f"{a.memory_bandwidth / 1e12:g}",
            f"{a.price_per_hour:.2f}" if a.price_per_hour else "-",
        )
        for name, a in ACCELERATORS.items()
    ]
    headers = ("accelerator", *(f"{p} TFLOP/s" for p in PRECISIONS), "GB", "TB/s", "$/h")
    sources = sorted({a.price_source for a in ACCELERATORS.values()})
    return data, _table(headers, rows) + "\n\nPrices: " + "; ".join(sources)


def _sweep(args: argparse.Namespace) -> tuple[Any, str]:
    return cli_sweep.run(args, _law(args.law), _cost_model(args))


def _presets(args: argparse.Namespace) -> tuple[Any, str]:
    data = {
        name: dict(zip(("E", "A", "B", "alpha", "beta"), law.coefficients, strict=True))
        | {"source": law.source}
        for name, law in PRESETS.items()
    }
    rows = [(n, *(f"{v:g}" for v in law.coefficients)) for n, law in PRESETS.items()]
    return data, _table(("preset", "E", "A", "B", "alpha", "beta"), rows)


def _parser() -> argparse.ArgumentParser:
    return cli_parser.build(
        {
            "plan": _plan,
            "compute-optimal": _compute_optimal,
            "chinchilla": _chinchilla,
            "cost-optimal": _cost_optimal,
            "best-quality": _best_quality,
            "fit": _fit,
            "step-time": _step_time,
            "best-shapes": _best_shapes,
            "reproduce": _reproduce,
            "hardware": _hardware,
            "sweep": _sweep,
            "presets": _presets,
        }
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    sub = parser._subparsers._group_actions[0].choices[args.command]  # type: ignore[union-attr]
    options = cli_guard.option_names(sub)
    return cli_guard.run(
        args.command, lambda: args.run(args), bool(getattr(args, "json", False)), options
    )


if __name__ == "__main__":
    sys.exit(main())
