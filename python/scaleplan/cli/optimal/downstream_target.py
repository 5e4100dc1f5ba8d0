"""`--target-accuracy`: a plan aimed at a downstream score instead of a loss.

The score maps to a loss through Gadre et al.'s `error = e - k exp(-g loss)` fitted to
Sardana et al.'s runs (`scaleplan.fitting.downstream`); those losses are in the units of Sardana
et al.'s data, so the plan's law must be one fitted to the same runs (a `sardana2024_*`
preset), and any other law is refused rather than mixed. The mapping's uncertainty comes
along: 200 resampled mappings give an interval of the target loss, and the plan is
solved at each to give an interval of its size.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...fitting.downstream import BENCHMARKS, DownstreamFit, bootstrap_losses, sardana_downstream
from ...laws.scaling import ScalingLaw
from ..options import group
from ..render import si_number
from ..shared import CliError
from ..values import positive

RESAMPLES = 200


def add_options(p: argparse.ArgumentParser) -> None:
    g = group(p, "target")
    g.add_argument(
        "--target-accuracy",
        type=positive,
        metavar="SCORE",
        help="target a downstream score instead of a loss (the benchmark's score, 0-1; "
        "mapped to a loss by a fit to Sardana et al.'s runs; needs a sardana2024 law)",
    )
    g.add_argument(
        "--benchmark",
        choices=BENCHMARKS,
        default="core_average",
        help="the benchmark of --target-accuracy (default: the eval gauntlet's core average)",
    )


@dataclass(frozen=True)
class Target:
    fit: DownstreamFit
    score: float
    loss: float
    losses: np.ndarray  # the target loss under each resampled mapping


def resolve(args: argparse.Namespace, law: ScalingLaw, others: tuple[str, ...]) -> Target | None:
    """The downstream target, or None without --target-accuracy; `others` are the
    option names that also set the target (they conflict with it)."""
    if args.target_accuracy is None:
        return None
    given = [o for o in others if getattr(args, o.lstrip("-").replace("-", "_")) is not None]
    if given:
        raise CliError(f"give --target-accuracy or {given[0]}, not both")
    if not law.name.startswith("sardana2024"):
        raise CliError(
            f"--target-accuracy maps scores to the losses of Sardana et al.'s runs; plan with "
            f"a law fitted to them (--law sardana2024_all, _le500, ...), not {law.name}"
        )
    fit = sardana_downstream(args.benchmark)
    loss = fit.loss_for(args.target_accuracy)
    if not loss > law.E:
        raise CliError(
            f"--target-accuracy {args.target_accuracy:g} needs loss {loss:.4f}, at or below law "
            f"{law.name}'s irreducible loss E = {law.E:g}: unreachable"
        )
    losses = bootstrap_losses(fit, args.target_accuracy, RESAMPLES, seed=0)
    return Target(fit, float(args.target_accuracy), float(loss), losses)


def section(target: Target, params_at: Callable[[np.ndarray], Any]) -> tuple[dict[str, Any], str]:
    """JSON and text on the mapping and its uncertainty; `params_at(losses)` is the plan's
    parameter count at each loss (NaN where unreachable)."""
    f = target.fit
    lo, hi = (float(v) for v in np.percentile(target.losses, [2.5, 97.5]))
    sizes = np.asarray(params_at(target.losses), dtype=float)
    sizes = sizes[np.isfinite(sizes)]
    n_lo, n_hi = (float(v) for v in np.percentile(sizes, [2.5, 97.5]))
    data = {
        "benchmark": f.benchmark,
        "score": target.score,
        "loss": target.loss,
        "loss_interval": [lo, hi],
        "params_interval": [n_lo, n_hi],
        "mapping": {
            "e": f.e,
            "k": f.k,
            "g": f.g,
            "held_out_mae": f.held_out_mae,
            "held_out_r2": f.held_out_r2,
        },
        "resamples": len(target.losses),
        "extrapolated": not f.loss_range[0] <= target.loss <= f.loss_range[1],
    }
    text = (
        f"\n\nTarget: {f.benchmark} score {target.score:g} -> loss {target.loss:.4f} "
        f"(95% over {len(target.losses)} resampled mappings: {lo:.4f} to {hi:.4f}; "
        f"held-out error of the mapping {f.held_out_mae:.4f}, R^2 {f.held_out_r2:.3f}); "
        f"parameters of the optimum over those losses: {si_number(n_lo)} to {si_number(n_hi)}"
    )
    if data["extrapolated"]:
        text += (
            f"\nThe target loss is outside the runs' losses ({f.loss_range[0]:.3f} to "
            f"{f.loss_range[1]:.3f}): the mapping is extrapolated there."
        )
    return data, text
