//! Honest proofs verify; any altered public input, proof byte or key is rejected.

use ark_bn254::{Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{Field, One, PrimeField, Zero};
use ark_serialize::CanonicalSerialize;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use undersign_core::attributes::{Attributes, Mask};
use undersign_core::field;
use undersign_core::identity::{member_leaf, IdentitySecret};
use undersign_core::merkle::MerkleTree;
use undersign_proof::encoding::{ProofBytes, PROOF_LEN};
use undersign_proof::keys::{self, KeyError, KeySet};
use undersign_proof::verifier::VerifyError;
use undersign_proof::{CircuitShape, ProveError, Prover, PublicInputs, Statement, Verifier};

struct Setup {
    prover: Prover,
    statement: Statement,
}

fn setup(depth: u32) -> Setup {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let keyset = KeySet::development(depth, &[1u8; 32]).unwrap();
    let prover = Prover::new(depth, keyset.proving_key).unwrap();
    let secrets: Vec<IdentitySecret> = (0..9)
        .map(|_| IdentitySecret::from_bytes(rng.gen()))
        .collect();
    let attrs = |i: usize| Attributes([1 + (i % 2) as u16, i as u16, 3, 0]);
    let leaves = secrets
        .iter()
        .enumerate()
        .map(|(i, s)| member_leaf(s.commitment(), &attrs(i)))
        .collect();
    let tree = MerkleTree::from_leaves(depth, leaves).unwrap();
    let me = 5;
    let statement = Statement::new(
        secrets[me].sk(),
        &attrs(me),
        &tree.path(me as u64).unwrap(),
        tree.root(),
        undersign_core::scope::petition_scope(b"petition"),
        undersign_core::scope::message(Some("hello")),
        Mask::from_slots(&[0, 1]).unwrap(),
    );
    Setup { prover, statement }
}

#[test]
fn honest_proof_verifies_and_every_altered_input_fails() {
    let s = setup(6);
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let proof = s.prover.prove(&s.statement, &mut rng).unwrap();
    let verifier = s.prover.verifier();
    let public = s.statement.public;
    assert!(verifier.verify(&proof, &public));

    let one = Fr::one();
    type Alteration = fn(&mut PublicInputs, Fr);
    let alterations: [(&str, Alteration); 6] = [
        ("root", |p, d| p.root += d),
        ("scope", |p, d| p.scope += d),
        ("nullifier", |p, d| p.nullifier += d),
        ("message", |p, d| p.message += d),
        ("mask", |p, d| p.mask += d),
        ("disclosed", |p, d| p.disclosed += d),
    ];
    for (name, alter) in alterations {
        let mut altered = public;
        alter(&mut altered, one);
        assert!(
            !verifier.verify(&proof, &altered),
            "altered {name} still verifies"
        );
    }
}

#[test]
fn proofs_are_128_bytes_and_every_flipped_byte_is_rejected() {
    let s = setup(4);
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let proof = s.prover.prove(&s.statement, &mut rng).unwrap();
    let bytes = ProofBytes::encode(&proof).unwrap();
    assert_eq!(bytes.0.len(), PROOF_LEN);
    assert_eq!(ProofBytes::from_hex(&bytes.to_hex()).unwrap(), bytes);
    let verifier = s.prover.verifier();
    verifier.verify_bytes(&bytes, &s.statement.public).unwrap();
    for i in 0..PROOF_LEN {
        let mut flipped = bytes;
        flipped.0[i] ^= 0x01;
        let result = verifier.verify_bytes(&flipped, &s.statement.public);
        // A point that does not decode is reported as malformed, whichever point it is.
        match flipped.decode() {
            Err(_) => assert!(
                matches!(result, Err(VerifyError::Malformed(_))),
                "byte {i}: {result:?}"
            ),
            Ok(_) => assert_eq!(result, Err(VerifyError::Invalid), "byte {i}"),
        }
    }
}

#[test]
fn proof_decoding_rejects_truncation_bad_hex_and_invalid_points() {
    assert!(ProofBytes::from_slice(&[0u8; 127]).is_err());
    assert!(ProofBytes::from_slice(&[0u8; 129]).is_err());
    assert!(ProofBytes::from_hex("").is_err());
    assert!(ProofBytes::from_hex(&"A".repeat(256)).is_err());
    assert!(ProofBytes::from_hex(&"zz".repeat(128)).is_err());

    // A G1 x coordinate with no point on the curve (x³ + 3 is not a square).
    let mut x = ark_bn254::Fq::from(1u64);
    while (x.square() * x + ark_bn254::Fq::from(3u64))
        .sqrt()
        .is_some()
    {
        x += ark_bn254::Fq::one();
    }
    let mut off_curve = [0u8; PROOF_LEN];
    x.serialize_compressed(&mut off_curve[..32]).unwrap();
    G2Affine::generator()
        .serialize_compressed(&mut off_curve[32..96])
        .unwrap();
    G1Affine::generator()
        .serialize_compressed(&mut off_curve[96..])
        .unwrap();
    assert!(
        ProofBytes(off_curve).decode().is_err(),
        "off-curve A accepted"
    );

    // A G2 point on the twist but outside the prime-order subgroup.
    let mut x = ark_bn254::Fq2::from(1u64);
    let bad_b = loop {
        if let Some(p) = G2Affine::get_point_from_x_unchecked(x, false) {
            if !p.is_in_correct_subgroup_assuming_on_curve() {
                break p;
            }
        }
        x += ark_bn254::Fq2::one();
    };
    let mut not_in_subgroup = [0u8; PROOF_LEN];
    G1Affine::generator()
        .serialize_compressed(&mut not_in_subgroup[..32])
        .unwrap();
    bad_b
        .serialize_compressed(&mut not_in_subgroup[32..96])
        .unwrap();
    G1Affine::generator()
        .serialize_compressed(&mut not_in_subgroup[96..])
        .unwrap();
    assert!(
        ProofBytes(not_in_subgroup).decode().is_err(),
        "non-subgroup B accepted"
    );

    // A coordinate ≥ q (the base-field modulus) in A.
    let mut non_canonical = not_in_subgroup;
    non_canonical[..32].copy_from_slice(&[0xff; 32]);
    non_canonical[31] &= 0x3f; // clear the flag bits, leaving x = 2^254 − 1 > q
    assert!(ProofBytes(non_canonical).decode().is_err());
}

#[test]
fn nullifier_plus_r_is_rejected_by_the_decoder() {
    let s = setup(4);
    let nullifier = s.statement.public.nullifier;
    // nullifier + r as a 256-bit big-endian integer: it aliases the same field element.
    let mut limbs = nullifier.into_bigint();
    let carry = ark_ff::BigInteger::add_with_carry(&mut limbs, &Fr::MODULUS);
    assert!(!carry);
    let alias = format!("0x{}", hex::encode(ark_ff::BigInteger::to_bytes_be(&limbs)));
    assert_eq!(
        field::from_hex(&alias),
        Err(field::FieldError::NotCanonical)
    );
    assert_eq!(
        field::from_hex(&field::to_hex(&nullifier)).unwrap(),
        nullifier
    );
}

#[test]
fn false_statements_are_reported_not_proven() {
    let s = setup(4);
    let mut rng = ChaCha20Rng::seed_from_u64(10);
    let mut bad = s.statement.clone();
    bad.witness.sk += Fr::one();
    assert!(matches!(
        s.prover.prove(&bad, &mut rng),
        Err(undersign_proof::ProveError::StatementFalse)
    ));
    let mut bad = s.statement.clone();
    bad.public.root = Fr::zero();
    assert!(s.prover.prove(&bad, &mut rng).is_err());
}

#[test]
fn key_files_round_trip_and_tampering_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let depth = 4;
    let keyset = KeySet::development(depth, &[3u8; 32]).unwrap();
    let manifest = keyset.write(dir.path()).unwrap();
    let (loaded_manifest, prover) = keys::load_prover(dir.path()).unwrap();
    assert_eq!(loaded_manifest, manifest);
    assert_eq!(prover.verifier().key_hash(), manifest.verifying_key.blake3);

    // Same seed, same keys; another seed, other keys.
    let again = KeySet::development(depth, &[3u8; 32]).unwrap();
    assert_eq!(again.verifying_key(), keyset.verifying_key());
    assert_ne!(
        KeySet::development(depth, &[4u8; 32])
            .unwrap()
            .verifying_key(),
        keyset.verifying_key()
    );

    // A flipped byte in the proving key is caught by its hash.
    let pk_path = dir.path().join(keys::PROVING_KEY_FILE);
    let mut pk = std::fs::read(&pk_path).unwrap();
    let mid = pk.len() / 2;
    pk[mid] ^= 1;
    std::fs::write(&pk_path, &pk).unwrap();
    assert!(matches!(
        keys::load_prover(dir.path()),
        Err(KeyError::HashMismatch { .. })
    ));

    // A truncated verifying key is caught too.
    let vk_path = dir.path().join(keys::VERIFYING_KEY_FILE);
    let vk = std::fs::read(&vk_path).unwrap();
    std::fs::write(&vk_path, &vk[..vk.len() - 1]).unwrap();
    assert!(keys::load_verifier(dir.path()).is_err());

    // Garbage manifest.
    std::fs::write(dir.path().join(keys::MANIFEST_FILE), b"{not json").unwrap();
    assert!(matches!(
        keys::load_verifier(dir.path()),
        Err(KeyError::Manifest { .. })
    ));
    assert!(matches!(
        keys::load_verifier(&dir.path().join("missing")),
        Err(KeyError::Io { .. })
    ));
}

