//! Arithmetic the scorer needs beyond IEEE basics, written with basic operations only (no
//! libm), so results are bit-identical native and on wasm32. Imports nothing.

/// log2 with basic arithmetic only (exponent bits plus an atanh series on the mantissa), so it
/// is bit-identical on every target; accurate to about 1e-12 for ratios we see.
pub fn log2(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return f64::INFINITY;
    }
    let mut x = x;
    let mut exp = 0i32;
    // Normalise subnormals first so the exponent bits are meaningful.
    if x < f64::MIN_POSITIVE {
        x *= 18_446_744_073_709_551_616.0; // 2^64
        exp -= 64;
    }
    let bits = x.to_bits();
    exp += ((bits >> 52) & 0x7ff) as i32 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000); // [1, 2)
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        exp += 1;
    }
    // ln(m) = 2·atanh((m−1)/(m+1)); |z| < 0.172 so 12 terms reach f64 precision.
    let z = (m - 1.0) / (m + 1.0);
    let z2 = z * z;
    let mut term = z;
    let mut sum = 0.0;
    let mut k = 1.0;
    for _ in 0..12 {
        sum += term / k;
        term *= z2;
        k += 2.0;
    }
    f64::from(exp) + 2.0 * sum / std::f64::consts::LN_2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_matches_std_closely() {
        for x in [1e-9, 0.001, 0.5, 1.0, 1.5, 2.0, 3.0, 10.0, 12345.678, 1e12, 5e-324] {
            let (ours, std) = (log2(x), x.log2());
            assert!((ours - std).abs() < 1e-9, "{x}: {ours} vs {std}");
        }
        assert_eq!(log2(0.0), f64::NEG_INFINITY);
        assert_eq!(log2(-1.0), f64::NEG_INFINITY);
    }
}
