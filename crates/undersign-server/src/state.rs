//! In-memory views of what the database holds, and the single writer thread.
//!
//! Every change goes through the writer thread, which owns the only read-write connection:
//! it commits first and only then updates the in-memory [`Catalog`] and answers, so an answer
//! never announces something the database does not hold. Signature inserts that queue up
//! while a commit is in progress are stored together in the next transaction (group commit).
//!
//! New signatures are pending until a publication (`SPEC.md` §16): the writer then flags them
//! published, writes the petition's bundle file atomically, recomputes the public tally from
//! the published rows and runs `VACUUM`. After every commit it truncates the WAL.

use crate::error::{ApiError, StoreError};
use crate::store::{Inserted, NewSignature, Store};
use axum::http::StatusCode;
use bytes::Bytes;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use undersign_core::attributes::{Mask, SLOTS};
use undersign_core::field;
use undersign_proof::Verifier;
use undersign_registry::checkpoint::{verify_chain, Checkpoint};
use undersign_registry::registry::{Registry, RegistryError};
use undersign_registry::schema::Schema;
use undersign_tally::bundle::{write_bundle_header, Tally};
use undersign_tally::check::Checker;
use undersign_tally::petition::PetitionFile;
use undersign_tally::signature::Signature;

/// Signature inserts stored in one transaction at most.
pub(crate) const MAX_BATCH: usize = 512;

/// Locks a mutex, recovering the data if another thread panicked while holding it (every
/// update here is a single assignment or counter bump, so the data stays consistent).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

/// A stored registry: its exact file (served as is) and what checking signatures needs.
pub(crate) struct RegistryEntry {
    pub id: [u8; 32],
    pub bytes: Bytes,
    pub depth: u32,
    pub members: u64,
    pub schema: Schema,
    pub checkpoints: Vec<Checkpoint>,
}

impl RegistryEntry {
    /// Parses and validates a registry file (`SPEC.md` §11: its chain is checked on load).
    pub fn parse(bytes: Bytes) -> Result<Self, RegistryError> {
        let registry = Registry::from_json(&bytes)?;
        Ok(Self {
            id: *registry.id(),
            depth: registry.depth(),
            members: registry.len(),
            schema: registry.schema().clone(),
            checkpoints: registry.checkpoints().to_vec(),
            bytes,
        })
    }
}

/// When signatures are published (`SPEC.md` §16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Publication {
    /// The publication interval: at every multiple of it after the start, each petition with
    /// at least `min` pending signatures is published.
    pub every: Duration,
    /// Pending signatures a timed publication needs (closing or the publish endpoint publish
    /// whatever is pending).
    pub min: u64,
}

impl Default for Publication {
    /// Every hour, at least 20.
    fn default() -> Self {
        Self {
            every: Duration::from_secs(3600),
            min: 20,
        }
    }
}

/// Parses a duration written as a whole number and a unit, or a sum of them: `90s`, `30m`,
/// `1h`, `1h30m`, `2d` (units `s`, `m`, `h`, `d`). At least one second.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!("{text:?} is not a duration: write a number and a unit (s, m, h, d), e.g. 90s, 30m, 1h, 1h30m")
    };
    let mut total: u64 = 0;
    let mut digits = String::new();
    let mut any = false;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n: u64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        any = true;
    }
    if !digits.is_empty() || !any {
        return Err(bad());
    }
    if total == 0 {
        return Err(format!("{text:?}: the interval must be at least 1s"));
    }
    Ok(Duration::from_secs(total))
}

/// The bundle file of petition `id` inside the bundles directory.
pub(crate) fn bundle_path(dir: &Path, id: &[u8; 32]) -> PathBuf {
    dir.join(format!("{}.jsonl", hex::encode(id)))
}

