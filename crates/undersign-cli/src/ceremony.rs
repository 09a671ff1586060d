//! `undersign ceremony ...` and the ceremony check of `undersign audit --ceremony`.
//!
//! Contributions always take their randomness from the operating system; secrets live in
//! zeroizing memory inside the library and are never printed.

use crate::cli::{CeremonyCommand, Phase1Command, Phase2Command};
use crate::ui::{refuse_overwrite, spinner};
use crate::EXIT_REJECTED;
use anyhow::{anyhow, Context, Result};
use rand::rngs::OsRng;
use std::path::Path;
use std::process::ExitCode;
use undersign_ceremony::export::{self, VerifiedCeremony};
use undersign_ceremony::phase2::Beacon;
use undersign_ceremony::{short_hash, CeremonyError, Hash, Phase1, Phase2};
use undersign_tally::bundle::{AuditReport, Problem};

/// Runs one ceremony command.
pub fn run(command: CeremonyCommand) -> Result<ExitCode> {
    let outcome = match command {
        CeremonyCommand::Phase1(cmd) => phase1(cmd),
        CeremonyCommand::Phase2(cmd) => phase2(cmd),
    };
    match outcome {
        Ok(code) => Ok(code),
        Err(e) if e.is_verification_failure() => {
            println!("INVALID: {e}");
            Ok(ExitCode::from(EXIT_REJECTED))
        }
        Err(e) => Err(anyhow!(e)),
    }
}

fn hex(hash: &Hash) -> String {
    ::hex::encode(hash)
}

fn published(record_hash: &Hash, count: usize, out: &Path) {
    println!(
        "transcript written to {} ({count} contributions)",
        out.display()
    );
    println!(
        "your contribution hash (publish it): {}",
        short_hash(record_hash)
    );
    println!("                              full: {}", hex(record_hash));
    println!(
        "your secrets came from the operating system's random generator and have been erased \
         from memory; nothing about them was written or printed"
    );
}

