"""One vocabulary across commands: --loss or --as-good-as, --requests-per-day x --days,
one default each; the old names still work for a release, saying so once. In process."""

from __future__ import annotations

import json

import pytest

import scaleplan as sp
from scaleplan.cli import main


def cli(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_chinchilla_params_is_a_deprecated_as_good_as(capsys):
    code, out, err = cli(capsys, "compute-optimal", "--chinchilla-params", "13e9", "--json")
    assert code == 0
    assert err.strip().splitlines() == ["--chinchilla-params is deprecated; use --as-good-as"]
    _, same, err = cli(capsys, "compute-optimal", "--as-good-as", "13e9", "--json")
    assert json.loads(out) == json.loads(same) and err == ""


def test_lifetime_requests_is_deprecated_and_means_lifetime(capsys):
    code, out, err = cli(capsys, "cost-optimal", "--requests", "7.02e9", "--json")
    assert code == 0 and json.loads(out)["requests"] == 7.02e9
    assert err.strip().splitlines() == [
        "--requests is deprecated; use --requests-per-day and --days"
    ]
    _, same, _ = cli(capsys, "cost-optimal", "--requests-per-day", "7.02e9", "--days", "1",
                     "--json")  # fmt: skip
    assert json.loads(out) == json.loads(same)


@pytest.mark.parametrize("other", [["--requests-per-day", "1e7"], ["--days", "30"]])
def test_lifetime_requests_with_the_per_day_demand_is_an_error(capsys, other):
    code, out, err = cli(capsys, "cost-optimal", "--requests", "1e9", *other)
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"scaleplan cost-optimal: error: give {other[0]} (and --days) or the lifetime "
        "--requests, not both"
    ]


def test_the_demand_is_the_same_on_every_command(capsys):
    # 1e6 requests a day for 30 days of 100 + 400 tokens: FLOP-, dollar- and budget views.
    demand = ("--requests-per-day", "1e6", "--days", "30", "--input-tokens", "100",
              "--output-tokens", "400")  # fmt: skip
    loss = sp.chinchilla_optimal(params=7e9).loss
    _, out, _ = cli(capsys, "compute-optimal", *demand, "--json")
    assert json.loads(out)["inference_tokens"] == pytest.approx(3e7 * 500)
    _, out, _ = cli(capsys, "cost-optimal", *demand, "--json")
    want = sp.cost_optimal(loss, 3e7, 100, 400)
    assert json.loads(out)["optimal"]["params"] == pytest.approx(want.params, rel=1e-12)
    _, out, _ = cli(capsys, "best-quality", "--budget", "1e6", *demand, "--json")
    lib = sp.best_quality(dollar_budget=1e6, requests=3e7, input_tokens=100, output_tokens=400)
    assert json.loads(out)["loss"] == pytest.approx(lib.loss, rel=1e-12)
    _, out, _ = cli(capsys, "best-quality", "--budget", "1e23", "--flops", *demand, "--json")
    flops = sp.best_quality(flop_budget=1e23, inference_tokens=3e7 * 500)
    assert json.loads(out)["loss"] == pytest.approx(flops.loss, rel=1e-12)


def test_inference_tokens_is_the_lifetime_alternative(capsys):
    code, _, err = cli(capsys, "compute-optimal", "--inference-tokens", "2e12", "--days", "3")
    assert code == 2 and "give --inference-tokens or --days, not both" in err
