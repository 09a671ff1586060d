//! The signer's identity file: the 32-byte secret, optionally encrypted with a passphrase by
//! age (scrypt + ChaCha20-Poly1305). Always written with mode 0600; the secret is never printed.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use undersign_core::atomic::write_atomic;
use undersign_core::identity::IdentitySecret;
use zeroize::Zeroizing;

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
            let recipient =
                age::scrypt::Recipient::new(age::secrecy::SecretString::from(p.to_owned()));
            age::encrypt(&recipient, &json).context("encrypting the identity")?
        }
    });
    write_atomic(path, &bytes, true).with_context(|| format!("writing {}", path.display()))
}

/// Reads an identity file, decrypting it with `passphrase` if it is encrypted.
pub fn read(path: &Path, passphrase: Option<&str>) -> Result<IdentitySecret> {
    warn_if_readable_by_others(path);
    let bytes =
        std::fs::read(path).with_context(|| format!("reading identity file {}", path.display()))?;
    let json = if bytes.starts_with(AGE_MAGIC) {
        let Some(p) = passphrase else {
            bail!(
                "{} is encrypted: give its passphrase with --passphrase-file",
                path.display()
            );
        };
        let identity = age::scrypt::Identity::new(age::secrecy::SecretString::from(p.to_owned()));
        Zeroizing::new(age::decrypt(&identity, &bytes).map_err(|e| {
            anyhow::anyhow!(
                "{}: cannot decrypt ({e}); is the passphrase right?",
                path.display()
            )
        })?)
    } else {
        Zeroizing::new(bytes)
    };
    let fields: IdentityFields = serde_json::from_slice(&json)
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

/// Reads a passphrase from a file: its first line, which must not be empty.
pub fn read_passphrase(path: &Path) -> Result<Zeroizing<String>> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("reading passphrase file {}", path.display()))?,
    );
    let line = text.lines().next().unwrap_or("");
    if line.is_empty() {
        bail!("passphrase file {} is empty", path.display());
    }
    Ok(Zeroizing::new(line.to_owned()))
}
