//! The optimisers, as `scaleplan.optimal` calls them: the model (parameters N, tokens D)
//! that a loss target or a budget makes best over a model's lifetime.
//! - [`lifetime`]: the lifetime optimum in FLOPs or dollars, training plus inference
//!   (Sardana et al. 2024), one row or a batch;
//! - [`dual`]: its inverse, the lowest loss a lifetime budget buys;
//! - [`physical`]: the dollar optimum when serving costs follow a tabulated curve (the
//!   roofline of [`crate::systems::serving`]) instead of `2 N` FLOPs per token;
//! - [`data_constrained`]: the data-constrained law of Muennighoff et al. 2023 (a finite
//!   supply of unique tokens) and its optima, plain and under a serving curve.
//!
//! The laws they optimise are [`crate::laws`]'; every optimiser here is a kernel over
//! columns ([`crate::engine::batch`]).

pub mod data_constrained;
pub mod dual;
pub mod lifetime;
pub mod physical;
