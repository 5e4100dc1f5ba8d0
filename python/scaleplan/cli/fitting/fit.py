"""`scaleplan fit`: its options (`add`) and what it prints (`run`, data and text)."""

from __future__ import annotations

import argparse
from typing import Any

from ..commands import SUMMARIES
from ..options import COLUMN_OPTIONS, output, runs_source
from ..progress import progress_bar
from ..render import render_table
from ..shared import CliError
from ..values import non_negative_int, positive, processes
from .csv_runs import read_runs


def add(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "fit",
        help=SUMMARIES["fit"],
        description="Huber-LSE fit by L-BFGS-B from the 4,500-point grid of Hoffmann et al., "
        "the best starts polished to the optimum by Newton's method; or, with --estimator "
        "likelihood, Epoch AI's maximum likelihood with a free Huber scale.",
    )
    runs_source(p, ("chinchilla", "sardana2024"))
    p.add_argument(
        "--max-tokens-per-param",
        type=positive,
        help="with --dataset sardana2024: only runs up to this tokens/parameter ratio",
    )
    p.add_argument(
        "--bootstrap",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="also refit N resamples (N >= 2) and report intervals; 0: none",
    )
    p.add_argument("--seed", type=non_negative_int, default=0, help="bootstrap random seed")
    p.add_argument(
        "--estimator",
        choices=("huber", "likelihood"),
        default="huber",
        help="huber: the summed Huber loss (Approach 3, default); likelihood: Besiroglu et "
        "al. 2024's maximum likelihood (with --bootstrap, also their tests of Hoffmann et "
        "al.'s printed law)",
    )
    p.add_argument(
        "--workers", type=processes, help="processes to spread the starts over (default: 1)"
    )
    output(p)
    return p


class _no_executor:
    """A context manager standing for 'run in this process'."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def runs_table(args: argparse.Namespace) -> tuple[Any, tuple[str, str, str], str]:
    """The runs to fit (a table), its three column names and where it came from."""
    from ...fitting import datasets

    if (args.file is None) == (args.dataset is None):
        raise CliError("give a CSV file or --dataset, not both or neither")
    given = [(n, getattr(args, f"{n}_col")) for n, _, _ in COLUMN_OPTIONS]
    if args.dataset is None:
        cols = tuple(
            default if value is None else value
            for (_, value), (_, default, _) in zip(given, COLUMN_OPTIONS, strict=True)
        )
        return read_runs(args.file, cols), cols, args.file  # type: ignore[arg-type]
    for name, value in given:
        if value is not None:
            raise CliError(f"--{name}-col names a column of a CSV file; --dataset "
                           f"{args.dataset} has its own columns")  # fmt: skip
    runs = (
        datasets.chinchilla_runs()
        if args.dataset == "chinchilla"
        else datasets.sardana2024_runs(args.max_tokens_per_param)
    )
    return runs.as_dict(), ("params", "tokens", "loss"), args.dataset


def _fit_huber(
    args: argparse.Namespace, table: Any, cols: tuple[str, str, str]
) -> tuple[Any, Any, Any]:
    """The Huber fit (`fit_law`), or with --bootstrap the bootstrap's (`bootstrap_law`): the
    fit, the intervals and the bootstrap (both None without one)."""
    from concurrent.futures import ProcessPoolExecutor

    from ...fitting.bootstrap import bootstrap_law
    from ...fitting.fit import fit_law

    b: Any = None
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
    return fit, intervals, b


def run(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    table, cols, source = runs_table(args)
    if args.estimator == "likelihood":
        from .fit_likelihood import run_likelihood

        return run_likelihood(args, table, cols, source)
    fit, intervals, b = _fit_huber(args, table, cols)
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
        + render_table(headers, rows)
        + f"\n\nobjective (summed Huber loss): {fit.objective:.6g}"
    )
    return data, text
