//! `cargo run --release -p undersign-vectors -- tests/vectors`: writes the conformance vectors
//! (bundles and manifest) into the directory given, the same bytes on every run.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(dir), None) = (args.next(), args.next()) else {
        eprintln!("usage: undersign-vectors <output directory, e.g. tests/vectors>");
        return ExitCode::from(2);
    };
    let dir = PathBuf::from(dir);
    match undersign_vectors::generate(&dir) {
        Ok(count) => {
            println!("{count} vectors written to {}", dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
