"""`scaleplan fit --estimator likelihood`: Epoch's maximum-likelihood fit, its bootstrap
and the tests of Hoffmann et al.'s printed law, as data and text."""

from __future__ import annotations

import argparse
from typing import Any

from ..progress import progress_bar
from ..render import render_table
from ..shared import CliError


def _bootstrap(
    args: argparse.Namespace, table: Any, cols: tuple[str, str, str], values: dict[str, float]
) -> tuple[dict[str, Any], tuple[str, ...], list[tuple[str, ...]], str]:
    """The bootstrap's part: its data, the table's headers and rows with intervals and
    standard errors, and the tests of Hoffmann et al.'s printed law."""
    from ...fitting.likelihood_bootstrap import bootstrap_likelihood, test_law

    runs = [table[c] for c in cols]
    with progress_bar("resamples", args.json) as tick:
        boot = bootstrap_likelihood(
            *runs, n_resamples=args.bootstrap, seed=args.seed, progress=tick
        )
    ses, intervals = boot.standard_errors, boot.intervals
    test = test_law(boot, *runs)
    more: dict[str, Any] = {
        "standard_errors": ses,
        "intervals": intervals,
        "bootstrap_failed": boot.n_failed,
        "hoffmann_test": {
            "wald": test.wald,
            "wald_p_value": test.wald_p_value,
            "likelihood_ratio": test.likelihood_ratio,
            "likelihood_ratio_p_value": test.likelihood_ratio_p_value,
        },
    }
    headers = ("coefficient", "value", "95% interval", "std. error")
    rows: list[tuple[str, ...]] = [
        (k, f"{v:.8g}", f"[{intervals[k][0]:.4g}, {intervals[k][1]:.4g}]", f"{ses[k]:.3g}")
        for k, v in values.items()
    ]
    tests = (
        f"\n\nHoffmann et al.'s printed law against this fit ({len(boot.thetas)} resamples, "
        f"{boot.n_failed} did not converge): Wald chi2(5) = {test.wald:.4g} "
        f"(p = {test.wald_p_value:.2g}), likelihood ratio = {test.likelihood_ratio:.4g} "
        f"(p = {test.likelihood_ratio_p_value:.2g})"
    )
    return more, headers, rows, tests


def run_likelihood(
    args: argparse.Namespace, table: Any, cols: tuple[str, str, str], source: str
) -> tuple[dict[str, Any], str]:
    from ...fitting.likelihood import fit_likelihood
    from ...laws.scaling import COEFFICIENTS

    if args.bootstrap == 1:
        raise CliError("--bootstrap needs at least 2 resamples (or 0 for none)")
    kw = {"params_col": cols[0], "tokens_col": cols[1], "loss_col": cols[2]}
    fit = fit_likelihood(table, **kw)
    values = dict(zip(COEFFICIENTS, fit.law.coefficients, strict=True))
    data: dict[str, Any] = {
        "source": source,
        "estimator": "likelihood",
        "points": fit.n_points,
        **values,
        "scale": fit.scale,
        "log_likelihood": fit.log_likelihood,
        "pinned": fit.pinned,
        "iterations": fit.iterations,
        "converged": fit.converged,
    }
    headers: tuple[str, ...] = ("coefficient", "value")
    rows: list[tuple[str, ...]] = [(k, f"{v:.8g}") for k, v in values.items()]
    tests = ""
    if args.bootstrap:
        more, headers, rows, tests = _bootstrap(args, table, cols, values)
        data |= more
    text = (
        f"Loss law fitted to {fit.n_points} runs from {source} by maximum likelihood "
        f"(Huber density, delta {fit.delta:g}, free scale; Besiroglu et al. 2024)\n\n"
        + render_table(headers, rows)
        + f"\n\nscale {fit.scale:.4g} (log-loss), log-likelihood {fit.log_likelihood:.6g}, "
        f"{fit.pinned} residuals pinned in the quadratic zone; Newton converged in "
        f"{fit.iterations} steps" + tests
    )
    return data, text
