use super::*;
use crate::phase1::Phase1;
use ark_bn254::Bn254;
use ark_ec::PrimeGroup;
use ark_ff::UniformRand;
use ark_groth16::Groth16;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::sync::OnceLock;
use undersign_core::attributes::{Attributes, Mask};
use undersign_core::identity::{member_leaf, IdentitySecret};
use undersign_core::merkle::MerkleTree;
use undersign_proof::{Prover, Statement};

const DEPTH: u32 = 4;
const POWER: u32 = 11;

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// A three-party phase 1, its file hash, the initial key, and a phase 2 with three
/// contributions and a beacon.
struct Fixture {
    phase1: Phase1,
    phase1_hash: Hash,
    phase2: Phase2,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mut phase1 = Phase1::new(POWER).unwrap();
        for seed in 1..=3 {
            phase1.contribute(&mut rng(seed)).unwrap();
        }
        let phase1_hash = *blake3::hash(&phase1.to_bytes()).as_bytes();
        let mut phase2 = Phase2::new(&phase1, phase1_hash, DEPTH).unwrap();
        for seed in 11..=13 {
            phase2.contribute(&phase1, &mut rng(seed)).unwrap();
        }
        phase2
            .beacon(
                &phase1,
                Beacon::new(b"block 123456 hash".to_vec(), 10).unwrap(),
                &mut rng(14),
            )
            .unwrap();
        Fixture {
            phase1,
            phase1_hash,
            phase2,
        }
    })
}

fn failure(p: &Phase2) -> VerifyError {
    let f = fixture();
    match p.verify(&f.phase1, &f.phase1_hash, &mut rng(77)) {
        Err(CeremonyError::Verify(e)) => e,
        other => panic!("tampering must be detected, got {other:?}"),
    }
}

fn contribution(index: usize, check: ContributionCheck) -> VerifyError {
    VerifyError::Contribution {
        phase: 2,
        index,
        check,
    }
}

fn parameter(check: ParameterCheck) -> VerifyError {
    VerifyError::Parameters { phase: 2, check }
}

fn statement(depth: u32, rng: &mut ChaCha20Rng) -> Statement {
    use rand::Rng;
    let secrets: Vec<IdentitySecret> = (0..8)
        .map(|_| IdentitySecret::from_bytes(rng.gen()))
        .collect();
    let attrs = Attributes([1, 4, 2, 0]);
    let leaves = secrets
        .iter()
        .map(|s| member_leaf(s.commitment(), &attrs))
        .collect();
    let tree = MerkleTree::from_leaves(depth, leaves).unwrap();
    Statement::new(
        secrets[5].sk(),
        &attrs,
        &tree.path(5).unwrap(),
        tree.root(),
        Fr::from(77u64),
        Fr::from(0u64),
        Mask::from_slots(&[0, 1]).unwrap(),
    )
}

#[test]
fn initial_key_equals_the_arkworks_generator_for_the_same_secrets() {
    let shape = CircuitShape::new(DEPTH).unwrap();
    let domain = shape.domain().unwrap();
    let mut seeded = rng(42);
    let alpha = Fr::rand(&mut seeded);
    let beta = Fr::rand(&mut seeded);
    // arkworks draws τ first from the rng it is given: draw it the same way.
    let tau = domain.sample_element_outside_domain(&mut seeded.clone());
    let expected = Groth16::<Bn254>::generate_parameters_with_qap(
        MembershipCircuit::shape(DEPTH),
        alpha,
        beta,
        Fr::one(),
        Fr::one(),
        G1Projective::generator(),
        G2Projective::generator(),
        &mut seeded.clone(),
    )
    .unwrap();
    let phase1 = Phase1::from_known_secrets(POWER, tau, alpha, beta).unwrap();
    let key = initial_key(&phase1, DEPTH).unwrap();
    assert_eq!(key.vk.alpha_g1, expected.vk.alpha_g1);
    assert_eq!(key.vk.beta_g2, expected.vk.beta_g2);
    assert_eq!(key.vk.gamma_g2, expected.vk.gamma_g2);
    assert_eq!(key.vk.delta_g2, expected.vk.delta_g2);
    assert_eq!(key.beta_g1, expected.beta_g1);
    assert_eq!(key.delta_g1, expected.delta_g1);
    for (name, a, b) in [
        (
            "gamma_abc_g1",
            &key.vk.gamma_abc_g1,
            &expected.vk.gamma_abc_g1,
        ),
        ("a_query", &key.a_query, &expected.a_query),
        ("b_g1_query", &key.b_g1_query, &expected.b_g1_query),
        ("h_query", &key.h_query, &expected.h_query),
        ("l_query", &key.l_query, &expected.l_query),
    ] {
        assert_eq!(a.len(), b.len(), "{name} length");
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert_eq!(x, y, "{name}[{i}]");
        }
    }
    assert_eq!(key.b_g2_query, expected.b_g2_query);
    assert_eq!(key, expected);
}