#[test]
fn a_proving_key_for_another_depth_is_refused() {
    let keyset = KeySet::development(4, &[5u8; 32]).unwrap();
    assert!(Prover::new(5, keyset.proving_key).is_err());
    assert!(KeySet::development(3, &[5u8; 32]).is_err());
}

/// `from_parts` refuses a shape of another depth and a verifier of another key, and accepts
/// the parts that fit.
#[test]
fn prover_parts_must_fit_together() {
    let keyset = KeySet::development(4, &[5u8; 32]).unwrap();
    let other = KeySet::development(4, &[6u8; 32]).unwrap();
    let verifier = || Verifier::new(keyset.proving_key.vk.clone()).unwrap();
    let shape = |depth| CircuitShape::synthesize(depth).unwrap();
    let mismatch = |result: Result<Prover, ProveError>| match result {
        Err(ProveError::KeyMismatch { what, .. }) => what,
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("accepted"),
    };
    assert_eq!(
        mismatch(Prover::from_parts(
            shape(5),
            keyset.proving_key.clone(),
            verifier()
        )),
        "number of witness variables"
    );
    assert_eq!(
        mismatch(Prover::from_parts(
            shape(4),
            keyset.proving_key.clone(),
            Verifier::new(other.proving_key.vk.clone()).unwrap()
        )),
        "verifying key"
    );
    let prover = Prover::from_parts(shape(4), keyset.proving_key.clone(), verifier()).unwrap();
    assert_eq!(prover.depth(), 4);
}

