//! Multiplication of a G1 point by a batch-verification coefficient `a + λ·b` (64-bit halves)
//! through the GLV endomorphism `φ(x, y) = (β·x, y)`, `φ(P) = λ·P`.
//!
//! `(a + λ·b)·P = a·P + b·φ(P)` is one joint double-and-add over 64 bits: 64 doublings instead
//! of the 128 or more of a full-width scalar multiplication. The result must equal arkworks'
//! `P * Fr::from(a) + λ·Fr::from(b)` ([`scalar`]); the tests compare them.

use ark_bn254::{g1::Config as G1Config, Fr, G1Affine, G1Projective};
use ark_ec::scalar_mul::glv::GLVConfig;
use ark_ff::{AdditiveGroup, Zero};

/// The coefficient `a + λ·b` as a scalar, `λ` the eigenvalue of `φ` on G1.
pub fn scalar(a: u64, b: u64) -> Fr {
    Fr::from(a) + <G1Config as GLVConfig>::LAMBDA * Fr::from(b)
}

/// `φ(P) = (β·x, y)`: `λ·P` for `P` in G1 (arkworks' `endomorphism_affine`).
pub fn endomorphism(point: &G1Affine) -> G1Affine {
    <G1Config as GLVConfig>::endomorphism_affine(point)
}

/// `(a + λ·b)·P` as `a·P + b·φ(P)`: one joint double-and-add over 64 bits.
pub fn mul_split(a: u64, b: u64, point: &G1Affine) -> G1Projective {
    let phi = endomorphism(point);
    let both = *point + phi;
    let mut acc = G1Projective::zero();
    for bit in (0..64).rev() {
        acc.double_in_place();
        match ((a >> bit) & 1 == 1, (b >> bit) & 1 == 1) {
            (true, true) => acc += both,
            (true, false) => acc += point,
            (false, true) => acc += phi,
            (false, false) => {}
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::{CurveGroup, PrimeGroup};
    use ark_ff::UniformRand;
    use rand::{RngCore, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn endomorphism_multiplies_by_lambda() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        for _ in 0..8 {
            let p = (G1Projective::generator() * Fr::rand(&mut rng)).into_affine();
            let phi = endomorphism(&p);
            assert_eq!(G1Projective::from(phi), p * <G1Config as GLVConfig>::LAMBDA);
        }
    }

    #[test]
    fn split_multiplication_matches_the_scalar() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let edge = [
            (1, 0),
            (0, 1),
            (u64::MAX, u64::MAX),
            (u64::MAX, 0),
            (0, u64::MAX),
        ];
        let random = (0..32).map(|_| (rng.next_u64(), rng.next_u64()));
        let cases: Vec<(u64, u64)> = edge.into_iter().chain(random).collect();
        for (a, b) in cases {
            let p = (G1Projective::generator() * Fr::rand(&mut rng)).into_affine();
            assert_eq!(mul_split(a, b, &p), p * scalar(a, b), "a={a} b={b}");
        }
    }
}
