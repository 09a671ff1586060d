//! Proving with cached constraint matrices (`SPEC.md` §Proofs).
//!
//! The circuit's shape is synthesized once when a [`Prover`] is built; each proof only
//! computes the witness assignment and runs the QAP witness map against the cached matrices.
//!
//! Every buffer of witness-derived field elements this module owns (the constraint system's
//! assignment, the full assignment and its integer form, the QAP evaluations `a`, `b`, `c` and
//! the quotient `h`, and the zero-knowledge randomness `r`, `s`) is zeroized before it is
//! dropped; so are the scalars and their digits inside [`crate::msm`]. The assignment vectors
//! are reserved at their final size first, so that growing them leaves no copies behind.

use crate::msm::msm;
use crate::verifier::{Verifier, VerifyingKeyError};
use crate::{Proof, ProvingKey};
use ark_bn254::{g1::Config as G1Config, g2::Config as G2Config, Fr, G1Projective};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{BigInt, FftField, Field, PrimeField, UniformRand, Zero};
use ark_groth16::r1cs_to_qap::evaluate_constraint;
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, Matrix, OptimizationGoal,
    SynthesisError, SynthesisMode,
};
use rand::{CryptoRng, RngCore};
use rayon::prelude::*;
use thiserror::Error;
use undersign_circuit::{MembershipCircuit, ShapeMatrices, Statement};
use zeroize::{Zeroize, Zeroizing};

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
    /// The proving key embeds a verifying key that [`Verifier::new`] refuses (a point at
    /// infinity, or `δ = ±γ`): proofs under it could be forged.
    #[error("the proving key's verifying key is refused: {0}")]
    UnsafeVerifyingKey(VerifyingKeyError),
    /// The statement is false (not a member, wrong root, ...): the proof did not verify.
    #[error("the statement does not hold: the member, path or inputs are inconsistent")]
    StatementFalse,
}

/// The constraint matrices of the depth-`depth` circuit, synthesized without a witness.
///
/// It needs no key, so [`crate::keys::load_prover`] builds it on one core while the other
/// reads and checks the proving key.
pub struct CircuitShape {
    depth: u32,
    shape: ShapeMatrices,
}

impl CircuitShape {
    /// Synthesizes the depth-`depth` circuit's shape (about 40 ms at depth 20 on one core).
    pub fn synthesize(depth: u32) -> Result<Self, ProveError> {
        let shape = MembershipCircuit::shape_matrices(depth)?;
        Ok(Self { depth, shape })
    }
}

/// A proving key with the circuit's constraint matrices, ready to prove many statements.
pub struct Prover {
    depth: u32,
    proving_key: ProvingKey,
    matrices: Vec<Matrix<Fr>>,
    num_instance_variables: usize,
    num_witness_variables: usize,
    num_constraints: usize,
    verifier: Verifier,
}

impl Prover {
    /// Synthesizes the depth-`depth` circuit shape once and checks it fits `proving_key`.
    pub fn new(depth: u32, proving_key: ProvingKey) -> Result<Self, ProveError> {
        let shape = CircuitShape::synthesize(depth)?;
        let verifier = Verifier::new(proving_key.vk.clone()).map_err(|e| match e {
            VerifyingKeyError::WrongInputCount(_) => ProveError::KeyMismatch {
                depth,
                what: "number of public inputs",
            },
            unsafe_key => ProveError::UnsafeVerifyingKey(unsafe_key),
        })?;
        Self::from_parts(shape, proving_key, verifier)
    }

