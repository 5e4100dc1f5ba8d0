"""One name per concept, in every layer: the Rust core, the binding, Python, the command
line and JSON.

Each `Term` spells one concept as each layer does; `tests/contracts/test_glossary.py`
checks every spelling against the real thing (the Rust source, `scaleplan._core`, the
package, the CLI parser, a `--json` answer). `None` means the layer has no such thing.
The conventions are the only differences allowed: the CLI writes a Python name in
kebab case (`compute_optimal`, `compute-optimal`; `--inference-tokens`), and Rust names a
kernel by its path in the crate, under the Python subpackage's name
(`optimal::dual::best_quality_batch`), batch kernels ending `_batch`, where the module
already says half the name (`optimal::lifetime::optimum_batch` is the lifetime optimum that
`compute_optimal` returns as a `LifetimeOptimum`).

Two concepts look alike and are kept apart: `inference_tokens`, a lifetime demand in
tokens, and `effective_demand`, the cost model's demand in training-FLOP-equivalent
tokens (`CostModel.effective_demand`). The binding's kernels take either as one column and
are told which by `demand_name`, so that their errors name the right one.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ARGUMENTS", "ENTRY_POINTS", "Term"]


@dataclass(frozen=True)
class Term:
    """A concept's name in each layer (None where the layer has none)."""

    concept: str
    python: str
    binding: str | None
    rust: str | None
    cli: str | None
    json: str | None


# Entry points: `scaleplan.<python>`, `_core.<binding>`, the kernel's path in the crate
# `scaleplan` (`laws::fn` is in rust/core/src/laws/, `optimal::lifetime::fn` in
# optimal/lifetime.rs or optimal/lifetime/), the `scaleplan <cli>` command; their JSON
# answers are objects, so no key.
ENTRY_POINTS: tuple[Term, ...] = (
    Term("lifetime FLOP optimum", "compute_optimal", "compute_optimal",
         "optimal::lifetime::optimum_batch", "compute-optimal", None),
    Term("lifetime dollar optimum", "cost_optimal", "cost_optimal",
         "optimal::lifetime::cost_optimum", "cost-optimal", None),
    Term("best quality for a budget", "best_quality", "best_quality",
         "optimal::dual::best_quality_batch", "best-quality", None),
    Term("training-only optimum", "chinchilla_optimal", "chinchilla_optimal",
         "laws::chinchilla_batch", "chinchilla-optimal", None),
    Term("dollar optimum on a serving curve", "physical_optimal", "physical_optimal",
         "optimal::physical::optimum_batch", None, None),
    Term("step counts of a shape", "step_counts", "step_counts", "arch::counts_batch",
         None, None),
    Term("demand a model implies", "implied_demand", None, None, "implied-demand", None),
    Term("one plan: a recommendation and its alternatives", "plan", None, None, "plan", None),
)  # fmt: skip

# Arguments and result fields: the Python argument of `entry`, the Rust error's argument
# name (what its messages call the value), the option of `scaleplan <command>`, and the
# key of that command's `--json` answer.
ARGUMENTS: tuple[tuple[Term, str, str], ...] = (
    (Term("target loss (nats/token)", "loss", None, "loss", "--loss", "loss"),
     "compute_optimal", "compute-optimal"),
    (Term("lifetime inference demand (tokens)", "inference_tokens", None,
          "inference_tokens", "--inference-tokens", "inference_tokens"),
     "compute_optimal", "compute-optimal"),
    (Term("lifetime requests", "requests", None, "requests", "--requests", "requests"),
     "cost_optimal", "cost-optimal"),
    (Term("prompt tokens per request", "input_tokens", None, "input_tokens",
          "--input-tokens", "input_tokens"), "cost_optimal", "cost-optimal"),
    (Term("generated tokens per request", "output_tokens", None, "output_tokens",
          "--output-tokens", "output_tokens"), "cost_optimal", "cost-optimal"),
    (Term("unique training tokens", "unique_tokens", None, "unique_tokens",
          "--unique-tokens", "unique_tokens"), "compute_optimal", "compute-optimal"),
    (Term("lifetime budget", "budget", None, "budget", "--budget", "budget"),
     "best_quality", "best-quality"),
    (Term("parameters", "params", None, "params", "--params", "params"),
     "chinchilla_optimal", "chinchilla-optimal"),
)  # fmt: skip
