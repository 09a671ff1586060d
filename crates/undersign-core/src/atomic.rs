//! Atomic file writes: write a temporary file in the target's directory, flush it to disk,
//! then rename it over the target, so readers see the old file or the new one, never a part.

use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to `path` atomically. With `private` (secrets: identities, registrar keys,
/// ceremony secrets), the file is created readable and writable by its owner only (0600 on
/// Unix) before any byte is written; otherwise (files meant to be published: registries,
/// petitions, bundles, keys, checkpoints) it is created 0644, less the process's umask.
pub fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> io::Result<()> {
    write_atomic_with(path, private, |out| out.write_all(bytes))
}

/// Like [`write_atomic`], but streams the content: `write` fills a buffered writer. If `write`
/// fails, the target is left untouched and the temporary file is removed.
pub fn write_atomic_with<F>(path: &Path, private: bool, write: F) -> io::Result<()>
where
    F: FnOnce(&mut io::BufWriter<&std::fs::File>) -> io::Result<()>,
{
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".undersign-tmp-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The temporary file is created with this mode (and the umask applied), so a secret
        // is never readable by others, even for a moment; tempfile's own default is 0600.
        let mode = if private { 0o600 } else { 0o644 };
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = private;
    // tempfile names its temporary file in errors; the user never chose that name.
    let file = builder.tempfile_in(dir).map_err(|e| {
        let reason = match e.kind() {
            io::ErrorKind::NotFound => "the directory does not exist".to_owned(),
            io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
            io::ErrorKind::ReadOnlyFilesystem => "the file system is read-only".to_owned(),
            io::ErrorKind::StorageFull => "no space left on the device".to_owned(),
            kind => kind.to_string(),
        };
        io::Error::new(
            e.kind(),
            format!("{reason} (creating a file in {})", dir.display()),
        )
    })?;
    {
        let mut out = io::BufWriter::new(file.as_file());
        write(&mut out)?;
        out.flush()?;
    }
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        write_atomic(&path, b"one", false).unwrap();
        write_atomic(&path, b"two", false).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        write_atomic(&path, b"old", false).unwrap();
        let result = write_atomic_with(&path, false, |out| {
            out.write_all(b"partial")?;
            Err(io::Error::other("disk full"))
        });
        assert!(result.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn errors_never_name_the_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("f.json");
        let err = write_atomic(&path, b"x", false).unwrap_err().to_string();
        assert!(!err.contains(".undersign-tmp-"), "{err}");
        assert!(err.contains("missing-dir"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn public_files_are_readable_by_others_and_never_writable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("public");
        write_atomic(&path, b"p", false).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        // 0644 less the umask (CI's is 022): owner read-write, nobody else writes.
        assert_eq!(mode & 0o600, 0o600, "{mode:o}");
        assert_eq!(mode & 0o133, 0, "{mode:o}");
        assert_ne!(
            mode & 0o044,
            0,
            "{mode:o}: published files must be readable by others"
        );
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        write_atomic(&path, b"s", true).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
