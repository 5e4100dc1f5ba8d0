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
    """The lifetime optimum with a finite supply of unique training tokens.

    What `compute_optimal` and `cost_optimal` return when given `unique_tokens`: the (N, D)
    minimising lifetime FLOPs `6 N D + 2 N inference_tokens` at `L(N, D, U) = loss` under
    Muennighoff et al.'s (2023) data-constrained law, where D > U repeats the data and the
    repeats are worth the effective tokens D' < D. Floats for one scenario, arrays in the
    broadcast shape otherwise.

    The derived fields: `epochs` (D / U), `total_flops` and the other `FlopAccounting`
    fields (FLOPs), `premium` (lifetime FLOPs over those with unlimited data, minus one),
    `unlimited` (that optimum), and with `costs` the `total_dollars` (US dollars).

    Parameters
    ----------
    params : float or numpy.ndarray
        Parameters N (count).
    tokens : float or numpy.ndarray
        Training tokens D, repeats counted.
    effective_tokens : float or numpy.ndarray
        D', what the repeated data is worth, in tokens.
    loss : float or numpy.ndarray
        The target loss, in nats/token.
    inference_tokens : float or numpy.ndarray
        Lifetime inference demand, in tokens (with `cost_optimal`, the effective demand in
        training-FLOP equivalents).
    unique_tokens : float or numpy.ndarray
        The supply U of unique tokens.
    iterations : int or numpy.ndarray
        Solver steps.
    binding : bool or numpy.ndarray
        Whether the supply binds (False: this is the plain law's answer exactly).
    law : DataConstrainedLaw
        The law solved; its R_D*, R_N* say how much repeats are worth.
    costs : CostModel, optional
        Set by `cost_optimal`; then `total_dollars` prices the answer.

    Examples
    --------
    >>> from scaleplan import compute_optimal
    >>> opt = compute_optimal(2.0, 1e13, unique_tokens=1e12)  # 10T served, 1T unique
    >>> print(f"N = {opt.params:.3g}, D = {opt.tokens:.3g} ({opt.epochs:.2f} epochs), "
    ...       f"D' = {opt.effective_tokens:.3g}")
    N = 8.23e+09, D = 3.18e+12 (3.18 epochs), D' = 3.03e+12
    >>> print(f"binding: {opt.binding}, {opt.premium:.2%} more FLOPs than unlimited data")
    binding: True, 2.69% more FLOPs than unlimited data

    In dollars, from `cost_optimal`:

    >>> from scaleplan import cost_optimal
    >>> print(f"${cost_optimal(2.0, 1e10, unique_tokens=1e12).total_dollars:,.0f}")
    $1,946,609
    """

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
        """Passes over the unique data, `tokens / unique_tokens`."""
        return self.tokens / self.unique_tokens

    @property
    def total_dollars(self) -> Any:
        """Lifetime US dollars (cost_optimal's results only): the FLOP equivalents priced at
        the training hardware's dollars per model FLOP."""
        if self.costs is None:
            raise ScaleplanError("total_dollars needs a cost model: use cost_optimal", "costs")
        return self.total_flops * self.costs.train_dollars_per_flop / self.costs.train_mfu

    @property
    def converged(self) -> Any:
        """Whether each row is an answer (its `params` finite)."""
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
    """The lowest-loss model for a lifetime budget with a finite supply of unique tokens.

    What `best_quality` returns when given `unique_tokens`: the (N, D) minimising
    `L(N, D, U)` (Muennighoff et al. 2023) on `budget = N (6 D + 2 inference_tokens)`
    FLOPs (or FLOP equivalents); with no inference it is the best split of a training
    budget. Floats for one scenario, arrays in the broadcast shape otherwise.

    The derived fields: `epochs` (D / U) and `loss` (`L(N, D, U)`, nats/token).

    Parameters
    ----------
    params : float or numpy.ndarray
        Parameters N (count).
    tokens : float or numpy.ndarray
        Training tokens D, repeats counted.
    effective_tokens : float or numpy.ndarray
        D', what the repeated data is worth, in tokens.
    budget : float or numpy.ndarray
        The lifetime budget, in FLOPs (or training-FLOP equivalents).
    inference_tokens : float or numpy.ndarray
        Lifetime inference demand, in tokens.
    unique_tokens : float or numpy.ndarray
        The supply U of unique tokens.
    binding : bool or numpy.ndarray
        Whether the supply binds.
    law : DataConstrainedLaw
        The law solved.

    Examples
    --------
    >>> from scaleplan import best_quality
    >>> best = best_quality(flop_budget=1e24, inference_tokens=0, unique_tokens=1e12)
    >>> print(f"N = {best.params:.3g}, D = {best.tokens:.3g} ({best.epochs:.2f} epochs), "
    ...       f"loss {best.loss:.4f} nats/token")
    N = 4.8e+10, D = 3.47e+12 (3.47 epochs), loss 1.9150 nats/token
    """

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
        """Passes over the unique data, `tokens / unique_tokens`."""
        return self.tokens / self.unique_tokens

    @property
    def loss(self) -> Any:
        """The loss reached, `L(params, tokens, unique_tokens)`, in nats/token."""
        return self.law.loss(self.params, self.tokens, self.unique_tokens)


@dataclass(frozen=True, repr=False)
class ConstrainedPhysicalOptimum(Tabular):
    """The physical optimum with a finite supply of unique training tokens.

    What `physical_optimal` returns when given `unique_tokens`: the (N, D) minimising
    `training_dollars + requests s(N)` (s the serving curve's dollars per request) at
    `L(N, D, U) = loss` (Muennighoff et al. 2023): a scan of 2,500 steps in ln D and 70
    golden-section steps when the supply binds. Floats for one scenario, arrays in the
    broadcast shape otherwise.

    The derived fields: `total_dollars` (US dollars), `epochs` (D / U), `premium`
    (lifetime dollars over those with unlimited data, minus one) and `unlimited` (that
    optimum).

    Parameters
    ----------
    params : float or numpy.ndarray
        Parameters N (count).
    tokens : float or numpy.ndarray
        Training tokens D, repeats counted.
    effective_tokens : float or numpy.ndarray
        D', what the repeated data is worth, in tokens.
    loss : float or numpy.ndarray
        The target loss, in nats/token.
    requests : float or numpy.ndarray
        Lifetime requests (count).
    unique_tokens : float or numpy.ndarray
        The supply U of unique tokens.
    training_dollars, serving_dollars : float or numpy.ndarray
        Lifetime US dollars by phase.
    iterations : int or numpy.ndarray
        Solver steps.
    binding : bool or numpy.ndarray
        Whether the supply binds.
    law : DataConstrainedLaw
        The law solved.
    curve : ServingCurve
        Serving dollars per request against N.
    costs : CostModel
        The training hardware and prices.

    Examples
    --------
    >>> from scaleplan import physical_optimal
    >>> opt = physical_optimal(2.0, 1e10, unique_tokens=1e12)  # 10B requests, 1T unique
    >>> print(f"N = {opt.params:.3g}, {opt.epochs:.2f} epochs, ${opt.total_dollars:,.0f} "
    ...       f"({opt.premium:.2%} more than unlimited data)")
    N = 1.13e+10, 1.83 epochs, $471,096 (0.94% more than unlimited data)
    """

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
        """Lifetime US dollars, `training_dollars + serving_dollars`."""
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
        """Passes over the unique data, `tokens / unique_tokens`."""
        return self.tokens / self.unique_tokens

    @property
    def converged(self) -> Any:
        """Whether each row is an answer (its `params` finite)."""
        return np.isfinite(self.params)
