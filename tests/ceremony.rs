//! The trusted-setup ceremony through the `undersign` binary at a small depth: three
//! contributors per phase and a beacon, keys that sign and audit, `audit --ceremony`, and bad
//! transcripts (exit 1 with the reason for one that does not verify, exit 2 for an unreadable
//! one; never a panic).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const DEPTH: &str = "5";
const POWER: &str = "11";

fn run(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_undersign"))
        .args(args)
        .output()
        .expect("spawn undersign");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked"),
        "undersign {args:?} panicked:\n{stderr}"
    );
    assert!(out.status.code().is_some(), "undersign {args:?} was killed");
    out
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "undersign {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Contribution hashes as printed for the contributor to publish.
fn published_hash(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("full: "))
        .expect("full contribution hash printed")
        .to_owned()
}

struct Fixture {
    dir: PathBuf,
    registrar_pub: String,
    /// Contribution hashes the contributors printed, phase 1 then phase 2.
    published: Vec<String>,
    verify_output: String,
}

impl Fixture {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("undersign-ceremony-test-")
            .tempdir()
            .unwrap()
            .keep();
        let p = |n: &str| dir.join(n);
        let mut published = Vec::new();
        // Phase 1: the coordinator starts it, three people contribute in turn.
        ok(&[
            "ceremony",
            "phase1",
            "new",
            "--power",
            POWER,
            "--out",
            s(&p("p1-0.bin")),
        ]);
        for i in 1..=3 {
            let out = ok(&[
                "ceremony",
                "phase1",
                "contribute",
                s(&p(&format!("p1-{}.bin", i - 1))),
                "--out",
                s(&p(&format!("p1-{i}.bin"))),
            ]);
            published.push(published_hash(&out));
        }
        ok(&["ceremony", "phase1", "verify", s(&p("p1-3.bin"))]);
        // Phase 2: initial keys from phase 1, three contributions, a beacon.
        ok(&[
            "ceremony",
            "phase2",
            "new",
            "--depth",
            DEPTH,
            "--phase1",
            s(&p("p1-3.bin")),
            "--out",
            s(&p("p2-0.bin")),
        ]);
        for i in 1..=3 {
            let out = ok(&[
                "ceremony",
                "phase2",
                "contribute",
                s(&p(&format!("p2-{}.bin", i - 1))),
                "--phase1",
                s(&p("p1-3.bin")),
                "--out",
                s(&p(&format!("p2-{i}.bin"))),
            ]);
            published.push(published_hash(&out));
        }
        ok(&[
            "ceremony",
            "phase2",
            "beacon",
            s(&p("p2-3.bin")),
            "--phase1",
            s(&p("p1-3.bin")),
            "--beacon",
            "00000000000000000001c0ffee",
            "--exponent",
            "10",
            "--out",
            s(&p("p2-4.bin")),
        ]);
        // The published transcript directory.
        std::fs::create_dir_all(p("transcript")).unwrap();
        std::fs::copy(p("p1-3.bin"), p("transcript/phase1.bin")).unwrap();
        std::fs::copy(p("p2-4.bin"), p("transcript/phase2.bin")).unwrap();
        let verify_output = ok(&[
            "ceremony",
            "phase2",
            "verify",
            s(&p("transcript/phase2.bin")),
            "--phase1",
            s(&p("transcript/phase1.bin")),
            "--out",
            s(&p("keys")),
        ]);
        // A registry, a petition on the ceremony keys, and one signature in a bundle.
        let keygen = ok(&["registrar", "keygen", "--out", s(&p("registrar.key"))]);
        let registrar_pub = keygen
            .lines()
            .find_map(|l| l.strip_prefix("public key (publish this): "))
            .unwrap()
            .to_owned();
        std::fs::write(
            p("schema.json"),
            r#"{"version":1,"kind":"undersign-schema","slots":[
                {"name":"status","labels":{"current":1,"former":2}}]}"#,
        )
        .unwrap();
        ok(&[
            "registry",
            "init",
            "--schema",
            s(&p("schema.json")),
            "--depth",
            DEPTH,
            "--out",
            s(&p("registry.json")),
        ]);
        ok(&[
            "identity",
            "new",
            "--unencrypted",
            "--out",
            s(&p("alice.id")),
        ]);
        let alice = ok(&["identity", "show", s(&p("alice.id"))])
            .trim()
            .to_owned();
        let mut csv = String::from("commitment,status\n");
        csv += &format!("{alice},current\n");
        for i in 1..=21u64 {
            csv += &format!("0x{:064x},current\n", 5000 + i);
        }
        std::fs::write(p("members.csv"), csv).unwrap();
        ok(&[
            "registry",
            "add",
            s(&p("registry.json")),
            "--csv",
            s(&p("members.csv")),
        ]);
        ok(&[
            "registry",
            "checkpoint",
            s(&p("registry.json")),
            "--key",
            s(&p("registrar.key")),
        ]);
        std::fs::write(p("letter.txt"), "Keys from a ceremony.\n").unwrap();
        ok(&[
            "petition",
            "new",
            "--registry",
            s(&p("registry.json")),
            "--title",
            "Ceremony letter",
            "--text-file",
            s(&p("letter.txt")),
            "--disclose",
            "status",
            "--keys",
            s(&p("keys")),
            "--out",
            s(&p("petition.json")),
        ]);
        ok(&[
            "sign",
            "--identity",
            s(&p("alice.id")),
            "--registry",
            s(&p("registry.json")),
            "--petition",
            s(&p("petition.json")),
            "--keys",
            s(&p("keys")),
            "--out",
            s(&p("alice.sig")),
        ]);
        ok(&[
            "bundle",
            "build",
            "--petition",
            s(&p("petition.json")),
            "--registry",
            s(&p("registry.json")),
            "--keys",
            s(&p("keys")),
            "--out",
            s(&p("bundle.jsonl")),
            s(&p("alice.sig")),
        ]);
        Fixture {
            dir,
            registrar_pub,
            published,
            verify_output,
        }
    })
}

