//! The rules every signature must pass (`SPEC.md` §15, step 2), shared by `undersign verify`,
//! `bundle build` and `audit`. Nullifier uniqueness is the caller's job: it needs all the
//! signatures at once.

use crate::petition::PetitionFile;
use crate::signature::{Signature, SignatureError};
use rand::{CryptoRng, RngCore};
use rayon::prelude::*;
use std::collections::HashMap;
use std::fmt;
use undersign_core::field;
use undersign_core::Fr;
use undersign_proof::batch;
use undersign_proof::verifier::VerifyError;
use undersign_proof::Proof;
use undersign_proof::Verifier;
use undersign_registry::checkpoint::Checkpoint;

/// Why one signature does not count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Unparseable or non-canonical.
    Malformed(SignatureError),
    /// It signs another petition.
    WrongPetition {
        /// The petition id it names.
        found: String,
    },
    /// It discloses a slot the petition does not allow.
    MaskNotAllowed {
        /// The signature's mask.
        mask: u8,
        /// The petition's allowed mask.
        allowed: u8,
    },
    /// Its root is not the root of any signed checkpoint.
    UnknownRoot,
    /// Its root is only from checkpoints older than the petition's minimum.
    RootBeforeMinimum {
        /// The newest checkpoint with that root.
        sequence: u64,
        /// The petition's `min_checkpoint`.
        minimum: u64,
    },
    /// Its root is only from checkpoints newer than the petition's maximum.
    RootAfterMaximum {
        /// The oldest checkpoint with that root.
        sequence: u64,
        /// The petition's `max_checkpoint`.
        maximum: u64,
    },
    /// The proof is malformed or does not verify.
    InvalidProof(VerifyError),
    /// Another valid signature with the same nullifier was counted.
    DuplicateNullifier,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Malformed(e) => write!(f, "malformed: {e}"),
            Rejection::WrongPetition { found } => write!(f, "signs another petition ({found})"),
            Rejection::MaskNotAllowed { mask, allowed } => {
                write!(f, "discloses slots (mask {mask}) the petition does not allow (mask {allowed})")
            }
            Rejection::UnknownRoot => write!(f, "registry root is not a signed checkpoint"),
            Rejection::RootBeforeMinimum { sequence, minimum } => write!(
                f,
                "registry root is from checkpoint {sequence}, older than the petition's minimum {minimum}"
            ),
            Rejection::RootAfterMaximum { sequence, maximum } => write!(
                f,
                "registry root is from checkpoint {sequence}, newer than the petition's maximum {maximum}"
            ),
            Rejection::InvalidProof(e) => write!(f, "invalid proof: {e}"),
            Rejection::DuplicateNullifier => write!(f, "duplicate nullifier: this member already signed"),
        }
    }
}

impl Rejection {
    /// A short stable code for scripts (`--json` output).
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Malformed(_) => "malformed",
            Rejection::WrongPetition { .. } => "wrong_petition",
            Rejection::MaskNotAllowed { .. } => "mask_not_allowed",
            Rejection::UnknownRoot => "unknown_root",
            Rejection::RootBeforeMinimum { .. } => "root_before_minimum",
            Rejection::RootAfterMaximum { .. } => "root_after_maximum",
            Rejection::InvalidProof(_) => "invalid_proof",
            Rejection::DuplicateNullifier => "duplicate_nullifier",
        }
    }
}

/// Everything needed to check signatures for one petition.
pub struct Checker {
    petition: PetitionFile,
    verifier: Verifier,
    /// Canonical root bytes → the sequences of every checkpoint with that root, ascending.
    roots: HashMap<[u8; 32], Vec<u64>>,
}

impl Checker {
    /// A checker for `petition` accepting roots of `checkpoints` (whose chain the caller has
    /// verified against the petition's registrar key).
    pub fn new(petition: PetitionFile, checkpoints: &[Checkpoint], verifier: Verifier) -> Self {
        // The same root can recur (nothing changed between checkpoints): it is accepted if any
        // checkpoint with it is in the petition's window.
        let mut roots: HashMap<[u8; 32], Vec<u64>> = HashMap::new();
        for checkpoint in checkpoints {
            roots
                .entry(field::to_bytes_be(&checkpoint.root))
                .or_default()
                .push(checkpoint.sequence);
        }
        Self {
            petition,
            verifier,
            roots,
        }
    }

    /// The petition being checked.
    pub fn petition(&self) -> &PetitionFile {
        &self.petition
    }

    /// The verifier in use.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Parses and checks one signature; returns it with the sequence of its checkpoint.
    pub fn check_bytes(&self, bytes: &[u8]) -> Result<(Signature, u64), Rejection> {
        let signature = Signature::from_json(bytes).map_err(Rejection::Malformed)?;
        let sequence = self.check(&signature)?;
        Ok((signature, sequence))
    }

