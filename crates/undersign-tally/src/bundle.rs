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
/// Distinct comment texts an audit tracks (in line order); further texts are only counted in
/// [`AuditReport::comments_total`], so that a bundle of distinct comments cannot exhaust the
/// auditor's memory.
pub const MAX_DISTINCT_COMMENTS: usize = 10_000;
/// Longest accepted header line (a petition of 100 kB plus checkpoints fits easily).
pub const MAX_HEADER_BYTES: usize = 16 << 20;

/// Version of the `audit --json` report's format (`SPEC.md` §15.4), its `report_version` key.
pub const REPORT_VERSION: u32 = 1;

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
    /// The registry's schema, as embedded (writers embed its canonical JSON; auditors hash the
    /// canonical JSON of the parsed schema, never these bytes).
    pub schema: Box<serde_json::value::RawValue>,
    /// The checkpoint chain from sequence 0 to the newest one used.
    #[serde(deserialize_with = "undersign_registry::json::objects")]
    pub checkpoints: Vec<Checkpoint>,
    /// The verifying key, hex of its compressed encoding.
    pub verifying_key: String,
    /// blake3 of the verifying key bytes.
    pub verifying_key_hash: String,
    /// Number of signature lines that follow.
    pub signatures: u64,
}

/// Errors that stop an audit before any report (unreadable input: `undersign audit` exits 2),
/// or a write.
#[derive(Debug, Error)]
pub enum BundleError {
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The bundle is empty.
    #[error("the bundle is empty (no header line)")]
    Empty,
    /// The header could not be written.
    #[error("bundle header: {0}")]
    Header(String),
    /// The petition to write is not valid.
    #[error("bundle header: embedded petition: {0}")]
    Petition(#[from] PetitionError),
}

/// A problem with the bundle as a whole, or the fatal problem with its header: a stable code
/// (`SPEC.md` §15.4) and a plain-language message (informative, not part of the format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Stable code.
    pub code: &'static str,
    /// What is wrong, in words.
    pub message: String,
}

impl Problem {
    /// A problem with `code` (one of [`FATAL_CODES`] or [`PROBLEM_CODES`]) and `message`.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        debug_assert!(
            FATAL_CODES.contains(&code) || PROBLEM_CODES.contains(&code),
            "{code} is not a code of SPEC.md §15.1 or §15.3"
        );
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Codes of the fatal header problems, in the order they are checked (`SPEC.md` §15.1).
pub const FATAL_CODES: [&str; 12] = [
    "header_too_long",
    "header_malformed",
    "petition_invalid",
    "schema_invalid",
    "verifying_key_invalid",
    "verifying_key_hash_mismatch",
    "verifying_key_not_pinned",
    "verifying_key_not_petition",
    "registrar_key_mismatch",
    "chain_invalid",
    "min_checkpoint_hash_mismatch",
    "schema_not_signed",
];

/// Codes of the problems with a bundle whose header is sound (`SPEC.md` §15.3).
pub const PROBLEM_CODES: [&str; 3] = [
    "out_of_order",
    "chain_ends_before_minimum",
    "signature_count_mismatch",
];

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

/// Accepted signatures that carry the same comment (public text, shown as written).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommentCount {
    /// The comment.
    pub text: String,
    /// Accepted signatures with exactly this comment.
    pub count: u64,
}

/// Comments of accepted signatures, grouped by exact text: the first
/// [`MAX_DISTINCT_COMMENTS`] distinct texts in line order are tracked.
#[derive(Debug, Default)]
struct Comments {
    counts: std::collections::HashMap<String, u64>,
    total: u64,
}

impl Comments {
    fn add(&mut self, comment: Option<&str>) {
        let Some(text) = comment else {
            return;
        };
        self.total += 1;
        if let Some(count) = self.counts.get_mut(text) {
            *count += 1;
        } else if self.counts.len() < MAX_DISTINCT_COMMENTS {
            self.counts.insert(text.to_owned(), 1);
        }
    }

    /// Most frequent first, then by the text's bytes.
    fn listed(self) -> Vec<CommentCount> {
        let mut listed: Vec<CommentCount> = self
            .counts
            .into_iter()
            .map(|(text, count)| CommentCount { text, count })
            .collect();
        listed.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.text.cmp(&b.text)));
        listed
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

