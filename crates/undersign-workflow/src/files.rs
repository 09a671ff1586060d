//! Naming a wrong file for what it is. Every Undersign file carries its `kind`; when a file
//! does not parse as what an option wants, its `kind` (read leniently, only on that error path)
//! says whether the user passed another Undersign file by mistake ("registry.json is a
//! registry; --petition wants a petition file") rather than a broken one.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// A file that is another Undersign file than the one wanted, or a key file given as a key
/// directory.
#[derive(Debug, Error)]
pub enum WrongKind {
    /// Another Undersign file.
    #[error("{} is {found}; {option} wants {wanted}", path.display())]
    OtherFile {
        /// The file.
        path: PathBuf,
        /// What it is ("a registry").
        found: &'static str,
        /// The option it was given for.
        option: String,
        /// What the option wants ("a petition file").
        wanted: &'static str,
    },
    /// A file where a key directory is wanted.
    #[error(
        "{option} wants the key directory (holding keys.json, proving.key and verifying.key), \
         not the file {}; pass {}",
        path.display(),
        parent.display()
    )]
    KeyFile {
        /// The file given.
        path: PathBuf,
        /// Its directory, probably the one meant.
        parent: PathBuf,
        /// The option.
        option: String,
    },
}

/// A person's name for an Undersign file `kind`, with its article.
pub fn kind_name(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "undersign-registry" => "a registry",
        "undersign-petition" => "a petition file",
        "undersign-signature" => "a signature file",
        "undersign-bundle" => "a bundle",
        "undersign-schema" => "a schema",
        "undersign-registrar-key" => "a registrar key file",
        "undersign-identity" => "an identity file",
        "undersign-registry-stats" => "registry statistics",
        _ => return None,
    })
}

/// The `kind` of a JSON object in `bytes` (or in its first line, for a bundle), if it has one.
pub fn sniff_kind(bytes: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct KindOnly {
        kind: String,
    }
    let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or(bytes);
    [bytes, first_line]
        .into_iter()
        .find_map(|text| serde_json::from_slice::<KindOnly>(text).ok())
        .map(|k| k.kind)
}

/// `Err` naming both kinds when `bytes` (read from `path` for `option`) is another Undersign
/// file than `expected`; `Ok` otherwise (the caller then reports its own parse error).
pub fn refuse_other_kind(
    path: &Path,
    bytes: &[u8],
    expected: &str,
    option: &str,
) -> Result<(), WrongKind> {
    let Some(found) = sniff_kind(bytes) else {
        return Ok(());
    };
    if found == expected {
        return Ok(());
    }
    let wanted = kind_name(expected).unwrap_or("another file");
    match kind_name(&found) {
        Some(name) => Err(WrongKind::OtherFile {
            path: path.to_owned(),
            found: name,
            option: option.to_owned(),
            wanted,
        }),
        None => Ok(()),
    }
}

/// `Err` when `path`, given as a key directory for `option`, is a file (often `keys/keys.json`).
pub fn expect_key_dir(path: &Path, option: &str) -> Result<(), WrongKind> {
    if path.is_file() {
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        return Err(WrongKind::KeyFile {
            path: path.to_owned(),
            parent: parent.to_owned(),
            option: option.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_undersign_file_is_named() {
        let registry = br#"{"version":1,"kind":"undersign-registry","id":"00"}"#;
        let err = refuse_other_kind(
            Path::new("registry.json"),
            registry,
            "undersign-petition",
            "--petition",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "registry.json is a registry; --petition wants a petition file"
        );
        // A bundle is recognised by its first line.
        let bundle =
            b"{\"kind\":\"undersign-bundle\",\"x\":1}\n{\"kind\":\"undersign-signature\"}\n";
        let err = refuse_other_kind(
            Path::new("b.jsonl"),
            bundle,
            "undersign-signature",
            "SIGNATURE",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("b.jsonl is a bundle"), "{err}");
        // The right kind, an unknown kind or no JSON at all: the caller's own error stands.
        for ok in [
            &registry[..],
            br#"{"kind":"something-else"}"#,
            b"\x00garbage",
        ] {
            assert!(
                refuse_other_kind(Path::new("f"), ok, "undersign-registry", "--registry").is_ok()
            );
        }
    }

    #[test]
    fn a_key_file_for_a_key_directory_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keys.json");
        std::fs::write(&file, "{}").unwrap();
        let err = expect_key_dir(&file, "--keys").unwrap_err().to_string();
        assert!(err.contains("wants the key directory"), "{err}");
        assert!(expect_key_dir(dir.path(), "--keys").is_ok());
    }
}
