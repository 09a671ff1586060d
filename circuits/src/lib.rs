//! The Undersign membership statement (`SPEC.md` §Circuit).
//!
//! Public inputs, in this order: `root, scope, nullifier, message, mask, disclosed`.
//! Private witness: `sk`, the four attribute codes, the leaf index, its `D` path bits, the
//! `D` Merkle siblings and the inverse of the leaf (proving the leaf is not 0).
//!
//! Constraints (each has a negative test in `tests`):
//! 1. `commitment = Poseidon(sk)`, `leaf = Poseidon(commitment, attrs)` with
//!    `attrs = Σ a_i·2^(16i)`;
//! 2. each code `a_i` is the sum of 16 boolean bits (so `a_i < 2^16`);
//! 3. `leaf · leaf_inv = 1` (an empty or removed leaf, 0, cannot be proven);
//! 4. each path bit `b_h` is boolean and `Σ b_h·2^h = index`;
//! 5. walking up, `(left, right) = b_h ? (sibling, node) : (node, sibling)`,
//!    `node = Poseidon(left, right)`, and the top node equals `root`;
//! 6. `nullifier = Poseidon(scope, sk)`;
//! 7. four boolean mask bits with `Σ m_i·2^i = mask`, and `disclosed = Σ m_i·a_i·2^(16i)`;
//! 8. `message² = message_sq` binds `message` to the proof.

pub mod poseidon;

use ark_bn254::Fr;
use ark_ff::{AdditiveGroup, Field, Zero};
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::prelude::*;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, Matrix, OptimizationGoal,
    SynthesisError, SynthesisMode, R1CS_PREDICATE_LABEL,
};
use undersign_core::attributes::{disclosed_value, Attributes, Mask, SLOTS};
use undersign_core::identity;
use undersign_core::merkle::MerklePath;

/// Bits per attribute code.
pub const CODE_BITS: usize = 16;
/// Number of public inputs.
pub const NUM_PUBLIC_INPUTS: usize = 6;

/// The public inputs of one signature, in circuit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicInputs {
    /// Registry root at a signed checkpoint.
    pub root: Fr,
    /// Petition scope.
    pub scope: Fr,
    /// `Poseidon(scope, sk)`.
    pub nullifier: Fr,
    /// Hash of the signer's comment, or 0 for none.
    pub message: Fr,
    /// Disclosure mask, 0..=15.
    pub mask: Fr,
    /// `Σ m_i·a_i·2^(16i)`.
    pub disclosed: Fr,
}

impl PublicInputs {
    /// The inputs as the verifier takes them: `[root, scope, nullifier, message, mask, disclosed]`.
    pub fn to_vec(&self) -> Vec<Fr> {
        vec![
            self.root,
            self.scope,
            self.nullifier,
            self.message,
            self.mask,
            self.disclosed,
        ]
    }
}

/// Every private value the circuit reads, as raw field elements so that tests can hand it
/// values an honest prover never would (a path bit of 2, a code of 2^16, ...).
///
/// `Debug` is redacted and the secret values are zeroized on drop: a witness identifies its
/// signer.
#[derive(Clone, PartialEq, Eq)]
pub struct Witness {
    /// The signer's field secret.
    pub sk: Fr,
    /// The four attribute codes.
    pub codes: [Fr; SLOTS],
    /// `code_bits[i][j]` is bit `j` of code `i`.
    pub code_bits: [[Fr; CODE_BITS]; SLOTS],
    /// The leaf index.
    pub index: Fr,
    /// `path_bits[h]` is bit `h` of the index.
    pub path_bits: Vec<Fr>,
    /// `siblings[h]` is the sibling at height `h`.
    pub siblings: Vec<Fr>,
    /// The inverse of the leaf.
    pub leaf_inverse: Fr,
    /// The four mask bits.
    pub mask_bits: [Fr; SLOTS],
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Witness(<redacted>)")
    }
}

impl Drop for Witness {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.sk.zeroize();
        self.codes.zeroize();
        self.code_bits.iter_mut().for_each(|bits| bits.zeroize());
        self.index.zeroize();
        self.path_bits.zeroize();
        self.siblings.zeroize();
        self.leaf_inverse.zeroize();
    }
}

/// An honest signer's statement: public inputs plus witness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The public inputs.
    pub public: PublicInputs,
    /// The private witness.
    pub witness: Witness,
}

