"""The command line end to end: each command's argv through `scaleplan.cli.main` in this
process (tests/inprocess.py: exit status, stdout, and stderr with any warning a process
would print), and the main job through the installed console script itself."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from inprocess import FAMILIES_GROUP, run_cli, run_cli_once

import scaleplan as sp

EXE = shutil.which("scaleplan")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(args)


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed console script in a child process (`python -m scaleplan` without one)."""
    cmd = [EXE] if EXE else [sys.executable, "-m", "scaleplan"]
    return subprocess.run(
        [*cmd, *args], capture_output=True, text=True, timeout=600
    )  # a hang guard


def test_figure_1_through_the_options():
    # Sardana et al., Figure 1: a 13B-Chinchilla-quality model with 2T tokens of demand is
    # best trained as a ~7B model, saving ~17% (1.7e22) of lifetime FLOPs.
    figure_1 = ("--as-good-as", "13e9", "--inference-tokens", "2e12")
    r = run("compute-optimal", *figure_1, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["optimal"]["params"] == pytest.approx(7e9, rel=0.01)
    assert data["flop_saving"] == pytest.approx(0.17, abs=0.005)
    saved = data["chinchilla"]["total_flops"] - data["optimal"]["total_flops"]
    assert saved == pytest.approx(1.7e22, rel=0.02)
    table = run("compute-optimal", *figure_1).stdout
    assert "Chinchilla-style" in table and "saves 17.4%" in table


def test_defaults_are_the_common_target_and_demand():
    # One default each on every command: as good as a Chinchilla-optimal 7B, 1e7 requests
    # a day for 365 days of 70 + 215 tokens.
    loss = sp.chinchilla_optimal(params=7e9).loss
    data = json.loads(run("compute-optimal", "--json").stdout)
    lib = sp.compute_optimal(loss, 1e7 * 365 * (70 + 215))
    assert data["loss"] == loss and data["optimal"]["params"] == pytest.approx(lib.params)
    cost = json.loads(run("cost-optimal", "--json").stdout)
    assert cost["requests"] == pytest.approx(1e7 * 365)
    assert cost["optimal"]["params"] == pytest.approx(sp.cost_optimal(loss, 1e7 * 365).params)


def test_json_matches_library():
    r = run("compute-optimal", "--loss", "1.947", "--inference-tokens", "2e12", "--json")
    data = json.loads(r.stdout)
    lib = sp.compute_optimal(1.947, 2e12)
    assert data["optimal"]["params"] == lib.params
    assert data["chinchilla"]["tokens"] == lib.chinchilla.tokens


def test_chinchilla_and_presets():
    data = json.loads(run("chinchilla", "--params", "70e9", "--json").stdout)
    assert data["tokens"] == pytest.approx(4.255e12, rel=1e-3)
    data = json.loads(run("chinchilla", "--compute", "1e24", "--law", "epoch2024", "--json").stdout)
    assert data["training_flops"] == pytest.approx(1e24)
    presets = json.loads(run("presets", "--json").stdout)
    assert presets["chinchilla"]["beta"] == 0.283


@pytest.mark.parametrize(
    "args, message",
    [
        (["compute-optimal", "--loss", "1.5"], "loss must be finite and greater"),
        (["compute-optimal", "--loss", "nan"], "argument --loss: must be a finite number"),
        (
            ["compute-optimal", "--inference-tokens", "-1"],
            "--inference-tokens: must be a finite number >= 0",
        ),
        (["compute-optimal", "--loss", "abc"], "argument --loss: must be a number; got 'abc'"),
        (["compute-optimal", "--law", "gpt"], "must be a preset (chinchilla, "),
        (["compute-optimal", "--loss", "2", "--as-good-as", "7e9"], "not both"),
        (["chinchilla"], "exactly one of --params, --loss or --compute"),
        (["chinchilla", "--params", "-3"], "argument --params: must be a finite number > 0"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_arguments_are_one_line(args, message):
    r = run(*args)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_cost_optimal_table3_row_4_through_the_cli():
    r = run(
        "cost-optimal", "--table3", "--as-good-as", "30e9", "--requests-per-day", "17.5e9",
        "--days", "1", "--json",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["optimal"]["params"] == pytest.approx(8.58e9, rel=0.03)
    assert data["optimal"]["total_dollars"] == pytest.approx(4.52e6, rel=0.03)
    assert data["saving"] == pytest.approx(0.58, abs=0.01)
    assert data["costs"]["inference_price_per_hour"] == 1.0
    text = run("cost-optimal").stdout
    assert "decode GPU-hours" in text and "saves" in text


def test_best_quality_and_hardware():
    data = json.loads(
        run("best-quality", "--budget", "1e23", "--inference-tokens", "1e12", "--json").stdout
    )
    assert data["loss"] == pytest.approx(sp.best_quality(1e23, 1e12).loss)
    dollars = json.loads(
        run(
            "best-quality", "--budget", "1e6", "--requests-per-day", "1e9", "--days", "1", "--json"
        ).stdout
    )
    assert dollars["unit"] == "dollars" and dollars["loss"] > 1.69
    hw = json.loads(run("hardware", "--json").stdout)
    assert hw["h100-sxm"]["peak_flops"]["bf16"] == 989e12
    assert "Lambda" in run("hardware").stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["cost-optimal", "--train-mfu", "2"], "argument --train-mfu: must be a number in (0, 1]"),
        (["cost-optimal", "--inference-precision", "fp8"], "a100-40gb has no 'fp8' peak"),
        (["cost-optimal", "--requests", "-1"], "argument --requests: must be a finite number >= 0"),
        (
            ["cost-optimal", "--train-price", "0"],
            "argument --train-price: must be a finite number > 0",
        ),
        (["cost-optimal", "--train-gpu", "tpu"], "must be an accelerator (a100-40gb, "),
        (["cost-optimal", "--table3", "--train-price", "2"], "--table3 fixes the prices"),
        (
            ["best-quality", "--budget", "1e23", "--inference-tokens", "1e12", "--days", "3"],
            "give --inference-tokens or --days, not both",
        ),
        (
            ["best-quality", "--budget", "-5", "--inference-tokens", "1e9"],
            "argument --budget: must be",
        ),
    ],
)
def test_bad_cost_arguments_are_one_line(args, message):
    r = run(*args)
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr


def test_fit_dataset_and_csv(tmp_path):
    data = json.loads(run("fit", "--dataset", "sardana2024", "--json").stdout)
    assert data["points"] == 47 and data["beta"] == pytest.approx(0.234, abs=0.005)
    runs = sp.datasets.sardana2024_runs(250)
    path = tmp_path / "runs.csv"
    rows = zip(runs.params, runs.tokens, runs.loss, strict=True)
    lines = ["n,d,l"] + [f"{n},{d},{loss}" for n, d, loss in rows]
    path.write_text("\n".join(lines))
    out = run(
        "fit",
        str(path),
        "--params-col",
        "n",
        "--tokens-col",
        "d",
        "--loss-col",
        "l",
        "--bootstrap",
        "20",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    fitted = json.loads(out.stdout)
    assert fitted["alpha"] == pytest.approx(0.131, abs=0.005)
    assert set(fitted["intervals"]) == {"E", "A", "B", "alpha", "beta"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["fit"], "give a CSV file or --dataset"),
        (["fit", "/no/such.csv"], "cannot read /no/such.csv"),
        (["fit", "--dataset", "gpt"], "invalid choice"),
        (
            ["fit", "--dataset", "chinchilla", "--workers", "0"],
            "argument --workers: must be an integer in [1, ",
        ),
        # A column name with a shipped data set was once ignored; it names a CSV column.
        (
            ["fit", "--dataset", "sardana2024", "--params-col", "n"],
            "--params-col names a column of a CSV file; --dataset sardana2024 has its own",
        ),
        (
            ["next-run", "--dataset", "chinchilla", "--flops", "1e21", "--loss-col", "l"],
            "--loss-col names a",
        ),
        (["isoflop", "--dataset", "chinchilla", "--tokens-col", "d"], "--tokens-col names a"),
    ],
)
def test_bad_fit_arguments(args, message):
    r = run(*args)
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_step_time_and_best_shapes():
    data = json.loads(
        run(
            "step-time",
            "--d-model",
            "4096",
            "--n-layers",
            "32",
            "--d-ff",
            "11008",
            "--seq-len",
            "4096",
            "--batch-size",
            "1",
            "--hours",
            "24",
            "--json",
        ).stdout
    )
    assert data["params"] == pytest.approx(6.74e9, rel=0.005)
    assert data["loss"] > 1.69 and data["step_seconds"] > 0
    best = json.loads(
        run("best-shapes", "--hours", "24", "--max-params", "2e9", "--top", "3", "--json").stdout
    )
    assert len(best["best"]) == 3 and all(b["params"] <= 2e9 for b in best["best"])
    measured = run("best-shapes", "--hours", "1", "--measured", "--vocab", "4096")
    assert measured.returncode == 0 and "fitted to 72 measured steps" in measured.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["step-time", "--d-model", "100", "--n-layers", "2", "--n-heads", "3"],
            "--n-heads must divide",
        ),
        (
            ["step-time", "--d-model", "0", "--n-layers", "2"],
            "argument --d-model: must be an integer >= 1",
        ),
        (["best-shapes", "--hours", "-1"], "argument --hours: must be a finite number > 0"),
        (
            ["best-shapes", "--hours", "1", "--mfu", "2"],
            "argument --mfu: must be a number in (0, 1]",
        ),
    ],
)
def test_bad_step_time_arguments(args, message):
    r = run(*args)
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_plan_on_defaults():
    # The README's main job, through the console script: its JSON, and a bad value as one
    # line on the real stderr with exit status 2.
    r = run_script("plan", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    models = data["models"]
    assert next(iter(models)) == "recommendation"
    assert models["chinchilla_style"]["params"] == pytest.approx(7e9, rel=1e-3)
    # Each optimum is optimal for its own objective: FLOPs, the paper's constant-MFU
    # dollars, and the roofline's dollars on whole GPUs (the recommendation).
    assert models["compute_optimal"]["total_flops"] <= min(
        m["total_flops"] for m in models.values()
    )
    assert models["cost_optimal"]["paper_total_dollars"] <= min(
        m["paper_total_dollars"] for m in models.values()
    )
    assert models["recommendation"]["total_dollars"] <= min(
        m["total_dollars"] for m in models.values()
    )
    for m in models.values():
        assert m["total_dollars"] == m["physical"]["total_dollars"]
        assert m["paper_total_dollars"] == pytest.approx(
            m["paper_training_dollars"] + m["paper_inference_dollars"], rel=1e-15
        )
    assert data["cost_model"] in run("plan").stdout
    bad = run_script("plan", "--loss", "1.5")
    assert bad.returncode == 2 and bad.stdout == "" and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and "--loss" in bad.stderr


def test_plan_serves_as_the_deployment_options_say():
    """--tensor-parallel fixes every serving plan's degree; --kv-precision reaches the
    roofline (the same plan as the library's physical_plan with that Deployment)."""
    from scaleplan.systems import physical

    r = run("plan", "--json", "--tensor-parallel", "8", "--kv-precision", "bf16")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    models = data["models"]
    assert {m["physical"]["serving"]["tensor_parallel"] for m in models.values()} == {8}
    m = models["chinchilla_style"]
    # The CLI's defaults: an A100-40GB serving in int8, 365 days.
    dep = sp.Deployment.from_costs(sp.CostModel(), tensor_parallel=8, kv_precision="bf16")
    assert dep.accelerator.name == "a100-40gb" and dep.precision == "int8"
    want = physical.physical_plan(
        m["physical"]["params"],
        m["physical"]["tokens"],
        deployment=dep,
        requests_per_day=data["requests"] / 365.0,
        days=365.0,
    )
    assert m["physical"]["serving"] == vars(want.serving)
    int8 = physical.serving_plan(
        want.shape,
        dep.replace(kv_precision=None),
        requests_per_day=data["requests"] / 365.0,
        days=365.0,
    )
    # An 8-bit cache reads half the bytes of a 16-bit one: at the same TPOT target, more
    # sequences a step, and no slower a first token.
    assert int8.batch_size > want.serving.batch_size
    assert int8.ttft_seconds <= want.serving.ttft_seconds


# In-process (the console script itself is tested above): the families tables, most of
# `reproduce`'s time, come from the comparison computed once (tests/inprocess.py).
@FAMILIES_GROUP
def test_reproduce_writes_every_table_and_figure(tmp_path_factory, families_computed_once):
    # The command as docs/guide/cli.md shows it: one run in this process serves both the
    # page's test and this one (tests/inprocess.py).
    r, where = run_cli_once(["reproduce", "--out", "reproduction"], tmp_path_factory)
    assert r.returncode == 0, r.stderr
    tmp_path = where / "reproduction"
    files = {p.name for p in tmp_path.iterdir()}
    head, *listed = r.stdout.strip().splitlines()
    assert head == f"Wrote {len(files)} files to reproduction:"
    assert {line.strip().rsplit("/", 1)[-1] for line in listed} == files
    assert {
        "table1.md",
        "table2.csv",
        "table3.md",
        "figure2.png",
        "figure6.png",
        "training_share.png",
        "steptime_fit.png",
        "approach2.png",
        "optimal_experts.png",
    } <= files
    assert (tmp_path / "figure2.png").read_bytes()[:4] == b"\x89PNG"
    rows = (tmp_path / "table2.csv").read_text().splitlines()
    assert len(rows) == 6


@pytest.mark.parametrize(
    "args, message",
    [
        (["plan", "--law", "gpt"], "must be a preset (chinchilla, "),
        (
            ["plan", "--requests-per-day", "-5"],
            "argument --requests-per-day: must be a finite number > 0",
        ),
        (["plan", "--loss", "1.5"], "loss must be finite and greater than the law's"),
        (["plan", "--loss", "2", "--as-good-as", "7e9"], "not both"),
        (["plan", "--tensor-parallel", "3"], "invalid choice: 3"),
        (["plan", "--kv-precision", "fp3"], "invalid choice: 'fp3'"),
    ],
)
def test_bad_plan_arguments(args, message):
    r = run(*args)
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and message in r.stderr


def test_sweep_writes_zarr_and_parquet_equal_to_the_library(tmp_path):
    import scaleplan.dask as spd

    out = tmp_path / "grid.zarr"
    r = run("sweep", str(out), "--loss", "1.9:2.5:7", "--requests", "1e8:1e12:5:log", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["shape"] == [7, 5] and data["kind"] == "cost" and data["scenarios"] == 35
    loss, requests = np.linspace(1.9, 2.5, 7), np.geomspace(1e8, 1e12, 5)
    want = sp.cost_optimal(loss[:, None], requests[None, :])
    assert np.array_equal(spd.open_sweep(out).array("params").compute(), want.params)
    pq = tmp_path / "grid.parquet"
    r = run("sweep", str(pq), "--loss", "2.0,2.2", "--inference-tokens", "1e12", "--workers", "1")
    assert r.returncode == 0, r.stderr
    assert "Wrote 2 compute-optimal scenarios" in r.stdout and "local cluster of 1" in r.stdout
    frame = spd.open_sweep(pq).frame().compute().sort_values("loss")
    assert np.array_equal(frame["params"].to_numpy(), sp.compute_optimal([2.0, 2.2], 1e12).params)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--loss", "2:3", "--requests", "1e9"], "--loss must be a number, a list"),
        (["--loss", "2", "--requests", "0:1e9:3:log"], "a log range needs start and stop > 0"),
        (["--loss", "2"], "exactly one of --inference-tokens"),
        (["--loss", "1.5", "--requests", "1e9"], "in the only chunk (a single scenario): loss"),
        (["--loss", "2", "--inference-tokens", "1e9", "--output-tokens", "5"], "belong to a"),
        (["--loss", "2", "--inference-tokens", "1e9", "--workers", "0"], "--workers: must be"),
        (["--loss", "2", "--requests", "1e9", "--train-mfu", "2"], "--train-mfu: must be"),
    ],
)
def test_bad_sweep_arguments_are_one_line(tmp_path, args, message):
    r = run("sweep", str(tmp_path / "s.zarr"), *args)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr


def test_sweep_refuses_to_overwrite_and_odd_suffixes(tmp_path):
    assert (
        run("sweep", str(tmp_path / "a.zarr"), "--loss", "2", "--requests", "1e9").returncode == 0
    )
    r = run("sweep", str(tmp_path / "a.zarr"), "--loss", "2", "--requests", "1e9")
    assert r.returncode == 2 and "pass --overwrite" in r.stderr
    r = run("sweep", str(tmp_path / "a.csv"), "--loss", "2", "--requests", "1e9")
    assert r.returncode == 2 and "must end in .zarr or .parquet" in r.stderr
