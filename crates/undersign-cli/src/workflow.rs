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
use undersign_proof::{Prover, Verifier};
use undersign_registry::anonymity::{anonymity_set, choose_mask};
use undersign_registry::checkpoint::{verify_chain, Checkpoint};
use undersign_registry::registry::Registry;
use undersign_tally::bundle::{self, AuditOptions, AuditReport, BuildOutcome};
use undersign_tally::check::Checker;
use undersign_tally::petition::PetitionFile;
use undersign_tally::signature::{Signature, MAX_COMMENT};

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
/// registrar; returns the newest checkpoint.
pub fn checked_latest_checkpoint<'r>(
    registry: &'r Registry,
    petition: &PetitionFile,
) -> Result<&'r Checkpoint> {
    ensure!(
        *registry.id() == petition.registry(),
        "the petition is for registry {}, but this registry is {}",
        hex::encode(petition.registry()),
        hex::encode(registry.id())
    );
    let latest = registry
        .latest_checkpoint()
        .ok_or_else(|| anyhow!("the registry has no signed checkpoint yet (the registrar runs `undersign registry checkpoint`)"))?;
    verify_chain(
        registry.checkpoints(),
        petition.registrar_key(),
        registry.id(),
    )
    .map_err(|e| {
        anyhow!("the registry's checkpoints are not valid for the petition's registrar: {e}")
    })?;
    Ok(latest)
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

/// Proves membership for `request` with `prover`, entirely locally, and returns the
/// signature: [`prepare_signature`], then [`prove_signature`].
pub fn sign<R: RngCore + CryptoRng>(
    request: &SignRequest<'_>,
    prover: &Prover,
    rng: &mut R,
) -> Result<SignOutcome> {
    prove_signature(prepare_signature(request)?, prover, rng)
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
    let checkpoint = checked_latest_checkpoint(registry, petition)?;
    ensure!(
        checkpoint.sequence >= petition.min_checkpoint(),
        "the registry's newest checkpoint is {}, older than the petition's minimum {}",
        checkpoint.sequence,
        petition.min_checkpoint()
    );
    if let Some(comment) = &request.comment {
        ensure!(
            comment.len() <= MAX_COMMENT && !comment.chars().any(char::is_control),
            "the comment must be at most {MAX_COMMENT} bytes, without control characters"
        );
    }
    let commitment = secret.commitment();
    let index = registry.find(&commitment).ok_or_else(|| {
        anyhow!("your commitment is not in this registry (never added, or removed)")
    })?;
    ensure!(
        index < checkpoint.size,
        "you were added after the newest checkpoint ({} members); wait for the registrar's next checkpoint",
        checkpoint.size
    );
    let attributes: Attributes = registry.members()[index as usize]
        .as_ref()
        .map(|m| m.attributes)
        .ok_or_else(|| anyhow!("your registry entry was removed"))?;
    let leaves = registry.leaves();
    let tree = MerkleTree::from_leaves(
        registry.depth(),
        leaves[..checkpoint.size as usize].to_vec(),
    )?;
    ensure!(
        tree.root() == checkpoint.root,
        "the registry changed since its newest checkpoint (a member was removed); ask the registrar for a new checkpoint"
    );

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

/// Proves a prepared signature with `prover`, after checking that its keys are the ones the
/// petition names and fit the registry's depth.
pub fn prove_signature<R: RngCore + CryptoRng>(
    prepared: PreparedSignature,
    prover: &Prover,
    rng: &mut R,
) -> Result<SignOutcome> {
    ensure!(
        prover.depth() == prepared.depth,
        "the keys are for depth {}, the registry has depth {}",
        prover.depth(),
        prepared.depth
    );
    ensure!(
        prover.verifier().key_hash() == prepared.verifying_key_hash,
        "these keys (verifying key {}) are not the ones the petition names ({})",
        prover.verifier().key_hash(),
        prepared.verifying_key_hash
    );
    let proof = prover.prove(&prepared.statement, rng).context("proving")?;
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
    checked_latest_checkpoint(registry, petition)?;
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
