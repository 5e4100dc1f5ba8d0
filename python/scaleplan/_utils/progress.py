"""The one progress protocol of scaleplan's long work (fit starts, bootstrap resamples,
reproduce steps, sweep chunks): `progress(finished, total)`, called as work completes.

The command line turns it into a progress bar on a terminal; the library never draws one.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int], None]
