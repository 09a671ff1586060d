//! Differential property tests: every fast path of Poseidon against the scalar reference
//! [`hash_reference`] (the plain permutation from the Grain-generated parameters).
//!
//! | Fast path | Must equal |
//! |---|---|
//! | [`hash1`], [`hash2`], [`hash`] (sparse partial rounds, observer form for width 3) | [`hash_reference`] |
//! | the BMI2/ADX copy of the width-3 permutation | the portable copy, and [`hash_reference`] |
//! | [`hash2_batch`] (threads, chunking, padding of the tail) | [`hash_reference`] per pair |
//! | `fma::hash2_chunks` (AVX2 + FMA, 4 lanes; where the CPU has them) | [`hash_reference`] per pair |
//! | `lanes::hash2_chunks` (AVX-512 IFMA, 8 lanes; where the CPU has it) | [`hash_reference`] per pair |
//!
//! Inputs favour `0`, `1`, `r − 1`, `r − k`, `(r ± 1)/2`, integers with all-ones words or
//! all-ones 52-bit limbs (the lanes' radix), values whose lane form `v·2^260 mod r` is `1` or
//! `r − 1`, and the same integers as Montgomery words. The default case count is modest;
//! `PROPTEST_CASES=N` (proptest's own variable) raises it. The 10⁷-pair run of the lanes is
//! [`ten_million_pairs_through_every_lane_path`] (ignored; its doc has the command).

use super::*;
use proptest::prelude::*;
use proptest::test_runner::Config;

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

/// The edge values of the module doc.
fn edges() -> Vec<Fr> {
    let m = u64::MAX;
    let r = Fr::MODULUS;
    let lane_one = Fr::from(2u64)
        .pow([260])
        .inverse()
        .expect("2 is invertible");
    let half = Fr::from(2u64).inverse().expect("2 is invertible");
    let limbs52 = |k: u32| -> BigInt<4> {
        // 2^(52k) − 1.
        let mut x = BigInt::<4>::from(1u64);
        for _ in 0..52 * k {
            x.mul2();
        }
        x.sub_with_borrow(&BigInt::from(1u64));
        x
    };
    let integers = [
        BigInt([m, 0, 0, 0]),
        BigInt([m, m, 0, 0]),
        BigInt([m, m, m, 0]),
        BigInt([m, m, m, r.0[3] - 1]),
        limbs52(1),
        limbs52(2),
        limbs52(3),
        limbs52(4),
    ];
    let mut out = vec![
        Fr::ZERO,
        Fr::ONE,
        -Fr::ONE,
        -Fr::from(2u64),
        half,
        -half,
        Fr::from(u64::MAX),
        lane_one,
        -lane_one,
        Fr::from(2u64).pow([253]),
    ];
    for x in integers {
        out.extend(Fr::from_bigint(x));
        if x < r {
            out.push(Fr::new_unchecked(x));
        }
    }
    out
}

fn fr() -> impl Strategy<Value = Fr> {
    let edges = edges();
    let n = edges.len();
    prop_oneof![
        3 => (0..n).prop_map(move |i| edges[i]),
        1 => (1u64..1 << 16).prop_map(|k| -Fr::from(k)),
        1 => (0u64..1 << 16).prop_map(Fr::from),
        3 => any::<[u8; 32]>().prop_map(|b| Fr::from_le_bytes_mod_order(&b)),
    ]
}

fn reference2(pairs: &[[Fr; 2]]) -> Vec<Fr> {
    pairs
        .iter()
        .map(|p| hash_reference(p).expect("two inputs"))
        .collect()
}

