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
demands = st.one_of(st.just(0.0), log_uniform(1e-3, 1e22))
