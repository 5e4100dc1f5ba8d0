"""Stubs for the Rust extension module (hand-written; checked by mypy.stubtest in CI)."""

from collections.abc import Sequence
from typing import final

import numpy as np
from numpy.typing import NDArray

_F = NDArray[np.float64]
_Coeffs = tuple[_F, _F, _F, _F, _F]

__all__ = [
    "DEFAULT_MAX_ITER",
    "DEFAULT_TOL",
    "DUAL_METHODS",
    "INFERENCE_FLOPS_PER_PARAM",
    "MAX_ITER_LIMIT",
    "MAX_ITER_RANGE",
    "METHODS",
    "MUENNIGHOFF2023_RD_STAR",
    "MUENNIGHOFF2023_RN_STAR",
    "ON_INVALID",
    "PARALLEL_THRESHOLD",
    "PHASES",
    "SERVING_FIELDS",
    "SHAPE_FIELDS",
    "SIMD",
    "STARTS",
    "TABLE_MIN_ROWS",
    "TOL_RANGE",
    "TRAINING_FLOPS_PER_PARAM",
    "FitRuns",
    "__version__",
    "best_quality",
    "check_options",
    "chinchilla_optimal",
    "compute_optimal",
    "compute_optimal_scalar",
    "cost_optimal",
    "cost_optimal_scalar",
    "data_constrained_budget",
    "data_constrained_floor",
    "data_constrained_optimal",
    "data_constrained_physical",
    "data_constrained_point",
    "downstream_fit",
    "loss",
    "physical_optimal",
    "presets",
    "serving_step",
    "step_counts",
]

__version__: str
PARALLEL_THRESHOLD: int
TRAINING_FLOPS_PER_PARAM: float
INFERENCE_FLOPS_PER_PARAM: float
METHODS: list[str]
SHAPE_FIELDS: list[str]
SERVING_FIELDS: list[str]
PHASES: list[str]
SIMD: str
STARTS: list[str]
ON_INVALID: list[str]
DEFAULT_TOL: float
DUAL_METHODS: list[str]
TOL_RANGE: str
DEFAULT_MAX_ITER: int
MAX_ITER_LIMIT: int
MAX_ITER_RANGE: str
TABLE_MIN_ROWS: int
MUENNIGHOFF2023_RD_STAR: float
MUENNIGHOFF2023_RN_STAR: float

