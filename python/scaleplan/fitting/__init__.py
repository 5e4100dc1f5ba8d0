"""Fitting scaling laws to runs: the Huber fit and its bootstrap (`fit`, `bootstrap`; the
law a fitted theta gives, `thetas`), likelihood fits and tests (`likelihood`,
`likelihood_bootstrap`), law families fitted (`families`) and compared
(`family_comparison`), IsoFLOP profiles (`isoflop`), downstream targets (`downstream`),
the next run to train (`nextrun`), and the public data sets (`datasets`).

Fitting pulls in SciPy, so its names load on first use (`import scaleplan` stays quick);
the table is what runs and the block under TYPE_CHECKING says the same to type checkers
(`tests/contracts/test_public_api.py` holds the two equal)."""

import importlib
from typing import TYPE_CHECKING, Any

LAZY = {
    "BootstrapResult": "bootstrap",
    "bootstrap_law": "bootstrap",
    "FitError": "fit",
    "FitResult": "fit",
    "fit_law": "fit",
    "LikelihoodFit": "likelihood",
    "bootstrap_likelihood": "likelihood_bootstrap",
    "fit_likelihood": "likelihood",
    "test_law": "likelihood_bootstrap",
    "compare_families": "family_comparison",
    "bootstrap_losses": "downstream",
    "fit_downstream": "downstream",
    "sardana_downstream": "downstream",
    "isoflop_fit": "isoflop",
    "next_run": "nextrun",
}
if TYPE_CHECKING:
    from . import datasets
    from .bootstrap import BootstrapResult, bootstrap_law
    from .downstream import bootstrap_losses, fit_downstream, sardana_downstream
    from .family_comparison import compare_families
    from .fit import FitError, FitResult, fit_law
    from .isoflop import isoflop_fit
    from .likelihood import LikelihoodFit, fit_likelihood
    from .likelihood_bootstrap import bootstrap_likelihood, test_law
    from .nextrun import next_run


def __getattr__(name: str) -> Any:
    if name in LAZY:
        return getattr(importlib.import_module(f"{__name__}.{LAZY[name]}"), name)
    if name == "datasets":
        return importlib.import_module(f"{__name__}.datasets")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "BootstrapResult",
    "FitError",
    "FitResult",
    "LikelihoodFit",
    "bootstrap_law",
    "bootstrap_likelihood",
    "bootstrap_losses",
    "compare_families",
    "datasets",
    "fit_downstream",
    "fit_law",
    "fit_likelihood",
    "isoflop_fit",
    "next_run",
    "sardana_downstream",
    "test_law",
]
