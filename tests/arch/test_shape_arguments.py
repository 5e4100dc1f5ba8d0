"""Every public function that takes a shape takes a model name and a Hugging Face config
path too, giving the answers of the `TransformerShape` they name. The list of calls below
is checked against a walk of the package, so a new function taking a shape is added here
or fails."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil

import numpy as np
import pytest

import scaleplan as sp
from scaleplan.arch import policy, shapes
from scaleplan.arch.shapes import MODELS
from scaleplan.systems import (
    physical,
    serving,
    serving_online,
    speculation,
    steptime,
    steptime_fit,
)

LLAMA_7B = {
    "model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": 32, "intermediate_size": 11008,
    "vocab_size": 32000, "tie_word_embeddings": False,
}  # fmt: skip
DEMAND = dict(requests_per_day=1e6, days=365.0)
MODEL = steptime.StepTimeModel(c_flop=1e-15, c_mem=1e-12, c_0=1e-3)

# One call per public function taking a shape: (qualified name, call on one shape).
CALLS = {
    "scaleplan.systems.training_plan.training_plan": lambda s: physical.training_plan(s, 1e12),
    "scaleplan.systems.physical.serving_plan": lambda s: physical.serving_plan(s, **DEMAND),
    "scaleplan.systems.physical.physical_plan": lambda s: physical.physical_plan(
        7e9, 1e12, shape=s, **DEMAND
    ),
    "scaleplan.systems.replicas.replicas": lambda s: physical.replicas([s], sp.Deployment()),
    "scaleplan.systems.serving.decode": lambda s: serving.decode(s, "h100-sxm", batch_size=8),
    "scaleplan.systems.serving.prefill": lambda s: serving.prefill(s, "h100-sxm", prompt_tokens=64),
    "scaleplan.systems.speculation.speculative_decode": lambda s: speculation.speculative_decode(
        s, speculation.Speculation(draft_tokens=2), batch_size=8
    ),
    "scaleplan.systems.serving_online.online_latency": lambda s: serving_online.online_latency(
        s, 1.0, 128, 64, 989e12, efficiency=serving.Efficiency()
    ),
    "scaleplan.arch.counts.step_counts": lambda s: sp.step_counts(s),
    "scaleplan.arch.policy.moe_shape": lambda s: policy.moe_shape(s, 4),
    "scaleplan.arch.shapes.shape_inputs": lambda s: shapes.shape_inputs(s),
    "scaleplan.arch.shapes.shape_columns": lambda s: shapes.shape_columns(s),
    "scaleplan.arch.shapes.resolve_shape": lambda s: shapes.resolve_shape(s),
    "scaleplan.systems.steptime.StepTimeModel.predict": lambda s: MODEL.predict(s),
    "scaleplan.systems.steptime.loss_in_budget": lambda s: steptime.loss_in_budget(
        s, 3600.0, time_model=MODEL
    ),
    "scaleplan.systems.steptime_fit.fit_step_time": lambda s: steptime_fit.fit_step_time(
        [s] * 4, [1.0, 1.1, 0.9, 1.05]
    ),
    "scaleplan.systems.steptime_fit.heldout_r2": lambda s: steptime_fit.heldout_r2(
        [s, "gpt-j-6b"] * 5, np.linspace(1.0, 2.0, 10), folds=2
    ),
    "scaleplan.systems.steptime_fit.heldout_relative_errors": lambda s: (
        steptime_fit.heldout_relative_errors(
            [s, "gpt-j-6b"] * 5, np.linspace(1.0, 2.0, 10), folds=2
        )
    ),
}
# Taking a shape but not run here: they time real steps on JAX (a name is resolved the
# same way, `resolve_shape`, first thing), or take grids of Dask arrays.
NOT_RUN = {
    "scaleplan.systems.measure.time_step",
    "scaleplan.systems.measure.sweep",
    "scaleplan.dask.steptime.step_counts",
    "scaleplan.dask.steptime.step_time",
    "scaleplan.dask.steptime.loss_in_budget",
    "scaleplan.plot.steptime.step_time_fit",  # draws; its shapes go to fit_step_time
}


def _public_shape_takers() -> set[str]:
    found = set()
    for m in pkgutil.walk_packages(sp.__path__, "scaleplan."):
        parts = m.name.split(".")
        if any(p.startswith("_") for p in parts) or {"cli", "paper", "testing"} & set(parts):
            continue
        try:
            mod = importlib.import_module(m.name)
        except ImportError:  # an optional extra (jax, dask) not installed
            continue
        for name, obj in vars(mod).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != mod.__name__:
                continue
            members = [(name, obj)]
            if inspect.isclass(obj):
                members = [(f"{name}.{k}", v) for k, v in vars(obj).items()
                           if not k.startswith("_") and inspect.isfunction(v)]  # fmt: skip
            for qual, fn in members:
                if not inspect.isfunction(fn):
                    continue
                params = inspect.signature(fn).parameters
                # A transformer shape, not an array's (`chunk_sizes(shape: tuple)`).
                if any(p in params and "tuple" not in str(params[p].annotation)
                       for p in ("shape", "shapes")):  # fmt: skip
                    found.add(f"{mod.__name__}.{qual}")
    return found


def test_the_list_is_every_public_function_taking_a_shape():
    assert _public_shape_takers() - set(CALLS) - NOT_RUN == set()
    assert set(CALLS) <= _public_shape_takers()


def _same(a, b):
    if isinstance(a, tuple) and not hasattr(a, "__dataclass_fields__"):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    elif isinstance(a, (list, np.ndarray)) or np.ndim(a) > 0:
        np.testing.assert_array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    elif hasattr(a, "__dataclass_fields__"):
        for f in a.__dataclass_fields__:
            _same(getattr(a, f), getattr(b, f))
    else:
        assert a == b or (a != a and b != b)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_name_and_a_config_path_give_the_answers_of_their_shape(name, tmp_path):
    call = CALLS[name]
    (tmp_path / "config.json").write_text(json.dumps(LLAMA_7B))
    from_file = sp.TransformerShape.from_hf_config(tmp_path)
    _same(call("llama-2-7b"), call(MODELS["llama-2-7b"]))
    _same(call(str(tmp_path / "config.json")), call(from_file))


def test_the_issue_example():
    """`serving.decode("llama-2-7b", "h100-sxm")` was refused (issue 25)."""
    step = serving.decode("llama-2-7b", "h100-sxm")
    assert step.seconds == serving.decode(MODELS["llama-2-7b"], "h100-sxm").seconds > 0
    with pytest.raises(sp.ScaleplanError, match="model name") as err:
        serving.decode("llama-9", "h100-sxm")
    assert err.value.argument in ("shape", "shapes")
