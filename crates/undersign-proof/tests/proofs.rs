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
