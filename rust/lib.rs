//! scaleplan's Rust core: the Chinchilla loss law, lifetime-optimal sizing (training plus
//! inference) and the batch machinery behind the `scaleplan` Python package.
//!
//! Every kernel works on plain slices, returns [`error::Error`] instead of panicking on
//! user input, and parallelises with rayon above [`batch::PARALLEL_THRESHOLD`] rows.
//! The Python bindings live in `python.rs`, compiled only with the `python` feature.

pub mod batch;
pub mod dual;
pub mod error;
pub mod fit;
pub mod fit_newton;
pub mod law;
pub mod lifetime;
pub mod steptime;
pub mod vmath;

#[cfg(feature = "python")]
mod python;
