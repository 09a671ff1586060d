//! The bundle (`SPEC.md` §15): a JSON Lines file, header first, then the signatures sorted by
//! nullifier. [`build`] makes one from loose signature files; [`audit`] streams one back in
//! bounded memory, checking lines in parallel.

use crate::check::{Checker, Rejection};
use crate::petition::{DoubleCountBound, PetitionError, PetitionFile};
use crate::signature::Signature;
use rand::rngs::OsRng;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, Write};
use thiserror::Error;
use undersign_core::attributes::{Mask, SLOTS};
use undersign_proof::encoding::{
    decode_lower_hex, verifying_key_from_bytes, verifying_key_to_bytes,
};
use undersign_proof::Verifier;
use undersign_registry::checkpoint::{verify_chain, Checkpoint};
use undersign_registry::registrar::RegistrarPublicKey;
use undersign_registry::schema::Schema;

/// The `kind` of a bundle header.
pub const KIND: &str = "undersign-bundle";
/// Signature lines checked together (in parallel) before the next batch is read.
pub const BATCH_LINES: usize = 4096;
/// Rejected lines listed one by one in a report; beyond this they are only counted by reason.
pub const MAX_LISTED_REJECTIONS: usize = 10_000;
/// Longest accepted header line (a petition of 100 kB plus checkpoints fits easily).
pub const MAX_HEADER_BYTES: usize = 16 << 20;

/// The bundle's first line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleHeader {
    /// Format version, 1.
    pub version: u32,
    /// `"undersign-bundle"`.
    pub kind: String,
    /// The petition file's exact text.
    pub petition_file: String,
    /// The registry's schema.
    pub schema: serde_json::Value,
    /// The checkpoint chain from sequence 0 to the newest one used.
    pub checkpoints: Vec<Checkpoint>,
    /// The verifying key, hex of its compressed encoding.
    pub verifying_key: String,
    /// blake3 of the verifying key bytes.
    pub verifying_key_hash: String,
    /// Number of signature lines that follow.
    pub signatures: u64,
}

/// Errors that stop an audit or a build before any counting: unreadable input.
#[derive(Debug, Error)]
pub enum BundleError {
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The bundle is empty.
    #[error("the bundle is empty (no header line)")]
    Empty,
    /// The header line is not valid.
    #[error("bundle header: {0}")]
    Header(String),
    /// The embedded petition is not valid.
    #[error("bundle header: embedded petition: {0}")]
    Petition(#[from] PetitionError),
}

/// Counts of accepted signatures per disclosed slot and code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Accepted signatures.
    pub count: u64,
    /// For each slot the petition allows: code (`None` = not disclosed) → count.
    pub per_slot: BTreeMap<usize, BTreeMap<Option<u16>, u64>>,
    /// Count per (mask, disclosed codes).
    pub groups: BTreeMap<(u8, [u16; 4]), u64>,
    /// Count per checkpoint whose root the signatures used (the newest accepted checkpoint with
    /// that root).
    pub per_checkpoint: BTreeMap<u64, u64>,
}

impl Tally {
    /// An empty tally for the slots `allowed` lists.
    pub fn new(allowed: &[usize]) -> Self {
        Self {
            count: 0,
            per_slot: allowed.iter().map(|&s| (s, BTreeMap::new())).collect(),
            groups: BTreeMap::new(),
            per_checkpoint: BTreeMap::new(),
        }
    }

    /// Counts one accepted signature whose root is checkpoint `checkpoint`'s.
    pub fn add(&mut self, signature: &Signature, checkpoint: u64) {
        self.add_disclosed(signature.mask, signature.disclosed.0, checkpoint);
    }