#[test]
fn depth_20_proof_verifies() {
    let s = setup(20);
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let proof = s.prover.prove(&s.statement, &mut rng).unwrap();
    assert!(s.prover.verifier().verify(&proof, &s.statement.public));
    assert_eq!(s.prover.num_constraints(), 5616);
}

#[test]
fn batch_verification_accepts_honest_batches_and_names_every_bad_proof() {
    use undersign_proof::batch::{find_invalid, verify_batch};
    let s = setup(4);
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let verifier = s.prover.verifier();
    let mut items: Vec<(undersign_proof::Proof, PublicInputs)> = (0..9)
        .map(|_| {
            (
                s.prover.prove(&s.statement, &mut rng).unwrap(),
                s.statement.public,
            )
        })
        .collect();
    assert!(verify_batch(verifier, &items, &mut rng));
    assert!(verify_batch(verifier, &[], &mut rng));
    assert!(find_invalid(verifier, &items, &mut rng).is_empty());
    let honest = items.clone();

    // Altered inputs and a swapped proof element, at scattered positions.
    items[2].1.nullifier += Fr::one();
    items[7].1.disclosed += Fr::one();
    let other = items[0].0.clone();
    items[5].0.c = other.a;
    assert!(!verify_batch(verifier, &items, &mut rng));
    assert_eq!(find_invalid(verifier, &items, &mut rng), vec![2, 5, 7]);
    assert!(!verify_batch(verifier, &items[7..8], &mut rng));

    // A and B, which the batch's Miller loop walks in affine coordinates: taken from another
    // proof, or at infinity.
    let mut items = honest.clone();
    items[1].0.b = other.b;
    items[3].0.a = other.a;
    items[4].0.b = G2Affine::zero();
    items[6].0.a = G1Affine::zero();
    assert!(!verify_batch(verifier, &items, &mut rng));
    assert_eq!(find_invalid(verifier, &items, &mut rng), vec![1, 3, 4, 6]);

    // A B with y = 0 (off the curve; decoding never yields one, but the API takes any):
    // rejected and named like any other bad proof. (The batch's affine loop refuses such
    // points and falls back to the projective one: `batch.rs` tests that on a larger chunk.)
    let mut items = honest;
    items[8].0.b = G2Affine::new_unchecked(other.b.x, ark_bn254::Fq2::zero());
    assert!(!verify_batch(verifier, &items, &mut rng));
    assert_eq!(find_invalid(verifier, &items, &mut rng), vec![8]);
    assert!(verify_batch(verifier, &items[..8], &mut rng));
}