#[test]
fn three_party_ceremony_keys_prove_and_verify() {
    let f = fixture();
    f.phase1.verify(&mut rng(1)).unwrap();
    let verified = f
        .phase2
        .verify(&f.phase1, &f.phase1_hash, &mut rng(2))
        .unwrap();
    assert_eq!(verified.contributions.len(), 4);
    assert!(verified.contributions[3].1.is_some());
    let key = f.phase2.proving_key().clone();
    assert_ne!(key.delta_g1, G1Affine::generator());
    let prover = Prover::new(DEPTH, key).unwrap();
    let mut r = rng(3);
    let statement = statement(DEPTH, &mut r);
    let proof = prover.prove(&statement, &mut r).unwrap();
    assert!(prover.verifier().verify(&proof, &statement.public));
    let mut wrong = statement.public;
    wrong.message = Fr::from(78u64);
    assert!(!prover.verifier().verify(&proof, &wrong));
}

#[test]
fn round_trips_and_rejects_malformed_files() {
    let p = &fixture().phase2;
    let bytes = p.to_bytes();
    assert_eq!(&Phase2::from_bytes(&bytes).unwrap(), p);
    for cut in [0, 5, 16, 60, 200, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            matches!(
                Phase2::from_bytes(&bytes[..cut]),
                Err(FormatError::Truncated { .. }) | Err(FormatError::BadMagic { .. })
            ),
            "cut at {cut}"
        );
    }
    let mut trailing = bytes.clone();
    trailing.extend_from_slice(b"xyz");
    assert!(matches!(
        Phase2::from_bytes(&trailing),
        Err(FormatError::TrailingBytes { count: 3, .. })
    ));
    // A G1 coordinate in the key garbled: off the curve.
    let mut garbled = bytes.clone();
    garbled[16 + 4 + 32 + 10] ^= 0x11;
    assert!(matches!(
        Phase2::from_bytes(&garbled),
        Err(FormatError::InvalidPoint { .. })
    ));
    // A huge vector length must not allocate.
    let mut huge = bytes.clone();
    let at = 16 + 4 + 32 + 2 * 64 + 2 * 128 + 64 + 128;
    huge[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        Phase2::from_bytes(&huge),
        Err(FormatError::Truncated { .. })
    ));
    let mut depth = bytes;
    depth[16] = 99;
    assert!(matches!(
        Phase2::from_bytes(&depth),
        Err(FormatError::InvalidValue { .. })
    ));
}

#[test]
fn wrong_proof_of_knowledge_is_detected() {
    let mut p = fixture().phase2.clone();
    // r·d of contribution 1 in contribution 2's place.
    p.contributions[1].pok.r_x = p.contributions[0].pok.r_x;
    assert_eq!(
        failure(&p),
        contribution(2, ContributionCheck::ProofOfKnowledge(Secret::Delta))
    );
}

#[test]
fn dropped_or_swapped_contributions_are_detected() {
    let mut dropped = fixture().phase2.clone();
    dropped.contributions.remove(1);
    assert_eq!(
        failure(&dropped),
        contribution(2, ContributionCheck::PreviousHash)
    );
    let mut swapped = fixture().phase2.clone();
    swapped.contributions.swap(1, 2);
    assert_eq!(
        failure(&swapped),
        contribution(2, ContributionCheck::PreviousHash)
    );
}

