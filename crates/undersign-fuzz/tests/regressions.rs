//! Every fuzz target's kept inputs (`fuzz/regressions/<target>/`: inputs that once crashed,
//! hung or broke an invariant, each kept after its fix) and its seeds, through the same
//! functions the `fuzz/` binaries call, on stable Rust in `cargo test`.

use std::path::Path;
use undersign_fuzz::fixture::seeds;
use undersign_fuzz::Target;

fn regressions(target: Target) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions")
        .join(target.name());
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<(String, Vec<u8>)> = entries
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            let bytes = std::fs::read(&path).expect("a regression input");
            (path.display().to_string(), bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_target_passes_its_seeds_and_kept_inputs() {
    let mut kept = 0;
    for target in Target::ALL {
        for seed in seeds(target) {
            target.run(&seed);
        }
        for (name, input) in regressions(target) {
            eprintln!("{}: {name}", target.name());
            target.run(&input);
            kept += 1;
        }
        // Nothing at all must pass too.
        target.run(&[]);
    }
    eprintln!("{kept} kept inputs");
}

#[test]
fn seeds_reach_the_parsers_past_their_first_check() {
    use undersign_tally::signature::Signature;
    let f = undersign_fuzz::fixture::get();
    // The seeds are the real thing, so that fuzzing starts from accepted inputs.
    assert!(Signature::from_json(&seeds(Target::Signature)[0]).is_ok());
    assert!(undersign_registry::registry::Registry::from_json(&seeds(Target::Registry)[0]).is_ok());
    let mut registry = f.registry.clone();
    let added =
        undersign_registry::csv_import::import_csv(&mut registry, &seeds(Target::Csv)[0][..]);
    assert_eq!(added.ok(), Some(2));
    assert!(
        undersign_registry::registrar::RegistrarKey::from_file_bytes(
            &seeds(Target::RegistrarKey)[0],
            Path::new("key")
        )
        .is_ok()
    );
    assert!(
        undersign_tally::petition::PetitionFile::parse(seeds(Target::Petition)[0].clone()).is_ok()
    );
    assert!(
        undersign_proof::ProofBytes::from_slice(&seeds(Target::Proof)[0])
            .and_then(|p| p.decode())
            .is_ok()
    );
    let report = undersign_tally::bundle::audit(
        &seeds(Target::Bundle)[0][..],
        &undersign_tally::bundle::AuditOptions {
            registrar_key: f.registrar_key,
            pinned_vk_hash: None,
            verifier: undersign_tally::check::VerifierMode::Fast,
        },
    )
    .expect("a report");
    assert!(report.valid, "the fixture bundle audits clean: {report:?}");
    // The collector took the registry and the petition, and takes the signature: stored now
    // (201) or by the other test of this process (a copy is then a 409, duplicate).
    let collector = undersign_fuzz::fixture::collector();
    let submit = || {
        let request = undersign_fuzz::fixture::http_request(collector, &seeds(Target::Http)[2])
            .expect("a request");
        collector.send(request)
    };
    let first = submit();
    assert!(first == 201 || first == 409, "signature: {first}");
    assert_eq!(submit(), 409, "the signature was not stored");
}

/// `fuzz/` has one binary per target, calling that target (CI builds on stable only, so this
/// keeps the nightly-only crate from drifting away from the targets it wraps), and
/// `scripts/fuzz.sh` runs them all by default.
#[test]
fn every_target_has_its_fuzz_binary_and_runs_in_the_script() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let manifest = std::fs::read_to_string(root.join("fuzz/Cargo.toml")).expect("fuzz/Cargo.toml");
    let script = std::fs::read_to_string(root.join("scripts/fuzz.sh")).expect("scripts/fuzz.sh");
    let listed = script
        .lines()
        .find_map(|l| l.strip_prefix("all=("))
        .expect("the script's target list")
        .trim_end_matches(')')
        .split_whitespace()
        .collect::<Vec<_>>();
    let names: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
    assert_eq!(listed, names, "scripts/fuzz.sh lists other targets");
    assert_eq!(
        manifest.matches("[[bin]]").count(),
        Target::ALL.len(),
        "fuzz/Cargo.toml has other binaries"
    );
    for target in Target::ALL {
        let name = target.name();
        assert!(
            manifest.contains(&format!(
                "name = \"{name}\"\npath = \"fuzz_targets/{name}.rs\""
            )),
            "fuzz/Cargo.toml lacks {name}"
        );
        let source = std::fs::read_to_string(root.join(format!("fuzz/fuzz_targets/{name}.rs")))
            .expect("a fuzz target source");
        assert!(
            source.contains(&format!("undersign_fuzz::Target::{target:?}.run(data)")),
            "fuzz/fuzz_targets/{name}.rs does not run Target::{target:?}"
        );
    }
}