/// The checkpoint chain a bundle with `tally`'s signatures carries: from checkpoint 0 to the
/// newest checkpoint any of them uses (the newest checkpoint when there are none).
pub(crate) fn bundle_chain<'a>(registry: &'a RegistryEntry, tally: &Tally) -> &'a [Checkpoint] {
    let last = registry.checkpoints.len().saturating_sub(1);
    let newest = tally
        .per_checkpoint
        .keys()
        .next_back()
        .map_or(last, |&s| usize::try_from(s).unwrap_or(last));
    registry
        .checkpoints
        .get(..=newest.min(last))
        .unwrap_or(&registry.checkpoints[..])
}

/// A stored petition with its checker, its published tally and whether it is closed.
pub(crate) struct PetitionEntry {
    pub id: [u8; 32],
    pub petition: PetitionFile,
    pub bytes: Bytes,
    checker: RwLock<Arc<Checker>>,
    closed: AtomicBool,
    /// The tally of the published signatures (what `/tally` shows).
    published: Mutex<Tally>,
    /// Stored signatures not yet published (never shown publicly).
    pending: AtomicU64,
    /// Publications so far.
    publications: AtomicU64,
    /// Every nullifier key stored for this petition (published or not), so that a duplicate is
    /// refused before its proof is verified. The database's primary key still decides.
    nullifiers: Mutex<HashSet<[u8; 32]>>,
}

impl PetitionEntry {
    fn new(
        petition: PetitionFile,
        checker: Checker,
        closed: bool,
        published: Tally,
        pending: u64,
        publications: u64,
        nullifiers: HashSet<[u8; 32]>,
    ) -> Self {
        Self {
            id: petition.id(),
            bytes: Bytes::copy_from_slice(petition.bytes()),
            petition,
            checker: RwLock::new(Arc::new(checker)),
            closed: AtomicBool::new(closed),
            published: Mutex::new(published),
            pending: AtomicU64::new(pending),
            publications: AtomicU64::new(publications),
            nullifiers: Mutex::new(nullifiers),
        }
    }

    /// Whether a signature with this nullifier key is stored for this petition.
    pub fn has_nullifier(&self, key: &[u8; 32]) -> bool {
        lock(&self.nullifiers).contains(key)
    }

    /// The checker for this petition (cached; replaced when the registry's chain grows).
    pub fn checker(&self) -> Arc<Checker> {
        read(&self.checker).clone()
    }

    /// Whether the petition no longer takes signatures.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// A copy of the tally of the published signatures.
    pub fn tally(&self) -> Tally {
        lock(&self.published).clone()
    }

    /// Publications so far.
    pub fn publications(&self) -> u64 {
        self.publications.load(Ordering::SeqCst)
    }

    fn pending(&self) -> u64 {
        self.pending.load(Ordering::SeqCst)
    }
}

/// What the server holds, in memory, for answering requests without the database.
#[derive(Default)]
pub(crate) struct Catalog {
    pub registries: RwLock<HashMap<[u8; 32], Arc<RegistryEntry>>>,
    pub petitions: RwLock<HashMap<[u8; 32], Arc<PetitionEntry>>>,
    /// Verifying key hash → verifier. Fixed after start.
    pub verifiers: HashMap<String, Verifier>,
}

impl Catalog {
    /// The registry with this id.
    pub fn registry(&self, id: &[u8; 32]) -> Option<Arc<RegistryEntry>> {
        read(&self.registries).get(id).cloned()
    }

    /// The petition with this id.
    pub fn petition(&self, id: &[u8; 32]) -> Option<Arc<PetitionEntry>> {
        read(&self.petitions).get(id).cloned()
    }

