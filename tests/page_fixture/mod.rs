//! A small petition for the tally-page tests (`tests/page_browser.rs`, `tests/publish.rs`):
//! development keys at depth 10, a registry of 120 members, a petition whose title and text
//! hold markup, and 90 signatures disclosing nothing, status, or status and ministry. Proofs
//! are simulated with the development setup's trapdoor (SPEC §9, "Benchmark data"): valid
//! Groth16 proofs under these keys, checked exactly like real ones, made in milliseconds.

#![allow(dead_code)]

use ark_bn254::Fr;
use ark_ec::CurveGroup;
use ark_ff::UniformRand;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use undersign::core::attributes::{Attributes, Mask};
use undersign::core::identity::IdentitySecret;
use undersign::core::scope::message;
use undersign::proof::encoding::ProofBytes;
use undersign::proof::keys::KeySet;
use undersign::proof::{Prover, Statement};
use undersign::registry::registrar::RegistrarKey;
use undersign::registry::registry::Registry;
use undersign::registry::schema::Schema;
use undersign::tally::bundle::{build, write_bundle};
use undersign::tally::check::Checker;
use undersign::tally::petition::{PetitionFields, PetitionFile};
use undersign_bench_data::Trapdoor;

pub const DEPTH: u32 = 10;
pub const MEMBERS: usize = 120;
pub const SIGNERS: usize = 90;
const KEY_SEED: [u8; 32] = [11u8; 32];
const TIME: u64 = 1_800_000_000;

/// A title that would run a script and load an image from another host if it were not
/// escaped.
pub const HOSTILE_TITLE: &str =
    "Open letter <script>alert(\"x\")</script><img src=\"https://evil.example/t.png\"> & «Стоп»";

pub struct Fixture {
    pub dir: PathBuf,
    pub keys: PathBuf,
    pub registry_path: PathBuf,
    pub registry_bytes: Vec<u8>,
    pub registry_id: String,
    pub registrar_pub: String,
    pub vk_hash: String,
    pub petition: PetitionFile,
    /// Signature files (pretty JSON), one per signer.
    pub signatures: Vec<String>,
    /// A bundle of every signature, built with the library (`bundle build`'s code).
    pub bundle: PathBuf,
}

fn attrs(i: usize) -> Attributes {
    Attributes([1 + (i % 2) as u16, 1 + (i / 2 % 3) as u16, 0, 0])
}

pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("undersign-page-test-")
            .tempdir()
            .unwrap()
            .keep();
        let keyset = KeySet::development(DEPTH, &KEY_SEED).unwrap();
        let keys = dir.join("keys");
        let manifest = keyset.write(&keys).unwrap();
        let prover = Prover::new(DEPTH, keyset.proving_key).unwrap();
        let verifier = prover.verifier().clone();
        let vk_hash = verifier.key_hash().to_owned();
        let registrar = RegistrarKey::from_secret_bytes(&[13u8; 32]);
        let schema = Schema::from_json(
            br#"{"version":1,"kind":"undersign-schema","slots":[
                {"name":"status","labels":{"current":1,"former":2}},
                {"name":"ministry","labels":{"health":1,"justice":2,"culture":3}}]}"#,
        )
        .unwrap();
        let mut registry = Registry::new(schema, DEPTH, [21u8; 32]).unwrap();
        let secrets: Vec<IdentitySecret> = (0..MEMBERS)
            .map(|i| IdentitySecret::from_bytes(ChaCha20Rng::seed_from_u64(7_000 + i as u64).gen()))
            .collect();
        for (i, s) in secrets.iter().enumerate() {
            registry.add(s.commitment(), attrs(i)).unwrap();
        }
        let checkpoint = registry.checkpoint(&registrar, TIME).unwrap().clone();
        let registry_bytes = registry.to_json();
        let registry_path = dir.join("registry.json");
        std::fs::write(&registry_path, &registry_bytes).unwrap();
        let petition = PetitionFile::create(PetitionFields {
            version: 1,
            kind: undersign::tally::petition::KIND.into(),
            title: HOSTILE_TITLE.into(),
            text: "We ask for a page <b>anyone</b> can read.\n</div><script>alert(1)</script>"
                .into(),
            registry: hex::encode(registry.id()),
            registrar_key: registrar.public_key().to_hex(),
            verifying_key: vk_hash.clone(),
            proving_key: manifest.proving_key.blake3,
            disclose: vec![0, 1],
            min_checkpoint: checkpoint.sequence,
            min_checkpoint_hash: hex::encode(checkpoint.hash()),
            max_checkpoint: Some(checkpoint.sequence),
            nonce: hex::encode([3u8; 32]),
        })
        .unwrap();
        std::fs::write(dir.join("petition.json"), petition.bytes()).unwrap();
        let tree = registry.tree().unwrap();
        let root = checkpoint.root;
        let trapdoor = Trapdoor::recover(&KEY_SEED, verifier.verifying_key()).unwrap();
        let signatures: Vec<String> = (0..SIGNERS)
            .map(|i| {
                let mut rng = ChaCha20Rng::seed_from_u64(i as u64);
                let mask = match i % 3 {
                    0 => Mask::NONE,
                    1 => Mask::from_slots(&[0]).unwrap(),
                    _ => Mask::from_slots(&[0, 1]).unwrap(),
                };
                let statement = Statement::new(
                    secrets[i].sk(),
                    &attrs(i),
                    &tree.path(i as u64).unwrap(),
                    root,
                    petition.scope(),
                    message(None),
                    mask,
                );
                let vk = verifier.verifying_key();
                let (a, b) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
                let b_point = (trapdoor.g2() * b).into_affine();
                let proof = trapdoor.simulate(vk, &statement.public, a, b, b_point);
                undersign::tally::signature::Signature {
                    petition: petition.id(),
                    root,
                    nullifier: statement.public.nullifier,
                    mask,
                    disclosed: attrs(i).disclose(mask),
                    comment: None,
                    proof: ProofBytes::encode(&proof).unwrap(),
                }
                .to_json_pretty()
            })
            .collect();
        let checker = Checker::new(petition.clone(), registry.checkpoints(), verifier.clone());
        let inputs = signatures
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("sig{i}"), s.clone().into_bytes()))
            .collect();
        let outcome = build(&checker, inputs);
        assert_eq!(outcome.accepted.len(), SIGNERS, "{:?}", outcome.dropped);
        let bundle = dir.join("bundle.jsonl");
        let mut file = std::fs::File::create(&bundle).unwrap();
        write_bundle(
            &mut file,
            &petition,
            registry.schema(),
            registry.checkpoints(),
            &verifier,
            &outcome.accepted,
        )
        .unwrap();
        Fixture {
            dir,
            keys,
            registry_path,
            registry_bytes,
            registry_id: hex::encode(registry.id()),
            registrar_pub: registrar.public_key().to_hex(),
            vk_hash,
            petition,
            signatures,
            bundle,
        }
    })
}

/// Runs the `undersign` binary.
pub fn undersign(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_undersign"))
        .args(args)
        .output()
        .unwrap()
}

/// `undersign audit BUNDLE --registrar-key KEY --json`: exit status and report.
pub fn audit_json(bundle: &Path, registrar: &str) -> (i32, serde_json::Value) {
    let out = undersign(&[
        "audit",
        bundle.to_str().unwrap(),
        "--registrar-key",
        registrar,
        "--json",
    ]);
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "audit output is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

/// The text of the element with `id` in `html` (its first text up to the next tag).
pub fn text_by_id<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let rest = &html[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find('<')? + start;
    Some(&rest[start..end])
}

/// The rows of the table starting at `html[at..]`: for each `<tr` with attribute `key`, that
/// attribute's value and the text of the row's `class="n count"` cell.
pub fn table_counts(html: &str, key: &str) -> Vec<(String, u64)> {
    let end = html.find("</table>").unwrap_or(html.len());
    let table = &html[..end];
    let marker = format!("<tr {key}=\"");
    table
        .split(marker.as_str())
        .skip(1)
        .map(|row| {
            let value = row[..row.find('"').unwrap()].to_owned();
            let count = text_by_class(row, "n count").unwrap();
            (value, count.trim().parse().unwrap())
        })
        .collect()
}

fn text_by_class<'a>(html: &'a str, class: &str) -> Option<&'a str> {
    let at = html.find(&format!("class=\"{class}\""))?;
    let rest = &html[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find('<')? + start;
    Some(&rest[start..end])
}

