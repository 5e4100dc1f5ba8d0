"""`load_law`: a ScalingLaw from a JSON or TOML file, every bad file a ScaleplanError naming
the field and the file."""

from __future__ import annotations

import json

import pytest

import scaleplan as sp
from scaleplan.errors import ScaleplanError
from scaleplan.laws import load_law

COEFFICIENTS = {"E": 1.82, "A": 482.0, "B": 2085.0, "alpha": 0.3478, "beta": 0.3658}


def test_a_plain_object_gives_the_same_law(tmp_path):
    path = tmp_path / "law.json"
    path.write_text(json.dumps(COEFFICIENTS))
    law = load_law(path)
    assert law == sp.ScalingLaw(**COEFFICIENTS)
    assert law.name == "law.json"


def test_fit_output_is_a_law_file_other_fields_ignored(tmp_path):
    path = tmp_path / "fit.json"
    path.write_text(json.dumps({"source": "chinchilla", "points": 240, **COEFFICIENTS,
                                "intervals": {"E": [1.7, 1.9]}, "name": "my-fit"}))  # fmt: skip
    law = load_law(path)
    assert law.coefficients == tuple(COEFFICIENTS.values())
    assert law.name == "my-fit"


def test_toml(tmp_path):
    path = tmp_path / "law.toml"
    path.write_text("\n".join(f"{k} = {v}" for k, v in COEFFICIENTS.items()))
    assert load_law(path) == sp.ScalingLaw(**COEFFICIENTS)


@pytest.mark.parametrize(
    "text, words",
    [
        (
            json.dumps({k: v for k, v in COEFFICIENTS.items() if k != "beta"}),
            "missing field 'beta'",
        ),
        (json.dumps({**COEFFICIENTS, "alpha": -0.3}), "alpha must be"),
        (json.dumps({**COEFFICIENTS, "A": "482"}), "field 'A' must be a number"),
        (json.dumps({**COEFFICIENTS, "B": True}), "field 'B' must be a number"),
        ("[1, 2, 3, 4, 5]", "must hold one object"),
        ("E = 1.8", "is not valid JSON"),
    ],
)
def test_bad_files_name_the_field_and_the_file(tmp_path, text, words):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ScaleplanError, match="bad.json") as info:
        load_law(path)
    assert words in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ScaleplanError, match="cannot read"):
        load_law(tmp_path / "absent.json")
