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

from typing import TYPE_CHECKING, Any

from . import _moved, arch, fitting, hardware, laws, optimal, systems
from ._core import __version__
from .arch import *  # noqa: F403
from .errors import ScaleplanError
from .hardware import *  # noqa: F403
from .laws import *  # noqa: F403
from .optimal import *  # noqa: F403
from .systems import *  # noqa: F403

if TYPE_CHECKING:
    from .fitting import *  # noqa: F403

_moved.install()


def __getattr__(name: str) -> Any:
    # Fitting pulls in SciPy: its names load on first use.
    if name in fitting.__all__:
        return getattr(fitting, name)
    if name == "plot":  # figures (extra [plot]); matplotlib loads when one is drawn
        import importlib

        return importlib.import_module(".plot", __name__)
    if name in _moved.MOVED:
        return _moved.module_of(name)
    raise AttributeError(f"module 'scaleplan' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names (`__all__`), loaded or not; nothing imported for internal use."""
    return sorted(__all__)


__all__ = ["ScaleplanError", "__version__"]
__all__ += arch.__all__
__all__ += fitting.__all__
__all__ += hardware.__all__
__all__ += laws.__all__
__all__ += optimal.__all__
__all__ += systems.__all__
