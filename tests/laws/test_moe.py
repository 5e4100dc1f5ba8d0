"""The joint MoE law (Ludziejewski et al. 2025): its printed tables against ours, the dense
limit, and bad constants and expert counts."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleplan import JOINT_MOE, JointMoELaw, chinchilla_optimal, compute_optimal, cost_optimal
from scaleplan.laws.family import route

# The paper's Table 4: per expert count E, the Chinchilla form L = c + m N^mu + n D^nu it
# reduces to (computed by the authors from their unrounded fit).
TABLE_4 = {
    1: (30.3640, -0.1817, 53.9838, -0.1965),
    2: (27.7982, -0.1780, 66.8401, -0.2065),
    4: (24.8462, -0.1731, 87.7022, -0.2192),
    8: (21.8330, -0.1676, 119.9126, -0.2338),
    16: (19.0159, -0.1617, 167.5073, -0.2494),
    32: (16.5424, -0.1557, 234.6726, -0.2652),
}
# The paper's Table 1: compute-optimal active parameters and tokens (F = 6 N D), as printed.
TABLE_1 = {
    (1e20, 1): ("1.7B", "9.7B"), (1e20, 2): ("1.5B", "11.4B"), (1e20, 4): ("1.2B", "13.9B"),
    (1e20, 8): ("990M", "17B"), (1e20, 16): ("810M", "20.7B"), (1e20, 32): ("669M", "24.9B"),
    (1e21, 1): ("5.7B", "29.3B"), (1e21, 2): ("5B", "33B"), (1e21, 4): ("4.4B", "38B"),
    (1e21, 8): ("3.8B", "44.3B"), (1e21, 16): ("3.3B", "51.2B"), (1e21, 32): ("2.85B", "58.4B"),
    (1e22, 1): ("18.8B", "88.6B"), (1e22, 2): ("17.4B", "96B"), (1e22, 4): ("15.8B", "105.4B"),
    (1e22, 8): ("14.4B", "115.8B"), (1e22, 16): ("13.2B", "126.5B"),
    (1e22, 32): ("12.2B", "136.9B"),
}  # fmt: skip


def agrees(ours, printed):
    """Whether `ours` is the printed figure to its printed digits, or within 1.5% of it (the
    rounding of Table 3's constants moves the optimum that much)."""
    number, unit = printed[:-1], {"M": 1e6, "B": 1e9}[printed[-1]]
    decimals = len(number.split(".")[1]) if "." in number else 0
    value = float(number) * unit
    return abs(ours - value) <= max(0.5 * 10.0**-decimals * unit, 0.015 * value)


@pytest.mark.parametrize("experts", sorted(TABLE_4))
def test_table_4_from_the_printed_constants(experts):
    # Table 3's constants are printed to 4 significant digits, so Table 4 (from the
    # unrounded fit) comes out within 0.1% on the scales and 1e-4 on the exponents.
    m, mu, n, nu = TABLE_4[experts]
    law = JOINT_MOE.at(experts)
    assert law.A == pytest.approx(m, rel=1.5e-3)
    assert law.B == pytest.approx(n, rel=2.7e-3)
    assert -law.alpha == pytest.approx(mu, abs=1.5e-4)
    assert -law.beta == pytest.approx(nu, abs=1.5e-4)
    assert law.E == 1.3637


@pytest.mark.parametrize("budget, experts", sorted(TABLE_1))
def test_table_1_compute_optimal_sizes(budget, experts):
    # The largest miss: E = 4 at 1e20, 13.74B tokens against 13.9B printed (1.2%).
    n, d = TABLE_1[budget, experts]
    opt = chinchilla_optimal(compute=budget, law=JOINT_MOE.at(experts))
    assert agrees(opt.params, n), (opt.params, n)
    assert agrees(opt.tokens, d), (opt.tokens, d)
    assert 6 * opt.params * opt.tokens == pytest.approx(budget, rel=1e-12)


def test_effective_experts_run_from_e_start_to_e_max():
    e_hat = JOINT_MOE.effective_experts(np.array([1.0, 2.0, 1e6]))
    assert e_hat[0] == pytest.approx(2.0732, rel=1e-15)
    # Written out: 1/Ê = 1/(E - 1 + 1/(1/2.0732 - 1/290.4521)) + 1/290.4521 at E = 2.
    by_hand = 1 / (1 / (1 + 1 / (1 / 2.0732 - 1 / 290.4521)) + 1 / 290.4521)
    assert e_hat[1] == pytest.approx(by_hand, rel=1e-14)
    assert e_hat[2] == pytest.approx(290.4521, rel=1e-3) and e_hat[2] < 290.4521


@given(st.floats(1e6, 1e13), st.floats(1e8, 1e14))
def test_one_expert_is_the_dense_law_bit_for_bit(n, d):
    dense = JOINT_MOE.reduced()
    assert JOINT_MOE.loss(n, d, 1) == dense.loss(n, d)
    # The loss written out from the paper's Eq. 6 at Ê = E_start.
    e = 2.0732
    by_hand = 1.3637 + 35.91 * e**-0.2285 * n ** (-0.1889 + 0.0098 * math.log(e))
    by_hand += 35.98 * e**0.5529 * d ** (-0.1775 - 0.0259 * math.log(e))
    assert JOINT_MOE.loss(n, d, 1) == pytest.approx(by_hand, rel=1e-13)


def test_an_moe_law_without_experts_is_its_dense_law():
    plain = compute_optimal(2.3, 1e12, law=JOINT_MOE.reduced())
    for r in (compute_optimal(2.3, 1e12, law=JOINT_MOE),
              compute_optimal(2.3, 1e12, law=JOINT_MOE, experts=1)):  # fmt: skip
        assert (r.params, r.tokens) == (plain.params, plain.tokens)


def test_a_batch_of_expert_counts_is_a_batch_of_laws():
    counts = [1, 4, 32]
    batch = compute_optimal(2.2, 1e13, law="joint-moe", experts=counts)
    for k, e in enumerate(counts):
        one = compute_optimal(2.2, 1e13, law=JOINT_MOE.at(e))
        assert batch.params[k] == one.params and batch.tokens[k] == one.tokens
    # More experts: fewer active parameters, more tokens, fewer FLOPs, at every demand.
    assert np.all(np.diff(batch.params) < 0) and np.all(np.diff(batch.total_flops) < 0)


def test_experts_compose_with_finite_data_and_dollars():
    r = compute_optimal(2.3, 1e12, law=JOINT_MOE, experts=8, unique_tokens=3e10)
    dc = compute_optimal(2.3, 1e12, law=JOINT_MOE.at(8), unique_tokens=3e10)
    assert (r.params, r.tokens, r.epochs) == (dc.params, dc.tokens, dc.epochs)
    dollars = cost_optimal(2.3, 1e9, law="joint-moe", experts=8)
    assert dollars.params == cost_optimal(2.3, 1e9, law=JOINT_MOE.at(8)).params


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        (dict(experts=0.5), "experts"),
        (dict(experts=float("nan")), "experts"),
        (dict(experts=[2, math.inf]), "experts"),
        (dict(experts=4, law="chinchilla"), "law"),
    ],
)
def test_bad_expert_counts_are_refused(kwargs, argument):
    kwargs.setdefault("law", JOINT_MOE)
    with pytest.raises(ValueError) as err:
        compute_optimal(2.3, 1e12, **kwargs)
    assert err.value.argument == argument


