//! Phase 1 from a snarkjs powers-of-tau file (`SPEC.md` §17.7): a small `.ptau` made with
//! snarkjs (from `verifiers/js`), imported, contributed to, turned into depth-5 keys by phase 2;
//! a signature made with them audits valid against the transcript, in both auditors. A `.ptau`
//! whose powers were altered is refused.
//!
//! Needs Node.js and npm (for snarkjs): the test fails, never skips, without them.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DEPTH: &str = "5";
/// 2^11 powers cover depth 5.
const POWER: &str = "11";

fn js_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("verifiers/js");
    let node = Command::new("node").arg("--version").output();
    assert!(
        matches!(&node, Ok(o) if o.status.success()),
        "node is required for snarkjs (Node.js 20 or later): {node:?}"
    );
    if !dir.join("node_modules").is_dir() {
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .output()
            .expect("npm is required for snarkjs");
        assert!(out.status.success(), "npm ci: {out:?}");
    }
    dir
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_undersign"))
        .args(args)
        .output()
        .expect("spawn undersign")
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

fn snarkjs(js: &Path, args: &[&str]) {
    let out = Command::new(js.join("node_modules/.bin/snarkjs"))
        .args(args)
        .output()
        .expect("spawn snarkjs");
    assert!(out.status.success(), "snarkjs {args:?}: {out:?}");
}

