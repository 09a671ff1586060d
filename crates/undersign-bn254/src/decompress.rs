//! Point decompression for proof decoding: arkworks' compressed format and result, with
//! cheaper square roots.
//!
//! The bytes are parsed by arkworks (`deserialize_with_flags`: canonical `x < q`, the y-sign
//! and infinity flags), and the point returned is the one arkworks' `deserialize_compressed`
//! returns without validation (the tests compare them). Only the square root differs:
//!
//! - in `Fq` (`q ≡ 3 mod 4`), `√a = a·t` with `t = a^((q−3)/4)`, by a sliding-window
//!   exponentiation (about 55 multiplications besides the 253 squarings, against about 127 for
//!   arkworks' square-and-multiply);
//! - in `Fq2 = Fq[u]/(u² + 1)`, the complex method of arkworks (eprint 2012/685, algorithm 8)
//!   needs `√δ` and `1/√δ` of an `Fq` element `δ`, and a Legendre symbol to pick `δ`. Both
//!   come from the one `t = δ^((q−3)/4)`: `δ` is a square exactly when `t²·δ = 1`, and then
//!   `√δ = δ·t` and `1/√δ = t`. That saves an exponentiation and an inversion per `B`.
//!
//! Callers still check that the point is on the curve, in its subgroup, and re-encodes to the
//! same bytes (`undersign_proof::encoding`).

use ark_bn254::{g1, g2, Fq, Fq2, G1Affine, G2Affine};
use ark_ec::short_weierstrass::{Affine, SWCurveConfig, SWFlags};
use ark_ff::{BigInt, BigInteger, Field, MontFp, One, PrimeField, Zero};
use ark_serialize::{CanonicalDeserializeWithFlags, SerializationError};

/// `1/2` in `Fq`: `(q + 1)/2`.
const TWO_INV: Fq =
    MontFp!("10944121435919637611123202872628637544348155578648911831344518947322613104292");

/// Width of the sliding window in [`pow_q_minus_3_over_4`].
const WINDOW: usize = 5;

/// Reads a compressed G1 point (32 bytes), as arkworks' `deserialize_compressed` with
/// `Validate::No`: the point at infinity if flagged so, otherwise the point with that `x` and
/// the flagged y sign; an error if `x` is not canonical or has no `y`.
pub fn g1(bytes: &[u8]) -> Result<G1Affine, SerializationError> {
    point::<g1::Config>(bytes, sqrt_fq)
}

/// Reads a compressed G2 point (64 bytes: `x.c0`, then `x.c1` with the flags), like [`g1()`].
pub fn g2(bytes: &[u8]) -> Result<G2Affine, SerializationError> {
    point::<g2::Config>(bytes, sqrt_fq2)
}

/// [`g1`] and [`g2`] for a curve `P` with `sqrt` in its base field.
fn point<P: SWCurveConfig>(
    bytes: &[u8],
    sqrt: fn(P::BaseField) -> Option<P::BaseField>,
) -> Result<Affine<P>, SerializationError> {
    let (x, flags): (P::BaseField, SWFlags) = P::BaseField::deserialize_with_flags(bytes)?;
    if flags.is_infinity() {
        return Ok(Affine::identity());
    }
    let y = sqrt(P::add_b(x.square() * x)).ok_or(SerializationError::InvalidData)?;
    Ok(Affine::new_unchecked(x, signed(y, flags)))
}

/// The root arkworks picks: the smaller of `±y` (in arkworks' order) if the flags say
/// "positive", else the larger.
fn signed<F: Field>(y: F, flags: SWFlags) -> F {
    let neg_y = -y;
    let (smaller, larger) = if y < neg_y { (y, neg_y) } else { (neg_y, y) };
    if flags.is_positive() == Some(true) {
        smaller
    } else {
        larger
    }
}

