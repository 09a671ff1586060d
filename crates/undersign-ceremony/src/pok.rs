//! Proofs of knowledge of a secret scalar (`SPEC.md` §17.1), Bowe–Gabizon–Miers style.
//!
//! To prove knowledge of `x`: pick a fresh random `k`, publish `s = k·G1`, `s_x = x·s` and
//! `r_x = x·r` where `r = hash_to_g2(context, transcript ‖ s ‖ s_x)`. The verifier recomputes
//! `r` and checks `e(s, r_x) = e(s_x, r)`: the same ratio `x` in G1 and G2. Since nobody knows
//! the discrete logarithm of `r`, producing `r_x` requires knowing `x`; since `r` depends on the
//! transcript, the proof cannot be replayed elsewhere.

use crate::hash_to_g2::hash_to_g2;
use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Affine};
use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
use ark_ff::{UniformRand, Zero};
use ark_serialize::CanonicalSerialize;
use rand::{CryptoRng, RngCore};
use zeroize::Zeroizing;

/// A proof of knowledge of a scalar `x`: `s`, `s·x` in G1 and `r·x` in G2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    /// `s = k·G1` for a random `k`.
    pub s: G1Affine,
    /// `x·s`.
    pub s_x: G1Affine,
    /// `x·r`, with `r` the transcript-bound hash.
    pub r_x: G2Affine,
}

/// The hash input binding `r` to the transcript: `prefix ‖ s ‖ s_x` (points uncompressed).
pub fn challenge_input(prefix: &[u8], s: &G1Affine, s_x: &G1Affine) -> Vec<u8> {
    let mut input = prefix.to_vec();
    for p in [s, s_x] {
        // Writing valid points into a Vec cannot fail.
        let _ = p.serialize_uncompressed(&mut input);
    }
    input
}

/// A non-zero scalar from `rng`.
pub fn nonzero_scalar<R: RngCore + CryptoRng>(rng: &mut R) -> Fr {
    loop {
        let x = Fr::rand(rng);
        if !x.is_zero() {
            return x;
        }
    }
}

impl PublicKey {
    /// Proves knowledge of `x` with a fresh `k` from `rng`; `r` is
    /// `hash_to_g2(context, prefix ‖ s ‖ s_x)`.
    pub fn prove<R: RngCore + CryptoRng>(
        x: &Fr,
        context: &str,
        prefix: &[u8],
        rng: &mut R,
    ) -> Self {
        let k = Zeroizing::new(nonzero_scalar(rng));
        Self::prove_with_k(x, &k, context, prefix)
    }

    /// Proves knowledge of `x` with the given nonce `k` (deterministic; for beacons).
    pub fn prove_with_k(x: &Fr, k: &Fr, context: &str, prefix: &[u8]) -> Self {
        let s = (G1Projective::generator() * k).into_affine();
        let s_x = (s * x).into_affine();
        let r = hash_to_g2(context, &challenge_input(prefix, &s, &s_x));
        let r_x = (r * x).into_affine();
        PublicKey { s, s_x, r_x }
    }

    /// `r` for this key under `context` and `prefix`.
    pub fn r(&self, context: &str, prefix: &[u8]) -> G2Affine {
        hash_to_g2(context, &challenge_input(prefix, &self.s, &self.s_x))
    }

    /// Whether any of the three points is the point at infinity.
    pub fn has_identity(&self) -> bool {
        self.s.is_zero() || self.s_x.is_zero() || self.r_x.is_zero()
    }

    /// `e(s, r_x) = e(s_x, r)`.
    pub fn verify(&self, r: &G2Affine) -> bool {
        same_ratio((self.s, self.s_x), (*r, self.r_x))
    }
}

/// Whether `g1.1 / g1.0 = g2.1 / g2.0` "in the exponent": `e(g1.0, g2.1) = e(g1.1, g2.0)`.
pub fn same_ratio(g1: (G1Affine, G1Affine), g2: (G2Affine, G2Affine)) -> bool {
    let neg = -g1.1;
    Bn254::multi_pairing([g1.0, neg], [g2.1, g2.0]).is_zero()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn proof_verifies_and_binds_to_x_and_transcript() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let x = nonzero_scalar(&mut rng);
        let pk = PublicKey::prove(&x, "undersign v1 test pok", b"prefix", &mut rng);
        assert!(pk.verify(&pk.r("undersign v1 test pok", b"prefix")));
        assert!(!pk.verify(&pk.r("undersign v1 test pok", b"other prefix")));
        let y = nonzero_scalar(&mut rng);
        let wrong = PublicKey {
            r_x: (pk.r("undersign v1 test pok", b"prefix") * y).into_affine(),
            ..pk
        };
        assert!(!wrong.verify(&pk.r("undersign v1 test pok", b"prefix")));
    }
}