impl Statement {
    /// Builds the statement for a member with field secret `sk`, attributes `attributes` and
    /// Merkle path `path` (against `root`), signing `scope` with `message` and disclosing `mask`.
    pub fn new(
        sk: Fr,
        attributes: &Attributes,
        path: &MerklePath,
        root: Fr,
        scope: Fr,
        message: Fr,
        mask: Mask,
    ) -> Self {
        let leaf = identity::member_leaf(identity::commitment(sk), attributes);
        let witness = Witness {
            sk,
            codes: attributes.0.map(|c| Fr::from(u64::from(c))),
            code_bits: attributes
                .0
                .map(|c| std::array::from_fn(|j| Fr::from(u64::from((c >> j) & 1)))),
            index: Fr::from(path.index),
            path_bits: (0..path.siblings.len())
                .map(|h| Fr::from((path.index >> h) & 1))
                .collect(),
            siblings: path.siblings.clone(),
            leaf_inverse: leaf.inverse().unwrap_or(Fr::zero()),
            mask_bits: [0, 1, 2, 3].map(|i| Fr::from(u64::from(mask.includes(i)))),
        };
        let public = PublicInputs {
            root,
            scope,
            nullifier: identity::nullifier(scope, sk),
            message,
            mask: mask.to_field(),
            disclosed: disclosed_value(attributes, mask),
        };
        Self { public, witness }
    }
}

/// The circuit for a tree of depth `depth`. Without a statement it synthesizes the shape only
/// (for key generation and the cached constraint matrices).
#[derive(Debug, Clone)]
pub struct MembershipCircuit {
    /// Tree depth `D`.
    pub depth: u32,
    /// The statement to prove, or `None` in setup mode.
    pub statement: Option<Statement>,
    /// Tests only: a constraint to leave out, to show a negative test depends on it.
    #[cfg(test)]
    omit: Option<Check>,
}

/// Tests only: the constraints a negative test can be shown to isolate.
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    CodeBitBoolean,
    CodeBitSum,
    LeafNonZero,
    PathBitBoolean,
    IndexSum,
    MaskBitBoolean,
}

/// The constraint matrices of the circuit at one depth, with its sizes.
pub struct ShapeMatrices {
    /// `A`, `B`, `C` as rows of `(coefficient, variable)`.
    pub matrices: Vec<Matrix<Fr>>,
    /// Instance variables, the constant `1` included.
    pub num_instance_variables: usize,
    /// Witness variables.
    pub num_witness_variables: usize,
    /// Constraints.
    pub num_constraints: usize,
}

impl MembershipCircuit {
    /// The shape of the circuit at `depth`, with no witness.
    pub fn shape(depth: u32) -> Self {
        Self {
            depth,
            statement: None,
            #[cfg(test)]
            omit: None,
        }
    }

    /// Synthesizes the shape at `depth` the way every key of this circuit was made (setup
    /// mode, linear combinations inlined to minimise constraints) and returns its matrices.
    pub fn shape_matrices(depth: u32) -> Result<ShapeMatrices, SynthesisError> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Setup);
        Self::shape(depth).generate_constraints(cs.clone())?;
        cs.finalize();
        let matrices = cs
            .to_matrices()?
            .remove(R1CS_PREDICATE_LABEL)
            .ok_or(SynthesisError::PredicateNotFound)?;
        Ok(ShapeMatrices {
            matrices,
            num_instance_variables: cs.num_instance_variables(),
            num_witness_variables: cs.num_witness_variables(),
            num_constraints: cs.num_constraints(),
        })
    }

    /// A circuit proving `statement`.
    pub fn with_statement(depth: u32, statement: Statement) -> Self {
        Self {
            depth,
            statement: Some(statement),
            #[cfg(test)]
            omit: None,
        }
    }
}

