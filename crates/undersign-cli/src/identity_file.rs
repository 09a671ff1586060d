//! The signer's identity file: the 32-byte secret, encrypted with a passphrase by age (scrypt +
//! ChaCha20-Poly1305) unless the signer explicitly asks for a plain file. Always written with
//! mode 0600; the secret is never printed.
//!
//! Whoever holds an unencrypted identity computes its owner's nullifier for any petition and
//! finds every signature they made in the public bundles, so encryption is the default and
//! loading a plain file warns.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::io::IsTerminal;
use std::path::Path;
use undersign_core::atomic::write_atomic;
use undersign_core::identity::IdentitySecret;
use zeroize::Zeroizing;

/// scrypt's work factor for an identity's passphrase: `N = 2^18` (256 MiB, about a second on a
/// current machine). Fixed rather than age's calibration, which times a short scrypt on the
/// spot and scales it to a second: on a busy machine that would give a file a weaker passphrase
/// hash.
pub const SCRYPT_LOG_N: u8 = 18;

/// The `kind` of an identity file.
pub const KIND: &str = "undersign-identity";
/// How an age-encrypted file starts (binary age format).
const AGE_MAGIC: &[u8] = b"age-encryption.org/v1\n";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentityFields {
    version: u32,
    kind: String,
    secret: String,
}

/// Writes `secret` to `path` (0600, atomic), encrypted if `passphrase` is given.
pub fn write(path: &Path, secret: &IdentitySecret, passphrase: Option<&str>) -> Result<()> {
    let fields = IdentityFields {
        version: 1,
        kind: KIND.into(),
        secret: hex::encode(secret.as_bytes()),
    };
    let json = Zeroizing::new(serde_json::to_vec_pretty(&fields)?);
    drop(Zeroizing::new(fields.secret));
    let bytes = Zeroizing::new(match passphrase {
        None => json.to_vec(),
        Some(p) => {
            let mut recipient =
                age::scrypt::Recipient::new(age::secrecy::SecretString::from(p.to_owned()));
            recipient.set_work_factor(SCRYPT_LOG_N);
            age::encrypt(&recipient, &json).context("encrypting the identity")?
        }
    });
    write_atomic(path, &bytes, true).with_context(|| format!("writing {}", path.display()))
}

/// Whether identity file bytes are age-encrypted.
pub fn is_encrypted(bytes: &[u8]) -> bool {
    bytes.starts_with(AGE_MAGIC)
}

/// Reads an identity file. An encrypted one is decrypted with the passphrase from
/// `passphrase_file` (a path, or `-` for standard input) or, without it, asked on the terminal;
/// a plain one is read with a warning, and refuses a passphrase file (it would protect
/// nothing).
pub fn read(path: &Path, passphrase_file: Option<&Path>) -> Result<IdentitySecret> {
    warn_if_readable_by_others(path);
    let bytes = Zeroizing::new(
        std::fs::read(path).with_context(|| format!("reading identity file {}", path.display()))?,
    );
    let encrypted = is_encrypted(&bytes);
    let json = if encrypted {
        let passphrase = match passphrase_file {
            Some(file) => read_passphrase(file)?,
            None => prompt_existing(path)?,
        };
        let identity =
            age::scrypt::Identity::new(age::secrecy::SecretString::from(passphrase.to_string()));
        Zeroizing::new(age::decrypt(&identity, &bytes).map_err(|e| {
            anyhow::anyhow!(
                "{}: cannot decrypt ({e}); is the passphrase right?",
                path.display()
            )
        })?)
    } else {
        if passphrase_file.is_some() {
            bail!(
                "{} is not encrypted, so --passphrase-file does nothing; encrypt it with \
                 `undersign identity encrypt {}`",
                path.display(),
                path.display()
            );
        }
        bytes
    };
    let secret = parse(path, &json)?;
    if !encrypted {
        eprintln!(
            "warning: {} is not encrypted: anyone who copies it can find every petition you \
             signed; encrypt it with `undersign identity encrypt {}`",
            path.display(),
            path.display()
        );
    }
    Ok(secret)
}

