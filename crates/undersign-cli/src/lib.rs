//! The `undersign` command: registrar, signer, organizer and auditor workflows.
//!
//! Every command reports problems as plain errors naming the file and what is wrong, never
//! panics on input, writes files atomically and never prints or logs a secret.

mod ceremony;
pub mod cli;
mod commands;
mod demo;
pub mod identity_file;
mod report;
pub mod submit;
pub mod workflow;

use clap::Parser;
use std::process::ExitCode;

/// Exit status for usage errors and unreadable or invalid input.
pub const EXIT_ERROR: u8 = 2;
/// Exit status when an audit or verification rejected something.
pub const EXIT_REJECTED: u8 = 1;

/// Runs the command line and returns the process exit status.
pub fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_ERROR)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