    /// A prover from a synthesized shape, a proving key and the verifier of its verifying key,
    /// after checking that all three fit together.
    pub fn from_parts(
        shape: CircuitShape,
        proving_key: ProvingKey,
        verifier: Verifier,
    ) -> Result<Self, ProveError> {
        let CircuitShape {
            depth,
            shape:
                ShapeMatrices {
                    matrices,
                    num_instance_variables,
                    num_witness_variables,
                    num_constraints,
                },
        } = shape;
        let mismatch = |what| ProveError::KeyMismatch { depth, what };
        if &proving_key.vk != verifier.verifying_key() {
            return Err(mismatch("verifying key"));
        }
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
        Ok(Self {
            depth,
            proving_key,
            matrices,
            num_instance_variables,
            num_witness_variables,
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
        let full_assignment = self.full_assignment(statement)?;
        let r = Zeroizing::new(Fr::rand(rng));
        let s = Zeroizing::new(Fr::rand(rng));
        let proof = self.prove_assigned(&full_assignment, *r, *s)?;
        if self.verifier.verify(&proof, &statement.public) {
            Ok(proof)
        } else {
            Err(ProveError::StatementFalse)
        }
    }

    /// The proof for a full assignment (`1`, public inputs, witness) and randomness `(r, s)`.
    fn prove_assigned(&self, full_assignment: &[Fr], r: Fr, s: Fr) -> Result<Proof, ProveError> {
        Ok(create_proof(
            &self.proving_key,
            r,
            s,
            &self.matrices,
            self.num_instance_variables,
            self.num_constraints,
            full_assignment,
        )?)
    }

    /// An empty constraint system for proving, its assignment vectors reserved at their final
    /// size: growing them would free copies of a prefix of the witness, unzeroized.
    fn prove_mode_system(&self) -> ConstraintSystemRef<Fr> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Prove {
            construct_matrices: false,
            generate_lc_assignments: false,
        });
        if let Some(mut inner) = cs.borrow_mut() {
            let assignments = &mut inner.assignments;
            let instance = self.num_instance_variables;
            let witness = self.num_witness_variables;
            let reserve = |v: &mut Vec<Fr>, n: usize| v.reserve(n.saturating_sub(v.len()));
            reserve(&mut assignments.instance_assignment, instance);
            reserve(&mut assignments.witness_assignment, witness);
        }
        cs
    }

    /// The circuit's full assignment for `statement`: `1`, the public inputs, the witness.
    /// The constraint system's own copy is zeroized (see [`take_assignment`]).
    fn full_assignment(&self, statement: &Statement) -> Result<Zeroizing<Vec<Fr>>, ProveError> {
        let cs = self.prove_mode_system();
        let synthesized = MembershipCircuit::with_statement(self.depth, statement.clone())
            .generate_constraints(cs.clone());
        // Taken (and wiped) whether or not synthesis succeeded.
        let full_assignment = take_assignment(&cs);
        synthesized?;
        let full_assignment = full_assignment?;
        if full_assignment.len() != self.proving_key.a_query.len() {
            return Err(ProveError::KeyMismatch {
                depth: self.depth,
                what: "witness length",
            });
        }
        Ok(full_assignment)
    }
}

/// The full assignment of a synthesized constraint system (`1`, the public inputs, the
/// witness), copied into a zeroizing vector of exactly that size. Every value in the system's
/// own vectors (instance, witness and linear-combination values) is zeroized in place; they
/// keep their lengths until the system is dropped.
fn take_assignment(cs: &ConstraintSystemRef<Fr>) -> Result<Zeroizing<Vec<Fr>>, SynthesisError> {
    let mut inner = cs.borrow_mut().ok_or(SynthesisError::MissingCS)?;
    let assignments = &mut inner.assignments;
    let (instance, witness) = (
        &assignments.instance_assignment,
        &assignments.witness_assignment,
    );
    let mut full = Zeroizing::new(Vec::with_capacity(instance.len() + witness.len()));
    full.extend_from_slice(instance);
    full.extend_from_slice(witness);
    assignments.instance_assignment.iter_mut().zeroize();
    assignments.witness_assignment.iter_mut().zeroize();
    assignments.lc_assignment.iter_mut().zeroize();
    Ok(full)
}

