"""The law-family protocol: how a loss law of any family reaches the optimisers.

A law family is a value that implements `LawFamily`: its loss `L(N, D, *data)`, its floor,
its FLOPs (a mixture-of-experts family counts active parameters there and total ones in
memory), the law it reduces to when its data are absent, and the kernels it registers for
each optimiser. `ScalingLaw` (`E + A N^-alpha + B D^-beta`) is the base family: every
optimiser carries its own kernel for it, and every other family reduces to one.
`DataConstrainedLaw` (Muennighoff et al. 2023, data `unique_tokens`) is the first other
family; mixture-of-experts and precision-aware laws come next, each in a module of its own
that calls `register` and changes no optimiser.

The optimisers (`compute_optimal`, `cost_optimal`, `best_quality`, `physical_optimal`,
`whole_gpu_plan`) never import a family: they ask `route` for the kernel that serves the
law and data they were given. A family's data keyword is also a convenience at the entry
points: `unique_tokens=U` with a plain law adopts it into the family that takes that data
(the published R_D*, R_N*), and a family law given without its data reduces to its base law
(an unlimited supply is the plain law).

Registration happens when a family's module is imported. `import scaleplan` is lazy, so
the registry imports the built-in families' modules itself (`_REGISTRANTS`) the first time
it is read: the table is full whichever module a caller imports first.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

from ..errors import ScaleplanError

__all__ = ["OPTIMISERS", "Family", "LawFamily", "families", "register", "route"]

# What a family may register a kernel for: the entry points' names (a kernel takes the
# entry point's own arguments), and `tokens_for_params`, the iso-loss tokens at given sizes
# that `whole_gpu_plan` prices.
OPTIMISERS: tuple[str, ...] = (
    "compute_optimal",
    "cost_optimal",
    "best_quality",
    "physical_optimal",
    "tokens_for_params",
)


@runtime_checkable
class LawFamily(Protocol):
    """What every law family provides to the optimisers.

    Units: N parameters (count), D training tokens, the loss in nats/token, FLOPs. `data`
    names the per-scenario inputs the loss takes beyond N and D, in the order `loss` and
    `floor` take them (none for the base family). A runtime-checkable protocol: any value
    with these members is a law family.

    Examples
    --------
    >>> from scaleplan import CHINCHILLA, MUENNIGHOFF2023, LawFamily
    >>> isinstance(CHINCHILLA, LawFamily), CHINCHILLA.data
    (True, ())
    >>> MUENNIGHOFF2023.data
    ('unique_tokens',)
    """

    data: ClassVar[tuple[str, ...]]

    @property
    def name(self) -> str: ...

    def loss(self, params: Any, tokens: Any, *data: Any) -> Any: ...

    def floor(self, *data: Any) -> Any: ...

    def reduced(self) -> Any:
        """The base law this one equals when its data are absent."""
        ...

    def training_flops(self, params: Any, tokens: Any) -> Any: ...

    def inference_flops(self, params: Any, tokens: Any) -> Any: ...


@dataclass(frozen=True)
class Family:
    """One registered law family, as `register` records it.

    Parameters
    ----------
    cls : type
        The family's class.
    data : tuple of str
        Its data keywords (for example `("unique_tokens",)`).
    adopt : callable
        How a plain law (or preset name) is adopted into the family when its data keyword
        is given.
    kernels : mapping of str to callable
        Its kernels by optimiser name (`OPTIMISERS`).
    passes : tuple of str
        Other families' data keywords its kernels take and hand on (the MoE family's
        kernels take `unique_tokens` and compose with finite data), so that one call may
        give both.

    Examples
    --------
    >>> from scaleplan.laws.family import families
    >>> family = families()[0]
    >>> family.cls.__name__, family.data
    ('DataConstrainedLaw', ('unique_tokens',))
    """

    cls: type
    data: tuple[str, ...]
    adopt: Callable[[Any], Any]
    kernels: Mapping[str, Callable[..., Any]]
    passes: tuple[str, ...] = ()


_FAMILIES: dict[type, Family] = {}
# The modules that register a family when imported. `import scaleplan` imports nothing
# until a name is asked for, so the registry imports these itself before it is read: the
# families are all there whatever the caller imported first.
_REGISTRANTS = ("scaleplan.optimal.data_constrained", "scaleplan.optimal.experts")
_loaded = False  # once: `route` runs on every optimiser call


def _registered() -> dict[type, Family]:
    global _loaded
    if not _loaded:
        _loaded = True  # first: a registrant's own `register` call reads the registry
        for name in _REGISTRANTS:
            importlib.import_module(name)
    return _FAMILIES


def register(
    cls: type,
    *,
    adopt: Callable[[Any], Any],
    kernels: Mapping[str, Callable[..., Any]],
    passes: tuple[str, ...] = (),
) -> Family:
    """Register a family's kernels, at its module's import.

    Parameters
    ----------
    cls : type
        The family's class; its `data` names its data keywords, none of them another
        family's.
    adopt : callable
        Takes a plain law (or preset name) to the family, for the data keyword's
        convenience.
    kernels : mapping of str to callable
        The kernel for each optimiser in `OPTIMISERS` the family serves.
    passes : tuple of str, optional
        Other families' data keywords its kernels also take (`Family.passes`).

    Returns
    -------
    Family
        The record, also kept in the registry (registering a class again replaces it).

    Raises
    ------
    ValueError
        A programming error: a kernel for an unknown optimiser, or data keywords that are
        empty or another family's.

    Examples
    --------
    The data-constrained family is registered before the registry is first read; registering
    it again with the same entries changes nothing:

    >>> from scaleplan import DataConstrainedLaw
    >>> from scaleplan.laws.family import families, register
    >>> old = families()[0]
    >>> new = register(DataConstrainedLaw, adopt=old.adopt, kernels=old.kernels)
    >>> new == old, len(families())
    (True, 2)
    """
    unknown = set(kernels) - set(OPTIMISERS)
    if unknown:
        raise ValueError(f"{cls.__name__} registers unknown optimisers {sorted(unknown)}")
    data = tuple(cls.data)
    taken = {k for f in _registered().values() if f.cls is not cls for k in f.data}
    if not data or taken & set(data):
        raise ValueError(f"{cls.__name__} needs data keywords of its own; got {data}")
    family = Family(cls, data, adopt, dict(kernels), tuple(passes))
    _FAMILIES[cls] = family
    return family


def families() -> tuple[Family, ...]:
    """Every registered family, ordered by its class's module and name: a fixed order,
    whichever family's module a caller imported first (registration order depends on it).

    Returns
    -------
    tuple of Family

    Examples
    --------
    >>> from scaleplan.laws.family import families
    >>> [family.cls.__name__ for family in families()]
    ['DataConstrainedLaw', 'JointMoELaw']
    """
    return tuple(sorted(_registered().values(),
                        key=lambda f: (f.cls.__module__, f.cls.__qualname__)))  # fmt: skip


def route(
    optimiser: str, law: Any, **data: Any
) -> tuple[Callable[..., Any] | None, Any, dict[str, Any]]:
    """The kernel that serves `law` and its data in `optimiser`.

    With data given: the kernel of the family that takes them (one family, or one that
    `passes` the others' keywords on), and `law` adopted into it (a plain law or preset
    name takes the family's published constants). Without: `(None, law, {})` for the
    optimiser's own base-family path, a family law replaced by the law it reduces to.

    Parameters
    ----------
    optimiser : str
        An entry point's name, one of `OPTIMISERS`.
    law : LawFamily or str
        The law as the caller gave it.
    **data
        The data keywords (for example `unique_tokens=`, in tokens); None means absent.

    Returns
    -------
    tuple of (callable or None, law, dict)
        The kernel (None for the base family's own path), the law it takes, and the data
        given (the keywords to call the kernel with).

    Raises
    ------
    ScaleplanError
        If no one family takes the data given together, or the family has no kernel for
        `optimiser`.

    Examples
    --------
    >>> from scaleplan import MUENNIGHOFF2023
    >>> from scaleplan.laws.family import route
    >>> kernel, law, given = route("compute_optimal", "chinchilla", unique_tokens=1e10)
    >>> type(law).__name__, law.law.name, given
    ('DataConstrainedLaw', 'chinchilla', {'unique_tokens': 10000000000.0})
    >>> route("compute_optimal", MUENNIGHOFF2023)[1].name  # no data: the base law
    'muennighoff2023'
    """
    given = {k: v for k, v in data.items() if v is not None}
    if not given:
        family = _registered().get(type(law))
        return None, (law.reduced() if family is not None else law), {}
    owners = {f.cls: f for f in _registered().values() for k in given if k in f.data}
    own = _registered().get(type(law))
    if own is not None:  # a family law takes its own kernels, if they take the data
        owners[own.cls] = own
    outer = [f for f in owners.values() if set(given) <= set(f.data) | set(f.passes)]
    if own in outer:
        outer = [own]
    if len(outer) != 1:
        raise ScaleplanError(
            f"no one law family takes {', '.join(given)} together", next(iter(given))
        )
    family = outer[0]
    kernel = family.kernels.get(optimiser)
    if kernel is None:
        raise ScaleplanError(
            f"{optimiser} has no kernel for the {family.cls.__name__} family", "law"
        )
    return kernel, family.adopt(law), given
