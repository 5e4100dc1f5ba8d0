"""Pure-Python references that the tests check the Rust core against (`reference`: the
laws and their optimisers; `reference_data`: the data-constrained law; `reference_fits`:
the fits; `reference_systems`: step time, serving and the physical optimum). They write
every formula themselves, sharing no code with the package, so that a fault in one cannot
hide in both."""

__all__: list[str] = []