/// The QAP quotient `h` of a full assignment: `ark_groth16`'s
/// `LibsnarkReduction::witness_map_from_matrices` step for step (the same field operations, so
/// the same `h`), except that the product `a·b` is formed in place and every intermediate
/// vector is zeroized when dropped.
fn witness_map(
    matrices: &[Matrix<Fr>],
    num_inputs: usize,
    num_constraints: usize,
    full_assignment: &[Fr],
) -> Result<Zeroizing<Vec<Fr>>, SynthesisError> {
    let domain = GeneralEvaluationDomain::<Fr>::new(num_constraints + num_inputs)
        .ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
    let coset = domain
        .get_coset(Fr::GENERATOR)
        .ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
    let (Some(a_rows), Some(b_rows), Some(c_rows)) =
        (matrices.first(), matrices.get(1), matrices.get(2))
    else {
        return Err(SynthesisError::Unsatisfiable);
    };
    let size = domain.size();
    let mut a = Zeroizing::new(vec![Fr::zero(); size]);
    let mut b = Zeroizing::new(vec![Fr::zero(); size]);
    a[..num_constraints]
        .par_iter_mut()
        .zip(&mut b[..num_constraints])
        .zip(a_rows)
        .zip(b_rows)
        .for_each(|(((a, b), a_row), b_row)| {
            *a = evaluate_constraint(a_row, full_assignment);
            *b = evaluate_constraint(b_row, full_assignment);
        });
    a[num_constraints..num_constraints + num_inputs]
        .copy_from_slice(&full_assignment[..num_inputs]);
    domain.ifft_in_place(&mut a);
    domain.ifft_in_place(&mut b);
    coset.fft_in_place(&mut a);
    coset.fft_in_place(&mut b);
    // a ← a·b, pointwise (arkworks copies a into a new vector first).
    a.par_iter_mut()
        .zip(b.par_iter())
        .for_each(|(a, b)| *a *= b);
    drop(b);

    let mut c = Zeroizing::new(vec![Fr::zero(); size]);
    c[..num_constraints]
        .par_iter_mut()
        .zip(c_rows)
        .for_each(|(c, c_row)| *c = evaluate_constraint(c_row, full_assignment));
    domain.ifft_in_place(&mut c);
    coset.fft_in_place(&mut c);
    let vanishing_inverse = domain
        .evaluate_vanishing_polynomial(Fr::GENERATOR)
        .inverse()
        .ok_or(SynthesisError::DivisionByZero)?;
    a.par_iter_mut().zip(c.par_iter()).for_each(|(ab, c)| {
        *ab -= c;
        *ab *= vanishing_inverse;
    });
    drop(c);
    coset.ifft_in_place(&mut a);
    Ok(a)
}

