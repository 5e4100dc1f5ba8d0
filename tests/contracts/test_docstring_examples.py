"""The docstrings' examples run, and print what they show (issue 25).

Every module under `python/scaleplan` has its doctests run here, one case per module, so
the normal `python -m pytest` (which CI runs) fails when an example goes stale. A second
test holds the modules whose docstrings are done to numpydoc's `Examples` section on every
public name; the list grows as modules are converted.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

import scaleplan

# These run the command line on import.
RUN_ON_IMPORT = {"scaleplan.__main__", "scaleplan.cli.__main__"}
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _modules() -> list[str]:
    names = ["scaleplan"]
    for info in pkgutil.walk_packages(scaleplan.__path__, prefix="scaleplan."):
        if info.name not in RUN_ON_IMPORT:
            names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_print_what_they_show(name):
    try:
        module = importlib.import_module(name)
    except ImportError as exc:  # an optional extra (jax, matplotlib) not installed
        pytest.skip(f"{name}: {exc}")
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    for test in finder.find(module, name):
        runner.run(test)
    failed, attempted = runner.summarize(verbose=False)
    assert failed == 0, f"{failed} of {attempted} docstring examples failed in {name}"


# Modules whose every public function and class (in the module's `__all__`, or in
# `scaleplan.__all__` and defined there) has a numpydoc `Examples` section.
DOCUMENTED = [
    "scaleplan.arch.counts",
    "scaleplan.arch.hf_config",
    "scaleplan.arch.hf_moe",
    "scaleplan.arch.policy",
    "scaleplan.arch.shapes",
    "scaleplan.dask.arrays",
    "scaleplan.dask.costs",
    "scaleplan.dask.fits",
    "scaleplan.dask.steptime",
    "scaleplan.dask.sweeps",
    "scaleplan.errors",
    "scaleplan.fitting.bootstrap",
    "scaleplan.fitting.datasets",
    "scaleplan.fitting.downstream",
    "scaleplan.fitting.families",
    "scaleplan.fitting.family_comparison",
    "scaleplan.fitting.fit",
    "scaleplan.fitting.isoflop",
    "scaleplan.fitting.likelihood",
    "scaleplan.fitting.likelihood_bootstrap",
    "scaleplan.fitting.nextrun",
    "scaleplan.fitting.nextrun_simulation",
    "scaleplan.fitting.thetas",
    "scaleplan.hardware.accelerators",
    "scaleplan.hardware.cost_model",
    "scaleplan.hardware.files",
    "scaleplan.hardware.formats",
    "scaleplan.laws.closed_form",
    "scaleplan.laws.data_constrained",
    "scaleplan.laws.moe",
    "scaleplan.laws.fine_grained",
    "scaleplan.laws.precision",
    "scaleplan.laws.family",
    "scaleplan.laws.files",
    "scaleplan.laws.flops",
    "scaleplan.laws.scaling",
    "scaleplan.optimal.allocation",
    "scaleplan.optimal.breakeven",
    "scaleplan.optimal.budgets",
    "scaleplan.optimal.constrained",
    "scaleplan.optimal.costs",
    "scaleplan.optimal.data_constrained",
    "scaleplan.optimal.experts",
    "scaleplan.optimal.expert_training",
    "scaleplan.optimal.expert_plan",
    "scaleplan.optimal.fine_grained",
    "scaleplan.optimal.implied",
    "scaleplan.optimal.lifetime",
    "scaleplan.optimal.lifetime_cost",
    "scaleplan.optimal.physical_optimum",
    "scaleplan.optimal.serving_curve",
    "scaleplan.optimal.plan",
    "scaleplan.optimal.plan_result",
    "scaleplan.optimal.ratio_grids",
    "scaleplan.optimal.solver",
    "scaleplan.optimal.whole_gpu",
    "scaleplan.paper.figures",
    "scaleplan.paper.fits",
    "scaleplan.paper.reproduce",
    "scaleplan.paper.tables",
    "scaleplan.plot.demand",
    "scaleplan.plot.experts",
    "scaleplan.plot.finite",
    "scaleplan.plot.isoflop",
    "scaleplan.plot.share",
    "scaleplan.plot.steptime",
    "scaleplan.plot.surfaces",
    "scaleplan.systems.deployment",
    "scaleplan.systems.measure",
    "scaleplan.systems.physical",
    "scaleplan.systems.replicas",
    "scaleplan.systems.serving",
    "scaleplan.systems.efficiency",
    "scaleplan.systems.engine_fit",
    "scaleplan.systems.engines",
    "scaleplan.systems.serving_fit",
    "scaleplan.systems.published_errors",
    "scaleplan.systems.serving_online",
    "scaleplan.systems.serving_published",
    "scaleplan.systems.shape_search",
    "scaleplan.systems.speculation",
    "scaleplan.systems.steptime",
    "scaleplan.systems.steptime_fit",
    "scaleplan.systems.training",
    "scaleplan.systems.training_plan",
    "scaleplan.testing.reference",
    "scaleplan.testing.reference_data",
    "scaleplan.testing.reference_fits",
    "scaleplan.testing.reference_moe",
    "scaleplan.testing.reference_systems",
    "scaleplan.testing.reference_counts",
]


def _public(module) -> list[str]:
    declared = set(getattr(module, "__all__", ())) | set(scaleplan.__all__)
    return [
        name
        for name, obj in vars(module).items()
        if name in declared
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and obj.__module__ == module.__name__
    ]


@pytest.mark.parametrize("name", DOCUMENTED)
def test_every_public_name_has_an_examples_section(name):
    module = importlib.import_module(name)
    missing = [
        f"{name}.{public}"
        for public in _public(module)
        if "\nExamples\n--------\n" not in (inspect.getdoc(getattr(module, public)) or "")
    ]
    assert _public(module), f"{name} declares no public function or class"
    assert not missing, f"no Examples section: {', '.join(missing)}"
