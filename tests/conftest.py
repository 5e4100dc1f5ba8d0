import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "default")


def examples(fraction: float) -> int:
    """A share of the loaded profile's max_examples, for tests too slow to run the full
    count: `@settings(max_examples=examples(40 / 300))` runs 40 examples under the default
    profile (300) and scales with it, to 133 under "ci" (1000), instead of pinning 40."""
    return max(1, round(settings.default.max_examples * fraction))