/// The Groth16 prover of `ark_groth16` (`create_proof_with_reduction_and_matrices`, libsnark
/// reduction), with its independent parts run at the same time: the QAP witness map and the
/// `H` MSM on one side, the `L`, `A`, `B` (G1) and `B` (G2) MSMs on the other. arkworks runs
/// them one after another, which leaves a core idle during the FFTs and the small MSMs.
/// The proof is the same function of `(r, s)` and the assignment:
///
/// `A = α + Σ a_i·A_i + r·δ`, `B = β + Σ a_i·B_i + s·δ`,
/// `C = Σ_aux a_i·L_i + Σ h_i·H_i + s·A + r·B₁ − r·s·δ`.
fn create_proof(
    pk: &ProvingKey,
    r: Fr,
    s: Fr,
    matrices: &[Matrix<Fr>],
    num_inputs: usize,
    num_constraints: usize,
    full_assignment: &[Fr],
) -> Result<Proof, SynthesisError> {
    // The assignment without the constant 1 (the queries' element 0 stands for it).
    let assignment: Zeroizing<Vec<BigInt<4>>> = Zeroizing::new(
        full_assignment[1..]
            .par_iter()
            .map(|x| x.into_bigint())
            .collect(),
    );
    let aux = &assignment[num_inputs - 1..];
    let (h_acc, (l_acc, ((a_acc, b1_acc), b2_acc))) = rayon::join(
        || -> Result<G1Projective, SynthesisError> {
            let h = witness_map(matrices, num_inputs, num_constraints, full_assignment)?;
            let h: Zeroizing<Vec<BigInt<4>>> =
                Zeroizing::new(h.par_iter().map(|x| x.into_bigint()).collect());
            Ok(msm::<G1Config>(&pk.h_query, &h))
        },
        || {
            rayon::join(
                || msm::<G1Config>(&pk.l_query, aux),
                || {
                    rayon::join(
                        || {
                            rayon::join(
                                || msm::<G1Config>(&pk.a_query[1..], &assignment),
                                || msm::<G1Config>(&pk.b_g1_query[1..], &assignment),
                            )
                        },
                        || msm::<G2Config>(&pk.b_g2_query[1..], &assignment),
                    )
                },
            )
        },
    );
    let h_acc = h_acc?;
    let delta_g1 = pk.delta_g1.into_group();
    let g_a = delta_g1 * r + pk.a_query[0] + a_acc + pk.vk.alpha_g1;
    let g1_b = delta_g1 * s + pk.b_g1_query[0] + b1_acc + pk.beta_g1;
    let g2_b = pk.vk.delta_g2.into_group() * s + pk.b_g2_query[0] + b2_acc + pk.vk.beta_g2;
    let mut rs = r * s;
    let g_c = g_a * s + g1_b * r - delta_g1 * rs + l_acc + h_acc;
    rs.zeroize();
    Ok(Proof {
        a: g_a.into_affine(),
        b: g2_b.into_affine(),
        c: g_c.into_affine(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::Bn254;
    use ark_groth16::Groth16;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn same_proof_as_arkworks_for_the_same_randomness() {
        let (prover, statement) = crate::tests::one_member_prover(4);
        let full = prover.full_assignment(&statement).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let randomness = [
            (Fr::rand(&mut rng), Fr::rand(&mut rng)),
            (Fr::from(0u64), Fr::rand(&mut rng)),
            (Fr::rand(&mut rng), Fr::from(0u64)),
        ];
        for (r, s) in randomness {
            let ours = prover.prove_assigned(&full, r, s).unwrap();
            let theirs = Groth16::<Bn254>::create_proof_with_reduction_and_matrices(
                &prover.proving_key,
                r,
                s,
                &prover.matrices,
                prover.num_instance_variables,
                prover.num_constraints,
                &full,
            )
            .unwrap();
            assert_eq!(ours, theirs);
            assert!(prover.verifier.verify(&ours, &statement.public));
        }
    }

    /// The quotient `h` is arkworks' `witness_map_from_matrices` exactly.
    #[test]
    fn witness_map_equals_arkworks() {
        use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
        let (prover, statement) = crate::tests::one_member_prover(4);
        let full = prover.full_assignment(&statement).unwrap();
        let ours = witness_map(
            &prover.matrices,
            prover.num_instance_variables,
            prover.num_constraints,
            &full,
        )
        .unwrap();
        let theirs =
            LibsnarkReduction::witness_map_from_matrices::<Fr, GeneralEvaluationDomain<Fr>>(
                &prover.matrices,
                prover.num_instance_variables,
                prover.num_constraints,
                &full,
            )
            .unwrap();
        assert_eq!(*ours, theirs);
        assert!(theirs.iter().any(|h| !h.is_zero()));
    }

    /// After `take_assignment` the constraint system holds only zeros where the assignment was
    /// (lengths unchanged), and the copy returned is the assignment. The vectors were reserved
    /// at exactly their final size, so synthesis never reallocated them (which would have
    /// freed unzeroized copies).
    #[test]
    fn take_assignment_wipes_the_constraint_system() {
        let (prover, statement) = crate::tests::one_member_prover(4);
        let cs = prover.prove_mode_system();
        MembershipCircuit::with_statement(prover.depth, statement.clone())
            .generate_constraints(cs.clone())
            .unwrap();
        let (expected, lengths) = {
            let inner = cs.borrow().unwrap();
            let a = &inner.assignments;
            assert_eq!(a.instance_assignment.len(), prover.num_instance_variables);
            assert_eq!(a.witness_assignment.len(), prover.num_witness_variables);
            assert_eq!(a.witness_assignment.capacity(), a.witness_assignment.len());
            assert_eq!(
                a.instance_assignment.capacity(),
                a.instance_assignment.len()
            );
            let mut expected = a.instance_assignment.clone();
            expected.extend_from_slice(&a.witness_assignment);
            let lengths = [
                a.instance_assignment.len(),
                a.witness_assignment.len(),
                a.lc_assignment.len(),
            ];
            (expected, lengths)
        };
        // The witness holds the secret key, among other nonzero values.
        assert!(expected.contains(&statement.witness.sk));
        let taken = take_assignment(&cs).unwrap();
        assert_eq!(*taken, expected);
        let inner = cs.borrow().unwrap();
        let a = &inner.assignments;
        for (name, values, length) in [
            ("instance", &a.instance_assignment, lengths[0]),
            ("witness", &a.witness_assignment, lengths[1]),
            ("lc", &a.lc_assignment, lengths[2]),
        ] {
            assert_eq!(values.len(), length, "{name}");
            assert!(values.iter().all(Zero::is_zero), "{name} not wiped");
        }
    }
}
