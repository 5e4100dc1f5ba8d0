"""`replicas`, the vectorised roofline table behind every serving plan, at its edges:
the batch memory allows when no TPOT is asked (down to exactly one sequence), the TTFT
filter at its boundary, and the whole-token context (mutation testing, 2026-12-07, found
these untested)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import scaleplan as sp
from scaleplan.systems.replicas import context_tokens, replicas
from scaleplan.systems.serving import decode, prefill


def test_without_a_tpot_the_batch_is_what_memory_holds_down_to_one_sequence():
    # Llama-2-70B over two H100s with a 10,000-token context holds exactly one sequence
    # under the 2023 profile (the weights take 140 of the 144 GB it lets them fill); the
    # 7B holds 24.
    dep = sp.Deployment(tensor_parallel=2, input_tokens=70, output_tokens=9930,
                        tpot_seconds=None, engine="trtllm-2023")  # fmt: skip
    got = replicas(["llama-2-70b", "llama-2-7b"], dep)
    room = decode(["llama-2-70b", "llama-2-7b"], context_tokens=10_000, tensor_parallel=2,
                  efficiency=dep.efficiency)  # fmt: skip
    np.testing.assert_array_equal(got.batch_size[:, 0], room.max_batch_size)
    assert got.batch_size[0, 0] == 1.0 and got.batch_size[1, 0] > 1
    step = decode("llama-2-70b", batch_size=1, context_tokens=10_000, tensor_parallel=2,
                  efficiency=dep.efficiency)  # fmt: skip
    assert got.seconds_per_token[0, 0] == step.seconds
    # A context no memory holds is NaN in its row, the other row kept.
    far = sp.Deployment(tensor_parallel=2, input_tokens=70, output_tokens=20_000,
                        tpot_seconds=None, engine="trtllm-2023")  # fmt: skip
    got = replicas(["llama-2-70b", "llama-2-7b"], far)
    assert math.isnan(got.batch_size[0, 0]) and got.batch_size[1, 0] >= 1


def test_a_one_token_prompt_is_prefilled_and_a_ttft_target_is_met_at_equality():
    dep = sp.Deployment(tensor_parallel=1, input_tokens=1, output_tokens=100)
    got = replicas(["llama-2-7b"], dep)
    first = prefill("llama-2-7b", prompt_tokens=1).seconds
    assert got.ttft_seconds[0, 0] == first > 0
    exact = sp.Deployment(tensor_parallel=1, input_tokens=1, output_tokens=100,
                          ttft_seconds=first)  # fmt: skip
    assert replicas(["llama-2-7b"], exact).ttft_seconds[0, 0] == first
    tight = sp.Deployment(tensor_parallel=1, input_tokens=1, output_tokens=100,
                          ttft_seconds=first * (1 - 1e-9))  # fmt: skip
    assert math.isnan(replicas(["llama-2-7b"], tight).ttft_seconds[0, 0])


def test_a_fractional_prompt_is_prefilled_in_whole_tokens_like_the_context():
    # The context rounds input + output to whole tokens; the prompt follows the same rule,
    # so a mean of 0.7 tokens is a one-token prefill and a mean of 0.4 none.
    first = prefill("llama-2-7b", prompt_tokens=1).seconds
    for mean, expected in ((0.7, first), (1.4, first), (0.4, 0.0)):
        dep = sp.Deployment(tensor_parallel=1, input_tokens=mean, output_tokens=100)
        assert replicas(["llama-2-7b"], dep).ttft_seconds[0, 0] == expected


def test_the_context_is_whole_tokens_below_2_53():
    assert context_tokens(2.0**52, 1.0) == 2**52 + 1
    assert context_tokens(70, 215.4) == 285
    for total in (2.0**53, 2.0**54, math.inf, math.nan):
        with pytest.raises(sp.ScaleplanError, match="beyond any context") as err:
            context_tokens(total, 0.0)
        assert err.value.argument == "output_tokens"