    /// Loads everything stored: verifying keys, registries, petitions, their published tallies
    /// and how many signatures are pending.
    pub fn load(store: &Store) -> Result<Self, crate::ServerError> {
        let corrupt = |what: String, reason: String| crate::ServerError::Corrupt { what, reason };
        let mut verifiers = HashMap::new();
        for (hash, bytes) in store.verifying_keys()? {
            let vk = undersign_proof::encoding::verifying_key_from_bytes(&bytes)
                .map_err(|e| corrupt(format!("verifying key {hash}"), e.to_string()))?;
            let verifier = Verifier::new(vk)
                .map_err(|e| corrupt(format!("verifying key {hash}"), e.to_string()))?;
            if verifier.key_hash() != hash {
                return Err(corrupt(
                    format!("verifying key {hash}"),
                    "its hash does not match".into(),
                ));
            }
            verifiers.insert(hash, verifier);
        }
        let mut registries = HashMap::new();
        for stored in store.registries()? {
            let id = stored.id;
            let entry = RegistryEntry::parse(Bytes::from(stored.file))
                .map_err(|e| corrupt(format!("registry {}", hex::encode(id)), e.to_string()))?;
            registries.insert(id, Arc::new(entry));
        }
        let mut petitions = HashMap::new();
        for stored in store.petitions()? {
            let what = || format!("petition {}", hex::encode(stored.id));
            let petition =
                PetitionFile::parse(stored.file).map_err(|e| corrupt(what(), e.to_string()))?;
            let registry = registries
                .get(&petition.registry())
                .ok_or_else(|| corrupt(what(), "its registry is missing".into()))?;
            let verifier = verifiers
                .get(petition.verifying_key_hash())
                .ok_or_else(|| corrupt(what(), "its verifying key is missing".into()))?;
            let checker = Checker::new(petition.clone(), &registry.checkpoints, verifier.clone());
            let tally = stored_tally(store, &checker).map_err(|e| corrupt(what(), e))?;
            let pending = store.pending(&stored.id)?;
            let nullifiers = store.nullifiers(&stored.id)?.into_iter().collect();
            petitions.insert(
                stored.id,
                Arc::new(PetitionEntry::new(
                    petition,
                    checker,
                    stored.closed,
                    tally,
                    pending,
                    stored.publications,
                    nullifiers,
                )),
            );
        }
        Ok(Self {
            registries: RwLock::new(registries),
            petitions: RwLock::new(petitions),
            verifiers,
        })
    }

    /// Puts a new checker (for the registry's current chain) on every petition of `registry`.
    fn refresh_checkers(&self, registry: &RegistryEntry) {
        for entry in read(&self.petitions).values() {
            if entry.petition.registry() != registry.id {
                continue;
            }
            if let Some(verifier) = self.verifiers.get(entry.petition.verifying_key_hash()) {
                let checker = Checker::new(
                    entry.petition.clone(),
                    &registry.checkpoints,
                    verifier.clone(),
                );
                *write(&entry.checker) = Arc::new(checker);
            }
        }
    }
}

/// The tally of a petition's published lines (they were verified before being stored), each
/// counted at the checkpoint `checker` maps its root to.
fn stored_tally(store: &Store, checker: &Checker) -> Result<Tally, String> {
    #[derive(Deserialize)]
    struct Disclosure {
        root: String,
        mask: u64,
        disclosed: [u16; SLOTS],
    }
    let petition = checker.petition();
    let mut tally = Tally::new(&petition.allowed_mask().slots());
    let mut problem = None;
    store
        .for_each_line(&petition.id(), |line| {
            let parsed = serde_json::from_str::<Disclosure>(line)
                .map_err(|e| e.to_string())
                .and_then(|d| {
                    let root = field::from_hex(&d.root).map_err(|e| e.to_string())?;
                    let checkpoint = checker
                        .accepted_checkpoint(&root)
                        .map_err(|r| r.to_string())?;
                    Ok((
                        Mask::new(d.mask).map_err(|e| e.to_string())?,
                        d.disclosed,
                        checkpoint,
                    ))
                });
            match parsed {
                Ok((mask, codes, checkpoint)) => {
                    tally.add_disclosed(mask, codes, checkpoint);
                    true
                }
                Err(e) => {
                    problem = Some(format!("a stored signature does not parse: {e}"));
                    false
                }
            }
        })
        .map_err(|e| e.to_string())?;
    match problem {
        Some(p) => Err(p),
        None => Ok(tally),
    }
}

/// What became of one submitted signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InsertOutcome {
    /// Committed to disk.
    Stored,
    /// The nullifier was already counted; the line stored for it.
    Duplicate { existing: Option<String> },
    /// The petition was closed before the signature could be stored.
    Closed,
    /// The database failed; nothing was stored.
    Failed,
}

