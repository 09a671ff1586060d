//! The bodies of Undersign's fuzz targets: one function per parser of outside data, each
//! feeding its input to the parser exactly as the program does and checking what must hold
//! for every input, not only that nothing panics.
//!
//! `fuzz/` (cargo-fuzz, libFuzzer, nightly) wraps each [`Target`] in a `fuzz_target!`; this
//! crate builds on stable, so `tests/regressions.rs` runs every kept crash input
//! (`fuzz/regressions/<target>/`) and every seed through the same functions in `cargo test`.
//! README "Testing the tests" and `docs/testing.md` have the commands.
//!
//! What each target checks beyond "no panic, no hang, no allocation past libFuzzer's limit":
//!
//! | target | input | also checks |
//! |---|---|---|
//! | `signature` | a signature file | re-encoding round-trips; the fixture's checker never panics on it |
//! | `bundle_line` | the lines after the fixture bundle's header | fast and reference audits agree; a single line counts exactly when the collector's check accepts it |
//! | `bundle` | a whole bundle | a report for every non-empty input; fast and reference audits give the same report |
//! | `registry` | a registry file | re-encoding is a fixed point |
//! | `csv` | a registrar's CSV of members | all rows or none: a refused file leaves the registry as it was |
//! | `registrar_key` | a registrar key file, a public key in hex or JSON | a decoded key re-encodes to its input |
//! | `petition` | a petition file | its id is the blake3 of its bytes; its fields make a valid petition again |
//! | `schema` | a schema file | canonical JSON parses to the same canonical JSON |
//! | `checkpoint` | one checkpoint object | serde round-trip; signature and chain checks agree |
//! | `keys` | `keys.json`, `verifying.key` or `proving.key` | — |
//! | `ceremony` | a phase 1 or phase 2 transcript | a decoded transcript re-encodes to the same bytes; small phase 1 transcripts are verified |
//! | `ptau` | a snarkjs `.ptau` file, imported and verified as `ceremony phase1 import` does | — |
//! | `identity` | an identity file, plain or age-encrypted | — |
//! | `http` | a request to the collector (stateful: see [`fixture::http_request`]) | no 500: every refusal is a 4xx (or 503) |
//! | `proof` | 128 proof bytes (and hex) | the fast decoder accepts exactly what arkworks' does, with the same points |

pub mod fixture;

use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

use undersign_ceremony::{Phase1, Phase2};
use undersign_proof::encoding::{verifying_key_from_bytes, ProofBytes};
use undersign_proof::keys::{self, KeyManifest};
use undersign_proof::Verifier;
use undersign_registry::checkpoint::{verify_chain, Checkpoint};
use undersign_registry::registrar::RegistrarPublicKey;
use undersign_registry::registry::Registry;
use undersign_registry::schema::Schema;
use undersign_tally::bundle::{audit, AuditOptions};
use undersign_tally::check::VerifierMode;
use undersign_tally::petition::PetitionFile;
use undersign_tally::signature::{Signature, MAX_SIGNATURE_BYTES};

/// A parser under fuzzing; its [`Target::name`] names the `fuzz/` binary, its corpus and its
/// regression directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Signature files (`Signature::from_json`) and the checker's rules on them.
    Signature,
    /// Signature lines after the fixture bundle's header (`bundle::audit`, both proof checks,
    /// against `Checker::check_bytes`).
    BundleLine,
    /// A whole bundle: header and lines (`bundle::audit`), fast and reference proof checks.
    Bundle,
    /// Registry files (`Registry::from_json`).
    Registry,
    /// A registrar's CSV of members (`csv_import::import_csv` into the fixture registry).
    Csv,
    /// Registrar key files and public keys (`RegistrarKey::from_file_bytes`,
    /// `RegistrarPublicKey::from_hex` and its JSON form).
    RegistrarKey,
    /// Petition files (`PetitionFile::parse`).
    Petition,
    /// Schema files (`Schema::from_json`).
    Schema,
    /// A checkpoint object (`json::from_slice::<Checkpoint>`, `verify_chain`).
    Checkpoint,
    /// A key directory's files: `keys.json`, `verifying.key`, `proving.key`.
    Keys,
    /// Ceremony transcripts (`Phase1::from_bytes`, `Phase2::from_bytes`).
    Ceremony,
    /// snarkjs `.ptau` files (`ptau::read_prefix`).
    Ptau,
    /// Identity files, plain or age-encrypted.
    Identity,
    /// HTTP requests to the collector's router (request bodies and paths).
    Http,
    /// Proof bytes (`ProofBytes::decode` against arkworks' decoding).
    Proof,
}