#[test]
fn modified_l_and_h_elements_are_detected() {
    let mut p = fixture().phase2.clone();
    p.key.l_query[5] = (p.key.l_query[5] * Fr::from(3u64)).into_affine();
    assert_eq!(failure(&p), parameter(ParameterCheck::DividedByDelta("L")));
    let mut p = fixture().phase2.clone();
    p.key.h_query[100] = p.key.h_query[101];
    assert_eq!(failure(&p), parameter(ParameterCheck::DividedByDelta("H")));
    // Even with the last record's state hash updated to match.
    let mut p = fixture().phase2.clone();
    p.key.h_query[0] = G1Affine::generator();
    let hash = key_hash(&p.key);
    p.contributions.last_mut().unwrap().state_after = hash;
    assert_eq!(failure(&p), parameter(ParameterCheck::DividedByDelta("H")));
}

#[test]
fn modified_fixed_elements_are_detected() {
    let g1 = G1Affine::generator();
    type Edit = Box<dyn Fn(&mut ProvingKey)>;
    let cases: Vec<(Edit, ParameterCheck)> = vec![
        (
            Box::new(|k| k.a_query[3] = G1Affine::generator()),
            ParameterCheck::Query("a_query"),
        ),
        (
            Box::new(|k| k.b_g1_query[7] = G1Affine::generator()),
            ParameterCheck::Query("b_g1_query"),
        ),
        (
            Box::new(|k| k.b_g2_query[7] = G2Affine::generator()),
            ParameterCheck::Query("b_g2_query"),
        ),
        (
            Box::new(|k| k.vk.alpha_g1 = G1Affine::generator()),
            ParameterCheck::Element {
                query: "alpha_g1",
                index: 0,
            },
        ),
        (
            Box::new(|k| k.vk.gamma_abc_g1[2] = G1Affine::generator()),
            ParameterCheck::Query("gamma_abc_g1"),
        ),
        (
            Box::new(|k| {
                k.l_query.pop();
            }),
            ParameterCheck::Length {
                query: "l_query",
                expected: fixture().phase2.key.l_query.len(),
                actual: fixture().phase2.key.l_query.len() - 1,
            },
        ),
    ];
    for (edit, check) in cases {
        let mut p = fixture().phase2.clone();
        edit(&mut p.key);
        assert_ne!(p.key, fixture().phase2.key);
        assert_eq!(failure(&p), parameter(check));
    }
    let mut p = fixture().phase2.clone();
    p.key.delta_g1 = (p.key.delta_g1 + g1).into_affine();
    assert_eq!(
        failure(&p),
        parameter(ParameterCheck::NotLastContribution("delta_g1"))
    );
}

#[test]
fn beacon_with_wrong_d_is_detected() {
    // Relabel the beacon record as coming from another beacon value.
    let mut p = fixture().phase2.clone();
    p.contributions[3].beacon = Some(Beacon::new(b"another block".to_vec(), 10).unwrap());
    assert_eq!(failure(&p), contribution(4, ContributionCheck::Beacon));
    // A random contribution labelled as a beacon: it is not last (and not a beacon).
    let mut p = fixture().phase2.clone();
    p.contributions[2].beacon = Some(Beacon::new(b"x".to_vec(), 10).unwrap());
    assert_eq!(
        failure(&p),
        contribution(3, ContributionCheck::BeaconNotLast)
    );
    // The last random contribution labelled as a beacon.
    let mut p = fixture().phase2.clone();
    p.contributions.truncate(3);
    p.contributions[2].beacon = Some(Beacon::new(b"x".to_vec(), 10).unwrap());
    assert_eq!(failure(&p), contribution(3, ContributionCheck::Beacon));
}

#[test]
fn nothing_follows_the_beacon() {
    let f = fixture();
    let mut p = f.phase2.clone();
    assert!(p.contributions.last().unwrap().beacon.is_some());
    let err = p.contribute(&f.phase1, &mut rng(99)).unwrap_err();
    assert!(err.to_string().contains("closed"), "{err}");
    let err = p
        .beacon(
            &f.phase1,
            Beacon::new(b"again".to_vec(), 10).unwrap(),
            &mut rng(98),
        )
        .unwrap_err();
    assert!(err.to_string().contains("closed"), "{err}");
}

