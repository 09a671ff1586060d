//! Proof and verifying-key encodings (`SPEC.md` §Encodings).
//!
//! A proof is 128 bytes: `A` (G1, 32 bytes), `B` (G2, 64 bytes), `C` (G1, 32 bytes), each in
//! arkworks' compressed form (little-endian x coordinate with the y sign and infinity flags in
//! the top bits). Text form: 256 lowercase hex digits. Decoding checks that every coordinate is
//! canonical, that each point is on the curve and in the prime-order subgroup.

use crate::decompress;
use crate::subgroup::g2_in_subgroup_assuming_on_curve;
use crate::{Proof, VerifyingKey};
use ark_bn254::G1Affine;
use ark_serialize::{
    CanonicalDeserialize, CanonicalSerialize, Compress, SerializationError, Validate,
};
use thiserror::Error;

/// Length of an encoded proof in bytes.
pub const PROOF_LEN: usize = 128;

/// Where `B` starts in an encoded proof (after `A`, 32 bytes).
const B_OFFSET: usize = 32;

/// Where `C` starts in an encoded proof (after `A`, 32 bytes, and `B`, 64 bytes).
const C_OFFSET: usize = 96;

/// Why a proof or key could not be decoded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum EncodingError {
    /// Wrong length.
    #[error("expected {expected} bytes, got {actual}")]
    Length {
        /// The required length.
        expected: usize,
        /// The length received.
        actual: usize,
    },
    /// Not lowercase hex.
    #[error("invalid hex: only lowercase 0-9 and a-f are allowed")]
    Hex,
    /// A coordinate is not canonical, a point is not on the curve or not in the subgroup.
    #[error("invalid curve point: {0}")]
    Point(String),
}

impl From<SerializationError> for EncodingError {
    fn from(e: SerializationError) -> Self {
        EncodingError::Point(e.to_string())
    }
}

/// A proof in its 128-byte compressed encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProofBytes(pub [u8; PROOF_LEN]);

impl ProofBytes {
    /// Encodes a proof.
    pub fn encode(proof: &Proof) -> Result<Self, EncodingError> {
        let mut out = [0u8; PROOF_LEN];
        proof.serialize_compressed(&mut out[..])?;
        Ok(ProofBytes(out))
    }

    /// Decodes and fully validates a proof (canonical coordinates, on curve, in subgroup).
    ///
    /// Decompression already yields points on the curve (it fails if `x` has no `y`); the
    /// checks are repeated here, and G2 membership uses the fast test of [`crate::subgroup`].
    /// G1 has cofactor 1, so every G1 point on the curve is in the subgroup.
    pub fn decode(&self) -> Result<Proof, EncodingError> {
        #[cfg(target_arch = "x86_64")]
        if undersign_core::cpu::has_bmi2_adx() {
            // SAFETY: the CPU has both features the function is compiled for (checked above).
            return unsafe { self.decode_bmi2_adx() };
        }
        self.decode_portable()
    }

    /// [`Self::decode`] compiled for CPUs with BMI2 and ADX ([`undersign_core::cpu`]).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "bmi2,adx")]
    fn decode_bmi2_adx(&self) -> Result<Proof, EncodingError> {
        self.decode_portable()
    }

    /// [`Self::decode`] for any CPU.
    #[inline(always)]
    fn decode_portable(&self) -> Result<Proof, EncodingError> {
        // arkworks' `Proof::deserialize_compressed` without validation, with faster square
        // roots; the checks follow.
        let proof = Proof {
            a: decompress::g1(&self.0[..B_OFFSET])?,
            b: decompress::g2(&self.0[B_OFFSET..C_OFFSET])?,
            c: decompress::g1(&self.0[C_OFFSET..])?,
        };
        let g1_ok = |p: &ark_bn254::G1Affine| {
            p.is_on_curve() && p.is_in_correct_subgroup_assuming_on_curve()
        };
        if !g1_ok(&proof.a) || !g1_ok(&proof.c) {
            return Err(EncodingError::Point(
                "a G1 point is not on the curve".into(),
            ));
        }
        if !proof.b.is_on_curve() || !g2_in_subgroup_assuming_on_curve(&proof.b) {
            return Err(EncodingError::Point(
                "B is not in the prime-order subgroup of G2".into(),
            ));
        }
        if Self::encode(&proof)? != *self {
            return Err(non_canonical_infinity());
        }
        Ok(proof)
    }

