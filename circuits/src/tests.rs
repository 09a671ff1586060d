//! Soundness tests: the honest statement satisfies the circuit, and every tampered witness or
//! public input leaves some constraint unsatisfied.

use super::*;
use ark_relations::gr1cs::{ConstraintSystem, SynthesisMode};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use undersign_core::identity::{self as id, IdentitySecret};
use undersign_core::merkle::MerkleTree;

const DEPTH: u32 = 5;
const MEMBER: u64 = 6;

struct Fixture {
    tree: MerkleTree,
    sk: Fr,
    attributes: Attributes,
}

fn fixture() -> Fixture {
    let mut rng = ChaCha20Rng::seed_from_u64(42);
    let mut leaves = Vec::new();
    let mut sk = Fr::zero();
    let attributes = Attributes([1, 7, 3, 0]);
    for i in 0..10 {
        let secret = IdentitySecret::from_bytes(rng.gen());
        let attrs = if i == MEMBER {
            attributes
        } else {
            Attributes([2, i as u16, 1, 9])
        };
        if i == MEMBER {
            sk = secret.sk();
        }
        leaves.push(id::member_leaf(secret.commitment(), &attrs));
    }
    leaves[8] = Fr::zero(); // a removed member
    Fixture {
        tree: MerkleTree::from_leaves(DEPTH, leaves).unwrap(),
        sk,
        attributes,
    }
}

fn honest(f: &Fixture) -> Statement {
    let path = f.tree.path(MEMBER).unwrap();
    Statement::new(
        f.sk,
        &f.attributes,
        &path,
        f.tree.root(),
        Fr::from(1234u64),
        Fr::from(99u64),
        Mask::from_slots(&[0, 1]).unwrap(),
    )
}

fn satisfied(statement: Statement) -> bool {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(SynthesisMode::Prove {
        construct_matrices: true,
        generate_lc_assignments: false,
    });
    match MembershipCircuit::with_statement(DEPTH, statement).generate_constraints(cs.clone()) {
        Ok(()) => {
            cs.finalize();
            cs.is_satisfied().unwrap()
        }
        Err(_) => false,
    }
}

#[test]
fn honest_statement_is_satisfied() {
    let f = fixture();
    assert!(satisfied(honest(&f)));
    // Every mask and no message work too.
    for bits in 0..16 {
        let path = f.tree.path(MEMBER).unwrap();
        let s = Statement::new(
            f.sk,
            &f.attributes,
            &path,
            f.tree.root(),
            Fr::from(5u64),
            Fr::zero(),
            Mask::new(bits).unwrap(),
        );
        assert!(satisfied(s), "mask {bits}");
    }
}

/// Applies `tamper` to an honest statement and asserts the result is unsatisfied.
fn assert_rejected(what: &str, tamper: impl FnOnce(&mut Statement)) {
    let mut s = honest(&fixture());
    tamper(&mut s);
    assert!(!satisfied(s), "{what} was accepted");
}

#[test]
fn tampered_witnesses_are_rejected() {
    let one = Fr::from(1u64);
    assert_rejected("wrong sk", |s| s.witness.sk += one);
    assert_rejected("wrong sibling", |s| s.witness.siblings[2] += one);
    assert_rejected("wrong top sibling", |s| {
        s.witness.siblings[DEPTH as usize - 1] += one
    });
    assert_rejected("wrong attribute code", |s| s.witness.codes[2] += one);
    assert_rejected("wrong leaf inverse", |s| s.witness.leaf_inverse += one);
    assert_rejected("index not matching its bits", |s| s.witness.index += one);
    assert_rejected("path bits of another position", |s| {
        s.witness.path_bits[0] = one - s.witness.path_bits[0];
        s.witness.index = Fr::from(MEMBER ^ 1);
    });
    assert_rejected("non-boolean path bit", |s| {
        // 6 = 0b0110: bits (0, 1, 1). Use bit0 = 2 and bit1 = 0, which also sum to 6.
        s.witness.path_bits[0] = Fr::from(2u64);
        s.witness.path_bits[1] = Fr::zero();
    });
    assert_rejected("non-boolean mask bit", |s| {
        // mask 3 = 1 + 2: use bit0 = 3, bit1 = 0.
        s.witness.mask_bits[0] = Fr::from(3u64);
        s.witness.mask_bits[1] = Fr::zero();
    });
    assert_rejected("mask bits not matching mask", |s| {
        s.witness.mask_bits[3] = one
    });
}

