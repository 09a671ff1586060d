//! Fast G2 subgroup membership for BN254 (`SPEC.md` §2).
//!
//! arkworks checks `[6x²]Q = ψ(Q)`, a 127-bit scalar multiplication. This module uses the test
//! of Dai, Lin, Zhao and Zhou ("Fast subgroup membership testings for G1, G2 and GT on
//! pairing-friendly curves", eprint 2022/348, §3 and §5.1), also used by gnark-crypto: a point
//! `Q` on the twist `E'(Fq2)` lies in the order-`r` subgroup if and only if
//!
//! `[x+1]Q + ψ([x]Q) + ψ²([x]Q) = ψ³([2x]Q)`
//!
//! where `x` is the 63-bit BN parameter and `ψ` the untwist-Frobenius-twist endomorphism. One
//! 63-bit multiplication instead of a 127-bit one: about half the cost of the check, which is a
//! large share of decoding a proof.

use ark_bn254::{Config as Bn254Config, G2Affine, G2Projective};
use ark_ec::bn::BnConfig;
use ark_ec::short_weierstrass::SWCurveConfig;
use ark_ff::Field;

/// `ψ(X : Y : Z) = (c_x·X^p : c_y·Y^p : Z^p)` in Jacobian coordinates (`x = X/Z²`, `y = Y/Z³`).
fn psi(point: &G2Projective) -> G2Projective {
    let mut x = point.x;
    let mut y = point.y;
    let mut z = point.z;
    x.frobenius_map_in_place(1);
    y.frobenius_map_in_place(1);
    z.frobenius_map_in_place(1);
    x *= Bn254Config::TWIST_MUL_BY_Q_X;
    y *= Bn254Config::TWIST_MUL_BY_Q_Y;
    G2Projective::new_unchecked(x, y, z)
}

/// Whether `point`, which must already be on the curve, is in the prime-order subgroup G2.
pub fn g2_in_subgroup_assuming_on_curve(point: &G2Affine) -> bool {
    const { assert!(!Bn254Config::X_IS_NEGATIVE) };
    let q = G2Projective::from(*point);
    let x_q = <ark_bn254::g2::Config as SWCurveConfig>::mul_projective(&q, Bn254Config::X);
    let psi_x_q = psi(&x_q);
    let psi2_x_q = psi(&psi_x_q);
    let lhs = x_q + q + psi_x_q + psi2_x_q;
    let mut rhs = psi(&psi2_x_q);
    rhs += rhs;
    lhs == rhs
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{Fq, Fq2, Fr};
    use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
    use ark_ff::{PrimeField, UniformRand, Zero};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    /// A random point on the twist, almost never in G2 (the cofactor is about 2^254).
    fn random_curve_point(rng: &mut ChaCha20Rng) -> G2Affine {
        loop {
            let x = Fq2::new(Fq::rand(rng), Fq::rand(rng));
            if let Some(p) = G2Affine::get_point_from_x_unchecked(x, rng.gen()) {
                return p;
            }
        }
    }

    fn naive(point: &G2Affine) -> bool {
        point.mul_bigint(Fr::MODULUS).is_zero()
    }

    #[test]
    fn agrees_with_multiplication_by_r() {
        let mut rng = ChaCha20Rng::seed_from_u64(2_022_348);
        let mut outside = 0;
        for _ in 0..64 {
            let p = random_curve_point(&mut rng);
            assert!(p.is_on_curve());
            let expected = naive(&p);
            outside += usize::from(!expected);
            assert_eq!(g2_in_subgroup_assuming_on_curve(&p), expected);
            assert_eq!(p.is_in_correct_subgroup_assuming_on_curve(), expected);
            let cleared = p.clear_cofactor();
            assert!(naive(&cleared));
            assert!(g2_in_subgroup_assuming_on_curve(&cleared));
            // A subgroup point plus a non-subgroup point is outside.
            let mixed = (G2Projective::from(cleared) + p).into_affine();
            assert_eq!(g2_in_subgroup_assuming_on_curve(&mixed), naive(&mixed));
        }
        assert!(outside > 60, "the sample must exercise points outside G2");
    }

    #[test]
    fn accepts_subgroup_points_and_identity() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        assert!(g2_in_subgroup_assuming_on_curve(&G2Affine::generator()));
        assert!(g2_in_subgroup_assuming_on_curve(&G2Affine::identity()));
        for _ in 0..32 {
            let p = (G2Projective::generator() * Fr::rand(&mut rng)).into_affine();
            assert!(g2_in_subgroup_assuming_on_curve(&p));
        }
    }
}