    /// Counts one accepted signature that disclosed `codes` (0 outside `mask`) under `mask`,
    /// with checkpoint `checkpoint`'s root.
    pub fn add_disclosed(&mut self, mask: Mask, codes: [u16; SLOTS], checkpoint: u64) {
        self.count += 1;
        *self.per_checkpoint.entry(checkpoint).or_insert(0) += 1;
        *self.groups.entry((mask.bits(), codes)).or_insert(0) += 1;
        for (slot, counts) in self.per_slot.iter_mut() {
            let key = mask.includes(*slot).then(|| codes[*slot]);
            *counts.entry(key).or_insert(0) += 1;
        }
    }

    /// Signatures per checkpoint root, oldest checkpoint first; `chain` holds the checkpoints
    /// (sequence `i` at position `i`).
    pub fn root_counts(&self, chain: &[Checkpoint]) -> Vec<RootCount> {
        self.per_checkpoint
            .iter()
            .map(|(&checkpoint, &count)| RootCount {
                checkpoint,
                root: usize::try_from(checkpoint)
                    .ok()
                    .and_then(|i| chain.get(i))
                    .map(|cp| undersign_core::field::to_hex(&cp.root))
                    .unwrap_or_default(),
                count,
            })
            .collect()
    }

    /// The breakdown with slot names and code labels from `schema`.
    pub fn breakdown(&self, schema: &Schema) -> Vec<SlotBreakdown> {
        self.per_slot
            .iter()
            .map(|(&slot, counts)| SlotBreakdown {
                slot,
                name: schema
                    .slots()
                    .get(slot)
                    .map(|s| s.name.clone())
                    .unwrap_or_else(|| format!("slot{slot}")),
                rows: counts
                    .iter()
                    .map(|(code, &count)| BreakdownRow {
                        code: *code,
                        label: match code {
                            None => "undisclosed".into(),
                            Some(0) => "unset".into(),
                            Some(c) => schema
                                .label(slot, *c)
                                .map(str::to_owned)
                                .unwrap_or_else(|| format!("code {c}")),
                        },
                        count,
                    })
                    .collect(),
            })
            .collect()
    }
}

/// One slot's counts, labelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotBreakdown {
    /// Slot index.
    pub slot: usize,
    /// Slot name from the schema.
    pub name: String,
    /// One row per code seen.
    pub rows: Vec<BreakdownRow>,
}

/// One code's count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BreakdownRow {
    /// The code, or `None` for signatures that did not disclose this slot.
    pub code: Option<u16>,
    /// The code's label.
    pub label: String,
    /// Accepted signatures with this code.
    pub count: u64,
}

/// Accepted signatures that disclosed the same slots with the same codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisclosedGroup {
    /// The disclosure mask.
    pub mask: u8,
    /// The disclosed codes (0 outside the mask).
    pub codes: [u16; 4],
    /// Accepted signatures in the group.
    pub count: u64,
}

/// The petition's window of checkpoints (`SPEC.md` §13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckpointWindow {
    /// The oldest accepted checkpoint sequence.
    pub min: u64,
    /// The newest accepted checkpoint sequence, or `None` when the window is open-ended.
    pub max: Option<u64>,
}

impl CheckpointWindow {
    /// The window `petition` accepts.
    pub fn of(petition: &PetitionFile) -> Self {
        Self {
            min: petition.min_checkpoint(),
            max: petition.max_checkpoint(),
        }
    }
}

/// The number of accepted signatures that used one registry root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RootCount {
    /// The newest accepted checkpoint with this root.
    pub checkpoint: u64,
    /// The root (canonical hex).
    pub root: String,
    /// Accepted signatures that used it.
    pub count: u64,
}

/// One rejected signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedEntry {
    /// Where it came from: a line number in the bundle, or a file name.
    pub source: String,
    /// Its nullifier, if it could be read.
    pub nullifier: Option<String>,
    /// Stable reason code.
    pub code: &'static str,
    /// Plain-language reason.
    pub reason: String,
}

