"""`--law joint-moe --experts N|auto`: the MoE law at an expert count on the commands that
size by FLOPs or dollars, the cheapest count, and every misuse one line with status 2."""

from __future__ import annotations

import json

import pytest
from inprocess import run_cli

from scaleplan import JOINT_MOE, chinchilla_optimal, compute_optimal, expert_optimal


def ok_json(*args: str) -> dict:
    r = run_cli((*args, "--json"))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_compute_optimal_at_an_expert_count_is_the_law_at_that_count():
    data = ok_json("compute-optimal", "--law", "joint-moe", "--experts", "32", "--loss", "2.3",
                   "--inference-tokens", "1e12")  # fmt: skip
    want = compute_optimal(2.3, 1e12, law=JOINT_MOE, experts=32)
    assert data["law"] == "joint-moe E=32" and data["experts"] == 32
    assert data["optimal"]["params"] == want.params
    assert data["optimal"]["tokens"] == want.tokens


def test_chinchilla_optimal_reproduces_table_1():
    data = ok_json("chinchilla-optimal", "--law", "joint-moe", "--experts", "32",
                   "--compute", "1e20")  # fmt: skip
    assert data["params"] == chinchilla_optimal(compute=1e20, law=JOINT_MOE.at(32)).params
    assert 660e6 < data["params"] < 680e6  # the paper's 669M


def test_auto_compares_every_count():
    data = ok_json("compute-optimal", "--law", "joint-moe", "--experts", "auto", "--loss", "2.3",
                   "--inference-tokens", "1e12", "--memory", "4")  # fmt: skip
    want = expert_optimal(2.3, 1e12, memory_bytes=4e9)
    assert data["experts"] == want.experts == 4
    assert [c["experts"] for c in data["candidates"]] == [1, 2, 4, 8, 16, 32]
    assert data["optimal"]["total_flops"] == want.total_flops
    assert data["flop_saving"] == pytest.approx(want.flop_saving, rel=1e-15)


@pytest.mark.parametrize(
    "args, message",
    [
        (("compute-optimal", "--experts", "4"), "needs a mixture-of-experts law"),
        (("cost-optimal", "--experts", "4", "--law", "epoch2024"), "--law joint-moe"),
        (("compute-optimal", "--law", "joint-moe", "--experts", "0"), "--experts"),
        (("compute-optimal", "--law", "joint-moe", "--experts", "2.5"), "--experts"),
        (("cost-optimal", "--law", "joint-moe", "--experts", "auto"), "--experts"),
        (("compute-optimal", "--law", "joint-moe", "--memory", "4"), "--experts auto"),
        (("compute-optimal", "--experts", "auto"), "--law joint-moe"),
        (("compute-optimal", "--law", "joint-moe", "--experts", "auto", "--memory", "0"),
         "--memory"),
        (("compute-optimal", "--law", "joint-moe", "--experts", "auto", "--memory", "0.001",
          "--loss", "2.3"), "no expert count"),
        (("compute-optimal", "--law", "joint-moe", "--experts", "auto", "--unique-tokens",
          "1e10"), "--unique-tokens"),
        (("compute-optimal", "--law", "joint-moe", "--experts", "8", "--loss", "1.3"),
         "--loss"),
    ],
)  # fmt: skip
def test_misuse_is_one_line(args, message):
    r = run_cli(args)
    assert r.returncode == 2, (r.returncode, r.stdout)
    assert r.stdout == "" and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr


def test_plan_over_experts_in_dollars():
    from scaleplan import chinchilla_optimal

    full = ok_json("plan", "--law", "joint-moe", "--experts", "8")
    # The default target: as good as a Chinchilla-optimal dense 7B under the law at E = 1.
    assert full["loss"] == chinchilla_optimal(params=7e9, law=JOINT_MOE.at(1)).loss
    assert full["requests"] == 3.65e9  # 10M a day for a year, plan's defaults
    # The plan's dense models under the law's E = 1 limit, then the expert choice.
    assert full["law"] == JOINT_MOE.at(1).name and "recommendation" in full["models"]
    data = full["experts"]
    counts = data["candidates"]
    assert [c["experts"] for c in counts] == [1, 8]
    cheapest = min(counts, key=lambda c: c["total_dollars"])
    assert data["experts"] == cheapest["experts"] == 8
    assert data["optimal"]["total_dollars"] == cheapest["total_dollars"]
    assert data["dense_total_dollars"] == counts[0]["total_dollars"]
    assert data["saving"] == pytest.approx(
        1 - cheapest["total_dollars"] / counts[0]["total_dollars"]
    )
    assert data["why"].startswith("8 experts: ")
    r = run_cli(("plan", "--experts", "auto"))
    assert r.returncode == 2 and "--law joint-moe" in r.stderr
