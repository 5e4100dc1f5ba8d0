"""`scaleplan reproduce`'s fitting pieces: the Approach 2 figure (IsoFLOP profiles on the
recovered Chinchilla runs) beside Approach 3's and Hoffmann et al.'s exponents."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..fitting.datasets import chinchilla_runs
from ..fitting.families import family_table
from ..fitting.isoflop import isoflop_fit
from ..laws.scaling import EPOCH2024
from .figures import headless_pyplot

__all__ = ["HOFFMANN_APPROACH_2", "HOFFMANN_APPROACH_3", "approach_2", "family_tables"]

# Hoffmann et al. 2022, Table 2: N_opt ~ C^a from Approach 2 and 3.
HOFFMANN_APPROACH_2 = (0.49, 0.51)
HOFFMANN_APPROACH_3 = (0.46, 0.54)


def approach_2(out: Path) -> Path:
    """Each profile's runs and parabola (left); the minima and the fitted power laws
    (right), with Approach 3 (Epoch's refit) and Hoffmann's exponents in the legend."""
    plt = headless_pyplot()
    fit = isoflop_fit(chinchilla_runs(), n_resamples=1000, seed=0)
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8), constrained_layout=True)
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(fit.profiles)))
    for p, color in zip(fit.profiles, colors, strict=True):
        left.scatter(p.params, p.loss, s=12, color=color)
        x = np.linspace(np.log(p.params.min()), np.log(p.params.max()), 60)
        c0, c1, c2 = p.coefficients
        left.plot(np.exp(x), c0 + c1 * x + c2 * x * x, color=color, label=f"{p.budget:.0e}")
        left.scatter([p.params_opt], [p.loss_opt], marker="x", color="k", zorder=3)
    left.set_xscale("log")
    left.set_xlabel("parameters")
    left.set_ylabel("loss")
    left.legend(title="FLOPs", fontsize=7)
    flops = np.array([p.flops for p in fit.profiles])
    grid = np.logspace(np.log10(flops.min()) - 0.5, 24, 50)
    a_lo, a_hi = fit.intervals["a"]
    right.scatter(flops, [p.params_opt for p in fit.profiles], color="C0")
    right.scatter(flops, [p.tokens_opt for p in fit.profiles], color="C1")
    right.plot(
        grid,
        fit.params_for(grid),
        color="C0",
        label=f"N_opt ~ C^{fit.a:.3f} [{a_lo:.3f}, {a_hi:.3f}]",
    )
    right.plot(grid, fit.tokens_for(grid), color="C1", label=f"D_opt ~ C^{fit.b:.3f}")
    a3 = EPOCH2024.beta / (EPOCH2024.alpha + EPOCH2024.beta)
    right.plot([], [], " ", label=f"Approach 3 (Epoch refit): a = {a3:.3f}")
    right.plot(
        [],
        [],
        " ",
        label=f"Hoffmann et al.: a = {HOFFMANN_APPROACH_2[0]} (Approach 2), "
        f"{HOFFMANN_APPROACH_3[0]} (Approach 3)",
    )
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("training FLOPs")
    right.set_ylabel("optimal parameters / tokens")
    right.legend(fontsize=7)
    fig.suptitle(
        "Approach 2 on the recovered Chinchilla runs (240; runs within 0.05 decades "
        "of each budget)",
        fontsize=9,
    )
    path = out / "approach2.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def family_tables(out: Path) -> list[Path]:
    """The law-family comparison on both shipped data sets, as Markdown."""
    written = []
    for dataset in ("chinchilla", "sardana2024"):
        _, text = family_table(dataset)
        path = out / f"families_{dataset}.md"
        path.write_text(
            f"Law families on the {dataset} runs: held-out error in loss (nats), 10-fold "
            f"(seed 0) and leave-one-group-out.\n\n```\n{text}\n```\n"
        )
        written.append(path)
    return written
