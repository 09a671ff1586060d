//! The conformance vectors of `tests/vectors` (issue 27): bundles any implementation of
//! `SPEC.md` audits, each with the outcome it is built to produce.
//!
//! Everything is deterministic: one seeded ChaCha20 generator for identities and proof
//! randomness, a development key set from a fixed seed, fixed times, registry id, registrar key
//! and nonces. Header lines, checkpoints, petitions and signature lines are written here as
//! JSON text (not through the library's writers), so the vectors change only when this file
//! does. The library is used for what the protocol defines: hashes, Poseidon, Merkle trees,
//! proofs, the schema's canonical JSON and Ed25519 signatures.
//!
//! [`generate`] writes `bundles/*.jsonl` and `manifest.json`; the expected reports
//! (`expected/*.json`) are written by `tests/conformance.rs` with `UNDERSIGN_BLESS_VECTORS=1`.
//! Each manifest entry carries an **intent** (valid, count, fatal code, problem codes and the
//! rejected lines with their codes) stated from what the vector is built to test, so the
//! conformance test checks the auditor's report against it, not only against a blessed copy.

use ark_bn254::{Fq, Fq2, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{BigInteger, One, PrimeField, Zero};
use ark_serialize::CanonicalSerialize;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
use undersign_core::attributes::{Attributes, Mask};
use undersign_core::field;
use undersign_core::identity::{member_leaf, IdentitySecret};
use undersign_core::merkle::MerkleTree;
use undersign_core::scope::message;
use undersign_core::Fr;
use undersign_proof::encoding::{verifying_key_to_bytes, ProofBytes};
use undersign_proof::{KeySet, Prover, Statement, VerifyingKey};
use undersign_registry::checkpoint::{Checkpoint, CheckpointFields};
use undersign_registry::registrar::RegistrarKey;
use undersign_registry::schema::{Schema, SlotSchema};
use undersign_tally::petition::PetitionFile;

/// Files to write: path relative to the vectors directory, and bytes.
pub type Files = Vec<(String, Vec<u8>)>;

/// A fatal-header vector: name, what it tests, bundle bytes, arguments, fatal code.
type FatalCase = (
    &'static str,
    &'static str,
    Vec<u8>,
    Vec<String>,
    &'static str,
);

/// Any error of the generator.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Tree depth of every vector (small keys, fast proofs).
pub const DEPTH: u32 = 4;
/// Longest signature line (`SPEC.md` §15), after dropping `\n` and one trailing `\r`.
pub const MAX_LINE: usize = 4096;
/// Longest header line (`SPEC.md` §15).
pub const MAX_HEADER: usize = 16 << 20;
/// Seed of the development key set.
pub const KEY_SEED: [u8; 32] = [0x27; 32];
/// Seed of the registrar's Ed25519 key (the one registrar of every vector).
pub const REGISTRAR_SECRET: [u8; 32] = [0x5e; 32];
/// Seed of another registrar's key (chains signed by the wrong key, `--registrar-key` mismatch).
pub const OTHER_REGISTRAR_SECRET: [u8; 32] = [0x5f; 32];
/// The registry id.
pub const REGISTRY_ID: [u8; 32] = [0x52; 32];
/// Time of checkpoint 0; each next checkpoint is one day later.
pub const TIME0: u64 = 1_800_000_000;
const DAY: u64 = 86_400;
/// Seed of the generator of identities and proof randomness.
pub const RNG_SEED: u64 = 27;

/// The BN254 scalar field modulus `r`, big-endian.
const R_BE: &str = "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001";

/// What a vector is built to produce (`tests/vectors/README.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    /// `valid` of the report: nothing rejected, no problem, nothing fatal.
    pub valid: bool,
    /// Accepted signatures.
    pub count: u64,
    /// The fatal header problem's code, if any.
    pub fatal: Option<&'static str>,
    /// Codes of the bundle problems (a fatal problem aside), sorted.
    pub problems: Vec<&'static str>,
    /// Rejected lines (line numbers count the header as 1) and their codes, in line order.
    pub rejected: Vec<(u64, &'static str)>,
}

impl Intent {
    fn counts(count: u64) -> Self {
        Self {
            valid: true,
            count,
            fatal: None,
            problems: Vec::new(),
            rejected: Vec::new(),
        }
    }

    fn reject(mut self, line: u64, code: &'static str) -> Self {
        self.valid = false;
        self.rejected.push((line, code));
        self
    }

    fn problem(mut self, code: &'static str) -> Self {
        self.valid = false;
        self.problems.push(code);
        self.problems.sort_unstable();
        self
    }

    fn fatal(code: &'static str) -> Self {
        Self {
            valid: false,
            count: 0,
            fatal: Some(code),
            problems: Vec::new(),
            rejected: Vec::new(),
        }
    }

    fn to_json(&self) -> String {
        let problems: Vec<String> = self.problems.iter().map(|p| js(p)).collect();
        let rejected: Vec<String> = self
            .rejected
            .iter()
            .map(|(line, code)| format!("[{line}, {}]", js(code)))
            .collect();
        format!(
            "{{\"valid\": {}, \"count\": {}, \"fatal\": {}, \"problems\": [{}], \"rejected\": [{}]}}",
            self.valid,
            self.count,
            self.fatal.map_or("null".to_owned(), js),
            problems.join(", "),
            rejected.join(", ")
        )
    }
}

/// One manifest entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Unique name; the bundle is usually `bundles/<name>.jsonl`.
    pub name: String,
    /// One sentence: what it tests, with the SPEC section.
    pub tests: String,
    /// The bundle's path relative to `tests/vectors`.
    pub bundle: String,
    /// Arguments after the bundle path.
    pub args: Vec<String>,
    /// Expected exit status.
    pub exit: u8,
    /// `expected/<name>.json`, or `None` when the auditor prints no report (exit 2).
    pub expected: Option<String>,
    /// What the report must say; `None` for exit 2.
    pub intent: Option<Intent>,
}

/// Writes every vector into `dir` (`bundles/*.jsonl`, `manifest.json`), removing stale
/// `bundles/*.jsonl`. Returns the number of manifest entries.
pub fn generate(dir: &Path) -> Result<usize, Error> {
    let (files, entries) = build()?;
    let bundles = dir.join("bundles");
    std::fs::create_dir_all(&bundles)?;
    std::fs::create_dir_all(dir.join("expected"))?;
    let fresh: BTreeSet<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    for item in std::fs::read_dir(&bundles)? {
        let path = item?.path();
        let rel = format!(
            "bundles/{}",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("")
        );
        if rel.ends_with(".jsonl") && !fresh.contains(rel.as_str()) {
            std::fs::remove_file(&path)?;
        }
    }
    for (rel, bytes) in &files {
        let path = dir.join(rel);
        if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
            std::fs::write(&path, bytes)?;
        }
    }
    std::fs::write(dir.join("manifest.json"), manifest_json(&entries))?;
    Ok(entries.len())
}

/// The files (path relative to the vectors directory, bytes) and the manifest entries.
pub fn build() -> Result<(Files, Vec<Entry>), Error> {
    let mut g = Gen::new()?;
    g.vectors()?;
    Ok((g.out.files, g.out.entries))
}

fn manifest_json(entries: &[Entry]) -> String {
    let mut out = String::from("[\n");
    for (i, e) in entries.iter().enumerate() {
        let args: Vec<String> = e.args.iter().map(|a| js(a)).collect();
        let _ = write!(
            out,
            "  {{\n    \"name\": {},\n    \"tests\": {},\n    \"bundle\": {},\n    \"args\": [{}],\n    \"exit\": {},\n    \"expected\": {},\n    \"intent\": {}\n  }}{}\n",
            js(&e.name),
            js(&e.tests),
            js(&e.bundle),
            args.join(", "),
            e.exit,
            e.expected.as_deref().map_or("null".to_owned(), js),
            e.intent.as_ref().map_or("null".to_owned(), Intent::to_json),
            if i + 1 == entries.len() { "" } else { "," }
        );
    }
    out.push_str("]\n");
    out
}

// ---------------------------------------------------------------------------------------------
// JSON text

/// A JSON object as (key, raw JSON value) pairs, in order; duplicates are kept.
#[derive(Debug, Clone)]
struct Obj(Vec<(String, String)>);

impl Obj {
    fn new() -> Self {
        Obj(Vec::new())
    }

    fn with(mut self, key: &str, raw: impl Into<String>) -> Self {
        self.0.push((key.to_owned(), raw.into()));
        self
    }

    fn set(mut self, key: &str, raw: impl Into<String>) -> Self {
        let raw = raw.into();
        let slot = self
            .0
            .iter_mut()
            .find(|(k, _)| k == key)
            .unwrap_or_else(|| panic!("no field {key}"));
        slot.1 = raw;
        self
    }

    fn get(&self, key: &str) -> &str {
        &self
            .0
            .iter()
            .find(|(k, _)| k == key)
            .unwrap_or_else(|| panic!("no field {key}"))
            .1
    }

    /// The value of a string field (no escapes in what this generator writes by default).
    fn get_str(&self, key: &str) -> String {
        serde_json::from_str(self.get(key)).expect("a JSON string")
    }

    fn without(mut self, key: &str) -> Self {
        self.0.retain(|(k, _)| k != key);
        self
    }

    /// Repeats `key` (same value) right after its first occurrence.
    fn duplicated(mut self, key: &str) -> Self {
        let i = self.0.iter().position(|(k, _)| k == key).expect("field");
        let copy = self.0[i].clone();
        self.0.insert(i + 1, copy);
        self
    }

    fn reversed(mut self) -> Self {
        self.0.reverse();
        self
    }

    fn compact(&self) -> String {
        self.render(":", ",", "", "", js)
    }

