"""The data-constrained law: its loss through Rust against the pure-Python reference, and
the lifetime optimum with a binding unique-token supply against the plain optimum."""

from __future__ import annotations

import numpy as np
import pytest

from scaleplan import compute_optimal
from scaleplan.laws.data_constrained import MUENNIGHOFF2023
from scaleplan.optimal.data_constrained import constrained_optimal
from scaleplan.testing import reference as ref

N = 100_000
N_REF = 1_000


@pytest.fixture(scope="module")
def points():
    rng = np.random.default_rng(13)
    return 10 ** rng.uniform(8, 11, N), 10 ** rng.uniform(10, 13, N), 10 ** rng.uniform(10, 12, N)


def test_rust_loss_1k(record, points):
    n, d, u = (c[:N_REF] for c in points)
    record("constrained_loss_rust_1k", MUENNIGHOFF2023.evaluate, n, d, u)


def test_reference_loss_1k(record, points):
    law = MUENNIGHOFF2023.law.coefficients
    rd, rn = MUENNIGHOFF2023.rd_star, MUENNIGHOFF2023.rn_star
    rows = list(zip(*(c[:N_REF] for c in points), strict=True))

    def loop():
        return [ref.data_constrained_loss(law, rd, rn, *row) for row in rows]

    record("constrained_loss_reference_1k", loop)


@pytest.fixture(scope="module")
def scenarios():
    rng = np.random.default_rng(17)
    return rng.uniform(1.9, 2.2, N), 10 ** rng.uniform(12, 15, N)


def test_constrained_optimum_100k_binding(record, scenarios):
    loss, demand = scenarios
    # A supply of half the plain optimum's tokens: every row binds.
    unique = 0.5 * compute_optimal(loss, demand).tokens
    r = record("constrained_optimum_100k", constrained_optimal, loss, demand, unique)
    assert r.binding.all()


def test_plain_optimum_100k(record, scenarios):
    record("plain_optimum_100k", compute_optimal, *scenarios)
