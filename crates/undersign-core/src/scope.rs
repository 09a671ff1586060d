//! Petition scopes and signer messages: domain-separated blake3 digests truncated to 248 bits
//! so they are always canonical field elements (`SPEC.md` §Scope and message).

use ark_bn254::Fr;
use ark_ff::PrimeField;

/// blake3 `derive_key` context for a petition file's scope.
pub const SCOPE_CONTEXT: &str = "undersign v1 petition scope";
/// blake3 `derive_key` context for a signer's comment.
pub const MESSAGE_CONTEXT: &str = "undersign v1 signer message";

/// The first 248 bits (31 bytes, big-endian) of `blake3::derive_key(context, bytes)`.
pub fn digest_to_field(context: &str, bytes: &[u8]) -> Fr {
    let digest = blake3::derive_key(context, bytes);
    // 31 bytes < 2^248 < r, so the value is canonical and the reduction never wraps.
    Fr::from_be_bytes_mod_order(&digest[..31])
}

/// The scope of a petition: its file's bytes, hashed under [`SCOPE_CONTEXT`].
pub fn petition_scope(petition_file: &[u8]) -> Fr {
    digest_to_field(SCOPE_CONTEXT, petition_file)
}

/// The public `message` input for a comment. No comment at all is the value 0; any comment,
/// even an empty string, is its UTF-8 bytes hashed under [`MESSAGE_CONTEXT`].
pub fn message(comment: Option<&str>) -> Fr {
    match comment {
        None => Fr::from(0u64),
        Some(text) => digest_to_field(MESSAGE_CONTEXT, text.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::BigInteger;

    #[test]
    fn scope_is_the_first_248_bits() {
        let digest = blake3::derive_key(SCOPE_CONTEXT, b"petition");
        let scope = petition_scope(b"petition");
        let be = scope.into_bigint().to_bytes_be();
        assert_eq!(be[0], 0);
        assert_eq!(&be[1..], &digest[..31]);
        assert_ne!(scope, petition_scope(b"petition "));
    }

    #[test]
    fn message_domain_is_separate_from_scope() {
        assert_eq!(message(None), Fr::from(0u64));
        assert_ne!(message(Some("")), Fr::from(0u64));
        assert_ne!(message(Some("x")), petition_scope(b"x"));
    }
}
