//! Strict hex encodings of byte strings and field elements (`SPEC.md` §2).
//!
//! Byte strings (identifiers, hashes, keys, signatures) are written as exactly `2·N` lowercase
//! hex digits; field elements as `0x` plus 64 lowercase hex digits below the modulus. Decoders
//! reject everything else (upper case, wrong lengths, prefixes, values `≥ r`), so one value has
//! exactly one accepted text form.
//!
//! The `serde` helper modules ([`hex32`], [`hex64`], [`field_hex`]) are meant for
//! `#[serde(with = "...")]` and decode without allocating.

use std::fmt;
use thiserror::Error;
use undersign_core::field;
use undersign_core::Fr;

/// Why a hex byte string was rejected.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum HexError {
    /// The text does not have exactly `2·N` characters.
    #[error("expected {expected} lowercase hex digits, got {found} characters")]
    BadLength {
        /// The required number of hex digits.
        expected: usize,
        /// The number of characters found.
        found: usize,
    },
    /// A character is not one of `0-9 a-f`.
    #[error("invalid hex digit at position {position} (only 0-9 and a-f are allowed)")]
    BadDigit {
        /// The 0-based character position of the first bad digit.
        position: usize,
    },
}

/// Decodes exactly `N` bytes from `2·N` lowercase hex digits.
pub fn decode_hex<const N: usize>(text: &str) -> Result<[u8; N], HexError> {
    let bytes = text.as_bytes();
    if bytes.len() != 2 * N {
        return Err(HexError::BadLength {
            expected: 2 * N,
            found: text.chars().count(),
        });
    }
    let mut out = [0u8; N];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let hi = nibble(pair[0]).ok_or(HexError::BadDigit { position: 2 * i })?;
        let lo = nibble(pair[1]).ok_or(HexError::BadDigit {
            position: 2 * i + 1,
        })?;
        out[i] = (hi << 4) | lo;
    }
    Ok(out)
}

/// Encodes bytes as lowercase hex.
pub fn encode_hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// The value of one lowercase hex digit.
fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// A visitor that hands a borrowed or transient string to `parse` without copying it.
struct StrVisitor<F> {
    expecting: &'static str,
    parse: F,
}

impl<'de, T, E, F> serde::de::Visitor<'de> for StrVisitor<F>
where
    F: FnOnce(&str) -> Result<T, E>,
    E: fmt::Display,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<Er: serde::de::Error>(self, v: &str) -> Result<T, Er> {
        (self.parse)(v).map_err(Er::custom)
    }
}

/// Deserializes a string through `parse`, without allocating.
pub(crate) fn deserialize_str_with<'de, D, T, E>(
    deserializer: D,
    expecting: &'static str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    E: fmt::Display,
{
    deserializer.deserialize_str(StrVisitor { expecting, parse })
}

/// `serde` helpers for `[u8; 32]` as 64 lowercase hex digits.
pub mod hex32 {
    use super::*;

    /// Serializes 32 bytes as 64 lowercase hex digits.
    pub fn serialize<S: serde::Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode_hex(bytes))
    }

    /// Deserializes exactly 64 lowercase hex digits.
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        deserialize_str_with(d, "64 lowercase hex digits", decode_hex::<32>)
    }
}

/// `serde` helpers for `[u8; 64]` as 128 lowercase hex digits.
pub mod hex64 {
    use super::*;

    /// Serializes 64 bytes as 128 lowercase hex digits.
    pub fn serialize<S: serde::Serializer>(bytes: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode_hex(bytes))
    }

    /// Deserializes exactly 128 lowercase hex digits.
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        deserialize_str_with(d, "128 lowercase hex digits", decode_hex::<64>)
    }
}

/// `serde` helpers for a field element in canonical text form (`0x` + 64 lowercase hex digits).
pub mod field_hex {
    use super::*;

    /// Serializes a field element canonically.
    pub fn serialize<S: serde::Serializer>(x: &Fr, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&field::to_hex(x))
    }

    /// Deserializes a canonical field element, rejecting values `≥ r` and any other form.
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Fr, D::Error> {
        deserialize_str_with(
            d,
            "a field element: 0x and 64 lowercase hex digits",
            field::from_hex,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_only_canonical_lowercase_hex() {
        let text = "00ff10".repeat(5) + "abcd";
        assert_eq!(text.len(), 34);
        assert_eq!(decode_hex::<17>(&text).unwrap()[1], 0xff);
        assert_eq!(encode_hex(&decode_hex::<17>(&text).unwrap()), text);
        assert_eq!(
            decode_hex::<17>(&text.to_uppercase()),
            Err(HexError::BadDigit { position: 2 })
        );
        assert_eq!(
            decode_hex::<16>(&text),
            Err(HexError::BadLength {
                expected: 32,
                found: 34
            })
        );
        assert_eq!(
            decode_hex::<1>("0x"),
            Err(HexError::BadDigit { position: 1 })
        );
        assert!(decode_hex::<2>("é1").is_err());
        assert_eq!(decode_hex::<0>("").unwrap(), [0u8; 0]);
    }

    #[derive(serde::Deserialize, serde::Serialize, Debug, PartialEq)]
    struct Sample {
        #[serde(with = "hex32")]
        id: [u8; 32],
        #[serde(with = "field_hex")]
        x: Fr,
    }

    #[test]
    fn serde_helpers_round_trip_and_reject() {
        let sample = Sample {
            id: [0xab; 32],
            x: Fr::from(5u64),
        };
        let json = serde_json::to_string(&sample).unwrap();
        assert_eq!(serde_json::from_str::<Sample>(&json).unwrap(), sample);
        assert!(serde_json::from_str::<Sample>(&json.replace("ab", "AB")).is_err());
        let r = "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001";
        let bad = json.replace(&field::to_hex(&Fr::from(5u64)), r);
        let err = serde_json::from_str::<Sample>(&bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("canonical"), "{err}");
        // Escaped strings still decode (serde hands over a transient string).
        let escaped = json.replacen("\"ab", "\"\\u0061b", 1);
        assert_eq!(serde_json::from_str::<Sample>(&escaped).unwrap(), sample);
    }
}
