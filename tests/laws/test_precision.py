"""Precision-aware laws: the papers' stated properties from their printed constants."""

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from scaleplan.laws.precision import (
    KUMAR2024,
    KUMAR2024_BASE,
    KUMAR2024_PTQ,
    OUYANG2025,
    critical_tokens,
)


@pytest.mark.parametrize("penalty", [KUMAR2024_PTQ, OUYANG2025])
def test_the_penalty_grows_with_tokens_and_falls_with_size_and_bits(penalty):
    d = np.geomspace(1e9, 1e13, 50)
    at = penalty.penalty(1e9, d, 4)
    assert np.all(np.diff(at) > 0)  # more tokens per parameter: a larger penalty
    assert penalty.penalty(1e10, 1e11, 4) < penalty.penalty(1e9, 1e11, 4)
    assert penalty.penalty(1e9, 1e11, 8) < penalty.penalty(1e9, 1e11, 4)


@pytest.mark.parametrize("params", [3e7, 2.2e8, 7e9])
@pytest.mark.parametrize("bits", [3, 4, 6])
def test_the_critical_data_size_is_where_the_quantized_loss_turns(params, bits):
    # The closed form against a scan of the data term plus the penalty along D.
    law, p = KUMAR2024_BASE, KUMAR2024_PTQ
    d = np.geomspace(1e6, 1e20, 200001)
    data_loss = law.B * d**-law.beta + p.penalty(params, d, bits)
    scanned = d[int(np.argmin(data_loss))]
    closed = float(critical_tokens(law, p, params, bits))
    assert closed == pytest.approx(scanned, rel=2e-4)
    # Past it, more training makes the quantized model worse.
    loss = lambda tokens: law.B * tokens**-law.beta + p.penalty(params, tokens, bits)  # noqa: E731
    assert loss(2 * closed) > loss(closed) < loss(closed / 2)


def _loss_at_compute(compute, bits):
    """Kumar et al.'s compute-optimal question: the least loss at C = (6/16) N D P with N
    free, all three formats at P bits (their Eq. 5, §4.3.2)."""
    law = KUMAR2024_BASE
    worth = float(KUMAR2024.effective_params(1.0, bits, bits, bits))
    nd = compute / (6.0 / 16.0 * bits)
    r = minimize_scalar(
        lambda x: law.A * (np.exp(x) * worth) ** -law.alpha + law.B * (nd / np.exp(x)) ** -law.beta,
        bounds=(np.log(1e3), np.log(nd)), method="bounded", options={"xatol": 1e-12},
    )  # fmt: skip
    return r.fun


def test_the_compute_optimal_training_precision_is_7_to_8_bits_at_any_compute():
    # The paper: "around 7-8 bits when fitting our scaling law on runs with quantization
    # done to integer type", independent of compute when N and D are free.
    bits = np.linspace(4.0, 12.0, 801)
    for compute in (1e19, 1e22, 1e25):
        best = bits[int(np.argmin([_loss_at_compute(compute, b) for b in bits]))]
        assert 7.0 <= best < 8.0, (compute, best)


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: KUMAR2024_PTQ.penalty(0, 1e9, 4), "params"),
        (lambda: KUMAR2024_PTQ.penalty(1e9, -1, 4), "tokens"),
        (lambda: OUYANG2025.penalty(1e9, 1e9, np.nan), "bits"),
        (lambda: KUMAR2024.effective_params(1e9, 8, np.inf, 8), "activation_bits"),
        (lambda: critical_tokens(KUMAR2024_BASE, KUMAR2024_PTQ, 1e9, 0), "bits"),
        # Kumar et al.'s KV-cache fit leaves 2.32 bits or fewer no worth at all.
        (lambda: KUMAR2024.effective_params(1e9, 8, 8, 2), "kv_bits"),
        (lambda: KUMAR2024.effective_params(1e9, [8, 0.5], 8, 8), "weight_bits"),
    ],
)
def test_bad_input_is_named(call, argument):
    with pytest.raises(ValueError) as err:
        call()
    assert err.value.argument == argument
