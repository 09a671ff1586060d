//! Canonical encodings of BN254 scalar-field elements.
//!
//! Text form (`SPEC.md` §Encodings): `0x` followed by exactly 64 lowercase hex digits, the
//! big-endian bytes of the integer, which must be below the field modulus `r`. Every decoder
//! rejects non-canonical input, so two different strings never name the same element.

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};
use thiserror::Error;

/// Why a field element could not be decoded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum FieldError {
    /// The text is not `0x` plus 64 lowercase hex digits.
    #[error("expected 0x followed by 64 lowercase hex digits, got {0} characters")]
    BadLength(usize),
    /// The text lacks the `0x` prefix.
    #[error("expected a 0x prefix")]
    MissingPrefix,
    /// The text contains a character that is not a lowercase hex digit.
    #[error("invalid hex digit (only 0-9 and a-f are allowed)")]
    BadHex,
    /// The integer is not below the field modulus, so it would alias another element.
    #[error("value is not a canonical field element (it is not below the BN254 scalar modulus)")]
    NotCanonical,
}

/// Encodes a field element as 32 big-endian bytes.
pub fn to_bytes_be(x: &Fr) -> [u8; 32] {
    let bytes = x.into_bigint().to_bytes_be();
    let mut out = [0u8; 32];
    out.copy_from_slice(&bytes);
    out
}

/// Decodes 32 big-endian bytes, rejecting values that are not below the modulus.
pub fn from_bytes_be(bytes: &[u8; 32]) -> Result<Fr, FieldError> {
    let reduced = Fr::from_be_bytes_mod_order(bytes);
    if to_bytes_be(&reduced) == *bytes {
        Ok(reduced)
    } else {
        Err(FieldError::NotCanonical)
    }
}

/// Encodes a field element in its canonical text form (`0x` + 64 lowercase hex digits).
pub fn to_hex(x: &Fr) -> String {
    format!("0x{}", hex::encode(to_bytes_be(x)))
}

/// Decodes the canonical text form; anything else is an error.
pub fn from_hex(text: &str) -> Result<Fr, FieldError> {
    let digits = text.strip_prefix("0x").ok_or(FieldError::MissingPrefix)?;
    if digits.len() != 64 {
        return Err(FieldError::BadLength(text.len()));
    }
    if !digits
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(FieldError::BadHex);
    }
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(digits, &mut bytes).map_err(|_| FieldError::BadHex)?;
    from_bytes_be(&bytes)
}

/// Parses a decimal integer below the modulus (used for test vectors and circom interop).
pub fn from_decimal(text: &str) -> Result<Fr, FieldError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::BadHex);
    }
    let ten = Fr::from(10u64);
    let acc = text.bytes().fold(Fr::from(0u64), |acc, b| {
        acc * ten + Fr::from(u64::from(b - b'0'))
    });
    // Canonicality: re-render and compare, so values >= r are rejected instead of reduced.
    let trimmed = text.trim_start_matches('0');
    let trimmed = if trimmed.is_empty() { "0" } else { trimmed };
    if acc.into_bigint().to_string() == trimmed {
        Ok(acc)
    } else {
        Err(FieldError::NotCanonical)
    }
}

/// Renders a field element as a decimal integer.
pub fn to_decimal(x: &Fr) -> String {
    x.into_bigint().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{BigInteger256, Field};

    /// r, the BN254 scalar modulus, big-endian.
    const MODULUS_HEX: &str = "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001";

    #[test]
    fn hex_round_trip() {
        let x = Fr::from(123456789u64).inverse().unwrap();
        assert_eq!(from_hex(&to_hex(&x)).unwrap(), x);
        assert_eq!(
            to_hex(&Fr::from(1u64)),
            "0x0000000000000000000000000000000000000000000000000000000000000001"
        );
    }

    #[test]
    fn modulus_constant_matches_arkworks() {
        let m: BigInteger256 = Fr::MODULUS;
        assert_eq!(format!("0x{}", hex::encode(m.to_bytes_be())), MODULUS_HEX);
    }

    #[test]
    fn rejects_modulus_and_aliases() {
        assert_eq!(from_hex(MODULUS_HEX), Err(FieldError::NotCanonical));
        // r + 1 would alias 1.
        let r_plus_one = "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000002";
        assert_eq!(from_hex(r_plus_one), Err(FieldError::NotCanonical));
        let r_minus_one = "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000000";
        assert_eq!(from_hex(r_minus_one).unwrap(), -Fr::from(1u64));
    }

    #[test]
    fn rejects_malformed_text() {
        let one = to_hex(&Fr::from(1u64));
        assert_eq!(from_hex(&one[2..]), Err(FieldError::MissingPrefix));
        let letters = to_hex(&Fr::from(0xabcdefu64));
        assert!(from_hex(&letters).is_ok());
        assert_eq!(
            from_hex(&letters.to_uppercase().replacen("0X", "0x", 1)),
            Err(FieldError::BadHex)
        );
        assert!(matches!(
            from_hex(&one[..60]),
            Err(FieldError::BadLength(_))
        ));
        assert!(matches!(
            from_hex(&format!("{one}0")),
            Err(FieldError::BadLength(_))
        ));
        let mut bad = one.clone();
        bad.replace_range(10..11, "g");
        assert_eq!(from_hex(&bad), Err(FieldError::BadHex));
        assert!(from_hex("").is_err());
    }

    #[test]
    fn decimal_is_canonical() {
        assert_eq!(from_decimal("42").unwrap(), Fr::from(42u64));
        assert_eq!(from_decimal("0042").unwrap(), Fr::from(42u64));
        let r = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
        let r_plus_one =
            "21888242871839275222246405745257275088548364400416034343698204186575808495618";
        let r_minus_one =
            "21888242871839275222246405745257275088548364400416034343698204186575808495616";
        assert_eq!(from_decimal(r), Err(FieldError::NotCanonical));
        assert_eq!(from_decimal(r_plus_one), Err(FieldError::NotCanonical));
        assert_eq!(from_decimal(r_minus_one).unwrap(), -Fr::from(1u64));
        assert!(from_decimal("-1").is_err());
        assert_eq!(to_decimal(&Fr::from(7u64)), "7");
    }
}