impl Target {
    /// Every target, in the order README lists them.
    pub const ALL: [Target; 15] = [
        Target::Signature,
        Target::BundleLine,
        Target::Bundle,
        Target::Registry,
        Target::Csv,
        Target::RegistrarKey,
        Target::Petition,
        Target::Schema,
        Target::Checkpoint,
        Target::Keys,
        Target::Ceremony,
        Target::Ptau,
        Target::Identity,
        Target::Http,
        Target::Proof,
    ];

    /// The name of the `fuzz/` binary and of its corpus and regression directories.
    pub fn name(self) -> &'static str {
        match self {
            Target::Signature => "signature",
            Target::BundleLine => "bundle_line",
            Target::Bundle => "bundle",
            Target::Registry => "registry",
            Target::Csv => "csv",
            Target::RegistrarKey => "registrar_key",
            Target::Petition => "petition",
            Target::Schema => "schema",
            Target::Checkpoint => "checkpoint",
            Target::Keys => "keys",
            Target::Ceremony => "ceremony",
            Target::Ptau => "ptau",
            Target::Identity => "identity",
            Target::Http => "http",
            Target::Proof => "proof",
        }
    }

    /// Runs `data` through this target (panics on a broken invariant: a finding).
    pub fn run(self, data: &[u8]) {
        match self {
            Target::Signature => signature(data),
            Target::BundleLine => bundle_line(data),
            Target::Bundle => bundle(data),
            Target::Registry => registry(data),
            Target::Csv => csv(data),
            Target::RegistrarKey => registrar_key(data),
            Target::Petition => petition(data),
            Target::Schema => schema(data),
            Target::Checkpoint => checkpoint(data),
            Target::Keys => keys_files(data),
            Target::Ceremony => ceremony(data),
            Target::Ptau => ptau(data),
            Target::Identity => identity(data),
            Target::Http => http(data),
            Target::Proof => proof(data),
        }
    }
}

/// A signature file; if it parses, its one-line encoding parses to the same signature, and the
/// fixture petition's checker judges it without panicking.
pub fn signature(data: &[u8]) {
    let Ok(signature) = Signature::from_json(data) else {
        return;
    };
    let line = signature.to_json_line();
    let again = Signature::from_json(line.as_bytes()).expect("a signature's own line parses");
    assert_eq!(
        again.to_json_line(),
        line,
        "re-encoding changed the signature"
    );
    // The pretty form is longer; it parses when it fits the size limit.
    let pretty = signature.to_json_pretty();
    if pretty.len() <= MAX_SIGNATURE_BYTES {
        let pretty = Signature::from_json(pretty.as_bytes()).expect("a pretty signature parses");
        assert_eq!(pretty.to_json_line(), line);
    }
    let _ = fixture::get().checker.check_bytes(data);
}

/// Signature lines after the fixture bundle's header (which announces one): the fast and
/// reference audits give the same report, and a single line counts exactly when the check the
/// collector and `undersign verify` use accepts it.
pub fn bundle_line(data: &[u8]) {
    let fixture = fixture::get();
    let header = fixture
        .bundle
        .split(|&b| b == b'\n')
        .next()
        .unwrap_or_default();
    let bundle = [header, b"\n", data].concat();
    let Some(report) = audit_both_ways(&bundle, fixture.registrar_key) else {
        return;
    };
    if !data.contains(&b'\n') && !data.contains(&b'\r') && !data.is_empty() {
        let accepted = fixture.checker.check_bytes(data).is_ok();
        assert_eq!(
            report.count == 1,
            accepted,
            "the audit and the single-signature check disagree"
        );
    }
}