#[test]
fn manifest_setup_and_ceremony_fields_must_agree() {
    let dir = tempfile::tempdir().unwrap();
    let keyset = KeySet::development(4, &[3u8; 32]).unwrap();
    let manifest = keyset.write(dir.path()).unwrap();
    // Development manifests have no `ceremony` field and still load.
    let text = std::fs::read_to_string(dir.path().join(keys::MANIFEST_FILE)).unwrap();
    assert!(!text.contains("\"ceremony\":"));
    assert_eq!(keys::load_verifier(dir.path()).unwrap().0, manifest);
    let edit = |from: &str, to: &str| {
        std::fs::write(
            dir.path().join(keys::MANIFEST_FILE),
            text.replacen(from, to, 1),
        )
        .unwrap();
        keys::load_verifier(dir.path()).map(|(m, _)| m)
    };
    let unnamed = edit("\"development\"", "\"ceremony\"");
    assert!(matches!(unnamed, Err(KeyError::Manifest { .. })));
    let unknown = edit("\"development\"", "\"trusted\"");
    assert!(matches!(unknown, Err(KeyError::Manifest { .. })));
    let named = edit(
        "\"setup\": \"development\"",
        "\"setup\": \"ceremony\", \"ceremony\": {\"phase1\": \"aa\", \"phase2\": \"bb\", \
         \"phase1_contributions\": 3, \"phase2_contributions\": 4}",
    )
    .unwrap();
    assert_eq!(named.ceremony.unwrap().phase2_contributions, 4);
    let extra = edit("\"setup\"", "\"surprise\": 1, \"setup\"");
    assert!(matches!(extra, Err(KeyError::Manifest { .. })));
}

/// The commitment to `public` under `vk`: `γ_abc[0] + Σ x_j·γ_abc[j+1]`.
fn input_commitment(
    vk: &undersign_proof::VerifyingKey,
    public: &PublicInputs,
) -> ark_bn254::G1Projective {
    let mut sum = vk.gamma_abc_g1[0].into_group();
    for (x, base) in public.to_vec().iter().zip(&vk.gamma_abc_g1[1..]) {
        sum += *base * *x;
    }
    sum
}