/// The result of an audit.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// Petition id.
    pub petition: String,
    /// Petition title.
    pub title: String,
    /// Hash of the verifying key that checked the proofs (the one the petition names).
    pub verifying_key_hash: String,
    /// Whether the auditor pinned that hash (`--vk-hash`). Unpinned, the count is only as
    /// trustworthy as whoever made the keys.
    pub verifying_key_pinned: bool,
    /// Newest checkpoint sequence in the bundle.
    pub newest_checkpoint: Option<u64>,
    /// The checkpoints whose roots the petition accepts.
    pub accepted_checkpoints: CheckpointWindow,
    /// How many of the counted signers may have signed twice (removed from an accepted
    /// checkpoint and re-issued an identity in a later one); 0 with one accepted checkpoint.
    pub double_count_bound: DoubleCountBound,
    /// Accepted signatures.
    pub count: u64,
    /// Accepted signatures per registry root, oldest checkpoint first.
    pub roots: Vec<RootCount>,
    /// Counts per disclosed slot and label.
    pub breakdown: Vec<SlotBreakdown>,
    /// Counts per combination of disclosed values.
    pub groups: Vec<DisclosedGroup>,
    /// Rejected signatures with their reasons (the first [`MAX_LISTED_REJECTIONS`]).
    pub rejected: Vec<RejectedEntry>,
    /// Number of rejected signatures.
    pub rejected_total: u64,
    /// Number of rejected signatures per reason code.
    pub rejected_by_code: BTreeMap<&'static str, u64>,
    /// Problems with the bundle as a whole (order, line count, a fatal header problem).
    pub problems: Vec<String>,
    /// Set when the header itself is invalid: then nothing is counted.
    pub fatal: Option<String>,
}

impl AuditReport {
    /// Whether everything checked out.
    pub fn is_clean(&self) -> bool {
        self.rejected_total == 0 && self.problems.is_empty() && self.fatal.is_none()
    }
}

/// What the auditor trusts: the registrar's key and, optionally, a verifying key hash.
pub struct AuditOptions {
    /// The registrar's public key.
    pub registrar_key: RegistrarPublicKey,
    /// Expected verifying key hash, if pinned.
    pub pinned_vk_hash: Option<String>,
}

/// A header that passed every check, ready to check signatures.
pub struct OpenedBundle {
    /// The checker for the embedded petition.
    pub checker: Checker,
    /// The embedded schema.
    pub schema: Schema,
    /// The parsed header.
    pub header: BundleHeader,
}

