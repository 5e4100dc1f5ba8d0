"""The papers reproduced: printed tables (`tables`), the reproduction run (`reproduce`), its
figures (`figures`) and its fits (`fits`). Imported by path; nothing here is in
`scaleplan.__all__`."""

from .._moved import forward

__all__: list[str] = []

# In scaleplan 0.1 `scaleplan.paper` was the module that is `paper.tables` now.
__getattr__ = forward(["scaleplan.paper.tables"], old="paper")