/// A complete, self-consistent key pair with `δ = γ` or `δ = −γ` (both made by arkworks'
/// generator with those secrets): one honest proof lets anyone prove any public inputs (shown
/// with arkworks' verifier), and every way of using the key refuses it: `Verifier::new`,
/// `Prover::new`, and loading a key directory, verifying key or proving key.
#[test]
fn keys_with_delta_plus_or_minus_gamma_are_refused_everywhere() {
    use ark_bn254::Bn254;
    use ark_ec::CurveGroup;
    use ark_ff::UniformRand;
    use ark_groth16::Groth16;
    use undersign_proof::verifier::VerifyingKeyError;
    use undersign_proof::MembershipCircuit;

    let depth = 4;
    let s = setup(depth);
    let mut rng = ChaCha20Rng::seed_from_u64(41);
    for negate in [false, true] {
        let gamma = Fr::rand(&mut rng);
        let delta = if negate { -gamma } else { gamma };
        let proving_key = Groth16::<Bn254>::generate_parameters_with_qap(
            MembershipCircuit::shape(depth),
            Fr::rand(&mut rng),
            Fr::rand(&mut rng),
            gamma,
            delta,
            ark_bn254::G1Projective::rand(&mut rng),
            ark_bn254::G2Projective::rand(&mut rng),
            &mut rng,
        )
        .unwrap();
        let vk = proving_key.vk.clone();

        // The threat: an honest proof for x, with C moved by ±(P(x) − P(x')), verifies for x'.
        let public = s.statement.public;
        let proof = Groth16::<Bn254>::create_random_proof_with_reduction(
            MembershipCircuit::with_statement(depth, s.statement.clone()),
            &proving_key,
            &mut rng,
        )
        .unwrap();
        let prepared = ark_groth16::prepare_verifying_key(&vk);
        assert_eq!(
            Groth16::<Bn254>::verify_proof(&prepared, &proof, &public.to_vec()),
            Ok(true)
        );
        let mut other = public;
        other.nullifier += Fr::one();
        other.message = Fr::from(1234u64);
        let shift = input_commitment(&vk, &public) - input_commitment(&vk, &other);
        let shift = if negate { -shift } else { shift };
        let forged = undersign_proof::Proof {
            c: (proof.c + shift).into_affine(),
            ..proof.clone()
        };
        assert_eq!(
            Groth16::<Bn254>::verify_proof(&prepared, &forged, &other.to_vec()),
            Ok(true),
            "the forgery works against an unchecked verifier"
        );

        // Refused everywhere.
        let expected = if negate {
            VerifyingKeyError::DeltaEqualsMinusGamma
        } else {
            VerifyingKeyError::DeltaEqualsGamma
        };
        assert_eq!(Verifier::new(vk.clone()).err(), Some(expected.clone()));
        match Prover::new(depth, proving_key.clone()) {
            Err(ProveError::UnsafeVerifyingKey(e)) => assert_eq!(e, expected),
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("Prover::new accepted the key"),
        }
        let dir = tempfile::tempdir().unwrap();
        KeySet { depth, proving_key }.write(dir.path()).unwrap();
        let refused = |result: Result<(), KeyError>| match result {
            Err(KeyError::Malformed { path, reason }) => {
                assert!(path.ends_with(keys::VERIFYING_KEY_FILE), "{path:?}");
                assert_eq!(reason, expected.to_string());
            }
            Err(e) => panic!("unexpected error {e}"),
            Ok(()) => panic!("the key directory loaded"),
        };
        refused(keys::load_verifier(dir.path()).map(|_| ()));
        refused(keys::load_prover(dir.path()).map(|_| ()));
    }
}

/// `count` honest proofs of the setup's statement, each with its public inputs.
fn honest_items(s: &Setup, count: usize, seed: u64) -> Vec<undersign_proof::batch::Item> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            (
                s.prover.prove(&s.statement, &mut rng).unwrap(),
                s.statement.public,
            )
        })
        .collect()
}

/// `find_invalid` names exactly the proofs `Verifier::verify` rejects, ascending, on real
/// proofs in every pattern of the budgeted bisection: all valid, all invalid, every other
/// (from the first and from the second), one in the middle, first, last, first and last, a
/// run, and one in each half.
#[test]
fn find_invalid_agrees_with_one_by_one_verification() {
    use undersign_proof::batch::find_invalid;
    let s = setup(4);
    let verifier = s.prover.verifier();
    let n = 40;
    let honest = honest_items(&s, n, 51);
    let mut rng = ChaCha20Rng::seed_from_u64(52);
    type Pattern = fn(usize, usize) -> bool;
    let patterns: [(&str, Pattern); 11] = [
        ("all valid", |_, _| false),
        ("all invalid", |_, _| true),
        ("every other", |i, _| i % 2 == 1),
        ("every other from the first", |i, _| i % 2 == 0),
        ("middle", |i, n| i == n / 2),
        ("first", |i, _| i == 0),
        ("last", |i, n| i + 1 == n),
        ("first and last", |i, n| i == 0 || i + 1 == n),
        ("a run", |i, _| (11..17).contains(&i)),
        ("one per half", |i, n| i == 3 || i == n - 5),
        ("every fourth", |i, _| i % 4 == 2),
    ];
    for (name, bad) in patterns {
        let mut items = honest.clone();
        for (i, (proof, public)) in items.iter_mut().enumerate() {
            if bad(i, n) {
                // Three kinds of bad proof: wrong inputs, a swapped point, a shifted C.
                match i % 3 {
                    0 => public.nullifier += Fr::one(),
                    1 => proof.c = honest[(i + 1) % n].0.c,
                    _ => proof.a = honest[(i + 2) % n].0.a,
                }
            }
        }
        let one_by_one: Vec<usize> = (0..n)
            .filter(|&i| !verifier.verify(&items[i].0, &items[i].1))
            .collect();
        let expected: Vec<usize> = (0..n).filter(|&i| bad(i, n)).collect();
        assert_eq!(one_by_one, expected, "{name}: the pattern");
        assert_eq!(find_invalid(verifier, &items, &mut rng), expected, "{name}");
    }
}