/// Parses the identity JSON (an unencrypted file's bytes, or a decryption); `path` names it in
/// errors.
pub fn parse(path: &Path, json: &[u8]) -> Result<IdentitySecret> {
    let fields: IdentityFields = serde_json::from_slice(json)
        .with_context(|| format!("{} is not an undersign identity file", path.display()))?;
    let secret_hex = Zeroizing::new(fields.secret);
    if fields.version != 1 || fields.kind != KIND {
        bail!(
            "{}: not an undersign identity file (version {}, kind {:?})",
            path.display(),
            fields.version,
            fields.kind
        );
    }
    let mut secret = Zeroizing::new([0u8; 32]);
    if secret_hex.len() != 64
        || hex::decode_to_slice(secret_hex.as_bytes(), &mut secret[..]).is_err()
    {
        bail!("{}: field `secret` must be 64 hex digits", path.display());
    }
    Ok(IdentitySecret::from_bytes(*secret))
}

/// The passphrase for a new encrypted file: from `passphrase_file` (a path, or `-` for
/// standard input), or asked twice on the terminal (no echo). Without either there is no safe
/// way to ask: an error says which flags to use.
pub fn new_passphrase(passphrase_file: Option<&Path>, what: &str) -> Result<Zeroizing<String>> {
    if let Some(file) = passphrase_file {
        return read_passphrase(file);
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "no terminal to ask for a passphrase for {what}: pass --passphrase-file FILE (or - \
             to read it from standard input), or --unencrypted if you accept that whoever copies \
             the file can find every petition you sign"
        );
    }
    loop {
        let first = Zeroizing::new(
            rpassword::prompt_password(format!("passphrase for {what}: "))
                .context("reading the passphrase from the terminal")?,
        );
        if first.is_empty() {
            eprintln!("the passphrase must not be empty; try again");
            continue;
        }
        let second = Zeroizing::new(
            rpassword::prompt_password("the same passphrase again: ")
                .context("reading the passphrase from the terminal")?,
        );
        if *first == *second {
            return Ok(first);
        }
        eprintln!("the two passphrases differ; try again");
    }
}

/// The passphrase of an existing encrypted file, asked once on the terminal.
fn prompt_existing(path: &Path) -> Result<Zeroizing<String>> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "{} is encrypted: give its passphrase with --passphrase-file FILE (or - for standard \
             input), or run this on a terminal to be asked",
            path.display()
        );
    }
    let passphrase = Zeroizing::new(
        rpassword::prompt_password(format!("passphrase for {}: ", path.display()))
            .context("reading the passphrase from the terminal")?,
    );
    Ok(passphrase)
}

/// Warns (on stderr) when an identity file can be read by other users.
fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                eprintln!(
                    "warning: {} can be read by other users; run `chmod 600 {}`",
                    path.display(),
                    path.display()
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Reads a passphrase: the first line of a file, or of standard input for `-`. It must not be
/// empty.
pub fn read_passphrase(path: &Path) -> Result<Zeroizing<String>> {
    let text = if path == Path::new("-") {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the passphrase from standard input")?;
        line
    } else {
        Zeroizing::new(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading passphrase file {}", path.display()))?,
        )
    };
    let line = text.lines().next().unwrap_or("");
    if line.is_empty() {
        bail!("the passphrase from {} is empty", path.display());
    }
    Ok(Zeroizing::new(line.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_passphrase_work_factor_is_fixed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("me.id");
        let secret = IdentitySecret::from_bytes([7; 32]);
        write(&path, &secret, Some("correct horse")).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let header = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
        let stanza = header
            .lines()
            .find(|l| l.starts_with("-> scrypt "))
            .unwrap_or_else(|| panic!("no scrypt stanza: {header:?}"));
        assert!(stanza.ends_with(&format!(" {SCRYPT_LOG_N}")), "{stanza}");
    }
}
