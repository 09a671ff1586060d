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
//! large share of decoding a proof. That multiplication adds the affine `±Q` along the
//! non-adjacent form of `x` (24 mixed additions instead of 28 projective ones).

use ark_bn254::{Config as Bn254Config, Fq2, G2Affine, G2Projective};
use ark_ec::bn::BnConfig;
use ark_ec::AffineRepr;
use ark_ff::{AdditiveGroup, Field, Zero};

/// `ψ` on the first two coordinates: `(c_x·x^p, c_y·y^p)`.
fn psi_xy(mut x: Fq2, mut y: Fq2) -> (Fq2, Fq2) {
    x.frobenius_map_in_place(1);
    y.frobenius_map_in_place(1);
    x *= Bn254Config::TWIST_MUL_BY_Q_X;
    y *= Bn254Config::TWIST_MUL_BY_Q_Y;
    (x, y)
}

/// `ψ(X : Y : Z) = (c_x·X^p : c_y·Y^p : Z^p)` in Jacobian coordinates (`x = X/Z²`, `y = Y/Z³`).
fn psi(point: &G2Projective) -> G2Projective {
    let (x, y) = psi_xy(point.x, point.y);
    let mut z = point.z;
    z.frobenius_map_in_place(1);
    G2Projective::new_unchecked(x, y, z)
}

/// `ψ(x, y) = (c_x·x^p, c_y·y^p)` of a finite affine point: multiplication by `p` on G2 (the
/// points the Miller loop adds last). The point at infinity is returned as it is.
pub fn psi_affine(point: &G2Affine) -> G2Affine {
    if point.is_zero() {
        return *point;
    }
    let (x, y) = psi_xy(point.x, point.y);
    G2Affine::new_unchecked(x, y)
}

/// Digits of a non-adjacent form, least significant first, and how many are used.
type Naf = ([i8; 65], usize);

/// The non-adjacent form of `k`: digits in {−1, 0, 1}, no two adjacent ones nonzero.
const fn naf(k: u64) -> Naf {
    let mut k = k as u128;
    let mut digits = [0i8; 65];
    let mut len = 0;
    while k != 0 {
        if k & 1 == 1 {
            // 1 if k ≡ 1 (mod 4), −1 if k ≡ 3 (mod 4); either way k − digit ≡ 0 (mod 4).
            if k & 2 == 0 {
                digits[len] = 1;
                k -= 1;
            } else {
                digits[len] = -1;
                k += 1;
            }
        }
        k >>= 1;
        len += 1;
    }
    (digits, len)
}

/// The BN parameter `x` in non-adjacent form: 24 nonzero digits where its binary form has 28.
const X_NAF: Naf = naf(Bn254Config::X[0]);

/// `[x]q` by the digits of [`X_NAF`], adding the affine `±q` (mixed additions, cheaper than
/// arkworks' projective `mul_projective`).
fn mul_by_x(q: &G2Affine) -> G2Projective {
    const { assert!(Bn254Config::X.len() == 1) };
    let neg_q = -*q;
    let (digits, len) = X_NAF;
    let mut acc = G2Projective::zero();
    for digit in digits[..len].iter().rev() {
        acc.double_in_place();
        match digit {
            1 => acc += q,
            -1 => acc += &neg_q,
            _ => {}
        }
    }
    acc
}

/// Whether `point`, which must already be on the curve, is in the prime-order subgroup G2.
pub fn g2_in_subgroup_assuming_on_curve(point: &G2Affine) -> bool {
    const { assert!(!Bn254Config::X_IS_NEGATIVE) };
    let x_q = mul_by_x(point);
    let psi_x_q = psi(&x_q);
    let psi2_x_q = psi(&psi_x_q);
    let lhs = x_q + psi_x_q + psi2_x_q + point;
    let mut rhs = psi(&psi2_x_q);
    rhs += rhs;
    lhs == rhs
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{Fq, Fr};
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

    #[test]
    fn psi_multiplies_subgroup_points_by_p() {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        for _ in 0..8 {
            let q = (G2Projective::generator() * Fr::rand(&mut rng)).into_affine();
            let by_p = q.mul_bigint(Fq::MODULUS).into_affine();
            assert_eq!(psi_affine(&q), by_p);
            assert_eq!(psi(&G2Projective::from(q)).into_affine(), by_p);
        }
        assert_eq!(psi_affine(&G2Affine::identity()), G2Affine::identity());
    }

    #[test]
    fn naf_reconstructs_its_number() {
        let value = |(digits, len): Naf| -> i128 {
            digits[..len]
                .iter()
                .rev()
                .fold(0i128, |acc, d| 2 * acc + i128::from(*d))
        };
        for k in [0u64, 1, 2, 3, 7, 0b1011_0111, u64::MAX, Bn254Config::X[0]] {
            let form = naf(k);
            assert_eq!(value(form), i128::from(k), "{k}");
            let (digits, len) = form;
            assert!(
                digits[..len].windows(2).all(|w| w[0] == 0 || w[1] == 0),
                "{k}"
            );
            assert!(len == 0 || digits[len - 1] != 0, "{k}");
        }
        let weight = X_NAF.0.iter().filter(|d| **d != 0).count();
        assert_eq!(weight, 24);
    }

    #[test]
    fn mul_by_x_agrees_with_arkworks() {
        let mut rng = ChaCha20Rng::seed_from_u64(13);
        for i in 0..16 {
            // Points outside G2 too: the test must hold for every curve point.
            let q = if i % 2 == 0 {
                random_curve_point(&mut rng)
            } else {
                (G2Projective::generator() * Fr::rand(&mut rng)).into_affine()
            };
            assert_eq!(mul_by_x(&q), q.mul_bigint(Bn254Config::X));
        }
        assert!(mul_by_x(&G2Affine::identity()).is_zero());
    }
}
