"""The lifetime optimum under the roofline curve: Rust against the pure-Python reference
(exhaustive: every knot, every sign change bisected), row for row, and against
`cost_optimal` on a linear curve (the same problem, solved by the Eq. 12 kernel)."""

from __future__ import annotations

import numpy as np
import pytest

from scaleplan import cost_optimal
from scaleplan.hardware.cost_model import default_costs
from scaleplan.laws.scaling import CHINCHILLA
from scaleplan.optimal.physical_optimum import ServingCurve, physical_optimal
from scaleplan.testing import reference as ref

N_REF = 200
N = 100_000


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(11)
    return rng.uniform(1.95, 2.4, N), 10 ** rng.uniform(7, 12, N)


@pytest.fixture(scope="module")
def curve():
    return ServingCurve.roofline()


def test_rust_200_rows(record, rows, curve):
    loss, requests = rows
    r = record("physical_rust_200", physical_optimal, loss[:N_REF], requests[:N_REF], curve=curve)
    assert r.converged.all()


def test_reference_200_rows(record, rows, curve):
    loss, requests = rows
    c = default_costs()
    per_flop = c.train_dollars_per_flop / c.train_mfu
    knots = list(np.log(curve.params)), list(np.log(curve.dollars_per_request))

    def loop():
        return [
            ref.physical_optimum(CHINCHILLA.coefficients, float(lo), float(r), per_flop, *knots)
            for lo, r in zip(loss[:N_REF], requests[:N_REF], strict=True)
        ]

    record("physical_reference_200", loop)


def test_rust_100k_rows_roofline(record, rows, curve):
    r = record("physical_rust_100k", physical_optimal, *rows, curve=curve)
    assert r.converged.all()


def test_rust_100k_rows_linear(record, rows):
    r = record("physical_rust_100k_linear", physical_optimal, *rows,
               curve=ServingCurve.constant_mfu())  # fmt: skip
    assert r.converged.all()


def test_cost_optimal_100k_rows(record, rows):
    record("cost_optimal_100k", cost_optimal, *rows)
