"""Regression tests for every case issue 23 reproduced: a hang, silent wrong answers,
wrong exception classes and messages that blamed the wrong input."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest

import scaleplan as sp
from scaleplan import ScaleplanError
from scaleplan.arch import policy, shapes
from scaleplan.fitting.family_comparison import compare_families
from scaleplan.fitting.isoflop import isoflop_fit
from scaleplan.fitting.likelihood_bootstrap import bootstrap_likelihood, test_law
from scaleplan.fitting.nextrun import next_run
from scaleplan.optimal.physical_optimum import whole_gpu_plan
from scaleplan.systems import physical

SHAPE = shapes.TransformerShape(d_model=4096, n_layers=32, n_heads=32)


def blame(call) -> ScaleplanError:
    with pytest.raises(ScaleplanError) as info:
        call()
    return info.value


@pytest.mark.timeout(60)
def test_the_data_constrained_search_that_never_ended_now_stops():
    # Ran for over ten minutes of CPU and ignored Ctrl-C: a NaN first feasible D made
    # the bracket search step by NaN for ever. Run in a child so a regression cannot hang
    # the suite itself.
    code = (
        "import scaleplan as sp\n"
        "law = sp.DataConstrainedLaw(sp.ScalingLaw(E=1e-30, A=1.7e308, B=1.7e308,"
        " alpha=10.0, beta=2.0))\n"
        "try:\n"
        "    sp.compute_optimal(2.127, 1e12, law=law, unique_tokens=1e11)\n"
        "except sp.ScaleplanError as e:\n"
        "    print('refused:', e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, env=os.environ
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("refused:") and "float64" in out.stdout


def test_a_huge_repetition_constant_never_drops_the_loss_below_the_plain_law():
    plain = sp.CHINCHILLA.loss(7e9, 2e12)
    for rd_star in (15.4, 1e10, 1e150, 1e297, 1.7e308):
        dc = sp.DataConstrainedLaw(sp.CHINCHILLA, rd_star=rd_star)
        got = dc.loss(7e9, 2e12, 1e12)
        # With R_D* -> infinity repeated tokens count fully: the plain law's loss.
        assert plain <= got <= plain * (1 + 1e-12) or rd_star < 1e10, (rd_star, got)
        assert got >= plain
    r = sp.compute_optimal(2.1, 1e12, law=sp.DataConstrainedLaw(sp.CHINCHILLA, rd_star=1e297),
                           unique_tokens=1e10)  # fmt: skip
    assert math.isfinite(r.effective_tokens) and r.effective_tokens <= r.tokens


def test_no_latency_target_is_never_dearer_than_a_target():
    # Once 467 GPUs for $11.0M without a target against 6 for $141k with 50 ms.
    free = physical.serving_plan(SHAPE, requests_per_day=1e6, days=365.0, tpot_seconds=None)
    bound = physical.serving_plan(SHAPE, requests_per_day=1e6, days=365.0, tpot_seconds=0.05)
    assert free.gpus <= bound.gpus and free.dollars <= bound.dollars
    assert free.batch_size >= bound.batch_size
    # The prefill is one prompt at a time either way: the TTFT does not change.
    assert free.ttft_seconds == bound.ttft_seconds


@pytest.mark.parametrize(
    "field, value, argument",
    [
        ("num_hidden_layers", 32.9, "num_hidden_layers"),
        ("num_hidden_layers", "32", "num_hidden_layers"),
        ("num_local_experts", 8.0, "config"),  # a float expert count is still experts
        ("num_local_experts", "8", "num_local_experts"),
        ("head_dim", True, "head_dim"),
        ("head_dim", 0, "head_dim"),
    ],
)
def test_hf_configs_are_read_exactly(field, value, argument):
    config = dict(
        model_type="llama",
        hidden_size=4096,
        num_hidden_layers=32,
        num_attention_heads=32,
        intermediate_size=11008,
        vocab_size=32000,
    )
    assert (
        blame(lambda: shapes.TransformerShape.from_hf_config({**config, field: value})).argument
        == argument
    )
    # An integral float is the same whole number in JSON.
    same = shapes.TransformerShape.from_hf_config({**config, "num_hidden_layers": 32.0})
    assert same == shapes.TransformerShape.from_hf_config(config)


def test_hostile_config_files_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)  # reading it would block for ever
    assert "not a regular file" in str(blame(lambda: shapes.TransformerShape.from_hf_config(fifo)))
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)  # once a RecursionError
    assert blame(lambda: shapes.TransformerShape.from_hf_config(deep)).argument == "config"
    nan = tmp_path / "nan.json"
    nan.write_text('{"model_type": "llama", "hidden_size": NaN}')
    assert "not valid JSON" in str(blame(lambda: shapes.TransformerShape.from_hf_config(nan)))
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00")
    assert "not UTF-8" in str(blame(lambda: shapes.TransformerShape.from_hf_config(binary)))
    assert blame(lambda: shapes.TransformerShape.from_hf_config("/dev/zero")).argument == "config"


def _iso_runs():
    n = np.tile(np.geomspace(1e8, 1e10, 7), 3)
    c = np.repeat([1e20, 1e21, 1e22], 7)
    return n, c / (6 * n), sp.CHINCHILLA.loss(n, c / (6 * n))


def test_isoflop_refuses_nan_losses_and_reversed_confidence():
    n, d, loss = _iso_runs()
    loss[3] = np.nan  # once accepted, and it moved the answer
    assert blame(lambda: isoflop_fit(n, d, loss, budgets=(1e20, 1e21, 1e22))).argument == "loss"
    n, d, loss = _iso_runs()
    for confidence in (-1, 0.0, 1.0, 1.5, float("nan")):
        err = blame(lambda c=confidence: isoflop_fit(n, d, loss, budgets=(1e20, 1e21, 1e22),
                                                      confidence=c))  # fmt: skip
        assert err.argument == "confidence"


def test_implied_demand_never_reports_an_infinite_or_negative_demand():
    err = blame(lambda: sp.implied_demand(8.03e9, 1e308))
    assert err.argument == "tokens" and "beyond float64" in str(err)
    costs = sp.CostModel()
    for bad in (-5.0, float("nan"), 5e-324):
        call = lambda b=bad: sp.implied_demand(8.03e9, 1.5e13, costs=costs, output_tokens=b)  # noqa: E731
        assert blame(call).argument == "output_tokens"
    rows = sp.implied_demand([8.03e9, 8.03e9], [1.5e13, 1e308], on_invalid="nan")
    assert rows.exists.tolist() == [True, False] and np.isnan(rows.inference_tokens[1])


def test_plans_never_return_infinite_days_or_prices():
    err = blame(lambda: physical.training_plan(SHAPE, 1e308))
    assert err.argument == "tokens"
    err = blame(lambda: physical.serving_plan(SHAPE, requests_per_day=5e-324, days=365.0))
    assert err.argument == "requests_per_day" and "2.2e-308" in str(err)


def test_next_run_refuses_budgets_too_small_for_a_model():
    runs = sp.datasets.sardana2024_runs()
    kw = dict(target_loss=2.1, inference_tokens=1e12)
    assert blame(lambda: next_run(runs, flops=5e-324, **kw)).argument == "flops"
    assert blame(lambda: next_run(runs, flops=1e-300, **kw)).argument == "flops"


@pytest.mark.parametrize(
    "change, argument",
    [
        (dict(groups=np.full(24, np.nan)), "groups"),
        (dict(groups=np.arange(12)), "groups"),  # shorter than the runs
        (dict(groups=np.zeros(24)), "groups"),  # one group: nothing held out
        (dict(folds=1), "folds"),
        (dict(folds=True), "folds"),
    ],
)
def test_compare_families_refuses_held_out_errors_that_are_not(change, argument):
    n = np.tile(np.geomspace(5e7, 2e9, 8), 3)
    d = np.repeat([1e19, 1e20, 1e21], 8) / (6 * n)
    kw = dict(params=n, tokens=d, loss=sp.CHINCHILLA.loss(n, d), groups=np.repeat([1, 2, 3], 8),
              folds=3, families=("gadre",))  # fmt: skip
    assert blame(lambda: compare_families(**{**kw, **change})).argument == argument


def test_test_law_takes_preset_names_and_refuses_a_singular_bootstrap():
    runs = sp.datasets.chinchilla_runs()
    boot = bootstrap_likelihood(runs, n_resamples=3, seed=0)  # 3 < 5 parameters
    assert blame(lambda: test_law(boot, runs, law="epoch2024")).argument == "boot"
    assert blame(lambda: test_law(boot, runs, law=True)).argument == "law"
    assert blame(lambda: test_law("boot", runs)).argument == "boot"


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: physical.training_plan(SHAPE, 1e12, gpus=True), "gpus"),
        (lambda: physical.training_plan(SHAPE, 1e12, gpus=8.0), "gpus"),
        (lambda: physical.training_plan(SHAPE, 1e12, mfu="0.5"), "mfu"),
        (lambda: physical.serving_plan(SHAPE, requests_per_day="1", days=1.0), "requests_per_day"),
        (lambda: physical.serving_plan(SHAPE, requests_per_day=1e6, days=10**400), "days"),
        (lambda: physical.serving_plan(SHAPE, requests_per_day=1e6, days=1.0, gpu="tpu"), "gpu"),
        (lambda: sp.serving.decode(SHAPE, batch_size=2.5), "batch_size"),
        (lambda: sp.serving.decode(SHAPE, batch_size=True), "batch_size"),
        (lambda: sp.serving.decode(SHAPE, context_tokens=-1), "context_tokens"),
        (lambda: sp.serving.prefill(SHAPE, prompt_tokens=0), "prompt_tokens"),
        (lambda: sp.serving.decode(False), "shape"),
        (lambda: sp.CostModel(train_gpu="tpu-v9"), "train_gpu"),
        (lambda: sp.CostModel(inference_precision="fp8"), "inference_precision"),
        (lambda: sp.ScalingLaw(1.69, 5e-324, 410.7, 0.34, 0.28), "A"),
        (lambda: sp.DataConstrainedLaw(sp.CHINCHILLA, rd_star=10**400), "rd_star"),
        (lambda: policy.shape_for_params(7e9, aspect=2.5), "aspect"),
        (lambda: shapes.TransformerShape(512, 4, 8, extra_params=np.ones(3)), "extra_params"),
    ],
)
def test_wrong_types_are_scaleplan_errors_naming_the_argument(call, argument):
    assert blame(call).argument == argument


def test_every_result_and_value_class_is_frozen():
    # Results are values: a caller cannot edit one and a cached one cannot drift.
    import dataclasses
    import importlib
    import pkgutil

    import scaleplan

    thawed = []
    for info in pkgutil.iter_modules(scaleplan.__path__):
        if info.name in ("__main__", "measure", "reproduce_figures", "cli", "dask"):
            continue
        module = importlib.import_module(f"scaleplan.{info.name}")
        for obj in vars(module).values():
            if (isinstance(obj, type) and dataclasses.is_dataclass(obj)
                    and obj.__module__ == module.__name__
                    and not obj.__dataclass_params__.frozen):  # fmt: skip
                thawed.append(f"{module.__name__}.{obj.__name__}")
    assert not thawed


@pytest.mark.timeout(120)
def test_a_failed_scheduler_does_not_capture_later_sweeps(tmp_path, capsys):
    """Found by the fresh-clone CI run: distributed registers a Client as dask's default
    before it connects, so after `--scheduler=-1` failed, a later local sweep in the same
    interpreter asked the dead client for work and failed with its address."""
    from scaleplan import cli

    base = ["sweep", "--loss", "2.1", "--inference-tokens", "1e12"]
    assert cli.main([*base[:1], str(tmp_path / "a.zarr"), *base[1:], "--scheduler=-1"]) == 2
    assert "--scheduler" in capsys.readouterr().err
    assert cli.main([*base[:1], str(tmp_path / "b.zarr"), *base[1:]]) == 0
    assert "on this process" in capsys.readouterr().out


def test_whole_gpu_plan_names_both_sides_of_an_unreachable_loss():
    err = blame(lambda: whole_gpu_plan(2.1, 1e6, requests_per_day=1e6, days=365))
    assert err.argument == "loss" and "params=1e+06" in str(err) and "loss=2.1" in str(err)


def test_a_policy_shape_that_cannot_train_is_blamed_on_params():
    """Found by test_any_number_anywhere: physical_plan(params=6.97e12) derived a shape
    whose micro-batch does not fit an H100 and blamed `batch_size`, which it was never
    given; a derived shape's faults belong to `params` (a given shape's stay its own)."""
    n = 6972242372609.0
    err = blame(lambda: physical.physical_plan(n, 1e12, requests_per_day=1e6, days=365))
    assert err.argument == "params" and "params=6.97e+12" in str(err)
    big = policy.shape_for_params(n)
    err = blame(lambda: physical.physical_plan(n, 1e12, shape=big, requests_per_day=1e6, days=365))
    assert err.argument == "batch_size"
    err = blame(lambda: whole_gpu_plan(1.75, 7e12, requests_per_day=1e6, days=365))
    assert err.argument == "params" and "micro-batch" in str(err)


def test_an_unservable_size_names_its_params():
    n = 2e12  # no group of up to 64 H100s serves it within 50 ms a token
    err = blame(lambda: physical.physical_plan(n, 1e12, requests_per_day=1e6, days=365))
    assert err.argument == "tpot_seconds" and "params=2e+12" in str(err)
    assert "285-token context" in str(err)  # 70 prompt + 215 generated tokens
