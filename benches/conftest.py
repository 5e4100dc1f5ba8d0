"""Collects each benchmark's median and prints the ratios the README quotes.

Every ratio compares two measurements taken in the same pytest process on the same data,
so they survive a change of machine better than absolute times do.
"""

from __future__ import annotations

import pytest

MEDIANS: dict[str, float] = {}

# (label, numerator, denominator, what the issue asks)
RATIOS = [
    (
        "1M scenarios: scipy.optimize.newton (vectorised) / scaleplan",
        "scipy_newton_1m",
        "rust_1m",
        ">= 50",
    ),
    ("1M scenarios: scaleplan / one numpy.exp pass", "rust_1m", "numpy_exp_1m", "<= 5"),
    ("1M scenarios, one thread: scaleplan / numpy.exp", "rust_1m_serial", "numpy_exp_1m", ""),
    ("1M scenarios: compute_optimal facade / numpy.exp", "facade_1m", "numpy_exp_1m", ""),
    ("1M scenarios: cost_optimal / compute_optimal", "cost_1m", "facade_1m", "<= 1.2"),
    ("1M scenarios: best_quality (dual) / compute_optimal", "best_quality_1m", "facade_1m", "<= 3"),
    ("1 scenario: cost_optimal / compute_optimal", "cost_scalar", "facade_scalar", "<= 1.5"),
    (
        "1 scenario: scipy.optimize.brentq / compute_optimal",
        "scipy_brentq_scalar",
        "facade_scalar",
        ">= 20",
    ),
    (
        "1 scenario: pure-Python reference / compute_optimal",
        "reference_scalar",
        "facade_scalar",
        "",
    ),
    (
        "fit, 45 grid starts: NumPy objective + scipy.minimize / scaleplan",
        "numpy_scipy_45_starts",
        "scaleplan_45_starts",
        "",
    ),
    ("1M shapes: NumPy reference / Rust step counts", "steptime_numpy_1m", "steptime_rust_1m", ""),
    (
        "10k decode steps: pure-Python reference / Rust roofline",
        "serving_reference_10k",
        "serving_rust_10k",
        "",
    ),
    (
        "10k largest batches for a TPOT: speculative (MTP) / plain decode",
        "speculative_target_10k",
        "decode_target_10k",
        "",
    ),
    (
        "1k data-constrained losses and gradients: pure-Python reference / Rust",
        "constrained_loss_reference_1k",
        "constrained_loss_rust_1k",
        "",
    ),
    (
        "100k lifetime optima with a binding unique-token supply / without a supply",
        "constrained_optimum_100k",
        "plain_optimum_100k",
        "",
    ),
    (
        "200 lifetime optima on the roofline curve: pure-Python reference / Rust",
        "physical_reference_200",
        "physical_rust_200",
        "",
    ),
    (
        "100k lifetime optima: roofline curve (70 knots) / cost_optimal",
        "physical_rust_100k",
        "cost_optimal_100k",
        "",
    ),
    (
        "100k lifetime optima: linear curve / cost_optimal (the same problem)",
        "physical_rust_100k_linear",
        "cost_optimal_100k",
        "",
    ),
    (
        "Epoch's likelihood fit: SciPy BFGS on the Rust objective / scaleplan",
        "likelihood_bfgs_rust",
        "likelihood_rust",
        "",
    ),
    (
        "Epoch's likelihood fit: SciPy BFGS on the pure-Python reference / scaleplan",
        "likelihood_bfgs_reference",
        "likelihood_rust",
        "",
    ),
    (
        "Kaplan objective and gradient, 240 runs: pure-Python reference / Rust",
        "kaplan_reference_240",
        "kaplan_rust_240",
        "",
    ),
    (
        "1k MoE lifetime optima (a law per expert count): pure-Python reference / Rust",
        "moe_reference_1k",
        "moe_rust_1k",
        "",
    ),
    ("100k MoE lifetime optima / 100k dense", "moe_rust_100k", "moe_dense_100k", ""),
    (
        "best of 6 expert counts under a memory cap: brute-force grid / expert_optimal",
        "moe_grid",
        "moe_expert_optimal",
        "",
    ),
    ("100k: halley / newton", "halley_100k", "newton_100k", ""),
    ("100k: brent / newton", "brent_100k", "newton_100k", ""),
    ("100k: bisect / newton", "bisect_100k", "newton_100k", ""),
    ("100k: secant-d (the paper's) / newton", "secant-d_100k", "newton_100k", ""),
    ("4M-scenario sweep to Zarr: 1 worker / 2 workers", "dask_1w_sweep", "dask_2w_sweep", ""),
    ("4M-scenario sweep, 1 worker / in-process, no Zarr", "dask_1w_sweep", "dask_sweep_inproc", ""),
    ("4M on Dask: 1 worker / 2 workers (speed-up)", "dask_1w_reduce", "dask_2w_reduce", ""),
    ("4M on Dask, 1 worker / in-process, 1 thread", "dask_1w_reduce", "dask_inproc_serial", ""),
    ("4M on Dask, 1 worker, results gathered / kept", "dask_1w_gather", "dask_1w_reduce", ""),
    ("4M on Dask, 1 worker: 256 chunks / 16 chunks", "dask_1w_small_chunks", "dask_1w_reduce", ""),
    ("4M in 16 chunks, sync scheduler / in-process", "dask_sync_16", "dask_inproc", ""),
]

# (label, slower, faster, how many extra chunks or calls): extra milliseconds each.
PER_CHUNK = [
    ("Dask cost per extra chunk, 1 worker (ms)", "dask_1w_small_chunks", "dask_1w_reduce", 240),
    ("fixed cost of one lazy call, sync scheduler (ms)", "dask_one_row", "dask_one_row_inproc", 1),
]


@pytest.fixture
def record(benchmark):
    """Run `benchmark(fn)` and keep its median under `name`."""

    def run(name, fn, *args, **kwargs):
        result = benchmark(fn, *args, **kwargs)
        if benchmark.stats is not None:  # None under --benchmark-disable
            MEDIANS[name] = benchmark.stats.stats.median
        return result

    return run


def pytest_terminal_summary(terminalreporter):
    rows = [
        (label, MEDIANS[a] / MEDIANS[b], goal)
        for label, a, b, goal in RATIOS
        if a in MEDIANS and b in MEDIANS
    ]
    if not rows:
        return
    tr = terminalreporter
    tr.section("scaleplan ratios (same process)")
    for label, ratio, goal in rows:
        tr.write_line(f"{label:<62} {ratio:10.2f}   {goal}")
    for label, a, b, count in PER_CHUNK:
        if a in MEDIANS and b in MEDIANS:
            tr.write_line(f"{label:<62} {1e3 * (MEDIANS[a] - MEDIANS[b]) / count:10.3f}")
