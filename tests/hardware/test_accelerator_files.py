"""`load_accelerator`: an Accelerator from a JSON or TOML file, every bad file a
ScaleplanError naming the field and the file."""

from __future__ import annotations

import json

import pytest

from scaleplan.errors import ScaleplanError
from scaleplan.hardware import ACCELERATORS, Accelerator, CostModel, load_accelerator

FIELDS = {
    "name": "my-gpu",
    "peak_flops": {"bf16": 1e15, "int8": 2e15},
    "memory_bytes": 96e9,
    "memory_bandwidth": 4e12,
    "price_per_hour": 2.0,
}


def test_json_gives_the_accelerator(tmp_path):
    path = tmp_path / "gpu.json"
    path.write_text(json.dumps(FIELDS))
    acc = load_accelerator(path)
    assert acc == Accelerator(**FIELDS)
    assert acc.peak("int8") == 2e15 and acc.price_per_hour == 2.0


def test_toml_and_the_default_name(tmp_path):
    path = tmp_path / "chip.toml"
    path.write_text(
        "memory_bytes = 96e9\nmemory_bandwidth = 4e12\nprice_per_hour = 2.0\n"
        "[peak_flops]\nbf16 = 1e15\nint8 = 2e15\n"
    )
    acc = load_accelerator(path)
    assert acc.name == "chip" and acc.memory_bytes == 96e9


def test_a_catalogue_chip_at_another_price_costs_what_the_price_says(tmp_path):
    # The H100's figures with the price doubled: dollars per training FLOP double.
    h100 = ACCELERATORS["h100-sxm"]
    fields = {"name": "h100-dear", "peak_flops": dict(h100.peak_flops),
              "memory_bytes": h100.memory_bytes, "memory_bandwidth": h100.memory_bandwidth,
              "price_per_hour": 2 * h100.price_per_hour}  # fmt: skip
    path = tmp_path / "dear.json"
    path.write_text(json.dumps(fields))
    dear = CostModel(train_gpu=load_accelerator(path))
    cheap = CostModel(train_gpu="h100-sxm")
    assert dear.train_dollars_per_flop == pytest.approx(2 * cheap.train_dollars_per_flop)


@pytest.mark.parametrize(
    "change, words",
    [
        ({"memory_bytes": None}, "missing field 'memory_bytes'"),
        ({"memory_bandwidth": -1.0}, "memory_bandwidth must be"),
        ({"price_per_hour": "2"}, "field 'price_per_hour' must be a number"),
        ({"peak_flops": {"bf17": 1e15}}, "precision must be one of"),
        ({"peak_flops": {}}, "field 'peak_flops' must map precisions"),
        ({"peak_flops": {"bf16": 0}}, "peak_flops['bf16'] must be"),
        ({"memory_bandwith": 4e12}, "unknown field 'memory_bandwith'"),
        ({"name": 3}, "field 'name' must be text"),
    ],
)
def test_bad_files_name_the_field_and_the_file(tmp_path, change, words):
    fields = {**FIELDS, **change}
    fields = {k: v for k, v in fields.items() if v is not None}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(fields))
    with pytest.raises(ScaleplanError, match="bad.json") as info:
        load_accelerator(path)
    assert words in str(info.value)
