//! The `undersign` binary.
//!
//! Output that cannot be written (stdout on a full disk, `/dev/full`, a closed pipe) is an
//! error with exit status 2 and a message on stderr, never a panic: `println!` panics when a
//! write fails, so a panic hook recognises that panic ("failed printing to stdout") and exits
//! with status 2 instead; after the command, buffered output is flushed and a failure there is
//! the same error. (A hook rather than a fallible writer in every command: it covers every
//! `println!` of every command, including ones added later, with one rule in one place.)

use std::io::Write;
use std::process::ExitCode;

/// The exit status for an output that could not be written (`undersign_cli::EXIT_ERROR`).
const EXIT_OUTPUT: u8 = 2;

fn output_failed(reason: &str) -> ! {
    let _ = writeln!(
        std::io::stderr(),
        "error: the output could not be written ({reason}); whatever this command did before \
         printing (a stored signature, a written file) stands"
    );
    std::process::exit(i32::from(EXIT_OUTPUT))
}

fn main() -> ExitCode {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied());
        if let Some(reason) = message.and_then(|m| m.strip_prefix("failed printing to stdout: ")) {
            output_failed(reason);
        }
        default_hook(info);
    }));
    let code = undersign_cli::main();
    if let Err(e) = std::io::stdout().flush() {
        output_failed(&e.to_string());
    }
    code
}
