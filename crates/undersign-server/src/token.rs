//! The organizer's bearer token: 32 random bytes in hex, created at first start in
//! `DATA/token` with mode 0600, never printed or logged. Requests present it as
//! `Authorization: Bearer <token>`; it is compared in constant time.

use crate::ServerError;
use rand::rngs::OsRng;
use rand::RngCore;
use std::io::Write;
use std::path::{Path, PathBuf};
use subtle::ConstantTimeEq;

/// The token file's name inside the data directory.
pub const TOKEN_FILE: &str = "token";

/// The organizer token, kept only as its blake3 hash.
#[derive(Clone)]
pub struct Token {
    hash: [u8; 32],
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl Token {
    /// Whether `presented` is the token. Both sides are hashed first and the hashes compared
    /// in constant time, so the time taken says nothing about how much of a guess was right.
    pub fn matches(&self, presented: &str) -> bool {
        let presented = blake3::hash(presented.as_bytes());
        presented.as_bytes().ct_eq(&self.hash).into()
    }

    /// Reads `dir/token`, creating it (0600, 32 random bytes as hex) if it does not exist.
    /// Returns the token, its path and whether it was created now. Refuses a token file that
    /// others can read.
    pub fn load_or_create(dir: &Path) -> Result<(Self, PathBuf, bool), ServerError> {
        let path = dir.join(TOKEN_FILE);
        let bad = |reason: String| ServerError::Token {
            path: path.clone(),
            reason,
        };
        let created = match create(&path) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(bad(format!("could not create it: {e}"))),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .map_err(|e| bad(e.to_string()))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(bad(format!(
                    "the file is readable by others (mode {:o}); run chmod 600 on it",
                    mode & 0o777
                )));
            }
        }
        let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
        let text = text.trim();
        if text.len() != 64
            || !text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(bad("it must hold 64 lowercase hex digits".into()));
        }
        let token = Token {
            hash: *blake3::hash(text.as_bytes()).as_bytes(),
        };
        Ok((token, path, created))
    }
}

/// Creates the token file with fresh random bytes; fails with `AlreadyExists` if it exists.
fn create(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let mut text = hex::encode(bytes);
    bytes.fill(0);
    text.push('\n');
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all());
    // Overwrite the copy in memory; the file is the only place the token lives.
    text.clear();
    text.shrink_to_fit();
    if let Err(e) = written {
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_private_and_compared_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let (token, path, created) = Token::load_or_create(dir.path()).unwrap();
        assert!(created);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(token.matches(text.trim()));
        assert!(!token.matches(""));
        assert!(!token.matches(&text.trim()[1..]));
        let (again, _, created) = Token::load_or_create(dir.path()).unwrap();
        assert!(!created);
        assert!(again.matches(text.trim()));
        assert!(!format!("{token:?}").contains(text.trim()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(Token::load_or_create(dir.path()).is_err());
        }
    }
}
