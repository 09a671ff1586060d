//! Differential property tests: every fast path of this crate against its arkworks reference
//! (the table in the crate docs), on inputs drawn with a bias towards edge values.
//!
//! The strategies favour `0`, `1`, `q − 1`, `q − k`, `(q − 1)/2`, `(q + 1)/2`, integers with
//! all-ones words, and the same values as Montgomery representations (the words the lazy
//! reduction multiplies); points at infinity, equal and opposite points and repeated bases;
//! scalars `0`, `1`, `r − 1`, `r − k` and short ones. The number of cases per test is modest
//! by default; `PROPTEST_CASES=N` (proptest's own variable) raises it:
//!
//! ```text
//! PROPTEST_CASES=20000 cargo test -p undersign-bn254 --release proptests
//! ```
//!
//! Failing inputs are shrunk and printed; proptest's failure persistence is off (a seed that
//! failed should become a fixed regression test in the module it concerns).

use ark_bn254::{g1, g2, Bn254, Fq, Fq2, Fq6, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::bn::G2Prepared;
use ark_ec::pairing::{MillerLoopOutput, Pairing};
use ark_ec::short_weierstrass::{Affine, SWCurveConfig};
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::{BigInt, BigInteger, Field, One, PrimeField, Zero};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use proptest::prelude::*;
use proptest::test_runner::Config;

use crate::{decompress, glv, lazy, miller, msm, subgroup};

/// The default number of cases of the cheap tests, unless `PROPTEST_CASES` is set.
const CHEAP_CASES: u32 = 512;
/// The default for tests that run pairings or scalar multiplications per case.
const COSTLY_CASES: u32 = 32;

/// `cases` unless `PROPTEST_CASES` says otherwise; no failure files.
fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// `modulus − k` as an integer.
fn minus(modulus: BigInt<4>, k: u64) -> BigInt<4> {
    let mut m = modulus;
    m.sub_with_borrow(&BigInt::from(k));
    m
}

/// Edge integers below `modulus` (a 254-bit prime): 0, 1, 2, m − 1, m − 2, (m − 1)/2,
/// (m + 1)/2, all-ones words, 2^64 − 1, 2^128 − 1, 2^192 − 1, 2^253.
fn edge_integers(modulus: BigInt<4>) -> Vec<BigInt<4>> {
    let mut half = minus(modulus, 1);
    half.div2();
    let mut half_up = half;
    half_up.add_with_carry(&BigInt::from(1u64));
    let m = u64::MAX;
    let mut out = vec![
        BigInt::from(0u64),
        BigInt::from(1u64),
        BigInt::from(2u64),
        minus(modulus, 1),
        minus(modulus, 2),
        minus(modulus, 3),
        half,
        half_up,
        BigInt([m, 0, 0, 0]),
        BigInt([m, m, 0, 0]),
        BigInt([m, m, m, 0]),
        BigInt([m, m, m, modulus.0[3] - 1]),
        BigInt([0, 0, 0, 1 << 61]),
        BigInt([0, 0, 0, modulus.0[3]]),
    ];
    out.retain(|x| *x < modulus);
    out
}

/// An `Fq` element: an edge integer as the value or as the Montgomery words, `q − k` for a
/// small `k`, or uniform.
fn fq() -> impl Strategy<Value = Fq> {
    let edges = edge_integers(Fq::MODULUS);
    let n = edges.len();
    prop_oneof![
        3 => (0..n, any::<bool>()).prop_map(move |(i, raw)| {
            let x = edges[i];
            if raw {
                Fq::new_unchecked(x)
            } else {
                Fq::from_bigint(x).expect("below q")
            }
        }),
        1 => (1u64..1 << 20).prop_map(|k| -Fq::from(k)),
        1 => (0u64..1 << 20).prop_map(Fq::from),
        3 => any::<[u8; 32]>().prop_map(|b| Fq::from_le_bytes_mod_order(&b)),
    ]
}

fn fq2() -> impl Strategy<Value = Fq2> {
    (fq(), fq()).prop_map(|(a, b)| Fq2::new(a, b))
}

fn fq6() -> impl Strategy<Value = Fq6> {
    (fq2(), fq2(), fq2()).prop_map(|(a, b, c)| Fq6::new(a, b, c))
}

/// A scalar: edge integers below `r`, `r − k`, short, or uniform.
fn fr() -> impl Strategy<Value = Fr> {
    let edges = edge_integers(Fr::MODULUS);
    let n = edges.len();
    prop_oneof![
        3 => (0..n).prop_map(move |i| Fr::from_bigint(edges[i]).expect("below r")),
        1 => (1u64..1 << 20).prop_map(|k| -Fr::from(k)),
        1 => any::<u64>().prop_map(Fr::from),
        3 => any::<[u8; 32]>().prop_map(|b| Fr::from_le_bytes_mod_order(&b)),
    ]
}

/// A subgroup point `k·G` for a scalar from [`fr`] (the point at infinity for `k = 0`).
fn g1_point() -> impl Strategy<Value = G1Affine> {
    fr().prop_map(|k| (G1Projective::generator() * k).into_affine())
}

fn g2_point() -> impl Strategy<Value = G2Affine> {
    fr().prop_map(|k| (G2Projective::generator() * k).into_affine())
}

/// `len` points drawn from a pool of a few: repeated, negated and at infinity.
fn points_from_pool<P: SWCurveConfig>(
    pool: Vec<Affine<P>>,
    picks: Vec<(usize, u8)>,
) -> Vec<Affine<P>> {
    picks
        .into_iter()
        .map(|(i, how)| match how % 4 {
            0 | 1 => pool[i % pool.len()],
            2 => -pool[i % pool.len()],
            _ => Affine::<P>::identity(),
        })
        .collect()
}

/// arkworks' decoding of compressed bytes, without validation.
fn arkworks_decode<P: CanonicalDeserialize>(bytes: &[u8]) -> Option<P> {
    P::deserialize_with_mode(bytes, Compress::Yes, Validate::No).ok()
}

/// The compressed encoding of `x` with the two flag bits `flags` (bits 7 and 6 of the last
/// byte), as a decoder sees an arbitrary x coordinate.
fn with_x<F: CanonicalSerialize>(x: &F, flags: u8) -> Vec<u8> {
    let mut bytes = Vec::new();
    x.serialize_uncompressed(&mut bytes).expect("to a Vec");
    if let Some(last) = bytes.last_mut() {
        *last |= flags & 0xc0;
    }
    bytes
}

proptest! {
    #![proptest_config(config(CHEAP_CASES))]

    #[test]
    fn lazy_mul_equals_fq2_mul(x in fq2(), y in fq2()) {
        prop_assert_eq!(lazy::mul(&x, &y), x * y);
        prop_assert_eq!(lazy::mul(&x, &x), x.square());
    }

    #[test]
    fn lazy_mul_by_01_equals_arkworks(a in fq6(), c0 in fq2(), c1 in fq2()) {
        let mut expected = a;
        expected.mul_by_01(&c0, &c1);
        prop_assert_eq!(lazy::mul_by_01(&a, &c0, &c1), expected);
    }

    #[test]
    fn batch_inversion_equals_inverting_each(
        values in proptest::collection::vec(prop_oneof![1 => Just(Fq2::zero()), 4 => fq2()], 0..40),
    ) {
        let mut fast = values.clone();
        msm::batch_invert(&mut fast, &mut Vec::new());
        let mut lazy_mul = values.clone();
        msm::batch_invert_with(&mut lazy_mul, &mut Vec::new(), lazy::mul);
        for ((v, f), l) in values.iter().zip(&fast).zip(&lazy_mul) {
            let expected = v.inverse().unwrap_or(Fq2::zero());
            prop_assert_eq!(*f, expected);
            prop_assert_eq!(*l, expected);
        }
    }

    #[test]
    fn glv_split_multiplication_equals_scalar_multiplication(
        a in prop_oneof![Just(0u64), Just(1), Just(u64::MAX), any::<u64>()],
        b in prop_oneof![Just(0u64), Just(1), Just(u64::MAX), any::<u64>()],
        p in prop_oneof![1 => Just(G1Affine::identity()), 8 => g1_point()],
    ) {
        prop_assert_eq!(glv::mul_split(a, b, &p), p * glv::scalar(a, b));
        prop_assert_eq!(G1Projective::from(glv::endomorphism(&p)), p * glv::scalar(0, 1));
    }

    #[test]
    fn g1_decompression_equals_arkworks(
        x in fq(),
        flags in any::<u8>(),
        raw in any::<[u8; 32]>(),
        p in g1_point(),
    ) {
        let mut valid = Vec::new();
        p.serialize_compressed(&mut valid).expect("to a Vec");
        for bytes in [with_x(&x, flags), raw.to_vec(), valid] {
            prop_assert_eq!(decompress::g1(&bytes).ok(), arkworks_decode::<G1Affine>(&bytes));
        }
    }

    #[test]
    fn g2_decompression_equals_arkworks(
        c0 in fq(),
        c1 in fq(),
        zero_part in 0u8..3,
        flags in any::<u8>(),
        raw in any::<[u8; 64]>(),
    ) {
        // x with c1 = 0 or c0 = 0 as often as a general x.
        let x = match zero_part {
            0 => Fq2::new(c0, Fq::zero()),
            1 => Fq2::new(Fq::zero(), c1),
            _ => Fq2::new(c0, c1),
        };
        for bytes in [with_x(&x, flags), raw.to_vec()] {
            prop_assert_eq!(decompress::g2(&bytes).ok(), arkworks_decode::<G2Affine>(&bytes));
        }
    }
}

/// A point on the twist with the given x, if there is one, else one with a nearby x.
fn twist_point(mut x: Fq2, greatest: bool) -> G2Affine {
    loop {
        if let Some(p) = G2Affine::get_point_from_x_unchecked(x, greatest) {
            return p;
        }
        x += Fq2::one();
    }
}

proptest! {
    #![proptest_config(config(COSTLY_CASES))]

    #[test]
    fn g2_decompression_of_valid_points_equals_arkworks(p in g2_point(), flip in any::<bool>()) {
        let mut bytes = Vec::new();
        p.serialize_compressed(&mut bytes).expect("to a Vec");
        if flip {
            // The other root of the same x.
            bytes[63] ^= 0x80;
        }
        prop_assert_eq!(decompress::g2(&bytes).ok(), arkworks_decode::<G2Affine>(&bytes));
    }

    /// Points on the twist in and out of G2: `P + T` for `P` in G2 and `T` a point of the
    /// cofactor's torsion (`[r]Q` for a random curve point `Q`), or `0`.
    #[test]
    fn g2_subgroup_check_equals_arkworks(
        x in fq2(),
        greatest in any::<bool>(),
        p in g2_point(),
        shape in 0u8..4,
    ) {
        let q = twist_point(x, greatest);
        let torsion = q.mul_bigint(Fr::MODULUS);
        let point = match shape {
            0 => q,
            1 => (torsion + p).into_affine(),
            2 => torsion.into_affine(),
            _ => p,
        };
        prop_assert!(point.is_on_curve());
        prop_assert_eq!(
            subgroup::g2_in_subgroup_assuming_on_curve(&point),
            point.is_in_correct_subgroup_assuming_on_curve()
        );
        prop_assert_eq!(
            subgroup::g2_in_subgroup_assuming_on_curve(&point),
            point.mul_bigint(Fr::MODULUS).is_zero()
        );
    }

    #[test]
    fn psi_multiplies_g2_points_by_p(p in g2_point()) {
        prop_assert_eq!(
            G2Projective::from(subgroup::psi_affine(&p)),
            p.mul_bigint(Fq::MODULUS)
        );
    }

    #[test]
    fn g1_msm_equals_arkworks(
        pool in proptest::collection::vec(g1_point(), 1..4),
        picks in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..80),
        scalars in proptest::collection::vec(fr(), 0..80),
    ) {
        let bases = points_from_pool(pool, picks);
        let scalars: Vec<BigInt<4>> = scalars.iter().map(|s| s.into_bigint()).collect();
        let expected = G1Projective::msm_bigint(&bases, &scalars);
        prop_assert_eq!(msm::msm::<g1::Config>(&bases, &scalars), expected);
    }

    #[test]
    fn g2_msm_equals_arkworks(
        pool in proptest::collection::vec(g2_point(), 1..3),
        picks in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..40),
        scalars in proptest::collection::vec(fr(), 0..40),
    ) {
        let bases = points_from_pool(pool, picks);
        let scalars: Vec<BigInt<4>> = scalars.iter().map(|s| s.into_bigint()).collect();
        let expected = G2Projective::msm_bigint(&bases, &scalars);
        prop_assert_eq!(msm::msm::<g2::Config>(&bases, &scalars), expected);
    }

    /// Both loops on pairs with points at infinity, repeated and opposite points: the
    /// prepared loop exactly as arkworks, the affine one after the final exponentiation.
    #[test]
    fn miller_loops_equal_arkworks(
        g1_pool in proptest::collection::vec(g1_point(), 1..3),
        g2_pool in proptest::collection::vec(g2_point(), 1..3),
        picks in proptest::collection::vec(((any::<usize>(), any::<u8>()), (any::<usize>(), any::<u8>())), 0..20),
    ) {
        let (left, right): (Vec<_>, Vec<_>) = picks.into_iter().unzip();
        let a = points_from_pool(g1_pool, left);
        let b = points_from_pool(g2_pool, right);
        let expected = Bn254::multi_miller_loop(a.iter().copied(), b.iter().copied());
        let prepared: Vec<G2Prepared<ark_bn254::Config>> = b.iter().map(|q| (*q).into()).collect();
        let pairs: Vec<(G1Affine, &G2Prepared<ark_bn254::Config>)> =
            a.iter().copied().zip(&prepared).collect();
        prop_assert_eq!(miller::multi_miller_loop(&pairs), Some(expected.0));

        let affine_pairs: Vec<(G1Affine, G2Affine)> = a.into_iter().zip(b).collect();
        let affine = miller::multi_miller_loop_affine(&affine_pairs);
        prop_assert!(affine.is_some(), "subgroup points are never refused");
        let final_exp = |f| Bn254::final_exponentiation(MillerLoopOutput(f)).map(|x| x.0);
        prop_assert_eq!(affine.and_then(final_exp), final_exp(expected.0));
    }
}
