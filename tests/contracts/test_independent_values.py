"""Expected values derived in the test itself, from the formulas and the published
hardware figures, never from the code under test. Each kills a single-operator mutation
that survived the suite before issue 23 (the mutation is named in each test)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import scaleplan as sp
from scaleplan.fitting.isoflop import isoflop_fit
from scaleplan.fitting.nextrun import residual_gradients

# Dense peaks from NVIDIA's A100 datasheet: bf16 312 TFLOP/s, int8 624 TOP/s.
A100_BF16, A100_INT8 = 312e12, 624e12


def test_prompt_and_output_weights_use_each_phase_mfu_the_right_way_round():
    # Mutation: prefill MFU over training MFU instead of training over prefill.
    costs = sp.CostModel(train_price_per_hour=2.0, inference_price_per_hour=1.0,
                         train_mfu=0.4, prefill_mfu=0.2, decode_mfu=0.01)  # fmt: skip
    c_tr = 2.0 / (3600 * A100_BF16)  # dollars per peak FLOP, training (bf16)
    c_inf = 1.0 / (3600 * A100_INT8)  # serving in int8
    # A served token costs 2 N FLOPs at its phase's MFU; a trained one 6 N at the
    # training MFU: in training-token equivalents (x3 for 6 N / 2 N, then /3 by D_eff).
    w_in = (c_inf / 0.2) / (c_tr / 0.4)
    w_out = (c_inf / 0.01) / (c_tr / 0.4)
    assert costs.demand_weights == pytest.approx((w_in, w_out), rel=1e-15)
    # The dollars of one request, counted by hand: 2 N FLOPs per token at each phase's MFU.
    n = 7e9
    cost = sp.lifetime_cost(n, 1e12, 1.0, 70.0, 215.0, costs=costs)
    by_hand = 2 * n * (70.0 * c_inf / 0.2 + 215.0 * c_inf / 0.01)
    assert cost.inference_dollars == pytest.approx(by_hand, rel=1e-14)
    assert cost.training_dollars == pytest.approx(6 * n * 1e12 * c_tr / 0.4, rel=1e-14)


def test_each_isoflop_profile_spends_its_budget():
    # Mutation: tokens_opt = C / (2 N) instead of C / (6 N).
    n = np.tile(np.geomspace(1e8, 1e10, 7), 3)
    c = np.repeat([1e20, 1e21, 1e22], 7)
    fit = isoflop_fit(n, c / (6 * n), sp.CHINCHILLA.loss(n, c / (6 * n)),
                      budgets=(1e20, 1e21, 1e22), n_resamples=0)  # fmt: skip
    for p in fit.profiles:
        assert 6 * p.params_opt * p.tokens_opt == pytest.approx(p.flops, rel=1e-12)
        # The minimum of the parabola in ln N, from its coefficients (L = c0 + c1 x + c2 x^2).
        _, c1, c2 = p.coefficients
        assert math.log(p.params_opt) == pytest.approx(-c1 / (2 * c2), rel=1e-12)


def _residual(theta, n, d):
    """ln(exp(a - alpha ln N) + exp(b - beta ln D) + exp(e)), written out plainly."""
    a, b, e, alpha, beta = theta
    return math.log(math.exp(a - alpha * math.log(n)) + math.exp(b - beta * math.log(d))
                    + math.exp(e))  # fmt: skip


def test_residual_gradients_match_central_differences():
    # Mutation: ln N in the beta column (or ln D in the alpha column).
    theta = np.array([6.0, 6.5, 0.52, 0.34, 0.28])
    n, d = np.array([1e8, 3e9, 7e10]), np.array([2e9, 6e10, 1e12])
    got = residual_gradients(theta, n, d)
    h = 1e-6
    for i in range(len(n)):
        for k in range(5):
            up, down = theta.copy(), theta.copy()
            up[k] += h
            down[k] -= h
            fd = (_residual(up, n[i], d[i]) - _residual(down, n[i], d[i])) / (2 * h)
            # Central differences: truncation ~h^2 f''' (< 1e-10 here), rounding ~1e-10.
            assert got[i, k] == pytest.approx(fd, abs=1e-8), (i, k)


def test_serving_plan_prices_output_tokens_and_rounds_training_gpus_to_eights():
    # Mutations that survived the sample of issue 23: `/` as `//` in the price per
    # million output tokens; the multiple of 8 in the default training GPU count.
    from scaleplan.arch import shapes
    from scaleplan.systems import physical

    shape = shapes.TransformerShape(d_model=4096, n_layers=32, n_heads=32)
    v = physical.serving_plan(shape, requests_per_day=1e6, days=365.0, output_tokens=215.0)
    per_million = v.dollars / (1e6 * 365.0 * 215.0) * 1e6
    assert v.dollars_per_million_output_tokens == pytest.approx(per_million, rel=1e-15)
    t = physical.training_plan(shape, 2e12)  # H100 bf16 (989 TFLOP/s) at 40% MFU, 30 days
    n = float(physical.step_counts(shape).params)  # 8.85e9 (untied, 4 d gated MLP)
    gpu_days = 6 * n * 2e12 / (989e12 * 0.4) / 86_400
    assert t.gpus % 8 == 0 and t.gpus >= gpu_days / 30
    assert t.gpus - 8 < max(t.min_gpus, gpu_days / 30)


def test_a_serving_curve_interpolates_in_log_log():
    from scaleplan.optimal.physical_optimum import ServingCurve

    curve = ServingCurve(np.array([1e9, 1e11]), np.array([1e-4, 1e-2]))
    # Halfway in ln N is halfway in ln dollars: 1e10 parameters cost 1e-3 a request.
    assert curve(1e10) == pytest.approx(1e-3, rel=1e-14)
    assert np.allclose(curve(np.array([1e9, 1e11])), [1e-4, 1e-2], rtol=1e-14, atol=0)
    assert np.isnan(curve(1e12))  # off the curve


def test_best_quality_takes_exactly_one_demand():
    with pytest.raises(ValueError, match="exactly one of inference_tokens"):
        sp.best_quality(1e23, inference_tokens=1e12, requests=1e9)
    with pytest.raises(ValueError, match="exactly one of inference_tokens"):
        sp.best_quality(1e23)


def test_isoflop_budgets_are_one_list():
    n = np.tile(np.geomspace(1e8, 1e10, 7), 3)
    c = np.repeat([1e20, 1e21, 1e22], 7)
    with pytest.raises(ValueError, match="budgets must be finite FLOP counts > 0, one list"):
        isoflop_fit(n, c / (6 * n), sp.CHINCHILLA.loss(n, c / (6 * n)),
                    budgets=[[1e20, 1e21], [1e22, 3e22]], n_resamples=0)  # fmt: skip