    fn render(
        &self,
        colon: &str,
        comma: &str,
        open: &str,
        close: &str,
        key: fn(&str) -> String,
    ) -> String {
        let body: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| format!("{}{colon}{v}", key(k)))
            .collect();
        format!("{{{open}{}{close}}}", body.join(comma))
    }

    fn pretty(&self) -> String {
        let body: Vec<String> = self
            .0
            .iter()
            .map(|(k, v)| format!("  {}: {v}", js(k)))
            .collect();
        format!("{{\n{}\n}}", body.join(",\n"))
    }

    /// The values as a JSON array (serde's sequence form of a struct).
    fn array(&self) -> String {
        let values: Vec<&str> = self.0.iter().map(|(_, v)| v.as_str()).collect();
        format!("[{}]", values.join(","))
    }
}

/// A JSON string with serde_json's escaping: `"`, `\` and control characters only.
fn js(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

/// A JSON string with every non-ASCII and control character as `\uXXXX` (upper-case hex,
/// surrogate pairs above U+FFFF) and `/` as `\/`.
fn js_ascii(s: &str) -> String {
    escaped(s, false)
}

/// A JSON string with every character as `\uXXXX`.
fn js_all(s: &str) -> String {
    escaped(s, true)
}

fn escaped(s: &str, all: bool) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' if !all => out.push_str("\\\""),
            '\\' if !all => out.push_str("\\\\"),
            '/' if !all => out.push_str("\\/"),
            c if all || (c as u32) < 0x20 || !c.is_ascii() => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04X}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `line` with spaces after its opening `{` so that it is exactly `len` bytes.
fn pad_to(line: &str, len: usize) -> String {
    assert!(line.starts_with('{') && line.len() <= len, "cannot pad");
    format!("{{{}{}", " ".repeat(len - line.len()), &line[1..])
}

/// Header line and signature lines, each followed by `\n`.
fn join_lines(header: &str, lines: &[String]) -> Vec<u8> {
    let mut out = String::with_capacity(header.len() + 1);
    out.push_str(header);
    out.push('\n');
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
    out.into_bytes()
}

/// `text` with `from` replaced once; panics if `from` is absent.
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} not in {text:?}");
    text.replacen(from, to, 1)
}