fn audit(f: &Fixture, transcript: &Path) -> Output {
    run_audit_with(f, &["--ceremony", s(transcript)])
}

fn run_audit_with(f: &Fixture, extra: &[&str]) -> Output {
    let transcript = f.path("transcript");
    let bundle = f.path("bundle.jsonl");
    let mut args = vec!["audit", s(&bundle), "--registrar-key", &f.registrar_pub];
    if !extra.contains(&"--ceremony") {
        args.extend(["--ceremony", s(&transcript)]);
    }
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn three_party_ceremony_keys_sign_and_audit_against_the_transcript() {
    let f = fixture();
    // verify lists every published contribution hash and the keys' hashes.
    for hash in &f.published {
        assert!(f.verify_output.contains(hash), "{hash} not listed");
    }
    assert!(f
        .verify_output
        .contains("beacon 00000000000000000001c0ffee hashed 2^10 times"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(f.path("keys/keys.json")).unwrap()).unwrap();
    assert_eq!(manifest["setup"], "ceremony");
    assert_eq!(manifest["ceremony"]["phase1_contributions"], 3);
    assert_eq!(manifest["ceremony"]["phase2_contributions"], 4);
    let vk_hash = manifest["verifying_key"]["blake3"].as_str().unwrap();
    assert!(f
        .verify_output
        .contains(&format!("verifying key hash: {vk_hash}")));
    // The proving key hash it prints is the one a petition opened with these keys names, so
    // anyone can check that the petition's keys are the transcript's.
    let pk_hash = manifest["proving_key"]["blake3"].as_str().unwrap();
    assert!(f
        .verify_output
        .contains(&format!("proving key hash:   {pk_hash}")));
    let petition: serde_json::Value =
        serde_json::from_slice(&std::fs::read(f.path("petition.json")).unwrap()).unwrap();
    assert_eq!(petition["proving_key"], pk_hash);
    assert!(!manifest["warning"]
        .as_str()
        .unwrap()
        .contains("development"));

    let out = audit(f, &f.path("transcript"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("valid signatures: 1"), "{stdout}");
    assert!(stdout.contains(&format!("it produced verifying key {vk_hash}")));
    assert!(!stdout.contains("NOT PINNED"));
    // Pinning the same key in capitals as well is fine; pinning another one is fatal.
    let pinned = run_audit_with(f, &["--vk-hash", &vk_hash.to_uppercase()]);
    assert_eq!(
        pinned.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&pinned.stdout)
    );
    let other = run_audit_with(f, &["--vk-hash", &"ab".repeat(32)]);
    let stdout = String::from_utf8_lossy(&other.stdout);
    assert_eq!(other.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("is not the verifying key the ceremony produced"),
        "{stdout}"
    );
    assert!(stdout.contains("Nothing was counted"), "{stdout}");
}

#[test]
fn audit_against_another_transcript_is_fatal() {
    let f = fixture();
    let other = f.path("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::copy(f.path("p1-3.bin"), other.join("phase1.bin")).unwrap();
    ok(&[
        "ceremony",
        "phase2",
        "contribute",
        s(&f.path("p2-3.bin")),
        "--phase1",
        s(&f.path("p1-3.bin")),
        "--out",
        s(&other.join("phase2.bin")),
    ]);
    let out = audit(f, &other);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("BUNDLE INVALID"), "{stdout}");
    assert!(stdout.contains("is not the pinned key"), "{stdout}");
    assert!(stdout.contains("Nothing was counted"));
}

/// Offset of the h_query vector's first point in a phase-2 file.
fn h_query_offset(bytes: &[u8]) -> usize {
    let mut at = 16 + 4 + 32 + 2 * 64 + 2 * 128 + 64 + 128;
    for size in [64, 64, 64, 128] {
        let n = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        at += 4 + n * size;
    }
    at + 4
}

#[test]
fn bad_transcripts_are_reported_with_a_reason() {
    let f = fixture();
    let dir = f.path("bad");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(f.path("p1-3.bin"), dir.join("phase1.bin")).unwrap();
    let good = std::fs::read(f.path("p2-4.bin")).unwrap();
    let verify = |phase2: &[u8]| {
        std::fs::write(dir.join("phase2.bin"), phase2).unwrap();
        let out = run(&[
            "ceremony",
            "phase2",
            "verify",
            s(&dir.join("phase2.bin")),
            "--phase1",
            s(&dir.join("phase1.bin")),
        ]);
        let audit_out = audit(f, &dir);
        (out, audit_out)
    };

    // Truncated: unreadable, exit 2 with "error:".
    let (out, audit_out) = verify(&good[..good.len() / 3]);
    for o in [&out, &audit_out] {
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("error:") && stderr.contains("truncated"),
            "{stderr}"
        );
    }
    // Garbled magic and trailing bytes: exit 2.
    let mut garbled = good.clone();
    garbled[3] ^= 0xff;
    let (out, _) = verify(&garbled);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an undersign phase-2 transcript"));
    let mut trailing = good.clone();
    trailing.push(1);
    let (out, _) = verify(&trailing);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("trailing bytes"));

    // Two H elements swapped: valid points, but the transcript does not verify (exit 1).
    let mut swapped = good.clone();
    let at = h_query_offset(&good);
    swapped[at..at + 64].copy_from_slice(&good[at + 64..at + 128]);
    swapped[at + 64..at + 128].copy_from_slice(&good[at..at + 64]);
    let (out, audit_out) = verify(&swapped);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("INVALID: the transcript does not verify: phase 2 parameters: the H query"),
        "{stdout}"
    );
    let stdout = String::from_utf8_lossy(&audit_out.stdout);
    assert_eq!(audit_out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("CEREMONY INVALID"), "{stdout}");

    // A contributor refuses a transcript whose records do not verify.
    let mut bad_record = good.clone();
    let n = bad_record.len();
    // The beacon record's last byte is part of its beacon value: d no longer matches.
    bad_record[n - 1] ^= 1;
    std::fs::write(dir.join("bad-record.bin"), &bad_record).unwrap();
    let out = run(&[
        "ceremony",
        "phase2",
        "contribute",
        s(&dir.join("bad-record.bin")),
        "--phase1",
        s(&f.path("p1-3.bin")),
        "--out",
        s(&dir.join("never.bin")),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("contribution #4"), "{stdout}");
    assert!(!dir.join("never.bin").exists());
}

