"""Files in place of names: `--law law.json` (what `scaleplan fit --json` writes) and
`--train-gpu`/`--inference-gpu`/`--gpu` with a JSON/TOML accelerator file. In process."""

from __future__ import annotations

import json

import pytest

import scaleplan as sp
from scaleplan.cli import main

COEFFICIENTS = {"E": 1.82, "A": 482.0, "B": 2085.0, "alpha": 0.3478, "beta": 0.3658}
GPU = {"name": "my-gpu", "peak_flops": {"bf16": 1e15, "int8": 2e15}, "memory_bytes": 96e9,
       "memory_bandwidth": 4e12, "price_per_hour": 2.0}  # fmt: skip


def cli_json(capsys, *args: str) -> dict:
    capsys.readouterr()
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def one_line_error(capsys, args: list[str], words: str) -> str:
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(args)
    err = capsys.readouterr().err
    assert info.value.code == 2 and len(err.strip().splitlines()) == 1, err
    assert words in err, err
    return err


def test_fit_json_is_a_law_file_that_gives_the_same_answer(capsys, tmp_path):
    # fit --json -> law.json -> --law law.json answers as the same coefficients do in Python.
    fitted = cli_json(capsys, "fit", "--dataset", "sardana2024", "--max-tokens-per-param", "100")
    path = tmp_path / "law.json"
    path.write_text(json.dumps(fitted))
    law = sp.ScalingLaw(*(fitted[k] for k in ("E", "A", "B", "alpha", "beta")))
    for command in ("cost-optimal", "compute-optimal"):
        data = cli_json(capsys, command, "--law", str(path), "--as-good-as", "13e9")
        assert data["law"] == "law.json"
        assert data["loss"] == sp.chinchilla_optimal(params=13e9, law=law).loss
    data = cli_json(capsys, "cost-optimal", "--law", str(path))
    lib = sp.cost_optimal(data["loss"], 1e7 * 365, law=law)
    assert data["optimal"]["params"] == pytest.approx(lib.params, rel=1e-12)


def test_a_plain_law_object_and_toml(capsys, tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(COEFFICIENTS))
    (tmp_path / "b.toml").write_text("\n".join(f"{k} = {v}" for k, v in COEFFICIENTS.items()))
    law = sp.ScalingLaw(**COEFFICIENTS)
    want = sp.chinchilla_optimal(params=7e9, law=law)
    for name in ("a.json", "b.toml"):
        data = cli_json(capsys, "chinchilla-optimal", "--params", "7e9",
                        "--law", str(tmp_path / name))  # fmt: skip
        assert data["tokens"] == want.tokens and data["loss"] == want.loss


@pytest.mark.parametrize(
    "text, words",
    [
        (
            json.dumps({k: v for k, v in COEFFICIENTS.items() if k != "alpha"}),
            "missing field 'alpha'",
        ),
        (json.dumps({**COEFFICIENTS, "alpha": -0.3}), "alpha must be a finite number > 0"),
        ("not json", "is not valid JSON"),
    ],
)
def test_bad_law_files_are_one_line_naming_field_and_file(capsys, tmp_path, text, words):
    path = tmp_path / "bad-law.json"
    path.write_text(text)
    err = one_line_error(capsys, ["cost-optimal", "--law", str(path)], words)
    assert "argument --law" in err and "bad-law.json" in err


def test_law_presets_still_listed_and_checked(capsys):
    one_line_error(capsys, ["cost-optimal", "--law", "gpt"], "must be a preset (chinchilla,")
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["cost-optimal", "--help"])
    assert "sardana2024_all" in capsys.readouterr().out


def test_custom_accelerator_file_prices_training_and_serving(capsys, tmp_path):
    path = tmp_path / "gpu.json"
    path.write_text(json.dumps(GPU))
    data = cli_json(capsys, "cost-optimal", "--train-gpu", str(path), "--inference-gpu", str(path))
    assert data["costs"]["train_gpu"] == "my-gpu"
    assert data["costs"]["train_price_per_hour"] == 2.0
    acc = sp.Accelerator(**GPU)
    lib = sp.cost_optimal(
        data["loss"], 1e7 * 365, costs=sp.CostModel(train_gpu=acc, inference_gpu=acc)
    )
    assert data["optimal"]["total_dollars"] == pytest.approx(lib.total_dollars, rel=1e-12)


def test_custom_accelerator_in_serve_and_step_time(capsys, tmp_path):
    path = tmp_path / "chip.toml"
    path.write_text("memory_bytes = 96e9\nmemory_bandwidth = 4e12\n[peak_flops]\nbf16 = 1e15\n")
    served = cli_json(capsys, "serve", "--gpu", str(path))
    assert served["gpu"] == "chip"
    step = cli_json(capsys, "step-time", "--d-model", "1024", "--n-layers", "8",
                    "--gpu", str(path))  # fmt: skip
    h100 = cli_json(capsys, "step-time", "--d-model", "1024", "--n-layers", "8")
    # Same shape, same FLOPs; a different chip takes a different time.
    assert step["flops"] == h100["flops"] and step["step_seconds"] != h100["step_seconds"]


def test_bad_accelerator_file_is_one_line_naming_the_field(capsys, tmp_path):
    path = tmp_path / "gpu.json"
    path.write_text(json.dumps({**GPU, "memory_bandwidth": 0}))
    err = one_line_error(capsys, ["serve", "--gpu", str(path)], "memory_bandwidth must be")
    assert "gpu.json" in err
    one_line_error(capsys, ["cost-optimal", "--train-gpu", "tpu"], "must be an accelerator")
