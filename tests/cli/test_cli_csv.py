"""--csv: the same data as --json, as rows (one per record where the data hold records)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from inprocess import run_cli


def out(*args: str) -> str:
    r = run_cli(args)
    assert r.returncode == 0, r.stderr
    return r.stdout


def rows(*args: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out(*args, "--csv"))))


def test_records_become_rows_with_the_shared_fields_repeated():
    data = json.loads(out("plan", "--json"))
    table = rows("plan")
    assert [r["name"] for r in table] == list(data["models"])
    for r in table:
        model = data["models"][r["name"]]
        assert float(r["params"]) == model["params"]  # every digit kept
        assert float(r["loss"]) == data["loss"]
    assert [r["name"] for r in rows("hardware")] == list(json.loads(out("hardware", "--json")))
    shapes = rows("best-shapes", "--hours", "1", "--top", "3")
    assert len(shapes) == 3 and all(r["time_model"] for r in shapes)


@pytest.mark.parametrize(
    "args",
    [["compute-optimal"], ["chinchilla", "--params", "7e9"], ["fit", "--dataset", "sardana2024"]],
)
def test_a_single_answer_is_one_row_with_dotted_names(args):
    data = json.loads(out(*args, "--json"))
    (row,) = rows(*args)
    for key, value in data.items():
        if isinstance(value, dict):
            for k, v in value.items():
                assert row[f"{key}.{k}"] == (repr(v) if isinstance(v, float) else str(v))
        elif key != "seconds":
            assert row[key] == (repr(value) if isinstance(value, float) else str(value))


def test_json_and_csv_together_is_a_usage_error():
    r = run_cli(["plan", "--json", "--csv"])
    assert r.returncode == 2 and "not allowed with argument" in r.stderr
