"""The optimisers: lifetime-optimal sizing in FLOPs (`lifetime`; the options of every
solver, `solver`) and dollars (`costs`, `lifetime_cost`; the break-even demand,
`breakeven`), the best model for a budget (`budgets`), the physical optimum on a serving
curve (`physical_optimum`), the demand a model implies (`implied`), the split of
lifetime compute (`allocation`), ratio grids (`ratio_grids`), the data-constrained
family's optima (`data_constrained`, which registers them; their results in
`constrained`), the MoE family's (`experts`, with the optimum over expert counts; in
dollars under the roofline, `expert_plan`; the fine-grained law's, `fine_grained`), and the
planning object that leads with one recommendation (`plan`, its result in `plan_result`,
its text in the private `_plan_text`). Named `optimal`, not
`plan`, so that `scaleplan.plan` is that planning object's function."""

from .breakeven import breakeven_requests
from .budgets import BestQuality, best_quality
from .constrained import ConstrainedOptimum
from .costs import CostOptimum, LifetimeCost, cost_optimal, lifetime_cost
from .data_constrained import training_optimal
from .expert_plan import ExpertPlan, expert_plan
from .expert_training import training_experts
from .experts import ExpertOptimum, expert_optimal
from .fine_grained import FineGrainedOptimum, fine_grained_optimal
from .implied import ImpliedDemand, implied_demand
from .lifetime import LifetimeOptimum, compute_optimal
from .physical_optimum import PhysicalOptimum, physical_optimal, whole_gpu_plan
from .plan import Plan, plan
from .ratio_grids import RatioGrid, cost_ratio_grid, flop_ratio_grid
from .serving_curve import ServingCurve
from .solver import METHODS

__all__ = [
    "METHODS",
    "BestQuality",
    "ConstrainedOptimum",
    "CostOptimum",
    "ExpertOptimum",
    "ExpertPlan",
    "FineGrainedOptimum",
    "ImpliedDemand",
    "LifetimeCost",
    "LifetimeOptimum",
    "PhysicalOptimum",
    "Plan",
    "RatioGrid",
    "ServingCurve",
    "best_quality",
    "breakeven_requests",
    "compute_optimal",
    "cost_optimal",
    "cost_ratio_grid",
    "expert_optimal",
    "expert_plan",
    "fine_grained_optimal",
    "flop_ratio_grid",
    "implied_demand",
    "lifetime_cost",
    "physical_optimal",
    "plan",
    "training_experts",
    "training_optimal",
    "whole_gpu_plan",
]
