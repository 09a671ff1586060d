//! Verification with a prepared verifying key (`SPEC.md` §Proofs).

use crate::encoding::{verifying_key_hash, EncodingError, ProofBytes};
use crate::{Proof, VerifyingKey};
use ark_bn254::Bn254;
use ark_ec::AffineRepr;
use ark_groth16::{Groth16, PreparedVerifyingKey};
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
}

/// A prepared verifying key with its blake3 hash.
#[derive(Clone)]
pub struct Verifier {
    verifying_key: VerifyingKey,
    prepared: PreparedVerifyingKey<Bn254>,
    hash: String,
}

impl Verifier {
    /// Prepares `verifying_key`, checking it has one commitment per public input plus one.
    pub fn new(verifying_key: VerifyingKey) -> Result<Self, VerifyingKeyError> {
        if verifying_key.gamma_abc_g1.len() != NUM_PUBLIC_INPUTS + 1 {
            return Err(VerifyingKeyError::WrongInputCount(
                verifying_key.gamma_abc_g1.len(),
            ));
        }
        // With γ or δ at infinity anyone could forge (A = α, B = β); refuse such keys.
        let vk = &verifying_key;
        if vk.alpha_g1.is_zero()
            || vk.beta_g2.is_zero()
            || vk.gamma_g2.is_zero()
            || vk.delta_g2.is_zero()
        {
            return Err(VerifyingKeyError::PointAtInfinity);
        }
        let prepared = ark_groth16::prepare_verifying_key(&verifying_key);
        let hash = verifying_key_hash(&verifying_key);
        Ok(Self {
            verifying_key,
            prepared,
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

    /// Whether `proof` verifies for `public`.
    pub fn verify(&self, proof: &Proof, public: &PublicInputs) -> bool {
        matches!(
            Groth16::<Bn254>::verify_proof(&self.prepared, proof, &public.to_vec()),
            Ok(true)
        )
    }

    /// Decodes (with full point validation) and verifies an encoded proof.
    pub fn verify_bytes(
        &self,
        proof: &ProofBytes,
        public: &PublicInputs,
    ) -> Result<(), VerifyError> {
        let proof = proof.decode()?;
        if self.verify(&proof, public) {
            Ok(())
        } else {
            Err(VerifyError::Invalid)
        }
    }
}