/// `a^((q−3)/4)` by a sliding window of [`WINDOW`] bits over the (public, fixed) exponent.
fn pow_q_minus_3_over_4(a: Fq) -> Fq {
    let mut exponent: BigInt<4> = Fq::MODULUS;
    exponent.sub_with_borrow(&BigInt::from(3u64));
    exponent.div2();
    exponent.div2();
    // a, a³, a⁵, …, a^(2^WINDOW − 1).
    let a_sq = a.square();
    let mut odd_powers = [a; 1 << (WINDOW - 1)];
    for i in 1..odd_powers.len() {
        odd_powers[i] = odd_powers[i - 1] * a_sq;
    }
    let mut result = Fq::one();
    let mut bit = exponent.num_bits() as usize;
    while bit > 0 {
        if !exponent.get_bit(bit - 1) {
            result.square_in_place();
            bit -= 1;
            continue;
        }
        // The longest window [low, bit) of at most WINDOW bits that ends in a one.
        let mut low = bit.saturating_sub(WINDOW);
        while !exponent.get_bit(low) {
            low += 1;
        }
        let mut digit = 0usize;
        for i in (low..bit).rev() {
            result.square_in_place();
            digit = 2 * digit + usize::from(exponent.get_bit(i));
        }
        result *= odd_powers[digit / 2];
        bit = low;
    }
    result
}

/// `(√d, 1/√d)` if `d` is a nonzero square in `Fq`.
fn sqrt_and_inverse(d: Fq) -> Option<(Fq, Fq)> {
    let t = pow_q_minus_3_over_4(d);
    let root = d * t;
    // root·t = t²·d = d^((q−1)/2): 1 exactly for nonzero squares.
    (root * t).is_one().then_some((root, t))
}

/// `√a` in `Fq`, if `a` is a square.
fn sqrt_fq(a: Fq) -> Option<Fq> {
    if a.is_zero() {
        return Some(a);
    }
    sqrt_and_inverse(a).map(|(root, _)| root)
}

