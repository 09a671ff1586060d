//! The role workflows every front end needs (the `undersign` command, its demo, a future
//! desktop or web front end): loading Undersign files with errors that say what is wrong,
//! preparing and proving a signature, building a bundle and auditing a bundle file. The
//! command line is a thin shell over this crate; its errors are [`WorkflowError`], each
//! saying what is wrong and what to do.

pub mod files;

use rand::{CryptoRng, RngCore};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use thiserror::Error;
use undersign_circuit::Statement;
use undersign_core::atomic::write_atomic_with;
use undersign_core::attributes::{Attributes, Mask};
use undersign_core::identity::IdentitySecret;
use undersign_core::merkle::MerkleTree;
use undersign_core::scope::message;
use undersign_core::Fr;
use undersign_proof::encoding::ProofBytes;
use undersign_proof::keys::KeyManifest;
use undersign_proof::prover::ProveError;
use undersign_proof::{Prover, Verifier};
use undersign_registry::anonymity::{anonymity_set, choose_mask};
use undersign_registry::checkpoint::{verify_chain, Checkpoint};
use undersign_registry::registry::{Registry, RegistryError};
use undersign_registry::schema::Schema;
use undersign_tally::bundle::{self, AuditOptions, AuditReport, BuildOutcome, BundleError};
use undersign_tally::check::Checker;
use undersign_tally::petition::{PetitionError, PetitionFile};
use undersign_tally::signature::{Signature, MAX_COMMENT};

/// Why a workflow step refused or failed. Each message says what is wrong and, where there is
/// something to do, what.
#[derive(Debug, Error)]
pub enum WorkflowError {
    /// A file could not be read or written.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What the file is ("reading petition", "writing bundle").
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// Another Undersign file was given where one kind is wanted.
    #[error(transparent)]
    WrongKind(#[from] files::WrongKind),
    /// The petition file is invalid.
    #[error("petition {}: {source}", path.display())]
    Petition {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: PetitionError,
    },
    /// The registry file is invalid.
    #[error("loading the registry: {0}")]
    Registry(#[source] RegistryError),
    /// The registry is not the petition's.
    #[error("the petition is for registry {petition}, but this registry is {registry}")]
    OtherRegistry {
        /// The registry the petition names.
        petition: String,
        /// The registry given.
        registry: String,
    },
    /// The registry has no checkpoint.
    #[error(
        "the registry has no signed checkpoint yet (the registrar runs `undersign registry checkpoint`)"
    )]
    NoCheckpoint,
    /// The registry's checkpoints are not signed by the petition's registrar.
    #[error("the registry's checkpoints are not valid for the petition's registrar: {0}")]
    Chain(String),
    /// The registry file is on another chain than the petition's.
    #[error(
        "this registry file is not the petition's: {0}; get the registry file the organizers \
         published with the petition"
    )]
    OtherChain(String),
    /// The registry file's checkpoints and the petition's window do not meet, or the signer
    /// is not under an accepted checkpoint.
    #[error("{0}")]
    Window(String),
    /// The file does not rebuild a checkpoint's signed root.
    #[error(
        "this registry file does not give checkpoint {0}'s signed root: it is not the file the \
         registrar signed; get the registry file the organizers published with the petition"
    )]
    WrongRoot(u64),
    /// The comment is too long or has control characters.
    #[error("the comment must be at most {MAX_COMMENT} bytes, without control characters")]
    Comment,
    /// The signer is not an active member.
    #[error("your commitment is not in this registry (never added, or removed)")]
    NotAMember,
    /// The signer asked to disclose categories the petition does not allow.
    #[error("the petition does not allow disclosing {asked}; it allows: {allowed}")]
    DisclosureNotAllowed {
        /// The categories asked for and not allowed.
        asked: String,
        /// The categories the petition allows.
        allowed: String,
    },
    /// Too few members share the values the signer would disclose.
    #[error(
        "only {set} {} the values you would disclose (minimum {minimum}); disclose fewer \
         categories, or pass --accept-small-anonymity-set if you accept being easier to identify",
        if *set == 1 { "member shares" } else { "members share" }
    )]
    SmallAnonymitySet {
        /// Members sharing the values.
        set: u64,
        /// The minimum asked for.
        minimum: u64,
    },
    /// The keys do not fit the registry or are not the petition's.
    #[error("{0}")]
    WrongKeys(String),
    /// The proof failed although every check passed: the keys may be doctored.
    #[error(
        "the proof does not verify although your registry entry, path and root all checked \
         out: the keys may have been tampered with (a doctored proving key can make chosen \
         signers fail). Nothing was written. Tell the organizers, and compare the keys with \
         the ceremony transcript (`undersign ceremony phase2 verify` prints the proving key \
         hash)"
    )]
    ProofFailed,
    /// Proving failed otherwise.
    #[error("proving: {0}")]
    Prove(#[source] ProveError),
    /// Encoding a proof or a tree operation failed (not expected).
    #[error("{0}")]
    Internal(String),
    /// The bundle could not be read.
    #[error("bundle {}: {source}", path.display())]
    Bundle {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: BundleError,
    },
}