#[test]
fn another_phase1_or_depth_is_detected() {
    let f = fixture();
    let err = f
        .phase2
        .verify(&f.phase1, &[0; 32], &mut rng(1))
        .unwrap_err();
    assert!(matches!(
        err,
        CeremonyError::Verify(VerifyError::Parameters {
            check: ParameterCheck::Phase1Mismatch,
            ..
        })
    ));
    let other = Phase1::new(POWER).unwrap();
    let err = f
        .phase2
        .verify(&other, &f.phase1_hash, &mut rng(1))
        .unwrap_err();
    assert!(matches!(
        err,
        CeremonyError::Verify(VerifyError::Parameters {
            check: ParameterCheck::Element {
                query: "alpha_g1",
                ..
            },
            ..
        })
    ));
}

/// The coordinator's attack on an honest contributor: hand over a key with extra L elements
/// (here `[IC_j]₁ / δ`, which nobody may know), let the contributor scale them by `1/d`, strip
/// them and finish with a key that verifies. The coordinator's own record names the padded
/// key's hash, so the record checks alone pass; the contributor must verify the key itself.
#[test]
fn contributor_refuses_a_key_it_cannot_verify() {
    let f = fixture();
    let mut p = Phase2::new(&f.phase1, f.phase1_hash, DEPTH).unwrap();
    let extra = p.key.vk.gamma_abc_g1.clone();
    p.key.l_query.extend_from_slice(&extra);
    let d = Fr::from(1234567u64);
    let pok = PublicKey::prove(&d, POK_CONTEXT, &p.last_hash(), &mut rng(50));
    p.apply(&d, pok, None);
    assert!(p.verify_contributions().is_ok());
    assert!(p.verify_state_hash().is_ok());
    let before = p.clone();
    let err = p.contribute(&f.phase1, &mut rng(51)).unwrap_err();
    assert!(
        matches!(
            err,
            CeremonyError::Verify(VerifyError::Parameters {
                phase: 2,
                check: ParameterCheck::Length {
                    query: "l_query",
                    ..
                }
            })
        ),
        "{err}"
    );
    assert_eq!(
        p, before,
        "nothing is contributed to a key that does not verify"
    );

    // The same with the right length: one L element replaced by another value.
    let mut p = Phase2::new(&f.phase1, f.phase1_hash, DEPTH).unwrap();
    p.key.l_query[3] = extra[1];
    let pok = PublicKey::prove(&d, POK_CONTEXT, &p.last_hash(), &mut rng(52));
    p.apply(&d, pok, None);
    assert!(p.verify_contributions().is_ok() && p.verify_state_hash().is_ok());
    let err = p.contribute(&f.phase1, &mut rng(53)).unwrap_err();
    assert!(
        matches!(
            err,
            CeremonyError::Verify(VerifyError::Parameters {
                check: ParameterCheck::DividedByDelta("L"),
                ..
            })
        ),
        "{err}"
    );

    // A beacon is refused the same way, and an unverifiable phase 1 as well.
    let err = p
        .beacon(
            &f.phase1,
            Beacon::new(b"x".to_vec(), 10).unwrap(),
            &mut rng(54),
        )
        .unwrap_err();
    assert!(matches!(err, CeremonyError::Verify(_)), "{err}");
    let mut good = Phase2::new(&f.phase1, f.phase1_hash, DEPTH).unwrap();
    let mut bad_phase1 = f.phase1.clone();
    bad_phase1.tau_g1[9] = bad_phase1.tau_g1[8];
    let err = good.contribute(&bad_phase1, &mut rng(55)).unwrap_err();
    assert!(
        matches!(
            err,
            CeremonyError::Verify(VerifyError::Parameters { phase: 1, .. })
        ),
        "{err}"
    );
    good.contribute(&f.phase1, &mut rng(56)).unwrap();
}
