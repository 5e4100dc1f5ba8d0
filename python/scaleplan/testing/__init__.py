"""Pure-Python references that the tests check the Rust core against (`reference`,
`reference_fits`). They write every formula themselves, sharing no code with the package,
so that a fault in one cannot hide in both."""

__all__: list[str] = []