/// What workflow functions return.
pub type Result<T, E = WorkflowError> = std::result::Result<T, E>;

/// The name of category (slot) `slot` in `schema`, or `slot<i>` if it has none.
pub fn slot_name(schema: &Schema, slot: usize) -> String {
    schema
        .slots()
        .get(slot)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| format!("slot{slot}"))
}

/// The petition's window of checkpoints in words.
pub fn window_text(min: u64, max: Option<u64>) -> String {
    match max {
        Some(max) if max == min => format!("checkpoint {min} only"),
        Some(max) => format!("checkpoints {min} to {max}"),
        None => format!("checkpoint {min} and every later one"),
    }
}

/// Reads and validates a petition file.
pub fn load_petition(path: &Path) -> Result<PetitionFile> {
    let bytes = std::fs::read(path).map_err(|source| WorkflowError::Io {
        what: "reading petition",
        path: path.to_owned(),
        source,
    })?;
    PetitionFile::parse(bytes.clone()).or_else(|source| {
        files::refuse_other_kind(path, &bytes, undersign_tally::petition::KIND, "--petition")?;
        Err(WorkflowError::Petition {
            path: path.to_owned(),
            source,
        })
    })
}

/// Reads and validates a registry file.
pub fn load_registry(path: &Path) -> Result<Registry> {
    Registry::load(path).or_else(|e| {
        // Another Undersign file is named for what it is (read again only on this error path).
        if let Ok(bytes) = std::fs::read(path) {
            files::refuse_other_kind(
                path,
                &bytes,
                undersign_registry::registry::REGISTRY_KIND,
                "--registry",
            )?;
        }
        Err(WorkflowError::Registry(e))
    })
}
/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Checks that `registry` is the petition's and its checkpoints are signed by the petition's
/// registrar and form a valid chain; returns them (at least one).
pub fn checked_checkpoints<'r>(
    registry: &'r Registry,
    petition: &PetitionFile,
) -> Result<&'r [Checkpoint]> {
    if *registry.id() != petition.registry() {
        return Err(WorkflowError::OtherRegistry {
            petition: hex::encode(petition.registry()),
            registry: hex::encode(registry.id()),
        });
    }
    if registry.checkpoints().is_empty() {
        return Err(WorkflowError::NoCheckpoint);
    }
    verify_chain(
        registry.checkpoints(),
        petition.registrar_key(),
        registry.id(),
    )
    .map_err(|e| WorkflowError::Chain(e.to_string()))?;
    petition
        .check_chain(registry.checkpoints())
        .map_err(WorkflowError::OtherChain)?;
    Ok(registry.checkpoints())
}

