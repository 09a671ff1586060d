//! The second auditor (`verifiers/js`, JavaScript, written from SPEC.md alone) against this one:
//! its own conformance test over every vector (`node --test`), and field-for-field agreement with
//! `undersign audit --json` (exit status included) on a demo bundle and tampered copies of it.
//!
//! Needs Node.js and npm: the test fails, never skips, without them. `npm ci` runs first when
//! `verifiers/js/node_modules` is missing.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// `verifiers/js`, with its dependencies installed from the lockfile.
fn js_dir() -> &'static Path {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("verifiers/js");
        let node = Command::new("node").arg("--version").output();
        assert!(
            matches!(&node, Ok(o) if o.status.success()),
            "node is required for the JavaScript auditor's tests (Node.js 20 or later): {node:?}"
        );
        if !dir.join("node_modules").is_dir() {
            let out = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .output()
                .expect("npm is required for the JavaScript auditor's tests");
            assert!(
                out.status.success(),
                "npm ci in verifiers/js failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        dir
    })
}

/// Replaces the values of `reason` and `message` (informative text) by null, recursively.
fn scrub(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let x = if k == "reason" || k == "message" {
                        Value::Null
                    } else {
                        scrub(x)
                    };
                    (k.clone(), x)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(scrub).collect()),
        other => other.clone(),
    }
}

fn rust_audit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_undersign"))
        .arg("audit")
        .arg("--json")
        .args(args)
        .output()
        .expect("spawn undersign")
}

fn js_audit(args: &[&str]) -> Output {
    Command::new("node")
        .arg(js_dir().join("bin/undersign-audit.js"))
        .arg("audit")
        .arg("--json")
        .args(args)
        .output()
        .expect("spawn node")
}

/// Audits with both auditors and asserts the same exit status and the same report; returns the
/// report (null for a usage error).
fn agree(name: &str, args: &[&str]) -> Value {
    let r = rust_audit(args);
    let j = js_audit(args);
    let stderr = String::from_utf8_lossy(&j.stderr);
    assert_eq!(
        r.status.code(),
        j.status.code(),
        "{name}: exit status differs (JavaScript stderr: {stderr})"
    );
    if r.stdout.is_empty() {
        assert!(j.stdout.is_empty(), "{name}: JavaScript printed a report");
        return Value::Null;
    }
    let parse = |o: &Output, who: &str| -> Value {
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{name}: {who} JSON: {e}"))
    };
    let (rv, jv) = (parse(&r, "Rust"), parse(&j, "JavaScript"));
    assert_eq!(
        scrub(&rv),
        scrub(&jv),
        "{name}: reports differ\nRust: {rv:#}\nJavaScript: {jv:#}"
    );
    rv
}

/// Every code a report names: its fatal problem, rejected lines and bundle problems.
fn codes(report: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(c) = report["fatal"]["code"].as_str() {
        out.push(c.to_owned());
    }
    for key in ["rejected", "problems"] {
        for x in report[key].as_array().into_iter().flatten() {
            out.extend(x["code"].as_str().map(str::to_owned));
        }
    }
    out
}