#[test]
fn attribute_code_of_2_pow_16_is_rejected_even_when_attrs_is_unchanged() {
    // codes (a0 + 2^16, a1 − 1) pack to the same attrs, so only the range check can object.
    let f = fixture();
    let mut s = honest(&f);
    let shift = Fr::from(1u64 << 16);
    s.witness.codes[0] += shift;
    s.witness.codes[1] -= Fr::from(1u64);
    let packed: Fr = (0..SLOTS)
        .map(|i| s.witness.codes[i] * slot_weight(i))
        .sum();
    assert_eq!(packed, f.attributes.packed());
    assert!(!satisfied(s));
}

#[test]
fn tampered_public_inputs_are_rejected() {
    let one = Fr::from(1u64);
    assert_rejected("root", |s| s.public.root += one);
    assert_rejected("scope", |s| s.public.scope += one);
    assert_rejected("nullifier", |s| s.public.nullifier += one);
    assert_rejected("mask", |s| s.public.mask = Fr::from(1u64));
    assert_rejected("mask of 16", |s| s.public.mask = Fr::from(16u64 + 3));
    assert_rejected("disclosed value", |s| s.public.disclosed += one);
    assert_rejected("disclosed hidden slot", |s| {
        s.public.disclosed += Fr::from(1u64 << 32)
    });
}

#[test]
fn removed_leaf_cannot_be_proven() {
    let f = fixture();
    // Position 8 holds 0. Any identity walking its path computes a non-zero leaf, so the root
    // does not match; and a zero leaf has no inverse.
    let path = f.tree.path(8).unwrap();
    let s = Statement::new(
        f.sk,
        &f.attributes,
        &path,
        f.tree.root(),
        Fr::from(1u64),
        Fr::zero(),
        Mask::NONE,
    );
    assert!(!satisfied(s));
}

#[test]
fn nonmember_cannot_prove() {
    let f = fixture();
    let outsider = IdentitySecret::from_bytes([9u8; 32]).sk();
    let path = f.tree.path(MEMBER).unwrap();
    let s = Statement::new(
        outsider,
        &f.attributes,
        &path,
        f.tree.root(),
        Fr::from(1u64),
        Fr::zero(),
        Mask::NONE,
    );
    assert!(!satisfied(s));
}

#[test]
fn wrong_path_length_is_an_error_not_a_panic() {
    let mut s = honest(&fixture());
    s.witness.siblings.pop();
    assert!(!satisfied(s));
}

fn count_constraints(depth: u32) -> usize {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(SynthesisMode::Setup);
    MembershipCircuit::shape(depth)
        .generate_constraints(cs.clone())
        .unwrap();
    cs.num_constraints()
}

#[test]
fn constraint_count_at_depth_20_is_under_6000() {
    let count = count_constraints(20);
    // SPEC.md §Circuit records this number; update both together.
    assert_eq!(
        count, EXPECTED_CONSTRAINTS_DEPTH_20,
        "constraint count changed: update SPEC.md"
    );
    assert!(count < 6000);
    assert_eq!(cs_instance_count(), NUM_PUBLIC_INPUTS + 1);
}

fn cs_instance_count() -> usize {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(SynthesisMode::Setup);
    MembershipCircuit::shape(4)
        .generate_constraints(cs.clone())
        .unwrap();
    cs.num_instance_variables()
}

/// Recorded in SPEC.md.
const EXPECTED_CONSTRAINTS_DEPTH_20: usize = 5616;