/// `√a` in `Fq2`, if `a` is a square (the complex method; see the module doc). BN254's `Fq2`
/// is `Fq[u]/(u² + 1)`, which the norm below assumes (tested).
fn sqrt_fq2(a: Fq2) -> Option<Fq2> {
    if a.c1.is_zero() {
        // √c0 is in Fq if c0 is a square there, else it is u·√(−c0) (−1 is not a square).
        return match sqrt_fq(a.c0) {
            Some(root) => Some(Fq2::new(root, Fq::zero())),
            None => sqrt_fq(-a.c0).map(|root| Fq2::new(Fq::zero(), root)),
        };
    }
    // The norm c0² + c1² must be a square in Fq; then one of (c0 ± √norm)/2 is (their product
    // is −c1²/4, and −1 is not a square), and its root is the real part of √a.
    let norm_root = sqrt_fq(a.c0.square() + a.c1.square())?;
    let delta = (a.c0 + norm_root) * TWO_INV;
    let (re, re_inv) = sqrt_and_inverse(delta).or_else(|| sqrt_and_inverse(delta - norm_root))?;
    let root = Fq2::new(re, a.c1 * TWO_INV * re_inv);
    (root.square() == a).then_some(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{Fr, G1Projective, G2Projective};
    use ark_ec::{CurveGroup, PrimeGroup};
    use ark_ff::UniformRand;
    use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    fn arkworks<P: CanonicalDeserialize>(bytes: &[u8]) -> Result<P, SerializationError> {
        P::deserialize_with_mode(bytes, Compress::Yes, Validate::No)
    }

    #[test]
    fn constants() {
        assert_eq!(TWO_INV + TWO_INV, Fq::one());
        assert_eq!(
            <ark_bn254::Fq2Config as ark_ff::Fp2Config>::NONRESIDUE,
            -Fq::one()
        );
    }

    #[test]
    fn the_window_power_equals_arkworks_pow() {
        let mut rng = ChaCha20Rng::seed_from_u64(21);
        let mut exponent: BigInt<4> = Fq::MODULUS;
        exponent.sub_with_borrow(&BigInt::from(3u64));
        exponent.div2();
        exponent.div2();
        // The exponent itself: 4·e + 3 = q.
        let mut four_e_plus_3 = exponent;
        four_e_plus_3.mul2();
        four_e_plus_3.mul2();
        four_e_plus_3.add_with_carry(&BigInt::from(3u64));
        assert_eq!(four_e_plus_3, Fq::MODULUS);
        let mut cases = vec![Fq::zero(), Fq::one(), -Fq::one(), Fq::from(2u64)];
        cases.extend((0..64).map(|_| Fq::rand(&mut rng)));
        for a in cases {
            assert_eq!(pow_q_minus_3_over_4(a), a.pow(exponent), "{a}");
        }
    }

    /// Checks `ours` against arkworks' `sqrt` on every case; returns how many were squares.
    fn count_roots<F: Field>(cases: Vec<F>, ours: impl Fn(F) -> Option<F>) -> usize {
        let mut squares = 0;
        for a in cases {
            let root = ours(a);
            assert_eq!(root.is_some(), a.sqrt().is_some(), "{a}");
            if let Some(root) = root {
                assert_eq!(root.square(), a);
                squares += 1;
            }
        }
        squares
    }

    #[test]
    fn square_roots_agree_with_arkworks() {
        let mut rng = ChaCha20Rng::seed_from_u64(22);
        let mut fq = vec![Fq::zero(), Fq::one(), -Fq::one()];
        fq.extend((0..200).map(|_| Fq::rand(&mut rng)));
        let squares = count_roots(fq, sqrt_fq);
        assert!(squares > 50 && squares < 150, "{squares}");
        let real = |x: u64| Fq2::new(Fq::from(x), Fq::zero());
        let mut fq2 = vec![Fq2::zero(), Fq2::one(), -Fq2::one(), real(3), -real(3)];
        fq2.extend((0..200).map(|_| Fq2::rand(&mut rng)));
        fq2.extend((0..20).map(|_| Fq2::new(Fq::rand(&mut rng), Fq::zero())));
        fq2.extend((0..20).map(|_| Fq2::new(Fq::zero(), Fq::rand(&mut rng))));
        let squares = count_roots(fq2, sqrt_fq2);
        assert!(squares > 50 && squares < 200, "{squares}");
    }

    /// Decodes every case under each of the four flag combinations (the top two bits of the
    /// last byte) with `ours` and with arkworks: both fail, or both give the same point.
    /// Returns how many decoded.
    fn count_decoded<const N: usize, P>(
        cases: &[[u8; N]],
        ours: impl Fn(&[u8]) -> Result<P, SerializationError>,
    ) -> usize
    where
        P: CanonicalDeserialize + PartialEq + std::fmt::Debug,
    {
        let mut decoded = 0;
        for case in cases {
            for flags in 0..4u8 {
                let mut bytes = *case;
                bytes[N - 1] = (bytes[N - 1] & 0x3f) | (flags << 6);
                let expected = arkworks::<P>(&bytes);
                let got = ours(&bytes);
                assert_eq!(got.is_ok(), expected.is_ok(), "{bytes:?}");
                if let (Ok(got), Ok(expected)) = (got, expected) {
                    assert_eq!(got, expected);
                    decoded += 1;
                }
            }
        }
        decoded
    }

    /// G2 `x` coordinates with one part zero: `x = c₀` with `c₀` a quadratic non-residue of
    /// `Fq` (so `x` is a square of `Fq2` whose root is not in `Fq`), and `x = c₁·u`. Under every
    /// flag combination (smaller and larger root, infinity, both), ours and arkworks' decoders
    /// give the same result and point; and the square roots of such values themselves (the
    /// real branch of [`sqrt_fq2`]: `c₀` a residue or not, `c₁ = 0`; and `c₀ = 0`) agree with
    /// arkworks'.
    #[test]
    fn g2_coordinates_with_a_zero_part_decode_like_arkworks() {
        let mut rng = ChaCha20Rng::seed_from_u64(24);
        let encode = |x: Fq2| {
            let mut bytes = [0u8; 64];
            x.serialize_compressed(&mut bytes[..]).unwrap();
            bytes
        };
        let mut non_residues = Vec::new();
        while non_residues.len() < 200 {
            let c0 = Fq::rand(&mut rng);
            if c0.legendre().is_qnr() {
                non_residues.push(c0);
            }
        }
        let real: Vec<[u8; 64]> = non_residues
            .iter()
            .map(|&c0| encode(Fq2::new(c0, Fq::zero())))
            .collect();
        let imaginary: Vec<[u8; 64]> = (0..200)
            .map(|_| encode(Fq2::new(Fq::zero(), Fq::rand(&mut rng))))
            .collect();
        for (name, cases) in [("c1 = 0, c0 non-residue", real), ("c0 = 0", imaginary)] {
            // About half of the x have a point; each decodes under two flag combinations
            // (either root), and every x under the infinity flag.
            let decoded = count_decoded(&cases, g2);
            assert!(decoded > 300 && decoded < 500, "{name}: {decoded}");
        }
        // The square roots themselves, of c0 (a non-residue, then a residue) and of c1·u.
        let mut cases: Vec<Fq2> = non_residues
            .iter()
            .map(|&c0| Fq2::new(c0, Fq::zero()))
            .collect();
        cases.extend(
            non_residues
                .iter()
                .map(|&c0| Fq2::new(c0.square(), Fq::zero())),
        );
        cases.extend(non_residues.iter().map(|&c1| Fq2::new(Fq::zero(), c1)));
        cases.extend(
            non_residues
                .iter()
                .map(|&c1| Fq2::new(Fq::zero(), c1.square())),
        );
        // All are squares in Fq2: a square is an element whose norm is a square of Fq, and
        // the norms here are c0² and c1².
        assert_eq!(count_roots(cases, sqrt_fq2), 800);
    }

    /// Random bytes, encodings of random group points and of their negations, with every
    /// flag combination and `x` at and beyond the modulus: the same result as arkworks.
    #[test]
    fn decompression_agrees_with_arkworks() {
        let mut rng = ChaCha20Rng::seed_from_u64(23);
        let mut g1_cases: Vec<[u8; 32]> = Vec::new();
        let mut g2_cases: Vec<[u8; 64]> = Vec::new();
        for _ in 0..48 {
            let p = (G1Projective::generator() * Fr::rand(&mut rng)).into_affine();
            let q = (G2Projective::generator() * Fr::rand(&mut rng)).into_affine();
            for p in [p, -p, G1Affine::identity()] {
                let mut bytes = [0u8; 32];
                p.serialize_compressed(&mut bytes[..]).unwrap();
                g1_cases.push(bytes);
            }
            for q in [q, -q, G2Affine::identity()] {
                let mut bytes = [0u8; 64];
                q.serialize_compressed(&mut bytes[..]).unwrap();
                g2_cases.push(bytes);
            }
            g1_cases.push(rng.gen());
            let mut random = [0u8; 64];
            rng.fill(&mut random[..]);
            g2_cases.push(random);
        }
        // Every flag combination on each case, and x = q and x = q + 1 (not canonical).
        let mut modulus = [0u8; 32];
        modulus.copy_from_slice(&Fq::MODULUS.to_bytes_le());
        let mut above = modulus;
        above[0] += 1;
        g1_cases.extend([modulus, above]);
        let mut g2_modulus = [0u8; 64];
        g2_modulus[32..].copy_from_slice(&modulus);
        g2_cases.push(g2_modulus);
        g2_modulus[..32].copy_from_slice(&modulus);
        g2_modulus[32..].fill(0);
        g2_cases.push(g2_modulus);

        let ok = [count_decoded(&g1_cases, g1), count_decoded(&g2_cases, g2)];
        // Most cases decode (points under both signs, infinity), not all (random bytes).
        assert!(ok[0] > 300 && ok[1] > 300, "{ok:?}");
    }
}