/// Parses the header line. `Err` means unreadable; `Ok(Err(reason))` means readable but not
/// trustworthy (wrong key, broken chain...), which the audit reports as fatal.
pub fn open_header(
    line: &[u8],
    options: &AuditOptions,
) -> Result<Result<OpenedBundle, (BundleHeader, String)>, BundleError> {
    let header: BundleHeader =
        serde_json::from_slice(line).map_err(|e| BundleError::Header(e.to_string()))?;
    if header.version != 1 {
        return Err(BundleError::Header(format!(
            "unsupported version {}",
            header.version
        )));
    }
    if header.kind != KIND {
        return Err(BundleError::Header(format!(
            "expected kind {KIND:?}, got {:?}",
            header.kind
        )));
    }
    let petition = PetitionFile::parse(header.petition_file.as_bytes().to_vec())?;
    let schema_bytes =
        serde_json::to_vec(&header.schema).map_err(|e| BundleError::Header(e.to_string()))?;
    let schema = Schema::from_json(&schema_bytes)
        .map_err(|e| BundleError::Header(format!("schema: {e}")))?;
    let vk_bytes = decode_lower_hex(&header.verifying_key)
        .map_err(|e| BundleError::Header(format!("verifying_key: {e}")))?;
    let vk = verifying_key_from_bytes(&vk_bytes)
        .map_err(|e| BundleError::Header(format!("verifying_key: {e}")))?;
    let verifier =
        Verifier::new(vk).map_err(|e| BundleError::Header(format!("verifying_key: {e}")))?;

    let fatal = |reason: String| Ok(Err((header.clone(), reason)));
    if verifier.key_hash() != header.verifying_key_hash {
        return fatal(format!(
            "verifying key hash is {}, but the header claims {}",
            verifier.key_hash(),
            header.verifying_key_hash
        ));
    }
    if let Some(pinned) = &options.pinned_vk_hash {
        if verifier.key_hash() != pinned {
            return fatal(format!(
                "verifying key {} is not the pinned key {pinned}",
                verifier.key_hash()
            ));
        }
    }
    if verifier.key_hash() != petition.verifying_key_hash() {
        return fatal(format!(
            "the bundle's verifying key {} is not the key the petition names ({})",
            verifier.key_hash(),
            petition.verifying_key_hash()
        ));
    }
    if petition.registrar_key() != &options.registrar_key {
        return fatal(format!(
            "the petition names registrar key {}, not the given {}",
            petition.registrar_key().to_hex(),
            options.registrar_key.to_hex()
        ));
    }
    if let Err(e) = verify_chain(
        &header.checkpoints,
        &options.registrar_key,
        &petition.registry(),
    ) {
        return fatal(format!("checkpoint chain: {e}"));
    }
    if let Err(reason) = petition.check_chain(&header.checkpoints) {
        return fatal(format!("checkpoint chain: {reason}"));
    }
    let schema_hash = schema.hash();
    if let Some(cp) = header
        .checkpoints
        .iter()
        .find(|cp| cp.schema != schema_hash)
    {
        return fatal(format!(
            "the embedded schema is not the one the registrar signed in checkpoint {}",
            cp.sequence
        ));
    }
    let checker = Checker::new(petition, &header.checkpoints, verifier);
    Ok(Ok(OpenedBundle {
        checker,
        schema,
        header,
    }))
}

/// Audits a bundle from `reader`, streaming: memory stays bounded by one batch of lines plus
/// the set of accepted nullifiers.
pub fn audit(mut reader: impl BufRead, options: &AuditOptions) -> Result<AuditReport, BundleError> {
    audit_with_progress(&mut reader, options, &mut |_| {})
}