/// Two invalid proofs made to cancel if their batch coefficients were equal: `(A, B, C + T)`
/// and `(A, B, C − T)` from one valid `(A, B, C)`. Each is invalid, their sum of `C` terms is
/// the valid one's twice; with independent coefficients the batch fails, and both are named,
/// alone or among valid proofs.
#[test]
fn a_pair_of_cancelling_invalid_proofs_is_caught() {
    use ark_ec::{CurveGroup, PrimeGroup};
    use ark_ff::UniformRand;
    use undersign_proof::batch::{find_invalid, verify_batch};
    let s = setup(4);
    let verifier = s.prover.verifier();
    let honest = honest_items(&s, 12, 53);
    let mut rng = ChaCha20Rng::seed_from_u64(54);
    let (proof, public) = honest[0].clone();
    let t = ark_bn254::G1Projective::generator() * Fr::rand(&mut rng);
    let plus = undersign_proof::Proof {
        c: (proof.c + t).into_affine(),
        ..proof.clone()
    };
    let minus = undersign_proof::Proof {
        c: (proof.c - t).into_affine(),
        ..proof.clone()
    };
    // They would cancel: (C + T) + (C − T) = 2C, the C of the valid proof counted twice.
    assert_eq!(plus.c + minus.c, proof.c + proof.c);
    assert!(!verifier.verify(&plus, &public));
    assert!(!verifier.verify(&minus, &public));
    let pair = vec![(plus.clone(), public), (minus.clone(), public)];
    for _ in 0..8 {
        assert!(!verify_batch(verifier, &pair, &mut rng));
        assert_eq!(find_invalid(verifier, &pair, &mut rng), vec![0, 1]);
    }
    // Among valid proofs, at positions that fall into different halves and the same half.
    for (i, j) in [(2, 9), (4, 5), (0, 11)] {
        let mut items = honest.clone();
        items[i] = (plus.clone(), public);
        items[j] = (minus.clone(), public);
        assert!(!verify_batch(verifier, &items, &mut rng));
        assert_eq!(find_invalid(verifier, &items, &mut rng), vec![i, j]);
    }
}

/// BN254's G2 cofactor and its factorisation into primes.
const G2_COFACTOR: &str =
    "21888242871839275222246405745257275088844257914179612981679871602714643921549";
const G2_COFACTOR_FACTORS: [&str; 4] = [
    "10069",
    "5864401",
    "1875725156269",
    "197620364512881247228717050342013327560683201906968909",
];

/// The product of `factors`, which must fit in 256 bits.
fn product(factors: &[ark_ff::BigInt<4>]) -> ark_ff::BigInt<4> {
    use ark_ff::BigInteger;
    factors.iter().fold(ark_ff::BigInt::from(1u64), |acc, f| {
        let (low, high) = acc.mul(f);
        assert!(high.is_zero(), "the product overflows 256 bits");
        low
    })
}

