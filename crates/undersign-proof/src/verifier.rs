//! Verification with a prepared verifying key (`SPEC.md` §Proofs).

use crate::encoding::{verifying_key_hash, EncodingError, ProofBytes};
use crate::inputs::InputCommitment;
use crate::miller;
use crate::{Proof, VerifyingKey};
use ark_bn254::{Bn254, Config, Fq12, G1Affine, G2Affine};
use ark_ec::bn::G2Prepared;
use ark_ec::pairing::{MillerLoopOutput, Pairing};
use ark_ec::{AffineRepr, CurveGroup};
use ark_groth16::PreparedVerifyingKey;
use thiserror::Error;
use undersign_circuit::{PublicInputs, NUM_PUBLIC_INPUTS};

/// Why a signature's proof was rejected.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// The proof bytes are malformed or a point is invalid.
    #[error("malformed proof: {0}")]
    Malformed(#[from] EncodingError),
    /// The proof does not verify for these public inputs.
    #[error("the proof does not verify for these public inputs")]
    Invalid,
}

/// A verifying key unsuitable for this circuit.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum VerifyingKeyError {
    /// Not one commitment per public input plus one.
    #[error("the verifying key has {0} input commitments; this circuit needs {n}", n = NUM_PUBLIC_INPUTS + 1)]
    WrongInputCount(usize),
    /// α, β, γ or δ is the point at infinity: proofs under it could be forged by anyone.
    #[error("the verifying key has a point at infinity where none may be")]
    PointAtInfinity,
    /// An input commitment `γ_abc[i]` is the point at infinity (for `i ≥ 1` that public input
    /// would not be bound by the proof at all).
    #[error("the verifying key's input commitment {0} is the point at infinity")]
    InputCommitmentAtInfinity(usize),
    /// `δ₂ = γ₂`: then `e(P, γ)·e(C, δ) = e(P + C, γ)`, so one valid proof `(A, B, C)` for
    /// inputs `x` gives `(A, B, C + P(x) − P(x'))` for any other inputs `x'`.
    #[error("the verifying key has delta equal to gamma: anyone holding one proof could forge proofs for any public inputs")]
    DeltaEqualsGamma,
    /// `δ₂ = −γ₂`: the same forgery with `C + P(x') − P(x)`.
    #[error("the verifying key has delta equal to minus gamma: anyone holding one proof could forge proofs for any public inputs")]
    DeltaEqualsMinusGamma,
}

/// Checks the rules every verifying key must meet (`SPEC.md` §9 "Verification"): one input
/// commitment per public input plus one; no point at infinity (α, β, γ, δ, and every input
/// commitment); `δ₂ ≠ ±γ₂`. [`Verifier::new`] applies it, so every key that verifies proofs
/// (loaded from a key directory, a bundle header, or embedded in a proving key) has passed it.
pub fn check_verifying_key(vk: &VerifyingKey) -> Result<(), VerifyingKeyError> {
    if vk.gamma_abc_g1.len() != NUM_PUBLIC_INPUTS + 1 {
        return Err(VerifyingKeyError::WrongInputCount(vk.gamma_abc_g1.len()));
    }
    // With γ or δ at infinity anyone could forge (A = α, B = β); refuse such keys.
    if vk.alpha_g1.is_zero()
        || vk.beta_g2.is_zero()
        || vk.gamma_g2.is_zero()
        || vk.delta_g2.is_zero()
    {
        return Err(VerifyingKeyError::PointAtInfinity);
    }
    if let Some(i) = vk.gamma_abc_g1.iter().position(|p| p.is_zero()) {
        return Err(VerifyingKeyError::InputCommitmentAtInfinity(i));
    }
    if vk.delta_g2 == vk.gamma_g2 {
        return Err(VerifyingKeyError::DeltaEqualsGamma);
    }
    if vk.delta_g2 == -vk.gamma_g2 {
        return Err(VerifyingKeyError::DeltaEqualsMinusGamma);
    }
    Ok(())
}

/// A prepared verifying key with its blake3 hash.
#[derive(Clone)]
pub struct Verifier {
    verifying_key: VerifyingKey,
    prepared: PreparedVerifyingKey<Bn254>,
    inputs: InputCommitment,
    hash: String,
}

impl Verifier {
    /// Prepares `verifying_key` after [`check_verifying_key`]: one commitment per public input
    /// plus one, no point at infinity, `δ₂ ≠ ±γ₂`.
    pub fn new(verifying_key: VerifyingKey) -> Result<Self, VerifyingKeyError> {
        check_verifying_key(&verifying_key)?;
        let inputs = InputCommitment::new(&verifying_key.gamma_abc_g1).ok_or(
            VerifyingKeyError::WrongInputCount(verifying_key.gamma_abc_g1.len()),
        )?;
        let prepared = ark_groth16::prepare_verifying_key(&verifying_key);
        let hash = verifying_key_hash(&verifying_key);
        Ok(Self {
            verifying_key,
            prepared,
            inputs,
            hash,
        })
    }