/// [`audit`], calling `progress` with the number of signature lines checked so far.
pub fn audit_with_progress(
    reader: &mut impl BufRead,
    options: &AuditOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<AuditReport, BundleError> {
    let mut first = Vec::new();
    match read_line_limited(reader, &mut first, MAX_HEADER_BYTES)? {
        LineRead::Eof => return Err(BundleError::Empty),
        LineRead::TooLong => {
            return Err(BundleError::Header(format!(
                "the header line is longer than {MAX_HEADER_BYTES} bytes"
            )))
        }
        LineRead::Line => {}
    }
    let opened = match open_header(trim_newline(&first), options)? {
        Ok(opened) => opened,
        Err((header, reason)) => {
            let petition = PetitionFile::parse(header.petition_file.into_bytes())?;
            return Ok(AuditReport {
                petition: petition.id_hex(),
                title: petition.fields().title.clone(),
                verifying_key_hash: header.verifying_key_hash,
                verifying_key_pinned: options.pinned_vk_hash.is_some(),
                newest_checkpoint: header.checkpoints.last().map(|c| c.sequence),
                accepted_checkpoints: CheckpointWindow::of(&petition),
                // Nothing is counted, so nothing can be counted twice.
                double_count_bound: DoubleCountBound {
                    members: 0,
                    first: None,
                    last: None,
                },
                count: 0,
                roots: Vec::new(),
                breakdown: Vec::new(),
                groups: Vec::new(),
                rejected: Vec::new(),
                rejected_total: 0,
                rejected_by_code: BTreeMap::new(),
                problems: vec![reason.clone()],
                fatal: Some(reason),
            });
        }
    };
    let OpenedBundle {
        checker,
        schema,
        header,
    } = opened;
    let allowed = checker.petition().allowed_mask().slots();
    let mut tally = Tally::new(&allowed);
    let mut rejections = Rejections::default();
    let mut problems = Vec::new();
    let mut unsorted: u64 = 0;
    let mut first_unsorted: Option<u64> = None;
    let mut seen: HashSet<[u8; 32]> = HashSet::new();
    let mut rng = batch_rng();
    let mut previous_key: Option<[u8; 32]> = None;
    let mut line_number: u64 = 1;
    let mut lines_read: u64 = 0;

    let mut batch = read_batch(reader, &mut line_number)?;
    let mut decoded = checker.decode_many(&batch_inputs(&batch));
    while !batch.is_empty() {
        let next = read_batch(reader, &mut line_number)?;
        // This batch is verified while the next is decoded, so that the serial parts of each
        // (the batch's final exponentiation, the tail of a bisection) leave no core idle.
        let (results, next_decoded) = rayon::join(
            || checker.verify_decoded(decoded, &mut rng),
            || checker.decode_many(&batch_inputs(&next)),
        );
        let checked = batch.iter().zip(results).map(|((number, line), result)| {
            // Only rejected lines are reported with their nullifier.
            let raw_nullifier = match (&result, line) {
                (Err(_), Ok(bytes)) => nullifier_of(trim_newline(bytes)),
                _ => None,
            };
            (*number, result, raw_nullifier)
        });
        for (number, result, raw_nullifier) in checked {
            lines_read += 1;
            let source = || format!("line {number}");
            match result {
                Ok((signature, sequence)) => {
                    let key = signature.nullifier_key();
                    if previous_key.is_some_and(|p| p > key) {
                        unsorted += 1;
                        first_unsorted.get_or_insert(number);
                    }
                    previous_key = Some(key);
                    if seen.insert(key) {
                        tally.add(&signature, sequence);
                    } else {
                        rejections.add(source(), raw_nullifier, &Rejection::DuplicateNullifier);
                    }
                }
                Err(rejection) => rejections.add(source(), raw_nullifier, &rejection),
            }
        }
        progress(lines_read);
        batch = next;
        decoded = next_decoded;
    }
    if let Some(first) = first_unsorted {
        problems.push(format!(
            "{unsorted} line(s) out of nullifier order, the first at line {first}: arrival order may leak"
        ));
    }
    let minimum = checker.petition().min_checkpoint();
    if header.checkpoints.len() as u64 <= minimum {
        problems.push(format!(
            "the bundle's checkpoint chain ends before checkpoint {minimum}, the first the \
             petition accepts: no signature can count"
        ));
    }
    if lines_read != header.signatures {
        problems.push(format!(
            "the header announces {} signatures but {} lines follow",
            header.signatures, lines_read
        ));
    }
    Ok(AuditReport {
        petition: checker.petition().id_hex(),
        title: checker.petition().fields().title.clone(),
        verifying_key_hash: checker.verifier().key_hash().to_owned(),
        verifying_key_pinned: options.pinned_vk_hash.is_some(),
        newest_checkpoint: header.checkpoints.last().map(|c| c.sequence),
        accepted_checkpoints: CheckpointWindow::of(checker.petition()),
        double_count_bound: checker.petition().double_count_bound(&header.checkpoints),
        count: tally.count,
        roots: tally.root_counts(&header.checkpoints),
        breakdown: tally.breakdown(&schema),
        groups: tally
            .groups
            .iter()
            .map(|(&(mask, codes), &count)| DisclosedGroup { mask, codes, count })
            .collect(),
        rejected_total: rejections.total,
        rejected_by_code: rejections.by_code,
        rejected: rejections.listed,
        problems,
        fatal: None,
    })
}

/// Rejections seen so far: all counted by code, the first [`MAX_LISTED_REJECTIONS`] listed, so
/// that a bundle of junk lines cannot exhaust the auditor's memory.
#[derive(Default)]
struct Rejections {
    total: u64,
    by_code: BTreeMap<&'static str, u64>,
    listed: Vec<RejectedEntry>,
}

impl Rejections {
    fn add(&mut self, source: String, nullifier: Option<String>, rejection: &Rejection) {
        self.total += 1;
        *self.by_code.entry(rejection.code()).or_insert(0) += 1;
        if self.listed.len() < MAX_LISTED_REJECTIONS {
            self.listed.push(entry(source, nullifier, rejection));
        }
    }
}

fn entry(source: String, nullifier: Option<String>, rejection: &Rejection) -> RejectedEntry {
    RejectedEntry {
        source,
        nullifier,
        code: rejection.code(),
        reason: rejection.to_string(),
    }
}

/// The `nullifier` string of a line, if it is JSON with one (for reporting rejected lines).
fn nullifier_of(line: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Only {
        nullifier: Option<String>,
    }
    serde_json::from_slice::<Only>(line)
        .ok()
        .and_then(|o| o.nullifier)
        .filter(|n| n.len() <= 80 && n.is_ascii())
}

fn trim_newline(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A CSPRNG for batch-verification coefficients, seeded from the operating system.
fn batch_rng() -> ChaCha20Rng {
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    ChaCha20Rng::from_seed(seed)
}

/// What [`read_line_limited`] found.
enum LineRead {
    /// End of input.
    Eof,
    /// A line (with its newline, if any) is in the buffer.
    Line,
    /// The line was longer than the limit; the rest of it has been skipped.
    TooLong,
}

/// One batch of signature lines read from a bundle: line number and bytes, or why the line
/// cannot be a signature. Empty at the end of the bundle.
type LineBatch = Vec<(u64, Result<Vec<u8>, String>)>;

/// Reads up to [`BATCH_LINES`] signature lines, numbering them on from `line_number`.
fn read_batch(reader: &mut impl BufRead, line_number: &mut u64) -> std::io::Result<LineBatch> {
    let mut batch = Vec::with_capacity(BATCH_LINES);
    while batch.len() < BATCH_LINES {
        let mut line = Vec::new();
        match read_line_limited(reader, &mut line, crate::signature::MAX_SIGNATURE_BYTES + 2)? {
            LineRead::Eof => break,
            LineRead::Line => {
                *line_number += 1;
                batch.push((*line_number, Ok(line)));
            }
            LineRead::TooLong => {
                *line_number += 1;
                batch.push((
                    *line_number,
                    Err("line longer than any signature".to_owned()),
                ));
            }
        }
    }
    Ok(batch)
}

/// A batch's lines as the checker takes them (newlines trimmed).
fn batch_inputs(batch: &LineBatch) -> Vec<Result<&[u8], String>> {
    batch
        .iter()
        .map(|(_, line)| line.as_ref().map(|b| trim_newline(b)).map_err(Clone::clone))
        .collect()
}

/// Reads one line of at most `limit` bytes (newline included). A longer line is skipped up to
/// and including its newline, and only that line.
fn read_line_limited(
    reader: &mut impl BufRead,
    out: &mut Vec<u8>,
    limit: usize,
) -> std::io::Result<LineRead> {
    let limited: &mut dyn BufRead = reader;
    let n = std::io::Read::take(limited, limit as u64 + 1).read_until(b'\n', out)?;
    if n == 0 {
        return Ok(LineRead::Eof);
    }
    if n > limit {
        if out.last() != Some(&b'\n') {
            skip_rest_of_line(reader)?;
        }
        out.clear();
        return Ok(LineRead::TooLong);
    }
    Ok(LineRead::Line)
}

fn skip_rest_of_line(reader: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        if let Some(pos) = buf.iter().position(|&b| b == b'\n') {
            reader.consume(pos + 1);
            return Ok(());
        }
        let len = buf.len();
        reader.consume(len);
    }
}

/// What [`build`] kept and dropped.
pub struct BuildOutcome {
    /// Accepted signatures, one per nullifier, sorted by nullifier.
    pub accepted: Vec<Signature>,
    /// Dropped inputs: (source, rejection).
    pub dropped: Vec<RejectedEntry>,
    /// Newest checkpoint sequence any accepted signature uses.
    pub newest_checkpoint: Option<u64>,
}

/// Checks loose signatures (`(source name, bytes)`) in parallel, keeps one per nullifier, sorts
/// by nullifier so arrival order does not survive.
pub fn build(checker: &Checker, inputs: Vec<(String, Vec<u8>)>) -> BuildOutcome {
    let lines: Vec<Result<&[u8], String>> =
        inputs.iter().map(|(_, bytes)| Ok(&bytes[..])).collect();
    let results = checker.check_many(&lines, &mut batch_rng());
    let checked = inputs.iter().zip(results).map(|((source, bytes), result)| {
        let nullifier = if result.is_err() {
            nullifier_of(bytes)
        } else {
            None
        };
        (source.clone(), result, nullifier)
    });
    let mut valid = Vec::new();
    let mut dropped = Vec::new();
    for (source, result, nullifier) in checked {
        match result {
            Ok((signature, sequence)) => valid.push((
                signature.nullifier_key(),
                signature.to_json_line(),
                signature,
                sequence,
                source,
            )),
            Err(rejection) => dropped.push(entry(source, nullifier, &rejection)),
        }
    }
    // Deterministic choice among duplicates, whatever the arrival order: by nullifier, then by
    // the signature's own JSON line.
    valid.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut accepted: Vec<Signature> = Vec::with_capacity(valid.len());
    let mut newest = None;
    for (key, _, signature, sequence, source) in valid {
        if accepted
            .last()
            .is_some_and(|last| last.nullifier_key() == key)
        {
            let nullifier = Some(undersign_core::field::to_hex(&signature.nullifier));
            dropped.push(entry(source, nullifier, &Rejection::DuplicateNullifier));
        } else {
            newest = newest.max(Some(sequence));
            accepted.push(signature);
        }
    }
    BuildOutcome {
        accepted,
        dropped,
        newest_checkpoint: newest,
    }
}

/// Writes a bundle: the header (with `checkpoints` up to `newest`), then one line per signature.
pub fn write_bundle(
    out: &mut impl Write,
    petition: &PetitionFile,
    schema: &Schema,
    checkpoints: &[Checkpoint],
    verifier: &Verifier,
    signatures: &[Signature],
) -> Result<(), BundleError> {
    write_bundle_header(
        out,
        petition,
        schema,
        checkpoints,
        verifier,
        signatures.len() as u64,
    )?;
    for signature in signatures {
        out.write_all(signature.to_json_line().as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes only a bundle's header line (announcing `signatures` lines), for writers that stream
/// the signature lines (each [`Signature::to_json_line`] and `\n`) themselves, in nullifier order.
pub fn write_bundle_header(
    out: &mut impl Write,
    petition: &PetitionFile,
    schema: &Schema,
    checkpoints: &[Checkpoint],
    verifier: &Verifier,
    signatures: u64,
) -> Result<(), BundleError> {
    let petition_file = String::from_utf8(petition.bytes().to_vec())
        .map_err(|_| BundleError::Header("the petition file is not UTF-8".into()))?;
    let schema_value: serde_json::Value = serde_json::from_str(&schema.to_json_pretty())
        .map_err(|e| BundleError::Header(e.to_string()))?;
    let header = BundleHeader {
        version: 1,
        kind: KIND.into(),
        petition_file,
        schema: schema_value,
        checkpoints: checkpoints.to_vec(),
        verifying_key: hex::encode(verifying_key_to_bytes(verifier.verifying_key())),
        verifying_key_hash: verifier.key_hash().to_owned(),
        signatures,
    };
    serde_json::to_writer(&mut *out, &header).map_err(|e| BundleError::Header(e.to_string()))?;
    out.write_all(b"\n")?;
    Ok(())
}