/// How a registry upload went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PutOutcome {
    /// A new registry.
    Created,
    /// An extension replaced the stored file.
    Replaced,
    /// The same file was stored already.
    Unchanged,
}

/// One verified signature waiting to be stored.
pub(crate) struct InsertJob {
    pub entry: Arc<PetitionEntry>,
    pub signature: Signature,
    pub line: String,
    pub reply: oneshot::Sender<InsertOutcome>,
}

/// A change for the writer thread.
pub(crate) enum Command {
    /// Store a verified signature.
    Insert(InsertJob),
    /// Store or extend a registry.
    PutRegistry {
        entry: RegistryEntry,
        reply: oneshot::Sender<Result<PutOutcome, ApiError>>,
    },
    /// Store a petition (`Ok(true)` if new).
    CreatePetition {
        petition: PetitionFile,
        reply: oneshot::Sender<Result<bool, ApiError>>,
    },
    /// Close a petition (and publish what is pending).
    Close {
        id: [u8; 32],
        reply: oneshot::Sender<Result<(), ApiError>>,
    },
    /// Publish a petition's pending signatures now, however few.
    Publish {
        id: [u8; 32],
        reply: oneshot::Sender<Result<Published, ApiError>>,
    },
    /// The publication interval elapsed: publish every petition with enough pending.
    Tick,
    /// Read the stored line of a petition's signature with this nullifier key (`None` if
    /// there is none; `Err` if the database failed). Reads only.
    Lookup {
        petition: [u8; 32],
        nullifier: [u8; 32],
        reply: oneshot::Sender<Result<Option<String>, ApiError>>,
    },
}

/// The state of a petition after a publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Published {
    /// Published signatures in all.
    pub count: u64,
    /// Signatures this publication added.
    pub added: u64,
    /// Publications so far.
    pub publications: u64,
}

/// What the writer thread needs besides the database.
pub(crate) struct Writer {
    pub store: Store,
    pub catalog: Arc<Catalog>,
    /// Where the bundle files are written.
    pub bundles: PathBuf,
    pub publication: Publication,
}

fn storage_failed(e: &StoreError) -> ApiError {
    eprintln!("collector: database write failed: {e}");
    ApiError::unavailable("the database could not store this; nothing was changed, try again")
}

