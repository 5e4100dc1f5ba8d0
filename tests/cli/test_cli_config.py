"""`--config FILE.toml`: precedence (command line > [command] table > top-level keys),
the same checks as typed options, and a bad file as one line. In process."""

from __future__ import annotations

import json

import pytest

from scaleplan.cli import main


def cli_json(capsys, *args: str) -> dict:
    capsys.readouterr()
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def config(tmp_path, text: str) -> str:
    path = tmp_path / "scaleplan.toml"
    path.write_text(text)
    return str(path)


def test_precedence(capsys, tmp_path):
    path = config(tmp_path, "requests-per-day = 1e8\ndays = 10\nas_good_as = 13e9\n"
                  "[cost-optimal]\nrequests_per_day = 2e8\n")  # fmt: skip
    # cost-optimal: its table's rate wins over the top level's; days from the top level.
    data = cli_json(capsys, "cost-optimal", "--config", path)
    assert data["requests"] == pytest.approx(2e8 * 10)
    # The command line wins over both.
    data = cli_json(capsys, "cost-optimal", "--config", path, "--requests-per-day", "3e8")
    assert data["requests"] == pytest.approx(3e8 * 10)
    # Another command takes the top-level keys only.
    flops = cli_json(capsys, "compute-optimal", "--config", path)
    assert flops["inference_tokens"] == pytest.approx(1e8 * 10 * (70 + 215))
    typed = cli_json(capsys, "compute-optimal", "--as-good-as", "13e9",
                     "--requests-per-day", "1e8", "--days", "10")  # fmt: skip
    assert flops == typed


def test_command_line_alternative_drops_the_files(capsys, tmp_path):
    # --loss typed drops the file's as-good-as (not "give one, not both").
    path = config(tmp_path, "as-good-as = 13e9\njson = true\n")
    data = cli_json(capsys, "compute-optimal", "--config", path, "--loss", "2.0")
    assert data["loss"] == 2.0
    capsys.readouterr()
    assert main(["presets", "--config", path, "--csv"]) == 0
    assert capsys.readouterr().out.startswith("name,")


def test_keys_for_other_commands_are_ignored_and_flags_and_lists_work(capsys, tmp_path):
    path = config(tmp_path, "tpot-ms = 30\nunique_tokens = 1e11\n[isoflop]\n"
                  "budgets = [6e18, 1e19]\nbootstrap = 0\ndataset = 'chinchilla'\n"
                  "[cost-optimal]\ntable3 = true\n")  # fmt: skip
    data = cli_json(capsys, "cost-optimal", "--config", path)
    assert data["costs"]["inference_price_per_hour"] == 1.0
    assert data["data_constrained"]["unique_tokens"] == 1e11
    iso = cli_json(capsys, "isoflop", "--config", path)
    assert [p["budget"] for p in iso["profiles"]] == [6e18, 1e19]


def test_config_can_give_a_required_option(capsys, tmp_path):
    path = config(tmp_path, "[best-quality]\nbudget = 1e6\n")
    data = cli_json(capsys, "best-quality", "--config", path)
    assert data["budget"] == 1e6 and data["unit"] == "dollars"


@pytest.mark.parametrize(
    "text, words",
    [
        ("bogus = 1\n", "unknown key 'bogus'"),
        ("[cost-optimal]\nbudget = 5\n", "unknown key 'budget' in [cost-optimal]"),
        ("[frobnicate]\nloss = 2\n", "[frobnicate] is not a command"),
        ("train-mfu = 2\n", "key 'train-mfu': must be a number in (0, 1]"),
        ("days = 'many'\n", "key 'days': must be a number"),
        ("days = true\n", "key 'days': must be one number or text"),
        ("json = 1\n", "key 'json': must be true or false"),
        ("train-precision = 'fp6'\n", "key 'train-precision': must be one of bf16"),
        ("law = 'gpt'\n", "key 'law': must be a preset"),
        ("loss = \n", "is not valid TOML"),
    ],
)
def test_bad_config_is_one_line_naming_key_and_file(capsys, tmp_path, text, words):
    path = config(tmp_path, text)
    capsys.readouterr()
    assert main(["cost-optimal", "--config", path]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 1, captured.err
    assert words in lines[0] and "scaleplan.toml" in lines[0], lines[0]


def test_missing_config_file(capsys, tmp_path):
    assert main(["plan", "--config", str(tmp_path / "absent.toml")]) == 2
    assert "absent.toml" in capsys.readouterr().err


def test_the_shipped_example_config_works(capsys):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "docs" / "guide" / "scaleplan.toml"
    data = cli_json(capsys, "cost-optimal", "--config", str(example))
    # Its [cost-optimal] table is the paper's Figure 6 setting.
    assert data["requests"] == pytest.approx(7.02e9)
