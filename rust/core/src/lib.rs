//! scaleplan: the Chinchilla loss law, lifetime-optimal sizing (training plus inference),
//! the dual (best loss for a budget), the scaling-law fitting objective and transformer
//! step counts, in pure Rust. The `scaleplan` Python package is built on it by a separate
//! binding crate (`rust/python`); this crate knows nothing of Python.
//!
//! The modules are the Python package's domains, under the same names (`scaleplan::laws`
//! here is `scaleplan.laws` there), so a concept lives in one place in both languages:
//! - [`laws`]: the loss law, its presets and closed-form optima, and the FLOP convention
//!   ([`laws::flops`]);
//! - [`arch`]: a transformer's shape and what one training step of it counts (parameters,
//!   FLOPs, memory traffic);
//! - [`systems`]: what a model costs on real hardware ([`systems::serving`], the roofline);
//! - [`optimal`]: the optimisers: lifetime sizing, its dual, the optimum under a serving
//!   curve, and under a finite supply of unique data;
//! - [`fitting`]: fitting a law to runs (Huber objective, Newton polish, Kaplan's form,
//!   Epoch's likelihood);
//! - [`engine`] and [`error`]: what every kernel runs on, and the one error type.
//!
//! Every kernel works on plain slices, returns [`error::Error`] instead of panicking on
//! user input, and parallelises with rayon above [`engine::batch::PARALLEL_THRESHOLD`] rows.
//!
//! ```
//! use scaleplan::laws::Law;
//! use scaleplan::optimal::lifetime::{optimum, Options};
//! let plan = optimum(&Law::CHINCHILLA, 2.1274, 2e11, &Options::default()).unwrap();
//! assert!((plan.params / 5.40e9 - 1.0).abs() < 0.01);
//! ```

pub mod arch;
pub mod engine;
pub mod error;
pub mod fitting;
pub mod laws;
pub mod optimal;
pub mod systems;
