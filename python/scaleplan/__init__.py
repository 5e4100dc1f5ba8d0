"""scaleplan: plan a language model for its whole life.

How many parameters and training tokens minimise training plus inference cost for the
quality and the demand you expect (Sardana et al. 2024, "Beyond Chinchilla-Optimal"),
on a Rust core that solves millions of scenarios per call.

The package is domain subpackages that mirror the Rust core, from the bottom up: `laws`
(law families and the protocol the optimisers dispatch through), `hardware` (accelerators,
prices, the cost model), `arch` (transformer shapes), `systems` (step time, the serving
roofline, whole-GPU plans), `optimal` (the optimisers), `fitting` (fitting laws to runs),
then `plot` (figures as matplotlib Figures, loaded on first use), `paper` (reproductions)
and `testing` (pure-Python references); `cli` and `dask` sit
above all of them. `scaleplan.__all__` is the union of the six planning subpackages'
`__all__`, with the error type and the version.
"""

import importlib
from typing import TYPE_CHECKING, Any

from . import _moved
from ._core import __version__ as __version__
from .errors import ScaleplanError as ScaleplanError

if TYPE_CHECKING:
    from .arch import *  # noqa: F403
    from .fitting import *  # noqa: F403
    from .hardware import *  # noqa: F403
    from .laws import *  # noqa: F403
    from .optimal import *  # noqa: F403
    from .systems import *  # noqa: F403

# The subpackages whose public names are the package's, in the order they are searched.
# Nothing is imported until a name is asked for, so `import scaleplan` (and the command
# line's `scaleplan --help`) costs no NumPy; fitting, which pulls in SciPy, comes last so
# that the other names never load it.
_HOMES = ("arch", "hardware", "laws", "optimal", "systems", "fitting")
# Subpackages reached as attributes without being re-exported: figures (extra [plot];
# matplotlib loads when one is drawn), reproductions, references, the command line, Dask.
_SUBPACKAGES = frozenset((*_HOMES, "plot", "paper", "testing", "cli", "dask"))

_moved.install()


def _public_names() -> list[str]:
    names = ["ScaleplanError", "__version__"]
    for home in _HOMES:
        names += importlib.import_module(f".{home}", __name__).__all__
    return names


def _lookup(name: str) -> Any:
    if name == "__all__":
        return _public_names()
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    for home in _HOMES:
        module = importlib.import_module(f".{home}", __name__)
        if name in module.__all__:
            return getattr(module, name)
    if name in _moved.MOVED:
        return _moved.module_of(name)
    raise AttributeError(f"module 'scaleplan' has no attribute {name!r}")


def __getattr__(name: str) -> Any:
    value = _lookup(name)
    if name not in _moved.MOVED:  # a moved path warns on every use, so it is not cached
        globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names (`__all__`), loaded or not; nothing imported for internal use."""
    return sorted(__getattr__("__all__"))