/// The registrar key of the conformance vectors (`tests/vectors`), whose bundles are seeds.
const VECTORS_REGISTRAR_KEY: &str =
    "8146640f02493af4fbc54fe33388e75dc2c937ae0b7727cc2b2afb1b75199a3e";

/// A whole bundle, audited by both proof checkers with the fixture registrar's key (or the
/// conformance vectors' key, when the bundle names it): every non-empty input gets a report
/// (`SPEC.md` §15.5), and the two reports are identical.
pub fn bundle(data: &[u8]) {
    let vectors_key = VECTORS_REGISTRAR_KEY.as_bytes();
    let registrar_key = if data.windows(vectors_key.len()).any(|w| w == vectors_key) {
        RegistrarPublicKey::from_hex(VECTORS_REGISTRAR_KEY).expect("the vectors' key")
    } else {
        fixture::get().registrar_key
    };
    audit_both_ways(data, registrar_key);
}

/// Audits `bundle` with the fast and the reference proof checks; they must agree, field for
/// field. An empty bundle gets no report (`None`); every other one does.
fn audit_both_ways(
    bundle: &[u8],
    registrar_key: RegistrarPublicKey,
) -> Option<undersign_tally::bundle::AuditReport> {
    let run = |verifier| {
        audit(
            bundle,
            &AuditOptions {
                registrar_key,
                pinned_vk_hash: None,
                verifier,
            },
        )
    };
    if bundle.is_empty() {
        assert!(
            run(VerifierMode::Fast).is_err(),
            "an empty bundle got a report"
        );
        return None;
    }
    let fast = run(VerifierMode::Fast).expect("a non-empty bundle gets a report");
    let reference = run(VerifierMode::Reference).expect("a non-empty bundle gets a report");
    assert_eq!(
        serde_json::to_value(&fast).expect("report serializes"),
        serde_json::to_value(&reference).expect("report serializes"),
        "the fast and reference proof checks disagree"
    );
    Some(fast)
}

/// A registry file; its own encoding is a fixed point.
pub fn registry(data: &[u8]) {
    let Ok(registry) = Registry::from_json(data) else {
        return;
    };
    let encoded = registry.to_json();
    let again = Registry::from_json(&encoded).expect("a registry's own encoding parses");
    assert_eq!(
        again.to_json(),
        encoded,
        "re-encoding the registry changed it"
    );
}

/// A registrar's CSV imported into the fixture registry: every row or none ("loses nothing"),
/// so a refused file leaves the registry byte for byte as it was.
pub fn csv(data: &[u8]) {
    let fixture = fixture::get();
    let mut registry = fixture.registry.clone();
    let before = registry.to_json();
    let members = registry.members().len();
    match undersign_registry::csv_import::import_csv(&mut registry, data) {
        Ok(added) => assert_eq!(registry.members().len(), members + added),
        Err(_) => assert_eq!(
            registry.to_json(),
            before,
            "a refused CSV changed the registry"
        ),
    }
}

