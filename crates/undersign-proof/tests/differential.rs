//! Differential property tests of Groth16 verification: [`Verifier::verify`], batch
//! verification and proof decoding against arkworks' own `Groth16::verify_proof` (with
//! arkworks' `prepare_verifying_key`) and `Proof::deserialize_compressed`, on real proofs
//! altered towards the edges: points replaced by others, negated or at infinity, public inputs
//! replaced by `0`, `1`, `r − 1` or random values, proofs repeated in a batch, encodings with
//! flipped bytes and flag bits.
//!
//! Modest case counts by default; `PROPTEST_CASES=N` (proptest's own variable) raises them:
//! `PROPTEST_CASES=2000 cargo test -p undersign-proof --release --test differential`.

use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
use ark_ff::{One, PrimeField, Zero};
use ark_groth16::{Groth16, PreparedVerifyingKey};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use proptest::prelude::*;
use proptest::test_runner::Config;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::sync::OnceLock;
use undersign_core::attributes::{Attributes, Mask};
use undersign_core::identity::{member_leaf, IdentitySecret};
use undersign_core::merkle::MerkleTree;
use undersign_proof::batch::{find_invalid, verify_batch, Item};
use undersign_proof::encoding::ProofBytes;
use undersign_proof::keys::KeySet;
use undersign_proof::{Proof, Prover, PublicInputs, Statement, Verifier};

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

/// A verifier, arkworks' prepared key for the same key, and three honest proofs of one statement.
struct Fixture {
    verifier: Verifier,
    prepared: PreparedVerifyingKey<Bn254>,
    proofs: Vec<Proof>,
    public: PublicInputs,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let depth = 4;
        let keys = KeySet::development(depth, &[1u8; 32]).expect("development keys");
        let vk = keys.proving_key.vk.clone();
        let prover = Prover::new(depth, keys.proving_key).expect("prover");
        let secret = IdentitySecret::from_bytes([3u8; 32]);
        let attrs = Attributes([1, 2, 3, 0]);
        let tree = MerkleTree::from_leaves(depth, vec![member_leaf(secret.commitment(), &attrs)])
            .expect("tree");
        let statement = Statement::new(
            secret.sk(),
            &attrs,
            &tree.path(0).expect("path"),
            tree.root(),
            undersign_core::scope::petition_scope(b"petition"),
            undersign_core::scope::message(Some("hello")),
            Mask::from_slots(&[0, 2]).expect("mask"),
        );
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let proofs = (0..3)
            .map(|_| prover.prove(&statement, &mut rng).expect("proof"))
            .collect();
        Fixture {
            verifier: Verifier::new(vk.clone()).expect("verifier"),
            prepared: ark_groth16::prepare_verifying_key(&vk),
            proofs,
            public: statement.public,
        }
    })
}

fn arkworks_verify(proof: &Proof, public: &PublicInputs) -> bool {
    matches!(
        Groth16::<Bn254>::verify_proof(&fixture().prepared, proof, &public.to_vec()),
        Ok(true)
    )
}

fn scalar() -> impl Strategy<Value = Fr> {
    prop_oneof![
        Just(Fr::zero()),
        Just(Fr::one()),
        Just(-Fr::one()),
        any::<[u8; 32]>().prop_map(|b| Fr::from_le_bytes_mod_order(&b)),
    ]
}

/// How one point of an honest proof is altered.
#[derive(Debug, Clone)]
enum Change {
    Keep,
    Negate,
    Infinity,
    /// Taken from another honest proof (valid alone, invalid mixed).
    FromProof(usize),
    /// `k·G`.
    Multiple(Fr),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        6 => Just(Change::Keep),
        1 => Just(Change::Negate),
        1 => Just(Change::Infinity),
        1 => (0usize..3).prop_map(Change::FromProof),
        1 => scalar().prop_map(Change::Multiple),
    ]
}

fn apply_g1(point: G1Affine, change: &Change, other: G1Affine) -> G1Affine {
    match change {
        Change::Keep => point,
        Change::Negate => -point,
        Change::Infinity => G1Affine::zero(),
        Change::FromProof(_) => other,
        Change::Multiple(k) => (G1Projective::generator() * k).into_affine(),
    }
}

fn apply_g2(point: G2Affine, change: &Change, other: G2Affine) -> G2Affine {
    match change {
        Change::Keep => point,
        Change::Negate => -point,
        Change::Infinity => G2Affine::zero(),
        Change::FromProof(_) => other,
        Change::Multiple(k) => (G2Projective::generator() * k).into_affine(),
    }
}

/// An honest proof with each point possibly altered, and the public inputs with one possibly
/// replaced.
fn altered() -> impl Strategy<Value = (Proof, PublicInputs)> {
    (
        0usize..3,
        (change(), change(), change()),
        prop::option::weighted(0.3, (0usize..6, scalar())),
    )
        .prop_map(|(base, (ca, cb, cc), input)| {
            let f = fixture();
            let honest = &f.proofs[base];
            let other = |c: &Change| match c {
                Change::FromProof(i) => f.proofs[*i].clone(),
                _ => honest.clone(),
            };
            let proof = Proof {
                a: apply_g1(honest.a, &ca, other(&ca).a),
                b: apply_g2(honest.b, &cb, other(&cb).b),
                c: apply_g1(honest.c, &cc, other(&cc).c),
            };
            let mut public = f.public;
            if let Some((which, value)) = input {
                let field = match which {
                    0 => &mut public.root,
                    1 => &mut public.scope,
                    2 => &mut public.nullifier,
                    3 => &mut public.message,
                    4 => &mut public.mask,
                    _ => &mut public.disclosed,
                };
                *field = value;
            }
            (proof, public)
        })
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn verify_equals_arkworks_groth16((proof, public) in altered()) {
        prop_assert_eq!(fixture().verifier.verify(&proof, &public), arkworks_verify(&proof, &public));
    }

    /// A batch (with repeats) passes exactly when every proof passes arkworks' verification,
    /// and `find_invalid` names exactly those arkworks refuses.
    #[test]
    fn batch_verification_equals_arkworks_one_by_one(
        items in prop::collection::vec(altered(), 2..7),
        repeat in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let mut items: Vec<Item> = items;
        if repeat {
            let first = items[0].clone();
            items.push(first);
        }
        let expected: Vec<usize> = (0..items.len())
            .filter(|&i| !arkworks_verify(&items[i].0, &items[i].1))
            .collect();
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let verifier = &fixture().verifier;
        prop_assert_eq!(verify_batch(verifier, &items, &mut rng), expected.is_empty());
        prop_assert_eq!(find_invalid(verifier, &items, &mut rng), expected);
    }

    /// Decoding accepts exactly what arkworks' validating decoder accepts and re-encodes to
    /// the same bytes, and yields the same proof.
    #[test]
    fn decoding_equals_arkworks(
        (proof, _) in altered(),
        flips in prop::collection::vec((0usize..128, any::<u8>()), 0..3),
    ) {
        let mut bytes = [0u8; 128];
        proof.serialize_compressed(&mut bytes[..]).expect("128 bytes");
        for (at, mask) in flips {
            bytes[at] ^= mask;
        }
        let ours = ProofBytes(bytes).decode().ok();
        let theirs = Proof::deserialize_compressed(&bytes[..]).ok().filter(|p| {
            let mut again = [0u8; 128];
            p.serialize_compressed(&mut again[..]).is_ok() && again == bytes
        });
        prop_assert_eq!(ours, theirs);
    }
}
