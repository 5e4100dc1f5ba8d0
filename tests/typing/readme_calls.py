"""The README's main calls as a type checker sees them (run by tests/contracts/test_public_api.py).

Each `reveal_type` must name a result class, never `Any`; the last line must be an error.
"""

from typing import reveal_type

import scaleplan as sp

reveal_type(sp.compute_optimal(2.2, 1e12))
reveal_type(sp.compute_optimal(2.2, 1e12, unique_tokens=1e11))
reveal_type(sp.cost_optimal(2.2, 1e9))
reveal_type(sp.best_quality(1e23, 1e12))
reveal_type(sp.physical_optimal(2.2, 1e9))
reveal_type(sp.chinchilla_optimal(loss=2.2))
reveal_type(sp.fit_law)
misspelt = sp.compute_optimal(2.2, 1e12).parmas