    /// `C` alone, with the same checks as [`Self::decode`] (canonical, on the curve; G1 has
    /// cofactor 1), for a verifier that uses `C` apart from `A` and `B`.
    pub(crate) fn c_point(&self) -> Result<G1Affine, EncodingError> {
        let c = decompress::g1(&self.0[C_OFFSET..])?;
        if !c.is_on_curve() || !c.is_in_correct_subgroup_assuming_on_curve() {
            return Err(EncodingError::Point(
                "a G1 point is not on the curve".into(),
            ));
        }
        let mut canonical = [0u8; PROOF_LEN - C_OFFSET];
        c.serialize_compressed(&mut canonical[..])?;
        if canonical[..] != self.0[C_OFFSET..] {
            return Err(non_canonical_infinity());
        }
        Ok(c)
    }

    /// Reads the 128 bytes from a slice of exactly that length.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, EncodingError> {
        let array: [u8; PROOF_LEN] = bytes.try_into().map_err(|_| EncodingError::Length {
            expected: PROOF_LEN,
            actual: bytes.len(),
        })?;
        Ok(ProofBytes(array))
    }

    /// The text form: 256 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses the text form, strictly.
    pub fn from_hex(text: &str) -> Result<Self, EncodingError> {
        Self::from_slice(&decode_lower_hex(text)?)
    }
}

/// arkworks' decoder ignores the x-coordinate of a point flagged as infinity; the decoders here
/// re-encode and compare, so that every point (and proof) has exactly one encoding.
fn non_canonical_infinity() -> EncodingError {
    EncodingError::Point("the point at infinity must be encoded with x = 0".into())
}

/// Decodes lowercase hex, rejecting upper case and any other character.
pub fn decode_lower_hex(text: &str) -> Result<Vec<u8>, EncodingError> {
    if !text
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(EncodingError::Hex);
    }
    hex::decode(text).map_err(|_| EncodingError::Hex)
}

/// Encodes a verifying key (compressed points).
pub fn verifying_key_to_bytes(vk: &VerifyingKey) -> Vec<u8> {
    let mut buf = Vec::with_capacity(vk.compressed_size());
    // Writing into a Vec cannot fail for valid points.
    let _ = vk.serialize_compressed(&mut buf);
    buf
}

/// Decodes and fully validates a verifying key; trailing bytes are an error.
///
/// This checks the encoding and the points only; the rules a key must meet to verify proofs
/// (no point at infinity, `δ₂ ≠ ±γ₂`, one input commitment per public input plus one) are
/// [`crate::verifier::check_verifying_key`], which [`crate::Verifier::new`] applies.
pub fn verifying_key_from_bytes(bytes: &[u8]) -> Result<VerifyingKey, EncodingError> {
    let mut reader = bytes;
    let vk = VerifyingKey::deserialize_with_mode(&mut reader, Compress::Yes, Validate::Yes)?;
    if !reader.is_empty() {
        return Err(EncodingError::Length {
            expected: bytes.len() - reader.len(),
            actual: bytes.len(),
        });
    }
    Ok(vk)
}

