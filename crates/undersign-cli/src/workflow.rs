//! Operations shared by the commands and the demo: loading files with good errors, signing,
//! building bundles and auditing them.

use anyhow::{anyhow, bail, ensure, Context, Result};
use rand::{CryptoRng, RngCore};
use std::io::BufReader;
use std::path::Path;
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
use undersign_registry::registry::Registry;
use undersign_tally::bundle::{self, AuditOptions, AuditReport, BuildOutcome};
use undersign_tally::check::Checker;
use undersign_tally::petition::PetitionFile;
use undersign_tally::signature::{Signature, MAX_COMMENT};

use crate::report;

/// Reads and validates a petition file.
pub fn load_petition(path: &Path) -> Result<PetitionFile> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading petition {}", path.display()))?;
    PetitionFile::parse(bytes).with_context(|| format!("petition {}", path.display()))
}

/// Reads and validates a registry file.
pub fn load_registry(path: &Path) -> Result<Registry> {
    Registry::load(path).with_context(|| format!("registry {}", path.display()))
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
    ensure!(
        *registry.id() == petition.registry(),
        "the petition is for registry {}, but this registry is {}",
        hex::encode(petition.registry()),
        hex::encode(registry.id())
    );
    ensure!(
        !registry.checkpoints().is_empty(),
        "the registry has no signed checkpoint yet (the registrar runs `undersign registry checkpoint`)"
    );
    verify_chain(
        registry.checkpoints(),
        petition.registrar_key(),
        registry.id(),
    )
    .map_err(|e| {
        anyhow!("the registry's checkpoints are not valid for the petition's registrar: {e}")
    })?;
    petition.check_chain(registry.checkpoints()).map_err(|e| {
        anyhow!(
            "this registry file is not the petition's: {e}; get the registry file the \
             organizers published with the petition"
        )
    })?;
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
    let window = report::window_text(petition.min_checkpoint(), petition.max_checkpoint());
    let accepted: Vec<&Checkpoint> = checkpoints
        .iter()
        .rev()
        .filter(|cp| petition.accepts_checkpoint(cp.sequence))
        .collect();
    let newest = checkpoints[checkpoints.len() - 1].sequence;
    if accepted.is_empty() {
        if newest < petition.min_checkpoint() {
            bail!(
                "this registry file's newest checkpoint is {newest}, but the petition accepts {window}: \
                 get the newer registry file from the registrar or the organizers"
            );
        }
        bail!(
            "this registry file has no checkpoint the petition accepts ({window}): get the \
             registry file the organizers published with the petition"
        );
    }
    let holding: Vec<&Checkpoint> = accepted
        .iter()
        .copied()
        .filter(|cp| index < cp.size)
        .collect();
    if holding.is_empty() {
        let open = petition.max_checkpoint().is_none_or(|max| max > newest);
        bail!(
            "you were added to the registry after checkpoint {}, and the petition accepts {window}: {}",
            accepted[0].sequence,
            if open {
                "wait for the registrar's next checkpoint"
            } else {
                "members added later cannot sign this petition"
            }
        );
    }
    // The newest accepted checkpoint that holds the signer. Its root is rebuilt from this file
    // (removed members' tombstones keep their leaves for older checkpoints), whatever changed
    // since.
    let checkpoint = holding[0];
    let size = usize::try_from(checkpoint.size).unwrap_or(usize::MAX);
    let leaves = registry.leaves_at(checkpoint.sequence);
    let leaves = leaves.get(..size).ok_or_else(|| {
        anyhow!(
            "checkpoint {} covers {} positions, more than this registry file has",
            checkpoint.sequence,
            checkpoint.size
        )
    })?;
    let tree = MerkleTree::from_leaves(registry.depth(), leaves.to_vec())?;
    ensure!(
        tree.root() == checkpoint.root,
        "this registry file does not give checkpoint {}'s signed root: it is not the file the \
         registrar signed; get the registry file the organizers published with the petition",
        checkpoint.sequence
    );
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
        ensure!(
            comment.len() <= MAX_COMMENT && !comment.chars().any(char::is_control),
            "the comment must be at most {MAX_COMMENT} bytes, without control characters"
        );
    }
    let checkpoints = checked_checkpoints(registry, petition)?;
    let commitment = secret.commitment();
    let index = registry.find(&commitment).ok_or_else(|| {
        anyhow!("your commitment is not in this registry (never added, or removed)")
    })?;
    let attributes: Attributes = registry.members()[index as usize]
        .as_ref()
        .map(|m| m.attributes)
        .ok_or_else(|| anyhow!("your registry entry was removed"))?;
    let (checkpoint, tree) = signing_checkpoint(registry, checkpoints, petition, index)?;

    let allowed = petition.allowed_mask();
    let (mask, dropped_slots) = match request.disclose {
        Some(mask) => {
            ensure!(
                mask.is_subset_of(allowed),
                "the petition only allows disclosing slots {:?}",
                allowed.slots()
            );
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
        bail!(
            "only {set} member(s) share the values you would disclose (minimum {}); disclose fewer slots, \
             or pass --accept-small-anonymity-set if you accept being easier to identify",
            request.min_anonymity
        );
    }
    let path = tree.path(index)?;
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
    ensure!(
        prover.depth() == prepared.depth,
        "the keys are for depth {}, the registry has depth {}",
        prover.depth(),
        prepared.depth
    );
    ensure!(
        prover.verifier().key_hash() == prepared.verifying_key_hash,
        "these keys are not the petition's: their verifying key is {}, the petition names {}; \
         get the keys the petition names (compare with the ceremony transcript)",
        prover.verifier().key_hash(),
        prepared.verifying_key_hash
    );
    ensure!(
        keys.manifest.proving_key.blake3 == prepared.proving_key_hash,
        "these keys are not the petition's: their proving key is {}, the petition names {}; \
         someone may have handed you a doctored proving key; get the keys the petition names \
         (compare with the ceremony transcript) and do not sign with these",
        keys.manifest.proving_key.blake3,
        prepared.proving_key_hash
    );
    let proof = match prover.prove(&prepared.statement, rng) {
        Ok(proof) => proof,
        Err(ProveError::StatementFalse) => bail!(
            "the proof does not verify although your registry entry, path and root all checked \
             out: the keys may have been tampered with (a doctored proving key can make chosen \
             signers fail). Nothing was written. Tell the organizers, and compare the keys with \
             the ceremony transcript (`undersign ceremony phase2 verify` prints the proving key \
             hash)"
        ),
        Err(e) => return Err(e).context("proving"),
    };
    let signature = Signature {
        petition: prepared.petition,
        root: prepared.root,
        nullifier: prepared.statement.public.nullifier,
        mask: prepared.mask,
        disclosed: prepared.disclosed,
        comment: prepared.comment,
        proof: ProofBytes::encode(&proof)?,
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
    ensure!(
        verifier.key_hash() == petition.verifying_key_hash(),
        "the keys' verifying key {} is not the one the petition names ({})",
        verifier.key_hash(),
        petition.verifying_key_hash()
    );
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
    .with_context(|| format!("writing bundle {}", out.display()))?;
    Ok(outcome)
}

/// Audits the bundle at `path`, calling `progress` with the lines checked so far.
pub fn audit_file(
    path: &Path,
    options: &AuditOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<AuditReport> {
    let file =
        std::fs::File::open(path).with_context(|| format!("opening bundle {}", path.display()))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    bundle::audit_with_progress(&mut reader, options, progress)
        .with_context(|| format!("bundle {}", path.display()))
}
