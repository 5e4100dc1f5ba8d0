"""The README's examples run as written."""

import re
import shlex
import subprocess
from pathlib import Path

import pytest

README = (Path(__file__).parent.parent / "README.md").read_text()


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("index", range(len(blocks("python"))))
def test_python_examples_run(index, tmp_path, monkeypatch):
    # In a scratch folder (an example writes a sweep), run as a script would be.
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks("python")[index], "README.md", "exec"), {"__name__": "__main__"})


def scaleplan_commands() -> list[str]:
    commands = []
    for block in blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("#")[0].strip()
            if line.startswith("scaleplan "):
                commands.append(line)
    return commands


@pytest.mark.parametrize("command", scaleplan_commands())
def test_cli_examples_run(command, tmp_path):
    # In a scratch folder: `reproduce` writes files where it is run.
    r = subprocess.run(
        shlex.split(command), capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()
