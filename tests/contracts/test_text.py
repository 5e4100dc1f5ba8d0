"""How numbers print: counts with K/M/B/T, money as money."""

from __future__ import annotations

import math

import pytest

from scaleplan._utils.text import money, si_number


@pytest.mark.parametrize(
    ("dollars", "shown"),
    [
        (31_000, "$31.0k"),
        (1.04e6, "$1.04M"),
        (999_950, "$1.00M"),  # rounds into the next suffix, never "$1.00e+03k"
        (541_000, "$541k"),  # three digits, no bare decimal point
        (12.5, "$12.5"),
        (1.0, "$1.00"),
        (0.0368, "$0.0368"),
        (0.004, "$0.004"),
        (0.0, "$0"),
        (-2_500, "-$2.50k"),
        (3.2e12, "$3.20T"),
    ],
)
def test_money_reads_as_money(dollars: float, shown: str) -> None:
    assert money(dollars) == shown


@pytest.mark.parametrize(("count", "shown"), [(7e9, "7B"), (3.67e9, "3.67B"), (999_950, "1M"),
                                              (42, "42"), (2.53e12, "2.53T")])  # fmt: skip
def test_si_number(count: float, shown: str) -> None:
    assert si_number(count) == shown


def test_non_finite_values_are_not_dressed_as_numbers() -> None:
    assert money(math.nan) == "nan"
    assert si_number(math.inf) == "inf"
