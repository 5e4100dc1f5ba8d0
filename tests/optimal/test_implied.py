"""Reading a released model backward: the demand for which (N, D) is lifetime-optimal."""

import json
import math
import re
import subprocess

import numpy as np
import pytest
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import scaleplan as sp
from scaleplan.optimal.implied import implied_demand
from scaleplan.testing import reference_fits as ref

laws = st.builds(
    sp.ScalingLaw,
    E=st.floats(0.5, 2.5),
    A=st.floats(10.0, 2000.0),
    B=st.floats(10.0, 3000.0),
    alpha=st.floats(0.1, 0.6),
    beta=st.floats(0.1, 0.6),
)


@settings(max_examples=examples(200 / 300), deadline=None)
@given(law=laws, params=st.floats(1e7, 1e12), over=st.floats(1.001, 1e4))
def test_the_implied_demand_makes_the_model_the_lifetime_optimum(law, params, over):
    d_ch = float(sp.chinchilla_optimal(params=params, law=law).tokens)
    tokens = d_ch * over
    r = implied_demand(params, tokens, law=law)
    assert r.exists and r.inference_tokens > 0
    want = ref.implied_demand(law.coefficients, params, tokens)
    assert r.inference_tokens == pytest.approx(want, rel=1e-9)
    back = sp.compute_optimal(r.loss, r.inference_tokens, law=law)
    assert back.params == pytest.approx(params, rel=1e-9)
    assert back.tokens == pytest.approx(tokens, rel=1e-9)


def test_dollar_demand_round_trips_through_cost_optimal():
    costs = sp.CostModel(train_gpu="h100-sxm", inference_gpu="h100-sxm", decode_mfu=0.02)
    r = implied_demand(6.74e9, 2e12, costs=costs, input_tokens=500, output_tokens=300)
    back = sp.cost_optimal(r.loss, r.requests, 500, 300, costs=costs)
    # measured: 5.7e-16 and 9.8e-16 relative
    assert back.params == pytest.approx(6.74e9, rel=1e-13)
    assert back.tokens == pytest.approx(2e12, rel=1e-13)


# Hoffmann et al.'s fitted law (E, A, B, alpha, beta), written out here.
HOFFMANN = (1.69, 406.4, 410.7, 0.336, 0.283)


def _demand_by_hand(params, tokens):
    """The demand for which (N, D) minimises 6 N D + 2 N demand on its iso-loss curve.
    Lagrange: 6 D + 2 demand = lam alpha A N^-(alpha+1) and 6 N = lam beta B D^-(beta+1),
    so demand = 3 D (alpha A N^-alpha D^beta / (beta B) - 1)."""
    _, a, b, alpha, beta = HOFFMANN
    return 3 * tokens * (alpha * a * params**-alpha * tokens**beta / (beta * b) - 1)


def _chinchilla_tokens_by_hand(params):
    """alpha A N^-alpha = beta B D^-beta, solved for D."""
    _, a, b, alpha, beta = HOFFMANN
    return (beta * b * params**alpha / (alpha * a)) ** (1 / beta)


def test_released_models():
    # Llama-2-7B on 2T tokens, Llama-3-8B on 15T (README "Reading a model backward" quotes
    # 4.639e12 and 8.806e13). Measured against the closed form: 1.6e-15 relative at most.
    llama2 = implied_demand(6.74e9, 2e12)
    llama3 = implied_demand(8.03e9, 15e12)
    assert llama2.inference_tokens == pytest.approx(_demand_by_hand(6.74e9, 2e12), rel=1e-13)
    assert llama3.inference_tokens == pytest.approx(_demand_by_hand(8.03e9, 15e12), rel=1e-13)
    assert llama3.inference_tokens > 10 * llama2.inference_tokens
    # Chinchilla itself (70B, 1.4T) is short of the unrounded law's own optimum (4.25T):
    # the closed form gives a negative demand, which no model answers to.
    chin = implied_demand(70e9, 1.4e12)
    assert _demand_by_hand(70e9, 1.4e12) < 0
    assert not chin.exists and math.isnan(chin.inference_tokens)
    assert chin.chinchilla_tokens == pytest.approx(_chinchilla_tokens_by_hand(70e9), rel=1e-13)