/// Checks that the page's numbers are the audit's: the total, every breakdown row of every
/// slot, every disclosed combination and every root.
pub fn assert_numbers_match(html: &str, report: &serde_json::Value, what: &str) {
    assert_eq!(
        text_by_id(html, "total").map(str::trim),
        Some(report["count"].to_string().as_str()),
        "{what}: total"
    );
    let breakdown = report["breakdown"].as_array().unwrap();
    assert!(!breakdown.is_empty());
    for slot in breakdown {
        let marker = format!("<table class=\"breakdown\" data-slot=\"{}\">", slot["slot"]);
        let at = html
            .find(&marker)
            .unwrap_or_else(|| panic!("{what}: no table for slot {}", slot["slot"]));
        let rows = table_counts(&html[at..], "data-code");
        let expected: Vec<(String, u64)> = slot["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let code = match r["code"].as_u64() {
                    Some(c) => c.to_string(),
                    None => "none".to_owned(),
                };
                (code, r["count"].as_u64().unwrap())
            })
            .collect();
        assert_eq!(rows, expected, "{what}: breakdown of slot {}", slot["slot"]);
    }
    let at = html.find("<table class=\"groups\">").expect("groups table");
    let end = html[at..].find("</table>").unwrap() + at;
    let mut rows: Vec<(String, u64)> = html[at..end]
        .split("<tr data-mask=\"")
        .skip(1)
        .map(|row| {
            let mask = &row[..row.find('"').unwrap()];
            let codes = row.split("data-codes=\"").nth(1).unwrap();
            let codes = &codes[..codes.find('"').unwrap()];
            let count = text_by_class(row, "n count")
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            (format!("{mask}/{codes}"), count)
        })
        .collect();
    rows.sort();
    let mut expected: Vec<(String, u64)> = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let codes: Vec<String> = g["codes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.to_string())
                .collect();
            (
                format!("{}/{}", g["mask"], codes.join(",")),
                g["count"].as_u64().unwrap(),
            )
        })
        .collect();
    expected.sort();
    assert_eq!(rows, expected, "{what}: groups");
    let at = html.find("<table class=\"roots\">").expect("roots table");
    let roots: Vec<u64> = table_counts_plain(&html[at..]);
    let expected: Vec<u64> = report["roots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["count"].as_u64().unwrap())
        .collect();
    assert_eq!(roots, expected, "{what}: roots");
}

fn table_counts_plain(html: &str) -> Vec<u64> {
    let end = html.find("</table>").unwrap_or(html.len());
    html[..end]
        .split("<tr>")
        .skip(1)
        .filter_map(|row| text_by_class(row, "n count"))
        .map(|n| n.trim().parse().unwrap())
        .collect()
}

/// Every `href` and `src` attribute value in `html`, tags only: in serialized HTML every
/// literal `<` opens a tag (text has `&lt;`), so text that looks like an attribute is skipped.
pub fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for tag in html.split('<').skip(1) {
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        for attr in [" href=\"", " src=\""] {
            let mut rest = tag;
            while let Some(at) = rest.find(attr) {
                rest = &rest[at + attr.len()..];
                let end = rest.find('"').unwrap_or(rest.len());
                out.push(rest[..end].to_owned());
            }
        }
    }
    out
}

/// `text` with the character references a serializer writes decoded.
pub fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// Fails if any link in `html` could reach another host.
pub fn assert_links_stay_here(html: &str, what: &str) {
    for link in links(html) {
        let local = link == "data:," || !(link.contains("//") || link.contains(':'));
        assert!(local, "{what}: the link {link:?} may reach another host");
    }
}
