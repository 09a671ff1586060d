//! Writes the fuzz targets' seed corpus: `cargo run -p undersign-fuzz --bin fuzz-seeds -- DIR`
//! (`fuzz/corpus` by default). Each target gets the fixture's files in its form; `bundle` and
//! `bundle_line` also get the conformance vectors; `ptau` gets small `.ptau` files made by
//! snarkjs (from `verifiers/js`, after `npm ci --prefix verifiers/js`) when it is there.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("fuzz/corpus"));
    let vectors = root.join("tests/vectors/bundles");
    let written = match undersign_fuzz::fixture::write_corpus(&dir, Some(&vectors)) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: writing the corpus under {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    let ptau = ptau_seeds(&root.join("verifiers/js"), &dir.join("ptau"));
    println!(
        "wrote {} seed files under {}{}",
        written + ptau,
        dir.display(),
        if ptau == 0 {
            " (no .ptau seeds: run `npm ci --prefix verifiers/js` for snarkjs)"
        } else {
            ""
        }
    );
    ExitCode::SUCCESS
}

/// `snarkjs powersoftau new bn128 P` for powers 4 and 5, one contribution on power 4; each file
/// prefixed with the `ptau` target's power byte. Returns how many were written.
fn ptau_seeds(js: &Path, out: &Path) -> usize {
    let snarkjs = js.join("node_modules/.bin/snarkjs");
    if !snarkjs.exists() {
        return 0;
    }
    let Ok(work) = tempfile::tempdir() else {
        return 0;
    };
    let run = |args: &[&str]| {
        Command::new(&snarkjs)
            .args(args)
            .current_dir(work.path())
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let mut written = 0;
    for power in 4u8..=5 {
        let name = format!("p{power}.ptau");
        if !run(&["powersoftau", "new", "bn128", &power.to_string(), &name]) {
            continue;
        }
        let mut files = vec![name.clone()];
        if power == 4 && run(&["powersoftau", "contribute", &name, "c2.ptau", "-e=fuzz"]) {
            files.push("c2.ptau".into());
        }
        for file in files {
            if let Ok(bytes) = std::fs::read(work.path().join(&file)) {
                let seed = [&[power - 4][..], &bytes].concat();
                if std::fs::write(out.join(format!("snarkjs-{file}")), seed).is_ok() {
                    written += 1;
                }
            }
        }
    }
    written
}
