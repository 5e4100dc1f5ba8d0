"""The module paths of scaleplan 0.1, kept working through 0.2 with a DeprecationWarning.

Up to 0.1 the library was one flat folder (`scaleplan.lifetime`, `scaleplan.fit`, ...). It
now lives in domain subpackages that mirror the Rust core. Importing an old path gives a
small module that reads every attribute from the new home (one module, or several where
a module was split), after one warning that names it; `scaleplan.<old>` as an attribute of
the package does the same. Three old names are packages now (`laws`, `hardware`, `paper`)
and forward the names they no longer export themselves through `forward`.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["MOVED", "Package", "forward", "install", "module_of"]

# Old module (under `scaleplan.`) -> its new homes, in the order names are looked up.
MOVED: dict[str, tuple[str, ...]] = {
    "_arrays": ("_utils.arrays",),
    "_checks": ("_utils.checks",),
    "_files": ("_utils.files",),
    "_frames": ("_utils.frames",),
    "_lstsq": ("fitting._lstsq",),
    "_progress": ("_utils.progress",),
    "_reference": ("testing.reference",),
    "_reference_fits": ("testing.reference_fits",),
    "_text": ("_utils.text",),
    "allocation": ("optimal.allocation",),
    "bootstrap": ("fitting.bootstrap",),
    "budgets": ("optimal.budgets",),
    "cost_model": ("hardware.cost_model",),
    "costs": ("optimal.costs", "optimal.breakeven"),
    "data_constrained": ("optimal.data_constrained", "laws.data_constrained"),
    "datasets": ("fitting.datasets",),
    "downstream": ("fitting.downstream",),
    "families": ("fitting.families", "fitting.family_comparison"),
    "fit": ("fitting.fit", "fitting.thetas"),
    "flops": ("laws.flops",),
    "hf_config": ("arch.hf_config", "arch.shapes"),
    "implied": ("optimal.implied",),
    "isoflop": ("fitting.isoflop",),
    "law_family": ("laws.family",),
    "lbfgsb": ("fitting._lbfgsb",),
    "lifetime": ("optimal.lifetime", "optimal.solver"),
    "lifetime_cost": ("optimal.lifetime_cost",),
    "likelihood": ("fitting.likelihood", "fitting.likelihood_bootstrap"),
    "measure": ("systems.measure",),
    "nextrun": ("fitting.nextrun",),
    "nextrun_simulation": ("fitting.nextrun_simulation",),
    "physical": ("systems.physical",),
    "physical_optimum": ("optimal.physical_optimum",),
    "ratio_grids": ("optimal.ratio_grids",),
    "reproduce": ("paper.reproduce",),
    "reproduce_figures": ("paper.figures",),
    "reproduce_fits": ("paper.fits",),
    "serving_fit": ("systems.serving_fit",),
    "shapes": ("arch.shapes", "arch.counts", "arch.policy"),
    "steptime": ("systems.steptime", "systems.steptime_fit", "systems.shape_search"),
}


def _warn(old: str, new: Sequence[str]) -> None:
    homes = " and ".join(f"scaleplan.{n}" for n in new)
    warnings.warn(
        f"scaleplan.{old} moved to {homes} in scaleplan 0.2; the old path goes in 0.3",
        DeprecationWarning,
        stacklevel=3,
    )


def forward(homes: Sequence[str], old: str | None = None) -> Callable[[str], Any]:
    """A module `__getattr__` that reads a missing name from `homes` (full module names);
    with `old`, a package that was module `scaleplan.<old>` in 0.1, it warns first."""

    def __getattr__(name: str) -> Any:
        for home in homes:
            module = importlib.import_module(home)
            if hasattr(module, name):
                if old is not None:
                    _warn(f"{old}.{name}", [home.removeprefix("scaleplan.") + f".{name}"])
                return getattr(module, name)
        raise AttributeError(f"no attribute {name!r} in {', '.join(homes)}")

    return __getattr__


def module_of(old: str) -> types.ModuleType:
    """The stand-in module for `scaleplan.<old>` (warns once per interpreter: it is then
    in `sys.modules`)."""
    full = f"scaleplan.{old}"
    if full in sys.modules:
        return sys.modules[full]
    _warn(old, MOVED[old])
    homes = [f"scaleplan.{n}" for n in MOVED[old]]
    module = types.ModuleType(full, f"Moved: see {', '.join(homes)}.")
    module.__getattr__ = forward(homes)  # type: ignore[method-assign]
    module.__dir__ = lambda: sorted(  # type: ignore[method-assign]
        {n for h in homes for n in dir(importlib.import_module(h))}
    )
    sys.modules[full] = module
    return module


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers `import scaleplan.<old>` with the stand-in module."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        prefix, _, old = fullname.partition(".")
        if prefix != "scaleplan" or old not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return module_of(spec.name.partition(".")[2])

    def exec_module(self, module: types.ModuleType) -> None:
        pass


class Package(types.ModuleType):
    """The class of the `scaleplan` module: Python names a newly imported submodule on its
    package, so importing the 0.1 path `scaleplan.lifetime_cost` would replace the
    function `scaleplan.lifetime_cost` with a module. A moved name never replaces a
    public name that is not a module, loaded yet or not (the package's names load lazily)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in MOVED and isinstance(value, types.ModuleType):
            current = self.__dict__.get(name)
            if current is None and name in self.__all__:
                return
            if current is not None and not isinstance(current, types.ModuleType):
                return
        super().__setattr__(name, value)


def install() -> None:
    """Put the finder on `sys.meta_path` (once), and guard the package's public names."""
    sys.modules["scaleplan"].__class__ = Package
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