/// The checkpoint a signer at leaf `index` proves against, with the tree at its size: the
/// newest checkpoint the petition accepts that holds the signer, its tree rebuilt from the
/// file's leaves as they were then ([`Registry::leaves_at`]). `checkpoints` are the registry's,
/// checked by [`checked_checkpoints`].
fn signing_checkpoint<'r>(
    registry: &Registry,
    checkpoints: &'r [Checkpoint],
    petition: &PetitionFile,
    index: u64,
) -> Result<(&'r Checkpoint, MerkleTree)> {
    let window = window_text(petition.min_checkpoint(), petition.max_checkpoint());
    let accepted: Vec<&Checkpoint> = checkpoints
        .iter()
        .rev()
        .filter(|cp| petition.accepts_checkpoint(cp.sequence))
        .collect();
    let newest = checkpoints[checkpoints.len() - 1].sequence;
    if accepted.is_empty() {
        if newest < petition.min_checkpoint() {
            return Err(WorkflowError::Window(format!(
                "this registry file's newest checkpoint is {newest}, but the petition accepts \
                 {window}: get the newer registry file from the registrar or the organizers"
            )));
        }
        return Err(WorkflowError::Window(format!(
            "this registry file has no checkpoint the petition accepts ({window}): get the \
             registry file the organizers published with the petition"
        )));
    }
    let holding: Vec<&Checkpoint> = accepted
        .iter()
        .copied()
        .filter(|cp| index < cp.size)
        .collect();
    if holding.is_empty() {
        let open = petition.max_checkpoint().is_none_or(|max| max > newest);
        return Err(WorkflowError::Window(format!(
            "you were added to the registry after checkpoint {}, and the petition accepts \
             {window}: {}",
            accepted[0].sequence,
            if open {
                "wait for the registrar's next checkpoint"
            } else {
                "members added later cannot sign this petition"
            }
        )));
    }
    // The newest accepted checkpoint that holds the signer. Its root is rebuilt from this file
    // (removed members' tombstones keep their leaves for older checkpoints), whatever changed
    // since.
    let checkpoint = holding[0];
    let size = usize::try_from(checkpoint.size).unwrap_or(usize::MAX);
    let leaves = registry.leaves_at(checkpoint.sequence);
    let leaves = leaves.get(..size).ok_or_else(|| {
        WorkflowError::Window(format!(
            "checkpoint {} covers {} positions, more than this registry file has",
            checkpoint.sequence, checkpoint.size
        ))
    })?;
    let tree = MerkleTree::from_leaves(registry.depth(), leaves.to_vec())
        .map_err(|e| WorkflowError::Internal(e.to_string()))?;
    if tree.root() != checkpoint.root {
        return Err(WorkflowError::WrongRoot(checkpoint.sequence));
    }
    Ok((checkpoint, tree))
}

/// What a signer asks for.
pub struct SignRequest<'a> {
    /// The signer's secret.
    pub secret: &'a IdentitySecret,
    /// The public registry.
    pub registry: &'a Registry,
    /// The petition.
    pub petition: &'a PetitionFile,
    /// Optional public comment.
    pub comment: Option<String>,
    /// Explicit disclosure, or `None` for the safe default.
    pub disclose: Option<Mask>,
    /// Smallest acceptable anonymity set.
    pub min_anonymity: u64,
    /// Sign even below `min_anonymity`.
    pub accept_small_anonymity_set: bool,
}

/// A finished signature with what the signer should know about it.
pub struct SignOutcome {
    /// The signature.
    pub signature: Signature,
    /// Members at the checkpoint sharing every disclosed value.
    pub anonymity_set: u64,
    /// The checkpoint whose root was used.
    pub checkpoint: u64,
    /// Whether the default disclosure dropped slots to protect the signer.
    pub dropped_slots: Vec<usize>,
}

/// A signature ready to be proved: every check that needs no keys passed, and the statement
/// (the signer's secret, Merkle path and disclosure) built. Computed by [`prepare_signature`]
/// while the keys load, then proved by [`prove_signature`].
pub struct PreparedSignature {
    /// What the proof will show; holds the signer's secret.
    statement: Statement,
    /// The registry's tree depth, which the keys must match.
    depth: u32,
    /// The verifying key's hash the petition names.
    verifying_key_hash: String,
    /// The proving key file's hash the petition names.
    proving_key_hash: String,
    /// The petition's id, for the signature.
    petition: [u8; 32],
    /// The newest checkpoint's root, which the proof uses.
    root: Fr,
    /// The disclosed slots and their values.
    mask: Mask,
    disclosed: Attributes,
    /// The optional public comment.
    comment: Option<String>,
    /// For [`SignOutcome`]: see its fields.
    anonymity_set: u64,
    checkpoint: u64,
    dropped_slots: Vec<usize>,
}

/// Proves membership for `request` with the keys in `keys`, entirely locally, and returns
/// the signature: [`prepare_signature`], then [`prove_signature`].
pub fn sign<R: RngCore + CryptoRng>(
    request: &SignRequest<'_>,
    keys: &SigningKeys,
    rng: &mut R,
) -> Result<SignOutcome> {
    prove_signature(prepare_signature(request)?, keys, rng)
}

/// A loaded key directory: its manifest (whose proving key hash `keys::load_prover` checked
/// against the file) and the prover.
pub struct SigningKeys {
    /// The key directory's manifest.
    pub manifest: KeyManifest,
    /// The prover of its proving key.
    pub prover: Prover,
}

