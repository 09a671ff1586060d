//! Soundness tests: the honest statement satisfies the circuit, and every tampered witness or
//! public input leaves some constraint unsatisfied.

use super::*;
use ark_ff::AdditiveGroup;
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
    check(statement, None)
}

/// Whether `statement` satisfies the circuit with constraint `omit` left out.
fn check(statement: Statement, omit: Option<Check>) -> bool {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(SynthesisMode::Prove {
        construct_matrices: true,
        generate_lc_assignments: false,
    });
    let mut circuit = MembershipCircuit::with_statement(DEPTH, statement);
    circuit.omit = omit;
    match circuit.generate_constraints(cs.clone()) {
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
    assert_rejected("mask bits not matching mask", |s| {
        s.witness.mask_bits[3] = one
    });
}

/// Asserts the tampered statement is rejected, and accepted once `isolated` is left out: the
/// test really exercises that one constraint.
fn assert_isolates(what: &str, statement: Statement, isolated: Check) {
    assert!(!satisfied(statement.clone()), "{what} was accepted");
    assert!(
        check(statement, Some(isolated)),
        "{what} is not caught by {isolated:?} alone"
    );
}

#[test]
fn non_boolean_path_bit_would_let_an_outsider_in() {
    // An outsider with leaf `node` steers a fractional bit so that level 0 yields the member's
    // real pair (L, R): left = node + b·(sibling − node) = L and right = node + sibling − left = R.
    let f = fixture();
    let mut s = honest(&f);
    let outsider = IdentitySecret::from_bytes([77u8; 32]);
    let attrs = Attributes([2, 2, 2, 2]);
    let node = id::member_leaf(outsider.commitment(), &attrs);
    let (l, r) = (f.tree.leaves()[6], f.tree.leaves()[7]);
    let sibling = l + r - node;
    let bit = (l - node) * (l + r - node.double()).inverse().unwrap();
    let w = &mut s.witness;
    w.sk = outsider.sk();
    w.codes = attrs.0.map(|c| Fr::from(u64::from(c)));
    w.code_bits = attrs
        .0
        .map(|c| std::array::from_fn(|j| Fr::from(u64::from((c >> j) & 1))));
    w.leaf_inverse = node.inverse().unwrap();
    w.siblings[0] = sibling;
    w.path_bits[0] = bit;
    w.index = w
        .path_bits
        .iter()
        .enumerate()
        .map(|(h, b)| *b * Fr::from(1u64 << h))
        .sum();
    w.mask_bits = [Fr::zero(); 4];
    s.public.nullifier = id::nullifier(s.public.scope, outsider.sk());
    s.public.mask = Fr::zero();
    s.public.disclosed = Fr::zero();
    assert_isolates("fractional path bit", s, Check::PathBitBoolean);
}

#[test]
fn non_boolean_mask_bits_would_forge_a_disclosed_code() {
    // Codes [1, 7, 3, 0]: m1 = 1/(7·2^16 − 2), m0 = 1 − 2·m1 give mask 1 and disclosed 2.
    let f = fixture();
    let mut s = honest(&f);
    let m1 = (Fr::from(7u64 << 16) - Fr::from(2u64)).inverse().unwrap();
    s.witness.mask_bits = [Fr::from(1u64) - m1.double(), m1, Fr::zero(), Fr::zero()];
    s.public.mask = Fr::from(1u64);
    s.public.disclosed = Fr::from(2u64);
    assert_isolates("fractional mask bits", s, Check::MaskBitBoolean);
}

#[test]
fn non_boolean_code_bit_would_forge_a_disclosed_code() {
    // codes (1 − 2^16, 8) pack like (1, 7); bit 0 of code 0 carries the −2^16.
    let f = fixture();
    let mut s = honest(&f);
    let w = &mut s.witness;
    w.codes[0] = Fr::from(1u64) - Fr::from(1u64 << 16);
    w.codes[1] = Fr::from(8u64);
    w.code_bits[0] = [Fr::zero(); CODE_BITS];
    w.code_bits[0][0] = w.codes[0];
    w.code_bits[1] = std::array::from_fn(|j| Fr::from(u64::from((8u16 >> j) & 1)));
    w.mask_bits = [Fr::zero(), Fr::from(1u64), Fr::zero(), Fr::zero()];
    s.public.mask = Fr::from(2u64);
    s.public.disclosed = Fr::from(8u64 << 16);
    assert_isolates("fractional code bit", s, Check::CodeBitBoolean);
}

#[test]
fn leaf_inverse_and_index_constraints_are_each_exercised() {
    let mut s = honest(&fixture());
    s.witness.leaf_inverse += Fr::from(1u64);
    assert_isolates("wrong leaf inverse", s, Check::LeafNonZero);
    let mut s = honest(&fixture());
    s.witness.index += Fr::from(1u64);
    assert_isolates("index not matching its bits", s, Check::IndexSum);
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

#[test]
fn constraint_count_is_what_synthesis_gives() {
    for depth in [4, 5, 20] {
        assert_eq!(constraint_count(depth).unwrap(), count_constraints(depth));
    }
    assert_eq!(constraint_count(20).unwrap(), EXPECTED_CONSTRAINTS_DEPTH_20);
}

/// `PublicInputs::to_vec` is the order of SPEC.md §8 and the order in which the circuit
/// allocates its instance variables; a verifier that used another order would check a
/// different statement.
#[test]
fn public_inputs_are_listed_in_the_circuits_instance_order() {
    let statement = honest(&fixture());
    let public = statement.public;
    assert_eq!(
        public.to_vec(),
        vec![
            public.root,
            public.scope,
            public.nullifier,
            public.message,
            public.mask,
            public.disclosed
        ]
    );
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(SynthesisMode::Prove {
        construct_matrices: false,
        generate_lc_assignments: false,
    });
    MembershipCircuit::with_statement(DEPTH, statement)
        .generate_constraints(cs.clone())
        .unwrap();
    let instance = cs.instance_assignment().unwrap();
    // Instance variable 0 is the constant 1.
    assert_eq!(instance[0], Fr::ONE);
    assert_eq!(instance[1..], public.to_vec()[..]);
}

#[test]
fn a_witness_prints_redacted() {
    let statement = honest(&fixture());
    let printed = format!("{:?}", statement.witness);
    assert_eq!(printed, "Witness(<redacted>)");
}
