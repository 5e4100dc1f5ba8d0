"""Every public Python entry point against every class of hostile argument (issue 23).

Each argument of each entry's valid call is replaced, one at a time, by each value of
`contract.HOSTILE`; the call must raise a `ScaleplanError` naming that argument (or a
`TypeError` naming it) or give a finite answer, within 20 s. A second test draws any float
or integer under Hypothesis for the same places.
"""

from __future__ import annotations

import pytest
from contract import HOSTILE, check, label
from entries import ENTRIES, Entry
from hypothesis import given
from hypothesis import strategies as st

# Fits are fuzzed on one value of each class (the rest repeat a class at more cost).
SLOW_SUBSET = (
    True, "1", None, float("nan"), float("inf"), 0, -1, 5e-324, 1e308, 10**400,
    HOSTILE[29], HOSTILE[37], HOSTILE[41], HOSTILE[44],
)  # fmt: skip


def _failures(entry: Entry, values: tuple) -> list[str]:
    out = []
    for argument in entry.base:
        for value in values:
            kwargs = {**entry.base, argument: value}
            problem = check(entry.fn, kwargs, argument, entry.nan_ok)
            if problem:
                out.append(f"{entry.name}({argument}={label(value)}): {problem}")
    return out


@pytest.mark.timeout(900)
@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_every_argument_against_every_hostile_class(entry):
    # The valid call itself keeps the contract (else the test would prove nothing).
    assert check(entry.fn, dict(entry.base), "", entry.nan_ok) is None
    failures = _failures(entry, SLOW_SUBSET if entry.slow else HOSTILE)
    assert not failures, "\n".join(failures)


FAST = [e for e in ENTRIES if not e.slow]


@pytest.mark.timeout(900)
@given(
    st.sampled_from(FAST).flatmap(lambda e: st.tuples(st.just(e), st.sampled_from(sorted(e.base)))),
    st.one_of(st.floats(), st.integers(), st.floats(width=32), st.sampled_from(HOSTILE)),
)
def test_any_number_anywhere(where, value):
    entry, argument = where
    kwargs = {**entry.base, argument: entry.drawn(argument, value)}
    problem = check(entry.fn, kwargs, argument, entry.nan_ok)
    assert problem is None, f"{entry.name}({argument}={label(value)}): {problem}"