/// A registrar key file, and a public key as hex and as JSON; a decoded key re-encodes to
/// the text it came from (one encoding per key).
pub fn registrar_key(data: &[u8]) {
    use undersign_registry::registrar::RegistrarKey;
    if let Ok(key) = RegistrarKey::from_file_bytes(data, Path::new("fuzzed-key.json")) {
        // A key file that parsed names the public key of its secret (or it is refused).
        let file: serde_json::Value = serde_json::from_slice(data).expect("parsed as JSON");
        if let Some(named) = file.get("public_key").and_then(|v| v.as_str()) {
            assert_eq!(
                named,
                key.public_key().to_hex(),
                "a key file's public key is not its own"
            );
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(key) = RegistrarPublicKey::from_hex(text) {
            assert_eq!(key.to_hex(), text, "a public key has two hex forms");
        }
    }
    if let Ok(key) = serde_json::from_slice::<RegistrarPublicKey>(data) {
        let again: RegistrarPublicKey =
            serde_json::from_str(&serde_json::to_string(&key).expect("key JSON")).expect("parses");
        assert_eq!(again, key);
    }
}

/// A petition file; its id is the blake3 of its bytes (SPEC §13), and its fields, written out
/// again by `petition new`'s own code, make a valid petition.
pub fn petition(data: &[u8]) {
    let Ok(petition) = PetitionFile::parse(data.to_vec()) else {
        return;
    };
    assert_eq!(petition.id(), *blake3::hash(data).as_bytes());
    let again = PetitionFile::create(petition.fields().clone())
        .expect("a parsed petition's fields make a petition");
    assert_eq!(again.fields(), petition.fields());
}

/// A schema file; its canonical JSON parses to the same canonical JSON.
pub fn schema(data: &[u8]) {
    let Ok(schema) = Schema::from_json(data) else {
        return;
    };
    let canonical = schema.canonical_json();
    let again = Schema::from_json(&canonical).expect("canonical schema JSON parses");
    assert_eq!(again, schema, "canonical JSON names another schema");
    assert_eq!(
        again.canonical_json(),
        canonical,
        "canonical JSON is not a fixed point"
    );
}

/// One checkpoint object; serde round-trips it, and a one-checkpoint chain verifies exactly
/// when its signature does (given sequence 0 and no predecessor).
pub fn checkpoint(data: &[u8]) {
    let Ok(checkpoint) = undersign_registry::json::from_slice::<Checkpoint>(data) else {
        return;
    };
    let encoded = serde_json::to_vec(&checkpoint).expect("checkpoint serializes");
    let again: Checkpoint =
        undersign_registry::json::from_slice(&encoded).expect("a checkpoint's own encoding parses");
    assert_eq!(again, checkpoint);
    let signed = checkpoint.verify_signature();
    let _ = checkpoint.hash();
    let chain = verify_chain(
        std::slice::from_ref(&checkpoint),
        &checkpoint.public_key,
        &checkpoint.registry,
    );
    if chain.is_ok() {
        assert!(signed, "a chain verified with a bad signature");
    }
}

/// A key directory's files. The first byte chooses which file the rest is: 0 `keys.json`,
/// 1 `verifying.key`, else `proving.key` (with the fixture's manifest and verifying key, the
/// manifest's hash of the proving key updated so that the parser is reached).
pub fn keys_files(data: &[u8]) {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let dir = scratch_dir().join("keys");
    let fixture = fixture::get();
    match which {
        0 => {
            write_file(&dir.join(keys::MANIFEST_FILE), body);
            let _ = keys::read_manifest(&dir);
        }
        1 => {
            if let Ok(vk) = verifying_key_from_bytes(body) {
                let _ = Verifier::new(vk);
            }
        }
        _ => {
            let mut manifest: KeyManifest = fixture.key_manifest.clone();
            manifest.proving_key.blake3 = blake3_hex(body);
            let manifest_json = serde_json::to_vec(&manifest).expect("manifest serializes");
            write_file(&dir.join(keys::MANIFEST_FILE), &manifest_json);
            write_file(
                &dir.join(&manifest.verifying_key.file),
                &fixture.verifying_key_bytes,
            );
            write_file(&dir.join(&manifest.proving_key.file), body);
            let _ = keys::load_prover(&dir);
        }
    }
}

/// A ceremony transcript: first byte even, phase 1; odd, phase 2. A decoded transcript
/// re-encodes to the very bytes it came from (one encoding per transcript).
pub fn ceremony(data: &[u8]) {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    if which % 2 == 0 {
        if let Ok(phase1) = Phase1::from_bytes(body) {
            assert_eq!(phase1.to_bytes(), body, "phase 1 re-encodes differently");
            // `phase1 verify`, for transcripts small enough to verify at fuzzing speed.
            if phase1.power() <= 5 {
                let _ = phase1.verify(&mut fuzz_rng());
            }
        }
    } else if let Ok(phase2) = Phase2::from_bytes(body) {
        assert_eq!(phase2.to_bytes(), body, "phase 2 re-encodes differently");
    }
}

/// A `.ptau` file imported for phase 1 of power 4 or 5 (the first byte chooses; the rest is
/// the file), then verified, as `ceremony phase1 import` does.
pub fn ptau(data: &[u8]) {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let path = scratch_dir().join("input.ptau");
    write_file(&path, body);
    if let Ok(phase1) = Phase1::import_ptau(&path, 4 + u32::from(which % 2)) {
        let _ = phase1.verify(&mut fuzz_rng());
    }
}

/// A seeded RNG for verification's random linear combinations (deterministic runs).
fn fuzz_rng() -> rand_chacha::ChaCha20Rng {
    use rand::SeedableRng;
    rand_chacha::ChaCha20Rng::seed_from_u64(7)
}

/// An identity file, as `identity_file::read` takes it: an age-encrypted one is decrypted with
/// the fixture passphrase (the scrypt work factor capped so that a fuzzed header cannot stall
/// the run), then parsed; a plain one is parsed.
pub fn identity(data: &[u8]) {
    let path = Path::new("fuzzed-identity.json");
    if undersign_cli::identity_file::is_encrypted(data) {
        let mut identity = age::scrypt::Identity::new(age::secrecy::SecretString::from(
            fixture::IDENTITY_PASSPHRASE.to_owned(),
        ));
        identity.set_max_work_factor(fixture::IDENTITY_WORK_FACTOR);
        if let Ok(json) = age::decrypt(&identity, data) {
            let _ = undersign_cli::identity_file::parse(path, &json);
        }
    } else {
        let _ = undersign_cli::identity_file::parse(path, data);
    }
}

/// A request to the collector's router (one server per process, with the fixture's keys,
/// registry and petition loaded, and state kept from one input to the next). The first byte
/// chooses the route; see [`fixture::http_request`]. No request may get a 500.
pub fn http(data: &[u8]) {
    let collector = fixture::collector();
    let Some(request) = fixture::http_request(collector, data) else {
        return;
    };
    let status = collector.send(request);
    assert!(
        status < 500 || status == 503,
        "status {status}: an internal error where a refusal was due"
    );
}

/// 128 proof bytes (or their hex): the fast decoder accepts exactly the proofs arkworks'
/// `Proof::deserialize_compressed` accepts with the canonical-encoding rule, with equal points.
pub fn proof(data: &[u8]) {
    use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(bytes) = ProofBytes::from_hex(text) {
            assert_eq!(bytes.to_hex(), text, "hex is not one-to-one");
        }
    }
    let Ok(bytes) = ProofBytes::from_slice(data) else {
        return;
    };
    let fast = bytes.decode().ok();
    let reference = ark_groth16::Proof::<ark_bn254::Bn254>::deserialize_compressed(data)
        .ok()
        .filter(|proof| {
            let mut again = Vec::new();
            proof.serialize_compressed(&mut again).is_ok() && again == data
        });
    assert_eq!(fast, reference, "the fast decoder disagrees with arkworks");
}

fn blake3_hex(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// A directory of this process's own for the files a target must write.
fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("undersign-fuzz-")
            .tempdir()
            .expect("a temporary directory");
        std::fs::create_dir_all(dir.path().join("keys")).expect("scratch keys directory");
        dir
    })
    .path()
}

fn write_file(path: &Path, bytes: &[u8]) {
    let mut file = std::fs::File::create(path).expect("scratch file");
    file.write_all(bytes).expect("writing a scratch file");
}
