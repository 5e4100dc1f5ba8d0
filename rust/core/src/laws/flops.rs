//! Model FLOPs: the one place the Rust core writes the planner's FLOP convention.
//!
//! Training a dense transformer of `N` parameters on `D` tokens costs `6 N D` FLOPs (a
//! forward pass of `2 N` per token and a backward pass of `4 N`; Kaplan et al. 2020 §2.1,
//! Hoffmann et al. 2022 §3), and serving it `2 N` per token, prompt or generated (Sardana
//! et al. 2024 §3). `N` is the count of parameters each token passes through: for a
//! mixture-of-experts model, the active ones. The Python package reads these constants
//! from here (`scaleplan.laws.flops`); the step-time and serving models count FLOPs matrix
//! by matrix instead, from the shape.

/// FLOPs per parameter per training token (2 forward, 4 backward).
pub const TRAINING_PER_PARAM: f64 = 6.0;
/// FLOPs per parameter per token served (forward only).
pub const INFERENCE_PER_PARAM: f64 = 2.0;
/// How many tokens served cost as much as one trained: `6 / 2 = 3`, exact in f64 (the
/// lifetime condition's `D_inf / 3`).
pub const TRAINING_PER_INFERENCE: f64 = TRAINING_PER_PARAM / INFERENCE_PER_PARAM;
/// `ln 3`, rounded to nearest (`std` has no `ln` in `const`; a test checks it).
pub const LN_TRAINING_PER_INFERENCE: f64 = 1.098_612_288_668_109_8;

/// `6 N D`: FLOPs to train `params` on `tokens`.
#[inline(always)]
pub fn training(params: f64, tokens: f64) -> f64 {
    TRAINING_PER_PARAM * params * tokens
}

/// `2 N D_inf`: FLOPs to serve `tokens` on a model of `params`.
#[inline(always)]
pub fn inference(params: f64, tokens: f64) -> f64 {
    INFERENCE_PER_PARAM * params * tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_convention_and_its_derived_constants_agree() {
        assert_eq!(TRAINING_PER_INFERENCE, 3.0);
        assert_eq!(LN_TRAINING_PER_INFERENCE, TRAINING_PER_INFERENCE.ln());
        assert_eq!(training(7e9, 2e12), 6.0 * 7e9 * 2e12);
        assert_eq!(inference(7e9, 1e12), 2.0 * 7e9 * 1e12);
    }
}
