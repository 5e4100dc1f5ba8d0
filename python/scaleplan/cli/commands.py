"""The table of commands: each one's name, aliases, one-line summary and example, in the
order `scaleplan --help` lists them. It imports nothing of the library, so the top-level
help is built from it alone, without loading any command (or NumPy)."""

from __future__ import annotations

__all__ = ["ALIASES", "EXAMPLES", "SUMMARIES"]

# What `scaleplan --help` says of each command; each command's own parser says the same.
SUMMARIES = {
    "plan": "size a model for its whole life: one recommendation, the alternatives beside it",
    "compute-optimal": "parameters and tokens minimising training + inference FLOPs",
    "chinchilla-optimal": "training-only optimum in closed form (alias: chinchilla)",
    "cost-optimal": "parameters and tokens minimising training + inference dollars",
    "best-quality": "lowest loss for a lifetime budget",
    "implied-demand": "the lifetime demand for which a given model is lifetime-optimal",
    "serve": "decode and prefill cost of a model on a GPU, by the roofline",
    "fit": "fit a loss law to training runs (Approach 3, or Epoch's likelihood)",
    "isoflop": "fit N_opt ~ C^a, D_opt ~ C^b from IsoFLOP profiles (Approach 2)",
    "families": "compare law families (Chinchilla, Gadre et al., Kaplan et al.) out of sample",
    "next-run": "rank candidate runs of one cost by how much each narrows the optimum",
    "step-time": "params, FLOPs, memory traffic and time of one step",
    "best-shapes": "lowest-loss shapes for a wall-clock budget",
    "measure": "time training steps of small transformers (needs JAX)",
    "reproduce": "regenerate the paper's tables and figures",
    "hardware": "list the accelerator catalogue",
    "sweep": "solve a grid of scenarios on Dask and write it to Zarr or Parquet",
    "presets": "list the loss-law presets",
}

ALIASES: dict[str, tuple[str, ...]] = {"chinchilla-optimal": ("chinchilla",)}

# One invocation per command, shown at the foot of its --help (each is run by
# tests/cli/test_cli_help.py).
EXAMPLES = {
    "plan": "scaleplan plan --as-good-as 70e9 --requests-per-day 1e8 --days 730",
    "compute-optimal": "scaleplan compute-optimal --as-good-as 13e9 --inference-tokens 2e12",
    "chinchilla-optimal": "scaleplan chinchilla-optimal --params 70e9",
    "cost-optimal": "scaleplan cost-optimal --as-good-as 30e9 --requests-per-day 1e8 "
    "--train-gpu h100-sxm",
    "best-quality": "scaleplan best-quality --budget 1e6 --requests-per-day 1e6",
    "implied-demand": "scaleplan implied-demand --params 8.03e9 --tokens 15e12",
    "serve": "scaleplan serve --model llama-2-7b --gpu h100-sxm --tpot-ms 50",
    "fit": "scaleplan fit --dataset chinchilla --json > law.json",
    "isoflop": "scaleplan isoflop --dataset chinchilla --bootstrap 100",
    "families": "scaleplan families --dataset sardana2024 --folds 5",
    "next-run": "scaleplan next-run --dataset chinchilla --flops 1e21",
    "step-time": "scaleplan step-time --d-model 4096 --n-layers 32 --d-ff 11008 --hours 24",
    "best-shapes": "scaleplan best-shapes --hours 24 --gpu h100-sxm --max-params 2e9",
    "measure": "scaleplan measure steps.csv --shapes 4",
    "reproduce": "scaleplan reproduce --out reproduction",
    "hardware": "scaleplan hardware --csv",
    "sweep": "scaleplan sweep grid.zarr --loss 1.9:2.6:8 --requests 1e8:1e12:5:log",
    "presets": "scaleplan presets --json",
}
