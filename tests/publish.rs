//! `undersign publish` (issue 24): the static tally site. A fully valid bundle is published
//! with the page in every language (under 100 KB, text from files escaped, nothing from other
//! hosts), the bundle and the files to check it, and an audit command that works as written;
//! a bundle that does not audit fully valid is refused with nothing written; an existing
//! non-empty directory is replaced only with --force.

mod page_fixture;

use page_fixture::{
    assert_links_stay_here, assert_numbers_match, audit_json, fixture, text_by_id, undersign,
    unescape, HOSTILE_TITLE,
};
use std::path::Path;
use std::process::Command;

fn publish(bundle: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let f = fixture();
    let mut args = vec![
        "publish",
        bundle.to_str().unwrap(),
        "--registrar-key",
        &f.registrar_pub,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    undersign(&args)
}

/// Names in `dir` (sorted).
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_valid_bundle_is_published_with_everything_needed_to_check_it() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    let out = publish(
        &f.bundle,
        &site,
        &["--registry", f.registry_path.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&site.join("index.html").display().to_string()),
        "{stdout}"
    );
    // Only the site: no staging directory left beside it.
    assert_eq!(names(tmp.path()), ["site"]);
    assert_eq!(
        names(&site),
        [
            "audit-command.txt",
            "audit.json",
            "bundle.jsonl",
            "index.be.html",
            "index.en.html",
            "index.html",
            "index.ru.html",
            "petition.json",
            "registry.json",
            "verifying.key",
        ]
    );
    assert_eq!(
        std::fs::read(site.join("bundle.jsonl")).unwrap(),
        std::fs::read(&f.bundle).unwrap()
    );
    assert_eq!(
        std::fs::read(site.join("petition.json")).unwrap(),
        f.petition.bytes()
    );
    assert_eq!(
        blake3::hash(&std::fs::read(site.join("verifying.key")).unwrap())
            .to_hex()
            .as_str(),
        f.vk_hash
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for name in ["bundle.jsonl", "registry.json", "index.html"] {
            let mode = std::fs::metadata(site.join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o444, 0o444, "{name} is readable by a web server");
        }
    }

    let (status, report) = audit_json(&f.bundle, &f.registrar_pub);
    assert_eq!(status, 0);
    for name in [
        "index.html",
        "index.en.html",
        "index.be.html",
        "index.ru.html",
    ] {
        let html = std::fs::read_to_string(site.join(name)).unwrap();
        assert!(html.len() < 100_000, "{name}: {} bytes", html.len());
        assert_numbers_match(&html, &report, name);
        assert_eq!(
            text_by_id(&html, "title").map(unescape).as_deref(),
            Some(HOSTILE_TITLE),
            "{name}"
        );
        assert!(!html.contains("<script"), "{name}");
        assert!(!html.contains("<img"), "{name}");
        assert!(!html.contains("<b>"), "{name}: the petition text is text");
        assert_links_stay_here(&html, name);
    }
    assert_eq!(
        std::fs::read_to_string(site.join("index.html")).unwrap(),
        std::fs::read_to_string(site.join("index.en.html")).unwrap()
    );

    // The command the page shows, run as written in the site's directory, audits clean.
    let command = std::fs::read_to_string(site.join("audit-command.txt")).unwrap();
    let html = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(html.contains(command.trim()), "the page shows the command");
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(words[..2], ["undersign", "audit"]);
    let run = Command::new(env!("CARGO_BIN_EXE_undersign"))
        .args(&words[1..])
        .current_dir(&site)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    assert!(String::from_utf8_lossy(&run.stdout).contains("anonymity set"));
}

#[test]
fn a_bundle_that_does_not_audit_fully_valid_is_not_published() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    // One signature's comment changed: its proof no longer verifies.
    let text = std::fs::read_to_string(&f.bundle).unwrap();
    let tampered = text.replacen("\"comment\":null", "\"comment\":\"tampered\"", 1);
    assert_ne!(tampered, text);
    let bad = tmp.path().join("bad.jsonl");
    std::fs::write(&bad, tampered).unwrap();
    let site = tmp.path().join("site");
    let out = publish(&bad, &site, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not published"));
    assert_eq!(names(tmp.path()), ["bad.jsonl"], "nothing written");

    // The right bundle under another registrar key: fatal, refused the same way.
    let other = undersign::registry::registrar::RegistrarKey::from_secret_bytes(&[99u8; 32])
        .public_key()
        .to_hex();
    let out = undersign(&[
        "publish",
        f.bundle.to_str().unwrap(),
        "--registrar-key",
        &other,
        "--out",
        site.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(names(tmp.path()), ["bad.jsonl"], "nothing written");

    // A pinned key hash the bundle does not have: refused.
    let out = publish(&f.bundle, &site, &["--vk-hash", &"22".repeat(32)]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(names(tmp.path()), ["bad.jsonl"], "nothing written");
}

#[test]
fn an_existing_site_is_replaced_only_with_force() {
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    // An empty directory is fine.
    std::fs::create_dir(&site).unwrap();
    let out = publish(&f.bundle, &site, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(site.join("old.txt"), "old").unwrap();

    let out = publish(&f.bundle, &site, &["--lang", "be"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert!(site.join("old.txt").exists(), "left alone");
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(index.contains("<html lang=\"en\">"));

    let out = publish(&f.bundle, &site, &["--lang", "be", "--force"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!site.join("old.txt").exists(), "replaced as a whole");
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(index.contains("<html lang=\"be\">"));
    assert_eq!(
        names(tmp.path()),
        ["site"],
        "no old or staging directory left"
    );

    // Publishing a site's own bundle over it would remove the input: refused.
    let inside = site.join("bundle.jsonl");
    let out = publish(&inside, &site, &["--force"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("inside --out"));
    assert!(inside.exists());

    // A directory of other files is never replaced, not even with --force.
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "mine").unwrap();
    let out = publish(&f.bundle, &other, &["--force"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a site"));
    assert_eq!(names(&other), ["notes.txt"]);
    std::fs::remove_dir_all(&other).unwrap();

    // A file in the way is never replaced; an unknown language is a usage error.
    let file = tmp.path().join("file");
    std::fs::write(&file, "x").unwrap();
    assert_eq!(
        publish(&f.bundle, &file, &["--force"]).status.code(),
        Some(2)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
    let out = publish(&f.bundle, &tmp.path().join("new"), &["--lang", "fr"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!tmp.path().join("new").exists());
}