/// The writer thread's loop: runs until every sender is gone. After each commit it truncates
/// the WAL (`wal_checkpoint(TRUNCATE)`; for signatures before answering), so the WAL holds at
/// most the transaction in flight.
pub(crate) fn writer_loop(writer: Writer, mut rx: mpsc::Receiver<Command>) {
    let Writer {
        mut store,
        catalog,
        bundles,
        publication,
    } = writer;
    let mut pending: Option<Command> = None;
    loop {
        let command = match pending.take() {
            Some(command) => command,
            None => match rx.blocking_recv() {
                Some(command) => command,
                None => return,
            },
        };
        // Inserts checkpoint themselves; a lookup writes nothing.
        let inserted = matches!(command, Command::Insert(_) | Command::Lookup { .. });
        match command {
            Command::Insert(job) => {
                let mut jobs = vec![job];
                while jobs.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(Command::Insert(job)) => jobs.push(job),
                        Ok(other) => {
                            pending = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                insert_batch(&mut store, jobs);
            }
            Command::PutRegistry { entry, reply } => {
                let _ = reply.send(put_registry(&mut store, &catalog, entry));
            }
            Command::CreatePetition { petition, reply } => {
                let _ = reply.send(create_petition(&mut store, &catalog, petition));
            }
            Command::Close { id, reply } => {
                let _ = reply.send(close_petition(&mut store, &catalog, &bundles, &id));
            }
            Command::Publish { id, reply } => {
                let result = match catalog.petition(&id) {
                    Some(entry) => publish(&mut store, &catalog, &bundles, &entry),
                    None => Err(ApiError::not_found("petition")),
                };
                let _ = reply.send(result);
            }
            Command::Lookup {
                petition,
                nullifier,
                reply,
            } => {
                let _ = reply.send(
                    store
                        .line(&petition, &nullifier)
                        .map_err(|e| storage_failed(&e)),
                );
            }
            Command::Tick => {
                let due: Vec<Arc<PetitionEntry>> = read(&catalog.petitions)
                    .values()
                    .filter(|e| e.pending() > 0 && e.pending() >= publication.min)
                    .cloned()
                    .collect();
                for entry in due {
                    // A failure was logged; the signatures stay pending for the next tick.
                    let _ = publish(&mut store, &catalog, &bundles, &entry);
                }
            }
        }
        if !inserted {
            log_checkpoint(&store);
        }
    }
}

/// `wal_checkpoint(TRUNCATE)`, logging (without details of any request) if it fails.
fn log_checkpoint(store: &Store) {
    match store.checkpoint() {
        Ok(true) => {}
        Ok(false) => eprintln!("collector: the WAL checkpoint could not finish"),
        Err(e) => eprintln!("collector: the WAL checkpoint failed: {e}"),
    }
}

/// Writes petition `entry`'s bundle file from the published rows, atomically: the header
/// (count and chain from `tally`, the published tally read from the same rows) and the lines
/// in nullifier order. Readers see the previous file or this one, never a part.
pub(crate) fn write_bundle_file(
    store: &Store,
    dir: &Path,
    entry: &PetitionEntry,
    registry: &RegistryEntry,
    tally: &Tally,
) -> std::io::Result<()> {
    use std::io::Write;
    let checker = entry.checker();
    let chain = bundle_chain(registry, tally);
    undersign_core::atomic::write_atomic_with(&bundle_path(dir, &entry.id), false, |out| {
        write_bundle_header(
            out,
            &entry.petition,
            &registry.schema,
            chain,
            checker.verifier(),
            tally.count,
        )
        .map_err(std::io::Error::other)?;
        let mut written = 0u64;
        let mut failure = None;
        store
            .for_each_line(&entry.id, |line| {
                let result = out
                    .write_all(line.as_bytes())
                    .and_then(|()| out.write_all(b"\n"));
                written += 1;
                match result {
                    Ok(()) => true,
                    Err(e) => {
                        failure = Some(e);
                        false
                    }
                }
            })
            .map_err(std::io::Error::other)?;
        if let Some(e) = failure {
            return Err(e);
        }
        if written != tally.count {
            return Err(std::io::Error::other(format!(
                "{written} published lines, but the tally counts {}",
                tally.count
            )));
        }
        Ok(())
    })
}

/// Publishes every pending signature of `entry`: flags them published (one transaction that
/// also counts the publication), writes the bundle file, makes the new tally public, then
/// `VACUUM`s. With nothing pending and a publication done already, changes nothing.
fn publish(
    store: &mut Store,
    catalog: &Catalog,
    bundles: &Path,
    entry: &PetitionEntry,
) -> Result<Published, ApiError> {
    if entry.pending() == 0 && entry.publications() > 0 {
        return Ok(Published {
            count: entry.tally().count,
            added: 0,
            publications: entry.publications(),
        });
    }
    let registry = catalog
        .registry(&entry.petition.registry())
        .ok_or_else(|| ApiError::internal("the petition's registry is missing"))?;
    let (added, publications) = store.publish(&entry.id).map_err(|e| storage_failed(&e))?;
    let tally = stored_tally(store, &entry.checker()).map_err(|e| {
        eprintln!("collector: reading the published signatures failed: {e}");
        ApiError::internal("the published signatures could not be read")
    })?;
    // If the file cannot be written, nothing public changes; the rows stay flagged and the
    // next publication (or the next start) writes them.
    write_bundle_file(store, bundles, entry, &registry, &tally).map_err(|e| {
        eprintln!("collector: writing a bundle file failed: {e}");
        ApiError::unavailable("the bundle file could not be written; try again")
    })?;
    let count = tally.count;
    *lock(&entry.published) = tally;
    entry.pending.store(0, Ordering::SeqCst);
    entry.publications.store(publications, Ordering::SeqCst);
    if let Err(e) = store.vacuum() {
        eprintln!("collector: VACUUM after a publication failed: {e}");
    }
    Ok(Published {
        count,
        added,
        publications,
    })
}

/// Writes the bundle file of every petition published at least once (at start: a crash may
/// have come between a publication's commit and its file).
pub(crate) fn write_all_bundles(
    store: &Store,
    catalog: &Catalog,
    bundles: &Path,
) -> Result<(), crate::ServerError> {
    for entry in read(&catalog.petitions).values() {
        if entry.publications() == 0 {
            continue;
        }
        let Some(registry) = catalog.registry(&entry.petition.registry()) else {
            continue;
        };
        write_bundle_file(store, bundles, entry, &registry, &entry.tally()).map_err(|e| {
            crate::ServerError::io(
                format!("writing the bundle of petition {}", hex::encode(entry.id)),
                e,
            )
        })?;
    }
    Ok(())
}

fn insert_batch(store: &mut Store, jobs: Vec<InsertJob>) {
    let (open, closed): (Vec<InsertJob>, Vec<InsertJob>) =
        jobs.into_iter().partition(|job| !job.entry.is_closed());
    for job in closed {
        let _ = job.reply.send(InsertOutcome::Closed);
    }
    if open.is_empty() {
        return;
    }
    let keys: Vec<[u8; 32]> = open.iter().map(|j| j.signature.nullifier_key()).collect();
    let rows: Vec<NewSignature<'_>> = open
        .iter()
        .zip(&keys)
        .map(|(job, nullifier)| NewSignature {
            petition: &job.entry.id,
            nullifier,
            line: &job.line,
        })
        .collect();
    match store.insert_signatures(&rows) {
        Ok(results) => {
            // Before any answer: once a signature is acknowledged, the WAL no longer holds it
            // (nor the other rows on the pages its transaction wrote).
            log_checkpoint(store);
            for (job, result) in open.into_iter().zip(results) {
                let outcome = match result {
                    Inserted::New => {
                        job.entry.pending.fetch_add(1, Ordering::SeqCst);
                        lock(&job.entry.nullifiers).insert(job.signature.nullifier_key());
                        InsertOutcome::Stored
                    }
                    Inserted::Duplicate { existing } => InsertOutcome::Duplicate { existing },
                };
                let _ = job.reply.send(outcome);
            }
        }
        Err(e) => {
            eprintln!(
                "collector: storing a batch of {} signature(s) failed, none stored: {e}",
                open.len()
            );
            for job in open {
                let _ = job.reply.send(InsertOutcome::Failed);
            }
        }
    }
}

fn conflict(field: &str, message: String) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "registry_conflict",
        message,
        Some(field),
    )
}