def presets() -> list[tuple[str, float, float, float, float, float, str]]: ...
def loss(
    params: _F,
    tokens: _F,
    coefficients: _Coeffs,
    on_invalid: str = "raise",
    parallel: bool | None = None,
    broadcast_shape: Sequence[int] | None = None,
) -> _F: ...
def chinchilla_optimal(
    given: str,
    values: _F,
    coefficients: _Coeffs,
    on_invalid: str = "raise",
    parallel: bool | None = None,
    broadcast_shape: Sequence[int] | None = None,
) -> tuple[_F, _F]: ...
def compute_optimal(
    loss: _F,
    demand: _F,
    coefficients: _Coeffs,
    method: str = "newton",
    tol: float = 1e-13,
    max_iter: int = 100,
    on_invalid: str = "raise",
    demand_name: str = "inference_tokens",
    parallel: bool | None = None,
    start: str = "auto",
    broadcast_shape: Sequence[int] | None = None,
) -> tuple[_F, _F, NDArray[np.uint32], NDArray[np.bool_]]: ...
def compute_optimal_scalar(
    loss: float,
    demand: float,
    e: float,
    a: float,
    b: float,
    alpha: float,
    beta: float,
    method: str = "newton",
    tol: float = 1e-13,
    max_iter: int = 100,
    demand_name: str = "inference_tokens",
) -> tuple[float, float, int, bool]: ...
def cost_optimal_scalar(
    loss: float,
    requests: float,
    input_tokens: float,
    output_tokens: float,
    w_in: float,
    w_out: float,
    e: float,
    a: float,
    b: float,
    alpha: float,
    beta: float,
    method: str = "newton",
    tol: float = 1e-13,
    max_iter: int = 100,
) -> tuple[float, float, int, bool]: ...
def cost_optimal(
    loss: _F,
    requests: _F,
    input_tokens: _F,
    output_tokens: _F,
    w_in: float,
    w_out: float,
    coefficients: _Coeffs,
    method: str = "newton",
    tol: float = 1e-13,
    max_iter: int = 100,
    on_invalid: str = "raise",
    parallel: bool | None = None,
    start: str = "auto",
    broadcast_shape: Sequence[int] | None = None,
) -> tuple[_F, _F, NDArray[np.uint32], NDArray[np.bool_]]: ...
def best_quality(
    budget: _F,
    demand: _F,
    coefficients: _Coeffs,
    on_invalid: str = "raise",
    demand_name: str = "inference_tokens",
    parallel: bool | None = None,
    broadcast_shape: Sequence[int] | None = None,
    method: str = "newton",
    per_unit: float = 1.0,
) -> tuple[_F, _F, _F, NDArray[np.uint32]]: ...
def check_options(
    method: str, tol: float, max_iter: float, on_invalid: str, start: str = "auto"
) -> None: ...
def step_counts(
    shape: list[_F], parallel: bool | None = None, broadcast_shape: Sequence[int] | None = None
) -> tuple[_F, _F, _F, _F, _F]: ...
def serving_step(
    phase: str,
    shape: list[_F],
    load: list[_F],
    target_seconds: _F | None = None,
    on_invalid: str = "raise",
    parallel: bool | None = None,
    broadcast_shape: Sequence[int] | None = None,
) -> tuple[tuple[_F, _F], tuple[_F, _F], tuple[_F, _F], tuple[_F, _F], _F]: ...
def data_constrained_floor(
    unique_tokens: float,
    e: float,
    a: float,
    b: float,
    alpha: float,
    beta: float,
    rd_star: float,
    rn_star: float,
) -> float: ...
def data_constrained_physical(
    loss: _F,
    requests: _F,
    dollars_per_flop: _F,
    unique_tokens: _F,
    coefficients: tuple[_F, _F, _F, _F, _F],
    rd_star: _F,
    rn_star: _F,
    ln_params: _F,
    ln_dollars: _F,
    on_invalid: str = "raise",
    parallel: bool | None = None,
    broadcast_shape: Sequence[int] | None = None,
) -> NDArray[np.float64]: ...
def data_constrained_point(
    params: _F,
    tokens: _F,
    unique_tokens: _F,
    coefficients: tuple[_F, _F, _F, _F, _F],
    rd_star: _F,
    rn_star: _F,
    on_invalid: str = "raise",
    parallel: bool | None = None,
    broadcast_shape: Sequence[int] | None = None,
) -> NDArray[np.float64]: ...
def data_constrained_optimal(
    loss: _F,
    demand: _F,
    unique_tokens: _F,
    coefficients: tuple[_F, _F, _F, _F, _F],
    rd_star: _F,
    rn_star: _F,
    on_invalid: str = "raise",
    parallel: bool | None = None,
    broadcast_shape: Sequence[int] | None = None,
) -> NDArray[np.float64]: ...
def data_constrained_budget(
    flops: _F,
    demand: _F,
    unique_tokens: _F,
    coefficients: tuple[_F, _F, _F, _F, _F],
    rd_star: _F,
    rn_star: _F,
    on_invalid: str = "raise",
    parallel: bool | None = None,
    broadcast_shape: Sequence[int] | None = None,
) -> NDArray[np.float64]: ...
def physical_optimal(
    loss: _F,
    requests: _F,
    dollars_per_flop: _F,
    coefficients: tuple[_F, _F, _F, _F, _F],
    ln_params: _F,
    ln_dollars: _F,
    on_invalid: str = "raise",
    parallel: bool | None = None,
    broadcast_shape: Sequence[int] | None = None,
) -> tuple[tuple[_F, _F], tuple[_F, _F], tuple[NDArray[np.uint32], NDArray[np.bool_]]]: ...
def downstream_fit(
    loss: NDArray[np.float64], error: NDArray[np.float64]
) -> tuple[float, float, float]: ...

@final
class FitRuns:
    """Training runs prepared for the Huber-LSE fitting objective (logs taken once)."""

    def __new__(cls, params: _F, tokens: _F, loss: _F) -> FitRuns: ...
    def __len__(self) -> int: ...
    def objective(
        self, theta: _F, delta: float = 1e-3, weights: _F | None = None
    ) -> tuple[float, _F]: ...
    def objective_batch(
        self, thetas: NDArray[np.float64], delta: float = 1e-3, weights: _F | None = None
    ) -> _F: ...
    def curvature(
        self, theta: _F, delta: float = 1e-3, weights: _F | None = None
    ) -> tuple[float, _F, NDArray[np.float64]]: ...
    def newton(
        self, theta: _F, delta: float = 1e-3, weights: _F | None = None, max_iter: int = 100
    ) -> tuple[_F, float, int, bool]: ...
    def likelihood_curvature(
        self, theta: _F, delta: float = 1e-3, weights: _F | None = None
    ) -> tuple[float, _F, NDArray[np.float64]]: ...
    def likelihood_newton(
        self, theta: _F, delta: float = 1e-3, weights: _F | None = None, max_iter: int = 1000
    ) -> tuple[_F, float, int, bool]: ...
    def kaplan_objective(
        self, theta: _F, delta: float = 1e-3, weights: _F | None = None
    ) -> tuple[float, _F]: ...
    def residuals(self, theta: _F) -> _F: ...
