"""The data-constrained optima's results (`data_constrained` computes them): the lifetime
optimum, the best model for a budget and the physical optimum with a finite supply of
unique tokens.

They live apart from their kernels so that the optimisers can name them in their
overloads without importing the family's module, which imports the optimisers (a result
compares itself with the unlimited-data optimum). That comparison's solver is handed in
by the kernel that builds a result (`plain_optimum`), so this module imports no optimiser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from .._utils.frames import Tabular
from ..errors import ScaleplanError
from ..laws.data_constrained import DataConstrainedLaw
from ..laws.scaling import FlopAccounting

__all__ = ["BudgetOptimum", "ConstrainedOptimum", "ConstrainedPhysicalOptimum"]


@dataclass(frozen=True, repr=False)
class ConstrainedOptimum(FlopAccounting, Tabular):
    """The lifetime optimum with `unique_tokens` of unique data: `params`, `tokens`
    (training tokens), `effective_tokens` (D', what the repeated data is worth), `epochs`
    (D / U), `binding` (False: the supply does not bind and this is the plain law's answer
    exactly), `iterations`, and `premium`: how much more the lifetime FLOPs (or dollars)
    are than with unlimited data. `law` says which R_D*, R_N* applied."""

    _INPUTS = ("loss", "inference_tokens", "unique_tokens")
    _OUTPUTS = ("params", "tokens", "effective_tokens", "epochs", "total_flops", "premium",
                "binding", "iterations")  # fmt: skip

    params: Any
    tokens: Any
    effective_tokens: Any
    loss: Any
    inference_tokens: Any
    unique_tokens: Any
    iterations: Any
    binding: Any
    law: DataConstrainedLaw
    # Set by cost_optimal: its demand is then in training-FLOP equivalents.
    costs: Any = None
    # `compute_optimal`, handed in by the kernel that built this (see the module's doc).
    plain_optimum: Callable[..., Any] | None = field(default=None, repr=False, compare=False)

    @property
    def epochs(self) -> Any:
        return self.tokens / self.unique_tokens

    @property
    def total_dollars(self) -> Any:
        """Lifetime dollars (cost_optimal's results only): the FLOP equivalents priced at
        the training hardware's dollars per model FLOP."""
        if self.costs is None:
            raise ScaleplanError("total_dollars needs a cost model: use cost_optimal", "costs")
        return self.total_flops * self.costs.train_dollars_per_flop / self.costs.train_mfu

    @property
    def converged(self) -> Any:
        return np.isfinite(self.params)

    @cached_property
    def unlimited(self) -> Any:
        """The plain law's optimum for the same loss and demand (no data limit)."""
        assert self.plain_optimum is not None, "built without its plain optimiser"
        return self.plain_optimum(self.loss, self.inference_tokens, law=self.law.law,
                                  on_invalid="nan")  # fmt: skip

    @property
    def premium(self) -> Any:
        """Lifetime FLOPs over those with unlimited data, minus one (0.05 = 5% more)."""
        return self.total_flops / self.unlimited.total_flops - 1.0


@dataclass(frozen=True, repr=False)
class BudgetOptimum(Tabular):
    """The lowest-loss model for a lifetime budget `budget = N (6 D + 2 inference_tokens)`
    FLOPs (or FLOP equivalents) with `unique_tokens`; with no inference it is the best
    split of a training budget."""

    _INPUTS = ("budget", "inference_tokens", "unique_tokens")
    _OUTPUTS = ("params", "tokens", "effective_tokens", "epochs", "loss", "binding")

    params: Any
    tokens: Any
    effective_tokens: Any
    budget: Any
    inference_tokens: Any
    unique_tokens: Any
    binding: Any
    law: DataConstrainedLaw

    @property
    def epochs(self) -> Any:
        return self.tokens / self.unique_tokens

    @property
    def loss(self) -> Any:
        return self.law.loss(self.params, self.tokens, self.unique_tokens)


@dataclass(frozen=True, repr=False)
class ConstrainedPhysicalOptimum(Tabular):
    """`physical_optimal` with `unique_tokens`: the PhysicalOptimum's
    fields with the supply, the effective tokens D', epochs, `binding` and iterations
    (a scan of 2,500 steps in ln D and 70 golden-section steps when the supply binds)."""

    _INPUTS = ("loss", "requests", "unique_tokens")
    _OUTPUTS = ("params", "tokens", "effective_tokens", "epochs", "training_dollars",
                "serving_dollars", "total_dollars", "premium", "binding")  # fmt: skip

    params: Any
    tokens: Any
    effective_tokens: Any
    loss: Any
    requests: Any
    unique_tokens: Any
    training_dollars: Any
    serving_dollars: Any
    iterations: Any
    binding: Any
    law: DataConstrainedLaw
    curve: Any
    costs: Any
    # `physical_optimal`, handed in by the kernel that built this (see the module's doc).
    plain_optimum: Callable[..., Any] | None = field(default=None, repr=False, compare=False)

    @property
    def total_dollars(self) -> Any:
        return self.training_dollars + self.serving_dollars

    @cached_property
    def unlimited(self) -> Any:
        """The physical optimum for the same loss and requests with no data limit."""
        assert self.plain_optimum is not None, "built without its plain optimiser"
        return self.plain_optimum(self.loss, self.requests, curve=self.curve,
                                  law=self.law.law, costs=self.costs,
                                  on_invalid="nan")  # fmt: skip

    @property
    def premium(self) -> Any:
        """Lifetime dollars over those with unlimited data, minus one."""
        return self.total_dollars / self.unlimited.total_dollars - 1.0

    @property
    def epochs(self) -> Any:
        return self.tokens / self.unique_tokens

    @property
    def converged(self) -> Any:
        return np.isfinite(self.params)
