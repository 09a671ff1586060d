//! End-to-end tests through the `undersign` binary at a small depth: the happy path and every
//! way a signature or bundle can be wrong, plus bad files for every input (exit 2, no panic).

use ark_bn254::Fr;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use undersign::core::field;

const DEPTH: &str = "5";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_undersign"))
}

/// Runs the binary, asserting it neither panicked nor was killed.
fn run(args: &[&str]) -> Output {
    let out = bin().args(args).output().expect("spawn undersign");
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

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Everything a test needs, created once: keys, registrar, registry with 25 members (our 4
/// identities among them), a checkpoint, a petition and three signatures.
struct Fixture {
    dir: PathBuf,
    registrar_pub: String,
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
            .prefix("undersign-cli-test-")
            .tempdir()
            .unwrap()
            .keep();
        let p = |n: &str| dir.join(n);
        ok(&[
            "setup",
            "--depth",
            DEPTH,
            "--out",
            s(&p("keys")),
            "--seed",
            &"11".repeat(32),
        ]);
        let keygen = ok(&["registrar", "keygen", "--out", s(&p("registrar.key"))]);
        let registrar_pub = keygen
            .lines()
            .find_map(|l| l.strip_prefix("public key (publish this): "))
            .unwrap()
            .to_owned();
        std::fs::write(
            p("schema.json"),
            r#"{"version":1,"kind":"undersign-schema","slots":[
                {"name":"status","labels":{"current":1,"former":2}},
                {"name":"ministry","labels":{"health":1,"justice":2}}]}"#,
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
        // Our signers: alice, bob, carol (current, health) and dave (former, justice).
        for name in ["alice", "bob", "carol", "dave"] {
            ok(&[
                "identity",
                "new",
                "--unencrypted",
                "--out",
                s(&p(&format!("{name}.id"))),
            ]);
        }
        let commitment = |name: &str| {
            ok(&["identity", "show", s(&p(&format!("{name}.id")))])
                .trim()
                .to_owned()
        };
        let mut csv = String::from("commitment,status,ministry\n");
        for name in ["alice", "bob", "carol"] {
            csv += &format!("{},current,health\n", commitment(name));
        }
        for i in 1..=21u64 {
            csv += &format!(
                "{},current,{}\n",
                field::to_hex(&Fr::from(1000 + i)),
                if i % 2 == 0 { "health" } else { "2" }
            );
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
            "add",
            s(&p("registry.json")),
            "--commitment",
            &commitment("dave"),
            "--attr",
            "status=former",
            "--attr",
            "ministry=justice",
        ]);
        ok(&[
            "registry",
            "checkpoint",
            s(&p("registry.json")),
            "--key",
            s(&p("registrar.key")),
        ]);
        std::fs::write(p("letter.txt"), "Stop the violence.\n").unwrap();
        ok(&[
            "petition",
            "new",
            "--registry",
            s(&p("registry.json")),
            "--title",
            "Open letter",
            "--text-file",
            s(&p("letter.txt")),
            "--disclose",
            "status,ministry",
            "--keys",
            s(&p("keys")),
            "--out",
            s(&p("petition.json")),
        ]);
        for name in ["alice", "bob", "carol"] {
            sign(&dir, name, "petition.json", &format!("{name}.sig"), &[]);
        }
        Fixture { dir, registrar_pub }
    })
}