fn phase1(command: Phase1Command) -> Result<ExitCode, CeremonyError> {
    match command {
        Phase1Command::New { power, out, force } => {
            refuse(&out, force)?;
            let phase1 = Phase1::new(power)?;
            let hash = phase1.write(&out)?;
            println!(
                "phase-1 transcript started in {}: 2^{power} = {} powers, no contributions",
                out.display(),
                phase1.size()
            );
            println!("file hash: {}", hex(&hash));
        }
        Phase1Command::Contribute { input, out, force } => {
            refuse(&out, force)?;
            let (mut phase1, _) = Phase1::read(&input)?;
            let bar = spinner("checking the transcript and contributing");
            let record = phase1.contribute(&mut OsRng);
            bar.finish_and_clear();
            let record = record?;
            phase1.write(&out)?;
            published(&record, phase1.contributions().len(), &out);
        }
        Phase1Command::Import {
            ptau,
            power,
            out,
            force,
        } => import(&ptau, power, &out, force)?,
        Phase1Command::Verify { transcript } => {
            let (phase1, hash) = Phase1::read(&transcript)?;
            let bar = spinner("verifying phase 1");
            let verified = phase1.verify(&mut OsRng);
            bar.finish_and_clear();
            verified?;
            print_phase1(&phase1, &hash);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Imports a `.ptau` file, verifies the powers taken from it and writes the transcript.
fn import(ptau: &Path, power: u32, out: &Path, force: bool) -> Result<(), CeremonyError> {
    refuse(out, force)?;
    let bar = spinner("reading and checking the .ptau file");
    let phase1 = Phase1::import_ptau(ptau, power);
    let phase1 = phase1.and_then(|p| {
        p.verify(&mut OsRng)?;
        Ok(p)
    });
    bar.finish_and_clear();
    let phase1 = phase1?;
    let hash = phase1.write(out)?;
    if let Some(import) = phase1.import() {
        println!(
            "phase-1 transcript started in {} from 2^{power} of the 2^{} powers of {}",
            out.display(),
            import.ptau_power,
            ptau.display()
        );
        println!(
            ".ptau blake2b-512: {} (compare it with the published hash)",
            ::hex::encode(import.ptau_blake2b)
        );
    }
    println!("file hash: {}", hex(&hash));
    Ok(())
}

fn refuse(path: &Path, force: bool) -> Result<(), CeremonyError> {
    refuse_overwrite(path, force).map_err(|e| CeremonyError::Parameter(e.to_string()))
}

fn print_phase1(phase1: &Phase1, hash: &Hash) {
    println!(
        "phase 1 valid: 2^{} powers, {} contributions, file hash {}",
        phase1.power(),
        phase1.contributions().len(),
        hex(hash)
    );
    if let Some(import) = phase1.import() {
        println!(
            "  started from a .ptau file (2^{} powers), blake2b-512 {}",
            import.ptau_power,
            ::hex::encode(import.ptau_blake2b)
        );
    }
    for (i, c) in phase1.contributions().iter().enumerate() {
        let h = c.hash();
        println!("  #{:<3} {}   {}", i + 1, short_hash(&h), hex(&h));
    }
    if phase1.contributions().is_empty() && phase1.import().is_none() {
        println!(
            "WARNING: no contributions yet. Its secrets are public (all 1): keys built on it \
             alone let anyone forge. Have at least one contributor run `phase1 contribute`."
        );
    }
}

fn phase2(command: Phase2Command) -> Result<ExitCode, CeremonyError> {
    match command {
        Phase2Command::New {
            depth,
            phase1,
            out,
            force,
        } => {
            refuse(&out, force)?;
            let (p1, p1_hash) = Phase1::read(&phase1)?;
            let bar = spinner("verifying phase 1");
            let verified = p1.verify(&mut OsRng);
            bar.finish_and_clear();
            verified?;
            let bar = spinner(&format!(
                "deriving the depth-{depth} circuit's initial keys"
            ));
            let p2 = Phase2::new(&p1, p1_hash, depth);
            bar.finish_and_clear();
            let p2 = p2?;
            let hash = p2.write(&out)?;
            println!(
                "phase-2 transcript started in {} for depth {depth}, from phase 1 {} ({} contributions)",
                out.display(),
                hex(&p1_hash),
                p1.contributions().len()
            );
            println!("file hash: {}", hex(&hash));
        }
        Phase2Command::Contribute {
            input,
            phase1,
            out,
            force,
        } => {
            refuse(&out, force)?;
            let (p1, p1_hash) = Phase1::read(&phase1)?;
            let (mut p2, _) = Phase2::read(&input)?;
            let bar = spinner("verifying phase 1 and the transcript, then contributing");
            let record = p2.contribute(&p1, &mut OsRng);
            bar.finish_and_clear();
            let record = record?;
            p2.write(&out)?;
            println!(
                "checked against phase 1 {} (compare with the published phase-1 file hash)",
                hex(&p1_hash)
            );
            published(&record, p2.contributions().len(), &out);
        }
        Phase2Command::Beacon {
            input,
            phase1,
            beacon,
            exponent,
            out,
            force,
        } => {
            refuse(&out, force)?;
            let value = ::hex::decode(beacon.trim()).map_err(|_| {
                CeremonyError::Parameter("--beacon must be hex digits (an even number)".into())
            })?;
            let beacon = Beacon::new(value, exponent).map_err(CeremonyError::Parameter)?;
            let (p1, p1_hash) = Phase1::read(&phase1)?;
            let (mut p2, _) = Phase2::read(&input)?;
            let bar = spinner(&format!(
                "verifying phase 1 and the transcript, hashing the beacon 2^{exponent} times"
            ));
            let record = p2.beacon(&p1, beacon, &mut OsRng);
            bar.finish_and_clear();
            let record = record?;
            p2.write(&out)?;
            println!("checked against phase 1 {}", hex(&p1_hash));
            println!(
                "beacon applied; transcript written to {} ({} contributions)",
                out.display(),
                p2.contributions().len()
            );
            println!(
                "beacon record hash: {}   {}",
                short_hash(&record),
                hex(&record)
            );
        }
        Phase2Command::Verify {
            transcript,
            phase1,
            out,
        } => {
            let bar = spinner("verifying phase 1 and phase 2");
            let verified = export::verify_files(&phase1, &transcript, &mut OsRng);
            bar.finish_and_clear();
            let verified = verified?;
            print_verified(&verified);
            if let Some(dir) = out {
                let manifest = verified.write_keys(&dir)?;
                println!(
                    "keys written to {} (setup \"{}\", depth {})",
                    dir.display(),
                    manifest.setup,
                    manifest.depth
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_verified(v: &VerifiedCeremony) {
    println!(
        "phase 1 valid: 2^{} powers, {} contributions, file hash {}",
        v.power,
        v.phase1_contributions.len(),
        hex(&v.phase1_hash)
    );
    for (i, h) in v.phase1_contributions.iter().enumerate() {
        println!("  #{:<3} {}   {}", i + 1, short_hash(h), hex(h));
    }
    println!(
        "phase 2 valid: depth {}, {} contributions, file hash {}",
        v.keys.depth,
        v.phase2_contributions.len(),
        hex(&v.phase2_hash)
    );
    for (i, (h, beacon)) in v.phase2_contributions.iter().enumerate() {
        let label = match beacon {
            Some(b) => format!(
                "   beacon {} hashed 2^{} times",
                ::hex::encode(&b.value),
                b.exponent
            ),
            None => String::new(),
        };
        println!("  #{:<3} {}   {}{label}", i + 1, short_hash(h), hex(h));
    }
    println!("verifying key hash: {}", v.verifying_key_hash);
    println!("proving key hash:   {}", v.proving_key_hash);
    println!("{}", v.warning());
}

/// Prints why an audit counts nothing because of the ceremony, and returns the exit code.
fn ceremony_fatal(reason: &str, json: bool) -> ExitCode {
    if json {
        // The bundle is not read: the report holds the fatal problem and nothing else.
        let report = AuditReport::fatal_before_header(
            Problem {
                code: "ceremony_invalid",
                message: reason.to_owned(),
            },
            true,
        );
        match crate::report::to_json(&report, None) {
            Ok(text) => println!("{text}"),
            Err(e) => eprintln!("error: {e}"),
        }
    } else {
        println!("CEREMONY INVALID: {reason}\nNothing was counted.");
    }
    ExitCode::from(EXIT_REJECTED)
}

/// For `audit --ceremony DIR`: verifies the transcript and returns the verifying key hash to
/// pin, or the exit code when the transcript does not verify or `vk_hash` (lowercase hex)
/// names another key (after printing why).
pub fn audit_pin(
    dir: &Path,
    vk_hash: Option<&str>,
    json: bool,
) -> Result<std::result::Result<String, ExitCode>> {
    let bar = spinner("verifying the ceremony transcript");
    let verified = export::verify_transcript_dir(dir, &mut OsRng);
    bar.finish_and_clear();
    let verified = match verified {
        Ok(v) => v,
        Err(e) if e.is_verification_failure() => {
            let reason = format!("ceremony transcript {}: {e}", dir.display());
            return Ok(Err(ceremony_fatal(&reason, json)));
        }
        Err(e) => {
            return Err(anyhow!(e))
                .with_context(|| format!("ceremony transcript {}", dir.display()))
        }
    };
    if let Some(pinned) = vk_hash {
        if pinned != verified.verifying_key_hash {
            // Two pins that disagree: no bundle can satisfy both, so nothing is counted.
            let reason = format!(
                "--vk-hash {pinned} is not the verifying key the ceremony produced ({})",
                verified.verifying_key_hash
            );
            return Ok(Err(ceremony_fatal(&reason, json)));
        }
    }
    if !json {
        println!(
            "ceremony:      transcript {} verified ({} + {} contributions); it produced verifying key {}",
            dir.display(),
            verified.phase1_contributions.len(),
            verified.phase2_contributions.len(),
            verified.verifying_key_hash
        );
    }
    Ok(Ok(verified.verifying_key_hash))
}