def test_at_the_chinchilla_ratio_the_demand_is_zero_and_below_it_none():
    d_ch = float(sp.chinchilla_optimal(params=7e9).tokens)
    r = implied_demand(7e9, np.array([d_ch * 0.5, d_ch, d_ch * (1 + 1e-12)]))
    assert list(r.exists) == [False, True, True]
    assert math.isnan(r.inference_tokens[0])
    assert abs(r.inference_tokens[1]) <= 1e-3 * d_ch
    # expm1 keeps the digits of a model trained just past the ratio: 3 D beta 1e-12.
    assert r.inference_tokens[2] == pytest.approx(3 * d_ch * 0.283 * 1e-12, rel=1e-3)


def test_batches_broadcast_and_batch_laws():
    r = implied_demand(np.array([[1e9], [7e9]]), np.array([1e12, 2e12, 5e12]))
    assert r.inference_tokens.shape == (2, 3)
    laws = sp.ScalingLaw(E=np.array([1.69, 1.81686]), A=406.4, B=410.7, alpha=0.336, beta=0.283)
    two = implied_demand(7e9, 2e12, law=laws)
    assert two.inference_tokens.shape == (2,)
    assert two.inference_tokens[0] == pytest.approx(implied_demand(7e9, 2e12).inference_tokens)


def test_bad_input_is_named_and_nan_rows_keep_the_rest():
    for params, tokens, name in (
        (0.0, 1e12, "params"),
        (7e9, -1.0, "tokens"),
        (math.nan, 1e12, "params"),
        (7e9, math.inf, "tokens"),
    ):
        with pytest.raises(ValueError, match=name) as exc:
            implied_demand(params, tokens)
        assert exc.value.argument == name
    with pytest.raises(ValueError, match="tokens") as exc:
        implied_demand(7e9, np.array([2e12, -1.0]))
    assert exc.value.index == 1
    r = implied_demand(7e9, np.array([2e12, -1.0, 3e12]), on_invalid="nan")
    assert math.isnan(r.inference_tokens[1]) and not r.exists[1]
    assert np.isfinite(r.inference_tokens[[0, 2]]).all()
    with pytest.raises(ValueError, match="costs"):
        implied_demand(7e9, 2e12, costs="a100")
    with pytest.raises(ValueError, match="params"):
        implied_demand("7e9", 2e12)


def _cli(*args):
    return subprocess.run(["scaleplan", "implied-demand", *args], capture_output=True, text=True)


def test_cli():
    out = _cli("--params", "6.74e9", "--tokens", "2e12", "--json")
    data = json.loads(out.stdout)
    want = _demand_by_hand(6.74e9, 2e12)
    assert data["exists"] is True and data["inference_tokens"] == pytest.approx(want, rel=1e-13)
    none = _cli("--params", "70e9", "--tokens", "1.4e12", "--json")
    data = json.loads(none.stdout, parse_constant=lambda c: pytest.fail(f"not strict: {c}"))
    assert data["exists"] is False and data["inference_tokens"] is None
    assert "no demand" in _cli("--params", "70e9", "--tokens", "1.4e12").stdout
    for bad in (
        ["--params", "0", "--tokens", "1e12"],
        ["--params", "7e9"],
        ["--params", "7e9", "--tokens", "nan"],
    ):
        r = _cli(*bad)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and not r.stdout


def test_implied_demand_takes_its_arguments_by_name_and_names_a_bad_row():
    """Mutation testing found two changes no test saw: params and tokens made
    positional-only, and a bad request length in an array (its check used `not`, which
    fails on arrays, where `~` gives the row)."""
    by_name = sp.implied_demand(params=8.03e9, tokens=1.5e13)
    assert by_name.inference_tokens == sp.implied_demand(8.03e9, 1.5e13).inference_tokens
    with pytest.raises(ValueError, match="output_tokens") as err:
        sp.implied_demand(8.03e9, 1.5e13, costs=sp.CostModel(),
                          output_tokens=np.array([215.0, -1.0]))  # fmt: skip
    assert err.value.argument == "output_tokens" and err.value.index == 1


def test_a_request_weight_beyond_float64_is_refused_not_zero_requests():
    """Issue 23: `--output-tokens 1e308` made one request weigh inf token-equivalents and
    the command printed 0 requests with exit status 0."""
    costs = sp.CostModel()
    # The output term alone overflows, or the two finite terms' sum does.
    for lengths in ({"output_tokens": 1e308}, {"input_tokens": 1.7e308, "output_tokens": 9.5e306}):
        with pytest.raises(ValueError, match="output_tokens must be small enough") as err:
            sp.implied_demand(8.03e9, 1.5e13, costs=costs, **lengths)
        assert err.value.argument == "output_tokens"
    rows = sp.implied_demand([8.03e9] * 2, 1.5e13, costs=costs,
                             output_tokens=[215.0, 1e308], on_invalid="nan")  # fmt: skip
    assert math.isnan(rows.requests[1]) and not rows.exists[1]
    w_in, w_out = costs.demand_weights
    one = sp.implied_demand(8.03e9, 1.5e13)
    assert rows.requests[0] == pytest.approx(
        one.inference_tokens / (70 * w_in + 215 * w_out), rel=1e-14
    )
    r = _cli("--params", "8e9", "--tokens", "1.5e13", "--output-tokens", "1e308")
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and not r.stdout and len(lines) == 1
    assert "--output-tokens must be small enough" in lines[0]


