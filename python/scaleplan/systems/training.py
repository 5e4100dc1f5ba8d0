"""How a model is trained: one value that every physical planner takes, as `Deployment`
says how it is served.

A `Training` carries the GPU and its price, the number of GPUs (or None: enough to finish
within `DEFAULT_TRAINING_DAYS`), the number format and the model FLOP utilisation.
`physical_plan` and `whole_gpu_plan` take one as `training=` (a `Training`, a GPU name or
an `Accelerator`, or None for the default).

Until 0.3 the planners also take the 0.1 spellings, each under a `DeprecationWarning`
naming the new one: the training options as `train_gpu`, `train_gpus`,
`train_precision`, `train_mfu`, `train_price_per_hour`, and a deployment's fields as
loose keywords (`serving_plan(shape, tpot_seconds=0.1)`). `accepts_01_keywords` turns
them into `training=` and `deployment=` before the planner runs, so the planners'
signatures name every argument they take.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .._utils.checks import FRACTION, POSITIVE, choice, instance, number, optional, renamed, whole
from .._utils.deprecation import deprecated
from .._utils.frames import value_repr
from ..errors import ScaleplanError
from ..hardware.accelerators import (
    ACCELERATORS,
    PRECISIONS,
    Accelerator,
    accelerator,
    hourly_price,
)
from ..hardware.cost_model import CostModel
from .deployment import FIELDS as DEPLOYMENT_FIELDS
from .deployment import deployment_of

__all__ = [
    "DEFAULT_TRAINING_DAYS",
    "TRAINING_OPTIONS",
    "Training",
    "accepts_01_keywords",
    "plan_options",
    "training_of",
]

# Training is planned to finish within this many days when no GPU count is given.
DEFAULT_TRAINING_DAYS = 30.0

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Training:
    """How a model is trained, checked on construction (each error names its field).

    Parameters
    ----------
    gpu : str or Accelerator
        A catalogue name (`scaleplan hardware` lists them) or an `Accelerator`; stored as
        the `Accelerator`.
    gpus : int or None
        GPUs training it, a whole number >= 1 (None: the fewest, rounded up to a multiple
        of 8, that finish within `DEFAULT_TRAINING_DAYS` days and hold the training
        state). The planner checks that the state fits this many.
    precision : str
        The number format of the matrix multiplies, one the GPU has a dense peak for.
    mfu : float
        Model FLOP utilisation, a fraction in (0, 1]: the share of the dense peak
        (FLOP/s) the `6 N D` training FLOPs run at.
    price_per_hour : float or None
        US dollars per GPU-hour (None: the catalogue's price for `gpu`).

    Examples
    --------
    >>> from scaleplan import Training
    >>> t = Training("a100-80gb", mfu=0.45)
    >>> t.accelerator.name, t.mfu, t.replace(gpus=256).gpus
    ('a100-80gb', 0.45, 256)
    >>> t
    Training(gpu=<Accelerator a100-80gb>, gpus=None, precision='bf16', mfu=0.45,
        price_per_hour=None)
    """

    __repr__ = value_repr  # short: nested GPUs by name, numbers to four digits

    gpu: Accelerator | str = "h100-sxm"
    gpus: int | None = None
    precision: str = "bf16"
    mfu: float = 0.4
    price_per_hour: float | None = None

    def __post_init__(self) -> None:
        def set_(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        acc = accelerator(self.gpu, argument="gpu")
        set_("gpu", acc)
        if self.gpus is not None:
            set_("gpus", whole("gpus", self.gpus))
        set_("precision", choice("precision", self.precision, PRECISIONS))
        acc.peak(self.precision)  # a format the GPU has no peak for is refused here
        set_("mfu", number("mfu", self.mfu, FRACTION))
        set_("price_per_hour", optional("price_per_hour", self.price_per_hour, POSITIVE,
                                        unit="dollars"))  # fmt: skip

    @property
    def accelerator(self) -> Accelerator:
        """`gpu` as the `Accelerator` it was resolved to (typed for checkers)."""
        assert isinstance(self.gpu, Accelerator)
        return self.gpu

    @property
    def hourly_price(self) -> float:
        """Dollars per GPU-hour: `price_per_hour`, else the catalogue's for `gpu`."""
        return hourly_price(self.accelerator, self.price_per_hour)

    def replace(self, **changes: Any) -> Training:
        """This training with `changes` (field names) applied and checked."""
        unknown = sorted(set(changes) - FIELDS)
        if unknown:
            raise TypeError(f"{unknown[0]!r} is not a training option; a Training has "
                            f"{', '.join(sorted(FIELDS))}")  # fmt: skip
        return dataclasses.replace(self, **changes) if changes else self

    @classmethod
    def from_costs(cls, costs: CostModel, **changes: Any) -> Training:
        """The training a `CostModel` describes: its training GPU, format, MFU and price."""
        instance("costs", costs, CostModel, "a CostModel")
        base = cls(gpu=costs.train_gpu, precision=costs.train_precision, mfu=costs.train_mfu,
                   price_per_hour=costs.train_price_per_hour)  # fmt: skip
        return base.replace(**changes)


FIELDS = frozenset(f.name for f in dataclasses.fields(Training))


def training_of(training: Any) -> Training:
    """The training a planner was given, checked.

    Parameters
    ----------
    training : Training, str, Accelerator or None
        A `Training`; a GPU (catalogue name or `Accelerator`) for the default training
        on it; None for `Training()`.

    Returns
    -------
    Training
        The training.

    Raises
    ------
    ScaleplanError
        If `training` is none of these (an unknown GPU name included), naming `training`.

    Examples
    --------
    >>> from scaleplan import Training
    >>> from scaleplan.systems.training import training_of
    >>> training_of("a100-80gb").accelerator.name, training_of(None) == Training()
    ('a100-80gb', True)
    """
    if training is None:
        return Training()
    if isinstance(training, (str, Accelerator)):
        if isinstance(training, str) and training not in ACCELERATORS:
            raise ScaleplanError(f"training must be a Training, a GPU name "
                                 f"({', '.join(ACCELERATORS)}) or None; got {training!r}",
                                 "training")  # fmt: skip
        return Training(gpu=training)
    checked: Training = instance("training", training, Training,
                                 "a Training, a GPU name or None")  # fmt: skip
    return checked


# `training_plan`'s options, as `physical_plan` takes them (prefixed `train_`).
TRAINING_OPTIONS = ("gpu", "gpus", "precision", "mfu", "price_per_hour")


def plan_options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`physical_plan`'s 0.1 keywords split into `training_plan`'s and the deployment's.

    The 0.1 keyword form, kept until 0.3: the planners take `training=Training(...)` and
    `deployment=Deployment(...)`, and new code should pass those.

    Parameters
    ----------
    options : dict
        Keyword arguments: `train_*` training options and a deployment's fields.

    Returns
    -------
    (dict, dict)
        The training options with the `train_` prefix removed, and the rest.

    Raises
    ------
    TypeError
        If a `train_` keyword is not a training option (here, not two calls deeper).

    Examples
    --------
    >>> from scaleplan.systems.training import plan_options
    >>> plan_options({"train_mfu": 0.5, "tpot_seconds": 0.1})
    ({'mfu': 0.5}, {'tpot_seconds': 0.1})
    """
    train = {k[len("train_") :]: v for k, v in options.items() if k.startswith("train_")}
    unknown = sorted(set(train) - set(TRAINING_OPTIONS))
    if unknown:
        raise TypeError(f"'train_{unknown[0]}' is not a training option; physical_plan took "
                        f"{', '.join('train_' + k for k in TRAINING_OPTIONS)}")  # fmt: skip
    return train, {k: v for k, v in options.items() if not k.startswith("train_")}


# The 0.1 spelling of each training option (`physical_plan(train_mfu=0.5)`).
TRAIN_KEYWORDS = {f"train_{k}": k for k in TRAINING_OPTIONS}


def accepts_01_keywords(*, training: bool) -> Callable[[F], F]:
    """A planner that also takes the 0.1 loose keywords until 0.3, with a
    `DeprecationWarning` naming the new spelling.

    Parameters
    ----------
    training : bool
        Whether the planner takes `training=`: then the `train_*` options become a
        `Training`; a deployment's fields always become its `deployment=`. A keyword
        that is neither is the planner's own TypeError.

    Returns
    -------
    callable
        A decorator for a planner with a `deployment` parameter.

    Examples
    --------
    The 0.1 spelling still plans, and the warning names the new one:

    >>> import warnings
    >>> from scaleplan.systems.physical import serving_plan
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     plan = serving_plan("llama-2-7b", tpot_seconds=0.1, requests_per_day=1e6, days=30)
    >>> print(caught[0].message)
    serving_plan(tpot_seconds=) is the 0.1 spelling, removed in 0.3: pass
    deployment=Deployment(tpot_seconds=...)
    """

    def wrap(fn: F) -> F:
        # Where `deployment` sits among the positional arguments (serving_plan's second).
        names = list(inspect.signature(fn).parameters)
        at = names.index("deployment")

        @functools.wraps(fn)
        def planner(*args: Any, **kwargs: Any) -> Any:
            loose = {k: kwargs.pop(k) for k in list(kwargs) if k in DEPLOYMENT_FIELDS}
            train = {k: kwargs.pop(k) for k in list(kwargs) if training and k in TRAIN_KEYWORDS}
            if not (loose or train):
                return fn(*args, **kwargs)
            name = fn.__qualname__
            if loose:
                _warn(name, loose, "deployment=Deployment", "")
                if len(args) > at:  # given positionally
                    args = (*args[:at], deployment_of(args[at], loose), *args[at + 1 :])
                else:
                    kwargs["deployment"] = deployment_of(kwargs.get("deployment"), loose)
            if not train:
                return fn(*args, **kwargs)
            _warn(name, train, "training=Training", "train_")
            with renamed(**{v: k for k, v in TRAIN_KEYWORDS.items()}):
                if "training" in kwargs:
                    raise TypeError("the training was given twice: as training= and as train_*")
                kwargs["training"] = Training(**{TRAIN_KEYWORDS[k]: v for k, v in train.items()})
            # The planner's errors name `training.mfu`; this caller typed `train_mfu`.
            with renamed(**{f"training.{v}": k for k, v in TRAIN_KEYWORDS.items()}):
                return fn(*args, **kwargs)

        return planner  # type: ignore[return-value]

    return wrap


def _warn(name: str, given: dict[str, Any], spelling: str, prefix: str) -> None:
    old = ", ".join(f"{k}=" for k in given)
    new = ", ".join(f"{k[len(prefix) :]}=..." for k in given)
    deprecated(f"{name}({old}) is the 0.1 spelling, removed in 0.3: pass {spelling}({new})")
