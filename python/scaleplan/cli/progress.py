"""Progress bars for the command line's long work, on stderr, only while a person watches
(stderr is a terminal and --json is off); the library reports `progress(finished, total)`
and never draws anything itself.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from .._utils.progress import Progress


@contextmanager
def progress_bar(unit: str, as_json: bool) -> Iterator[Progress | None]:
    """A `progress(finished, total)` that drives a tqdm bar, or None when nobody watches."""
    if as_json or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(unit=unit, file=sys.stderr, leave=False) as bar:

        def show(finished: int, total: int) -> None:
            bar.total = total
            bar.update(finished - bar.n)

        yield show
