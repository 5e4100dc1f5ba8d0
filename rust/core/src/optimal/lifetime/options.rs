//! How to solve: the methods, Newton's start rule, tolerances and their limits.

use super::*;

/// Root-finding method for Eq. 12.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Newton on `h(s) = K` from the monotone start; vectorised (the default).
    #[default]
    Newton,
    /// Halley (cubic) from the same start.
    Halley,
    /// Bisection on the bracket `[s_lo, s0]`.
    Bisect,
    /// Brent's method on the same bracket.
    Brent,
    /// The paper's own route: secant steps on Eq. 12 in raw D, from D = 1e8.
    SecantD,
}

impl Method {
    pub const NAMES: &'static [&'static str] = &["newton", "halley", "bisect", "brent", "secant-d"];

    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "newton" => Ok(Method::Newton),
            "halley" => Ok(Method::Halley),
            "bisect" => Ok(Method::Bisect),
            "brent" => Ok(Method::Brent),
            "secant-d" => Ok(Method::SecantD),
            _ => Err(Error::Unknown {
                argument: "method",
                given: name.to_string(),
                valid: Self::NAMES,
            }),
        }
    }

    /// The public name (the inverse of `from_name`).
    pub fn name(self) -> &'static str {
        match self {
            Method::Newton => "newton",
            Method::Halley => "halley",
            Method::Bisect => "bisect",
            Method::Brent => "brent",
            Method::SecantD => "secant-d",
        }
    }
}

/// Where Newton starts when every row shares one law.
///
/// The start never changes the root beyond rounding, but it can change the last bit, so a
/// caller that splits one problem into pieces (a Dask chunk, say) passes the rule the whole
/// problem would use, and the pieces then equal the whole bit for bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Start {
    /// [`Start::Table`] for batches of at least [`TABLE_MIN_ROWS`] rows, else [`Start::Bound`].
    #[default]
    Auto,
    /// The monotone bound `min(K/beta, K/(beta+1))`.
    Bound,
    /// The per-law table of roots (built once per beta and process, then cached).
    Table,
}

impl Start {
    pub const NAMES: &'static [&'static str] = &["auto", "bound", "table"];

    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "auto" => Ok(Start::Auto),
            "bound" => Ok(Start::Bound),
            "table" => Ok(Start::Table),
            _ => Err(Error::Unknown {
                argument: "start",
                given: name.to_string(),
                valid: Self::NAMES,
            }),
        }
    }

    /// The rule a batch of `rows` rows follows, fixed (`Auto` resolved), for a caller that
    /// solves the batch in pieces and wants the whole batch's bits.
    pub fn for_rows(self, rows: usize) -> Start {
        if self.uses_table(rows) {
            Start::Table
        } else {
            Start::Bound
        }
    }

    pub(crate) fn uses_table(self, rows: usize) -> bool {
        match self {
            Start::Auto => rows >= TABLE_MIN_ROWS,
            Start::Bound => false,
            Start::Table => true,
        }
    }
}

/// How to solve: method, tolerance on `ln D` (so a relative tolerance on tokens and,
/// through the finish, on params), iteration cap, the invalid-row policy and, for Newton
/// with one shared law, the start rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    pub method: Method,
    pub tol: f64,
    pub max_iter: u32,
    pub on_invalid: OnInvalid,
    pub start: Start,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            method: Method::Newton,
            tol: DEFAULT_TOL,
            max_iter: DEFAULT_MAX_ITER,
            on_invalid: OnInvalid::Raise,
            start: Start::Auto,
        }
    }
}

/// Default tolerance on `ln D`: a few ulp of the logarithm at realistic sizes.
pub const DEFAULT_TOL: f64 = 1e-13;
/// What `tol` must be, as every layer's error message says it.
pub const TOL_RANGE: &str = "a number in (0, 1)";
/// What `max_iter` must be, as every layer's error message says it.
pub const MAX_ITER_RANGE: &str = "an integer in [1, 1000000]";
/// Default iteration cap; Newton needs at most 7 from its start (see tests).
pub const DEFAULT_MAX_ITER: u32 = 100;
/// Largest iteration cap accepted: far beyond any method's need (bisection halves a
/// bracket to f64 resolution in ~60 steps), low enough that a typo cannot hang a batch.
pub const MAX_ITER_LIMIT: u32 = 1_000_000;

impl Options {
    pub fn new(method: Method, tol: f64, max_iter: u32, on_invalid: OnInvalid) -> Result<Self> {
        if !(is_positive(tol) && tol < 1.0) {
            return Err(Error::Invalid {
                argument: "tol",
                value: tol,
                requirement: TOL_RANGE,
                index: None,
            });
        }
        if !(1..=MAX_ITER_LIMIT).contains(&max_iter) {
            return Err(Error::Invalid {
                argument: "max_iter",
                value: f64::from(max_iter),
                requirement: MAX_ITER_RANGE,
                index: None,
            });
        }
        Ok(Options {
            method,
            tol,
            max_iter,
            on_invalid,
            start: Start::Auto,
        })
    }

    /// Options from their public names and values, as a binding or a command line receives
    /// them: every name, range and message of the solver's options is checked here and only
    /// here. `max_iter` arrives as a float so that any integer the caller gave is named in
    /// the message, not wrapped or saturated on the way in.
    ///
    /// ```
    /// use scaleplan::optimal::lifetime::Options;
    /// let o = Options::parse("newton", 1e-12, 50.0, "nan", "bound").unwrap();
    /// assert_eq!(o.max_iter, 50);
    /// let e = Options::parse("newton", 1e-12, 2.5, "raise", "auto").unwrap_err();
    /// assert_eq!(e.argument(), Some("max_iter"));
    /// ```
    pub fn parse(
        method: &str,
        tol: f64,
        max_iter: f64,
        on_invalid: &str,
        start: &str,
    ) -> Result<Self> {
        let method = Method::from_name(method)?;
        let on_invalid = OnInvalid::from_name(on_invalid)?;
        let start = Start::from_name(start)?;
        let limit = f64::from(MAX_ITER_LIMIT);
        if !(max_iter.fract() == 0.0 && (1.0..=limit).contains(&max_iter)) {
            return Err(Error::Invalid {
                argument: "max_iter",
                value: max_iter,
                requirement: MAX_ITER_RANGE,
                index: None,
            });
        }
        // In [1, MAX_ITER_LIMIT] and whole, so the conversion is exact.
        let max_iter = max_iter as u32;
        Ok(Options::new(method, tol, max_iter, on_invalid)?.with_start(start))
    }

    /// The same options with another start rule.
    pub fn with_start(self, start: Start) -> Self {
        Options { start, ..self }
    }
}