/// One rejected line of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedLine {
    /// Its line number in the bundle (the header is line 1).
    pub line: u64,
    /// Stable reason code.
    pub code: &'static str,
    /// The canonical hex of its nullifier when the line is a well-formed signature (every code
    /// but `malformed`), else `None`.
    pub nullifier: Option<String>,
    /// Plain-language reason (informative).
    pub reason: String,
}

/// One signature file dropped by [`build`].
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

/// The result of an audit: `undersign audit --json` prints it (`SPEC.md` §15.4).
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// [`REPORT_VERSION`].
    pub report_version: u32,
    /// Whether everything checked out: nothing rejected, no problem, no fatal problem.
    pub valid: bool,
    /// Petition id (blake3 of the embedded petition file), if the header could be read.
    pub petition: Option<String>,
    /// Petition title, if the embedded petition is valid.
    pub title: Option<String>,
    /// The registry id the petition names, if the embedded petition is valid.
    pub registry: Option<String>,
    /// blake3 of the embedded verifying key's bytes (computed, never the header's claim), if
    /// they are lowercase hex.
    pub verifying_key_hash: Option<String>,
    /// Whether the auditor pinned that hash (`--vk-hash`). Unpinned, the count is only as
    /// trustworthy as whoever made the keys.
    pub verifying_key_pinned: bool,
    /// Newest checkpoint sequence in the bundle.
    pub newest_checkpoint: Option<u64>,
    /// The checkpoints whose roots the petition accepts (if the petition is valid).
    pub accepted_checkpoints: Option<CheckpointWindow>,
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
    /// Accepted signatures with a comment (`comment` not null).
    pub comments_total: u64,
    /// Their comments grouped by exact text, most frequent first, then by text (the first
    /// [`MAX_DISTINCT_COMMENTS`] distinct texts in line order).
    pub comments: Vec<CommentCount>,
    /// Rejected lines with their reasons (the first [`MAX_LISTED_REJECTIONS`]), in line order.
    pub rejected: Vec<RejectedLine>,
    /// Number of rejected lines.
    pub rejected_total: u64,
    /// Number of rejected lines per reason code.
    pub rejected_by_code: BTreeMap<&'static str, u64>,
    /// Problems with the bundle as a whole (order, line count, a chain that ends too early).
    pub problems: Vec<Problem>,
    /// Set when the header itself is invalid: then nothing is counted.
    pub fatal: Option<Problem>,
}

impl AuditReport {
    /// The report of an audit stopped before the bundle's header was read (e.g. a ceremony
    /// transcript that does not verify): `problem`, nothing counted, nothing known.
    pub fn fatal_before_header(problem: Problem, pinned: bool) -> Self {
        Self::fatal(KnownHeader::default(), problem, pinned)
    }

    /// The report of an audit whose header is fatally wrong: nothing counted, and what could
    /// be read of the header.
    fn fatal(known: KnownHeader, problem: Problem, pinned: bool) -> Self {
        Self {
            report_version: REPORT_VERSION,
            valid: false,
            petition: known.petition,
            title: known.title,
            registry: known.registry,
            verifying_key_hash: known.verifying_key_hash,
            verifying_key_pinned: pinned,
            newest_checkpoint: known.newest_checkpoint,
            accepted_checkpoints: known.window,
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
            comments_total: 0,
            comments: Vec::new(),
            rejected: Vec::new(),
            rejected_total: 0,
            rejected_by_code: BTreeMap::new(),
            problems: Vec::new(),
            fatal: Some(problem),
        }
    }
}

/// What could be read of a header that failed: reported beside the fatal problem.
#[derive(Debug, Clone, Default)]
pub struct KnownHeader {
    /// blake3 of the embedded petition file.
    pub petition: Option<String>,
    /// The petition's title, if it is valid.
    pub title: Option<String>,
    /// The registry id the petition names, if it is valid.
    pub registry: Option<String>,
    /// blake3 of the embedded verifying key bytes.
    pub verifying_key_hash: Option<String>,
    /// The newest checkpoint's sequence.
    pub newest_checkpoint: Option<u64>,
    /// The petition's window, if it is valid.
    pub window: Option<CheckpointWindow>,
}

/// A header that failed a check: the problem and what could be read before it.
#[derive(Debug, Clone)]
pub struct FatalHeader {
    /// The fatal problem (one of [`FATAL_CODES`]).
    pub problem: Problem,
    /// What was read.
    pub known: KnownHeader,
}

