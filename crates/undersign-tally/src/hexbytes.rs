//! Strict lowercase-hex decoding of fixed-size byte strings (`SPEC.md` §2).

/// Decodes exactly `N` bytes from `2N` lowercase hex digits.
pub fn decode<const N: usize>(text: &str) -> Result<[u8; N], String> {
    if text.len() != 2 * N {
        return Err(format!("expected {} lowercase hex digits, got {} characters", 2 * N, text.len()));
    }
    if !text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err("invalid hex digit (only 0-9 and a-f are allowed)".into());
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn strict() {
        assert_eq!(super::decode::<2>("0aff").unwrap(), [0x0a, 0xff]);
        assert!(super::decode::<2>("0AFF").is_err());
        assert!(super::decode::<2>("0af").is_err());
        assert!(super::decode::<2>("0afff0").is_err());
        assert!(super::decode::<2>("0xff").is_err());
    }
}
