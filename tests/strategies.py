"""Hypothesis strategies shared by the test modules."""

import math

from hypothesis import strategies as st


def log_uniform(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(math.log10(lo), math.log10(hi)).map(lambda x: 10.0**x)


laws = st.tuples(
    log_uniform(0.05, 5.0),  # E
    log_uniform(1.0, 1e5),  # A
    log_uniform(1.0, 1e5),  # B
    st.floats(0.05, 1.0),  # alpha
    st.floats(0.05, 1.0),  # beta
)
gaps = log_uniform(1e-6, 10.0)
# Demand: mostly positive (the Newton path), zero (the closed-form Chinchilla case) in one
# draw of ten. `st.one_of(st.just(0.0), log_uniform(...))` spent 57% of the examples at zero:
# Hypothesis picks the branches evenly and keeps re-using the one-value branch.
demands = st.integers(0, 9).flatmap(lambda k: st.just(0.0) if k == 9 else log_uniform(1e-3, 1e22))