fn put_registry(
    store: &mut Store,
    catalog: &Catalog,
    entry: RegistryEntry,
) -> Result<PutOutcome, ApiError> {
    let old = catalog.registry(&entry.id);
    if let Some(old) = &old {
        if old.bytes == entry.bytes {
            return Ok(PutOutcome::Unchanged);
        }
        if old.depth != entry.depth {
            return Err(conflict(
                "depth",
                format!(
                    "the stored registry has depth {}; a replacement must keep it",
                    old.depth
                ),
            ));
        }
        if old.schema.hash() != entry.schema.hash() {
            return Err(conflict(
                "schema",
                "a replacement must keep the stored registry's schema".into(),
            ));
        }
        let kept = old.checkpoints.len();
        if entry.checkpoints.len() < kept || entry.checkpoints[..kept] != old.checkpoints[..] {
            return Err(conflict(
                "checkpoints",
                format!(
                    "the new checkpoint chain does not extend the stored one: it must keep the \
                     stored checkpoints 0 to {} unchanged and may only add newer ones",
                    kept.saturating_sub(1)
                ),
            ));
        }
    }
    store
        .put_registry(&entry.id, &entry.bytes)
        .map_err(|e| storage_failed(&e))?;
    let entry = Arc::new(entry);
    write(&catalog.registries).insert(entry.id, entry.clone());
    catalog.refresh_checkers(&entry);
    Ok(if old.is_some() {
        PutOutcome::Replaced
    } else {
        PutOutcome::Created
    })
}