/// `0x…` + r: the same residue, not canonical.
fn plus_r(canonical: &str) -> String {
    let x = hex::decode(&canonical[2..]).expect("hex");
    let r = hex::decode(R_BE).expect("hex");
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in (0..32).rev() {
        let sum = u16::from(x[i]) + u16::from(r[i]) + carry;
        out[i] = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
    format!("0x{}", hex::encode(out))
}

fn hex_of_str(raw: &str) -> Vec<u8> {
    let s: String = serde_json::from_str(raw).expect("a JSON string");
    hex::decode(s).expect("hex")
}

// ---------------------------------------------------------------------------------------------
// The world: keys, registrar, schema, members, trees, checkpoints, petitions, signatures

/// A petition: its exact text and the parsed file (id, scope).
#[derive(Clone)]
struct Pet {
    text: String,
    file: PetitionFile,
}

/// A signature line and its nullifier's canonical bytes (the bundle's sort key).
#[derive(Clone)]
struct Sig {
    obj: Obj,
    key: [u8; 32],
    member: usize,
}

impl Sig {
    fn line(&self) -> String {
        self.obj.compact()
    }

    fn set(&self, key: &str, raw: impl Into<String>) -> Obj {
        self.obj.clone().set(key, raw)
    }

    fn proof(&self) -> Vec<u8> {
        hex_of_str(self.obj.get("proof"))
    }

    fn with_proof(&self, bytes: &[u8]) -> Obj {
        self.set("proof", js(&hex::encode(bytes)))
    }
}

fn sorted(mut sigs: Vec<Sig>) -> Vec<Sig> {
    sigs.sort_by_key(|s| s.key);
    sigs
}

fn lines(sigs: &[Sig]) -> Vec<String> {
    sigs.iter().map(Sig::line).collect()
}

struct Out {
    files: Files,
    entries: Vec<Entry>,
}

impl Out {
    fn vector(
        &mut self,
        name: &str,
        tests: &str,
        bytes: Vec<u8>,
        args: Vec<String>,
        intent: Intent,
    ) {
        let bundle = format!("bundles/{name}.jsonl");
        self.files.push((bundle.clone(), bytes));
        self.entry(name, tests, bundle, args, Some(intent));
    }

    fn entry(
        &mut self,
        name: &str,
        tests: &str,
        bundle: String,
        args: Vec<String>,
        intent: Option<Intent>,
    ) {
        assert!(
            self.entries.iter().all(|e| e.name != name),
            "duplicate vector {name}"
        );
        let exit = match &intent {
            None => 2,
            Some(i) if i.valid => 0,
            Some(_) => 1,
        };
        self.entries.push(Entry {
            name: name.to_owned(),
            tests: tests.to_owned(),
            bundle,
            args,
            exit,
            expected: intent.as_ref().map(|_| format!("expected/{name}.json")),
            intent,
        });
    }
}

/// Member `i`'s attribute codes: status, ministry, rank, (unused). Member 1 is removed at
/// checkpoint 3 and re-issued as member 6 at checkpoint 4; member 3's rank code 9 is not in the
/// schema and member 1's rank is unset (0).
const ATTRS: [[u16; 4]; 8] = [
    [1, 1, 1, 0],
    [2, 2, 0, 0],
    [3, 3, 2, 0],
    [1, 4, 9, 0],
    [2, 5, 1, 0],
    [1, 3, 2, 0],
    [2, 2, 0, 0],
    [3, 4, 1, 0],
];

/// Masks of the main petition's base signatures, per member 0..=5.
const BASE_MASKS: [u8; 6] = [7, 6, 1, 4, 0, 3];

const ESCAPED_COMMENT: &str =
    "quote \" backslash \\ slash / newline \n tab \t control \u{1} цяперашні 🙂 end";

struct Gen {
    rng: ChaCha20Rng,
    prover: Prover,
    vk_bytes: Vec<u8>,
    vk_hex: String,
    vk_hash: String,
    other_vk_bytes: Vec<u8>,
    registrar: RegistrarKey,
    other_registrar: RegistrarKey,
    key_hex: String,
    schema: Schema,
    schema_raw: String,
    secrets: Vec<IdentitySecret>,
    leaves: Vec<Fr>,
    /// The tree at each checkpoint 0..=4.
    trees: Vec<MerkleTree>,
    /// Checkpoints 0..=4.
    chain: Vec<Checkpoint>,
    out: Out,
}

fn schema() -> Result<Schema, Error> {
    let slot = |name: &str, labels: &[(&str, u16)]| SlotSchema {
        name: name.to_owned(),
        labels: labels.iter().map(|&(l, c)| (l.to_owned(), c)).collect(),
    };
    Ok(Schema::new(vec![
        // "7" is a label spelled like a number (code 3).
        slot("status", &[("current", 1), ("former", 2), ("7", 3)]),
        // Labels whose canonical JSON needs escapes, and non-ASCII ones.
        slot(
            "ministry",
            &[
                ("say \"hi\"", 1),
                ("back\\slash", 2),
                ("ctl\u{1}\ttab", 3),
                ("цяперашні", 4),
                ("emoji 🙂", 5),
                // Every escape of the canonical form, and what stays raw (U+007F, "/").
                ("esc \u{8}\u{c}\n\r\t\u{1f}\u{7f}/", 6),
            ],
        ),
        // "1" is the label of code 2.
        slot("rank", &[("senior", 1), ("1", 2)]),
    ])?)
}

/// The schema written the other way: keys reversed, labels in reverse order, every
/// non-ASCII or control character (and `/`) as a `\u` escape, spaces and tabs between tokens.
fn noncanonical_schema(schema: &Schema) -> String {
    let slots: Vec<String> = schema
        .slots()
        .iter()
        .map(|slot| {
            let labels: Vec<String> = slot
                .labels
                .iter()
                .rev()
                .map(|(label, code)| format!("{} :\t{code}", js_ascii(label)))
                .collect();
            format!(
                "{{ \"labels\" : {{ {} }} , \"name\" : {} }}",
                labels.join(" , "),
                js_ascii(&slot.name)
            )
        })
        .collect();
    format!(
        "{{\t\"slots\" : [ {} ] ,\t\"kind\" : \"undersign-\\u0073chema\" , \"version\" : 1 }}",
        slots.join(" , ")
    )
}

fn sign_chain(
    key: &RegistrarKey,
    registry: [u8; 32],
    schema: [u8; 32],
    specs: &[(u64, u64, u64, Fr, u64)],
) -> Vec<Checkpoint> {
    let mut out: Vec<Checkpoint> = Vec::new();
    for (i, &(size, removed, removed_since_previous, root, time)) in specs.iter().enumerate() {
        let previous = out.last().map_or([0u8; 32], Checkpoint::hash);
        out.push(Checkpoint::sign(
            key,
            CheckpointFields {
                registry,
                sequence: i as u64,
                size,
                removed,
                removed_since_previous,
                root,
                schema,
                time,
                previous,
            },
        ));
    }
    out
}

fn checkpoint_obj(cp: &Checkpoint) -> Obj {
    Obj::new()
        .with("registry", js(&hex::encode(cp.registry)))
        .with("sequence", cp.sequence.to_string())
        .with("size", cp.size.to_string())
        .with("removed", cp.removed.to_string())
        .with(
            "removed_since_previous",
            cp.removed_since_previous.to_string(),
        )
        .with("root", js(&field::to_hex(&cp.root)))
        .with("schema", js(&hex::encode(cp.schema)))
        .with("time", cp.time.to_string())
        .with("previous", js(&hex::encode(cp.previous)))
        .with("public_key", js(&cp.public_key.to_hex()))
        .with("signature", js(&hex::encode(cp.signature)))
}

fn chain_raw(objs: &[Obj]) -> String {
    let items: Vec<String> = objs.iter().map(Obj::compact).collect();
    format!("[{}]", items.join(","))
}

fn chain_objs(chain: &[Checkpoint]) -> Vec<Obj> {
    chain.iter().map(checkpoint_obj).collect()
}

/// A G1 x-coordinate (little-endian, flags clear) with no point on the curve.
fn g1_x_not_on_curve() -> [u8; 32] {
    let mut k = 1u64;
    loop {
        let x = Fq::from(k);
        if G1Affine::get_point_from_x_unchecked(x, false).is_none() {
            let mut out = [0u8; 32];
            out.copy_from_slice(&x.into_bigint().to_bytes_le());
            return out;
        }
        k += 1;
    }
}

/// The compressed encoding of a point on the G2 twist that is not in G2.
fn g2_not_in_subgroup() -> [u8; 64] {
    let mut k = 1u64;
    loop {
        let x = Fq2::new(Fq::from(k), Fq::one());
        if let Some(p) = G2Affine::get_point_from_x_unchecked(x, true) {
            if !p.is_in_correct_subgroup_assuming_on_curve() {
                let mut out = [0u8; 64];
                p.serialize_compressed(&mut out[..])
                    .expect("a point serializes");
                return out;
            }
        }
        k += 1;
    }
}

impl Gen {
    fn new() -> Result<Self, Error> {
        let mut rng = ChaCha20Rng::seed_from_u64(RNG_SEED);
        let keys = KeySet::development(DEPTH, &KEY_SEED)?;
        let vk: VerifyingKey = keys.verifying_key().clone();
        let vk_bytes = verifying_key_to_bytes(&vk);
        // Another decodable verifying key: alpha doubled.
        let mut other = vk.clone();
        let alpha = other.alpha_g1.into_group();
        other.alpha_g1 = (alpha + alpha).into_affine();
        let other_vk_bytes = verifying_key_to_bytes(&other);
        let prover = Prover::new(DEPTH, keys.proving_key)?;
        let registrar = RegistrarKey::from_secret_bytes(&REGISTRAR_SECRET);
        let other_registrar = RegistrarKey::from_secret_bytes(&OTHER_REGISTRAR_SECRET);
        let schema = schema()?;
        let schema_raw = String::from_utf8(schema.canonical_json())?;

        let secrets: Vec<IdentitySecret> = (0..ATTRS.len())
            .map(|_| IdentitySecret::from_bytes(rng.gen()))
            .collect();
        let leaves: Vec<Fr> = secrets
            .iter()
            .zip(ATTRS)
            .map(|(s, a)| member_leaf(s.commitment(), &Attributes(a)))
            .collect();
        let tree = |ls: Vec<Fr>| MerkleTree::from_leaves(DEPTH, ls);
        let t0 = tree(leaves[..4].to_vec())?;
        let t2 = tree(leaves[..6].to_vec())?;
        let mut l3 = leaves[..6].to_vec();
        l3[1] = Fr::zero();
        let t3 = tree(l3)?;
        let mut l4 = leaves.clone();
        l4[1] = Fr::zero();
        let t4 = tree(l4)?;
        let schema_hash = schema.hash();
        let chain = sign_chain(
            &registrar,
            REGISTRY_ID,
            schema_hash,
            &[
                (4, 0, 0, t0.root(), TIME0),
                // Nothing changed: checkpoint 1 shares checkpoint 0's root.
                (4, 0, 0, t0.root(), TIME0 + DAY),
                (6, 0, 0, t2.root(), TIME0 + 2 * DAY),
                // Member 1 removed.
                (6, 1, 1, t3.root(), TIME0 + 3 * DAY),
                // Members 6 (member 1 re-issued) and 7 added.
                (8, 1, 0, t4.root(), TIME0 + 4 * DAY),
            ],
        );
        let vk_hex = hex::encode(&vk_bytes);
        let vk_hash = blake3::hash(&vk_bytes).to_hex().to_string();
        Ok(Self {
            rng,
            prover,
            vk_bytes,
            vk_hex,
            vk_hash,
            other_vk_bytes,
            key_hex: registrar.public_key().to_hex(),
            registrar,
            other_registrar,
            schema,
            schema_raw,
            secrets,
            leaves,
            trees: vec![t0.clone(), t0, t2, t3, t4],
            chain,
            out: Out {
                files: Vec::new(),
                entries: Vec::new(),
            },
        })
    }

    fn args(&self) -> Vec<String> {
        vec!["--registrar-key".into(), self.key_hex.clone()]
    }

    fn petition_obj(
        &self,
        title: &str,
        disclose: &[u64],
        min: u64,
        max: Option<u64>,
        nonce: &str,
    ) -> Obj {
        let disclose: Vec<String> = disclose.iter().map(u64::to_string).collect();
        let min_hash = self
            .chain
            .get(min as usize)
            .map_or([0xee; 32], Checkpoint::hash);
        Obj::new()
            .with("version", "1")
            .with("kind", js("undersign-petition"))
            .with("title", js(title))
            .with(
                "text",
                js("Conformance vectors of SPEC.md §15.\n\nEvery signer is a test identity."),
            )
            .with("registry", js(&hex::encode(REGISTRY_ID)))
            .with("registrar_key", js(&self.key_hex))
            .with("verifying_key", js(&self.vk_hash))
            .with(
                "proving_key",
                js(&blake3::hash(b"undersign vectors: proving key stand-in").to_hex()),
            )
            .with("disclose", format!("[{}]", disclose.join(", ")))
            .with("min_checkpoint", min.to_string())
            .with("min_checkpoint_hash", js(&hex::encode(min_hash)))
            .with(
                "max_checkpoint",
                max.map_or("null".to_owned(), |m| m.to_string()),
            )
            .with(
                "nonce",
                js(
                    &blake3::derive_key("undersign vectors nonce", nonce.as_bytes())
                        .iter()
                        .fold(String::new(), |mut s, b| {
                            let _ = write!(s, "{b:02x}");
                            s
                        }),
                ),
            )
    }

    fn pet(obj: &Obj) -> Result<Pet, Error> {
        let text = obj.pretty() + "\n";
        let file = PetitionFile::parse(text.clone().into_bytes())?;
        Ok(Pet { text, file })
    }

    /// Member `member` signs `pet` against `tree` (where it is leaf `member`).
    fn sign_in(
        &mut self,
        pet: &Pet,
        member: usize,
        tree: &MerkleTree,
        mask: u8,
        comment: Option<&str>,
    ) -> Result<Sig, Error> {
        let mask = Mask::new(u64::from(mask))?;
        let attrs = Attributes(ATTRS[member]);
        let statement = Statement::new(
            self.secrets[member].sk(),
            &attrs,
            &tree.path(member as u64)?,
            tree.root(),
            pet.file.scope(),
            message(comment),
            mask,
        );
        let proof = ProofBytes::encode(&self.prover.prove(&statement, &mut self.rng)?)?;
        let nullifier = statement.public.nullifier;
        let d = attrs.disclose(mask).0;
        Ok(Sig {
            obj: Obj::new()
                .with("version", "1")
                .with("kind", js("undersign-signature"))
                .with("petition", js(&pet.file.id_hex()))
                .with("root", js(&field::to_hex(&tree.root())))
                .with("nullifier", js(&field::to_hex(&nullifier)))
                .with("mask", mask.bits().to_string())
                .with(
                    "disclosed",
                    format!("[{},{},{},{}]", d[0], d[1], d[2], d[3]),
                )
                .with("comment", comment.map_or("null".to_owned(), js))
                .with("proof", js(&proof.to_hex())),
            key: field::to_bytes_be(&nullifier),
            member,
        })
    }

    fn sign(
        &mut self,
        pet: &Pet,
        member: usize,
        checkpoint: usize,
        mask: u8,
        comment: Option<&str>,
    ) -> Result<Sig, Error> {
        let tree = self.trees[checkpoint].clone();
        self.sign_in(pet, member, &tree, mask, comment)
    }

    fn header(&self, pet: &Pet, chain: &[Checkpoint], signatures: usize) -> Obj {
        Obj::new()
            .with("version", "1")
            .with("kind", js("undersign-bundle"))
            .with("petition_file", js(&pet.text))
            .with("schema", self.schema_raw.clone())
            .with("checkpoints", chain_raw(&chain_objs(chain)))
            .with("verifying_key", js(&self.vk_hex))
            .with("verifying_key_hash", js(&self.vk_hash))
            .with("signatures", signatures.to_string())
    }

    #[allow(clippy::too_many_lines)]
    fn vectors(&mut self) -> Result<(), Error> {
        // Petitions.
        let title = "Vector petition: \"quoted\", back\\slash, цяперашні 🙂";
        let main = Self::pet(&self.petition_obj(title, &[0, 1, 2], 2, Some(2), "main"))?;
        let shared = Self::pet(&self.petition_obj("Shared root", &[0], 1, Some(1), "shared"))?;
        let window = Self::pet(&self.petition_obj("Open window", &[1], 2, None, "window"))?;
        let late = Self::pet(&self.petition_obj("Late minimum", &[0], 5, Some(5), "late"))?;
        let limits_obj = self
            .petition_obj(&"ц".repeat(250), &[0], 2, Some(2), "limits")
            .set(
                "text",
                js(&"Lorem ipsum. ".repeat(100_000 / 13 + 1)[..100_000]),
            );
        let limits = Self::pet(&limits_obj)?;
        assert_eq!(limits.file.fields().title.len(), 500);
        assert_eq!(limits.file.fields().text.len(), 100_000);

        // Signatures on the main petition against checkpoint 2's root.
        let mut base = Vec::new();
        for (member, &mask) in BASE_MASKS.iter().enumerate() {
            base.push(self.sign(&main, member, 2, mask, None)?);
        }
        // Members 3 and 4 disclose the ministries labelled "цяперашні" and "emoji 🙂".
        let c0 = self.sign(&main, 3, 2, 2, Some("A comment."))?;
        let c1 = self.sign(&main, 4, 2, 2, Some(ESCAPED_COMMENT))?;
        let long_comment = format!("{}ab", "ц".repeat(499));
        assert_eq!(long_comment.len(), 1000);
        let c2 = self.sign(&main, 2, 2, 0, Some(&long_comment))?;
        let s1_again = self.sign(&main, 1, 2, BASE_MASKS[1], None)?;
        let mask8 = self.sign(&main, 4, 2, 8, None)?;
        let unknown_tree = MerkleTree::from_leaves(DEPTH, self.leaves[..7].to_vec())?;
        let unknown = self.sign_in(&main, 6, &unknown_tree, 1, None)?;
        let before = self.sign(&main, 2, 0, 1, None)?;
        let after = self.sign(&main, 7, 4, 1, None)?;
        // Other petitions.
        let h0 = self.sign(&shared, 0, 1, 1, None)?;
        let first = Self::pet(&self.petition_obj("Shared root, first", &[0], 0, Some(0), "first"))?;
        let f0 = self.sign(&first, 0, 0, 1, None)?;
        let h3 = self.sign(&shared, 3, 1, 0, None)?;
        let w0 = self.sign(&window, 0, 2, 2, None)?;
        let w1 = self.sign(&window, 1, 2, 2, None)?;
        let w3 = self.sign(&window, 3, 3, 2, None)?;
        let w6 = self.sign(&window, 6, 4, 2, None)?;
        let w7 = self.sign(&window, 7, 4, 0, None)?;
        let wb = self.sign(&window, 2, 0, 2, None)?;
        let l0 = self.sign(&late, 0, 4, 1, None)?;
        let x0 = self.sign(&limits, 5, 2, 1, None)?;

        let v = sorted(base.clone());
        let chain = self.chain.clone();
        let args = self.args();
        let main_bundle =
            |g: &Self, ls: &[String]| join_lines(&g.header(&main, &chain, ls.len()).compact(), ls);

        // ----- valid bundles (§15)
        self.out.vector(
            "valid-masks",
            "Six valid signatures with masks 7, 6, 1, 4, 0 and 3 are all counted; the breakdown shows \"undisclosed\", \"unset\" (code 0), \"code 9\" (a code missing from the schema) and labels needing JSON escapes (§15 step 4, §11).",
            main_bundle(self, &lines(&v)),
            args.clone(),
            Intent::counts(6),
        );
        let mut pinned = args.clone();
        pinned.extend(["--vk-hash".to_owned(), self.vk_hash.clone()]);
        self.out.entry(
            "valid-pinned",
            "The same bundle with the verifying key hash pinned by --vk-hash is valid and reports verifying_key_pinned (§15 step 1).",
            "bundles/valid-masks.jsonl".into(),
            pinned,
            Some(Intent::counts(6)),
        );
        self.out.entry(
            "valid-args-upper-case",
            "--registrar-key and --vk-hash in upper-case hex are accepted and normalised to lower case (§15, audit arguments).",
            "bundles/valid-masks.jsonl".into(),
            vec![
                "--registrar-key".into(),
                self.key_hex.to_ascii_uppercase(),
                "--vk-hash".into(),
                self.vk_hash.to_ascii_uppercase(),
            ],
            Some(Intent::counts(6)),
        );
        let comments = sorted(vec![c0.clone(), c1.clone(), c2.clone()]);
        self.out.vector(
            "valid-comments",
            "Comments count: a plain one, one whose JSON needs escapes (quote, backslash, newline, tab, U+0001, non-ASCII, emoji) and one of exactly 1,000 bytes (§14, §6 message).",
            main_bundle(self, &lines(&comments)),
            args.clone(),
            Intent::counts(3),
        );
        let c1_escaped = Sig {
            obj: c1.set("comment", js_all(ESCAPED_COMMENT)),
            ..c1.clone()
        };
        let comments_escaped = sorted(vec![c0.clone(), c1_escaped, c2.clone()]);
        self.out.vector(
            "valid-comment-unicode-escapes",
            "A comment written entirely as \\u escapes (a surrogate pair for the emoji) is the same string, so its proof verifies (§15 compact lines: values matter, not bytes).",
            main_bundle(self, &lines(&comments_escaped)),
            args.clone(),
            Intent::counts(3),
        );
        let crlf = String::from_utf8(main_bundle(self, &lines(&v)))?.replace('\n', "\r\n");
        self.out.vector(
            "valid-crlf",
            "CRLF line endings, the header's included, are accepted (§15).",
            crlf.into_bytes(),
            args.clone(),
            Intent::counts(6),
        );
        let spaced: Vec<String> = v
            .iter()
            .map(|s| format!(" \t{} ", s.obj.render(" : ", " ,\t", "  ", "\t", js)))
            .collect();
        self.out.vector(
            "valid-compact-whitespace",
            "Signature lines with JSON whitespace (spaces and tabs) around every token are accepted (§15 compact lines).",
            main_bundle(self, &spaced),
            args.clone(),
            Intent::counts(6),
        );
        let reordered: Vec<String> = v
            .iter()
            .map(|s| s.obj.clone().reversed().compact())
            .collect();
        self.out.vector(
            "valid-compact-key-order",
            "Signature lines with their keys in reverse order are accepted (§15 compact lines).",
            main_bundle(self, &reordered),
            args.clone(),
            Intent::counts(6),
        );
        let escaped_lines: Vec<String> = v
            .iter()
            .map(|s| {
                let mut obj = s.obj.clone();
                for (_, value) in &mut obj.0 {
                    if value.starts_with('"') {
                        let text: String = serde_json::from_str(value).expect("string");
                        *value = js_all(&text);
                    }
                }
                obj.render(":", ",", "", "", js_all)
            })
            .collect();
        assert!(escaped_lines.iter().all(|l| l.len() <= MAX_LINE));
        self.out.vector(
            "valid-compact-escapes",
            "Signature lines whose keys and string values are written entirely as \\u escapes are accepted: values matter, not bytes (§15 compact lines).",
            main_bundle(self, &escaped_lines),
            args.clone(),
            Intent::counts(6),
        );
        let header = self
            .header(&main, &chain, v.len())
            .set("schema", noncanonical_schema(&self.schema));
        self.out.vector(
            "valid-schema-noncanonical",
            "The embedded schema with other key order, whitespace and \\u escapes is valid: its hash is that of the parsed schema's canonical JSON (§11, §12 schema hash).",
            join_lines(&header.compact(), &lines(&v)),
            args.clone(),
            Intent::counts(6),
        );
        let header = self
            .header(&main, &chain, v.len())
            .set("petition_file", js_ascii(&main.text))
            .set(
                "checkpoints",
                format!(
                    "[ {} ]",
                    chain_objs(&chain)
                        .into_iter()
                        .map(|o| o.reversed().render(" : ", " , ", " ", " ", js))
                        .collect::<Vec<_>>()
                        .join(" ,\t")
                ),
            )
            .reversed()
            .render(" : ", " ,\t", " ", " ", js);
        self.out.vector(
            "valid-header-noncanonical",
            "A header with keys in reverse order, whitespace, checkpoints with reordered keys and the petition text written with \\u escapes is valid: the petition id is blake3 of the decoded string (§15, §13).",
            join_lines(&header, &lines(&v)),
            args.clone(),
            Intent::counts(6),
        );
        self.out.vector(
            "valid-empty",
            "A bundle announcing and holding 0 signatures is valid with count 0 (§15).",
            main_bundle(self, &[]),
            args.clone(),
            Intent::counts(0),
        );
        let mut no_newline = main_bundle(self, &lines(&v));
        no_newline.pop();
        self.out.vector(
            "valid-no-final-newline",
            "The last line without a final newline is still a line (§15).",
            no_newline,
            args.clone(),
            Intent::counts(6),
        );
        let mut at_limit = lines(&v[..3]);
        at_limit[0] = pad_to(&at_limit[0], MAX_LINE);
        self.out.vector(
            "valid-line-4096-bytes",
            "A signature line of exactly 4,096 bytes (JSON whitespace after its brace) is accepted (§15 step 2).",
            main_bundle(self, &at_limit),
            args.clone(),
            Intent::counts(3),
        );
        let mut bytes = main_bundle(self, &at_limit);
        let header_len = self.header(&main, &chain, 3).compact().len() + 1;
        bytes.insert(header_len + MAX_LINE, b'\r');
        self.out.vector(
            "valid-line-4096-bytes-crlf",
            "A 4,096-byte signature line ending in CRLF is accepted: the length is measured after dropping \"\\n\" and one trailing \"\\r\" (§15 step 2).",
            bytes,
            args.clone(),
            Intent::counts(3),
        );
        self.out.vector(
            "valid-shared-root",
            "Checkpoints 0 and 1 share a root (nothing changed between them); a petition accepting only checkpoint 1 counts signatures with that root under checkpoint 1 (§12, §13).",
            join_lines(
                &self.header(&shared, &chain[..2], 2).compact(),
                &lines(&sorted(vec![h0, h3])),
            ),
            args.clone(),
            Intent::counts(2),
        );
        self.out.vector(
            "valid-shared-root-oldest",
            "Checkpoints 0 and 1 share a root; a petition accepting only checkpoint 0 counts a signature with it under checkpoint 0, the newest accepted checkpoint with that root (§12, §13).",
            join_lines(&self.header(&first, &chain[..2], 1).compact(), &[f0.line()]),
            args.clone(),
            Intent::counts(1),
        );
        self.out.vector(
            "valid-window-double-count",
            "An open window from checkpoint 2 counts roots of checkpoints 2, 3 and 4; member 1 removed at checkpoint 3 signs again re-issued at checkpoint 4, which the double-count bound (1, checkpoints 2 to 4) states (§13 window).",
            join_lines(
                &self.header(&window, &chain, 5).compact(),
                &lines(&sorted(vec![w0.clone(), w1.clone(), w3, w6, w7])),
            ),
            args.clone(),
            Intent::counts(5),
        );
        self.out.vector(
            "valid-petition-limits",
            "A petition title of exactly 500 bytes (250 two-byte letters) and a text of exactly 100,000 bytes are valid (§13).",
            join_lines(&self.header(&limits, &chain, 1).compact(), &[x0.line()]),
            args.clone(),
            Intent::counts(1),
        );

        // ----- one rejected line between two valid ones (§15 step 2)
        let around = |member: usize| -> Vec<String> {
            lines(
                &v.iter()
                    .filter(|s| s.member != member)
                    .take(2)
                    .cloned()
                    .collect::<Vec<_>>(),
            )
        };
        let mut rejects: Vec<(&str, &str, usize, String, &'static str)> = Vec::new();
        let s = |m: usize| base[m].clone();
        let proof0 = s(0).proof();
        let mut reject = |name: &'static str,
                          tests: &'static str,
                          member: usize,
                          line: String,
                          code: &'static str| {
            rejects.push((name, tests, member, line, code));
        };
        reject(
            "reject-malformed-root-not-canonical",
            "A root written as root + r (not < r) is malformed, never reduced (§1, §2).",
            0,
            s(0).set("root", js(&plus_r(&s(0).obj.get_str("root"))))
                .compact(),
            "malformed",
        );
        reject(
            "reject-malformed-nullifier-not-canonical",
            "A nullifier written as nullifier + r (not < r) is malformed, never reduced (§1, §2).",
            0,
            s(0).set("nullifier", js(&plus_r(&s(0).obj.get_str("nullifier"))))
                .compact(),
            "malformed",
        );
        let root = s(0).obj.get_str("root");
        assert!(root[2..].bytes().any(|b| b.is_ascii_alphabetic()));
        reject(
            "reject-malformed-root-upper-case-hex",
            "A root in upper-case hex is malformed (§2).",
            0,
            s(0).set("root", js(&format!("0x{}", root[2..].to_ascii_uppercase())))
                .compact(),
            "malformed",
        );
        reject(
            "reject-malformed-root-missing-0x",
            "A root without its 0x prefix is malformed (§2).",
            0,
            s(0).set("root", js(&root[2..])).compact(),
            "malformed",
        );
        reject(
            "reject-malformed-proof-upper-case-hex",
            "A proof in upper-case hex is malformed (§2).",
            0,
            s(0).set("proof", js(&hex::encode_upper(&proof0))).compact(),
            "malformed",
        );
        reject(
            "reject-malformed-proof-wrong-length",
            "A proof of 127 bytes is malformed (§2 proof bytes).",
            0,
            s(0).with_proof(&proof0[..127]).compact(),
            "malformed",
        );
        let mut p = proof0.clone();
        p[..32].copy_from_slice(&g1_x_not_on_curve());
        reject(
            "reject-malformed-proof-a-not-on-curve",
            "A proof whose A has an x with no point on the curve does not decode: malformed (§2 proof bytes, §15 step 2).",
            0,
            s(0).with_proof(&p).compact(),
            "malformed",
        );
        let mut p = proof0.clone();
        let mut q_plus_1 = Fq::MODULUS;
        q_plus_1.add_with_carry(&ark_ff::BigInt::from(1u64));
        p[..32].copy_from_slice(&q_plus_1.to_bytes_le());
        reject(
            "reject-malformed-proof-coordinate-ge-q",
            "A proof whose A has x = q + 1 (which would reduce to the generator's x) is malformed: coordinates must be < q (§2 proof bytes).",
            0,
            s(0).with_proof(&p).compact(),
            "malformed",
        );
        let mut p = proof0.clone();
        p[31] = (p[31] & 0x3f) | 0x40;
        reject(
            "reject-malformed-proof-infinity-flag-with-other-bytes",
            "A proof whose A has the infinity flag (bit 6) set with non-zero x bytes is malformed, not the point at infinity (§2 proof bytes).",
            0,
            s(0).with_proof(&p).compact(),
            "malformed",
        );
        let mut p = proof0.clone();
        p[32..96].copy_from_slice(&g2_not_in_subgroup());
        reject(
            "reject-malformed-proof-b-not-in-subgroup",
            "A proof whose B is on the twist but not in the prime-order subgroup G2 is malformed (§2 proof bytes).",
            0,
            s(0).with_proof(&p).compact(),
            "malformed",
        );
        let mut p = proof0.clone();
        p[95] ^= 0x80;
        reject(
            "reject-invalid-proof-b-larger-root-flag-flipped",
            "A proof with B's \"larger root\" flag (bit 7 of its last byte) flipped decodes to -B and fails verification: invalid_proof (§2 proof bytes, Fq2 order).",
            0,
            s(0).with_proof(&p).compact(),
            "invalid_proof",
        );
        reject(
            "reject-malformed-disclosed-outside-mask",
            "A disclosed code in a slot outside the signature's own mask is malformed (§14, §15 step 2).",
            2,
            s(2).set("disclosed", "[3,3,0,0]").compact(),
            "malformed",
        );
        reject(
            "reject-malformed-disclosed-code-too-large",
            "A disclosed code of 65536 is malformed (§2 attribute codes).",
            0,
            s(0).set("disclosed", "[65536,1,1,0]").compact(),
            "malformed",
        );
        reject(
            "reject-malformed-mask-16",
            "A mask of 16 is malformed (§14: 0..=15).",
            0,
            s(0).set("mask", "16").compact(),
            "malformed",
        );
        reject(
            "reject-malformed-line-4097-bytes",
            "A valid signature padded with JSON whitespace to 4,097 bytes is malformed (§15 step 2).",
            0,
            pad_to(&s(0).line(), MAX_LINE + 1),
            "malformed",
        );
        reject(
            "reject-malformed-line-10000-bytes",
            "A valid signature padded with JSON whitespace to 10,000 bytes is malformed, and only that line (§15 step 2).",
            0,
            pad_to(&s(0).line(), 10_000),
            "malformed",
        );
        reject(
            "reject-malformed-array",
            "A signature written as a JSON array of its values is malformed (§10, §15 step 2).",
            0,
            s(0).obj.array(),
            "malformed",
        );
        reject(
            "reject-malformed-duplicate-key",
            "A signature with the key \"mask\" twice (same value) is malformed (§10).",
            0,
            s(0).obj.clone().duplicated("mask").compact(),
            "malformed",
        );
        reject(
            "reject-malformed-unknown-field",
            "A signature with an unknown field is malformed (§10).",
            0,
            s(0).obj.clone().with("extra", "1").compact(),
            "malformed",
        );
        reject(
            "reject-malformed-missing-field",
            "A signature without its comment field (null must be written) is malformed (§10, §14).",
            0,
            s(0).obj.clone().without("comment").compact(),
            "malformed",
        );
        reject(
            "reject-malformed-mask-float",
            "A mask written 3.0 is malformed (§10 integers).",
            5,
            s(5).set("mask", "3.0").compact(),
            "malformed",
        );
        reject(
            "reject-malformed-mask-exponent",
            "A mask written 1e0 is malformed (§10 integers).",
            2,
            s(2).set("mask", "1e0").compact(),
            "malformed",
        );
        reject(
            "reject-malformed-mask-negative-zero",
            "A mask written -0 is malformed (§10 integers).",
            4,
            s(4).set("mask", "-0").compact(),
            "malformed",
        );
        reject(
            "reject-malformed-mask-nan",
            "A mask written NaN (not JSON) is malformed (§10).",
            0,
            s(0).set("mask", "NaN").compact(),
            "malformed",
        );
        reject(
            "reject-malformed-bom",
            "A signature line starting with a byte order mark is malformed (§10).",
            0,
            format!("\u{feff}{}", s(0).line()),
            "malformed",
        );
        reject(
            "reject-malformed-lone-surrogate",
            "A comment holding a lone surrogate (\\ud800) is malformed (§10).",
            0,
            s(0).set("comment", "\"a\\ud800b\"").compact(),
            "malformed",
        );
        reject(
            "reject-malformed-comment-too-long",
            "A comment of 1,001 bytes is malformed (§14).",
            0,
            s(0).set("comment", js(&"a".repeat(1001))).compact(),
            "malformed",
        );
        reject(
            "reject-malformed-wrong-kind",
            "A signature line of kind undersign-bundle is malformed (§10).",
            0,
            s(0).set("kind", js("undersign-bundle")).compact(),
            "malformed",
        );
        reject(
            "reject-malformed-version-2",
            "A signature line of version 2 is malformed (§10).",
            0,
            s(0).set("version", "2").compact(),
            "malformed",
        );
        reject(
            "reject-malformed-not-json",
            "A line that is not JSON is malformed (§15 step 2).",
            0,
            "this is not a signature".to_owned(),
            "malformed",
        );
        reject(
            "reject-malformed-null",
            "A line holding JSON null is malformed (§15 step 2).",
            0,
            "null".to_owned(),
            "malformed",
        );
        reject(
            "reject-malformed-blank-line",
            "A blank line between signatures is malformed and counts as a line (§15).",
            0,
            String::new(),
            "malformed",
        );
        reject(
            "reject-wrong-petition",
            "A valid signature on another petition is rejected as wrong_petition before any root check (§15 step 2).",
            0,
            w0.line(),
            "wrong_petition",
        );
        reject(
            "reject-mask-not-allowed",
            "A valid proof disclosing slot 3, which the petition does not allow, is mask_not_allowed (§13 disclose, §15 step 2).",
            4,
            mask8.line(),
            "mask_not_allowed",
        );
        reject(
            "reject-mask-not-allowed-before-unknown-root",
            "A mask the petition does not allow is reported before an unknown root (§15 step 2 order).",
            4,
            mask8
                .set("root", js(&field::to_hex(&unknown_tree.root())))
                .compact(),
            "mask_not_allowed",
        );
        reject(
            "reject-unknown-root",
            "A valid proof against a root no checkpoint in the chain has is unknown_root (§15 step 2).",
            6,
            unknown.line(),
            "unknown_root",
        );
        reject(
            "reject-root-before-minimum",
            "A valid proof against the root of checkpoints 0 and 1, before min_checkpoint 2, is root_before_minimum (§13 window).",
            2,
            before.line(),
            "root_before_minimum",
        );
        reject(
            "reject-root-after-maximum",
            "A valid proof against the root of checkpoint 4, after max_checkpoint 2, is root_after_maximum (§13 window).",
            7,
            after.line(),
            "root_after_maximum",
        );
        reject(
            "reject-invalid-proof-comment-changed",
            "A valid signature whose comment was changed (null to a string) fails verification: invalid_proof (§6 message, §15 step 2).",
            0,
            s(0).set("comment", js("changed")).compact(),
            "invalid_proof",
        );
        reject(
            "reject-invalid-proof-disclosed-changed",
            "A valid signature whose disclosed code was changed within its mask fails verification: invalid_proof (§15 step 2).",
            2,
            s(2).set("disclosed", "[1,0,0,0]").compact(),
            "invalid_proof",
        );
        reject(
            "reject-invalid-proof-swapped",
            "A signature carrying another valid signature's proof fails verification: invalid_proof (§15 step 2).",
            0,
            s(0).with_proof(&s(1).proof()).compact(),
            "invalid_proof",
        );
        // The order of the checks (§15 step 2): the first that applies is reported.
        let w0_root = w0.obj.get_str("root");
        reject(
            "reject-order-malformed-before-wrong-petition",
            "A line on another petition with its root in upper-case hex is malformed: encoding is checked first (§15 step 2 order).",
            0,
            w0.set("root", js(&format!("0x{}", w0_root[2..].to_ascii_uppercase())))
                .compact(),
            "malformed",
        );
        reject(
            "reject-order-wrong-petition-before-mask",
            "A line on another petition disclosing slot 3 (which neither petition allows) is wrong_petition: the petition is checked before the mask (§15 step 2 order).",
            0,
            w0.set("mask", "8").set("disclosed", "[0,0,0,0]").compact(),
            "wrong_petition",
        );
        reject(
            "reject-order-unknown-root-before-invalid-proof",
            "A valid signature whose root was replaced by a root no checkpoint has is unknown_root, not invalid_proof (§15 step 2 order).",
            0,
            s(0).set("root", js(&field::to_hex(&unknown_tree.root())))
                .compact(),
            "unknown_root",
        );
        reject(
            "reject-order-root-before-minimum-before-invalid-proof",
            "A valid signature whose root was replaced by checkpoint 0 and 1's root is root_before_minimum, not invalid_proof (§15 step 2 order).",
            0,
            s(0).set("root", js(&field::to_hex(&self.trees[0].root())))
                .compact(),
            "root_before_minimum",
        );
        reject(
            "reject-order-root-after-maximum-before-invalid-proof",
            "A valid signature whose root was replaced by checkpoint 3's root is root_after_maximum, not invalid_proof (§15 step 2 order).",
            0,
            s(0).set("root", js(&field::to_hex(&self.trees[3].root())))
                .compact(),
            "root_after_maximum",
        );
        for (name, tests, member, line, code) in rejects {
            let mut ls = around(member);
            ls.insert(1, line);
            let bytes = main_bundle(self, &ls);
            self.out.vector(
                name,
                tests,
                bytes,
                args.clone(),
                Intent::counts(2).reject(3, code),
            );
        }
        let two = lines(&v[..2]);
        let bytes = main_bundle(self, &[two[0].clone(), two[1].clone(), String::new()]);
        // The blank line is the last line: "…\n\n".
        assert!(bytes.ends_with(b"\n\n"));
        self.out.vector(
            "reject-malformed-trailing-blank-line",
            "A trailing blank line (the file ends \"\\n\\n\") is a malformed line (§15).",
            bytes,
            args.clone(),
            Intent::counts(2).reject(4, "malformed"),
        );

        // ----- duplicates and order (§15 steps 2 and 3)
        let v3 = lines(&v[..3]);
        self.out.vector(
            "reject-duplicate-exact-copy",
            "An exact second copy of a valid line is duplicate_nullifier; equal nullifiers are not out of order (§15 steps 2-3).",
            main_bundle(self, &[v3[0].clone(), v3[1].clone(), v3[1].clone(), v3[2].clone()]),
            args.clone(),
            Intent::counts(3).reject(4, "duplicate_nullifier"),
        );
        let mut with_again = sorted(vec![s(0), s(1), s(2)]);
        let at = with_again
            .iter()
            .position(|x| x.member == 1)
            .expect("member 1")
            + 1;
        with_again.insert(at, s1_again.clone());
        self.out.vector(
            "reject-duplicate-reproved",
            "A second valid proof of the same statement (other proof randomness) is duplicate_nullifier (§15 step 2).",
            main_bundle(self, &lines(&with_again)),
            args.clone(),
            Intent::counts(3).reject(at as u64 + 2, "duplicate_nullifier"),
        );
        let mut other_comment = sorted(vec![s(3), s(1), s(2)]);
        let at = other_comment
            .iter()
            .position(|x| x.member == 3)
            .expect("member 3")
            + 1;
        other_comment.insert(at, c0.clone());
        self.out.vector(
            "reject-duplicate-other-comment",
            "A member's second valid signature with another comment and mask has the same nullifier: duplicate_nullifier (§15 step 2).",
            main_bundle(self, &lines(&other_comment)),
            args.clone(),
            Intent::counts(3).reject(at as u64 + 2, "duplicate_nullifier"),
        );
        let mut invalid_first = sorted(vec![s(0), s(1), s(2)]);
        let at = invalid_first
            .iter()
            .position(|x| x.member == 1)
            .expect("member 1");
        let broken = Sig {
            obj: s(1).set("comment", js("changed")),
            ..s(1)
        };
        invalid_first.insert(at, broken);
        self.out.vector(
            "reject-invalid-then-valid-same-nullifier",
            "A line with an invalid proof does not block a later valid line with the same nullifier: \"already counted\" means accepted (§15 step 2).",
            main_bundle(self, &lines(&invalid_first)),
            args.clone(),
            Intent::counts(3).reject(at as u64 + 2, "invalid_proof"),
        );
        let mut valid_first = sorted(vec![s(0), s(1), s(2)]);
        let at = valid_first
            .iter()
            .position(|x| x.member == 1)
            .expect("member 1")
            + 1;
        valid_first.insert(
            at,
            Sig {
                obj: s(1).set("comment", js("changed")),
                ..s(1)
            },
        );
        self.out.vector(
            "reject-order-invalid-proof-before-duplicate",
            "A copy of an accepted line with an invalid proof is invalid_proof, not duplicate_nullifier: the proof is checked before uniqueness (§15 step 2 order).",
            main_bundle(self, &lines(&valid_first)),
            args.clone(),
            Intent::counts(3).reject(at as u64 + 2, "invalid_proof"),
        );
        let v4 = lines(&v[..4]);
        let broken3 = v[3].set("comment", js("changed")).compact();
        self.out.vector(
            "reject-invalid-proof-out-of-order-ignored",
            "A rejected line with a larger nullifier between sorted valid lines is not an order problem: only lines passing every check but uniqueness are compared (§15 step 3).",
            main_bundle(self, &[v4[0].clone(), broken3, v4[1].clone(), v4[2].clone()]),
            args.clone(),
            Intent::counts(3).reject(3, "invalid_proof"),
        );
        self.out.vector(
            "reject-root-before-minimum-window",
            "In an open window from checkpoint 2, a valid proof against checkpoint 0's root is root_before_minimum (§13 window).",
            join_lines(
                &self.header(&window, &chain, 3).compact(),
                &{
                    let ws = lines(&sorted(vec![w0.clone(), w1.clone()]));
                    vec![ws[0].clone(), wb.line(), ws[1].clone()]
                },
            ),
            args.clone(),
            Intent::counts(2).reject(3, "root_before_minimum"),
        );
        self.out.vector(
            "problem-out-of-order",
            "Two valid lines in descending nullifier order are counted, and the bundle has the problem out_of_order (§15 step 3).",
            main_bundle(self, &[v3[1].clone(), v3[0].clone(), v3[2].clone()]),
            args.clone(),
            Intent::counts(3).problem("out_of_order"),
        );
        self.out.vector(
            "problem-out-of-order-duplicate",
            "A duplicate after a larger nullifier is duplicate_nullifier and out of order: duplicates pass every check but uniqueness, so they are compared (§15 step 3).",
            main_bundle(
                self,
                &[v3[0].clone(), v3[1].clone(), v3[2].clone(), v3[1].clone()],
            ),
            args.clone(),
            Intent::counts(3)
                .reject(5, "duplicate_nullifier")
                .problem("out_of_order"),
        );
        self.out.vector(
            "problem-count-mismatch-more",
            "A header announcing 4 signatures with 3 lines following: the 3 are counted and the problem is signature_count_mismatch (§15).",
            join_lines(&self.header(&main, &chain, 4).compact(), &v3),
            args.clone(),
            Intent::counts(3).problem("signature_count_mismatch"),
        );
        self.out.vector(
            "problem-count-mismatch-fewer",
            "A header announcing 2 signatures with 3 lines following: all 3 are counted and the problem is signature_count_mismatch (§15).",
            join_lines(&self.header(&main, &chain, 2).compact(), &v3),
            args.clone(),
            Intent::counts(3).problem("signature_count_mismatch"),
        );
        self.out.vector(
            "problem-chain-ends-before-minimum",
            "A petition whose min_checkpoint (5) is after the chain's end: every root is root_before_minimum and the bundle has the problem chain_ends_before_minimum (§13, §15).",
            join_lines(&self.header(&late, &chain, 1).compact(), &[l0.line()]),
            args.clone(),
            Intent::counts(0)
                .reject(2, "root_before_minimum")
                .problem("chain_ends_before_minimum"),
        );

        // ----- fatal header problems (§15 step 1), in the order they are checked
        let two = lines(&v[..2]);
        let hdr = |g: &Self| g.header(&main, &chain, 2);
        let mut fatal: Vec<FatalCase> = Vec::new();
        let with_two = |header: &str| join_lines(header, &two);
        {
            let h = hdr(self).set("signatures", "0").compact();
            let mut line = pad_to(&h, MAX_HEADER + 1);
            line.push('\n');
            fatal.push((
                "fatal-header-too-long",
                "A header line of 16 MiB + 1 bytes (a valid header padded with spaces) is header_too_long (§15).",
                line.into_bytes(),
                args.clone(),
                "header_too_long",
            ));
        }
        let mut f =
            |name: &'static str, tests: &'static str, bytes: Vec<u8>, code: &'static str| {
                fatal.push((name, tests, bytes, args.clone(), code));
            };
        f(
            "fatal-header-malformed-not-json",
            "A first line that is not JSON is header_malformed, and the report is printed (§15).",
            with_two("Dear auditor, this is not a header."),
            "header_malformed",
        );
        f(
            "fatal-header-malformed-blank",
            "A file holding only \"\\n\" has a blank first line: header_malformed with a report, not unreadable (§15).",
            b"\n".to_vec(),
            "header_malformed",
        );
        f(
            "fatal-header-malformed-array",
            "A header written as a JSON array of its values is header_malformed (§10, §15).",
            with_two(&hdr(self).array()),
            "header_malformed",
        );
        f(
            "fatal-header-malformed-signature-file",
            "A signature file (pretty JSON) given as a bundle is header_malformed (§15).",
            (s(0).obj.pretty() + "\n").into_bytes(),
            "header_malformed",
        );
        f(
            "fatal-header-malformed-signature-line",
            "A bundle whose first line is a signature line is header_malformed (§15).",
            with_two(&s(2).line()),
            "header_malformed",
        );
        f(
            "fatal-header-malformed-version-2",
            "A header of version 2 is header_malformed (§10).",
            with_two(&hdr(self).set("version", "2").compact()),
            "header_malformed",
        );
        f(
            "fatal-header-malformed-wrong-kind",
            "A header of kind undersign-petition is header_malformed (§10).",
            with_two(&hdr(self).set("kind", js("undersign-petition")).compact()),
            "header_malformed",
        );
        f(
            "fatal-header-malformed-duplicate-key",
            "A header with the key \"signatures\" twice is header_malformed (§10).",
            with_two(&hdr(self).duplicated("signatures").compact()),
            "header_malformed",
        );
        f(
            "fatal-header-malformed-unknown-field",
            "A header with an unknown field is header_malformed (§10).",
            with_two(&hdr(self).with("comment", "null").compact()),
            "header_malformed",
        );
        f(
            "fatal-header-malformed-missing-field",
            "A header without verifying_key_hash is header_malformed (§10).",
            with_two(&hdr(self).without("verifying_key_hash").compact()),
            "header_malformed",
        );
        f(
            "fatal-header-malformed-signatures-float",
            "A header with signatures written 2.0 is header_malformed (§10 integers).",
            with_two(&hdr(self).set("signatures", "2.0").compact()),
            "header_malformed",
        );
        f(
            "fatal-header-malformed-bom",
            "A header starting with a byte order mark is header_malformed (§10).",
            with_two(&format!("\u{feff}{}", hdr(self).compact())),
            "header_malformed",
        );
        let mut objs = chain_objs(&chain);
        let root2 = objs[2].get_str("root");
        objs[2] = objs[2].clone().set(
            "root",
            js(&format!("0x{}", root2[2..].to_ascii_uppercase())),
        );
        f(
            "fatal-header-malformed-checkpoint-field",
            "A checkpoint whose root is in upper-case hex is header_malformed (§12, §2).",
            with_two(&hdr(self).set("checkpoints", chain_raw(&objs)).compact()),
            "header_malformed",
        );
        let items: Vec<String> = chain_objs(&chain)
            .iter()
            .enumerate()
            .map(|(i, o)| if i == 1 { o.array() } else { o.compact() })
            .collect();
        f(
            "fatal-header-malformed-checkpoint-array",
            "A checkpoint written as a JSON array of its values is header_malformed (§10).",
            with_two(
                &hdr(self)
                    .set("checkpoints", format!("[{}]", items.join(",")))
                    .compact(),
            ),
            "header_malformed",
        );
        let main_obj = self.petition_obj(title, &[0, 1, 2], 2, Some(2), "main");
        let petition_header = |g: &Self, obj: &Obj| {
            hdr(g)
                .set("petition_file", js(&(obj.pretty() + "\n")))
                .compact()
        };
        f(
            "fatal-petition-title-blank",
            "An embedded petition whose title is only whitespace is petition_invalid (§13).",
            with_two(&petition_header(
                self,
                &main_obj.clone().set("title", js(" \t ")),
            )),
            "petition_invalid",
        );
        f(
            "fatal-petition-title-too-long",
            "An embedded petition whose title is 501 bytes (251 characters) is petition_invalid (§13).",
            with_two(&petition_header(
                self,
                &main_obj
                    .clone()
                    .set("title", js(&format!("{}a", "ц".repeat(250)))),
            )),
            "petition_invalid",
        );
        f(
            "fatal-petition-text-too-long",
            "An embedded petition whose text is 100,001 bytes is petition_invalid (§13).",
            with_two(&petition_header(
                self,
                &main_obj.clone().set("text", js(&"a".repeat(100_001))),
            )),
            "petition_invalid",
        );
        f(
            "fatal-petition-registrar-key-small-order",
            "An embedded petition whose registrar_key is a small-order point (the identity, 01 00…00) is petition_invalid (§12, §13).",
            with_two(&petition_header(
                self,
                &main_obj
                    .clone()
                    .set("registrar_key", js(&format!("01{}", "00".repeat(31)))),
            )),
            "petition_invalid",
        );
        f(
            "fatal-petition-unknown-field",
            "An embedded petition with an unknown field is petition_invalid (§10, §13).",
            with_two(&petition_header(
                self,
                &main_obj.clone().with("extra", "true"),
            )),
            "petition_invalid",
        );
        f(
            "fatal-petition-not-json",
            "An embedded petition that is not JSON is petition_invalid (§13).",
            with_two(&hdr(self).set("petition_file", js("a petition\n")).compact()),
            "petition_invalid",
        );
        let schema_with = |g: &Self, raw: String| with_two(&hdr(g).set("schema", raw).compact());
        f(
            "fatal-schema-duplicate-label",
            "An embedded schema with the label key \"current\" twice in one slot is schema_invalid (§11).",
            schema_with(
                self,
                replace_once(&self.schema_raw, "{\"7\":3,", "{\"7\":3,\"current\":1,"),
            ),
            "schema_invalid",
        );
        f(
            "fatal-schema-code-zero",
            "An embedded schema with a label of code 0 is schema_invalid (§11).",
            schema_with(
                self,
                replace_once(&self.schema_raw, "\"current\":1", "\"current\":0"),
            ),
            "schema_invalid",
        );
        f(
            "fatal-schema-too-many-slots",
            "An embedded schema with 5 slots is schema_invalid (§11).",
            schema_with(
                self,
                replace_once(
                    &self.schema_raw,
                    "\"slots\":[",
                    "\"slots\":[{\"name\":\"a\",\"labels\":{}},{\"name\":\"b\",\"labels\":{}},",
                ),
            ),
            "schema_invalid",
        );
        let vk_header = |g: &Self, vk_hex: String, vk_hash: String| {
            with_two(
                &hdr(g)
                    .set("verifying_key", js(&vk_hex))
                    .set("verifying_key_hash", js(&vk_hash))
                    .compact(),
            )
        };
        let hash = |bytes: &[u8]| blake3::hash(bytes).to_hex().to_string();
        f(
            "fatal-verifying-key-upper-case-hex",
            "A verifying key in upper-case hex is verifying_key_invalid (§2).",
            vk_header(self, self.vk_hex.to_ascii_uppercase(), self.vk_hash.clone()),
            "verifying_key_invalid",
        );
        let short = &self.vk_bytes[..self.vk_bytes.len() - 1];
        f(
            "fatal-verifying-key-wrong-length",
            "A verifying key one byte short is verifying_key_invalid (§2 verifying key bytes).",
            vk_header(self, hex::encode(short), hash(short)),
            "verifying_key_invalid",
        );
        let mut bad = self.vk_bytes.clone();
        bad[..32].copy_from_slice(&g1_x_not_on_curve());
        f(
            "fatal-verifying-key-not-on-curve",
            "A verifying key whose alpha has an x with no point on the curve is verifying_key_invalid (§2).",
            vk_header(self, hex::encode(&bad), hash(&bad)),
            "verifying_key_invalid",
        );
        let mut bad = self.vk_bytes.clone();
        bad[..32].fill(0);
        bad[31] = 0x40;
        f(
            "fatal-verifying-key-infinity",
            "A verifying key whose alpha is the point at infinity is verifying_key_invalid (§2, §15 step 1).",
            vk_header(self, hex::encode(&bad), hash(&bad)),
            "verifying_key_invalid",
        );
        f(
            "fatal-verifying-key-hash-mismatch",
            "A header whose verifying_key_hash is not blake3 of its verifying key is verifying_key_hash_mismatch (§15 step 1).",
            vk_header(self, self.vk_hex.clone(), hash(b"another key")),
            "verifying_key_hash_mismatch",
        );
        f(
            "fatal-verifying-key-not-petition",
            "A bundle carrying another valid verifying key (with its correct hash) than the petition names is verifying_key_not_petition (§13, §15 step 1).",
            vk_header(self, hex::encode(&self.other_vk_bytes), hash(&self.other_vk_bytes)),
            "verifying_key_not_petition",
        );
        let schema_hash = self.schema.hash();
        let rival = |_: &Self, specs: &[(u64, u64, u64, Fr, u64)], key: &RegistrarKey, id| {
            sign_chain(key, id, schema_hash, specs)
        };
        let specs: Vec<(u64, u64, u64, Fr, u64)> = chain
            .iter()
            .map(|c| (c.size, c.removed, c.removed_since_previous, c.root, c.time))
            .collect();
        let chain_header = |g: &Self, objs: &[Obj]| {
            with_two(&hdr(g).set("checkpoints", chain_raw(objs)).compact())
        };
        let mut objs = chain_objs(&chain);
        let sig1 = objs[1].get_str("signature");
        let flipped = format!(
            "{}{}",
            &sig1[..127],
            if sig1.ends_with('0') { "1" } else { "0" }
        );
        objs[1] = objs[1].clone().set("signature", js(&flipped));
        f(
            "fatal-chain-bad-signature",
            "A checkpoint whose Ed25519 signature does not verify is chain_invalid (§12).",
            chain_header(self, &objs),
            "chain_invalid",
        );
        let mut objs = chain_objs(&chain);
        objs.remove(1);
        f(
            "fatal-chain-gap",
            "A chain missing checkpoint 1 is chain_invalid (§12).",
            chain_header(self, &objs),
            "chain_invalid",
        );
        f(
            "fatal-chain-wrong-registry",
            "A chain validly signed for another registry id than the petition's is chain_invalid (§12, §15 step 1).",
            chain_header(
                self,
                &chain_objs(&rival(self, &specs, &self.registrar, [0x53; 32])),
            ),
            "chain_invalid",
        );
        f(
            "fatal-chain-other-key",
            "A chain validly signed by another key than the registrar's is chain_invalid (§12).",
            chain_header(
                self,
                &chain_objs(&rival(self, &specs, &self.other_registrar, REGISTRY_ID)),
            ),
            "chain_invalid",
        );
        let mut bad_specs = specs.clone();
        bad_specs[3].2 = 7;
        f(
            "fatal-chain-removal-counts",
            "A signed checkpoint removing 7 members since one with 6 live is chain_invalid (§12 removal counts).",
            chain_header(
                self,
                &chain_objs(&rival(self, &bad_specs, &self.registrar, REGISTRY_ID)),
            ),
            "chain_invalid",
        );
        let mut bad_specs = specs.clone();
        bad_specs[2].4 = TIME0;
        f(
            "fatal-chain-time-decreases",
            "A signed checkpoint earlier than the one before it is chain_invalid (§12).",
            chain_header(
                self,
                &chain_objs(&rival(self, &bad_specs, &self.registrar, REGISTRY_ID)),
            ),
            "chain_invalid",
        );
        let mut rival_specs = specs.clone();
        rival_specs[2].4 += 1;
        f(
            "fatal-min-checkpoint-hash-mismatch",
            "A valid chain with a rival checkpoint 2 (another time) whose hash is not the petition's min_checkpoint_hash is min_checkpoint_hash_mismatch (§13).",
            chain_header(
                self,
                &chain_objs(&rival(self, &rival_specs, &self.registrar, REGISTRY_ID)),
            ),
            "min_checkpoint_hash_mismatch",
        );
        let other_schema = String::from_utf8(
            Schema::new(
                self.schema
                    .slots()
                    .iter()
                    .map(|slot| SlotSchema {
                        name: slot.name.clone(),
                        labels: slot
                            .labels
                            .iter()
                            .map(|(l, &c)| {
                                (
                                    if l == "former" {
                                        "formerly".into()
                                    } else {
                                        l.clone()
                                    },
                                    c,
                                )
                            })
                            .collect(),
                    })
                    .collect(),
            )?
            .canonical_json(),
        )?;
        f(
            "fatal-schema-not-signed",
            "A valid embedded schema with one label renamed is not the schema the checkpoints sign: schema_not_signed (§12, §15 step 1).",
            schema_with(self, other_schema.clone()),
            "schema_not_signed",
        );
        f(
            "fatal-order-petition-before-verifying-key",
            "A header with both a blank petition title and an upper-case verifying key is petition_invalid: the petition is checked first (§15 step 1 order).",
            with_two(
                &hdr(self)
                    .set(
                        "petition_file",
                        js(&(main_obj.clone().set("title", js(" ")).pretty() + "\n")),
                    )
                    .set("verifying_key", js(&self.vk_hex.to_ascii_uppercase()))
                    .compact(),
            ),
            "petition_invalid",
        );
        f(
            "fatal-order-chain-before-schema-signed",
            "A header with a bad checkpoint signature and an unsigned schema is chain_invalid: the chain is checked before the schema hash (§15 step 1 order).",
            {
                let mut objs = chain_objs(&chain);
                objs[1] = objs[1].clone().set("signature", js(&flipped));
                with_two(
                    &hdr(self)
                        .set("checkpoints", chain_raw(&objs))
                        .set("schema", other_schema.clone())
                        .compact(),
                )
            },
            "chain_invalid",
        );
        let other_key = self.other_registrar.public_key().to_hex();
        let mut not_pinned = args.clone();
        not_pinned.extend(["--vk-hash".to_owned(), hash(b"a pinned key")]);
        fatal.push((
            "fatal-verifying-key-not-pinned",
            "An audit pinning another verifying key hash with --vk-hash is verifying_key_not_pinned (§15 step 1).",
            with_two(&hdr(self).compact()),
            not_pinned,
            "verifying_key_not_pinned",
        ));
        fatal.push((
            "fatal-registrar-key-mismatch",
            "An audit given another registrar key than the petition names is registrar_key_mismatch (§15 step 1).",
            with_two(&hdr(self).compact()),
            vec!["--registrar-key".into(), other_key.clone()],
            "registrar_key_mismatch",
        ));
        fatal.push((
            "fatal-order-hash-mismatch-before-registrar-key",
            "A header whose verifying_key_hash is wrong, audited with another registrar key, is verifying_key_hash_mismatch: checked first (§15 step 1 order).",
            vk_header(self, self.vk_hex.clone(), hash(b"another key")),
            vec!["--registrar-key".into(), other_key],
            "verifying_key_hash_mismatch",
        ));
        for (name, tests, bytes, a, code) in fatal {
            self.out.vector(name, tests, bytes, a, Intent::fatal(code));
        }

        // ----- unreadable input and usage errors: exit 2, no report
        self.out
            .files
            .push(("bundles/unreadable-empty-file.jsonl".into(), Vec::new()));
        let valid = "bundles/valid-masks.jsonl".to_owned();
        let usage: [(&str, &str, String, Vec<String>); 8] = [
            (
                "unreadable-empty-file",
                "An empty file (zero bytes) is unreadable: exit 2, no report (§15).",
                "bundles/unreadable-empty-file.jsonl".into(),
                args.clone(),
            ),
            (
                "unreadable-missing-file",
                "A bundle path that does not exist is unreadable: exit 2, no report (§15).",
                "bundles/no-such-bundle.jsonl".into(),
                args.clone(),
            ),
            (
                "usage-no-registrar-key",
                "An audit without --registrar-key is a usage error: exit 2 (§15).",
                valid.clone(),
                Vec::new(),
            ),
            (
                "usage-registrar-key-not-hex",
                "--registrar-key of 64 non-hex characters is a usage error: exit 2 (§15).",
                valid.clone(),
                vec!["--registrar-key".into(), "z".repeat(64)],
            ),
            (
                "usage-registrar-key-short",
                "--registrar-key of 62 hex digits is a usage error: exit 2 (§15).",
                valid.clone(),
                vec!["--registrar-key".into(), self.key_hex[..62].to_owned()],
            ),
            (
                "usage-registrar-key-small-order",
                "--registrar-key that is not a valid public key (the identity point, small order) is a usage error: exit 2 (§12, §15).",
                valid.clone(),
                vec!["--registrar-key".into(), format!("01{}", "00".repeat(31))],
            ),
            (
                "usage-vk-hash-short",
                "--vk-hash of 63 hex digits is a usage error: exit 2 (§15).",
                valid.clone(),
                {
                    let mut a = args.clone();
                    a.extend(["--vk-hash".to_owned(), self.vk_hash[..63].to_owned()]);
                    a
                },
            ),
            (
                "usage-vk-hash-0x-prefix",
                "--vk-hash written with a 0x prefix is a usage error: exit 2 (§15).",
                valid,
                {
                    let mut a = args.clone();
                    a.extend(["--vk-hash".to_owned(), format!("0x{}", self.vk_hash)]);
                    a
                },
            ),
        ];
        for (name, tests, bundle, a) in usage {
            self.out.entry(name, tests, bundle, a, None);
        }
        Ok(())
    }
}