@pytest.mark.parametrize(
    "change, argument",
    [
        (dict(a=-1.0), "a"),
        (dict(c=0.0), "c"),
        (dict(e_start=1.0), "e_start"),
        (dict(e_start=300.0), "e_start"),
        (dict(alpha=0.01), "alpha"),  # the loss would grow with N
        (dict(zeta=0.1), "zeta"),  # the exponent of D turns positive at large Ê
        (dict(beta=0.1), "beta"),
        (dict(e_max=1e7), "e_max"),
        (dict(gamma=math.nan), "gamma"),
    ],
)
def test_bad_constants_are_refused(change, argument):
    with pytest.raises(ValueError) as err:
        JointMoELaw(**change)
    assert err.value.argument == argument


def test_the_family_is_routed_by_its_data():
    kernel, law, given = route("compute_optimal", "joint-moe", experts=4)
    assert law is JOINT_MOE and given == {"experts": 4} and kernel is not None
    with pytest.raises(ValueError, match="together"):
        route("compute_optimal", "chinchilla", experts=4, rank=3)


def test_total_parameters_of_the_papers_architecture():
    # Width 1024, 16 blocks: 2 x 1024 x 50257 embeddings, 13 x 1024^3 / 64 active in the
    # blocks; with 8 experts (4 + 72) x 1024^3 / 64.
    d = 1024.0
    active = 2 * d * 50257 + 13 * d**3 / 64
    assert JOINT_MOE.total_params(active, 8) == pytest.approx(2 * d * 50257 + 76 * d**3 / 64)
    assert JOINT_MOE.total_params(active, 1) == pytest.approx(active, rel=1e-14)


@given(
    st.floats(0.0, 1e6),
    st.floats(0.0, 1e4),
    st.floats(1e-3, 10.0),
    st.floats(1.0, 1e15),
)
def test_cubic_root_is_the_polynomials_positive_root(linear, square, cube, total):
    from scaleplan.laws.moe import cubic_root

    d = float(cubic_root(linear, square, cube, total))
    # Independent: the positive real root of the cubic by its companion matrix.
    roots = np.roots([cube, square, linear, -total])
    positive = [r.real for r in roots if abs(r.imag) < 1e-9 * abs(r) and r.real > 0]
    assert len(positive) == 1
    assert d == pytest.approx(positive[0], rel=1e-9)
    assert linear * d + square * d**2 + cube * d**3 == pytest.approx(total, rel=1e-12)


def test_a_rows_width_does_not_depend_on_the_rows_beside_it():
    # Each row stops on its own Newton step: the same bits alone and in any batch.
    from scaleplan.optimal._expert_memory import largest_fitting

    counts = np.array([1.0, 2.0, 8.0, 32.0, 64.0])
    for memory in np.geomspace(1e8, 1e12, 50):  # the old all-rows stop differed on 13 of these
        together = largest_fitting(counts, memory, 2.0, cache_per_d2=1e3)
        for i, e in enumerate(counts):
            alone = largest_fitting(np.array([e]), memory, 2.0, cache_per_d2=1e3)
            assert alone[0] == together[i] or (np.isnan(alone[0]) and np.isnan(together[i]))


@pytest.mark.parametrize(
    ("args", "argument"),
    [((-1.0, 0.0, 1.0, 1.0), "linear"), ((0.0, 0.0, 0.0, 1.0), "linear"),
     ((np.inf, 0.0, 1.0, 1.0), "linear"), ((1.0, 0.0, 1.0, -1.0), "total"),
     ((1.0, 0.0, 1.0, np.nan), "total"), ((1.0, 0.0, 1.0, np.inf), "total")],
)  # fmt: skip
def test_cubic_root_refuses_what_has_no_root(args, argument):
    from scaleplan.laws.moe import cubic_root

    with pytest.raises(ValueError) as err:
        cubic_root(*args)
    assert err.value.argument == argument
    # A total of 0 has the root 0, even where the derivative there is 0 too.
    assert float(cubic_root(0.0, 0.0, 1.0, 0.0)) == 0.0
