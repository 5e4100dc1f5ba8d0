"""Every public result class prints short at a prompt (a scalar result in a few lines: a
`CostOptimum` printed 1,304 characters), is a table (`to_pandas()`) and shows as HTML in
a notebook; every value object a planner takes prints short too."""

from __future__ import annotations

import importlib

import pytest
from results import LAZY, VALUES, instances
from test_signatures import public_dataclasses

import scaleplan as sp
from scaleplan.laws import precision
from scaleplan.systems.speculation import Speculation

pd = pytest.importorskip("pandas")
INSTANCES = instances()


def _public_dataclasses() -> set[str]:
    return {f"{cls.__module__}.{cls.__name__}" for cls in public_dataclasses()}


INTERNAL = {"scaleplan.laws.family.Family"}  # the registry of law families: no result


def test_every_public_dataclass_is_a_result_tested_here_or_a_value():
    missing = _public_dataclasses() - set(INSTANCES) - set(VALUES) - set(LAZY) - INTERNAL
    assert missing == set()


@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_a_result_prints_short_and_is_a_table_and_html(name):
    result = INSTANCES[name]
    text = repr(result)
    assert len(text.splitlines()) <= 8 and len(text) < 500, text
    assert type(result).__name__ in text
    frame = result.to_pandas()
    assert isinstance(frame, pd.DataFrame) and len(frame) >= 1 and frame.shape[1] >= 1
    page = result._repr_html_()
    assert page.startswith(("<table>", "<p>")) and page.rstrip().endswith(">")


@pytest.mark.parametrize("name", VALUES)
def test_a_value_prints_short(name):
    module, cls = name.rsplit(".", 1)
    kind = getattr(importlib.import_module(module), cls)
    value = {
        "TransformerShape": lambda: sp.TransformerShape(4096, 32, 32),
        "Accelerator": lambda: sp.accelerator("h100-sxm"),
        "CostModel": sp.CostModel,
        "DataConstrainedLaw": lambda: sp.DataConstrainedLaw(sp.CHINCHILLA),
        "JointMoELaw": lambda: sp.JOINT_MOE,
        "FineGrainedMoELaw": lambda: sp.KRAJEWSKI2024,
        "OuyangPenalty": lambda: precision.OUYANG2025,
        "PTQPenalty": lambda: precision.KUMAR2024_PTQ,
        "TrainingPrecision": lambda: precision.KUMAR2024,
        "ScalingLaw": lambda: sp.CHINCHILLA,
        "Deployment": sp.Deployment,
        "Speculation": lambda: Speculation("llama-2-7b", draft_tokens=4, acceptance=0.7),
        "Training": sp.Training,
    }[cls]()
    assert isinstance(value, kind)
    text = repr(value)
    assert len(text.splitlines()) <= 8 and len(text) < 500, text
    assert "mappingproxy" not in text and "Accelerator(name=" not in text.split("(", 1)[1]