def test_a_request_count_below_the_smallest_normal_is_refused_not_subnormal():
    # Just past the Chinchilla ratio the demand is a fraction of a token; split into
    # requests weighing 1.6e308 token-equivalents each it would be a subnormal count.
    d = sp.chinchilla_optimal(params=7e9).tokens * (1 + 1e-12)
    costs = sp.CostModel()
    assert 0 < sp.implied_demand(7e9, d).inference_tokens < 1
    with pytest.raises(ValueError, match="under one float64-normal request") as err:
        sp.implied_demand(7e9, d, costs=costs, output_tokens=9e306)
    assert err.value.argument == "output_tokens" and err.value.index == 0
    rows = sp.implied_demand([7e9, 7e9], [d, 2e12], costs=costs, output_tokens=9e306,
                             on_invalid="nan")  # fmt: skip
    assert math.isnan(rows.requests[0]) and rows.requests[1] >= np.finfo(float).tiny


def test_an_overflowing_request_blames_the_term_that_overflowed():
    """With prefill at 5% MFU a prompt token weighs 3.67 training tokens (w_in > 1), so
    an input length of 1e308 alone overflows one request's demand and is named; an
    output length of 1e308 is named as before. Mutation testing (2026-12-07) found the
    input-side blame untested (the default weights never reach it)."""
    costs = sp.CostModel(prefill_mfu=0.05)
    assert costs.demand_weights[0] > 1
    for inp, out, name in ((1e308, 215.0, "input_tokens"), (70.0, 1e308, "output_tokens")):
        with pytest.raises(sp.ScaleplanError, match=f"^{name} must be small enough") as err:
            sp.implied_demand(8.03e9, 2e12, costs=costs, input_tokens=inp, output_tokens=out)
        assert err.value.argument == name
    rows = sp.implied_demand(8.03e9, 2e12, costs=costs, input_tokens=[1e308, 70.0],
                             on_invalid="nan")  # fmt: skip
    assert np.isnan(rows.requests[0]) and np.isfinite(rows.requests[1])


def test_the_row_masks_at_their_edges():
    """Mutation gaps of the full run (2026-12-07) in `implied_demand`'s row masks:
    - a model trained exactly to its Chinchilla-optimal tokens needs no inference: its
      demand and request count are 0, and it exists (0 requests is no underflow);
    - `exists` is a boolean array (an integer one would index, not mask);
    - an overflow names the first overflowing row and says how far past the
      Chinchilla-optimal tokens the model is;
    - with prompt tokens heavier than training tokens (w_in > 1) a moderate prompt's own
      term stays finite, so an overflowing output length is still the one blamed."""
    n = 8.03e9
    d_ch = sp.chinchilla_optimal(params=n).tokens
    at = sp.implied_demand(n, d_ch, costs=sp.CostModel())
    assert (at.inference_tokens, at.requests, at.exists) == (0.0, 0.0, True)
    rows = sp.implied_demand([n, n], [2e12, d_ch])
    assert rows.exists.dtype == np.bool_ and rows.exists.tolist() == [True, True]
    for costs in (None, sp.CostModel()):  # one row overflows
        rows = sp.implied_demand([n, n], [2e12, 1e308], costs=costs, on_invalid="nan")
        assert rows.exists.dtype == np.bool_ and rows.exists.tolist() == [True, False]
    ratio = re.escape(f"{1e308 / d_ch:.3g}")
    with pytest.raises(sp.ScaleplanError, match=f"tokens 1e\\+308 is {ratio} times") as err:
        sp.implied_demand(n, [2e12, 1e308, 1e308])
    assert err.value.index == 1
    heavy = sp.CostModel(prefill_mfu=0.05)
    with pytest.raises(sp.ScaleplanError, match="^output_tokens must be small enough"):
        sp.implied_demand(n, 2e12, costs=heavy, input_tokens=1000.0, output_tokens=1e308)