    /// The verifying key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying_key
    }

    /// The prepared key (pairing-friendly form of γ, δ and `e(α, β)`).
    pub fn prepared(&self) -> &PreparedVerifyingKey<Bn254> {
        &self.prepared
    }

    /// The key's identifier: blake3 of its compressed encoding, in hex.
    pub fn key_hash(&self) -> &str {
        &self.hash
    }

    /// Whether `proof` verifies for `public`:
    /// `e(A, B) · e(P, −γ) · e(C, −δ) = e(α, β)` with `P = γ_abc[0] + Σ x_j·γ_abc[j+1]`.
    ///
    /// The same check as `ark_groth16`'s `verify_proof`, on two cores: `e(A, B)` (which needs
    /// `B` prepared) on one; the input commitment `P` (from precomputed tables, see
    /// [`crate::inputs`]) and `e(P, −γ)·e(C, −δ)` (whose G2 points are prepared already) on the
    /// other; then one final exponentiation.
    pub fn verify(&self, proof: &Proof, public: &PublicInputs) -> bool {
        let (proof_part, key_part) = rayon::join(
            || self.proof_part(&proof.a, &proof.b),
            || self.key_part(public, &proof.c),
        );
        self.finish(proof_part, key_part)
    }

    /// Decodes (with full point validation) and verifies an encoded proof. The whole proof is
    /// decoded on the core that computes `e(A, B)`, which reports any malformed point; `C` (a
    /// cheap G1 point) is decoded again on the other core, so that `e(C, −δ)` need not wait.
    pub fn verify_bytes(
        &self,
        proof: &ProofBytes,
        public: &PublicInputs,
    ) -> Result<(), VerifyError> {
        let (proof_part, key_part) = rayon::join(
            || {
                proof
                    .decode()
                    .map(|proof| self.proof_part(&proof.a, &proof.b))
            },
            || proof.c_point().ok().and_then(|c| self.key_part(public, &c)),
        );
        // A malformed proof is reported by the full decoding, whichever point is at fault.
        if self.finish(proof_part?, key_part) {
            Ok(())
        } else {
            Err(VerifyError::Invalid)
        }
    }

    /// `e(A, B)` before the final exponentiation.
    fn proof_part(&self, a: &G1Affine, b: &G2Affine) -> Option<Fq12> {
        let b = G2Prepared::<Config>::from(*b);
        miller::multi_miller_loop(&[(*a, &b)])
    }

    /// `e(P, −γ)·e(C, −δ)` before the final exponentiation, `P` the commitment to the public
    /// inputs.
    fn key_part(&self, public: &PublicInputs, c: &G1Affine) -> Option<Fq12> {
        let inputs = self.inputs.commit(public).into_affine();
        miller::multi_miller_loop(&[
            (inputs, &self.prepared.gamma_g2_neg_pc),
            (*c, &self.prepared.delta_g2_neg_pc),
        ])
    }

    /// The final exponentiation of both parts' product, compared with `e(α, β)`.
    fn finish(&self, proof_part: Option<Fq12>, inputs_part: Option<Fq12>) -> bool {
        let (Some(left), Some(right)) = (proof_part, inputs_part) else {
            return false;
        };
        Bn254::final_exponentiation(MillerLoopOutput(left * right))
            .is_some_and(|out| out.0 == self.prepared.alpha_g1_beta_g2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
    use ark_ec::PrimeGroup;
    use ark_ff::UniformRand;
    use ark_groth16::Groth16;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    /// The two-core check agrees with arkworks' `verify_proof` on a valid proof and on every
    /// kind of wrong one.
    #[test]
    fn agrees_with_arkworks_verify_proof() {
        let (prover, statement) = crate::tests::one_member_prover(4);
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let proof = prover.prove(&statement, &mut rng).unwrap();
        let verifier = prover.verifier();
        let public = statement.public;
        let g1 = (G1Projective::generator() * Fr::rand(&mut rng)).into_affine();
        let g2 = (G2Projective::generator() * Fr::rand(&mut rng)).into_affine();
        let mut wrong_input = public;
        wrong_input.nullifier += Fr::from(1u64);
        let cases = [
            (proof.clone(), public, true),
            (proof.clone(), wrong_input, false),
            (
                Proof {
                    a: g1,
                    ..proof.clone()
                },
                public,
                false,
            ),
            (
                Proof {
                    b: g2,
                    ..proof.clone()
                },
                public,
                false,
            ),
            (
                Proof {
                    c: g1,
                    ..proof.clone()
                },
                public,
                false,
            ),
            (
                Proof {
                    a: G1Affine::zero(),
                    ..proof.clone()
                },
                public,
                false,
            ),
            (
                Proof {
                    b: G2Affine::zero(),
                    ..proof.clone()
                },
                public,
                false,
            ),
            (
                Proof {
                    c: G1Affine::zero(),
                    ..proof.clone()
                },
                public,
                false,
            ),
        ];
        for (i, (proof, public, valid)) in cases.into_iter().enumerate() {
            let theirs =
                Groth16::<Bn254>::verify_proof(verifier.prepared(), &proof, &public.to_vec());
            assert_eq!(theirs, Ok(valid), "case {i}: arkworks");
            assert_eq!(verifier.verify(&proof, &public), valid, "case {i}: ours");
            let bytes = ProofBytes::encode(&proof).unwrap();
            assert_eq!(
                verifier.verify_bytes(&bytes, &public).is_ok(),
                valid,
                "case {i}: ours, encoded"
            );
        }
    }

    /// Keys with a missing or extra input commitment, or a point at infinity where none may
    /// be, are refused.
    #[test]
    fn unsuitable_keys_are_refused() {
        let (prover, _) = crate::tests::one_member_prover(4);
        let vk = prover.verifier().verifying_key().clone();
        let mut short = vk.clone();
        short.gamma_abc_g1.pop();
        let mut long = vk.clone();
        long.gamma_abc_g1.push(vk.gamma_abc_g1[0]);
        for (key, n) in [(short, NUM_PUBLIC_INPUTS), (long, NUM_PUBLIC_INPUTS + 2)] {
            assert_eq!(
                Verifier::new(key).err(),
                Some(VerifyingKeyError::WrongInputCount(n))
            );
        }
        let mut no_delta = vk.clone();
        no_delta.delta_g2 = G2Affine::zero();
        assert_eq!(
            Verifier::new(no_delta).err(),
            Some(VerifyingKeyError::PointAtInfinity)
        );
        assert!(Verifier::new(vk).is_ok());
    }

    /// α, β and γ at infinity are refused like δ.
    #[test]
    fn alpha_beta_gamma_at_infinity_are_refused() {
        let (prover, _) = crate::tests::one_member_prover(4);
        let vk = prover.verifier().verifying_key().clone();
        let mut no_alpha = vk.clone();
        no_alpha.alpha_g1 = G1Affine::zero();
        let mut no_beta = vk.clone();
        no_beta.beta_g2 = G2Affine::zero();
        let mut no_gamma = vk.clone();
        no_gamma.gamma_g2 = G2Affine::zero();
        for key in [no_alpha, no_beta, no_gamma] {
            assert_eq!(
                Verifier::new(key).err(),
                Some(VerifyingKeyError::PointAtInfinity)
            );
        }
    }

    /// An input commitment at infinity, at any position, is refused and named.
    #[test]
    fn input_commitment_at_infinity_is_refused() {
        let (prover, _) = crate::tests::one_member_prover(4);
        let vk = prover.verifier().verifying_key().clone();
        for i in 0..=NUM_PUBLIC_INPUTS {
            let mut key = vk.clone();
            key.gamma_abc_g1[i] = G1Affine::zero();
            assert_eq!(
                Verifier::new(key.clone()).err(),
                Some(VerifyingKeyError::InputCommitmentAtInfinity(i)),
                "gamma_abc[{i}]"
            );
            assert_eq!(
                check_verifying_key(&key),
                Err(VerifyingKeyError::InputCommitmentAtInfinity(i))
            );
        }
    }

    /// `δ₂ = γ₂` and `δ₂ = −γ₂` are refused, each with its own error; `δ₂ = 2·γ₂` is not
    /// (the rule is these two equalities, not any relation).
    #[test]
    fn delta_equal_to_plus_or_minus_gamma_is_refused() {
        let (prover, _) = crate::tests::one_member_prover(4);
        let vk = prover.verifier().verifying_key().clone();
        let mut plus = vk.clone();
        plus.delta_g2 = vk.gamma_g2;
        assert_eq!(
            Verifier::new(plus).err(),
            Some(VerifyingKeyError::DeltaEqualsGamma)
        );
        let mut minus = vk.clone();
        minus.delta_g2 = -vk.gamma_g2;
        assert_eq!(
            Verifier::new(minus).err(),
            Some(VerifyingKeyError::DeltaEqualsMinusGamma)
        );
        let mut double = vk.clone();
        double.delta_g2 = (vk.gamma_g2 + vk.gamma_g2).into_affine();
        assert!(Verifier::new(double).is_ok());
        assert_eq!(check_verifying_key(&vk), Ok(()));
    }

    /// The rules hold for a key decoded from bytes too: the decoder accepts such a key (its
    /// points are valid), and [`Verifier::new`], which every verifier is built with, refuses it.
    #[test]
    fn decoded_keys_go_through_the_same_rules() {
        use crate::encoding::{verifying_key_from_bytes, verifying_key_to_bytes};
        let (prover, _) = crate::tests::one_member_prover(4);
        let vk = prover.verifier().verifying_key().clone();
        let mut plus = vk.clone();
        plus.delta_g2 = vk.gamma_g2;
        let mut no_input = vk.clone();
        no_input.gamma_abc_g1[3] = G1Affine::zero();
        for (key, error) in [
            (plus, VerifyingKeyError::DeltaEqualsGamma),
            (no_input, VerifyingKeyError::InputCommitmentAtInfinity(3)),
        ] {
            let decoded = verifying_key_from_bytes(&verifying_key_to_bytes(&key)).unwrap();
            assert_eq!(decoded, key);
            assert_eq!(Verifier::new(decoded).err(), Some(error));
        }
    }
}