/// The blake3 hash identifying a verifying key: over its compressed encoding, as hex.
pub fn verifying_key_hash(vk: &VerifyingKey) -> String {
    blake3::hash(&verifying_key_to_bytes(vk))
        .to_hex()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    /// The copy of `decode` compiled for BMI2 and ADX agrees with the portable one on a valid
    /// proof and on every single-bit corruption of it (most of which it must reject).
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn bmi2_adx_copy_matches_portable() {
        if !undersign_core::cpu::has_bmi2_adx() {
            eprintln!("skipped: this CPU has no BMI2/ADX");
            return;
        }
        let (prover, statement) = crate::tests::one_member_prover(4);
        let proof = prover
            .prove(&statement, &mut ChaCha20Rng::seed_from_u64(12))
            .unwrap();
        let bytes = ProofBytes::encode(&proof).unwrap();
        let outcome = |bytes: &ProofBytes| {
            // SAFETY: checked `has_bmi2_adx()` above.
            let fast = unsafe { bytes.decode_bmi2_adx() }.map_err(|e| e.to_string());
            let portable = bytes.decode_portable().map_err(|e| e.to_string());
            assert_eq!(fast, portable);
            fast
        };
        assert_eq!(outcome(&bytes), Ok(proof));
        let mut rejected = 0;
        for byte in 0..PROOF_LEN {
            for bit in 0..8 {
                let mut corrupt = bytes;
                corrupt.0[byte] ^= 1 << bit;
                rejected += usize::from(outcome(&corrupt).is_err());
            }
        }
        assert!(
            rejected > PROOF_LEN * 8 / 2,
            "{rejected} corruptions rejected"
        );
    }

    /// `c_point` accepts exactly the `C` that `decode` accepts: on a valid proof, and on every
    /// single-bit corruption of `C` (those of `A` and `B` leave `C` valid).
    #[test]
    fn c_point_agrees_with_decode() {
        let (prover, statement) = crate::tests::one_member_prover(4);
        let proof = prover
            .prove(&statement, &mut ChaCha20Rng::seed_from_u64(13))
            .unwrap();
        let bytes = ProofBytes::encode(&proof).unwrap();
        assert_eq!(bytes.c_point(), Ok(proof.c));
        let mut rejected = 0;
        for byte in 0..PROOF_LEN {
            for bit in 0..8 {
                let mut corrupt = bytes;
                corrupt.0[byte] ^= 1 << bit;
                let c = corrupt.c_point();
                if byte < C_OFFSET {
                    assert_eq!(c, Ok(proof.c), "byte {byte} bit {bit}");
                } else {
                    assert_eq!(c.is_ok(), corrupt.decode().is_ok(), "byte {byte} bit {bit}");
                    if let (Ok(c), Ok(decoded)) = (&c, corrupt.decode()) {
                        assert_eq!(*c, decoded.c);
                    }
                    rejected += usize::from(c.is_err());
                }
            }
        }
        assert!(
            rejected > 32 * 8 / 2,
            "{rejected} corruptions of C rejected"
        );
    }

    /// `decode` accepts exactly the bytes arkworks' validating decoder accepts and that
    /// re-encode to themselves (the one encoding of infinity), with the same points: on a
    /// proof of random group points and every single-bit corruption of it.
    #[test]
    fn decode_agrees_with_arkworks_validating_decoder() {
        use ark_ec::{CurveGroup, PrimeGroup};
        use ark_ff::UniformRand;
        let mut rng = ChaCha20Rng::seed_from_u64(14);
        let mut scalar = || ark_bn254::Fr::rand(&mut rng);
        let proof = Proof {
            a: (ark_bn254::G1Projective::generator() * scalar()).into_affine(),
            b: (ark_bn254::G2Projective::generator() * scalar()).into_affine(),
            c: (ark_bn254::G1Projective::generator() * scalar()).into_affine(),
        };
        let bytes = ProofBytes::encode(&proof).unwrap();
        let arkworks = |bytes: &ProofBytes| {
            Proof::deserialize_with_mode(&bytes.0[..], Compress::Yes, Validate::Yes)
                .ok()
                .filter(|p| ProofBytes::encode(p).as_ref() == Ok(bytes))
        };
        assert_eq!(bytes.decode().ok(), Some(proof));
        let mut accepted = 0;
        for byte in 0..PROOF_LEN {
            for bit in 0..8 {
                let mut corrupt = bytes;
                corrupt.0[byte] ^= 1 << bit;
                let ours = corrupt.decode().ok();
                assert_eq!(ours, arkworks(&corrupt), "byte {byte} bit {bit}");
                accepted += usize::from(ours.is_some());
            }
        }
        // Flipping a y-sign flag gives the negated point, still valid: some are accepted.
        assert!(accepted >= 3, "{accepted}");
    }

    /// The point at infinity has one encoding: x = 0 with only the infinity flag. The same
    /// flag with any other x is refused, for A, B and C alike.
    #[test]
    fn the_point_at_infinity_has_one_encoding() {
        use ark_ec::AffineRepr;
        // Decoding checks points, not pairings: the generators stand in for a proof.
        let proof = Proof {
            a: G1Affine::generator(),
            b: ark_bn254::G2Affine::generator(),
            c: G1Affine::generator(),
        };
        // (first byte, end) of A, B and C.
        for (start, end) in [(0, 32), (32, 96), (C_OFFSET, PROOF_LEN)] {
            let mut with_infinity = proof.clone();
            match start {
                0 => with_infinity.a = G1Affine::default(),
                32 => with_infinity.b = ark_bn254::G2Affine::default(),
                _ => with_infinity.c = G1Affine::default(),
            }
            let canonical = ProofBytes::encode(&with_infinity).unwrap();
            assert_eq!(canonical.0[end - 1], 0x40, "only the infinity flag");
            assert!(canonical.0[start..end - 1].iter().all(|&b| b == 0));
            assert_eq!(canonical.decode(), Ok(with_infinity.clone()));
            for byte in start..end - 1 {
                let mut other = canonical;
                other.0[byte] = 1;
                assert!(other.decode().is_err(), "x byte {byte} set under the flag");
                if start == C_OFFSET {
                    assert!(other.c_point().is_err(), "C: x byte {byte}");
                }
            }
            // The y-sign bit next to the infinity flag is refused as well.
            let mut both_flags = canonical;
            both_flags.0[end - 1] |= 0x80;
            assert!(both_flags.decode().is_err());
        }
    }
}
