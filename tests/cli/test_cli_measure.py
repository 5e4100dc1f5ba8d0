"""`scaleplan measure`: the command that times the default sweep (JAX). Without JAX it
says which extra to install; with a stand-in for JAX's timing it writes the CSV that
`load_measurements` reads, for the first --shapes shapes, passing its timing options on."""

from __future__ import annotations

import json
import subprocess
import types

import pytest
from inprocess import run_cli

from scaleplan import cli
from scaleplan.systems import measure


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(args)


def test_without_jax_it_names_the_extra(tmp_path):
    try:
        import jax  # noqa: F401
    except ImportError:
        r = run("measure", str(tmp_path / "m.csv"), "--shapes", "2")
        assert r.returncode == 2 and r.stdout == ""
        assert r.stderr.strip() == (
            "scaleplan measure: error: needs jax: pip install 'scaleplan[measure]'"
        )
        assert not (tmp_path / "m.csv").exists()
    else:
        pytest.skip("JAX is installed here")


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--shapes", "73"], "--shapes must be at most 72; got 73"),
     (["--shapes", "0"], "argument --shapes"), (["--repeats", "0"], "argument --repeats")],
)  # fmt: skip
def test_bad_options_are_one_line(tmp_path, args, message):
    r = run("measure", str(tmp_path / "m.csv"), *args)
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.splitlines()) == 1


def test_an_existing_file_is_kept_unless_overwrite(tmp_path):
    out = tmp_path / "m.csv"
    out.write_text("mine")
    r = run("measure", str(out))
    assert r.returncode == 2 and "exists; pass --overwrite" in r.stderr
    assert out.read_text() == "mine"


def test_it_writes_the_sweep_that_load_measurements_reads(tmp_path, monkeypatch, capsys):
    calls = []

    def fake_time_step(shape, *, warmup, repeats, seed):
        calls.append((warmup, repeats, seed))
        return 1e-3 * shape.n_layers * shape.d_model / 64

    device = types.SimpleNamespace(platform="fake")
    monkeypatch.setattr(
        measure, "_require_jax", lambda: types.SimpleNamespace(devices=lambda: [device])
    )
    monkeypatch.setattr(measure, "time_step", fake_time_step)
    out = tmp_path / "m.csv"
    assert cli.main(["measure", str(out), "--shapes", "3", "--repeats", "2", "--seed", "7",
                     "--json"]) == 0  # fmt: skip
    data = json.loads(capsys.readouterr().out)
    shapes, seconds = measure.load_measurements(out)
    assert shapes == measure.default_sweep()[:3] and data["shapes"] == 3
    # The CSV keeps six significant digits.
    assert list(seconds) == [
        float(f"{fake_time_step(s, warmup=0, repeats=0, seed=0):.6g}") for s in shapes
    ]
    assert calls[:3] == [(2, 2, 7)] * 3
    assert data["min_step_seconds"] == min(seconds) and data["out"] == str(out)
    assert out.read_text().splitlines()[1].endswith(",fake")
