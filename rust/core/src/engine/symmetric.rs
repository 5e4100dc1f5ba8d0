//! Small symmetric matrices: the eigen-decomposition the fitting Newton methods need to
//! leave a saddle point.

// Rotations index rows and columns of one matrix by the same k.
#![allow(clippy::needless_range_loop)]

/// The lowest eigenvalue of a symmetric matrix and a unit eigenvector for it, by cyclic
/// Jacobi rotations (exact to rounding for these small matrices; no BLAS, same bits on
/// every CPU).
pub fn lowest_eigenpair<const K: usize>(m: &[[f64; K]; K]) -> (f64, [f64; K]) {
    let mut a = *m;
    let mut v = [[0.0; K]; K];
    for (k, row) in v.iter_mut().enumerate() {
        row[k] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..K)
            .flat_map(|p| (p + 1..K).map(move |q| (p, q)))
            .map(|(p, q)| a[p][q] * a[p][q])
            .sum();
        let diag: f64 = (0..K).map(|k| a[k][k] * a[k][k]).sum();
        if off.is_nan() || off <= 1e-30 * diag {
            break;
        }
        for p in 0..K {
            for q in p + 1..K {
                if a[p][q] == 0.0 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..K {
                    let (akp, akq) = (a[k][p], a[k][q]);
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
                for k in 0..K {
                    let (apk, aqk) = (a[p][k], a[q][k]);
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vp, vq) = (row[p], row[q]);
                    row[p] = c * vp - s * vq;
                    row[q] = s * vp + c * vq;
                }
            }
        }
    }
    let low = (0..K).fold(0, |best, k| if a[k][k] < a[best][best] { k } else { best });
    (a[low][low], std::array::from_fn(|k| v[k][low]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_eigenpair_satisfies_its_equation() {
        let m = [
            [4.0, 1.0, -2.0, 0.5],
            [1.0, -3.0, 0.0, 1.0],
            [-2.0, 0.0, 1.0, 2.0],
            [0.5, 1.0, 2.0, 0.0],
        ];
        let (lambda, v) = lowest_eigenpair(&m);
        let norm: f64 = v.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-12);
        for k in 0..4 {
            let mv: f64 = (0..4).map(|l| m[k][l] * v[l]).sum();
            assert!((mv - lambda * v[k]).abs() < 1e-12, "{k}");
        }
        // The lowest: the Rayleigh quotient of every unit vector is at least lambda.
        for probe in [
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.5, 0.5, -0.5, 0.5],
        ] {
            let q: f64 = (0..4)
                .flat_map(|k| (0..4).map(move |l| (k, l)))
                .map(|(k, l)| probe[k] * m[k][l] * probe[l])
                .sum();
            let n: f64 = probe.iter().map(|x| x * x).sum();
            assert!(q / n >= lambda - 1e-12);
        }
    }
}
