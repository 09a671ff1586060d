//! Proving with cached constraint matrices (`SPEC.md` §Proofs).
//!
//! The circuit's shape is synthesized once when a [`Prover`] is built; each proof only
//! computes the witness assignment and runs the QAP witness map against the cached matrices.

use crate::verifier::Verifier;
use crate::{Proof, ProvingKey};
use ark_bn254::{Bn254, Fr};
use ark_ff::UniformRand;
use ark_groth16::Groth16;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, Matrix, OptimizationGoal, SynthesisError,
    SynthesisMode, R1CS_PREDICATE_LABEL,
};
use rand::{CryptoRng, RngCore};
use thiserror::Error;
use undersign_circuit::{MembershipCircuit, Statement};

/// Why a proof could not be produced.
#[derive(Debug, Error)]
pub enum ProveError {
    /// Constraint synthesis failed.
    #[error("constraint synthesis failed: {0}")]
    Synthesis(#[from] SynthesisError),
    /// The proving key was made for another circuit shape.
    #[error("the proving key does not fit the depth-{depth} circuit ({what})")]
    KeyMismatch {
        /// The circuit depth.
        depth: u32,
        /// What did not match.
        what: &'static str,
    },
    /// The statement is false (not a member, wrong root, ...): the proof did not verify.
    #[error("the statement does not hold: the member, path or inputs are inconsistent")]
    StatementFalse,
}

/// A proving key with the circuit's constraint matrices, ready to prove many statements.
pub struct Prover {
    depth: u32,
    proving_key: ProvingKey,
    matrices: Vec<Matrix<Fr>>,
    num_instance_variables: usize,
    num_constraints: usize,
    verifier: Verifier,
}

impl Prover {
    /// Synthesizes the depth-`depth` circuit shape once and checks it fits `proving_key`.
    pub fn new(depth: u32, proving_key: ProvingKey) -> Result<Self, ProveError> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Setup);
        MembershipCircuit::shape(depth).generate_constraints(cs.clone())?;
        cs.finalize();
        let num_instance_variables = cs.num_instance_variables();
        let num_constraints = cs.num_constraints();
        let num_witness_variables = cs.num_witness_variables();
        let matrices = cs
            .to_matrices()?
            .remove(R1CS_PREDICATE_LABEL)
            .ok_or(SynthesisError::PredicateNotFound)?;
        let mismatch = |what| ProveError::KeyMismatch { depth, what };
        if proving_key.vk.gamma_abc_g1.len() != num_instance_variables {
            return Err(mismatch("number of public inputs"));
        }
        if proving_key.l_query.len() != num_witness_variables {
            return Err(mismatch("number of witness variables"));
        }
        let num_variables = num_instance_variables + num_witness_variables;
        if proving_key.a_query.len() != num_variables
            || proving_key.b_g1_query.len() != num_variables
            || proving_key.b_g2_query.len() != num_variables
        {
            return Err(mismatch("number of variables"));
        }
        if proving_key.h_query.len() < num_constraints {
            return Err(mismatch("size of the QAP domain"));
        }
        let verifier =
            Verifier::new(proving_key.vk.clone()).map_err(|_| mismatch("verifying key"))?;
        Ok(Self {
            depth,
            proving_key,
            matrices,
            num_instance_variables,
            num_constraints,
            verifier,
        })
    }

    /// The circuit depth this prover serves.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// The number of R1CS constraints of the circuit.
    pub fn num_constraints(&self) -> usize {
        self.num_constraints
    }

    /// The verifying key matching this proving key.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Proves `statement` with fresh zero-knowledge randomness from `rng`, then verifies the
    /// proof so that a false statement is reported instead of returning a useless proof.
    pub fn prove<R: RngCore + CryptoRng>(
        &self,
        statement: &Statement,
        rng: &mut R,
    ) -> Result<Proof, ProveError> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Prove {
            construct_matrices: false,
            generate_lc_assignments: false,
        });
        MembershipCircuit::with_statement(self.depth, statement.clone())
            .generate_constraints(cs.clone())?;
        let full_assignment = {
            let inner = cs.borrow().ok_or(SynthesisError::MissingCS)?;
            let mut full = inner.instance_assignment()?.to_vec();
            full.extend_from_slice(inner.witness_assignment()?);
            full
        };
        if full_assignment.len() != self.proving_key.a_query.len() {
            return Err(ProveError::KeyMismatch {
                depth: self.depth,
                what: "witness length",
            });
        }
        let r = Fr::rand(rng);
        let s = Fr::rand(rng);
        let proof = Groth16::<Bn254>::create_proof_with_reduction_and_matrices(
            &self.proving_key,
            r,
            s,
            &self.matrices,
            self.num_instance_variables,
            self.num_constraints,
            &full_assignment,
        )?;
        if self.verifier.verify(&proof, &statement.public) {
            Ok(proof)
        } else {
            Err(ProveError::StatementFalse)
        }
    }
}