#[test]
fn javascript_auditor_passes_every_conformance_vector() {
    let out = Command::new("node")
        .args(["--test", "test/"])
        .current_dir(js_dir())
        .output()
        .expect("spawn node --test");
    assert!(
        out.status.success(),
        "node --test in verifiers/js failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One bundle line as JSON, edited, written back compact.
fn edit_line(lines: &[String], index: usize, edit: impl FnOnce(&mut Value)) -> Vec<String> {
    let mut lines = lines.to_vec();
    let mut v: Value = serde_json::from_str(&lines[index]).expect("bundle line is JSON");
    edit(&mut v);
    lines[index] = v.to_string();
    lines
}

fn flip_hex_bit(hex_str: &str, byte: usize, mask: u8) -> String {
    let mut b = hex::decode(hex_str).expect("hex");
    b[byte] ^= mask;
    hex::encode(b)
}

/// A demo (depth 7, 120 members, 10 signers), made once for every test here.
fn demo() -> &'static Path {
    static DEMO: OnceLock<tempfile::TempDir> = OnceLock::new();
    DEMO.get_or_init(|| {
        // Under the target directory: a static is never dropped, so cargo's space is used.
        let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
        let out = Command::new(env!("CARGO_BIN_EXE_undersign"))
            .args([
                "demo",
                "--members",
                "120",
                "--signers",
                "10",
                "--depth",
                "7",
            ])
            .arg("--dir")
            .arg(tmp.path())
            .output()
            .expect("spawn undersign demo");
        assert!(
            out.status.success(),
            "undersign demo failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmp
    })
    .path()
}

#[test]
fn both_auditors_agree_on_the_demo_bundle_and_its_tampered_copies() {
    js_dir();
    let tmp = tempfile::tempdir().expect("tempdir");
    let demo = demo();
    let bundle = demo.join("bundle.jsonl");
    let key_file = demo.join("registrar.key");
    let key_file = key_file.to_str().expect("utf-8 path");
    let text = std::fs::read_to_string(&bundle).expect("read bundle");
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    assert!(lines.len() >= 4, "the demo bundle has signatures");
    let header: Value = serde_json::from_str(&lines[0]).expect("header");
    let vk_hash = header["verifying_key_hash"]
        .as_str()
        .expect("vk hash")
        .to_owned();
    let registrar_key: String = {
        let k: Value =
            serde_json::from_str(&std::fs::read_to_string(demo.join("registrar.key")).unwrap())
                .unwrap();
        k["public_key"].as_str().unwrap().to_owned()
    };
    let b = bundle.to_str().expect("utf-8 path");

    // The bundle itself, with each way of naming the keys.
    agree("demo", &[b, "--registrar-key", key_file]);
    agree("demo, key as hex", &[b, "--registrar-key", &registrar_key]);
    agree(
        "demo, pinned upper case",
        &[
            b,
            "--registrar-key",
            &registrar_key.to_uppercase(),
            "--vk-hash",
            &vk_hash.to_uppercase(),
        ],
    );
    agree(
        "demo, another pinned hash",
        &[
            b,
            "--registrar-key",
            key_file,
            "--vk-hash",
            &"ab".repeat(32),
        ],
    );
    agree(
        "demo, another registrar key",
        &[
            b,
            "--registrar-key",
            "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29",
        ],
    );
    agree("usage: no key", &[b]);
    agree("usage: bad key", &[b, "--registrar-key", "zz"]);

    type Edit = Box<dyn Fn(&[String]) -> Vec<String>>;
    let on_line = |i: usize, f: fn(&mut Value)| -> Edit { Box::new(move |l| edit_line(l, i, f)) };
    let cases: Vec<(&str, Edit)> = vec![
        // The signature edits of tests/cli.rs (tampered_bundle_entries_are_each_rejected…).
        (
            "root not a checkpoint",
            on_line(1, |v| {
                v["root"] = Value::from(format!("0x{}", "0".repeat(59) + "03039"))
            }),
        ),
        (
            "tampered disclosed",
            on_line(1, |v| {
                let m = v["mask"].as_u64().unwrap_or(0);
                let slot = (0..4).find(|i| m & (1 << i) != 0).unwrap_or(0);
                let c = v["disclosed"][slot].as_u64().unwrap_or(0);
                v["disclosed"][slot] = Value::from(if c == 2 { 1 } else { 2 });
            }),
        ),
        (
            "disclosed outside the mask",
            on_line(1, |v| {
                v["mask"] = Value::from(0);
                v["disclosed"][1] = Value::from(2)
            }),
        ),
        (
            "B's larger-root flag flipped",
            on_line(1, |v| {
                v["proof"] = Value::from(flip_hex_bit(v["proof"].as_str().unwrap(), 95, 0x80))
            }),
        ),
        (
            "A's x-coordinate not below q",
            on_line(1, |v| {
                let mut p = hex::decode(v["proof"].as_str().unwrap()).unwrap();
                p[..32].fill(0xff);
                p[31] = 0x3f;
                v["proof"] = Value::from(hex::encode(p));
            }),
        ),
        (
            "nullifier + r",
            on_line(1, |v| {
                let n = v["nullifier"].as_str().unwrap();
                let x = num_add_r(&n[2..]);
                v["nullifier"] = Value::from(format!("0x{x}"));
            }),
        ),
        (
            "mask 15 not allowed",
            on_line(1, |v| v["mask"] = Value::from(15)),
        ),
        (
            "comment added",
            on_line(1, |v| v["comment"] = Value::from("injected")),
        ),
        ("unknown field", on_line(1, |v| v["extra"] = Value::from(1))),
        (
            "proof of another line",
            Box::new(|l| {
                let other: Value = serde_json::from_str(&l[2]).unwrap();
                edit_line(l, 1, move |v| v["proof"] = other["proof"].clone())
            }),
        ),
        // Whole-bundle edits.
        (
            "two lines swapped",
            Box::new(|l| {
                let mut l = l.to_vec();
                l.swap(1, 2);
                l
            }),
        ),
        (
            "a line repeated",
            Box::new(|l| {
                let mut l = l.to_vec();
                l.insert(2, l[1].clone());
                l
            }),
        ),
        ("last line dropped", Box::new(|l| l[..l.len() - 1].to_vec())),
        (
            "blank line",
            Box::new(|l| {
                let mut l = l.to_vec();
                l.insert(2, String::new());
                l
            }),
        ),
        (
            "CRLF",
            Box::new(|l| l.iter().map(|x| format!("{x}\r")).collect()),
        ),
        // Header edits.
        (
            "checkpoint signature changed",
            on_line(0, |v| {
                let c = v["checkpoints"].as_array_mut().unwrap().last_mut().unwrap();
                c["signature"] = Value::from(flip_hex_bit(c["signature"].as_str().unwrap(), 0, 1));
            }),
        ),
        (
            "checkpoint root changed",
            on_line(0, |v| {
                let c = v["checkpoints"].as_array_mut().unwrap().last_mut().unwrap();
                c["root"] = Value::from(format!("0x{}", "0".repeat(63) + "1"));
            }),
        ),
        (
            "petition text changed",
            on_line(0, |v| {
                let p = v["petition_file"].as_str().unwrap().replacen(
                    "\"text\": \"",
                    "\"text\": \"!",
                    1,
                );
                v["petition_file"] = Value::from(p);
            }),
        ),
        (
            "verifying key hash claimed wrong",
            on_line(0, |v| {
                v["verifying_key_hash"] = Value::from("00".repeat(32))
            }),
        ),
        (
            "verifying key's alpha x-coordinate not below q",
            on_line(0, |v| {
                // A flipped bit would land on the curve about half the time (then it is a
                // hash mismatch): x = 2^254 − 1 never decodes.
                let mut key = hex::decode(v["verifying_key"].as_str().unwrap()).expect("hex");
                key[..32].fill(0xff);
                key[31] = 0x3f;
                v["verifying_key"] = Value::from(hex::encode(key))
            }),
        ),
        (
            "schema label changed",
            on_line(0, |v| {
                let labels = &mut v["schema"]["slots"][0]["labels"];
                if let Some(m) = labels.as_object_mut() {
                    let first = m.keys().next().cloned().unwrap_or_default();
                    if let Some(code) = m.remove(&first) {
                        m.insert(format!("{first}x"), code);
                    }
                }
            }),
        ),
        (
            "signature count",
            on_line(0, |v| v["signatures"] = Value::from(1000)),
        ),
        (
            "header kind",
            on_line(0, |v| v["kind"] = Value::from("undersign-signature")),
        ),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (name, edit) in cases {
        let edited = tmp.path().join("edited.jsonl");
        let mut text = edit(&lines).join("\n");
        text.push('\n');
        std::fs::write(&edited, text).expect("write edited bundle");
        let e = edited.to_str().expect("utf-8 path");
        seen.extend(codes(&agree(name, &[e, "--registrar-key", key_file])));
    }
    // The edits reach every kind of outcome (so agreement is not only on valid reports).
    for code in [
        "malformed",
        "mask_not_allowed",
        "unknown_root",
        "invalid_proof",
        "duplicate_nullifier",
        "wrong_petition",
        "out_of_order",
        "signature_count_mismatch",
        "header_malformed",
        "verifying_key_invalid",
        "verifying_key_hash_mismatch",
        "chain_invalid",
        "schema_not_signed",
    ] {
        assert!(
            seen.contains(code),
            "no tampered case gave {code}: {seen:?}"
        );
    }
}

/// `hex + r` as 64 hex digits (the input is below 2^256 - r).
fn num_add_r(hex_str: &str) -> String {
    const R: [u8; 32] = [
        0x30, 0x64, 0x4e, 0x72, 0xe1, 0x31, 0xa0, 0x29, 0xb8, 0x50, 0x45, 0xb6, 0x81, 0x81, 0x58,
        0x5d, 0x28, 0x33, 0xe8, 0x48, 0x79, 0xb9, 0x70, 0x91, 0x43, 0xe1, 0xf5, 0x93, 0xf0, 0x00,
        0x00, 0x01,
    ];
    let x = hex::decode(hex_str).expect("hex");
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in (0..32).rev() {
        let s = u16::from(x[i]) + u16::from(R[i]) + carry;
        out[i] = (s & 0xff) as u8;
        carry = s >> 8;
    }
    hex::encode(out)
}

/// A bundle of 300 signatures (simulated proofs, `undersign bench-data`): the JavaScript auditor
/// checks its proofs in worker processes, and agrees, also with lines tampered.
#[test]
fn both_auditors_agree_on_a_bundle_checked_by_worker_processes() {
    js_dir();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("bench");
    let out = Command::new(env!("CARGO_BIN_EXE_undersign"))
        .args(["bench-data", "--signatures", "300", "--real", "2"])
        .args(["--depth", "5", "--out"])
        .arg(&dir)
        .output()
        .expect("spawn undersign bench-data");
    assert!(out.status.success(), "bench-data: {out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let key = stdout
        .split_whitespace()
        .skip_while(|w| *w != "--registrar-key")
        .nth(1)
        .expect("bench-data prints the registrar key")
        .to_owned();
    let bundle = dir.join("bundle.jsonl");
    let b = bundle.to_str().expect("utf-8 path");
    let report = agree("bench bundle", &[b, "--registrar-key", &key]);
    assert_eq!(report["count"], 300);

    let text = std::fs::read_to_string(&bundle).expect("read bundle");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let other: Value = serde_json::from_str(&lines[101]).unwrap();
    lines = edit_line(&lines, 100, move |v| v["proof"] = other["proof"].clone());
    lines.insert(201, lines[200].clone());
    lines.swap(250, 251);
    let edited = tmp.path().join("edited.jsonl");
    std::fs::write(&edited, lines.join("\n") + "\n").expect("write");
    let e = edited.to_str().expect("utf-8 path");
    let report = agree("bench bundle, tampered", &[e, "--registrar-key", &key]);
    let seen = codes(&report);
    for code in [
        "invalid_proof",
        "duplicate_nullifier",
        "out_of_order",
        "signature_count_mismatch",
    ] {
        assert!(seen.iter().any(|c| c == code), "{code}: {seen:?}");
    }
}

fn export(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_undersign"))
        .args(["export", "snarkjs"])
        .args(args)
        .output()
        .expect("spawn undersign export");
    assert!(
        out.status.success(),
        "undersign export snarkjs {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `snarkjs groth16 verify VK PUBLIC PROOF`: whether it said OK (exit 0).
fn snarkjs_verify(vk: &Path, public: &Path, proof: &Path) -> bool {
    let out = Command::new(js_dir().join("node_modules/.bin/snarkjs"))
        .args(["groth16", "verify"])
        .args([vk, public, proof])
        .output()
        .expect("spawn snarkjs");
    let ok = out.status.success();
    assert_eq!(
        ok,
        String::from_utf8_lossy(&out.stdout).contains("OK!"),
        "snarkjs's exit status and output disagree: {out:?}"
    );
    ok
}

#[test]
fn exported_proofs_verify_with_snarkjs_and_a_changed_input_does_not() {
    js_dir();
    let demo = demo();
    let tmp = tempfile::tempdir().expect("tempdir");
    let p = |n: &str| tmp.path().join(n);
    let s = |p: &Path| p.to_str().expect("utf-8 path").to_owned();
    let vk = p("verification_key.json");
    export(&["--keys", &s(&demo.join("keys")), "--out", &s(&vk)]);
    let mut sigs: Vec<PathBuf> = std::fs::read_dir(demo.join("signatures"))
        .expect("signatures")
        .map(|e| e.expect("entry").path())
        .collect();
    sigs.sort();
    let one = p("one");
    export(&[
        "--signature",
        &s(&sigs[0]),
        "--petition",
        &s(&demo.join("petition.json")),
        "--out-dir",
        &s(&one),
    ]);
    let (public, proof) = (one.join("public.json"), one.join("proof.json"));
    assert!(snarkjs_verify(&vk, &public, &proof), "exported proof");

    // Each public input changed by one: snarkjs refuses the proof.
    let signals: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(&public).unwrap()).unwrap();
    assert_eq!(signals.len(), 6);
    for i in [0, 2, 5] {
        let mut changed = signals.clone();
        let x: u128 = changed[i].parse().unwrap_or(0);
        changed[i] = if changed[i].len() < 30 {
            (x + 1).to_string()
        } else {
            // Change the last digit (stays below r: the number has 70+ digits).
            let mut d = changed[i].clone();
            let last = d.pop().unwrap();
            d.push(if last == '0' { '1' } else { '0' });
            d
        };
        let bad = p("bad.json");
        std::fs::write(&bad, serde_json::to_string(&changed).unwrap()).unwrap();
        assert!(
            !snarkjs_verify(&vk, &bad, &proof),
            "public input {i} changed, still verifies"
        );
    }

    // A bundle: the header's key is the key directory's, and every line verifies.
    let out = p("bundle");
    export(&[
        "--bundle",
        &s(&demo.join("bundle.jsonl")),
        "--out-dir",
        &s(&out),
    ]);
    assert_eq!(
        std::fs::read(out.join("verification_key.json")).unwrap(),
        std::fs::read(&vk).unwrap()
    );
    let mut lines = 0;
    for n in 2.. {
        let dir = out.join(format!("line-{n}"));
        if !dir.exists() {
            break;
        }
        assert!(
            snarkjs_verify(&vk, &dir.join("public.json"), &dir.join("proof.json")),
            "bundle line {n}"
        );
        lines += 1;
    }
    let bundle_lines = std::fs::read_to_string(demo.join("bundle.jsonl"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(lines, bundle_lines - 1, "one export per signature line");
}

/// Serves `routes` (URL path -> file) on loopback until a `POST /result` arrives; returns its
/// body. Each connection is one request (the browser opens as many as it needs).
fn serve_until_result(
    listener: std::net::TcpListener,
    routes: Vec<(&'static str, PathBuf, &'static str)>,
) -> std::thread::JoinHandle<String> {
    use std::io::{BufRead, BufReader, Read, Write};
    std::thread::spawn(move || loop {
        let Ok((stream, _)) = listener.accept() else {
            continue;
        };
        let mut reader = BufReader::new(stream);
        let mut request = String::new();
        if reader.read_line(&mut request).is_err() {
            continue;
        }
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut stream = reader.get_ref().try_clone().expect("clone stream");
        let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let path = path.split('?').next().unwrap_or("/").to_owned();
        if request.starts_with("POST /result") {
            let mut body = vec![0u8; length];
            reader.read_exact(&mut body).expect("result body");
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            return String::from_utf8_lossy(&body).into_owned();
        }
        let found = routes.iter().find(|(p, _, _)| *p == path);
        let response = match found.map(|(_, file, mime)| (std::fs::read(file), mime)) {
            Some((Ok(body), mime)) => {
                let mut r = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {mime}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                r.extend(body);
                r
            }
            _ => {
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec()
            }
        };
        let _ = stream.write_all(&response);
    })
}

/// "Verify this tally in your browser": the auditor bundled for the web (`npm run build:web`)
/// runs in a Web Worker in headless Chromium on the demo bundle and reports what
/// `undersign audit --json` reports. Fails without Chromium (`UNDERSIGN_CHROMIUM` names
/// another binary).
#[test]
fn the_auditor_runs_in_a_browser_worker_and_agrees() {
    let js = js_dir();
    let demo = demo();
    let out = Command::new("npm")
        .args(["run", "--silent", "build:web"])
        .current_dir(js)
        .output()
        .expect("spawn npm run build:web");
    assert!(out.status.success(), "npm run build:web: {out:?}");
    let key: Value =
        serde_json::from_str(&std::fs::read_to_string(demo.join("registrar.key")).unwrap())
            .unwrap();
    let key = key["public_key"].as_str().expect("public key").to_owned();
    let bundle = demo.join("bundle.jsonl");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let server = serve_until_result(
        listener,
        vec![
            (
                "/check.html",
                js.join("web/check.html"),
                "text/html; charset=utf-8",
            ),
            (
                "/worker.js",
                js.join("dist/undersign-audit-worker.js"),
                "text/javascript",
            ),
            ("/bundle.jsonl", bundle.clone(), "application/jsonl"),
        ],
    );
    let profile = tempfile::tempdir().expect("tempdir");
    let chromium = std::env::var_os("UNDERSIGN_CHROMIUM").unwrap_or_else(|| "chromium".into());
    let url = format!(
        "http://127.0.0.1:{port}/check.html?bundle=/bundle.jsonl&worker=/worker.js&key={key}"
    );
    let mut browser = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--remote-debugging-port=0")
        .arg(&url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("the browser test needs Chromium ({chromium:?}): {e}"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !server.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = browser.kill();
    let _ = browser.wait();
    assert!(server.is_finished(), "no result from the browser in 120 s");
    let result: Value = serde_json::from_str(&server.join().expect("server")).expect("result");
    let rust = rust_audit(&[
        bundle.to_str().expect("utf-8 path"),
        "--registrar-key",
        &key,
    ]);
    let rust: Value = serde_json::from_slice(&rust.stdout).expect("Rust report");
    assert_eq!(
        scrub(&result["report"]),
        scrub(&rust),
        "browser result: {result:#}"
    );
}
