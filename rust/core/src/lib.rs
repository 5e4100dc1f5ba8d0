//! scaleplan: the Chinchilla loss law, lifetime-optimal sizing (training plus inference),
//! the dual (best loss for a budget), the scaling-law fitting objective and transformer
//! step counts, in pure Rust. The `scaleplan` Python package is built on it by a separate
//! binding crate (`rust/python`); this crate knows nothing of Python.
//!
//! Every kernel works on plain slices, returns [`error::Error`] instead of panicking on
//! user input, and parallelises with rayon above [`engine::batch::PARALLEL_THRESHOLD`] rows.
//!
//! ```
//! use scaleplan::{law::Law, lifetime::{optimum, Options}};
//! let plan = optimum(&Law::CHINCHILLA, 2.1274, 2e11, &Options::default()).unwrap();
//! assert!((plan.params / 5.40e9 - 1.0).abs() < 0.01);
//! ```

pub mod data_constrained;
pub mod dual;
pub mod engine;
pub mod error;
pub mod fit;
pub mod flops;
pub mod law;
pub mod lifetime;
pub mod physical;
pub mod serving;
pub mod steptime;