/// Everything signing does before it needs the keys: checks the registry's checkpoints
/// against the petition, finds the signer, rebuilds the tree and checks its root, chooses
/// the disclosure and checks the anonymity set, and builds the statement.
pub fn prepare_signature(request: &SignRequest<'_>) -> Result<PreparedSignature> {
    let SignRequest {
        secret,
        registry,
        petition,
        ..
    } = request;
    if let Some(comment) = &request.comment {
        if comment.len() > MAX_COMMENT || comment.chars().any(char::is_control) {
            return Err(WorkflowError::Comment);
        }
    }
    let checkpoints = checked_checkpoints(registry, petition)?;
    let commitment = secret.commitment();
    let index = registry
        .find(&commitment)
        .ok_or(WorkflowError::NotAMember)?;
    let attributes: Attributes = registry
        .member(index)
        .map(|m| m.attributes)
        .ok_or(WorkflowError::NotAMember)?;
    let (checkpoint, tree) = signing_checkpoint(registry, checkpoints, petition, index)?;

    let allowed = petition.allowed_mask();
    let (mask, dropped_slots) = match request.disclose {
        Some(mask) => {
            if !mask.is_subset_of(allowed) {
                let names = |m: Mask| -> String {
                    let names: Vec<String> = m
                        .slots()
                        .into_iter()
                        .map(|slot| slot_name(registry.schema(), slot))
                        .collect();
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                };
                return Err(WorkflowError::DisclosureNotAllowed {
                    asked: names(
                        Mask::new(u64::from(mask.bits() & !allowed.bits())).unwrap_or(Mask::NONE),
                    ),
                    allowed: names(allowed),
                });
            }
            (mask, Vec::new())
        }
        None => {
            let (mask, _) = choose_mask(
                registry,
                checkpoint.size,
                &attributes,
                allowed,
                request.min_anonymity,
            );
            let dropped = allowed
                .slots()
                .into_iter()
                .filter(|s| !mask.includes(*s))
                .collect();
            (mask, dropped)
        }
    };
    let disclosed = attributes.disclose(mask);
    let set = anonymity_set(registry, checkpoint.size, mask, &disclosed);
    if set < request.min_anonymity && !request.accept_small_anonymity_set {
        return Err(WorkflowError::SmallAnonymitySet {
            set,
            minimum: request.min_anonymity,
        });
    }
    let path = tree
        .path(index)
        .map_err(|e| WorkflowError::Internal(e.to_string()))?;
    let statement = Statement::new(
        secret.sk(),
        &attributes,
        &path,
        checkpoint.root,
        petition.scope(),
        message(request.comment.as_deref()),
        mask,
    );
    Ok(PreparedSignature {
        statement,
        depth: registry.depth(),
        verifying_key_hash: petition.verifying_key_hash().to_owned(),
        proving_key_hash: petition.proving_key_hash().to_owned(),
        petition: petition.id(),
        root: checkpoint.root,
        mask,
        disclosed,
        comment: request.comment.clone(),
        anonymity_set: set,
        checkpoint: checkpoint.sequence,
        dropped_slots,
    })
}

/// Proves a prepared signature with `keys`, after checking that they are the ones the
/// petition names and fit the registry's depth.
pub fn prove_signature<R: RngCore + CryptoRng>(
    prepared: PreparedSignature,
    keys: &SigningKeys,
    rng: &mut R,
) -> Result<SignOutcome> {
    let prover = &keys.prover;
    if prover.depth() != prepared.depth {
        return Err(WorkflowError::WrongKeys(format!(
            "the keys are for depth {}, the registry has depth {}",
            prover.depth(),
            prepared.depth
        )));
    }
    if prover.verifier().key_hash() != prepared.verifying_key_hash {
        return Err(WorkflowError::WrongKeys(format!(
            "these keys are not the petition's: their verifying key is {}, the petition names \
             {}; get the keys the petition names (compare with the ceremony transcript)",
            prover.verifier().key_hash(),
            prepared.verifying_key_hash
        )));
    }
    if keys.manifest.proving_key.blake3 != prepared.proving_key_hash {
        return Err(WorkflowError::WrongKeys(format!(
            "these keys are not the petition's: their proving key is {}, the petition names {}; \
             someone may have handed you a doctored proving key; get the keys the petition \
             names (compare with the ceremony transcript) and do not sign with these",
            keys.manifest.proving_key.blake3, prepared.proving_key_hash
        )));
    }
    let proof = match prover.prove(&prepared.statement, rng) {
        Ok(proof) => proof,
        Err(ProveError::StatementFalse) => return Err(WorkflowError::ProofFailed),
        Err(e) => return Err(WorkflowError::Prove(e)),
    };
    let signature = Signature {
        petition: prepared.petition,
        root: prepared.root,
        nullifier: prepared.statement.public.nullifier,
        mask: prepared.mask,
        disclosed: prepared.disclosed,
        comment: prepared.comment,
        proof: ProofBytes::encode(&proof).map_err(|e| WorkflowError::Internal(e.to_string()))?,
    };
    Ok(SignOutcome {
        signature,
        anonymity_set: prepared.anonymity_set,
        checkpoint: prepared.checkpoint,
        dropped_slots: prepared.dropped_slots,
    })
}

