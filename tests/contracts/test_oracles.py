"""Brute-force oracles for answers that can be wrong without raising (issue 23):
- a data-constrained loss is never below the plain law's for any finite R_D*, R_N*;
- held-out errors are computed on held-out runs only;
- serving with no latency target is never dearer than with one.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scaleplan as sp
from scaleplan.arch import policy
from scaleplan.fitting.family_comparison import compare_families
from scaleplan.systems import physical


def log_uniform(lo: float, hi: float):
    return st.floats(np.log10(lo), np.log10(hi)).map(lambda x: 10.0**x)


@given(
    log_uniform(1e6, 1e13),  # N
    log_uniform(1e6, 1e15),  # D
    log_uniform(1e5, 1e15),  # U
    log_uniform(1e-3, 1.7e308),  # R_D*
    log_uniform(1e-3, 1.7e308),  # R_N*
)
def test_data_constrained_loss_is_never_below_the_plain_law(n, d, u, rd_star, rn_star):
    # D' <= D and N' <= N exactly; in floats D' = U + U R* (1 - e^-x) may round one ulp
    # above D. Measured worst: 2.2e-16 relative below the plain loss over 10^5 draws.
    plain = sp.CHINCHILLA.loss(n, d)
    got = sp.DataConstrainedLaw(sp.CHINCHILLA, rd_star=rd_star, rn_star=rn_star).loss(n, d, u)
    assert np.isfinite(got)
    assert got >= plain * (1 - 1e-15)


def test_held_out_errors_come_from_runs_the_fit_did_not_see():
    # Three groups on the Chinchilla law; the third is 0.15 nats worse than the law. A
    # fit that saw the third group in-sample splits the difference; held out, the third
    # group is predicted from the first two and misses by the full 0.15.
    n = np.tile(np.geomspace(5e7, 2e9, 8), 3)
    d = np.repeat([1e19, 1e20, 1e21], 8) / (6 * n)
    loss = sp.CHINCHILLA.loss(n, d) * (1 + 0.002 * np.sin(np.arange(24.0)))
    loss[16:] += 0.15
    groups = np.repeat([1, 2, 3], 8)
    (gadre,) = compare_families(n, d, loss, groups, folds=4, families=("gadre",))
    # The runs of group 3 alone contribute 8/24 of 0.15 to the leave-one-group-out MAE.
    assert gadre.group_mae > 0.8 * 0.15 * 8 / 24
    assert gadre.group_mae > 2 * gadre.in_sample_mae


SIZES = [policy.shape_for_params(n) for n in (1e9, 7e9, 3e10, 7e10)]


@given(
    st.sampled_from(SIZES),
    st.sampled_from(["h100-sxm", "a100-80gb", "l40s", "mi300x"]),
    log_uniform(1e3, 1e9),  # requests per day
    st.floats(0.02, 0.5),  # a TPOT target, seconds
    st.integers(0, 4000),  # prompt tokens
    st.integers(1, 4000),  # output tokens
)
def test_no_latency_target_is_never_dearer_than_a_target(shape, gpu, rate, tpot, inp, out):
    kw = dict(requests_per_day=rate, days=30.0, input_tokens=inp, output_tokens=out)
    try:
        bound = physical.serving_plan(shape, gpu, tpot_seconds=tpot, **kw)
    except sp.ScaleplanError:
        bound = None  # the target cannot be met: nothing to compare against
    free = physical.serving_plan(shape, gpu, tpot_seconds=None, **kw)
    if bound is not None:
        assert free.gpus <= bound.gpus
        assert free.dollars <= bound.dollars * (1 + 1e-12)
    assert np.isfinite(free.dollars_per_million_output_tokens)


@pytest.mark.parametrize("rd_star", [1e297, 1.7e308])
def test_the_lifetime_optimum_under_a_huge_repetition_constant_is_finite(rd_star):
    law = sp.DataConstrainedLaw(sp.CHINCHILLA, rd_star=rd_star)
    r = sp.compute_optimal(2.1, 1e12, law=law, unique_tokens=1e10)
    assert np.isfinite(r.effective_tokens) and r.effective_tokens <= r.tokens
    assert np.isfinite(r.premium) and r.premium >= 0
