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
    /// The proof does not verify (its points decoded: a proof that does not decode is
    /// [`Rejection::Malformed`]).
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

/// Which code checks the proofs: the fast paths (the default) or arkworks' own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum VerifierMode {
    /// Undersign's decoder and verifier: fast decompression and subgroup check, batch
    /// verification by random linear combination (`undersign_proof`, `undersign_bn254`).
    #[default]
    Fast,
    /// arkworks alone, one proof at a time: points decoded by arkworks'
    /// `Proof::deserialize_compressed` (with its own curve and subgroup checks, plus the
    /// protocol's rule that the encoding is canonical) and verified by `ark_groth16`'s
    /// `Groth16::verify_proof` with arkworks' `prepare_verifying_key` (what `Groth16::verify`
    /// does). For an auditor who trusts arkworks but not the fast paths; slower.
    Reference,
}

/// Everything needed to check signatures for one petition.
pub struct Checker {
    petition: PetitionFile,
    verifier: Verifier,
    /// arkworks' prepared key, in [`VerifierMode::Reference`] only.
    reference: Option<ark_groth16::PreparedVerifyingKey<ark_bn254::Bn254>>,
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
            reference: None,
            roots,
        }
    }

    /// The same checker with proofs checked in `mode` (see [`VerifierMode`]).
    pub fn with_mode(mut self, mode: VerifierMode) -> Self {
        self.reference = match mode {
            VerifierMode::Fast => None,
            VerifierMode::Reference => Some(ark_groth16::prepare_verifying_key(
                self.verifier.verifying_key(),
            )),
        };
        self
    }

    /// The mode proofs are checked in.
    pub fn mode(&self) -> VerifierMode {
        match self.reference {
            None => VerifierMode::Fast,
            Some(_) => VerifierMode::Reference,
        }
    }

    /// Parses one signature and decodes its proof in this checker's mode.
    fn parse(&self, bytes: &[u8]) -> Result<(Signature, Proof), Rejection> {
        let signature = Signature::from_json(bytes).map_err(Rejection::Malformed)?;
        let proof = self.decode(&signature)?;
        Ok((signature, proof))
    }

    /// The signature's proof points, decoded in this checker's mode.
    fn decode(&self, signature: &Signature) -> Result<Proof, Rejection> {
        match self.reference {
            None => decode_proof(signature),
            Some(_) => decode_proof_reference(signature),
        }
    }

    /// Whether `proof` verifies for `signature`, in this checker's mode.
    fn proof_holds(&self, signature: &Signature, proof: &Proof) -> bool {
        let public = signature.public_inputs(self.petition.scope());
        match &self.reference {
            None => self.verifier.verify(proof, &public),
            Some(prepared) => {
                matches!(
                    ark_groth16::Groth16::<ark_bn254::Bn254>::verify_proof(
                        prepared,
                        proof,
                        &public.to_vec(),
                    ),
                    Ok(true)
                )
            }
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
        let (signature, proof) = self.parse(bytes)?;
        let sequence = self.check_rules(&signature)?;
        self.verify_proof(&signature, &proof)?;
        Ok((signature, sequence))
    }

    /// Checks every rule except nullifier uniqueness; returns the checkpoint sequence (the
    /// newest accepted checkpoint with the signature's root). A proof whose points do not
    /// decode is malformed (`SPEC.md` §15), before any other rule.
    pub fn check(&self, signature: &Signature) -> Result<u64, Rejection> {
        let proof = self.decode(signature)?;
        let sequence = self.check_rules(signature)?;
        self.verify_proof(signature, &proof)?;
        Ok(sequence)
    }

    fn verify_proof(&self, signature: &Signature, proof: &Proof) -> Result<(), Rejection> {
        if self.proof_holds(signature, proof) {
            Ok(())
        } else {
            Err(Rejection::InvalidProof(VerifyError::Invalid))
        }
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
                    let (signature, proof) = self.parse(bytes)?;
                    let sequence = self.check_rules(&signature)?;
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
        if self.reference.is_some() {
            // One proof at a time, with arkworks (no batch).
            results.par_iter_mut().for_each(|result| {
                if let Ok((signature, _, proof)) = result {
                    if !self.proof_holds(signature, proof) {
                        *result = Err(Rejection::InvalidProof(VerifyError::Invalid));
                    }
                }
            });
            return results
                .into_iter()
                .map(|r| r.map(|(signature, sequence, _)| (signature, sequence)))
                .collect();
        }
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

/// Parses one signature and decodes its proof's points: every encoding rule of `SPEC.md` §15,
/// whose failures are all `malformed`.
pub fn parse_line(bytes: &[u8]) -> Result<(Signature, Proof), Rejection> {
    let signature = Signature::from_json(bytes).map_err(Rejection::Malformed)?;
    let proof = decode_proof(&signature)?;
    Ok((signature, proof))
}

/// The signature's proof points, or `malformed` (field `proof`) if one does not decode (not on
/// the curve or not in the subgroup, a coordinate `≥ q`, bad flag bits).
fn decode_proof(signature: &Signature) -> Result<Proof, Rejection> {
    signature.proof.decode().map_err(|e| {
        Rejection::Malformed(SignatureError::Field {
            field: "proof",
            reason: e.to_string(),
        })
    })
}

/// [`decode_proof`] with arkworks' own decoding ([`VerifierMode::Reference`]): points by
/// `Proof::deserialize_compressed` (curve and subgroup checks by arkworks), then the protocol's
/// canonical-encoding rule. A proof both decoders refuse carries the fast decoder's reason, so
/// that the two modes' reports are comparable word for word; one only arkworks refuses carries
/// arkworks' reason.
fn decode_proof_reference(signature: &Signature) -> Result<Proof, Rejection> {
    use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
    let bytes = &signature.proof.0[..];
    let decoded = Proof::deserialize_compressed(bytes)
        .map_err(|e| e.to_string())
        .and_then(|proof| {
            let mut again = Vec::with_capacity(bytes.len());
            proof
                .serialize_compressed(&mut again)
                .map_err(|e| e.to_string())?;
            if again == bytes {
                Ok(proof)
            } else {
                Err("the encoding is not canonical".to_owned())
            }
        });
    decoded.map_err(|reason| match decode_proof(signature) {
        Err(fast) => fast,
        Ok(_) => Rejection::Malformed(SignatureError::Field {
            field: "proof",
            reason,
        }),
    })
}

/// Signatures parsed, checked against the rules and with their proofs' points decoded, in input
/// order, awaiting batch verification ([`Checker::verify_decoded`]).
pub struct DecodedBatch(Vec<Result<(Signature, u64, Proof), Rejection>>);
