//! Law coefficients as batch columns: one law per row, or one shared by all.

use super::*;

/// Law coefficients as columns, so one batch can evaluate many laws (bootstrap samples).
#[derive(Debug, Clone, Copy)]
pub struct LawColumns<'a> {
    pub e: Column<'a>,
    pub a: Column<'a>,
    pub b: Column<'a>,
    pub alpha: Column<'a>,
    pub beta: Column<'a>,
}

impl<'a> LawColumns<'a> {
    /// Columns from slices of length 1 or `n`.
    pub fn new(coefficients: [&'a [f64]; 5], n: usize) -> Result<Self> {
        let [e, a, b, alpha, beta] = coefficients;
        Ok(LawColumns {
            e: Column::new("E", e, n)?,
            a: Column::new("A", a, n)?,
            b: Column::new("B", b, n)?,
            alpha: Column::new("alpha", alpha, n)?,
            beta: Column::new("beta", beta, n)?,
        })
    }

    /// The law of row `i`, validated.
    #[inline]
    pub fn get(&self, i: usize) -> Result<Law> {
        Law::checked(
            self.e.get(i),
            self.a.get(i),
            self.b.get(i),
            self.alpha.get(i),
            self.beta.get(i),
            Some(i),
        )
    }

    pub fn is_scalar(&self) -> bool {
        self.e.is_scalar()
            && self.a.is_scalar()
            && self.b.is_scalar()
            && self.alpha.is_scalar()
            && self.beta.is_scalar()
    }
}
