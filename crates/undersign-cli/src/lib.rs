//! The `undersign` command: registrar, signer, organizer and auditor workflows.
//!
//! Every command reports problems as plain errors naming the file and what is wrong, never
//! panics on input, writes files atomically and never prints or logs a secret.

mod backup;
mod ceremony;
pub mod cli;
mod commands;
mod demo;
pub mod export;
pub mod identity_file;
mod publish;
mod report;
pub mod submit;
mod ui;
/// The role workflows (a library of their own, shared with other front ends).
pub use undersign_workflow as workflow;
/// Naming a wrong file for what it is.
pub use undersign_workflow::files;

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
            eprintln!("error: {}", error_text(&e));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// An error and its causes on one line, `context: cause: cause`, each said once: a cause whose
/// text the previous one already holds (a library error that prints its source as well as
/// returning it) is left out.
pub fn error_text(error: &anyhow::Error) -> String {
    let mut line = String::new();
    let mut previous = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !previous.contains(&text) {
            // "writing k.key" then "k.key: No such file": the path is said once.
            // A cause that begins with the word the previous text ends with ("k.key: ...")
            // continues it.
            let overlap = text
                .find(": ")
                .filter(|&n| n > 0 && previous.ends_with(&format!(" {}", &text[..n])))
                .unwrap_or(0);
            if overlap > 0 && line.ends_with(&text[..overlap]) {
                line.push_str(&text[overlap..]);
            } else {
                if !line.is_empty() {
                    line.push_str(": ");
                }
                line.push_str(&text);
            }
        }
        previous = text;
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;
    use std::fmt;

    /// A library error in the common shape: it prints its source and also returns it.
    #[derive(Debug)]
    struct Wrapping(std::io::Error);

    impl fmt::Display for Wrapping {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "r.json: {}", self.0)
        }
    }

    impl std::error::Error for Wrapping {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn each_cause_is_said_once() {
        let inner = std::io::Error::other("kind is \"undersign-petition\"");
        let error = Err::<(), _>(Wrapping(inner))
            .context("loading the registry")
            .unwrap_err();
        assert_eq!(
            error_text(&error),
            "loading the registry: r.json: kind is \"undersign-petition\""
        );
        let plain = Err::<(), _>(std::io::Error::other("disk full"))
            .context("writing out.json")
            .unwrap_err();
        assert_eq!(error_text(&plain), "writing out.json: disk full");
        let repeated = Err::<(), _>(Wrapping(std::io::Error::other("gone")))
            .context("writing r.json")
            .unwrap_err();
        assert_eq!(error_text(&repeated), "writing r.json: gone");
    }
}
