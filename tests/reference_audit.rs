//! `undersign audit --reference` (arkworks' own point decoding and `Groth16::verify_proof`, one
//! proof at a time) against the default fast paths: for every bundle of `tests/vectors`
//! (`manifest.json`, with its arguments) both runs must print the same `--json` report, byte for
//! byte, on stdout, and exit with the same code. The vectors include the tamper tests (flipped
//! proof bytes, points off the curve or outside the subgroup, non-canonical encodings, proofs
//! for other inputs), so the two verifiers are compared exactly where they could differ.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn audit(dir: &Path, bundle: &str, args: &[&str], reference: bool) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_undersign"));
    command
        .current_dir(dir)
        .args(["audit", "--json", bundle])
        .args(args);
    if reference {
        command.arg("--reference");
    }
    command.output().expect("run undersign")
}

#[test]
fn reference_and_fast_audits_give_the_same_reports() {
    let dir = vectors_dir();
    let bytes = std::fs::read(dir.join("manifest.json")).expect("tests/vectors/manifest.json");
    let entries: Vec<Value> = serde_json::from_slice(&bytes).expect("a JSON array");
    assert!(entries.len() > 100, "only {} vectors", entries.len());
    let mut failures = Vec::new();
    let mut rejected_proofs = 0;
    for entry in &entries {
        let name = entry["name"].as_str().expect("name");
        let bundle = entry["bundle"].as_str().expect("bundle");
        let args: Vec<&str> = entry["args"]
            .as_array()
            .expect("args")
            .iter()
            .map(|a| a.as_str().expect("string argument"))
            .collect();
        let fast = audit(&dir, bundle, &args, false);
        let reference = audit(&dir, bundle, &args, true);
        if fast.status.code() != reference.status.code() {
            failures.push(format!(
                "{name}: exit {:?} (fast) vs {:?} (reference)",
                fast.status.code(),
                reference.status.code()
            ));
        }
        if fast.stdout != reference.stdout {
            let (f, r) = (
                String::from_utf8_lossy(&fast.stdout),
                String::from_utf8_lossy(&reference.stdout),
            );
            let (line, (f, r)) = f
                .lines()
                .chain(std::iter::repeat("<end>"))
                .zip(r.lines().chain(std::iter::repeat("<end>")))
                .enumerate()
                .find(|(_, (f, r))| f != r)
                .unwrap_or((0, ("?", "?")));
            failures.push(format!(
                "{name}: reports differ at line {}: fast {f:.120?}, reference {r:.120?}",
                line + 1
            ));
        }
        let report = String::from_utf8_lossy(&fast.stdout);
        rejected_proofs +=
            report.matches("\"invalid_proof\"").count() + report.matches("\"malformed\"").count();
    }
    // The comparison means something only if some proofs were refused.
    assert!(rejected_proofs > 0, "no vector rejects a proof");
    assert!(
        failures.is_empty(),
        "{} of {} vectors audit differently with --reference:\n{}",
        failures.len(),
        entries.len(),
        failures.join("\n")
    );
}