fn create_petition(
    store: &mut Store,
    catalog: &Catalog,
    petition: PetitionFile,
) -> Result<bool, ApiError> {
    let registry_id = petition.registry();
    let registry = catalog.registry(&registry_id).ok_or_else(|| {
        ApiError::unprocessable(
            "unknown_registry",
            format!(
                "registry {} has not been uploaded; PUT /v1/registries/{} first",
                hex::encode(registry_id),
                hex::encode(registry_id)
            ),
            Some("registry"),
        )
    })?;
    let verifier = catalog
        .verifiers
        .get(petition.verifying_key_hash())
        .ok_or_else(|| {
            ApiError::unprocessable(
                "unknown_verifying_key",
                format!(
                    "this server does not have verifying key {}; start it with --keys for that key",
                    petition.verifying_key_hash()
                ),
                Some("verifying_key"),
            )
        })?;
    let latest = registry.checkpoints.last().ok_or_else(|| {
        ApiError::unprocessable(
            "no_checkpoint",
            "the registry has no signed checkpoint yet, so no signature could count",
            Some("registry"),
        )
    })?;
    verify_chain(
        &registry.checkpoints,
        petition.registrar_key(),
        &registry_id,
    )
    .map_err(|e| {
        ApiError::unprocessable(
            "wrong_registrar_key",
            format!(
                "the registry's checkpoints are not valid under the petition's registrar key: {e}"
            ),
            Some("registrar_key"),
        )
    })?;
    petition.check_chain(&registry.checkpoints).map_err(|e| {
        ApiError::unprocessable(
            "wrong_checkpoint_chain",
            format!("the stored registry is not the petition's: {e}"),
            Some("min_checkpoint_hash"),
        )
    })?;
    if petition.min_checkpoint() > latest.sequence {
        return Err(ApiError::unprocessable(
            "min_checkpoint_ahead",
            format!(
                "min_checkpoint {} is newer than the registry's newest checkpoint {}",
                petition.min_checkpoint(),
                latest.sequence
            ),
            Some("min_checkpoint"),
        ));
    }
    let id = petition.id();
    let new = store
        .insert_petition(&id, &registry_id, petition.bytes())
        .map_err(|e| storage_failed(&e))?;
    if new {
        let checker = Checker::new(petition.clone(), &registry.checkpoints, verifier.clone());
        let tally = Tally::new(&petition.allowed_mask().slots());
        let entry = Arc::new(PetitionEntry::new(
            petition,
            checker,
            false,
            tally,
            0,
            0,
            HashSet::new(),
        ));
        write(&catalog.petitions).insert(id, entry);
    }
    Ok(new)
}

/// Closes a petition, then publishes whatever is pending, however few (also when it was
/// closed already and a publication failed before).
fn close_petition(
    store: &mut Store,
    catalog: &Catalog,
    bundles: &Path,
    id: &[u8; 32],
) -> Result<(), ApiError> {
    let entry = catalog
        .petition(id)
        .ok_or_else(|| ApiError::not_found("petition"))?;
    if !entry.is_closed() {
        if !store.close_petition(id).map_err(|e| storage_failed(&e))? {
            return Err(ApiError::not_found("petition"));
        }
        entry.closed.store(true, Ordering::SeqCst);
    }
    if entry.pending() > 0 {
        publish(store, catalog, bundles, &entry)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_and_refuse_the_rest() {
        let secs = |t: &str| parse_duration(t).map(|d| d.as_secs());
        assert_eq!(secs("90s"), Ok(90));
        assert_eq!(secs("30m"), Ok(1800));
        assert_eq!(secs("1h"), Ok(3600));
        assert_eq!(secs("1h30m"), Ok(5400));
        assert_eq!(secs("2d"), Ok(172_800));
        for bad in [
            "",
            "1",
            "h",
            "1x",
            "0s",
            "-1s",
            "1.5h",
            "99999999999999999999s",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