/// A checker for signatures on `petition` against `registry`'s signed checkpoints.
pub fn checker(
    petition: &PetitionFile,
    registry: &Registry,
    verifier: Verifier,
) -> Result<Checker> {
    checked_checkpoints(registry, petition)?;
    if verifier.key_hash() != petition.verifying_key_hash() {
        return Err(WorkflowError::WrongKeys(format!(
            "the keys' verifying key {} is not the one the petition names ({})",
            verifier.key_hash(),
            petition.verifying_key_hash()
        )));
    }
    Ok(Checker::new(
        petition.clone(),
        registry.checkpoints(),
        verifier,
    ))
}

/// Builds a bundle from loose signatures and writes it atomically to `out`.
pub fn build_bundle(
    petition: &PetitionFile,
    registry: &Registry,
    verifier: Verifier,
    inputs: Vec<(String, Vec<u8>)>,
    out: &Path,
) -> Result<BuildOutcome> {
    let checker = checker(petition, registry, verifier)?;
    let outcome = bundle::build(&checker, inputs);
    if outcome.accepted.is_empty() {
        // Nothing valid: no bundle is written (the caller reports why each input was dropped).
        return Ok(outcome);
    }
    let newest = outcome
        .newest_checkpoint
        .unwrap_or_else(|| registry.checkpoints().len().saturating_sub(1) as u64);
    let chain = &registry.checkpoints()[..=(newest as usize).min(registry.checkpoints().len() - 1)];
    write_atomic_with(out, false, |w| {
        bundle::write_bundle(
            w,
            petition,
            registry.schema(),
            chain,
            checker.verifier(),
            &outcome.accepted,
        )
        .map_err(std::io::Error::other)
    })
    .map_err(|source| WorkflowError::Io {
        what: "writing bundle",
        path: out.to_owned(),
        source,
    })?;
    Ok(outcome)
}

/// The number of signature lines a bundle's header announces, if its first line says (read
/// for the progress bar only; the audit checks it).
pub fn announced_signatures(path: &Path) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Announced {
        signatures: u64,
    }
    let file = std::fs::File::open(path).ok()?;
    let mut first = Vec::new();
    std::io::BufRead::read_until(
        &mut std::io::Read::take(BufReader::new(file), bundle::MAX_HEADER_BYTES as u64),
        b'\n',
        &mut first,
    )
    .ok()?;
    serde_json::from_slice::<Announced>(&first)
        .ok()
        .map(|a| a.signatures)
}

/// Audits the bundle at `path`, calling `progress` with the lines checked so far.
pub fn audit_file(
    path: &Path,
    options: &AuditOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<AuditReport> {
    let file = std::fs::File::open(path).map_err(|source| WorkflowError::Io {
        what: "opening bundle",
        path: path.to_owned(),
        source,
    })?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    bundle::audit_with_progress(&mut reader, options, progress).map_err(|source| {
        WorkflowError::Bundle {
            path: path.to_owned(),
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_in_words() {
        assert_eq!(window_text(3, Some(3)), "checkpoint 3 only");
        assert_eq!(window_text(3, Some(5)), "checkpoints 3 to 5");
        assert_eq!(window_text(3, None), "checkpoint 3 and every later one");
    }

    #[test]
    fn a_wrong_file_is_named_before_its_parse_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.json");
        std::fs::write(
            &path,
            br#"{"version":1,"kind":"undersign-registry","id":"00"}"#,
        )
        .unwrap();
        let err = load_petition(&path).unwrap_err();
        assert!(matches!(err, WorkflowError::WrongKind(_)), "{err}");
        assert!(err
            .to_string()
            .ends_with("is a registry; --petition wants a petition file"));
        // A broken petition is reported as such, with the file.
        std::fs::write(&path, br#"{"version":1,"kind":"undersign-petition"}"#).unwrap();
        let err = load_petition(&path).unwrap_err();
        assert!(matches!(err, WorkflowError::Petition { .. }), "{err}");
        let missing = dir.path().join("missing.json");
        assert!(matches!(
            load_registry(&missing),
            Err(WorkflowError::Registry(_))
        ));
    }
}
