//! README.md's own commands, run as written (issue 23: "README's examples run as written").
//!
//! The `sh` blocks of the role sections (Keys, Signer, Registrar, Organizer, Auditor) are
//! extracted from README.md and run in one temporary directory, in the order the roles meet
//! (keys, then an identity, the registry, the petition, a signature, the bundle, the audit).
//! Only what README marks as a placeholder is substituted, each substitution listed in
//! [`substitute`]; a command README shows that no longer parses or fails makes this test fail.

use std::path::Path;
use std::process::Command;

/// The `sh` blocks under the `### <section>` heading, continuation lines joined, comments and
/// blank lines dropped.
fn commands(readme: &str, section: &str) -> Vec<String> {
    let start = readme
        .find(&format!("\n### {section}"))
        .unwrap_or_else(|| panic!("README has no section {section}"));
    let rest = &readme[start + 1..];
    let end = rest[4..].find("\n## ").map_or(rest.len(), |i| i + 4);
    let end = rest[4..].find("\n### ").map_or(end, |i| (i + 4).min(end));
    let body = &rest[..end];
    let mut out = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in body.lines() {
        if line.starts_with("```") {
            in_block = line.starts_with("```sh") && !in_block;
            continue;
        }
        if !in_block {
            continue;
        }
        let line = match line.find(" # ") {
            Some(i) if !line.trim_start().starts_with('#') => &line[..i],
            _ => line,
        };
        let line = line.trim_end();
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head.trim_end());
            pending.push(' ');
            continue;
        }
        pending.push_str(line.trim());
        out.push(std::mem::take(&mut pending).trim().to_owned());
    }
    assert!(
        !out.is_empty(),
        "README section {section} shows no commands"
    );
    out
}

/// README's placeholders and interactive bits, replaced for a test run: each replacement is a
/// value README tells the reader to supply.
fn substitute(command: &str, values: &[(&str, String)]) -> String {
    let mut command = command.to_owned();
    for (placeholder, value) in values {
        command = command.replace(placeholder, value);
    }
    command
}

/// Splits a command line into words (double quotes group; README uses nothing more).
fn words(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in command.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

fn run(dir: &Path, command: &str) -> String {
    let words = words(command);
    assert_eq!(words[0], "undersign", "not an undersign command: {command}");
    let mut args: Vec<String> = Vec::new();
    for word in &words[1..] {
        // Shell globs README uses (signatures/*.json).
        if let Some(prefix) = word.strip_suffix("*.json") {
            let mut matches: Vec<String> = std::fs::read_dir(dir.join(prefix))
                .unwrap()
                .map(|e| format!("{prefix}{}", e.unwrap().file_name().to_string_lossy()))
                .filter(|name| name.ends_with(".json"))
                .collect();
            matches.sort();
            args.extend(matches);
        } else {
            args.push(word.clone());
        }
    }
    let out = Command::new(env!("CARGO_BIN_EXE_undersign"))
        .args(&args)
        .current_dir(dir)
        .output()
        .expect("spawn undersign");
    assert!(
        out.status.success(),
        "README command failed: {command}\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn readme_role_commands_run_as_written() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    // The files README's commands read: the schema exactly as README shows it, a letter, and
    // a CSV of 20 more members (README's `--index 17` needs that many).
    let schema_start = readme
        .find("```json\n{\"version\":1,\"kind\":\"undersign-schema\"")
        .unwrap();
    let schema = &readme[schema_start + 8..];
    let schema = &schema[..schema.find("```").unwrap()];
    std::fs::write(dir.join("schema.json"), schema).unwrap();
    std::fs::write(dir.join("letter.txt"), "We, civil servants, ...\n").unwrap();
    let mut csv = String::from("commitment,status,ministry\n");
    for i in 0..20u64 {
        csv += &format!(
            "0x{:064x},current,{}\n",
            1000 + i,
            if i % 2 == 0 { "health" } else { "justice" }
        );
    }
    std::fs::write(dir.join("members.csv"), csv).unwrap();
    std::fs::create_dir(dir.join("signatures")).unwrap();

    // Keys: a small depth for speed (README's 20 is the default for real registries).
    let depth = [("--depth 20", "--depth 5".to_owned())];
    for c in commands(&readme, "Keys") {
        run(dir, &substitute(&c, &depth));
    }

    // Signer, first half: an identity and its commitment. A passphrase is asked on a terminal;
    // here it comes from a file (README: "Scripts give the passphrase with --passphrase-file").
    std::fs::write(dir.join("pass.txt"), "correct horse battery staple\n").unwrap();
    let signer = commands(&readme, "Signer");
    let passphrase = (
        "--out me.id",
        "--out me.id --passphrase-file pass.txt".to_owned(),
    );
    run(
        dir,
        &substitute(&signer[0], std::slice::from_ref(&passphrase)),
    );
    let show = substitute(
        &signer[1],
        &[(
            "show me.id",
            "show me.id --passphrase-file pass.txt".to_owned(),
        )],
    );
    let commitment = run(dir, &show).trim().to_owned();

    // Registrar: every command, with the signer's commitment for README's `0x...`.
    let mut public_key = String::new();
    for c in commands(&readme, "Registrar") {
        let c = substitute(
            &c,
            &[
                ("0x...", commitment.clone()),
                ("--depth 20", "--depth 5".to_owned()),
            ],
        );
        let out = run(dir, &c);
        if c.starts_with("undersign registrar keygen") {
            public_key = out
                .lines()
                .find_map(|l| l.strip_prefix("public key (publish this): "))
                .expect("keygen prints the public key")
                .to_owned();
        }
    }

    // Organizer: the petition, then (after the signature) the bundle.
    let organizer = commands(&readme, "Organizer");
    run(dir, &organizer[0]);

    // Signer, second half: `sign` with README's options; submitting needs a collector, so the
    // signature is written where the organizer collects files instead.
    let sign = signer
        .iter()
        .find(|c| c.starts_with("undersign sign"))
        .expect("README shows sign");
    let sign = substitute(
        sign,
        &[
            (
                "--submit http://<collector>.onion --proxy socks5h://127.0.0.1:9050",
                "--out signatures/me.json --passphrase-file pass.txt".to_owned(),
            ),
            (
                "[--comment \"text\"] [--disclose status]",
                "--comment \"text\" --disclose status --accept-small-anonymity-set".to_owned(),
            ),
        ],
    );
    run(dir, &sign);
    run(dir, &organizer[1]);

    // Auditor: every command, with the registrar's key; the optional flags in brackets taken.
    let key_values = [
        ("<registrar public key>", public_key.clone()),
        ("<key>", public_key.clone()),
        ("[--vk-hash <hash>] [--json]", "--json".to_owned()),
        ("--keys keys/", "--keys keys/ ".to_owned()),
        ("my-signature.json", "signatures/me.json".to_owned()),
    ];
    let audited = commands(&readme, "Auditor");
    for c in audited.iter().filter(|c| c.starts_with("undersign ")) {
        let out = run(dir, &substitute(c, &key_values));
        if c.contains("--json") {
            let report: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(report["count"], 1, "{report}");
            assert_eq!(report["valid"], true, "{report}");
        }
    }
}