/// Points of each small prime order `ℓ` dividing the G2 cofactor (from random points of the
/// twist, times `r·h/ℓ`), and `B + T` for a valid `B`: on the curve, and refused by arkworks'
/// validating decoder and by ours alike, in the position of `B` in a proof.
#[test]
fn g2_torsion_points_are_refused_by_decoding() {
    use ark_bn254::{Fq2, G2Projective};
    use ark_ec::{CurveConfig, CurveGroup, PrimeGroup};
    use ark_ff::{BigInt, UniformRand};
    use ark_serialize::CanonicalDeserialize;
    use std::str::FromStr;
    use undersign_proof::subgroup::g2_in_subgroup_assuming_on_curve;

    // The factorisation: the product is the cofactor (ours and arkworks'), and the three
    // smaller factors are prime (trial division; the largest is only used as an order, for
    // which `ℓ·T = 0` with `T ≠ 0` is checked below).
    let factors: Vec<BigInt<4>> = G2_COFACTOR_FACTORS
        .iter()
        .map(|f| BigInt::from_str(f).unwrap())
        .collect();
    let cofactor = BigInt::<4>::from_str(G2_COFACTOR).unwrap();
    assert_eq!(product(&factors), cofactor);
    assert_eq!(
        cofactor.0.as_slice(),
        <ark_bn254::g2::Config as CurveConfig>::COFACTOR
    );
    for f in &factors[..3] {
        let f = f.0[0];
        assert!((2..).take_while(|d| d * d <= f).all(|d| f % d != 0), "{f}");
    }

    let mut rng = ChaCha20Rng::seed_from_u64(55);
    let valid_b = (G2Projective::generator() * Fr::rand(&mut rng)).into_affine();
    let mut refused = 0;
    for (k, order) in factors.iter().enumerate() {
        let others: Vec<BigInt<4>> = (0..factors.len())
            .filter(|&j| j != k)
            .map(|j| factors[j])
            .collect();
        let cofactor_over_order = product(&others);
        // A random twist point times r·h/ℓ: in the ℓ-torsion (the twist's group of order r·h
        // is cyclic, h being squarefree and prime to r), and almost never zero.
        let torsion = loop {
            let x = Fq2::new(ark_bn254::Fq::rand(&mut rng), ark_bn254::Fq::rand(&mut rng));
            let Some(q) = G2Affine::get_point_from_x_unchecked(x, rng.gen()) else {
                continue;
            };
            let t = q
                .mul_bigint(Fr::MODULUS)
                .into_affine()
                .mul_bigint(cofactor_over_order)
                .into_affine();
            if !t.is_zero() {
                break t;
            }
        };
        assert!(torsion.is_on_curve());
        assert!(torsion.mul_bigint(*order).is_zero(), "order {order}");
        let mixed = (valid_b + torsion).into_affine();
        for point in [torsion, -torsion, mixed] {
            assert!(point.is_on_curve() && !point.is_zero());
            assert!(!point.is_in_correct_subgroup_assuming_on_curve());
            assert!(!g2_in_subgroup_assuming_on_curve(&point));
            let mut bytes = [0u8; 64];
            point.serialize_compressed(&mut bytes[..]).unwrap();
            // arkworks reads the point back unchecked, and refuses it with validation.
            assert_eq!(
                G2Affine::deserialize_compressed_unchecked(&bytes[..]).unwrap(),
                point
            );
            assert!(G2Affine::deserialize_compressed(&bytes[..]).is_err());
            // Ours, as B of a proof.
            let mut proof = [0u8; PROOF_LEN];
            G1Affine::generator()
                .serialize_compressed(&mut proof[..32])
                .unwrap();
            proof[32..96].copy_from_slice(&bytes);
            G1Affine::generator()
                .serialize_compressed(&mut proof[96..])
                .unwrap();
            assert!(ProofBytes(proof).decode().is_err(), "order {order}");
            refused += 1;
        }
        // The valid B in the same proof decodes: the refusal is the torsion's doing.
        let mut proof = [0u8; PROOF_LEN];
        G1Affine::generator()
            .serialize_compressed(&mut proof[..32])
            .unwrap();
        valid_b.serialize_compressed(&mut proof[32..96]).unwrap();
        G1Affine::generator()
            .serialize_compressed(&mut proof[96..])
            .unwrap();
        assert_eq!(ProofBytes(proof).decode().unwrap().b, valid_b);
    }
    assert_eq!(refused, 12);
}
