//! The one error type of the crate. It knows nothing of Python: the binding crate maps every
//! variant to `ValueError` in a single place.

use std::fmt;

/// An input outside the domain of a kernel, or a result the kernel cannot deliver.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// Element `index` of `argument` is `value`, which breaks `requirement`.
    ///
    /// `index` is `None` for scalar arguments (options, single laws).
    Invalid {
        argument: &'static str,
        value: f64,
        requirement: &'static str,
        index: Option<usize>,
    },
    /// Two columns of one batch have lengths that do not broadcast.
    Length {
        argument: &'static str,
        len: usize,
        expected: usize,
    },
    /// An option that is not one of the accepted names.
    Unknown {
        argument: &'static str,
        given: String,
        valid: &'static [&'static str],
    },
    /// The solver ran out of iterations at element `index`.
    NotConverged { index: usize, iterations: u32 },
    /// No usable answer exists for element `index`; `reason` says why (e.g. a budget too
    /// small to buy a model of one parameter).
    Unreachable {
        index: usize,
        argument: &'static str,
        reason: &'static str,
    },
    /// The answer exists but `quantity` is beyond the range of an f64 (`ln_value` is its log).
    Overflow {
        index: usize,
        quantity: &'static str,
        ln_value: f64,
    },
}

impl Error {
    /// The public name of the argument at fault, when one is (`None` for a solver that did
    /// not converge or an answer beyond the float range).
    pub fn argument(&self) -> Option<&'static str> {
        match self {
            Error::Invalid { argument, .. }
            | Error::Length { argument, .. }
            | Error::Unknown { argument, .. }
            | Error::Unreachable { argument, .. } => Some(argument),
            Error::NotConverged { .. } | Error::Overflow { .. } => None,
        }
    }

    /// The same error with its row moved `by` rows on: a kernel run on a block of a larger
    /// batch reports rows of the whole batch.
    pub fn offset(self, by: usize) -> Error {
        match self {
            Error::Invalid {
                argument,
                value,
                requirement,
                index,
            } => Error::Invalid {
                argument,
                value,
                requirement,
                index: index.map(|i| i + by),
            },
            Error::NotConverged { index, iterations } => Error::NotConverged {
                index: index + by,
                iterations,
            },
            Error::Unreachable {
                index,
                argument,
                reason,
            } => Error::Unreachable {
                index: index + by,
                argument,
                reason,
            },
            Error::Overflow {
                index,
                quantity,
                ln_value,
            } => Error::Overflow {
                index: index + by,
                quantity,
                ln_value,
            },
            other => other,
        }
    }

    /// The same error about row `index`: an `Invalid` from a check that did not know its
    /// row (or, with `None`, from a batch check reused for one scalar call).
    pub fn at_row(self, index: Option<usize>) -> Error {
        match self {
            Error::Invalid {
                argument,
                value,
                requirement,
                ..
            } => Error::Invalid {
                argument,
                value,
                requirement,
                index,
            },
            other => other,
        }
    }

    /// Index of the offending element, when the error belongs to one.
    pub fn index(&self) -> Option<usize> {
        match self {
            Error::Invalid { index, .. } => *index,
            Error::NotConverged { index, .. }
            | Error::Overflow { index, .. }
            | Error::Unreachable { index, .. } => Some(*index),
            Error::Length { .. } | Error::Unknown { .. } => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invalid {
                argument,
                value,
                requirement,
                index,
            } => {
                write!(f, "{argument} must be {requirement}; got {value:?}")?;
                if *value != 0.0 && value.abs() < f64::MIN_POSITIVE {
                    write!(f, " (subnormal: inputs must be 0 or at least 2.2e-308)")?;
                }
                if let Some(i) = index {
                    write!(f, " at index {i}")?;
                }
                Ok(())
            }
            Error::Length {
                argument,
                len,
                expected,
            } => write!(
                f,
                "{argument} has length {len}; expected 1 or {expected} to match the other inputs"
            ),
            Error::Unknown {
                argument,
                given,
                valid,
            } => write!(
                f,
                "{argument} must be one of {}; got {given:?}",
                valid.join(", ")
            ),
            Error::NotConverged { index, iterations } => write!(
                f,
                "solver did not converge at index {index} (stopped after {iterations} \
                 iterations); raise max_iter, loosen tol or use method=\"newton\""
            ),
            Error::Unreachable { index, reason, .. } => write!(f, "{reason}; at index {index}"),
            Error::Overflow {
                index,
                quantity,
                ln_value,
            } => write!(
                f,
                "the answer at index {index} has exp({ln_value:.1}) {quantity}, outside the \
                 float64 range; {}",
                overflow_hint(quantity)
            ),
        }
    }
}

impl std::error::Error for Error {}

/// What makes `quantity` overflow, for `Error::Overflow`'s message. Sizes and training
/// dollars follow the loss target's distance from E; serving dollars are the lifetime
/// requests times a request's dollars, whatever the target.
fn overflow_hint(quantity: &str) -> &'static str {
    if quantity == "serving dollars" {
        "the lifetime requests times the dollars of one request (its GPU time, \
         peak_to_average and the GPU price) are too large"
    } else {
        "the loss target is too close to, or too far above, the law's E"
    }
}

/// Whether `value` is an input "> 0" as every kernel reads it: finite and at least the
/// smallest normal f64. A subnormal input carries fewer than 53 significant bits and its
/// reciprocal is infinite, so it is refused like 0 (and the message says why).
#[inline(always)]
pub fn is_positive(value: f64) -> bool {
    value.is_finite() && value >= f64::MIN_POSITIVE
}

/// Whether `value` is an input ">= 0": exactly 0 or `is_positive`.
#[inline(always)]
pub fn is_non_negative(value: f64) -> bool {
    value == 0.0 || is_positive(value)
}

/// Shorthand used by every kernel.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnormal_inputs_are_neither_positive_nor_silently_zero() {
        let tiny = f64::MIN_POSITIVE;
        assert!(is_positive(tiny) && !is_positive(tiny / 2.0) && !is_positive(5e-324));
        assert!(!is_positive(0.0) && !is_positive(f64::INFINITY) && !is_positive(f64::NAN));
        assert!(is_non_negative(0.0) && is_non_negative(-0.0) && is_non_negative(tiny));
        assert!(!is_non_negative(5e-324) && !is_non_negative(-tiny));
        let e = crate::laws::Law::new(1.69, 5e-324, 410.7, 0.336, 0.283).unwrap_err();
        assert_eq!(
            e.to_string(),
            "A must be finite and > 0; got 5e-324 (subnormal: inputs must be 0 or at least 2.2e-308)"
        );
    }
}
