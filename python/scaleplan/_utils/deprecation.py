"""DeprecationWarnings that point at the user's line.

A fixed `stacklevel` counts frames, and scaleplan's wrappers (`labelled`, the planners'
keyword adapter) add frames of their own, so a fixed count blamed a line inside the
package. `deprecated` walks out of the package instead.
"""

from __future__ import annotations

import sys
import warnings

__all__ = ["deprecated"]


def _inside(frame: object) -> bool:
    name = getattr(frame, "f_globals", {}).get("__name__", "")
    return name == "scaleplan" or name.startswith("scaleplan.")


def deprecated(message: str) -> None:
    """Warn with a DeprecationWarning attributed to the first caller outside scaleplan."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and _inside(frame):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, DeprecationWarning, stacklevel=level)
