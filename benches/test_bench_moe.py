"""Mixtures of experts: lifetime optima at an expert count per row (each count a law in the
Rust lanes) against the pure-Python reference and against dense rows, and the optimum over
expert counts under a memory cap against a brute-force grid."""

from __future__ import annotations

import numpy as np
import pytest

from scaleplan import JOINT_MOE, compute_optimal, expert_optimal
from scaleplan.testing import reference as ref

N = 100_000
N_REF = 1_000


@pytest.fixture(scope="module")
def scenarios():
    rng = np.random.default_rng(23)
    experts = rng.choice([1.0, 2.0, 4.0, 8.0, 16.0, 32.0], N)
    return rng.uniform(2.1, 2.6, N), 10 ** rng.uniform(9, 14, N), experts


def test_moe_optimum_1k(record, scenarios):
    loss, demand, experts = (c[:N_REF] for c in scenarios)
    r = record("moe_rust_1k", compute_optimal, loss, demand, law=JOINT_MOE, experts=experts)
    want = [ref.lifetime_optimum(JOINT_MOE.at(e).coefficients, ls, dm)
            for ls, dm, e in zip(loss[:20], demand[:20], experts[:20], strict=True)]  # fmt: skip
    np.testing.assert_allclose(r.params[:20], [w[0] for w in want], rtol=1e-9)


def test_moe_reference_1k(record, scenarios):
    rows = list(zip(*(c[:N_REF] for c in scenarios), strict=True))
    laws = {e: JOINT_MOE.at(e).coefficients for e in {row[2] for row in rows}}

    def loop():
        return [ref.lifetime_optimum(laws[e], ls, dm) for ls, dm, e in rows]

    record("moe_reference_1k", loop)


def test_moe_optimum_100k(record, scenarios):
    loss, demand, experts = scenarios
    record("moe_rust_100k", compute_optimal, loss, demand, law=JOINT_MOE, experts=experts)


def test_dense_optimum_100k(record, scenarios):
    loss, demand, _ = scenarios
    record("moe_dense_100k", compute_optimal, loss, demand, law=JOINT_MOE.reduced())


def _grid(loss, demand, memory, counts=(1, 2, 4, 8, 16, 32)):
    """The cheapest (FLOPs, experts) on 20,000 active sizes per count, weights in memory
    (`testing.reference.expert_grid`, pure Python)."""
    laws = {e: JOINT_MOE.at(e).coefficients for e in counts}
    flops, experts, _ = ref.expert_grid(laws, loss, demand, memory, JOINT_MOE.total_params)
    return flops, experts


def test_expert_optimal(record):
    r = record("moe_expert_optimal", expert_optimal, 2.3, 1e12, memory_bytes=4e9)
    flops, experts = _grid(2.3, 1e12, 4e9)
    assert r.experts == experts and r.total_flops <= flops


def test_expert_grid(record):
    record("moe_grid", _grid, 2.3, 1e12, 4e9)