#[test]
fn ceremony_help_has_examples() {
    for args in [
        &["ceremony", "phase1", "new", "--help"][..],
        &["ceremony", "phase1", "contribute", "--help"],
        &["ceremony", "phase1", "verify", "--help"],
        &["ceremony", "phase2", "new", "--help"],
        &["ceremony", "phase2", "contribute", "--help"],
        &["ceremony", "phase2", "beacon", "--help"],
        &["ceremony", "phase2", "verify", "--help"],
    ] {
        let help = ok(args);
        assert!(
            help.contains("Example: undersign ceremony"),
            "{args:?}: {help}"
        );
    }
    let out = run(&[
        "ceremony", "phase1", "new", "--power", "40", "--out", "/tmp/x",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("power 40 is not supported"));
}

/// `undersign publish --ceremony` (issue 24): the page lists every contribution hash the
/// contributors published and the beacon, the site carries the transcript, and the audit
/// command the page shows, run in the site's directory, pins the ceremony's key and audits
/// clean. A pin the ceremony contradicts is refused with nothing written.
#[test]
fn publish_lists_the_ceremony_and_publishes_its_transcript() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let bundle = f.path("bundle.jsonl");
    let transcript = f.path("transcript");
    ok(&[
        "publish",
        s(&bundle),
        "--registrar-key",
        &f.registrar_pub,
        "--ceremony",
        s(&transcript),
        "--out",
        s(&site),
    ]);
    let html = std::fs::read_to_string(site.join("index.html")).unwrap();
    for hash in &f.published {
        let plain: String = hash.split_whitespace().collect();
        assert!(html.contains(&plain), "{hash} not listed");
    }
    assert!(html.contains("hashed 2^10 times"), "the beacon is named");
    assert!(html.contains("The audit pins this key hash."));
    for file in ["phase1.bin", "phase2.bin"] {
        assert_eq!(
            std::fs::read(site.join("ceremony").join(file)).unwrap(),
            std::fs::read(transcript.join(file)).unwrap()
        );
        assert!(html.contains(&format!("href=\"ceremony/{file}\"")));
    }
    let command = std::fs::read_to_string(site.join("audit-command.txt")).unwrap();
    assert!(command.contains("--ceremony ceremony/"), "{command}");
    let words: Vec<&str> = command.split_whitespace().collect();
    let audit = Command::new(env!("CARGO_BIN_EXE_undersign"))
        .args(&words[1..])
        .current_dir(&site)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&audit.stdout);
    assert!(audit.status.success(), "{stdout}");
    assert!(!stdout.contains("NOT PINNED"), "{stdout}");

    let other = tmp.path().join("other");
    let out = run(&[
        "publish",
        s(&bundle),
        "--registrar-key",
        &f.registrar_pub,
        "--ceremony",
        s(&transcript),
        "--vk-hash",
        &"ab".repeat(32),
        "--out",
        s(&other),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not published"));
    assert!(!other.exists());
}