/// What the auditor trusts: the registrar's key and, optionally, a verifying key hash.
pub struct AuditOptions {
    /// The registrar's public key.
    pub registrar_key: RegistrarPublicKey,
    /// Expected verifying key hash, if pinned.
    pub pinned_vk_hash: Option<String>,
    /// Which code checks the proofs (`audit --reference`: arkworks' own).
    pub verifier: crate::check::VerifierMode,
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

/// Parses and checks the header line (`SPEC.md` §15.1), in the order of [`FATAL_CODES`].
pub fn open_header(line: &[u8], options: &AuditOptions) -> Result<OpenedBundle, Box<FatalHeader>> {
    let mut known = KnownHeader::default();
    macro_rules! fatal {
        ($code:expr, $($message:tt)*) => {
            return Err(Box::new(FatalHeader {
                problem: Problem::new($code, format!($($message)*)),
                known,
            }))
        };
    }
    let header: BundleHeader = match undersign_registry::json::from_slice(line) {
        Ok(header) => header,
        Err(e) => fatal!("header_malformed", "{}", header_shape_error(line, &e)),
    };
    if header.version != 1 {
        fatal!(
            "header_malformed",
            "unsupported bundle version {}",
            header.version
        );
    }
    if header.kind != KIND {
        fatal!(
            "header_malformed",
            "the first line is an {:?}, not a bundle header",
            header.kind
        );
    }
    known.petition = Some(
        blake3::hash(header.petition_file.as_bytes())
            .to_hex()
            .to_string(),
    );
    known.newest_checkpoint = header.checkpoints.last().map(|c| c.sequence);
    known.verifying_key_hash = decode_lower_hex(&header.verifying_key)
        .ok()
        .map(|bytes| blake3::hash(&bytes).to_hex().to_string());
    let petition = match PetitionFile::parse(header.petition_file.as_bytes().to_vec()) {
        Ok(petition) => petition,
        Err(e) => fatal!("petition_invalid", "embedded petition: {e}"),
    };
    known.title = Some(petition.fields().title.clone());
    known.registry = Some(hex::encode(petition.registry()));
    known.window = Some(CheckpointWindow::of(&petition));
    let schema = match Schema::from_json(header.schema.get().as_bytes()) {
        Ok(schema) => schema,
        Err(e) => fatal!("schema_invalid", "embedded schema: {e}"),
    };
    let verifier = match decode_lower_hex(&header.verifying_key)
        .map_err(|e| e.to_string())
        .and_then(|bytes| verifying_key_from_bytes(&bytes).map_err(|e| e.to_string()))
        .and_then(|vk| Verifier::new(vk).map_err(|e| e.to_string()))
    {
        Ok(verifier) => verifier,
        Err(e) => fatal!("verifying_key_invalid", "verifying_key: {e}"),
    };
    if verifier.key_hash() != header.verifying_key_hash {
        fatal!(
            "verifying_key_hash_mismatch",
            "verifying key hash is {}, but the header claims {}",
            verifier.key_hash(),
            header.verifying_key_hash
        );
    }
    if let Some(pinned) = &options.pinned_vk_hash {
        if verifier.key_hash() != pinned {
            fatal!(
                "verifying_key_not_pinned",
                "verifying key {} is not the pinned key {pinned}",
                verifier.key_hash()
            );
        }
    }
    if verifier.key_hash() != petition.verifying_key_hash() {
        fatal!(
            "verifying_key_not_petition",
            "the bundle's verifying key {} is not the key the petition names ({})",
            verifier.key_hash(),
            petition.verifying_key_hash()
        );
    }
    if petition.registrar_key() != &options.registrar_key {
        fatal!(
            "registrar_key_mismatch",
            "the petition names registrar key {}, not the given {}",
            petition.registrar_key().to_hex(),
            options.registrar_key.to_hex()
        );
    }
    if let Err(e) = verify_chain(
        &header.checkpoints,
        &options.registrar_key,
        &petition.registry(),
    ) {
        fatal!("chain_invalid", "checkpoint chain: {e}");
    }
    if let Err(reason) = petition.check_chain(&header.checkpoints) {
        fatal!("min_checkpoint_hash_mismatch", "checkpoint chain: {reason}");
    }
    let schema_hash = schema.hash();
    if let Some(cp) = header
        .checkpoints
        .iter()
        .find(|cp| cp.schema != schema_hash)
    {
        fatal!(
            "schema_not_signed",
            "the embedded schema is not the one the registrar signed in checkpoint {}",
            cp.sequence
        );
    }
    let checker = Checker::new(petition, &header.checkpoints, verifier).with_mode(options.verifier);
    Ok(OpenedBundle {
        checker,
        schema,
        header,
    })
}

/// Why a first line is not a bundle header, in words: names another Undersign file's kind
/// (`audit signature.json`), else serde's reason.
fn header_shape_error(line: &[u8], error: &serde_json::Error) -> String {
    #[derive(Deserialize)]
    struct KindOnly {
        kind: String,
    }
    match serde_json::from_slice::<KindOnly>(line) {
        Ok(KindOnly { kind }) if kind != KIND && kind.starts_with("undersign-") => format!(
            "the first line is an {kind:?} file, not a bundle header: `audit` wants a bundle \
             (made by `undersign bundle build`)"
        ),
        _ if line.is_empty() => "the first line is empty, not a bundle header".to_owned(),
        _ => format!("the first line is not a bundle header: {error}"),
    }
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
    let pinned = options.pinned_vk_hash.is_some();
    let opened = match read_line_limited(reader, &mut first, MAX_HEADER_BYTES)? {
        LineRead::Eof => return Err(BundleError::Empty),
        LineRead::TooLong => Err(Box::new(FatalHeader {
            problem: Problem::new(
                "header_too_long",
                format!("the header line is longer than {MAX_HEADER_BYTES} bytes"),
            ),
            known: KnownHeader::default(),
        })),
        LineRead::Line => open_header(trim_newline(&first), options),
    };
    let opened = match opened {
        Ok(opened) => opened,
        Err(fatal) => {
            let FatalHeader { problem, known } = *fatal;
            return Ok(AuditReport::fatal(known, problem, pinned));
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
    let mut comments = Comments::default();
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
        for ((number, line), result) in batch.iter().zip(results) {
            lines_read += 1;
            match result {
                Ok((signature, sequence)) => {
                    let key = signature.nullifier_key();
                    if previous_key.is_some_and(|p| p > key) {
                        unsorted += 1;
                        first_unsorted.get_or_insert(*number);
                    }
                    previous_key = Some(key);
                    if seen.insert(key) {
                        tally.add(&signature, sequence);
                        comments.add(signature.comment.as_deref());
                    } else {
                        let nullifier =
                            || Some(undersign_core::field::to_hex(&signature.nullifier));
                        rejections.add(*number, nullifier, &Rejection::DuplicateNullifier);
                    }
                }
                Err(rejection) => {
                    // A line rejected after parsing names its (canonical) nullifier; it is
                    // parsed again only if it is listed.
                    let nullifier = || match (&rejection, line) {
                        (Rejection::Malformed(_), _) | (_, Err(_)) => None,
                        (_, Ok(bytes)) => Signature::from_json(trim_newline(bytes))
                            .ok()
                            .map(|s| undersign_core::field::to_hex(&s.nullifier)),
                    };
                    rejections.add(*number, nullifier, &rejection)
                }
            }
        }
        progress(lines_read);
        batch = next;
        decoded = next_decoded;
    }
    if let Some(first) = first_unsorted {
        problems.push(Problem::new(
            "out_of_order",
            format!(
                "{} out of nullifier order, the first at line {first}: arrival order may leak",
                count_noun(unsorted, "line", "lines")
            ),
        ));
    }
    let minimum = checker.petition().min_checkpoint();
    if header.checkpoints.len() as u64 <= minimum {
        problems.push(Problem::new(
            "chain_ends_before_minimum",
            format!(
                "the bundle's checkpoint chain ends before checkpoint {minimum}, the first the \
                 petition accepts: no signature can count"
            ),
        ));
    }
    if lines_read != header.signatures {
        problems.push(Problem::new(
            "signature_count_mismatch",
            format!(
                "the header announces {} but {} {} follow",
                count_noun(header.signatures, "signature", "signatures"),
                lines_read,
                if lines_read == 1 { "line" } else { "lines" }
            ),
        ));
    }
    let valid = rejections.total == 0 && problems.is_empty();
    Ok(AuditReport {
        report_version: REPORT_VERSION,
        valid,
        petition: Some(checker.petition().id_hex()),
        title: Some(checker.petition().fields().title.clone()),
        registry: Some(hex::encode(checker.petition().registry())),
        verifying_key_hash: Some(checker.verifier().key_hash().to_owned()),
        verifying_key_pinned: pinned,
        newest_checkpoint: header.checkpoints.last().map(|c| c.sequence),
        accepted_checkpoints: Some(CheckpointWindow::of(checker.petition())),
        double_count_bound: checker.petition().double_count_bound(&header.checkpoints),
        count: tally.count,
        roots: tally.root_counts(&header.checkpoints),
        breakdown: tally.breakdown(&schema),
        groups: tally
            .groups
            .iter()
            .map(|(&(mask, codes), &count)| DisclosedGroup { mask, codes, count })
            .collect(),
        comments_total: comments.total,
        comments: comments.listed(),
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
    listed: Vec<RejectedLine>,
}

impl Rejections {
    /// Counts a rejected line; `nullifier` is asked for only if the line is listed.
    fn add(
        &mut self,
        line: u64,
        nullifier: impl FnOnce() -> Option<String>,
        rejection: &Rejection,
    ) {
        self.total += 1;
        *self.by_code.entry(rejection.code()).or_insert(0) += 1;
        if self.listed.len() < MAX_LISTED_REJECTIONS {
            self.listed.push(RejectedLine {
                line,
                code: rejection.code(),
                nullifier: nullifier(),
                reason: rejection.to_string(),
            });
        }
    }
}

/// "1 line", "3 lines".
fn count_noun(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
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
    // The canonical JSON (`SPEC.md` §12), so the embedded bytes are the ones the registrar
    // hashed.
    let canonical = String::from_utf8(schema.canonical_json())
        .map_err(|_| BundleError::Header("the schema is not UTF-8".into()))?;
    let schema_json = serde_json::value::RawValue::from_string(canonical)
        .map_err(|e| BundleError::Header(e.to_string()))?;
    let header = BundleHeader {
        version: 1,
        kind: KIND.into(),
        petition_file,
        schema: schema_json,
        checkpoints: checkpoints.to_vec(),
        verifying_key: hex::encode(verifying_key_to_bytes(verifier.verifying_key())),
        verifying_key_hash: verifier.key_hash().to_owned(),
        signatures,
    };
    serde_json::to_writer(&mut *out, &header).map_err(|e| BundleError::Header(e.to_string()))?;
    out.write_all(b"\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_line_that_is_not_a_header_is_described() {
        let error = serde_json::from_slice::<serde_json::Value>(b"{").unwrap_err();
        let text = |line: &[u8]| header_shape_error(line, &error);
        assert!(
            text(br#"{"kind":"undersign-signature"}"#)
                .starts_with("the first line is an \"undersign-signature\" file"),
            "{}",
            text(br#"{"kind":"undersign-signature"}"#)
        );
        // A bundle's own kind, or a kind that is not ours, is not named as another file.
        for line in [
            format!(r#"{{"kind":"{KIND}"}}"#).into_bytes(),
            br#"{"kind":"signature"}"#.to_vec(),
            b"[1]".to_vec(),
        ] {
            assert!(
                text(&line).starts_with("the first line is not a bundle header: "),
                "{}",
                text(&line)
            );
        }
        assert_eq!(text(b""), "the first line is empty, not a bundle header");
    }

    #[test]
    fn comments_are_grouped_by_text_most_frequent_first_and_bounded() {
        let mut comments = Comments::default();
        for text in [
            Some("b"),
            None,
            Some("a"),
            Some("b"),
            Some("c"),
            Some("a"),
            Some("b"),
        ] {
            comments.add(text);
        }
        assert_eq!(comments.total, 6);
        let listed: Vec<(String, u64)> = comments
            .listed()
            .into_iter()
            .map(|c| (c.text, c.count))
            .collect();
        assert_eq!(
            listed,
            [("b".into(), 3), ("a".into(), 2), ("c".into(), 1)],
            "count descending, then text"
        );

        // Distinct texts beyond the bound are counted, not kept; known ones still count.
        let mut comments = Comments::default();
        for i in 0..MAX_DISTINCT_COMMENTS + 5 {
            comments.add(Some(&format!("c{i}")));
        }
        comments.add(Some("c0"));
        assert_eq!(comments.total, MAX_DISTINCT_COMMENTS as u64 + 6);
        let listed = comments.listed();
        assert_eq!(listed.len(), MAX_DISTINCT_COMMENTS);
        assert_eq!((listed[0].text.as_str(), listed[0].count), ("c0", 2));
    }
}
