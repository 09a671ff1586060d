//! One function per command.

use crate::cli::*;
use crate::identity_file;
use crate::report;
use crate::submit;
use crate::workflow::{self, SignRequest};
use crate::{ceremony, demo, EXIT_REJECTED};
use anyhow::{anyhow, bail, ensure, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::OsRng;
use rand::RngCore;
use rayon::prelude::*;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;
use undersign_core::atomic::write_atomic;
use undersign_core::attributes::Mask;
use undersign_core::field;
use undersign_core::identity::IdentitySecret;
use undersign_proof::keys::{self, KeySet, DEVELOPMENT_WARNING};
use undersign_registry::csv_import::import_csv;
use undersign_registry::registrar::{RegistrarKey, RegistrarPublicKey};
use undersign_registry::registry::Registry;
use undersign_registry::schema::Schema;
use undersign_registry::stats::Stats;
use undersign_tally::bundle::AuditOptions;
use undersign_tally::petition::{PetitionFields, PetitionFile};
use zeroize::Zeroizing;

/// Runs one command.
pub fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Setup(args) => setup(args),
        Command::Identity(cmd) => identity(cmd),
        Command::Sign(args) => sign(args),
        Command::Registrar(RegistrarCommand::Keygen { out, force }) => {
            registrar_keygen(&out, force)
        }
        Command::Registry(cmd) => registry(cmd),
        Command::Petition(PetitionCommand::New {
            registry,
            title,
            text_file,
            disclose,
            keys,
            min_checkpoint,
            max_checkpoint,
            out,
        }) => petition_new(
            &registry,
            title,
            &text_file,
            &disclose,
            &keys,
            (min_checkpoint, max_checkpoint.as_deref()),
            &out,
        ),
        Command::Bundle(BundleCommand::Build {
            petition,
            registry,
            keys,
            out,
            signatures,
        }) => bundle_build(&petition, &registry, &keys, &out, &signatures),
        Command::Verify(args) => verify(args),
        Command::Audit(args) => audit(args),
        Command::BenchData(args) => bench_data(args),
        Command::Demo(args) => demo::run(args),
        Command::Ceremony(cmd) => ceremony::run(cmd),
        Command::Serve(args) => serve(args),
        Command::Submit(args) => {
            submit::submit_file(&args.signature, &args.to, args.proxy.as_deref())
        }
    }
}

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
        ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} [{elapsed}, {per_sec}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(message.to_owned());
    bar
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

fn setup(args: SetupArgs) -> Result<ExitCode> {
    let seed = match &args.seed {
        Some(text) => {
            let mut seed = [0u8; 32];
            hex::decode_to_slice(text, &mut seed)
                .map_err(|_| anyhow!("--seed must be 64 hex digits"))?;
            seed
        }
        None => {
            let mut seed = [0u8; 32];
            OsRng.fill_bytes(&mut seed);
            seed
        }
    };
    eprintln!("WARNING: {DEVELOPMENT_WARNING}");
    let bar = spinner(&format!("generating depth-{} keys", args.depth));
    let keyset = KeySet::development(args.depth, &seed)?;
    let manifest = keyset.write(&args.out)?;
    bar.finish_and_clear();
    println!("keys written to {}", args.out.display());
    println!("depth:              {}", manifest.depth);
    println!("constraints:        {}", manifest.constraints);
    println!("verifying key hash: {}", manifest.verifying_key.blake3);
    println!("proving key hash:   {}", manifest.proving_key.blake3);
    Ok(ExitCode::SUCCESS)
}

fn identity(cmd: IdentityCommand) -> Result<ExitCode> {
    match cmd {
        IdentityCommand::New {
            out,
            passphrase_file,
            unencrypted,
            force,
        } => {
            refuse_overwrite(&out, force)?;
            let pass = if unencrypted {
                None
            } else {
                Some(identity_file::new_passphrase(
                    passphrase_file.as_deref(),
                    &out.display().to_string(),
                )?)
            };
            let mut bytes = Zeroizing::new([0u8; 32]);
            OsRng.fill_bytes(&mut bytes[..]);
            let secret = IdentitySecret::from_bytes(*bytes);
            identity_file::write(&out, &secret, pass.as_deref().map(String::as_str))?;
            println!(
                "identity written to {} ({}; keep it private: it is the only way to sign)",
                out.display(),
                if unencrypted {
                    "NOT encrypted: whoever copies it can find every petition you sign"
                } else {
                    "encrypted with your passphrase"
                }
            );
            println!(
                "commitment (give this to your registrar): {}",
                field::to_hex(&secret.commitment())
            );
        }
        IdentityCommand::Show {
            identity,
            passphrase_file,
        } => {
            let secret = identity_file::read(&identity, passphrase_file.as_deref())?;
            println!("{}", field::to_hex(&secret.commitment()));
        }
        IdentityCommand::Encrypt {
            identity,
            passphrase_file,
        } => {
            let bytes = Zeroizing::new(
                std::fs::read(&identity)
                    .with_context(|| format!("reading identity file {}", identity.display()))?,
            );
            ensure!(
                !identity_file::is_encrypted(&bytes),
                "{} is already encrypted",
                identity.display()
            );
            let secret = identity_file::parse(&identity, &bytes)?;
            let pass = identity_file::new_passphrase(
                passphrase_file.as_deref(),
                &identity.display().to_string(),
            )?;
            // One atomic rename: the encrypted file replaces the plain one, never both.
            identity_file::write(&identity, &secret, Some(&pass))?;
            println!(
                "{} is now encrypted (the plain file was replaced; copies of it made earlier, \
                 e.g. backups, still hold the secret unencrypted)",
                identity.display()
            );
        }
        IdentityCommand::Decrypt {
            identity,
            passphrase_file,
        } => {
            let bytes = std::fs::read(&identity)
                .with_context(|| format!("reading identity file {}", identity.display()))?;
            ensure!(
                identity_file::is_encrypted(&bytes),
                "{} is not encrypted",
                identity.display()
            );
            let secret = identity_file::read(&identity, passphrase_file.as_deref())?;
            identity_file::write(&identity, &secret, None)?;
            println!(
                "{} is now NOT encrypted: whoever copies it can find every petition you sign; \
                 `undersign identity encrypt {}` encrypts it again",
                identity.display(),
                identity.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Parses `--disclose`: "none", or slot names/numbers separated by commas.
fn parse_disclose(schema: &Schema, text: &str) -> Result<Mask> {
    if text.trim() == "none" || text.trim().is_empty() {
        return Ok(Mask::NONE);
    }
    let slots = schema
        .parse_slots(text)
        .with_context(|| format!("--disclose {text:?}"))?;
    Ok(Mask::from_slots(&slots)?)
}

fn sign(args: SignArgs) -> Result<ExitCode> {
    if let Some(out) = args.out.as_deref().filter(|out| out.exists()) {
        bail!(
            "{} already exists (another signature?); choose another --out",
            out.display()
        );
    }
    let secret = identity_file::read(&args.identity, args.passphrase_file.as_deref())?;
    let registry = workflow::load_registry(&args.registry)?;
    let petition = workflow::load_petition(&args.petition)?;
    let disclose = args
        .disclose
        .as_deref()
        .map(|d| parse_disclose(registry.schema(), d))
        .transpose()?;
    let request = SignRequest {
        secret: &secret,
        registry: &registry,
        petition: &petition,
        comment: args.comment.clone(),
        disclose,
        min_anonymity: args.min_anonymity,
        accept_small_anonymity_set: args.accept_small_anonymity_set,
    };
    // Before anything is proved: what is being signed, so the signer can compare the id with
    // the one the organizers announced in public (a petition altered for one person would
    // link their signature to them).
    println!("petition:   {}", report::clean(&petition.fields().title));
    println!(
        "id:         {} (compare it with the id the organizers published)",
        petition.id_hex()
    );
    // The keys load (tens of milliseconds on both cores) while the registry's tree is rebuilt
    // and the statement prepared; a key file that does not load is reported first.
    let (prepared, loaded) = rayon::join(
        || workflow::prepare_signature(&request),
        || keys::load_prover(&args.keys),
    );
    let (manifest, prover) = loaded.with_context(|| format!("keys {}", args.keys.display()))?;
    let prepared = prepared?;
    let keys = workflow::SigningKeys { manifest, prover };
    let bar = spinner("proving");
    let outcome = workflow::prove_signature(prepared, &keys, &mut OsRng);
    bar.finish_and_clear();
    let outcome = outcome?;
    match &args.out {
        Some(out) => {
            write_atomic(out, outcome.signature.to_json_pretty().as_bytes(), true)
                .with_context(|| format!("writing {}", out.display()))?;
            println!("signature written to {}", out.display());
            println!(
                "            it proves that you signed: whoever finds it can show it. Once it is \
                 submitted, delete it (`rm {}`), or keep it only on encrypted storage",
                out.display()
            );
        }
        None => println!("signature:  not written to disk (submitting it now)"),
    }
    let names: Vec<String> = outcome
        .signature
        .mask
        .slots()
        .iter()
        .map(|&s| report::slot_name(registry.schema(), s))
        .collect();
    println!(
        "disclosed:  {}",
        if names.is_empty() {
            "nothing".into()
        } else {
            names.join(", ")
        }
    );
    if !outcome.dropped_slots.is_empty() {
        let dropped: Vec<String> = outcome
            .dropped_slots
            .iter()
            .map(|&s| report::slot_name(registry.schema(), s))
            .collect();
        println!(
            "withheld:   {} (disclosing it would leave fewer than {} members like you)",
            dropped.join(", "),
            args.min_anonymity
        );
    }
    println!(
        "anonymity:  {} members at checkpoint {} share every disclosed value",
        outcome.anonymity_set, outcome.checkpoint
    );
    if let Some(url) = &args.submit {
        return submit::submit(&outcome.signature, url, args.proxy.as_deref());
    }
    Ok(ExitCode::SUCCESS)
}

fn serve(args: ServeArgs) -> Result<ExitCode> {
    let mut config = undersign_server::Config::new(&args.data, args.keys);
    config.limits.registry_body = args.max_registry_mib.saturating_mul(1 << 20);
    config.limits.header_timeout = args.header_timeout;
    ensure!(
        args.max_connections >= 1,
        "--max-connections must be at least 1"
    );
    config.limits.max_connections = args.max_connections;
    ensure!(
        args.max_downloads >= 1,
        "--max-downloads must be at least 1"
    );
    config.limits.write_timeout = args.write_timeout;
    config.limits.max_downloads = args.max_downloads;
    config.publication = undersign_server::Publication {
        every: args.publish_every,
        min: args.publish_min,
    };
    undersign_server::run(config, args.listen)?;
    Ok(ExitCode::SUCCESS)
}

fn registrar_keygen(out: &Path, force: bool) -> Result<ExitCode> {
    refuse_overwrite(out, force)?;
    let key = RegistrarKey::generate(&mut OsRng);
    key.to_file(out)
        .with_context(|| format!("writing {}", out.display()))?;
    println!(
        "registrar key written to {} (keep it private)",
        out.display()
    );
    println!("public key (publish this): {}", key.public_key().to_hex());
    Ok(ExitCode::SUCCESS)
}

fn registry(cmd: RegistryCommand) -> Result<ExitCode> {
    match cmd {
        RegistryCommand::Init { schema, depth, out } => {
            refuse_overwrite(&out, false)?;
            let schema =
                Schema::load(&schema).with_context(|| format!("schema {}", schema.display()))?;
            let mut id = [0u8; 32];
            OsRng.fill_bytes(&mut id);
            let registry = Registry::new(schema, depth, id)?;
            registry
                .save(&out)
                .with_context(|| format!("writing {}", out.display()))?;
            println!(
                "registry {} created in {} (depth {depth})",
                hex::encode(id),
                out.display()
            );
        }
        RegistryCommand::Add {
            registry: path,
            commitment,
            attrs,
            csv,
        } => {
            let mut registry = workflow::load_registry(&path)?;
            if let Some(csv) = csv {
                let file = std::fs::File::open(&csv)
                    .with_context(|| format!("opening {}", csv.display()))?;
                let bar = spinner("importing members");
                let added = import_csv(&mut registry, std::io::BufReader::new(file))
                    .with_context(|| format!("CSV {}", csv.display()));
                bar.finish_and_clear();
                let added = added?;
                registry
                    .save(&path)
                    .with_context(|| format!("writing {}", path.display()))?;
                println!(
                    "added {added} members; the registry now has {} positions",
                    registry.members().len()
                );
            } else if let Some(commitment) = commitment {
                let commitment =
                    field::from_hex(&commitment).map_err(|e| anyhow!("--commitment: {e}"))?;
                let attributes = registry.schema().attributes_from_assignments(&attrs)?;
                let index = registry.add(commitment, attributes)?;
                registry
                    .save(&path)
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("added member at index {index}");
            }
        }
        RegistryCommand::Remove {
            registry: path,
            index,
        } => {
            let mut registry = workflow::load_registry(&path)?;
            registry.remove(index)?;
            registry
                .save(&path)
                .with_context(|| format!("writing {}", path.display()))?;
            println!("removed member {index}; sign a new checkpoint so petitions can exclude them");
        }
        RegistryCommand::Checkpoint {
            registry: path,
            key,
        } => {
            let mut registry = workflow::load_registry(&path)?;
            let key = RegistrarKey::from_file(&key)
                .with_context(|| format!("registrar key {}", key.display()))?;
            let bar = spinner("building the tree");
            let checkpoint = registry.checkpoint(&key, workflow::now());
            bar.finish_and_clear();
            let checkpoint = checkpoint?.clone();
            registry
                .save(&path)
                .with_context(|| format!("writing {}", path.display()))?;
            println!(
                "checkpoint {} signed: {} positions, root {}",
                checkpoint.sequence,
                checkpoint.size,
                field::to_hex(&checkpoint.root)
            );
        }
        RegistryCommand::Stats {
            registry: path,
            json,
        } => {
            let registry = workflow::load_registry(&path)?;
            let stats = Stats::of(&registry);
            if json {
                println!("{}", serde_json::to_string_pretty(&stats)?);
            } else {
                print!("{stats}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn petition_new(
    registry_path: &Path,
    title: String,
    text_file: &Path,
    disclose: &str,
    keys_dir: &Path,
    (min_checkpoint, max_checkpoint): (Option<u64>, Option<&str>),
    out: &Path,
) -> Result<ExitCode> {
    refuse_overwrite(out, false)?;
    let registry = workflow::load_registry(registry_path)?;
    let latest = registry.latest_checkpoint().ok_or_else(|| {
        anyhow!("the registry has no checkpoint yet; the registrar must sign one first")
    })?;
    let text = std::fs::read_to_string(text_file)
        .with_context(|| format!("reading {}", text_file.display()))?;
    let mask = parse_disclose(registry.schema(), disclose)?;
    let min_checkpoint = min_checkpoint.unwrap_or(latest.sequence);
    if min_checkpoint > latest.sequence {
        bail!(
            "--min-checkpoint {min_checkpoint} is newer than the registry's newest checkpoint {}",
            latest.sequence
        );
    }
    let max_checkpoint = match max_checkpoint {
        None => Some(min_checkpoint),
        Some("open") => None,
        Some(text) => {
            let max: u64 = text.parse().map_err(|_| {
                anyhow!("--max-checkpoint {text:?}: expected a checkpoint number or \"open\"")
            })?;
            ensure!(
                max >= min_checkpoint,
                "--max-checkpoint {max} is below --min-checkpoint {min_checkpoint}"
            );
            Some(max)
        }
    };
    let min_checkpoint_hash = hex::encode(registry.checkpoints()[min_checkpoint as usize].hash());
    let (manifest, verifier) =
        keys::load_verifier(keys_dir).with_context(|| format!("keys {}", keys_dir.display()))?;
    let mut nonce = [0u8; 32];
    OsRng.fill_bytes(&mut nonce);
    let petition = PetitionFile::create(PetitionFields {
        version: 1,
        kind: undersign_tally::petition::KIND.into(),
        title,
        text,
        registry: hex::encode(registry.id()),
        registrar_key: latest.public_key.to_hex(),
        verifying_key: verifier.key_hash().to_owned(),
        proving_key: manifest.proving_key.blake3.clone(),
        disclose: mask.slots().into_iter().map(|s| s as u64).collect(),
        min_checkpoint,
        min_checkpoint_hash,
        max_checkpoint,
        nonce: hex::encode(nonce),
    })?;
    write_atomic(out, petition.bytes(), false)
        .with_context(|| format!("writing {}", out.display()))?;
    println!(
        "petition {} written to {}",
        petition.id_hex(),
        out.display()
    );
    println!(
        "accepts: {} of registry {}",
        report::window_text(min_checkpoint, max_checkpoint),
        hex::encode(registry.id())
    );
    if max_checkpoint == Some(min_checkpoint) {
        println!(
            "         the count will be of members as of checkpoint {min_checkpoint}; publish the \
             registry file with the petition"
        );
    } else {
        println!(
            "         members removed inside this window and re-issued an identity could be \
             counted twice; every audit states how many"
        );
    }
    println!(
        "publish the petition id in public before collecting: signers compare it with what \
         `sign` prints"
    );
    Ok(ExitCode::SUCCESS)
}

fn bundle_build(
    petition: &Path,
    registry: &Path,
    keys_dir: &Path,
    out: &Path,
    signatures: &[std::path::PathBuf],
) -> Result<ExitCode> {
    let petition = workflow::load_petition(petition)?;
    let registry = workflow::load_registry(registry)?;
    let (_, verifier) =
        keys::load_verifier(keys_dir).with_context(|| format!("keys {}", keys_dir.display()))?;
    // Read on all cores: 100,000 small files cost seconds of system time.
    let inputs = signatures
        .par_iter()
        .map(|path| {
            let bytes = std::fs::read(path)
                .with_context(|| format!("reading signature {}", path.display()))?;
            Ok((path.display().to_string(), bytes))
        })
        .collect::<Result<Vec<_>>>()?;
    let bar = spinner(&format!("checking {} signatures", inputs.len()));
    let outcome = workflow::build_bundle(&petition, &registry, verifier, inputs, out);
    bar.finish_and_clear();
    let outcome = outcome?;
    println!(
        "bundle written to {}: {} signatures",
        out.display(),
        outcome.accepted.len()
    );
    if !outcome.dropped.is_empty() {
        println!("dropped {}:", outcome.dropped.len());
        for d in &outcome.dropped {
            println!("  {}: {}", d.source, d.reason);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(args: VerifyArgs) -> Result<ExitCode> {
    let petition = workflow::load_petition(&args.petition)?;
    let registry = workflow::load_registry(&args.registry)?;
    let (_, verifier) =
        keys::load_verifier(&args.keys).with_context(|| format!("keys {}", args.keys.display()))?;
    let bytes = std::fs::read(&args.signature)
        .with_context(|| format!("reading {}", args.signature.display()))?;
    let checker = workflow::checker(&petition, &registry, verifier)?;
    match checker.check_bytes(&bytes) {
        Ok((signature, sequence)) => {
            println!(
                "valid: signs {:?} with a root from checkpoint {sequence}",
                petition.fields().title
            );
            println!("nullifier: {}", field::to_hex(&signature.nullifier));
            Ok(ExitCode::SUCCESS)
        }
        Err(undersign_tally::check::Rejection::Malformed(e)) => {
            bail!("{}: {e}", args.signature.display())
        }
        Err(rejection) => {
            println!("INVALID: {rejection}");
            Ok(ExitCode::from(EXIT_REJECTED))
        }
    }
}

fn audit(args: AuditArgs) -> Result<ExitCode> {
    let registrar_key = RegistrarPublicKey::from_hex(&args.registrar_key)
        .map_err(|e| anyhow!("--registrar-key: {e}"))?;
    // Hex is compared in any case: a pin copied in capitals is the same key.
    let mut pinned_vk_hash = args.vk_hash.as_deref().map(str::to_ascii_lowercase);
    if let Some(dir) = &args.ceremony {
        match ceremony::audit_pin(dir, pinned_vk_hash.as_deref(), args.json)? {
            Ok(hash) => pinned_vk_hash = Some(hash),
            Err(code) => return Ok(code),
        }
    }
    let options = AuditOptions {
        registrar_key,
        pinned_vk_hash,
    };
    let registry = args
        .registry
        .as_deref()
        .map(workflow::load_registry)
        .transpose()?;
    let bar = counter(0, "auditing");
    let report = workflow::audit_file(&args.bundle, &options, &mut |n| {
        bar.set_length(n);
        bar.set_position(n);
    });
    bar.finish_and_clear();
    let report = report?;
    let anonymity = registry
        .as_ref()
        .map(|r| report::anonymity_sets(&report, r));
    if args.json {
        println!("{}", report::to_json(&report, anonymity.as_deref())?);
    } else {
        print!("{}", report::render(&report, anonymity.as_deref()));
    }
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_REJECTED)
    })
}

fn bench_data(args: BenchDataArgs) -> Result<ExitCode> {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(&args.seed, &mut seed)
        .map_err(|_| anyhow!("--seed must be 64 hex digits"))?;
    eprintln!("WARNING: simulated signatures; they audit as valid only under the development key written to {}", args.out.join("keys").display());
    let bar = spinner(&format!(
        "generating {} signatures ({} real)",
        args.signatures, args.real
    ));
    let generated =
        undersign_bench_data::generate(&args.out, args.signatures, args.real, args.depth, seed);
    bar.finish_and_clear();
    let generated = generated?;
    println!(
        "bundle: {} ({} signatures, {} with real proofs)",
        generated.bundle.display(),
        generated.total,
        generated.real
    );
    println!(
        "audit it: undersign audit {} --registrar-key {} --vk-hash {}",
        generated.bundle.display(),
        generated.registrar_key,
        generated.verifying_key_hash
    );
    Ok(ExitCode::SUCCESS)
}