    /// Checks every rule except nullifier uniqueness; returns the checkpoint sequence (the
    /// newest accepted checkpoint with the signature's root).
    pub fn check(&self, signature: &Signature) -> Result<u64, Rejection> {
        let sequence = self.check_rules(signature)?;
        let public = signature.public_inputs(self.petition.scope());
        self.verifier
            .verify_bytes(&signature.proof, &public)
            .map_err(Rejection::InvalidProof)?;
        Ok(sequence)
    }

    /// Every rule except the proof and nullifier uniqueness; returns the checkpoint sequence.
    fn check_rules(&self, signature: &Signature) -> Result<u64, Rejection> {
        if signature.petition != self.petition.id() {
            return Err(Rejection::WrongPetition {
                found: hex::encode(signature.petition),
            });
        }
        let allowed = self.petition.allowed_mask();
        if !signature.mask.is_subset_of(allowed) {
            return Err(Rejection::MaskNotAllowed {
                mask: signature.mask.bits(),
                allowed: allowed.bits(),
            });
        }
        self.accepted_checkpoint(&signature.root)
    }

    /// The newest checkpoint in the petition's window with this root, or why the root is not
    /// accepted (unknown, or only from checkpoints outside the window).
    pub fn accepted_checkpoint(&self, root: &Fr) -> Result<u64, Rejection> {
        let sequences = self
            .roots
            .get(&field::to_bytes_be(root))
            .ok_or(Rejection::UnknownRoot)?;
        if let Some(&sequence) = sequences
            .iter()
            .rev()
            .find(|&&s| self.petition.accepts_checkpoint(s))
        {
            return Ok(sequence);
        }
        let minimum = self.petition.min_checkpoint();
        match (
            sequences.iter().rev().find(|&&s| s < minimum),
            self.petition.max_checkpoint(),
        ) {
            (Some(&sequence), _) => Err(Rejection::RootBeforeMinimum { sequence, minimum }),
            (None, Some(maximum)) => Err(Rejection::RootAfterMaximum {
                sequence: sequences[0],
                maximum,
            }),
            // Every checkpoint with the root is at or after the minimum and there is no
            // maximum: then one is accepted, found above.
            (None, None) => Err(Rejection::UnknownRoot),
        }
    }

    /// Checks many signatures at once, in order: parsing, rules and point decoding run in
    /// parallel, then the proofs that got that far are verified as one random-linear-combination
    /// batch, bisected on failure to name each bad proof. `Err(text)` inputs (unreadable lines)
    /// are reported as malformed. The same as [`Checker::decode_many`] then
    /// [`Checker::verify_decoded`].
    pub fn check_many<R: RngCore + CryptoRng>(
        &self,
        inputs: &[Result<&[u8], String>],
        rng: &mut R,
    ) -> Vec<Result<(Signature, u64), Rejection>> {
        self.verify_decoded(self.decode_many(inputs), rng)
    }

    /// The first half of [`Checker::check_many`]: parses each input, checks its rules and
    /// decodes its proof's points, in parallel. Nothing is verified yet.
    pub fn decode_many(&self, inputs: &[Result<&[u8], String>]) -> DecodedBatch {
        DecodedBatch(
            inputs
                .par_iter()
                .map(|input| {
                    let bytes = input.as_ref().map_err(|e| {
                        Rejection::Malformed(crate::signature::SignatureError::Json(e.clone()))
                    })?;
                    let signature = Signature::from_json(bytes).map_err(Rejection::Malformed)?;
                    let sequence = self.check_rules(&signature)?;
                    let proof = signature
                        .proof
                        .decode()
                        .map_err(|e| Rejection::InvalidProof(VerifyError::Malformed(e)))?;
                    Ok((signature, sequence, proof))
                })
                .collect(),
        )
    }

    /// The second half of [`Checker::check_many`]: verifies the decoded proofs as one batch
    /// (bisected on failure) and returns each input's result, in order.
    pub fn verify_decoded<R: RngCore + CryptoRng>(
        &self,
        decoded: DecodedBatch,
        rng: &mut R,
    ) -> Vec<Result<(Signature, u64), Rejection>> {
        let mut results = decoded.0;
        let scope = self.petition.scope();
        let pending: Vec<usize> = (0..results.len()).filter(|&i| results[i].is_ok()).collect();
        let items: Vec<batch::Item> = pending
            .iter()
            .filter_map(|&i| results[i].as_ref().ok())
            .map(|(signature, _, proof)| (proof.clone(), signature.public_inputs(scope)))
            .collect();
        for bad in batch::find_invalid(&self.verifier, &items, rng) {
            results[pending[bad]] = Err(Rejection::InvalidProof(VerifyError::Invalid));
        }
        results
            .into_iter()
            .map(|r| r.map(|(signature, sequence, _)| (signature, sequence)))
            .collect()
    }
}

/// Signatures parsed, checked against the rules and with their proofs' points decoded, in input
/// order, awaiting batch verification ([`Checker::verify_decoded`]).
pub struct DecodedBatch(Vec<Result<(Signature, u64, Proof), Rejection>>);
