import os

import memo
import pytest
from hypothesis import HealthCheck, settings

# Local runs take 100 examples a property, CI 1000 (docs/developer/testing.md: the suite
# runs on 2 workers in under 3 minutes on the 2-core Xeon; CI has the time to search wider).
settings.register_profile(
    "default", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# Mutation testing (.ci/mutation_sample.py) runs each mutant's tests with fewer examples:
# its score is a lower bound on what the full count kills (docs/developer/testing.md).
settings.register_profile(
    "mutation", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(
    os.environ.get("SCALEPLAN_HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "default")
)

# fit_law's grid stage, each distinct fit once per test process (tests/memo.py).
memo.install()


def examples(fraction: float) -> int:
    """A share of the loaded profile's max_examples, for tests too slow to run the full
    count: `@settings(max_examples=examples(40 / 300))` runs 40 of every 300 examples the
    profile runs (13 under "default", 100; 133 under "ci", 1000), instead of pinning 40."""
    return max(1, round(settings.default.max_examples * fraction))


@pytest.fixture
def families_computed_once(monkeypatch):
    """`compare_families` memoized for this test (tests/inprocess.py)."""
    from inprocess import compute_families_once

    compute_families_once(monkeypatch)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    # Under pytest-xdist (`-n auto --dist loadgroup`, pyproject.toml) the tests of one
    # `xdist_group` run on one worker, one after another. xdist 3.8 tells the controller a
    # test's group by appending "@group" to the legacy `item._nodeid`, which pytest 9.2 no
    # longer reads (`nodeid` comes from the structured `item._id`), so the groups were
    # silently ignored (pytest-dev/pytest-xdist#1386, fix pending in #1388). On a worker,
    # after xdist's own hook, give `_id` the suffix; a no-op once xdist does it.
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import coerce_node_id

    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})  # fmt: skip
        suffix = "@" + "_".join(names)
        if names and not item.nodeid.endswith(suffix):
            item._id = coerce_node_id(item.nodeid + suffix)