impl ConstraintSynthesizer<Fr> for MembershipCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let depth = self.depth as usize;
        let public = self.statement.as_ref().map(|s| s.public);
        let witness = self.statement.as_ref().map(|s| &s.witness);
        if let Some(w) = witness {
            if w.path_bits.len() != depth || w.siblings.len() != depth {
                return Err(SynthesisError::Unsatisfiable);
            }
        }

        // Public inputs, in SPEC order.
        let input = |get: fn(&PublicInputs) -> Fr| {
            FpVar::new_input(cs.clone(), || {
                public
                    .map(|p| get(&p))
                    .ok_or(SynthesisError::AssignmentMissing)
            })
        };
        let root = input(|p| p.root)?;
        let scope = input(|p| p.scope)?;
        let nullifier = input(|p| p.nullifier)?;
        let message = input(|p| p.message)?;
        let mask = input(|p| p.mask)?;
        let disclosed = input(|p| p.disclosed)?;

        let private = |get: &dyn Fn(&Witness) -> Fr| {
            FpVar::new_witness(cs.clone(), || {
                witness.map(get).ok_or(SynthesisError::AssignmentMissing)
            })
        };
        let one = FpVar::Constant(Fr::from(1u64));
        let zero = FpVar::Constant(Fr::zero());
        let enforce_boolean = |bit: &FpVar<Fr>| bit.mul_equals(&(bit - &one), &zero);
        // Tests can leave one constraint out to show a negative test depends on it.
        #[cfg(test)]
        let omit = self.omit;
        macro_rules! enforced {
            ($check:ident) => {{
                #[cfg(test)]
                let on = omit != Some(Check::$check);
                #[cfg(not(test))]
                let on = true;
                on
            }};
        }

        // 1–2. Identity, attribute codes with 16-bit range checks, leaf.
        let sk = private(&|w| w.sk)?;
        let mut codes = Vec::with_capacity(SLOTS);
        for slot in 0..SLOTS {
            let code = private(&|w| w.codes[slot])?;
            let mut sum = FpVar::Constant(Fr::zero());
            let mut weight = Fr::from(1u64);
            for bit_index in 0..CODE_BITS {
                let bit = private(&|w| w.code_bits[slot][bit_index])?;
                if enforced!(CodeBitBoolean) {
                    enforce_boolean(&bit)?;
                }
                sum += &bit * weight;
                weight.double_in_place();
            }
            if enforced!(CodeBitSum) {
                sum.enforce_equal(&code)?;
            }
            codes.push(code);
        }
        let mut attrs = FpVar::Constant(Fr::zero());
        for (slot, code) in codes.iter().enumerate() {
            attrs += code * slot_weight(slot);
        }
        let commitment = poseidon::hash(std::slice::from_ref(&sk))?;
        let leaf = poseidon::hash(&[commitment, attrs])?;

        // 3. The leaf is not 0.
        let leaf_inverse = private(&|w| w.leaf_inverse)?;
        if enforced!(LeafNonZero) {
            leaf.mul_equals(&leaf_inverse, &one)?;
        }

        // 4–5. Path bits from the index, Merkle path to the root.
        let index = private(&|w| w.index)?;
        let mut node = leaf;
        let mut index_sum = FpVar::Constant(Fr::zero());
        let mut weight = Fr::from(1u64);
        for h in 0..depth {
            let bit = private(&|w| w.path_bits[h])?;
            if enforced!(PathBitBoolean) {
                enforce_boolean(&bit)?;
            }
            index_sum += &bit * weight;
            weight.double_in_place();
            let sibling = private(&|w| w.siblings[h])?;
            // left = node + bit·(sibling − node): one constraint; right = node + sibling − left.
            let left = &node + &bit * (&sibling - &node);
            let right = &node + &sibling - &left;
            node = poseidon::hash(&[left, right])?;
        }
        if enforced!(IndexSum) {
            index_sum.enforce_equal(&index)?;
        }
        node.enforce_equal(&root)?;

        // 6. Nullifier.
        poseidon::hash(&[scope, sk])?.enforce_equal(&nullifier)?;

        // 7. Mask bits and disclosure.
        let mut mask_sum = FpVar::Constant(Fr::zero());
        let mut disclosed_sum = FpVar::Constant(Fr::zero());
        for (slot, code) in codes.iter().enumerate() {
            let bit = private(&|w| w.mask_bits[slot])?;
            if enforced!(MaskBitBoolean) {
                enforce_boolean(&bit)?;
            }
            mask_sum += &bit * Fr::from(1u64 << slot);
            disclosed_sum += (&bit * code) * slot_weight(slot);
        }
        mask_sum.enforce_equal(&mask)?;
        disclosed_sum.enforce_equal(&disclosed)?;

        // 8. Bind the message.
        let _message_sq = message.square()?;
        Ok(())
    }
}

/// The number of R1CS constraints of the depth-`depth` circuit.
pub fn constraint_count(depth: u32) -> Result<usize, SynthesisError> {
    let cs = ark_relations::gr1cs::ConstraintSystem::<Fr>::new_ref();
    cs.set_mode(ark_relations::gr1cs::SynthesisMode::Setup);
    MembershipCircuit::shape(depth).generate_constraints(cs.clone())?;
    Ok(cs.num_constraints())
}

/// `2^(16·slot)`.
fn slot_weight(slot: usize) -> Fr {
    Fr::from(2u64).pow([(CODE_BITS * slot) as u64])
}

#[cfg(test)]
mod tests;
