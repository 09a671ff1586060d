//! The conformance vectors of `tests/vectors` (`SPEC.md` §15), run through the library's
//! `audit` directly, with both proof checkers (`VerifierMode::Fast` and `::Reference`).
//!
//! The workspace's `tests/conformance.rs` runs the same vectors through the `undersign` binary;
//! this test keeps the audit's rules pinned where a change to them is made, so that mutation
//! testing of this crate (`cargo mutants -p undersign-tally`, README "Testing the tests") sees
//! every vector without building the command line. Reports are compared as JSON values, texts
//! included (the one text the binary rewrites aside, see [`comparable`]).

use serde_json::Value;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use undersign_registry::registrar::RegistrarPublicKey;
use undersign_tally::bundle::{audit, AuditOptions};
use undersign_tally::check::VerifierMode;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

/// The report as the binary prints it, but for one informative text the binary rewrites: the
/// message of a `header_malformed` fatal problem, which names the kind of a file that is not a
/// bundle (`undersign audit signature.json`).
fn comparable(mut value: Value) -> Value {
    if let Some(fatal) = value.get_mut("fatal").and_then(Value::as_object_mut) {
        if fatal.get("code") == Some(&Value::from("header_malformed")) {
            fatal.remove("message");
        }
    }
    value
}

/// The options a vector's arguments give, or `None` for a usage-error vector.
fn options(args: &[&str], verifier: VerifierMode) -> Option<AuditOptions> {
    let mut registrar_key = None;
    let mut pinned_vk_hash = None;
    for pair in args.chunks(2) {
        let [flag, value] = pair else { return None };
        if value.len() != 64 {
            return None;
        }
        let bytes: [u8; 32] = hex::decode(value).ok()?.try_into().ok()?;
        match *flag {
            "--registrar-key" => registrar_key = Some(RegistrarPublicKey::from_bytes(&bytes).ok()?),
            "--vk-hash" => pinned_vk_hash = Some(hex::encode(bytes)),
            _ => return None,
        }
    }
    Some(AuditOptions {
        registrar_key: registrar_key?,
        pinned_vk_hash,
        verifier,
    })
}

#[test]
fn library_audit_gives_every_expected_report_with_both_proof_checkers() {
    let dir = vectors_dir();
    let manifest: Vec<Value> =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest.json"))
            .expect("manifest.json is a JSON array");
    let mut checked = 0;
    let mut failures = Vec::new();
    for entry in &manifest {
        let name = entry["name"].as_str().expect("name");
        let args: Vec<&str> = entry["args"]
            .as_array()
            .expect("args")
            .iter()
            .map(|a| a.as_str().expect("argument"))
            .collect();
        let exit = entry["exit"].as_i64().expect("exit");
        for verifier in [VerifierMode::Fast, VerifierMode::Reference] {
            let options = options(&args, verifier);
            let file = std::fs::File::open(dir.join(entry["bundle"].as_str().expect("bundle")));
            let result = match (&options, file) {
                (Some(options), Ok(file)) => Some(audit(BufReader::new(file), options)),
                _ => None,
            };
            let Some(expected) = entry["expected"].as_str() else {
                // Exit 2: a usage error, or a missing or empty file (no report).
                assert_eq!(exit, 2, "{name}: no expected report but exit {exit}");
                if let Some(Ok(report)) = result {
                    failures.push(format!("{name}: gave a report, expected none: {report:?}"));
                }
                continue;
            };
            let Some(result) = result else {
                failures.push(format!("{name}: arguments or bundle unusable"));
                continue;
            };
            let report = match result {
                Ok(report) => report,
                Err(e) => {
                    failures.push(format!("{name} ({verifier:?}): error {e}"));
                    continue;
                }
            };
            let got = comparable(serde_json::to_value(&report).expect("report serializes"));
            let want: Value = serde_json::from_slice(
                &std::fs::read(dir.join(expected)).expect("expected report"),
            )
            .expect("expected report is JSON");
            if got != comparable(want) {
                failures.push(format!(
                    "{name} ({verifier:?}): report differs from {expected}:\n{}",
                    serde_json::to_string_pretty(&got).unwrap_or_default()
                ));
            }
            if report.valid != (exit == 0) {
                failures.push(format!("{name}: valid {} but exit {exit}", report.valid));
            }
            checked += 1;
        }
    }
    assert!(checked > 200, "only {checked} audits checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
