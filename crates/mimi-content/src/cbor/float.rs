//! IEEE 754 half precision, by hand: deterministic CBOR needs to know whether
//! a float fits exactly in 16 bits (RFC 8949 §4.2.1), and this is the only
//! place that needs it, so no `half` dependency.

/// Decodes half-precision bits.
pub(crate) fn f16_bits_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 == 0 { 1.0 } else { -1.0 };
    let exp = i32::from((bits >> 10) & 0x1f);
    let mant = f64::from(bits & 0x3ff);
    let magnitude = match exp {
        0 => mant * pow2(-24),
        31 if mant == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (1024.0 + mant) * pow2(exp - 25),
    };
    sign * magnitude
}

/// The half-precision bits of `v` if it is exactly representable (NaN never is
/// here: the writer handles it separately).
pub(crate) fn f64_to_f16_bits(v: f64) -> Option<u16> {
    let sign: u16 = if v.is_sign_negative() { 0x8000 } else { 0 };
    if v.is_nan() {
        return None;
    }
    if v == 0.0 {
        return Some(sign);
    }
    if v.is_infinite() {
        return Some(sign | 0x7c00);
    }
    let a = v.abs();
    if !(pow2(-24)..=65504.0).contains(&a) {
        return None;
    }
    if a < pow2(-14) {
        // Subnormal half: a multiple of 2^-24 below 2^-14.
        let m = a * pow2(24);
        return (m.fract() == 0.0).then_some(sign | m as u16);
    }
    // `a` is a normal f64 here, so its exponent field is its binary exponent.
    let e = ((a.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    let q = a * pow2(10 - e);
    if q.fract() != 0.0 {
        return None;
    }
    let mant = q as u16 - 1024;
    let exp = (e + 15) as u16;
    Some(sign | (exp << 10) | mant)
}

/// 2^n exactly, for the small exponents used here.
fn pow2(n: i32) -> f64 {
    f64::from_bits(((1023 + n) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_finite_half_round_trips() {
        for bits in 0u16..=0xffff {
            let v = f16_bits_to_f64(bits);
            if v.is_nan() {
                continue;
            }
            assert_eq!(f64_to_f16_bits(v), Some(bits), "{bits:#06x} = {v}");
        }
    }

    #[test]
    fn values_between_halves_do_not_fit() {
        assert_eq!(f64_to_f16_bits(1.0 + pow2(-11)), None);
        assert_eq!(f64_to_f16_bits(65504.0 + 32.0), None);
        assert_eq!(f64_to_f16_bits(pow2(-25)), None);
        assert_eq!(f64_to_f16_bits(0.1), None);
        assert_eq!(f64_to_f16_bits(f64::NAN), None);
    }
}