/// The lane paths this CPU has: (name, hash2_chunks).
#[cfg(target_arch = "x86_64")]
#[allow(clippy::type_complexity)]
fn lane_paths() -> Vec<(&'static str, fn(&[[Fr; 2]], &mut [Fr]) -> bool)> {
    let mut paths: Vec<(&'static str, fn(&[[Fr; 2]], &mut [Fr]) -> bool)> = Vec::new();
    if fma::tests::fma_or_skip() {
        paths.push(("AVX2 and FMA", fma::hash2_chunks));
    }
    if lanes::tests::ifma_or_skip() {
        paths.push(("AVX-512 IFMA", lanes::hash2_chunks));
    }
    paths
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn scalar_paths_equal_the_reference(inputs in proptest::collection::vec(fr(), 1..=MAX_INPUTS)) {
        let expected = hash_reference(&inputs).expect("1..=4 inputs");
        prop_assert_eq!(hash(&inputs).expect("1..=4 inputs"), expected);
        match *inputs {
            [a] => prop_assert_eq!(hash1(a), expected),
            [a, b] => {
                prop_assert_eq!(hash2(a, b), expected);
                prop_assert_eq!(permute_width3_portable([Fr::ZERO, a, b]), expected);
                #[cfg(target_arch = "x86_64")]
                if undersign_bn254::cpu::has_bmi2_adx() {
                    // SAFETY: the CPU has BMI2 and ADX (checked).
                    let fast = unsafe { permute_width3_bmi2_adx([Fr::ZERO, a, b]) };
                    prop_assert_eq!(fast, expected);
                }
            }
            _ => {}
        }
    }

    /// The batch and each lane path on batches of every tail length (0 to 40 pairs), with
    /// repeated pairs.
    #[test]
    fn lane_paths_equal_the_reference(
        pairs in proptest::collection::vec((fr(), fr()).prop_map(|(a, b)| [a, b]), 0..40),
        repeat in any::<bool>(),
    ) {
        let mut pairs = pairs;
        if repeat && !pairs.is_empty() {
            let first = pairs[0];
            pairs.iter_mut().step_by(3).for_each(|p| *p = first);
        }
        let expected = reference2(&pairs);
        prop_assert_eq!(&hash2_batch(&pairs), &expected);
        #[cfg(target_arch = "x86_64")]
        for (name, hash2_chunks) in lane_paths() {
            let mut out = vec![Fr::ZERO; pairs.len()];
            prop_assert!(hash2_chunks(&pairs, &mut out), "{}", name);
            prop_assert_eq!(&out, &expected, "{}", name);
        }
    }
}

/// 10⁷ pairs through each lane path this CPU has (AVX2 + FMA, AVX-512 IFMA), compared with
/// [`hash_reference`]: one pair in eight from the edge values, the rest uniform. In release
/// with debug assertions, on both cores (238 s on a 2-core host with AVX2 and IFMA):
///
/// ```text
/// CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true cargo test -p undersign-poseidon --release --lib -- --ignored ten_million
/// ```
#[cfg(target_arch = "x86_64")]
#[test]
#[ignore]
fn ten_million_pairs_through_every_lane_path() {
    use rand::{RngCore, SeedableRng};
    use rand_chacha::ChaCha20Rng;
    const PAIRS: usize = 10_000_000;
    const CHUNK: usize = 1 << 14;
    let edges = edges();
    let paths = lane_paths();
    let started = std::time::Instant::now();
    (0..PAIRS.div_ceil(CHUNK)).into_par_iter().for_each(|c| {
        let mut rng = ChaCha20Rng::seed_from_u64(0x1e7 + c as u64);
        let value = |rng: &mut ChaCha20Rng| {
            let x = rng.next_u32();
            if x.is_multiple_of(8) {
                edges[(x / 8) as usize % edges.len()]
            } else {
                let mut bytes = [0u8; 32];
                rng.fill_bytes(&mut bytes);
                Fr::from_le_bytes_mod_order(&bytes)
            }
        };
        let len = CHUNK.min(PAIRS - c * CHUNK);
        let pairs: Vec<[Fr; 2]> = (0..len)
            .map(|_| [value(&mut rng), value(&mut rng)])
            .collect();
        let expected = reference2(&pairs);
        for (name, hash2_chunks) in &paths {
            let mut out = vec![Fr::ZERO; len];
            assert!(hash2_chunks(&pairs, &mut out), "{name}");
            for (i, (got, want)) in out.iter().zip(&expected).enumerate() {
                assert_eq!(got, want, "{name}: pair {:?}", pairs[i]);
            }
        }
    });
    eprintln!(
        "{PAIRS} pairs through {} lane paths in {:.1?}",
        paths.len(),
        started.elapsed()
    );
}
