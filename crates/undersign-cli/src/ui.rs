//! What every command shares with the terminal and the file system: progress on stderr
//! (drawn only on a terminal; no colours, so `NO_COLOR` has nothing to turn off), `--json`
//! output, and the file rule (no existing file replaced without `--force`, no input written
//! over).

use anyhow::{anyhow, bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;
use std::time::Duration;
use undersign_registry::registrar::{RegistrarKey, RegistrarPublicKey};

/// A spinner on stderr (hidden when stderr is not a terminal).
pub(crate) fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A counting bar on stderr (hidden when stderr is not a terminal).
pub(crate) fn counter(total: u64, message: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} [{elapsed}, {rate}]")
            .map(|style| {
                // Whole lines per second: "2715/s", not "2715.3081/s".
                style.with_key(
                    "rate",
                    |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.0}/s", state.per_sec());
                    },
                )
            })
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(message.to_owned());
    bar
}

/// Prints `value` as pretty JSON on stdout (the `--json` output of a command).
pub(crate) fn print_json(value: &serde_json::Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Refuses an output path that is one of the inputs (the same file, by any name): writing it
/// would destroy what is being read.
pub(crate) fn refuse_input_as_output<'a>(
    out: &Path,
    inputs: impl IntoIterator<Item = &'a Path>,
) -> Result<()> {
    let Ok(out_real) = std::fs::canonicalize(out) else {
        // The output does not exist yet, so it is no input.
        return Ok(());
    };
    for input in inputs {
        if std::fs::canonicalize(input).is_ok_and(|real| real == out_real) {
            bail!(
                "--out {} is also an input; write to another file",
                out.display()
            );
        }
    }
    Ok(())
}

/// Refuses a directory to write many files into that already holds some (files there would be
/// replaced one by one), unless `force`.
pub(crate) fn refuse_non_empty_dir(dir: &Path, force: bool) -> Result<()> {
    let holds_files = std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some());
    if holds_files && !force {
        bail!(
            "{} already holds files; choose an empty or new directory, or pass --force to \
             replace the files this command writes",
            dir.display()
        );
    }
    Ok(())
}

pub(crate) fn refuse_overwrite(path: &Path, force: bool) -> Result<()> {
    if path.exists() && !force {
        bail!(
            "{} already exists; pass --force to replace it",
            path.display()
        );
    }
    Ok(())
}

/// A 64-hex-digit command-line value (`--vk-hash`, `--registrar-key`): either case, returned
/// in lowercase (`SPEC.md` §15.5). Files take lowercase only (§2); a person copying a hash
/// from a page may get capitals.
pub(crate) fn hex_arg(name: &str, text: &str) -> Result<String> {
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(text.to_ascii_lowercase())
    } else {
        bail!(
            "{name} wants 64 hexadecimal digits (0-9, a-f, either case); got {:?}",
            crate::report::clean(&truncate(text, 80))
        )
    }
}

/// `--registrar-key`: the public key as 64 hex digits, or a file holding it (a registrar key
/// file, or the hex on one line, surrounding whitespace ignored).
pub(crate) fn registrar_key_arg(text: &str) -> Result<RegistrarPublicKey> {
    let hex = if text.len() != 64 && Path::new(text).is_file() {
        let path = Path::new(text);
        let bytes =
            std::fs::read(path).with_context(|| format!("--registrar-key: reading {text}"))?;
        if bytes.trim_ascii_start().starts_with(b"{") {
            let key = RegistrarKey::from_file_bytes(&bytes, path)
                .map_err(|e| anyhow!("--registrar-key: {e}"))?;
            return Ok(key.public_key());
        }
        let line = String::from_utf8_lossy(&bytes).trim().to_owned();
        hex_arg(&format!("--registrar-key (the file {text})"), &line)?
    } else {
        hex_arg("--registrar-key", text)?
    };
    RegistrarPublicKey::from_hex(&hex).map_err(|e| anyhow!("--registrar-key: {e}"))
}

/// At most `max` characters of `text`, with "…" if cut.
fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}
