//! The rules every signature must pass (`SPEC.md` §15, step 2), shared by `undersign verify`,
//! `bundle build` and `audit`. Nullifier uniqueness is the caller's job: it needs all the
//! signatures at once.

use crate::petition::PetitionFile;
use crate::signature::{Signature, SignatureError};
use std::collections::HashMap;
use std::fmt;
use undersign_core::field;
use undersign_proof::verifier::VerifyError;
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
    /// Its root is from a checkpoint older than the petition's minimum.
    RootBeforeMinimum {
        /// The checkpoint the root belongs to.
        sequence: u64,
        /// The petition's `min_checkpoint`.
        minimum: u64,
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
            Rejection::InvalidProof(_) => "invalid_proof",
            Rejection::DuplicateNullifier => "duplicate_nullifier",
        }
    }
}

/// Everything needed to check signatures for one petition.
pub struct Checker {
    petition: PetitionFile,
    verifier: Verifier,
    /// Canonical root bytes → the lowest checkpoint sequence with that root.
    roots: HashMap<[u8; 32], u64>,
}

impl Checker {
    /// A checker for `petition` accepting roots of `checkpoints` (whose chain the caller has
    /// verified against the petition's registrar key).
    pub fn new(petition: PetitionFile, checkpoints: &[Checkpoint], verifier: Verifier) -> Self {
        let mut roots = HashMap::new();
        for checkpoint in checkpoints {
            let seq = roots
                .entry(field::to_bytes_be(&checkpoint.root))
                .or_insert(checkpoint.sequence);
            // The same root can recur (no change between checkpoints): keep the newest, so a
            // root still current at the minimum checkpoint is accepted.
            *seq = (*seq).max(checkpoint.sequence);
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

    /// Checks every rule except nullifier uniqueness; returns the checkpoint sequence.
    pub fn check(&self, signature: &Signature) -> Result<u64, Rejection> {
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
        let sequence = *self
            .roots
            .get(&field::to_bytes_be(&signature.root))
            .ok_or(Rejection::UnknownRoot)?;
        let minimum = self.petition.min_checkpoint();
        if sequence < minimum {
            return Err(Rejection::RootBeforeMinimum { sequence, minimum });
        }
        let public = signature.public_inputs(self.petition.scope());
        self.verifier
            .verify_bytes(&signature.proof, &public)
            .map_err(Rejection::InvalidProof)?;
        Ok(sequence)
    }
}