fn sign(dir: &Path, who: &str, petition: &str, out: &str, extra: &[&str]) -> Output {
    let p = |n: &str| dir.join(n);
    let mut args = vec![
        "sign".to_owned(),
        "--identity".into(),
        s(&p(&format!("{who}.id"))).into(),
        "--registry".into(),
        s(&p("registry.json")).into(),
        "--petition".into(),
        s(&p(petition)).into(),
        "--keys".into(),
        s(&p("keys")).into(),
        "--out".into(),
        s(&p(out)).into(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = run(&refs);
    if extra.is_empty() {
        assert!(
            output.status.success(),
            "sign failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    output
}

/// A fresh directory for one test's outputs.
fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("undersign-cli-case-")
        .tempdir()
        .unwrap()
}

fn build_bundle(f: &Fixture, out: &Path, sigs: &[PathBuf]) -> String {
    let mut args = vec![
        "bundle",
        "build",
        "--petition",
        s(&f.path("petition.json")).to_owned().leak(),
        "--registry",
        s(&f.path("registry.json")).to_owned().leak(),
        "--keys",
        s(&f.path("keys")).to_owned().leak(),
        "--out",
        s(out),
    ];
    for sig in sigs {
        args.push(s(sig));
    }
    ok(&args)
}

fn audit_json(f: &Fixture, bundle: &Path) -> (i32, Value) {
    let out = run(&[
        "audit",
        s(bundle),
        "--registrar-key",
        &f.registrar_pub,
        "--json",
    ]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (code(&out), json)
}

fn three_sigs(f: &Fixture) -> Vec<PathBuf> {
    ["alice", "bob", "carol"]
        .iter()
        .map(|n| f.path(&format!("{n}.sig")))
        .collect()
}

/// Replaces signature line `line` (1-based after the header) of a bundle with `edit(line)`.
fn edit_bundle_line(bundle: &Path, out: &Path, index: usize, edit: impl FnOnce(&mut Value)) {
    let text = std::fs::read_to_string(bundle).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut v: Value = serde_json::from_str(&lines[index]).unwrap();
    edit(&mut v);
    lines[index] = serde_json::to_string(&v).unwrap();
    std::fs::write(out, lines.join("\n") + "\n").unwrap();
}

fn reasons(json: &Value) -> Vec<String> {
    json["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn happy_path_counts_every_signer_with_breakdown() {
    let f = fixture();
    let tmp = scratch();
    let bundle = tmp.path().join("bundle.jsonl");
    build_bundle(f, &bundle, &three_sigs(f));
    let (status, json) = audit_json(f, &bundle);
    assert_eq!(status, 0, "{json}");
    assert_eq!(json["count"], 3);
    assert_eq!(json["valid"], true);
    let status_rows = &json["breakdown"][0]["rows"];
    assert_eq!(json["breakdown"][0]["name"], "status");
    assert_eq!(status_rows[0]["label"], "current");
    assert_eq!(status_rows[0]["count"], 3);
    assert!(json["rejected"].as_array().unwrap().is_empty());

    // The human report and verify agree.
    let text = ok(&[
        "audit",
        s(&bundle),
        "--registrar-key",
        &f.registrar_pub,
        "--registry",
        s(&f.path("registry.json")),
    ]);
    assert!(text.contains("valid signatures: 3"), "{text}");
    assert!(text.contains("anonymity set"), "{text}");
    let v = ok(&[
        "verify",
        s(&f.path("alice.sig")),
        "--petition",
        s(&f.path("petition.json")),
        "--registry",
        s(&f.path("registry.json")),
        "--keys",
        s(&f.path("keys")),
    ]);
    assert!(v.starts_with("valid"), "{v}");

    // Lines are sorted by nullifier, whatever the input order.
    let mut reversed = three_sigs(f);
    reversed.reverse();
    let bundle2 = tmp.path().join("bundle2.jsonl");
    build_bundle(f, &bundle2, &reversed);
    assert_eq!(
        std::fs::read(&bundle).unwrap(),
        std::fs::read(&bundle2).unwrap()
    );
}

#[test]
fn signing_twice_counts_once() {
    let f = fixture();
    let tmp = scratch();
    // Alice signs again with a comment: a different signature, the same nullifier.
    let again = tmp.path().join("alice-again.sig");
    let out = run(&[
        "sign",
        "--identity",
        s(&f.path("alice.id")),
        "--registry",
        s(&f.path("registry.json")),
        "--petition",
        s(&f.path("petition.json")),
        "--keys",
        s(&f.path("keys")),
        "--comment",
        "me again",
        "--out",
        s(&again),
    ]);
    assert!(out.status.success());
    let mut sigs = three_sigs(f);
    sigs.push(again);
    let bundle = tmp.path().join("bundle.jsonl");
    let report = build_bundle(f, &bundle, &sigs);
    assert!(report.contains("duplicate nullifier"), "{report}");
    let (status, json) = audit_json(f, &bundle);
    assert_eq!((status, json["count"].clone()), (0, Value::from(3)));

    // A bundle that repeats a line anyway: counted once, the copy rejected.
    let text = std::fs::read_to_string(&bundle).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut header: Value = serde_json::from_str(lines[0]).unwrap();
    header["signatures"] = Value::from(4);
    let forged = format!(
        "{}\n{}\n{}\n{}\n{}\n",
        header, lines[1], lines[1], lines[2], lines[3]
    );
    let dup = tmp.path().join("dup.jsonl");
    std::fs::write(&dup, forged).unwrap();
    let (status, json) = audit_json(f, &dup);
    assert_eq!(status, 1);
    assert_eq!(json["count"], 3);
    assert_eq!(reasons(&json), ["duplicate_nullifier"]);
}

#[test]
fn signature_moved_to_another_petition_is_rejected() {
    let f = fixture();
    let tmp = scratch();
    let other = tmp.path().join("other.json");
    ok(&[
        "petition",
        "new",
        "--registry",
        s(&f.path("registry.json")),
        "--title",
        "Other",
        "--text-file",
        s(&f.path("letter.txt")),
        "--disclose",
        "status",
        "--keys",
        s(&f.path("keys")),
        "--out",
        s(&other),
    ]);
    // Verified against the other petition: it names the wrong petition.
    let out = run(&[
        "verify",
        s(&f.path("alice.sig")),
        "--petition",
        s(&other),
        "--registry",
        s(&f.path("registry.json")),
        "--keys",
        s(&f.path("keys")),
    ]);
    assert_eq!(code(&out), 1);
    assert!(String::from_utf8_lossy(&out.stdout).contains("another petition"));
    // Relabelled with the other petition's id: the proof no longer verifies (scope differs).
    let other_id = blake3::hash(&std::fs::read(&other).unwrap())
        .to_hex()
        .to_string();
    let mut sig: Value =
        serde_json::from_slice(&std::fs::read(f.path("alice.sig")).unwrap()).unwrap();
    sig["petition"] = Value::from(other_id);
    sig["mask"] = Value::from(1);
    sig["disclosed"] = serde_json::json!([1, 0, 0, 0]);
    let moved = tmp.path().join("moved.sig");
    std::fs::write(&moved, sig.to_string()).unwrap();
    let out = run(&[
        "verify",
        s(&moved),
        "--petition",
        s(&other),
        "--registry",
        s(&f.path("registry.json")),
        "--keys",
        s(&f.path("keys")),
    ]);
    assert_eq!(code(&out), 1);
    assert!(String::from_utf8_lossy(&out.stdout).contains("invalid proof"));
}

#[test]
fn tampered_bundle_entries_are_each_rejected_with_a_reason() {
    let f = fixture();
    let tmp = scratch();
    let bundle = tmp.path().join("bundle.jsonl");
    build_bundle(f, &bundle, &three_sigs(f));
    let r_plus = |hex: &str| {
        let x = field::from_hex(hex).unwrap();
        let mut big = ark_ff::PrimeField::into_bigint(x);
        ark_ff::BigInteger::add_with_carry(&mut big, &<Fr as ark_ff::PrimeField>::MODULUS);
        format!("0x{}", hex::encode(ark_ff::BigInteger::to_bytes_be(&big)))
    };
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "root not a checkpoint",
            Box::new(|v| v["root"] = Value::from(field::to_hex(&Fr::from(12345u64)))),
            "unknown_root",
        ),
        (
            "tampered disclosed",
            Box::new(|v| v["disclosed"][0] = Value::from(2)),
            "invalid_proof",
        ),
        (
            "disclosed outside the mask",
            Box::new(|v| v["disclosed"][1] = Value::from(2)),
            "malformed",
        ),
        (
            "B's larger-root flag flipped (decodes to -B)",
            Box::new(|v| {
                let mut p = hex::decode(v["proof"].as_str().unwrap()).unwrap();
                p[95] ^= 0x80;
                v["proof"] = Value::from(hex::encode(p));
            }),
            "invalid_proof",
        ),
        (
            "A's x-coordinate not below q",
            Box::new(|v| {
                let mut p = hex::decode(v["proof"].as_str().unwrap()).unwrap();
                p[..32].fill(0xff);
                p[31] = 0x3f;
                v["proof"] = Value::from(hex::encode(p));
            }),
            "malformed",
        ),
        (
            "nullifier + r",
            Box::new(move |v| {
                let n = v["nullifier"].as_str().unwrap().to_owned();
                v["nullifier"] = Value::from(r_plus(&n));
            }),
            "malformed",
        ),
        (
            "mask not allowed",
            Box::new(|v| v["mask"] = Value::from(7)),
            "mask_not_allowed",
        ),
        (
            "comment added",
            Box::new(|v| v["comment"] = Value::from("injected")),
            "invalid_proof",
        ),
        (
            "unknown field",
            Box::new(|v| v["extra"] = Value::from(1)),
            "malformed",
        ),
    ];
    for (name, edit, expected) in cases {
        let edited = tmp.path().join("edited.jsonl");
        edit_bundle_line(&bundle, &edited, 2, edit);
        let (status, json) = audit_json(f, &edited);
        assert_eq!(status, 1, "{name}: {json}");
        assert_eq!(json["count"], 2, "{name}");
        assert_eq!(reasons(&json), [expected], "{name}: {json}");
    }
}

#[test]
fn checkpoints_must_be_signed_by_the_registrar() {
    let f = fixture();
    let tmp = scratch();
    let bundle = tmp.path().join("bundle.jsonl");
    build_bundle(f, &bundle, &three_sigs(f));
    // The auditor's registrar key differs from the one that signed.
    let other = tmp.path().join("other.key");
    let keygen = ok(&["registrar", "keygen", "--out", s(&other)]);
    let other_pub = keygen
        .lines()
        .find_map(|l| l.strip_prefix("public key (publish this): "))
        .unwrap();
    let out = run(&["audit", s(&bundle), "--registrar-key", other_pub, "--json"]);
    assert_eq!(code(&out), 1);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["count"], 0);
    assert_eq!(json["fatal"]["code"], "registrar_key_mismatch", "{json}");

    // A checkpoint whose signature was made by another key (public key swapped in).
    let text = std::fs::read_to_string(&bundle).unwrap();
    let (head, rest) = text.split_once('\n').unwrap();
    let mut header: Value = serde_json::from_str(head).unwrap();
    header["checkpoints"][0]["public_key"] = Value::from(other_pub);
    let forged = tmp.path().join("forged.jsonl");
    std::fs::write(&forged, format!("{header}\n{rest}")).unwrap();
    let (status, json) = audit_json(f, &forged);
    assert_eq!(status, 1);
    assert_eq!(json["fatal"]["code"], "chain_invalid", "{json}");

    // A pinned verifying key that differs.
    let out = run(&[
        "audit",
        s(&bundle),
        "--registrar-key",
        &f.registrar_pub,
        "--vk-hash",
        &"ab".repeat(32),
    ]);
    assert_eq!(code(&out), 1);
}

#[test]
fn removed_member_cannot_sign_after_removal() {
    let f = fixture();
    let tmp = scratch();
    let dir = tmp.path();
    for file in ["registry.json", "dave.id", "letter.txt"] {
        std::fs::copy(f.path(file), dir.join(file)).unwrap();
    }
    let p = |n: &str| dir.join(n);
    let old_registry = p("registry-before-removal.json");
    std::fs::copy(p("registry.json"), &old_registry).unwrap();
    ok(&[
        "registry",
        "remove",
        s(&p("registry.json")),
        "--index",
        "24",
    ]);
    ok(&[
        "registry",
        "checkpoint",
        s(&p("registry.json")),
        "--key",
        s(&f.path("registrar.key")),
    ]);
    ok(&[
        "petition",
        "new",
        "--registry",
        s(&p("registry.json")),
        "--title",
        "After removal",
        "--text-file",
        s(&p("letter.txt")),
        "--disclose",
        "status",
        "--min-checkpoint",
        "1",
        "--keys",
        s(&f.path("keys")),
        "--out",
        s(&p("petition2.json")),
    ]);
    // With the current registry: not a member any more.
    let (id, pet, keys, out_sig, reg) = (
        p("dave.id"),
        p("petition2.json"),
        f.path("keys"),
        p("dave.sig"),
        p("registry.json"),
    );
    let common = [
        "--identity",
        s(&id),
        "--petition",
        s(&pet),
        "--keys",
        s(&keys),
        "--accept-small-anonymity-set",
        "--out",
        s(&out_sig),
    ];
    let mut args = vec!["sign", "--registry", s(&reg)];
    args.extend(common);
    let out = run(&args);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not in this registry"));
    // With the old registry copy (checkpoint 0 only): refused too, older than the petition's
    // checkpoint.
    let mut args = vec!["sign", "--registry", s(&old_registry)];
    args.extend(common);
    let out = run(&args);
    assert_eq!(code(&out), 2);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the petition accepts checkpoint 1 only"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn small_anonymity_sets_are_refused_by_default() {
    let f = fixture();
    let tmp = scratch();
    // Dave is the only former justice employee: disclosing anything identifies him.
    let out = sign(
        &f.dir,
        "dave",
        "petition.json",
        s(&tmp.path().join("d.sig")),
        &["--disclose", "status,ministry"],
    );
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("only 1 member"), "{err}");
    // By default he discloses nothing and his set is the whole registry.
    let out = sign(
        &f.dir,
        "dave",
        "petition.json",
        s(&tmp.path().join("d2.sig")),
        &["--min-anonymity", "20"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("disclosed:  nothing") && text.contains("anonymity:  25 members"),
        "{text}"
    );
}

/// `sign` loads the keys while it prepares the statement, then checks them before proving:
/// keys the petition does not name, or made for another depth, are refused and nothing is
/// written. A key file that does not load is reported before a registry problem.
#[test]
fn sign_refuses_keys_the_petition_does_not_name() {
    let f = fixture();
    let tmp = scratch();
    let p = |n: &str| tmp.path().join(n);
    for (dir, depth, seed) in [("other", DEPTH, "22"), ("deeper", "6", "11")] {
        ok(&[
            "setup",
            "--depth",
            depth,
            "--out",
            s(&p(dir)),
            "--seed",
            &seed.repeat(32),
        ]);
    }
    let sign_with = |keys: &str, identity: &Path| {
        let out_sig = p(&format!("{keys}.sig"));
        let out = run(&[
            "sign",
            "--identity",
            s(identity),
            "--registry",
            s(&f.path("registry.json")),
            "--petition",
            s(&f.path("petition.json")),
            "--keys",
            s(&p(keys)),
            "--out",
            s(&out_sig),
        ]);
        assert_eq!(code(&out), 2);
        assert!(!out_sig.exists(), "no signature may be written");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let alice = f.path("alice.id");
    let err = sign_with("other", &alice);
    assert!(err.contains("these keys are not the petition's"), "{err}");
    let err = sign_with("deeper", &alice);
    assert!(
        err.contains("the keys are for depth 6, the registry has depth 5"),
        "{err}"
    );
    // A corrupted proving key and a signer who is not in the registry: the keys' error.
    let stranger = p("stranger.id");
    ok(&["identity", "new", "--unencrypted", "--out", s(&stranger)]);
    let err = sign_with("other", &stranger);
    assert!(err.contains("not in this registry"), "{err}");
    let broken = p("other").join("proving.key");
    assert!(broken.exists(), "the key set's layout changed");
    std::fs::write(&broken, b"not a key").unwrap();
    let err = sign_with("other", &stranger);
    assert!(
        err.contains("proving.key") && !err.contains("not in this registry"),
        "{err}"
    );
}

#[test]
fn secrets_are_private_and_never_printed() {
    let f = fixture();
    let tmp = scratch();
    let id = tmp.path().join("me.id");
    let out = ok(&["identity", "new", "--unencrypted", "--out", s(&id)]);
    let file: Value = serde_json::from_slice(&std::fs::read(&id).unwrap()).unwrap();
    let secret = file["secret"].as_str().unwrap();
    assert!(!out.contains(secret));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&id).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let key = std::fs::metadata(f.path("registrar.key"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(key, 0o600);
    }
    // Refuses to overwrite an identity.
    assert_eq!(
        code(&run(&["identity", "new", "--unencrypted", "--out", s(&id)])),
        2
    );

    // Encrypted with a passphrase: unreadable without it, same commitment with it.
    let pass = tmp.path().join("pass.txt");
    std::fs::write(&pass, "correct horse battery staple\n").unwrap();
    let enc = tmp.path().join("enc.id");
    let created = ok(&[
        "identity",
        "new",
        "--out",
        s(&enc),
        "--passphrase-file",
        s(&pass),
    ]);
    let raw = std::fs::read(&enc).unwrap();
    assert!(raw.starts_with(b"age-encryption.org/v1"));
    assert_eq!(code(&run(&["identity", "show", s(&enc)])), 2);
    let shown = ok(&["identity", "show", s(&enc), "--passphrase-file", s(&pass)]);
    assert!(created.contains(shown.trim()));
    let wrong = tmp.path().join("wrong.txt");
    std::fs::write(&wrong, "wrong\n").unwrap();
    assert_eq!(
        code(&run(&[
            "identity",
            "show",
            s(&enc),
            "--passphrase-file",
            s(&wrong)
        ])),
        2
    );
}

#[test]
fn bad_files_for_every_input_give_exit_2_and_a_message() {
    let f = fixture();
    let tmp = scratch();
    let bundle = tmp.path().join("bundle.jsonl");
    build_bundle(f, &bundle, &three_sigs(f));
    let good: Vec<(&str, PathBuf)> = vec![
        ("identity", f.path("alice.id")),
        ("registry", f.path("registry.json")),
        ("petition", f.path("petition.json")),
        ("signature", f.path("alice.sig")),
        ("keys.json", f.path("keys/keys.json")),
        ("verifying.key", f.path("keys/verifying.key")),
        ("proving.key", f.path("keys/proving.key")),
        ("bundle", bundle.clone()),
        ("schema", f.path("schema.json")),
        ("registrar key", f.path("registrar.key")),
        ("csv", f.path("members.csv")),
    ];
    for (what, path) in good {
        let bytes = std::fs::read(&path).unwrap();
        let variants: Vec<(&str, Vec<u8>)> = vec![
            ("empty", Vec::new()),
            ("truncated", bytes[..bytes.len().min(40) / 2].to_vec()),
            ("garbage", b"\x00\xffnot a file {[".to_vec()),
        ];
        for (how, content) in variants {
            let case = tmp.path().join(format!("case-{}", what.replace(' ', "_")));
            let _ = std::fs::remove_dir_all(&case);
            std::fs::create_dir_all(case.join("keys")).unwrap();
            for k in ["keys.json", "verifying.key", "proving.key"] {
                std::fs::copy(f.path(&format!("keys/{k}")), case.join("keys").join(k)).unwrap();
            }
            let target = match what {
                "keys.json" | "verifying.key" | "proving.key" => case.join("keys").join(what),
                _ => case.join(path.file_name().unwrap()),
            };
            std::fs::write(&target, &content).unwrap();
            let pick = |name: &str, default: PathBuf| {
                if what == name {
                    target.clone()
                } else {
                    default
                }
            };
            let keys = case.join("keys");
            let reg = pick("registry", f.path("registry.json"));
            let pet = pick("petition", f.path("petition.json"));
            let args: Vec<String> = match what {
                "identity" | "keys.json" | "verifying.key" | "proving.key" | "registry"
                | "petition" => vec![
                    "sign".into(),
                    "--identity".into(),
                    s(&pick("identity", f.path("alice.id"))).into(),
                    "--registry".into(),
                    s(&reg).into(),
                    "--petition".into(),
                    s(&pet).into(),
                    "--keys".into(),
                    s(&keys).into(),
                    "--out".into(),
                    s(&case.join("out.sig")).into(),
                ],
                "signature" => vec![
                    "verify".into(),
                    s(&target).into(),
                    "--petition".into(),
                    s(&pet).into(),
                    "--registry".into(),
                    s(&reg).into(),
                    "--keys".into(),
                    s(&keys).into(),
                ],
                "bundle" => vec![
                    "audit".into(),
                    s(&target).into(),
                    "--registrar-key".into(),
                    f.registrar_pub.clone(),
                ],
                "schema" => vec![
                    "registry".into(),
                    "init".into(),
                    "--schema".into(),
                    s(&target).into(),
                    "--out".into(),
                    s(&case.join("r.json")).into(),
                ],
                "registrar key" => {
                    std::fs::copy(f.path("registry.json"), case.join("r.json")).unwrap();
                    vec![
                        "registry".into(),
                        "checkpoint".into(),
                        s(&case.join("r.json")).into(),
                        "--key".into(),
                        s(&target).into(),
                    ]
                }
                "csv" => {
                    std::fs::copy(f.path("registry.json"), case.join("r.json")).unwrap();
                    vec![
                        "registry".into(),
                        "add".into(),
                        s(&case.join("r.json")).into(),
                        "--csv".into(),
                        s(&target).into(),
                    ]
                }
                _ => unreachable!(),
            };
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = run(&refs);
            let stderr = String::from_utf8_lossy(&out.stderr);
            if what == "bundle" && how != "empty" {
                // A bundle with a first line is the audit's verdict (SPEC §15.5): a report
                // naming the fatal header problem, exit 1.
                let stdout = String::from_utf8_lossy(&out.stdout);
                assert_eq!(
                    code(&out),
                    1,
                    "{what} {how}: {stdout}
{stderr}"
                );
                assert!(
                    stdout.contains("BUNDLE INVALID (header_malformed)"),
                    "{what} {how}: {stdout}"
                );
                continue;
            }
            assert_eq!(
                code(&out),
                2,
                "{what} {how}: expected exit 2\nstdout: {}\nstderr: {stderr}",
                String::from_utf8_lossy(&out.stdout)
            );
            assert!(
                stderr.lines().any(|l| l.starts_with("error:")),
                "{what} {how}: {stderr}"
            );
            assert!(
                !case.join("out.sig").exists(),
                "{what} {how}: wrote a signature anyway"
            );
        }
    }
}

#[test]
fn usage_errors_exit_2_and_help_has_examples() {
    assert_eq!(code(&run(&[])), 2);
    assert_eq!(code(&run(&["sign"])), 2);
    assert_eq!(code(&run(&["no-such-command"])), 2);
    assert_eq!(
        code(&run(&["audit", "/nonexistent", "--registrar-key", "zz"])),
        2
    );
    for cmd in [
        &["setup"][..],
        &["sign"],
        &["audit"],
        &["verify"],
        &["demo"],
        &["registry", "add"],
        &["petition", "new"],
        &["bundle", "build"],
        &["identity", "new"],
    ] {
        let mut args = cmd.to_vec();
        args.push("--help");
        let help = ok(&args);
        assert!(
            help.contains("Example: undersign"),
            "{cmd:?} --help has no example:\n{help}"
        );
    }
    // Completions and the manual page come from the same definitions as --help.
    let bash = ok(&["completions", "bash"]);
    assert!(
        bash.contains("undersign") && bash.contains("--registrar-key"),
        "{bash}"
    );
    let man = ok(&["man"]);
    assert!(
        man.starts_with(".ie") || man.contains(".TH undersign"),
        "{man}"
    );
    assert!(
        man.contains("Anonymous, verifiable signature tallies"),
        "{man}"
    );
}

/// The review's reproduction (issue 21 §1), with default options: a member is removed and
/// re-issued an identity with another status in a new checkpoint. The old identity signs with
/// a saved copy of the registry, the new one with the current registry. By default the petition
/// accepts only the checkpoint it was opened at, so the second signature is refused; a petition
/// that opens a window over both counts both and says that up to one may be double.
#[test]
fn reissued_identity_counts_once_with_default_options() {
    let f = fixture();
    let tmp = scratch();
    let p = |n: &str| tmp.path().join(n);
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
    for name in ["old", "new", "bystander"] {
        ok(&[
            "identity",
            "new",
            "--unencrypted",
            "--out",
            s(&p(&format!("{name}.id"))),
        ]);
    }
    let commitment = |name: &str| {
        ok(&["identity", "show", s(&p(&format!("{name}.id")))])
            .trim()
            .to_owned()
    };
    let mut csv = format!(
        "commitment,status\n{},current\n{},current\n",
        commitment("old"),
        commitment("bystander")
    );
    for i in 2..6u64 {
        csv += &format!("{},current\n", field::to_hex(&Fr::from(5000 + i)));
    }
    std::fs::write(p("members.csv"), csv).unwrap();
    let registry = s(&p("registry.json")).to_owned();
    let key = s(&f.path("registrar.key")).to_owned();
    ok(&["registry", "add", &registry, "--csv", s(&p("members.csv"))]);
    ok(&["registry", "checkpoint", &registry, "--key", &key]);
    std::fs::write(p("letter.txt"), "One count per person.\n").unwrap();
    let petition_new = |out: &str, extra: &[&str]| {
        let mut args = vec![
            "petition",
            "new",
            "--registry",
            &registry,
            "--title",
            "Reissued",
            "--text-file",
            s(&p("letter.txt")).to_owned().leak(),
            "--disclose",
            "status",
            "--keys",
            s(&f.path("keys")).to_owned().leak(),
            "--out",
            s(&p(out)).to_owned().leak(),
        ];
        args.extend(extra);
        ok(&args)
    };
    let text = petition_new("petition.json", &[]);
    assert!(text.contains("accepts: checkpoint 0 only"), "{text}");
    let window = petition_new(
        "window.json",
        &["--min-checkpoint", "0", "--max-checkpoint", "1"],
    );
    assert!(window.contains("accepts: checkpoints 0 to 1"), "{window}");
    assert!(window.contains("counted twice"), "{window}");
    std::fs::copy(p("registry.json"), p("registry-at-0.json")).unwrap();

    // The member says they lost their identity file: removed, re-issued as "former".
    ok(&["registry", "remove", &registry, "--index", "0"]);
    ok(&[
        "registry",
        "add",
        &registry,
        "--commitment",
        &commitment("new"),
        "--attr",
        "status=former",
    ]);
    ok(&["registry", "checkpoint", &registry, "--key", &key]);

    let sign = |who: &str, registry: &str, petition: &str| {
        let out = p(&format!("{who}-{petition}.sig"));
        let output = run(&[
            "sign",
            "--identity",
            s(&p(&format!("{who}.id"))),
            "--registry",
            s(&p(registry)),
            "--petition",
            s(&p(petition)),
            "--keys",
            s(&f.path("keys")),
            "--disclose",
            "status",
            "--accept-small-anonymity-set",
            "--out",
            s(&out),
        ]);
        (output, out)
    };
    let (old_out, old_sig) = sign("old", "registry-at-0.json", "petition.json");
    assert!(
        old_out.status.success(),
        "{}",
        String::from_utf8_lossy(&old_out.stderr)
    );
    let (new_out, new_sig) = sign("new", "registry.json", "petition.json");
    assert_eq!(code(&new_out), 2);
    let err = String::from_utf8_lossy(&new_out.stderr);
    assert!(
        err.contains("added to the registry after checkpoint 0")
            && err.contains("members added later cannot sign"),
        "{err}"
    );
    assert!(!new_sig.exists());
    // Any other member still signs the default petition with the current registry file: the
    // removed member's tombstone keeps checkpoint 0's root reproducible.
    let (by_out, by_sig) = sign("bystander", "registry.json", "petition.json");
    assert!(
        by_out.status.success(),
        "{}",
        String::from_utf8_lossy(&by_out.stderr)
    );
    assert!(String::from_utf8_lossy(&by_out.stdout).contains("at checkpoint 0"));

    // Under the window both sign, and the audit states the bound.
    let (a, a_sig) = sign("old", "registry-at-0.json", "window.json");
    let (b, b_sig) = sign("new", "registry.json", "window.json");
    assert!(a.status.success() && b.status.success());
    let bundle = p("window.jsonl");
    ok(&[
        "bundle",
        "build",
        "--petition",
        s(&p("window.json")),
        "--registry",
        &registry,
        "--keys",
        s(&f.path("keys")),
        "--out",
        s(&bundle),
        s(&a_sig),
        s(&b_sig),
    ]);
    let (status, json) = audit_json(f, &bundle);
    assert_eq!(status, 0);
    assert_eq!(json["count"], 2);
    assert_eq!(json["double_count_bound"]["members"], 1);
    assert_eq!(json["accepted_checkpoints"]["max"], 1);
    let roots: Vec<(u64, u64)> = json["roots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["checkpoint"].as_u64().unwrap(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(roots, [(0, 1), (1, 1)]);
    let text = ok(&["audit", s(&bundle), "--registrar-key", &f.registrar_pub]);
    assert!(
        text.contains("up to 1 may be double: 1 member was removed between checkpoints 0 and 1"),
        "{text}"
    );

    // The default petition: the old identity's signature counts; the new one, signed under the
    // window's petition and moved here, is refused by `bundle build` and by the audit.
    let bundle = p("default.jsonl");
    let built = ok(&[
        "bundle",
        "build",
        "--petition",
        s(&p("petition.json")),
        "--registry",
        &registry,
        "--keys",
        s(&f.path("keys")),
        "--out",
        s(&bundle),
        s(&old_sig),
    ]);
    assert!(built.contains("1 signature"), "{built}");
    let (status, json) = audit_json(f, &bundle);
    assert_eq!((status, json["count"].as_u64()), (0, Some(1)));
    let bundle = p("default-with-bystander.jsonl");
    ok(&[
        "bundle",
        "build",
        "--petition",
        s(&p("petition.json")),
        "--registry",
        &registry,
        "--keys",
        s(&f.path("keys")),
        "--out",
        s(&bundle),
        s(&old_sig),
        s(&by_sig),
        s(&b_sig),
    ]);
    let (status, json) = audit_json(f, &bundle);
    assert_eq!((status, json["count"].as_u64()), (0, Some(2)));
    assert_eq!(json["double_count_bound"]["members"], 0);
}

/// Whoever hands out the key directory controls both files: a proving key doctored so that
/// chosen witnesses fail (here every L-query point shifted, with the manifest's hash updated)
/// still embeds the right verifying key and δ. The petition names the proving key's hash, so
/// `sign` refuses it; and when the petition itself names a doctored key, the failure says the
/// keys may have been tampered with rather than blaming the registry.
#[test]
fn sign_refuses_a_doctored_proving_key() {
    use ark_ec::AffineRepr;
    use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
    let f = fixture();
    let tmp = scratch();
    let p = |n: &str| tmp.path().join(n);
    let doctored = p("doctored");
    std::fs::create_dir(&doctored).unwrap();
    for file in ["keys.json", "verifying.key", "proving.key"] {
        std::fs::copy(f.path("keys").join(file), doctored.join(file)).unwrap();
    }
    let bytes = std::fs::read(doctored.join("proving.key")).unwrap();
    let (head, body) = bytes.split_at(20);
    let mut pk = undersign::proof::ProvingKey::deserialize_uncompressed_unchecked(body).unwrap();
    for point in pk.l_query.iter_mut() {
        *point = (*point + ark_bn254::G1Affine::generator()).into();
    }
    let mut out = head.to_vec();
    pk.serialize_uncompressed(&mut out).unwrap();
    std::fs::write(doctored.join("proving.key"), &out).unwrap();
    let manifest_path = doctored.join("keys.json");
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    let honest_hash = manifest["proving_key"]["blake3"]
        .as_str()
        .unwrap()
        .to_owned();
    let doctored_hash = blake3::hash(&out).to_hex().to_string();
    assert_ne!(honest_hash, doctored_hash);
    manifest["proving_key"]["blake3"] = Value::from(doctored_hash.clone());
    std::fs::write(
        &manifest_path,
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();

    let sign_with = |petition: &Path, out: &Path| {
        run(&[
            "sign",
            "--identity",
            s(&f.path("alice.id")),
            "--registry",
            s(&f.path("registry.json")),
            "--petition",
            s(petition),
            "--keys",
            s(&doctored),
            "--out",
            s(out),
        ])
    };
    // The fixture's petition names the honest proving key.
    let out = sign_with(&f.path("petition.json"), &p("a.sig"));
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("these keys are not the petition's: their proving key is")
            && err.contains(&doctored_hash)
            && err.contains(&honest_hash),
        "{err}"
    );
    assert!(!p("a.sig").exists());

    // A petition opened with the doctored keys: the proof fails, and the message says why.
    ok(&[
        "petition",
        "new",
        "--registry",
        s(&f.path("registry.json")),
        "--title",
        "Doctored",
        "--text-file",
        s(&f.path("letter.txt")),
        "--disclose",
        "status",
        "--keys",
        s(&doctored),
        "--out",
        s(&p("doctored.json")),
    ]);
    let petition: Value =
        serde_json::from_slice(&std::fs::read(p("doctored.json")).unwrap()).unwrap();
    assert_eq!(petition["proving_key"], Value::from(doctored_hash));
    let out = sign_with(&p("doctored.json"), &p("b.sig"));
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the keys may have been tampered with"),
        "{err}"
    );
    assert!(!err.contains("statement does not hold"), "{err}");
    assert!(!p("b.sig").exists());
    // Before proving, `sign` showed what is being signed.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("petition:   Doctored") && stdout.contains("compare it with the id"),
        "{stdout}"
    );
}

/// `identity new` encrypts by default: without a terminal and without a passphrase source it
/// refuses and names the flags; `--passphrase-file -` reads standard input; `encrypt` and
/// `decrypt` convert a file in place; a plain identity warns when loaded; a passphrase file
/// with a plain identity is an error.
#[test]
fn identities_are_encrypted_unless_asked_otherwise() {
    use std::io::Write;
    let tmp = scratch();
    let p = |n: &str| tmp.path().join(n);
    // No terminal (the test's stdin is not one), no flags: refused, nothing written.
    let out = bin()
        .args(["identity", "new", "--out", s(&p("a.id"))])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--passphrase-file") && err.contains("--unencrypted"),
        "{err}"
    );
    assert!(!p("a.id").exists());

    // The passphrase from standard input.
    let with_stdin = |args: &[&str], input: &str| {
        let mut child = bin()
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let created = with_stdin(
        &[
            "identity",
            "new",
            "--out",
            s(&p("a.id")),
            "--passphrase-file",
            "-",
        ],
        "correct horse\n",
    );
    assert_eq!(
        code(&created),
        0,
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(std::fs::read(p("a.id"))
        .unwrap()
        .starts_with(b"age-encryption.org/v1"));
    let commitment = String::from_utf8_lossy(&created.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("commitment (give this to your registrar): "))
        .unwrap()
        .to_owned();
    let shown = with_stdin(
        &["identity", "show", s(&p("a.id")), "--passphrase-file", "-"],
        "correct horse\n",
    );
    assert_eq!(String::from_utf8_lossy(&shown.stdout).trim(), commitment);
    assert!(!String::from_utf8_lossy(&shown.stderr).contains("not encrypted"));
    // Without a passphrase and without a terminal: refused with the way out.
    let out = run(&["identity", "show", s(&p("a.id"))]);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is encrypted"));

    // decrypt, then encrypt again: the same commitment, one file at a time, no temporaries.
    let decrypted = with_stdin(
        &[
            "identity",
            "decrypt",
            s(&p("a.id")),
            "--passphrase-file",
            "-",
        ],
        "correct horse\n",
    );
    assert_eq!(
        code(&decrypted),
        0,
        "{}",
        String::from_utf8_lossy(&decrypted.stderr)
    );
    assert!(std::fs::read(p("a.id")).unwrap().starts_with(b"{"));
    let plain = run(&["identity", "show", s(&p("a.id"))]);
    assert_eq!(String::from_utf8_lossy(&plain.stdout).trim(), commitment);
    assert!(
        String::from_utf8_lossy(&plain.stderr).contains("is not encrypted"),
        "loading a plain identity warns"
    );
    let out = run(&[
        "identity",
        "show",
        s(&p("a.id")),
        "--passphrase-file",
        s(&p("a.id")),
    ]);
    assert_eq!(code(&out), 2, "a passphrase file with a plain identity");
    let encrypted = with_stdin(
        &[
            "identity",
            "encrypt",
            s(&p("a.id")),
            "--passphrase-file",
            "-",
        ],
        "another passphrase\n",
    );
    assert_eq!(
        code(&encrypted),
        0,
        "{}",
        String::from_utf8_lossy(&encrypted.stderr)
    );
    assert!(std::fs::read(p("a.id"))
        .unwrap()
        .starts_with(b"age-encryption.org/v1"));
    let again = with_stdin(
        &["identity", "show", s(&p("a.id")), "--passphrase-file", "-"],
        "another passphrase\n",
    );
    assert_eq!(String::from_utf8_lossy(&again.stdout).trim(), commitment);
    assert_eq!(
        code(&run(&["identity", "encrypt", s(&p("a.id"))])),
        2,
        "already encrypted"
    );
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["a.id"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(p("a.id")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

/// On a terminal, `identity new` asks for the passphrase twice without echo (again when the
/// two differ) and writes an encrypted file; the passphrase never appears in the output.
#[cfg(unix)]
#[test]
fn identity_new_on_a_terminal_asks_twice_and_encrypts() {
    let tmp = scratch();
    let id = tmp.path().join("tty.id");
    let mut command = bin();
    command.args(["identity", "new", "--out", s(&id)]);
    let mut session = rexpect::session::spawn_command(command, Some(60_000)).unwrap();
    let mut seen = String::new();
    let mut expect = |session: &mut rexpect::session::PtySession, text: &str| {
        seen += &session.exp_string(text).unwrap();
        seen += text;
    };
    expect(&mut session, "passphrase for");
    session.send_line("first secret words").unwrap();
    expect(&mut session, "the same passphrase again");
    session.send_line("something else").unwrap();
    expect(&mut session, "the two passphrases differ");
    expect(&mut session, "passphrase for");
    session.send_line("correct horse").unwrap();
    expect(&mut session, "the same passphrase again");
    session.send_line("correct horse").unwrap();
    expect(&mut session, "commitment (give this to your registrar): ");
    seen += &session.exp_eof().unwrap();
    for secret in ["first secret words", "something else", "correct horse"] {
        assert!(
            !seen.contains(secret),
            "the terminal echoed a passphrase:\n{seen}"
        );
    }
    assert!(seen.contains("encrypted with your passphrase"), "{seen}");
    assert!(std::fs::read(&id)
        .unwrap()
        .starts_with(b"age-encryption.org/v1"));
}

/// Ctrl-C while `identity new` derives the encryption key (scrypt, about a second) leaves no
/// file behind: no identity and no temporary file.
#[cfg(unix)]
#[test]
fn interrupted_identity_new_leaves_no_file() {
    let tmp = scratch();
    let pass = tmp.path().join("pass.txt");
    std::fs::write(&pass, "correct horse\n").unwrap();
    let out = tmp.path().join("me.id");
    let mut command = bin();
    command
        .args([
            "identity",
            "new",
            "--out",
            s(&out),
            "--passphrase-file",
            s(&pass),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // A shell that starts the tests in the background (`cargo test &`) ignores SIGINT, and the
    // child would inherit that: give it the default action, as a terminal's Ctrl-C would find.
    // SAFETY: `signal` is async-signal-safe, which is all `pre_exec` requires.
    unsafe {
        use std::os::unix::process::CommandExt;
        command.pre_exec(|| {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            Ok(())
        });
    }
    let mut child = command.spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(150));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(2), "interrupted during scrypt");
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["pass.txt"]);
}

/// Issue 23's file rule: every command that writes refuses an existing path unless `--force`
/// is given, an output that is one of the inputs is refused outright, `setup` refuses a
/// directory holding keys, and published files are readable by others while secrets are not.
#[test]
fn writes_refuse_existing_files_without_force_and_never_eat_their_input() {
    let f = fixture();
    let tmp = scratch();
    let dir = tmp.path();
    let p = |n: &str| dir.join(n);
    let refused = |args: &[&str], what: &str| {
        let out = run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(code(&out), 2, "{what}: {stderr}");
        stderr.into_owned()
    };

    // setup twice into one directory: refused, the keys untouched; --force replaces them.
    let keys = p("keys");
    let (seed_a, seed_b) = ("22".repeat(32), "33".repeat(32));
    let setup = |seed: &str, force: bool| {
        let mut args = vec!["setup", "--depth", "4", "--out", s(&keys), "--seed", seed];
        if force {
            args.push("--force");
        }
        run(&args)
    };
    assert!(setup(&seed_a, false).status.success());
    let before = std::fs::read(keys.join("verifying.key")).unwrap();
    let again = setup(&seed_b, false);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(code(&again), 2, "{stderr}");
    assert!(
        stderr.contains("already holds keys") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(keys.join("verifying.key")).unwrap(), before);
    assert!(setup(&seed_b, true).status.success());
    assert_ne!(std::fs::read(keys.join("verifying.key")).unwrap(), before);

    // Commands that fill a directory refuse one that holds files.
    let full = p("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("precious.txt"), "precious").unwrap();
    let stderr = refused(
        &[
            "bench-data",
            "--signatures",
            "2",
            "--depth",
            "4",
            "--out",
            s(&full),
        ],
        "bench-data into a directory holding files",
    );
    assert!(stderr.contains("already holds files"), "{stderr}");
    let stderr = refused(
        &[
            "demo",
            "--members",
            "30",
            "--signers",
            "3",
            "--depth",
            "5",
            "--dir",
            s(&full),
        ],
        "demo into a directory holding files",
    );
    assert!(stderr.contains("already holds files"), "{stderr}");
    assert_eq!(std::fs::read_dir(&full).unwrap().count(), 1);

    // registry init and petition new: the --force they suggest exists and works.
    let registry = p("registry.json");
    std::fs::write(&registry, "precious").unwrap();
    let init = |extra: &[&str]| {
        let mut args = vec![
            "registry",
            "init",
            "--schema",
            s(&f.path("schema.json")).to_owned().leak(),
            "--depth",
            "4",
            "--out",
            s(&registry),
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    assert_eq!(code(&init(&[])), 2);
    assert_eq!(std::fs::read_to_string(&registry).unwrap(), "precious");
    assert!(init(&["--force"]).status.success());
    let petition = p("petition.json");
    std::fs::write(&petition, "precious").unwrap();
    let petition_new = |extra: &[&str]| {
        let mut args = vec![
            "petition",
            "new",
            "--registry",
            s(&f.path("registry.json")).to_owned().leak(),
            "--title",
            "T",
            "--text-file",
            s(&f.path("letter.txt")).to_owned().leak(),
            "--disclose",
            "none",
            "--keys",
            s(&f.path("keys")).to_owned().leak(),
            "--out",
            s(&petition),
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let stderr = String::from_utf8_lossy(&petition_new(&[]).stderr).into_owned();
    assert!(stderr.contains("pass --force"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&petition).unwrap(), "precious");
    assert!(petition_new(&["--force"]).status.success());

    // bundle build --out X X: refused whatever --force says, X intact.
    let sig = p("alice.sig");
    std::fs::copy(f.path("alice.sig"), &sig).unwrap();
    let original = std::fs::read(&sig).unwrap();
    for force in [false, true] {
        let mut args = vec![
            "bundle",
            "build",
            "--petition",
            s(&f.path("petition.json")).to_owned().leak(),
            "--registry",
            s(&f.path("registry.json")).to_owned().leak(),
            "--keys",
            s(&f.path("keys")).to_owned().leak(),
            "--out",
            s(&sig),
            s(&sig),
        ];
        if force {
            args.push("--force");
        }
        let stderr = refused(&args, "bundle build over its input");
        assert!(stderr.contains("is also an input"), "{stderr}");
        assert_eq!(std::fs::read(&sig).unwrap(), original);
    }

    // sign --out onto another member's signature: refused before any work.
    std::fs::copy(f.path("alice.id"), p("alice.id")).unwrap();
    for file in ["registry.json", "petition.json"] {
        std::fs::copy(f.path(file), p(file)).unwrap();
    }
    std::fs::remove_dir_all(&keys).unwrap();
    copy_dir(&f.path("keys"), &keys);
    let out = sign(
        dir,
        "alice",
        "petition.json",
        "alice.sig",
        &["--disclose", "none"],
    );
    assert_eq!(code(&out), 2);
    assert_eq!(std::fs::read(&sig).unwrap(), original);

    // Published files are readable by others; secrets are the owner's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        for public in [&registry, &petition, &keys.join("verifying.key")] {
            assert_ne!(mode(public) & 0o044, 0, "{}", public.display());
            assert_eq!(mode(public) & 0o022, 0, "{}", public.display());
        }
        for secret in [
            f.path("alice.id"),
            f.path("registrar.key"),
            f.path("alice.sig"),
        ] {
            assert_eq!(mode(&secret), 0o600, "{}", secret.display());
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// Issue 23: wrong input says what it is and what to do; the registrar's key is easy to pass
/// on; a checkpoint with nothing to sign is not signed.
#[test]
fn wrong_files_are_named_and_registrar_commands_help() {
    let f = fixture();
    let tmp = scratch();
    let dir = tmp.path();
    let failing = |args: &[&str]| {
        let out = run(args);
        assert_eq!(code(&out), 2, "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        // One line per error, each cause once, no temporary file names.
        assert!(!stderr.contains(".undersign-tmp-"), "{stderr}");
        stderr
    };
    let registry = s(&f.path("registry.json")).to_owned();
    let petition = s(&f.path("petition.json")).to_owned();
    let keys = s(&f.path("keys")).to_owned();

    // A registry given as the petition, and the other way round: named for what they are.
    let stderr = failing(&[
        "verify",
        s(&f.path("alice.sig")),
        "--petition",
        &registry,
        "--registry",
        &registry,
        "--keys",
        &keys,
    ]);
    assert!(
        stderr.contains("is a registry; --petition wants a petition file"),
        "{stderr}"
    );
    let stderr = failing(&[
        "verify",
        s(&f.path("alice.sig")),
        "--petition",
        &petition,
        "--registry",
        &petition,
        "--keys",
        &keys,
    ]);
    assert!(
        stderr.contains("is a petition file; --registry wants a registry"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("undersign-petition").count(), 0, "{stderr}");
    // A petition given as the signature to verify.
    let stderr = failing(&[
        "verify",
        &petition,
        "--petition",
        &petition,
        "--registry",
        &registry,
        "--keys",
        &keys,
    ]);
    assert!(
        stderr.contains("is a petition file; SIGNATURE wants a signature file"),
        "{stderr}"
    );
    // keys/keys.json for the key directory.
    let stderr = failing(&[
        "verify",
        s(&f.path("alice.sig")),
        "--petition",
        &petition,
        "--registry",
        &registry,
        "--keys",
        s(&f.path("keys/keys.json")),
    ]);
    assert!(stderr.contains("wants the key directory"), "{stderr}");
    // A signature given to audit: a report naming it, exit 1.
    let out = run(&[
        "audit",
        s(&f.path("alice.sig")),
        "--registrar-key",
        &f.registrar_pub,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code(&out), 1);
    assert!(
        stdout.contains("\"undersign-signature\" file, not a bundle header"),
        "{stdout}"
    );

    // registrar pubkey prints the key again; --registrar-key takes the key file or a file
    // holding the hex (whitespace around it ignored), and the hex in capitals.
    let printed = ok(&["registrar", "pubkey", s(&f.path("registrar.key"))]);
    assert_eq!(printed.trim(), f.registrar_pub);
    let bundle = dir.join("bundle.jsonl");
    build_bundle(f, &bundle, &three_sigs(f));
    let pub_file = dir.join("registrar.pub");
    std::fs::write(&pub_file, format!("  {}\n\n", f.registrar_pub)).unwrap();
    let upper = f.registrar_pub.to_uppercase();
    for key in [s(&f.path("registrar.key")), s(&pub_file), upper.as_str()] {
        let out = run(&["audit", s(&bundle), "--registrar-key", key, "--json"]);
        assert_eq!(
            code(&out),
            0,
            "{key}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stderr = failing(&["audit", s(&bundle), "--registrar-key", "0xabc"]);
    assert!(
        stderr.contains("--registrar-key wants 64 hexadecimal digits"),
        "{stderr}"
    );
    let stderr = failing(&[
        "audit",
        s(&bundle),
        "--registrar-key",
        &f.registrar_pub,
        "--vk-hash",
        "abc",
    ]);
    assert!(
        stderr.contains("--vk-hash wants 64 hexadecimal digits"),
        "{stderr}"
    );

    // audit --registry with another registry: refused rather than anonymity sets from it.
    let other = dir.join("other-registry.json");
    ok(&[
        "registry",
        "init",
        "--schema",
        s(&f.path("schema.json")),
        "--depth",
        DEPTH,
        "--out",
        s(&other),
    ]);
    let stderr = failing(&[
        "audit",
        s(&bundle),
        "--registrar-key",
        &f.registrar_pub,
        "--registry",
        s(&other),
    ]);
    assert!(
        stderr.contains("but the bundle's petition names registry"),
        "{stderr}"
    );

    // An unknown label lists the slot's labels.
    let copy = dir.join("registry.json");
    std::fs::copy(f.path("registry.json"), &copy).unwrap();
    let stderr = failing(&[
        "registry",
        "add",
        s(&copy),
        "--commitment",
        &field::to_hex(&Fr::from(777u64)),
        "--attr",
        "status=retired",
    ]);
    assert!(
        stderr.contains("its labels: current (1), former (2)"),
        "{stderr}"
    );

    // bundle build with no valid signature: exit 1, the reasons, and no bundle.
    let junk = dir.join("junk.sig");
    std::fs::write(&junk, "{}").unwrap();
    let empty_bundle = dir.join("empty.jsonl");
    let out = run(&[
        "bundle",
        "build",
        "--petition",
        &petition,
        "--registry",
        &registry,
        "--keys",
        &keys,
        "--out",
        s(&empty_bundle),
        s(&junk),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code(&out), 1, "{stdout}");
    assert!(
        stdout.contains("no valid signature among 1 input"),
        "{stdout}"
    );
    assert!(stdout.contains("junk.sig: malformed"), "{stdout}");
    assert!(!empty_bundle.exists());

    // A checkpoint with nothing changed is not signed unless asked for.
    let checkpoint = |extra: &[&str]| {
        let mut args = vec![
            "registry",
            "checkpoint",
            s(&copy),
            "--key",
            s(&f.path("registrar.key")).to_owned().leak(),
        ];
        args.extend_from_slice(extra);
        ok(&args)
    };
    let before = std::fs::read(&copy).unwrap();
    let said = checkpoint(&[]);
    assert!(
        said.contains("nothing changed since checkpoint 0"),
        "{said}"
    );
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        before,
        "nothing may be signed"
    );
    let said = checkpoint(&["--unchanged"]);
    assert!(said.contains("checkpoint 1 signed"), "{said}");

    // A member with an unset category: a warning (silenced by --allow-unset); find and
    // remove by commitment.
    let member = field::to_hex(&Fr::from(4242u64));
    let out = run(&[
        "registry",
        "add",
        s(&copy),
        "--commitment",
        &member,
        "--attr",
        "status=current",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: no value for ministry"),
        "{stderr}"
    );
    let found = ok(&["registry", "find", s(&copy), "--commitment", &member]);
    assert!(found.contains("status:     current"), "{found}");
    assert!(found.contains("ministry:   unset"), "{found}");
    let said = ok(&["registry", "remove", s(&copy), "--commitment", &member]);
    assert!(said.contains("removed the member at position"), "{said}");
    let out = run(&["registry", "find", s(&copy), "--commitment", &member]);
    assert_eq!(code(&out), 1);
    let out = run(&[
        "registry",
        "add",
        s(&copy),
        "--commitment",
        &field::to_hex(&Fr::from(4243u64)),
        "--allow-unset",
    ]);
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Issue 23: `--json` on every command a script reads; stdout is one JSON object.
#[test]
fn commands_a_script_reads_print_json() {
    let f = fixture();
    let tmp = scratch();
    let dir = tmp.path();
    let json = |args: &[&str]| -> Value {
        let out = run(args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not one JSON object ({e}):\n{stdout}"))
    };
    let key = dir.join("r.key");
    let v = json(&["registrar", "keygen", "--out", s(&key), "--json"]);
    assert_eq!(v["public_key"].as_str().map(str::len), Some(64), "{v}");
    let v = json(&["identity", "show", s(&f.path("alice.id")), "--json"]);
    let alice = v["commitment"].as_str().unwrap().to_owned();
    let registry = dir.join("registry.json");
    std::fs::copy(f.path("registry.json"), &registry).unwrap();
    let v = json(&[
        "registry",
        "find",
        s(&registry),
        "--commitment",
        &alice,
        "--json",
    ]);
    assert_eq!(v["found"], true, "{v}");
    assert_eq!(v["categories"]["status"], "current", "{v}");
    let member = field::to_hex(&Fr::from(9001u64));
    let v = json(&[
        "registry",
        "add",
        s(&registry),
        "--commitment",
        &member,
        "--attr",
        "status=former",
        "--attr",
        "ministry=justice",
        "--json",
    ]);
    assert_eq!(v["added"], 1, "{v}");
    let position = v["position"].as_u64().unwrap();
    let v = json(&[
        "registry",
        "checkpoint",
        s(&registry),
        "--key",
        s(&f.path("registrar.key")),
        "--json",
    ]);
    assert_eq!(
        (v["signed"].clone(), v["sequence"].clone()),
        (Value::from(true), Value::from(1))
    );
    let v = json(&[
        "registry",
        "remove",
        s(&registry),
        "--index",
        &position.to_string(),
        "--json",
    ]);
    assert_eq!(v["removed_position"], position, "{v}");
    let petition = dir.join("petition.json");
    let v = json(&[
        "petition",
        "new",
        "--registry",
        s(&registry),
        "--title",
        "T",
        "--text-file",
        s(&f.path("letter.txt")),
        "--disclose",
        "status",
        "--keys",
        s(&f.path("keys")),
        "--out",
        s(&petition),
        "--json",
    ]);
    assert_eq!(v["min_checkpoint"], 1, "{v}");
    let v = json(&[
        "verify",
        s(&f.path("alice.sig")),
        "--petition",
        s(&f.path("petition.json")),
        "--registry",
        s(&f.path("registry.json")),
        "--keys",
        s(&f.path("keys")),
        "--json",
    ]);
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["receipt"].as_str().map(str::len), Some(64), "{v}");
    let bundle = dir.join("bundle.jsonl");
    let mut args = vec![
        "bundle",
        "build",
        "--petition",
        s(&f.path("petition.json")).to_owned().leak(),
        "--registry",
        s(&f.path("registry.json")).to_owned().leak(),
        "--keys",
        s(&f.path("keys")).to_owned().leak(),
        "--out",
        s(&bundle),
        "--json",
    ];
    let sigs = three_sigs(f);
    args.extend(sigs.iter().map(|p| s(p)));
    let v = json(&args);
    assert_eq!(v["kept"], 3, "{v}");
    // sign --json: the signature's facts, and nothing else on stdout.
    for file in ["bob.id", "letter.txt"] {
        std::fs::copy(f.path(file), dir.join(file)).unwrap();
    }
    std::fs::copy(f.path("registry.json"), &registry).unwrap();
    std::fs::copy(f.path("petition.json"), &petition).unwrap();
    copy_dir(&f.path("keys"), &dir.join("keys"));
    let out = sign(dir, "bob", "petition.json", "bob2.sig", &["--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["signature_file"], s(&dir.join("bob2.sig")), "{v}");
    assert_eq!(v["petition"].as_str().map(str::len), Some(64), "{v}");
}

/// Issue 23: an identity written down as 24 words restores to the same commitment; the words
/// never go to a pipe or a file the user did not ask for.
#[test]
fn identity_backup_and_restore_keep_the_commitment() {
    let f = fixture();
    let tmp = scratch();
    let dir = tmp.path();
    let alice = s(&f.path("alice.id")).to_owned();
    let commitment = ok(&["identity", "show", &alice]).trim().to_owned();
    // stdout is a pipe here: refused, nothing printed.
    let out = run(&["identity", "backup", &alice]);
    assert_eq!(code(&out), 2);
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("only on a terminal"));
    let words = dir.join("words.txt");
    ok(&["identity", "backup", &alice, "--out", s(&words)]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&words).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let text = std::fs::read_to_string(&words).unwrap();
    assert_eq!(text.lines().count(), 24, "{text}");
    let restored = dir.join("restored.id");
    let said = ok(&[
        "identity",
        "restore",
        "--out",
        s(&restored),
        "--phrase-file",
        s(&words),
        "--unencrypted",
    ]);
    assert!(said.contains(&commitment), "{said}");
    assert_eq!(ok(&["identity", "show", s(&restored)]).trim(), commitment);
    // A misspelt word is named.
    let wrong = dir.join("wrong.txt");
    std::fs::write(&wrong, text.replacen(". ", ". x", 1)).unwrap();
    let out = run(&[
        "identity",
        "restore",
        "--out",
        s(&dir.join("x.id")),
        "--phrase-file",
        s(&wrong),
        "--unencrypted",
    ]);
    assert_eq!(code(&out), 2);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("word 1"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.join("x.id").exists());
}

/// Issue 23: progress and colours only on a terminal (quiet when piped, `NO_COLOR` has nothing
/// to turn off); help uses README's words; warnings for unset categories; disclosure errors
/// name categories.
#[test]
fn piped_output_is_quiet_and_words_are_readmes() {
    let f = fixture();
    let tmp = scratch();
    let dir = tmp.path();
    for file in ["alice.id", "registry.json", "petition.json", "letter.txt"] {
        std::fs::copy(f.path(file), dir.join(file)).unwrap();
    }
    copy_dir(&f.path("keys"), &dir.join("keys"));
    // sign and audit, stderr piped: no progress lines, no escape sequences anywhere.
    let out = sign(
        dir,
        "alice",
        "petition.json",
        "a.sig",
        &["--disclose", "status"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bundle = dir.join("b.jsonl");
    build_bundle(f, &bundle, &[dir.join("a.sig")]);
    let audited = bin()
        .args(["audit", s(&bundle), "--registrar-key", &f.registrar_pub])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    for (what, bytes) in [
        ("sign stdout", &out.stdout),
        ("sign stderr", &out.stderr),
        ("audit stdout", &audited.stdout),
        ("audit stderr", &audited.stderr),
    ] {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains('\u{1b}'),
            "{what} has escape sequences: {text:?}"
        );
        for progress in ["proving", "building your path", "auditing"] {
            assert!(
                !text.contains(progress),
                "{what} shows progress when piped: {text}"
            );
        }
    }
    // A disclosure the petition does not allow is named by category.
    let petition = dir.join("status-only.json");
    ok(&[
        "petition",
        "new",
        "--registry",
        s(&dir.join("registry.json")),
        "--title",
        "T",
        "--text-file",
        s(&dir.join("letter.txt")),
        "--disclose",
        "status",
        "--keys",
        s(&dir.join("keys")),
        "--out",
        s(&petition),
    ]);
    let out = sign(
        dir,
        "alice",
        "status-only.json",
        "b.sig",
        &["--disclose", "status,ministry"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code(&out), 2, "{stderr}");
    assert!(
        stderr.contains("does not allow disclosing ministry; it allows: status"),
        "{stderr}"
    );
    // Help says "category", as README defines it, not "slot" or "attribute".
    for cmd in [
        &["registry", "add"][..],
        &["sign"],
        &["petition", "new"],
        &["registry", "stats"],
    ] {
        let mut args = cmd.to_vec();
        args.push("--help");
        let help = ok(&args).to_lowercase();
        assert!(
            !help.contains("slot") && !help.contains("attribute"),
            "{cmd:?}:\n{help}"
        );
    }
    // A CSV without a column for every category warns.
    let registry = dir.join("registry.json");
    let csv = dir.join("status-only.csv");
    std::fs::write(
        &csv,
        format!(
            "commitment,status\n{},current\n",
            field::to_hex(&Fr::from(31337u64))
        ),
    )
    .unwrap();
    let out = run(&["registry", "add", s(&registry), "--csv", s(&csv)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("has no column for ministry"), "{stderr}");
}

/// Issue 23: on a terminal, `sign` shows its phases and `audit` its progress against the total
/// the header announces, with a whole-number rate.
#[cfg(unix)]
#[test]
fn on_a_terminal_sign_shows_its_phases_and_audit_its_total() {
    let f = fixture();
    let tmp = scratch();
    let dir = tmp.path();
    for file in ["carol.id", "registry.json", "petition.json"] {
        std::fs::copy(f.path(file), dir.join(file)).unwrap();
    }
    copy_dir(&f.path("keys"), &dir.join("keys"));
    let mut command = bin();
    command.current_dir(dir).args([
        "sign",
        "--identity",
        "carol.id",
        "--registry",
        "registry.json",
        "--petition",
        "petition.json",
        "--keys",
        "keys",
        "--out",
        "c.sig",
        "--disclose",
        "status",
    ]);
    let mut session = rexpect::session::spawn_command(command, Some(60_000)).unwrap();
    let mut seen = session.exp_string("proving").unwrap();
    seen += &session.exp_eof().unwrap();
    assert!(dir.join("c.sig").exists(), "{seen}");

    let bundle = dir.join("b.jsonl");
    build_bundle(f, &bundle, &three_sigs(f));
    let mut command = bin();
    command.args(["audit", s(&bundle), "--registrar-key", &f.registrar_pub]);
    let mut session = rexpect::session::spawn_command(command, Some(60_000)).unwrap();
    let seen = session.exp_eof().unwrap();
    assert!(seen.contains("RESULT: bundle fully valid"), "{seen}");
    // The bar, if it was drawn before the audit ended, counted against the announced 3.
    if let Some(at) = seen.find("auditing") {
        let bar = &seen[at..seen[at..].find('\n').map_or(seen.len(), |n| at + n)];
        assert!(bar.contains("/3"), "{bar:?}");
        if let Some(end) = bar.find("/s") {
            let rate = bar[..end].rsplit([' ', ',']).next().unwrap_or_default();
            assert!(
                rate.chars().all(|c| c.is_ascii_digit()),
                "rate not whole: {bar:?}"
            );
        }
    }
}
