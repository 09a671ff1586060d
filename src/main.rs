//! The `undersign` binary.

fn main() -> std::process::ExitCode {
    undersign_cli::main()
}