#[test]
fn a_snarkjs_ptau_starts_phase_1_and_its_keys_sign_and_audit() {
    let js = js_dir();
    let tmp = tempfile::tempdir().expect("tempdir");
    let p = |n: &str| tmp.path().join(n);

    // A public phase 1, as snarkjs makes it: new, one contribution.
    snarkjs(
        &js,
        &["powersoftau", "new", "bn128", POWER, s(&p("pot0.ptau"))],
    );
    snarkjs(
        &js,
        &[
            "powersoftau",
            "contribute",
            s(&p("pot0.ptau")),
            s(&p("pot1.ptau")),
            "--name=test",
            "-e=test entropy, not secret",
        ],
    );
    let imported = ok(&[
        "ceremony",
        "phase1",
        "import",
        s(&p("pot1.ptau")),
        "--power",
        POWER,
        "--out",
        s(&p("p1-0.bin")),
    ]);
    // The file's blake2b-512, as `b2sum` and snarkjs print it, is named.
    let b2: [u8; 64] = {
        use blake2::Digest;
        blake2::Blake2b512::digest(std::fs::read(p("pot1.ptau")).unwrap()).into()
    };
    assert!(imported.contains(&hex::encode(b2)), "{imported}");

    // The public ceremony's contributors suffice: phase 2 straight from the import verifies;
    // from a .ptau nobody contributed to (τ = α = β = 1), it is refused.
    for (name, ptau, ok_expected) in [
        ("public", "pot1.ptau", true),
        ("identity", "pot0.ptau", false),
    ] {
        let p1 = p(&format!("{name}-p1.bin"));
        let (p2_0, p2_1) = (
            p(&format!("{name}-p2-0.bin")),
            p(&format!("{name}-p2-1.bin")),
        );
        ok(&[
            "ceremony",
            "phase1",
            "import",
            s(&p(ptau)),
            "--power",
            POWER,
            "--out",
            s(&p1),
        ]);
        ok(&[
            "ceremony",
            "phase2",
            "new",
            "--depth",
            DEPTH,
            "--phase1",
            s(&p1),
            "--out",
            s(&p2_0),
        ]);
        let contributed = run(&[
            "ceremony",
            "phase2",
            "contribute",
            s(&p2_0),
            "--phase1",
            s(&p1),
            "--out",
            s(&p2_1),
        ]);
        assert!(contributed.status.success(), "{contributed:?}");
        let out = run(&[
            "ceremony",
            "phase2",
            "verify",
            s(&p2_1),
            "--phase1",
            s(&p1),
            "--out",
            s(&p(&format!("{name}-keys"))),
        ]);
        assert_eq!(out.status.success(), ok_expected, "{name}: {out:?}");
        if !ok_expected {
            assert_eq!(out.status.code(), Some(1), "{out:?}");
            assert!(String::from_utf8_lossy(&out.stdout).contains("no contribution with a secret"));
        }
    }

    // Our own contributors may add to it; phase 2 as usual.
    ok(&[
        "ceremony",
        "phase1",
        "contribute",
        s(&p("p1-0.bin")),
        "--out",
        s(&p("p1-1.bin")),
    ]);
    let verified = ok(&["ceremony", "phase1", "verify", s(&p("p1-1.bin"))]);
    assert!(verified.contains(&hex::encode(b2)), "{verified}");
    ok(&[
        "ceremony",
        "phase2",
        "new",
        "--depth",
        DEPTH,
        "--phase1",
        s(&p("p1-1.bin")),
        "--out",
        s(&p("p2-0.bin")),
    ]);
    ok(&[
        "ceremony",
        "phase2",
        "contribute",
        s(&p("p2-0.bin")),
        "--phase1",
        s(&p("p1-1.bin")),
        "--out",
        s(&p("p2-1.bin")),
    ]);
    std::fs::create_dir_all(p("transcript")).unwrap();
    std::fs::copy(p("p1-1.bin"), p("transcript/phase1.bin")).unwrap();
    std::fs::copy(p("p2-1.bin"), p("transcript/phase2.bin")).unwrap();
    ok(&[
        "ceremony",
        "phase2",
        "verify",
        s(&p("transcript/phase2.bin")),
        "--phase1",
        s(&p("transcript/phase1.bin")),
        "--out",
        s(&p("keys")),
    ]);

    // A registry, a petition on these keys, one signature, a bundle.
    let keygen = ok(&["registrar", "keygen", "--out", s(&p("registrar.key"))]);
    let registrar_pub = keygen
        .lines()
        .find_map(|l| l.strip_prefix("public key (publish this): "))
        .expect("public key line")
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
    std::fs::write(p("letter.txt"), "Keys from a public powers of tau.\n").unwrap();
    ok(&[
        "petition",
        "new",
        "--registry",
        s(&p("registry.json")),
        "--title",
        "Ptau letter",
        "--text-file",
        s(&p("letter.txt")),
        "--disclose",
        "none",
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
    let report = ok(&[
        "audit",
        s(&p("bundle.jsonl")),
        "--registrar-key",
        &registrar_pub,
        "--ceremony",
        s(&p("transcript")),
        "--json",
    ]);
    let report: Value = serde_json::from_str(&report).expect("report");
    assert_eq!(report["valid"], true, "{report:#}");
    assert_eq!(report["count"], 1);
    // The second auditor agrees, pinned to the key the transcript produced.
    let vk_hash = report["verifying_key_hash"].as_str().expect("vk hash");
    let out = Command::new("node")
        .arg(js.join("bin/undersign-audit.js"))
        .args(["audit", "--json", s(&p("bundle.jsonl"))])
        .args(["--registrar-key", &registrar_pub, "--vk-hash", vk_hash])
        .output()
        .expect("spawn node");
    assert!(out.status.success(), "JavaScript auditor: {out:?}");
    let js_report: Value = serde_json::from_slice(&out.stdout).expect("JS report");
    assert_eq!(js_report["count"], 1);
    assert_eq!(js_report["valid"], true);

    // A .ptau with one power replaced by another valid point is refused (exit 1, INVALID).
    let mut bytes = std::fs::read(p("pot1.ptau")).unwrap();
    let tau_g1 = section_offset(&bytes, 2);
    let (a, b) = (tau_g1 + 5 * 64, tau_g1 + 6 * 64);
    let sixth = bytes[b..b + 64].to_vec();
    bytes[a..a + 64].copy_from_slice(&sixth);
    std::fs::write(p("bad.ptau"), &bytes).unwrap();
    let out = run(&[
        "ceremony",
        "phase1",
        "import",
        s(&p("bad.ptau")),
        "--power",
        POWER,
        "--out",
        s(&p("bad.bin")),
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("INVALID"));
    assert!(!p("bad.bin").exists());
    // Not a .ptau file: exit 2.
    let out = run(&[
        "ceremony",
        "phase1",
        "import",
        s(&p("letter.txt")),
        "--power",
        POWER,
        "--out",
        s(&p("bad.bin")),
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// Byte offset of the data of section `kind` in a snarkjs binary file.
fn section_offset(bytes: &[u8], kind: u32) -> usize {
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
    let mut pos = 12;
    for _ in 0..u32_at(8) {
        let size = u64::from_le_bytes(bytes[pos + 4..pos + 12].try_into().unwrap()) as usize;
        if u32_at(pos) == kind {
            return pos + 12;
        }
        pos += 12 + size;
    }
    panic!("no section {kind}");
}
