//! The conformance vectors of `tests/vectors` (issue 27; `tests/vectors/README.md`).
//!
//! `vectors_audit_as_intended` runs `undersign audit --json <bundle> <args...>` from
//! `tests/vectors` for every manifest entry and checks the exit status, that stdout is exactly
//! `expected/<name>.json` (when the entry has one), and that the report agrees with the entry's
//! `intent` — written by the generator from what each vector is built to test, so a blessed
//! report that contradicts it still fails. With `UNDERSIGN_BLESS_VECTORS=1` the expected
//! reports are written from the binary instead of compared (the intent is still checked).
//!
//! `vectors_are_what_the_generator_writes` regenerates the vectors into a temporary directory and
//! requires the checked-in bundles and manifest to be byte-identical.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn manifest(dir: &Path) -> Vec<Value> {
    let bytes = std::fs::read(dir.join("manifest.json")).expect("tests/vectors/manifest.json");
    serde_json::from_slice(&bytes).expect("manifest.json is a JSON array")
}

#[test]
fn vectors_audit_as_intended() {
    let dir = vectors_dir();
    let bless = std::env::var_os("UNDERSIGN_BLESS_VECTORS").is_some_and(|v| v == "1");
    let entries = manifest(&dir);
    assert!(entries.len() > 100, "only {} vectors", entries.len());
    let mut failures = Vec::new();
    for entry in &entries {
        let name = entry["name"].as_str().expect("name");
        let mut errors = Vec::new();
        check_vector(&dir, entry, bless, &mut errors);
        if !errors.is_empty() {
            failures.push(format!("{name}:\n    {}", errors.join("\n    ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors disagree with `undersign audit --json`:\n{}",
        failures.len(),
        entries.len(),
        failures.join("\n")
    );
}

fn check_vector(dir: &Path, entry: &Value, bless: bool, errors: &mut Vec<String>) {
    let bundle = entry["bundle"].as_str().expect("bundle");
    let args: Vec<&str> = entry["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("string argument"))
        .collect();
    let exit = entry["exit"].as_i64().expect("exit");
    let output = Command::new(env!("CARGO_BIN_EXE_undersign"))
        .current_dir(dir)
        .args(["audit", "--json", bundle])
        .args(&args)
        .output()
        .expect("run undersign");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stderr = stderr.lines().last().unwrap_or("").trim();
    let code = output.status.code();
    if code != Some(exit as i32) {
        errors.push(format!(
            "exit {code:?}, expected {exit} (stderr: {stderr:?})"
        ));
    }
    let Some(expected) = entry["expected"].as_str() else {
        if !output.stdout.is_empty() {
            errors.push(format!(
                "printed a report, expected none: {:.120}",
                String::from_utf8_lossy(&output.stdout)
            ));
        }
        return;
    };
    let expected_path = dir.join(expected);
    if bless {
        std::fs::create_dir_all(expected_path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&expected_path, &output.stdout).expect("write expected report");
    } else {
        match std::fs::read(&expected_path) {
            Err(_) => errors.push(format!(
                "{expected} is missing (bless with UNDERSIGN_BLESS_VECTORS=1)"
            )),
            Ok(want) if want != output.stdout => {
                let got = String::from_utf8_lossy(&output.stdout);
                let want = String::from_utf8_lossy(&want);
                let (n, (g, w)) = got
                    .lines()
                    .chain(std::iter::repeat("<end>"))
                    .zip(want.lines().chain(std::iter::repeat("<end>")))
                    .enumerate()
                    .find(|(_, (g, w))| g != w)
                    .unwrap_or((0, ("?", "?")));
                errors.push(format!(
                    "stdout differs from {expected} at line {}: got {g:.100?}, expected {w:.100?}",
                    n + 1
                ));
            }
            Ok(_) => {}
        }
    }
    match serde_json::from_slice::<Value>(&output.stdout) {
        Ok(report) => check_intent(&report, &entry["intent"], exit, errors),
        Err(_) => errors.push(format!(
            "stdout is not a JSON report: {:.120?} (stderr: {stderr:?})",
            String::from_utf8_lossy(&output.stdout)
        )),
    }
}

/// The report against the manifest's intent (`tests/vectors/README.md`), field by field.
fn check_intent(report: &Value, intent: &Value, exit: i64, errors: &mut Vec<String>) {
    let mut differ = |what: &str, got: String, want: String| {
        if got != want {
            errors.push(format!("{what}: got {got}, intended {want}"));
        }
    };
    differ(
        "report_version",
        report["report_version"].to_string(),
        "1".into(),
    );
    differ(
        "valid",
        report["valid"].to_string(),
        intent["valid"].to_string(),
    );
    differ(
        "valid vs exit",
        report["valid"].to_string(),
        (exit == 0).to_string(),
    );
    differ(
        "count",
        report["count"].to_string(),
        intent["count"].to_string(),
    );
    let fatal_code = report["fatal"]
        .get("code")
        .cloned()
        .unwrap_or_else(|| report["fatal"].clone());
    differ("fatal", fatal_code.to_string(), intent["fatal"].to_string());

    // Problem codes, a copy of the fatal problem aside (whether it is repeated there is the
    // report format's business, pinned by the expected file).
    let fatal_text = fatal_code.to_string();
    let mut problems: Vec<String> = report["problems"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| p.get("code").unwrap_or(p).to_string())
                .filter(|c| *c != fatal_text)
                .collect()
        })
        .unwrap_or_else(|| vec![format!("<problems is {}>", report["problems"])]);
    problems.sort();
    let want: Vec<String> = intent["problems"]
        .as_array()
        .expect("intent.problems")
        .iter()
        .map(Value::to_string)
        .collect();
    differ(
        "problems",
        format!("[{}]", problems.join(",")),
        format!("[{}]", want.join(",")),
    );

    let rejected: Vec<(String, String)> = report["rejected"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|r| (r["line"].to_string(), r["code"].to_string()))
                .collect()
        })
        .unwrap_or_default();
    let want: Vec<(String, String)> = intent["rejected"]
        .as_array()
        .expect("intent.rejected")
        .iter()
        .map(|r| (r[0].to_string(), r[1].to_string()))
        .collect();
    let show = |rs: &[(String, String)]| {
        let items: Vec<String> = rs.iter().map(|(l, c)| format!("[{l},{c}]")).collect();
        format!("[{}]", items.join(","))
    };
    differ("rejected", show(&rejected), show(&want));
    differ(
        "rejected_total",
        report["rejected_total"].to_string(),
        want.len().to_string(),
    );
    let mut by_code: BTreeMap<&str, u64> = BTreeMap::new();
    for r in intent["rejected"].as_array().expect("intent.rejected") {
        *by_code.entry(r[1].as_str().expect("code")).or_insert(0) += 1;
    }
    differ(
        "rejected_by_code",
        report["rejected_by_code"].to_string(),
        serde_json::to_string(&by_code).expect("json"),
    );
    // A rejected line's nullifier is reported whenever the line parsed as a signature: for
    // every code but malformed.
    for r in report["rejected"].as_array().into_iter().flatten() {
        let nullifier = &r["nullifier"];
        let ok = if r["code"] == "malformed" {
            nullifier.is_null()
        } else {
            nullifier.as_str().is_some_and(|n| {
                n.len() == 66
                    && n.starts_with("0x")
                    && n[2..]
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            })
        };
        if !ok {
            errors.push(format!(
                "line {} ({}): nullifier {nullifier}, expected {}",
                r["line"],
                r["code"],
                if r["code"] == "malformed" {
                    "null"
                } else {
                    "the canonical hex"
                }
            ));
        }
    }
}

#[test]
fn vectors_are_what_the_generator_writes() {
    let dir = vectors_dir();
    let fresh = tempfile::tempdir().expect("temporary directory");
    undersign_vectors::generate(fresh.path()).expect("generate the vectors");
    let stale = "tests/vectors is not what the generator writes: run \
                 `cargo run --release -p undersign-vectors -- tests/vectors`";
    let names = |d: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(d.join("bundles"))
            .map(|rd| {
                rd.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    let generated = names(fresh.path());
    assert_eq!(names(&dir), generated, "{stale} (bundle files differ)");
    for name in generated
        .iter()
        .map(|n| format!("bundles/{n}"))
        .chain(["manifest.json".to_owned()])
    {
        let want = std::fs::read(fresh.path().join(&name)).expect("generated file");
        let got = std::fs::read(dir.join(&name)).unwrap_or_default();
        assert!(got == want, "{stale} ({name} differs)");
    }
}
