//! The engine every kernel runs on: input columns and the invalid-row policy (`batch`),
//! broadcast grids read in place (`grid`), the instruction set chosen at run time (`simd`),
//! vector maths in lanes (`vmath`), and a small symmetric eigensolver (`symmetric`). No
//! kernel here knows a law, a plan or a shape.

pub mod batch;
pub mod grid;
pub mod simd;
pub mod symmetric;
pub mod vmath;
