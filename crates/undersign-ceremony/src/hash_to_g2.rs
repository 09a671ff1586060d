//! Hashing to G2 (`SPEC.md` §17.1): points whose discrete logarithm nobody knows, bound to
//! the transcript, used as the `r` of every proof of knowledge.
//!
//! For `counter = 0, 1, 2, …`:
//! 1. `bytes` = 128 bytes of blake3 extended output, `derive_key` mode with `context`, over
//!    `input ‖ counter as u32 LE`;
//! 2. `x = c0 + c1·u` with `c0` = `bytes[0..64]` and `c1` = `bytes[64..128]`, each read as a
//!    little-endian integer reduced mod q;
//! 3. if `x³ + b'` is a square in Fq2, take the point `(x, y)` with the **smaller** of its two
//!    square roots `y`, `−y`, ordered as arkworks orders Fq2 (compare `c1` as integers, then
//!    `c0`);
//! 4. multiply it by the G2 cofactor `h₂` (plain scalar multiplication);
//! 5. the first counter whose result is not the point at infinity gives the output.

use ark_bn254::{g2, Fq, Fq2, G2Affine};
use ark_ec::{AffineRepr, CurveConfig, CurveGroup};
use ark_ff::PrimeField;

/// The G2 cofactor `h₂` of BN254 (decimal), as stated in `SPEC.md`.
pub const G2_COFACTOR_DECIMAL: &str =
    "21888242871839275222246405745257275088844257914179612981679871602714643921549";

/// Hashes `input` under `context` to a point of the prime-order subgroup of G2 (see module
/// docs). Never returns the point at infinity.
pub fn hash_to_g2(context: &str, input: &[u8]) -> G2Affine {
    let mut counter: u32 = 0;
    loop {
        if let Some(point) = candidate(context, input, counter) {
            return point;
        }
        counter = counter.wrapping_add(1);
    }
}

fn candidate(context: &str, input: &[u8], counter: u32) -> Option<G2Affine> {
    let mut hasher = blake3::Hasher::new_derive_key(context);
    hasher.update(input);
    hasher.update(&counter.to_le_bytes());
    let mut bytes = [0u8; 128];
    hasher.finalize_xof().fill(&mut bytes);
    let x = Fq2::new(
        Fq::from_le_bytes_mod_order(&bytes[..64]),
        Fq::from_le_bytes_mod_order(&bytes[64..]),
    );
    let point = G2Affine::get_point_from_x_unchecked(x, false)?;
    let cleared = point
        .mul_bigint(<g2::Config as CurveConfig>::COFACTOR)
        .into_affine();
    (!cleared.is_zero()).then_some(cleared)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::BigInteger;

    #[test]
    fn cofactor_matches_the_documented_value() {
        let big = ark_ff::BigInt::<4>(
            <g2::Config as CurveConfig>::COFACTOR
                .try_into()
                .expect("4 limbs"),
        );
        let decimal = num_decimal(&big.to_bytes_be());
        assert_eq!(decimal, G2_COFACTOR_DECIMAL);
    }

    fn num_decimal(be: &[u8]) -> String {
        // Small big-endian to decimal conversion for the test.
        let mut digits = vec![0u8];
        for &byte in be {
            let mut carry = byte as u32;
            for d in digits.iter_mut() {
                let v = *d as u32 * 256 + carry;
                *d = (v % 10) as u8;
                carry = v / 10;
            }
            while carry > 0 {
                digits.push((carry % 10) as u8);
                carry /= 10;
            }
        }
        digits.iter().rev().map(|d| (b'0' + d) as char).collect()
    }

    #[test]
    fn matches_the_spec_vector() {
        use ark_serialize::CanonicalSerialize;
        let mut bytes = Vec::new();
        hash_to_g2("undersign v1 ceremony test vector", b"")
            .serialize_compressed(&mut bytes)
            .unwrap();
        assert_eq!(
            hex::encode(bytes),
            "85ad7d5223ffc88887bd69cdf61d6a86a89be4d17106fb511dcfcfc232036a0b\
             3272f8601a3faf9f383ead1ad3113cef741a78e6295cd0e3d1aec9b0d52a349d"
        );
    }

    #[test]
    fn output_is_in_the_subgroup_and_deterministic() {
        for i in 0..8u8 {
            let p = hash_to_g2("undersign v1 test", &[i; 5]);
            assert!(p.is_on_curve());
            assert!(p.is_in_correct_subgroup_assuming_on_curve());
            assert!(!p.is_zero());
            assert_eq!(p, hash_to_g2("undersign v1 test", &[i; 5]));
        }
        assert_ne!(
            hash_to_g2("undersign v1 test", b"a"),
            hash_to_g2("undersign v1 test2", b"a")
        );
    }
}
