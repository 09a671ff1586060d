//! One function per command.

use crate::cli::*;
use crate::identity_file;
use crate::report;
use crate::submit;
use crate::ui::{
    counter, hex_arg, print_json, refuse_input_as_output, refuse_overwrite, registrar_key_arg,
    spinner,
};
use crate::workflow::{self, SignRequest};
use crate::{ceremony, demo, EXIT_REJECTED};
use anyhow::{anyhow, bail, ensure, Context, Result};
use rand::rngs::OsRng;
use rand::RngCore;
use rayon::prelude::*;
use std::path::Path;
use std::process::ExitCode;
use undersign_core::atomic::write_atomic;
use undersign_core::attributes::Mask;
use undersign_core::field;
use undersign_core::identity::IdentitySecret;
use undersign_proof::keys::{self, KeySet, DEVELOPMENT_WARNING};
use undersign_registry::csv_import::import_csv;
use undersign_registry::registrar::RegistrarKey;
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
        Command::Registrar(RegistrarCommand::Keygen { out, force, json }) => {
            registrar_keygen(&out, force, json)
        }
        Command::Registrar(RegistrarCommand::Pubkey { key }) => {
            let bytes =
                std::fs::read(&key).with_context(|| format!("reading {}", key.display()))?;
            crate::files::refuse_other_kind(
                &key,
                &bytes,
                undersign_registry::registrar::REGISTRAR_KEY_KIND,
                "KEY",
            )?;
            let secret = RegistrarKey::from_file_bytes(&bytes, &key)?;
            println!("{}", secret.public_key().to_hex());
            Ok(ExitCode::SUCCESS)
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
            force,
            json,
        }) => petition_new(
            &registry,
            title,
            &text_file,
            &disclose,
            &keys,
            (min_checkpoint, max_checkpoint.as_deref()),
            (&out, force, json),
        ),
        Command::Bundle(BundleCommand::Build {
            petition,
            registry,
            keys,
            out,
            force,
            json,
            signatures,
        }) => bundle_build(
            &petition,
            &registry,
            &keys,
            (&out, force, json),
            &signatures,
        ),
        Command::Verify(args) => verify(args),
        Command::Audit(args) => audit(args),
        Command::BenchData(args) => bench_data(args),
        Command::Demo(args) => demo::run(args),
        Command::Ceremony(cmd) => ceremony::run(cmd),
        Command::Serve(args) => serve(args),
        Command::Publish(args) => crate::publish::run(args),
        Command::Export(cmd) => crate::export::run(cmd),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "undersign", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let command = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(command).render(&mut std::io::stdout())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Submit(args) => {
            submit::submit_file(&args.signature, &args.to, args.proxy.as_deref())
        }
    }
}

/// Loads the verifying key of the key directory `dir` (given as `--keys`).
fn load_verifier(dir: &Path) -> Result<(keys::KeyManifest, undersign_proof::Verifier)> {
    crate::files::expect_key_dir(dir, "--keys")?;
    keys::load_verifier(dir).with_context(|| format!("keys {}", dir.display()))
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
    if !args.force {
        let held: Vec<&str> = ["keys.json", "proving.key", "verifying.key"]
            .into_iter()
            .filter(|name| args.out.join(name).exists())
            .collect();
        if !held.is_empty() {
            bail!(
                "{} already holds keys ({}); petitions opened with them need exactly those \
                 keys. Choose another --out, or pass --force to replace them",
                args.out.display(),
                held.join(", ")
            );
        }
    }
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
            let pass = new_file_passphrase(unencrypted, passphrase_file.as_deref(), &out)?;
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
        IdentityCommand::Backup {
            identity,
            passphrase_file,
            out,
        } => {
            let secret = identity_file::read(&identity, passphrase_file.as_deref())?;
            let words = crate::backup::phrase(&secret)?;
            let numbered: Zeroizing<String> = Zeroizing::new(
                words
                    .split(' ')
                    .enumerate()
                    .map(|(i, w)| format!("{:>2}. {w}\n", i + 1))
                    .collect(),
            );
            match out {
                Some(out) => {
                    refuse_overwrite(&out, false)?;
                    write_atomic(&out, numbered.as_bytes(), true)
                        .with_context(|| format!("writing {}", out.display()))?;
                    println!(
                        "recovery phrase written to {} (0600). Copy it onto paper, then delete \
                         the file: whoever reads it can find every petition you sign",
                        out.display()
                    );
                }
                None => {
                    use std::io::IsTerminal;
                    if !std::io::stdout().is_terminal() {
                        bail!(
                            "the recovery phrase is printed only on a terminal (it would end up \
                             in a file or a pipe); pass --out FILE to write it to a new 0600 file"
                        );
                    }
                    eprintln!(
                        "Your recovery phrase. Write it on paper and keep it hidden: whoever \
                         reads it can find every petition you sign. `undersign identity \
                         restore` rebuilds this identity from it."
                    );
                    print!("{}", numbered.as_str());
                }
            }
        }
        IdentityCommand::Restore {
            out,
            phrase_file,
            passphrase_file,
            unencrypted,
            force,
        } => {
            refuse_overwrite(&out, force)?;
            let text = match &phrase_file {
                Some(path) if path == Path::new("-") => {
                    let mut text = Zeroizing::new(String::new());
                    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                        .context("reading the recovery phrase from standard input")?;
                    text
                }
                Some(path) => Zeroizing::new(
                    std::fs::read_to_string(path)
                        .with_context(|| format!("reading {}", path.display()))?,
                ),
                None => Zeroizing::new(
                    rpassword::prompt_password("recovery phrase (24 words, not shown): ")
                        .context("reading the recovery phrase (no terminal? use --phrase-file)")?,
                ),
            };
            let secret = crate::backup::secret_from_phrase(&text)?;
            let pass = new_file_passphrase(unencrypted, passphrase_file.as_deref(), &out)?;
            identity_file::write(&out, &secret, pass.as_deref().map(String::as_str))?;
            println!(
                "identity restored to {}; its commitment (compare with the one your registrar \
                 holds): {}",
                out.display(),
                field::to_hex(&secret.commitment())
            );
        }
        IdentityCommand::Show {
            identity,
            passphrase_file,
            json,
        } => {
            let secret = identity_file::read(&identity, passphrase_file.as_deref())?;
            let commitment = field::to_hex(&secret.commitment());
            if json {
                print_json(&serde_json::json!({ "commitment": commitment }))?;
            } else {
                println!("{commitment}");
            }
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

/// The passphrase for a new identity file `out`: none with `--unencrypted`, else from
/// `--passphrase-file` or asked twice on the terminal.
fn new_file_passphrase(
    unencrypted: bool,
    passphrase_file: Option<&Path>,
    out: &Path,
) -> Result<Option<Zeroizing<String>>> {
    if unencrypted {
        return Ok(None);
    }
    identity_file::new_passphrase(passphrase_file, &out.display().to_string()).map(Some)
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
    if let Some(out) = args.out.as_deref() {
        refuse_overwrite(out, args.force)?;
    }
    let secret = identity_file::read(&args.identity, args.passphrase_file.as_deref())?;
    // Each phase shows on a terminal (a registry of a million members takes seconds to load
    // and its tree seconds to build); nothing is drawn when stderr is not a terminal.
    let bar = spinner("loading the registry");
    let registry = workflow::load_registry(&args.registry);
    bar.finish_and_clear();
    let registry = registry?;
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
    if !args.json {
        println!("petition:   {}", report::clean(&petition.fields().title));
        println!(
            "id:         {} (compare it with the id the organizers published)",
            petition.id_hex()
        );
    }
    // The keys load (tens of milliseconds on both cores) while the registry's tree is rebuilt
    // and the statement prepared; a key file that does not load is reported first.
    let bar = spinner("building your path in the registry's tree and loading the keys");
    let (prepared, loaded) = rayon::join(
        || workflow::prepare_signature(&request),
        || {
            crate::files::expect_key_dir(&args.keys, "--keys")?;
            keys::load_prover(&args.keys).map_err(anyhow::Error::from)
        },
    );
    bar.finish_and_clear();
    let (manifest, prover) = loaded.with_context(|| format!("keys {}", args.keys.display()))?;
    let prepared = prepared?;
    let keys = workflow::SigningKeys { manifest, prover };
    let bar = spinner("proving");
    let outcome = workflow::prove_signature(prepared, &keys, &mut OsRng);
    bar.finish_and_clear();
    let outcome = outcome?;
    match &args.out {
        Some(out) => {
            // Checked again now that the proof is made (the file may have appeared meanwhile).
            refuse_overwrite(out, args.force)?;
            write_atomic(out, outcome.signature.to_json_pretty().as_bytes(), true)
                .with_context(|| format!("writing {}", out.display()))?;
            if args.json {
                let name = |slots: &[usize]| -> Vec<String> {
                    slots
                        .iter()
                        .map(|&s| report::slot_name(registry.schema(), s))
                        .collect()
                };
                print_json(&serde_json::json!({
                    "petition": petition.id_hex(),
                    "title": petition.fields().title,
                    "signature_file": out.display().to_string(),
                    "checkpoint": outcome.checkpoint,
                    "nullifier": field::to_hex(&outcome.signature.nullifier),
                    "receipt": hex::encode(outcome.signature.receipt()),
                    "disclosed": name(&outcome.signature.mask.slots()),
                    "withheld": name(&outcome.dropped_slots),
                    "anonymity_set": outcome.anonymity_set,
                }))?;
                return Ok(ExitCode::SUCCESS);
            }
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
        "anonymity:  {} at checkpoint {} {} every disclosed value",
        report::plural(outcome.anonymity_set, "member", "members"),
        outcome.checkpoint,
        if outcome.anonymity_set == 1 {
            "shares"
        } else {
            "share"
        }
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
    if let Some(worker) = &args.web_auditor {
        let bytes =
            std::fs::read(worker).with_context(|| format!("--web-auditor {}", worker.display()))?;
        ensure!(
            !bytes.is_empty(),
            "--web-auditor {}: an empty file (build it with `npm run build:web` in verifiers/js)",
            worker.display()
        );
        config.web_auditor = Some(bytes);
    }
    undersign_server::run(config, args.listen)?;
    Ok(ExitCode::SUCCESS)
}

fn registrar_keygen(out: &Path, force: bool, json: bool) -> Result<ExitCode> {
    refuse_overwrite(out, force)?;
    let key = RegistrarKey::generate(&mut OsRng);
    key.to_file(out)
        .with_context(|| format!("writing {}", out.display()))?;
    if json {
        print_json(&serde_json::json!({
            "key_file": out.display().to_string(),
            "public_key": key.public_key().to_hex(),
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "registrar key written to {} (keep it private)",
        out.display()
    );
    println!("public key (publish this): {}", key.public_key().to_hex());
    Ok(ExitCode::SUCCESS)
}

fn registry(cmd: RegistryCommand) -> Result<ExitCode> {
    match cmd {
        RegistryCommand::Init {
            schema,
            depth,
            out,
            force,
        } => {
            refuse_overwrite(&out, force)?;
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
            allow_unset,
            json,
        } => {
            let mut registry = workflow::load_registry(&path)?;
            if let Some(csv) = csv {
                if !allow_unset {
                    warn_missing_columns(&csv, registry.schema());
                }
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
                if json {
                    print_json(&serde_json::json!({
                        "added": added,
                        "positions": registry.len(),
                    }))?;
                } else {
                    println!(
                        "added {}; the registry now has {}",
                        report::plural(added as u64, "member", "members"),
                        report::plural(registry.len(), "position", "positions")
                    );
                }
            } else if let Some(commitment) = commitment {
                let commitment =
                    field::from_hex(&commitment).map_err(|e| anyhow!("--commitment: {e}"))?;
                let attributes = registry.schema().attributes_from_assignments(&attrs)?;
                if !allow_unset {
                    let unset: Vec<&str> = registry
                        .schema()
                        .slots()
                        .iter()
                        .enumerate()
                        .filter(|&(slot, _)| attributes.0[slot] == 0)
                        .map(|(_, s)| s.name.as_str())
                        .collect();
                    if !unset.is_empty() {
                        eprintln!(
                            "warning: no value for {} (left unset); a member whose category is \
                             unset may be alone in their disclosed group. Give --attr for every \
                             category, or pass --allow-unset",
                            unset.join(", ")
                        );
                    }
                }
                let index = registry.add(commitment, attributes)?;
                registry
                    .save(&path)
                    .with_context(|| format!("writing {}", path.display()))?;
                if json {
                    print_json(&serde_json::json!({
                        "added": 1,
                        "position": index,
                        "positions": registry.len(),
                    }))?;
                } else {
                    println!("added member at position {index}");
                }
            }
        }
        RegistryCommand::Remove {
            registry: path,
            index,
            commitment,
            json,
        } => {
            let mut registry = workflow::load_registry(&path)?;
            let index = match (index, commitment) {
                (Some(index), _) => index,
                (None, Some(text)) => {
                    let commitment =
                        field::from_hex(&text).map_err(|e| anyhow!("--commitment: {e}"))?;
                    registry.find(&commitment).ok_or_else(|| {
                        anyhow!("no active member has commitment {text}; nothing removed")
                    })?
                }
                (None, None) => bail!("give --index or --commitment"),
            };
            registry.remove(index)?;
            registry
                .save(&path)
                .with_context(|| format!("writing {}", path.display()))?;
            if json {
                print_json(&serde_json::json!({ "removed_position": index }))?;
            } else {
                println!(
                    "removed the member at position {index}; sign a new checkpoint so petitions \
                     can exclude them"
                );
            }
        }
        RegistryCommand::Find {
            registry: path,
            commitment: text,
            json,
        } => {
            let registry = workflow::load_registry(&path)?;
            let commitment = field::from_hex(&text).map_err(|e| anyhow!("--commitment: {e}"))?;
            let Some(index) = registry.find(&commitment) else {
                if json {
                    print_json(&serde_json::json!({ "found": false }))?;
                } else {
                    println!("not found: no active member has this commitment");
                }
                return Ok(ExitCode::from(EXIT_REJECTED));
            };
            let schema = registry.schema();
            let categories: Vec<(String, String)> = registry
                .member(index)
                .map(|member| {
                    schema
                        .slots()
                        .iter()
                        .enumerate()
                        .map(|(slot, s)| {
                            let label = match member.attributes.0[slot] {
                                0 => "unset".to_owned(),
                                c => schema
                                    .label(slot, c)
                                    .map(str::to_owned)
                                    .unwrap_or_else(|| format!("code {c}")),
                            };
                            (s.name.clone(), label)
                        })
                        .collect()
                })
                .unwrap_or_default();
            if json {
                let categories: serde_json::Map<String, serde_json::Value> = categories
                    .into_iter()
                    .map(|(name, label)| (name, label.into()))
                    .collect();
                print_json(&serde_json::json!({
                    "found": true,
                    "position": index,
                    "categories": categories,
                }))?;
            } else {
                println!("position:   {index}");
                for (name, label) in categories {
                    println!("{:<11} {label}", format!("{name}:"));
                }
            }
        }
        RegistryCommand::Checkpoint {
            registry: path,
            key,
            unchanged,
            json,
        } => {
            let mut registry = workflow::load_registry(&path)?;
            let key = RegistrarKey::from_file(&key)
                .with_context(|| format!("registrar key {}", key.display()))?;
            if let Some(latest) = registry.latest_checkpoint() {
                let signed = registry.checkpoints().len() as u64;
                let removed_since = registry
                    .tombstones()
                    .values()
                    .any(|t| t.removed_at == signed);
                if latest.size == registry.len() && !removed_since && !unchanged {
                    if json {
                        print_json(&serde_json::json!({
                            "signed": false,
                            "sequence": latest.sequence,
                        }))?;
                    } else {
                        println!(
                            "nothing changed since checkpoint {} (no member added or removed): \
                             no checkpoint signed. Pass --unchanged to sign one anyway.",
                            latest.sequence
                        );
                    }
                    return Ok(ExitCode::SUCCESS);
                }
            }
            let bar = spinner("building the tree");
            let checkpoint = registry.checkpoint(&key, workflow::now());
            bar.finish_and_clear();
            let checkpoint = checkpoint?.clone();
            registry
                .save(&path)
                .with_context(|| format!("writing {}", path.display()))?;
            if json {
                print_json(&serde_json::json!({
                    "signed": true,
                    "sequence": checkpoint.sequence,
                    "size": checkpoint.size,
                    "removed": checkpoint.removed,
                    "removed_since_previous": checkpoint.removed_since_previous,
                    "root": field::to_hex(&checkpoint.root),
                    "hash": hex::encode(checkpoint.hash()),
                }))?;
            } else {
                println!(
                    "checkpoint {} signed: {}, root {}",
                    checkpoint.sequence,
                    report::plural(checkpoint.size, "position", "positions"),
                    field::to_hex(&checkpoint.root)
                );
            }
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
    (out, force, json): (&Path, bool, bool),
) -> Result<ExitCode> {
    refuse_overwrite(out, force)?;
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
    let (manifest, verifier) = load_verifier(keys_dir)?;
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
    if json {
        print_json(&serde_json::json!({
            "petition": petition.id_hex(),
            "file": out.display().to_string(),
            "registry": hex::encode(registry.id()),
            "min_checkpoint": min_checkpoint,
            "max_checkpoint": max_checkpoint,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
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
    (out, force, json): (&Path, bool, bool),
    signatures: &[std::path::PathBuf],
) -> Result<ExitCode> {
    refuse_input_as_output(out, signatures.iter().map(|p| p.as_path()))?;
    refuse_overwrite(out, force)?;
    let petition = workflow::load_petition(petition)?;
    let registry = workflow::load_registry(registry)?;
    let (_, verifier) = load_verifier(keys_dir)?;
    // Read on all cores: 100,000 small files cost seconds of system time.
    let inputs = signatures
        .par_iter()
        .map(|path| {
            let bytes = std::fs::read(path)
                .with_context(|| format!("reading signature {}", path.display()))?;
            Ok((path.display().to_string(), bytes))
        })
        .collect::<Result<Vec<_>>>()?;
    let bar = spinner(&format!(
        "checking {}",
        report::plural(inputs.len() as u64, "signature", "signatures")
    ));
    let outcome = workflow::build_bundle(&petition, &registry, verifier, inputs, out);
    bar.finish_and_clear();
    let outcome = outcome?;
    let kept = outcome.accepted.len() as u64;
    let code = if kept == 0 {
        ExitCode::from(EXIT_REJECTED)
    } else {
        ExitCode::SUCCESS
    };
    if json {
        print_json(&serde_json::json!({
            "bundle": (kept > 0).then(|| out.display().to_string()),
            "kept": kept,
            "dropped": outcome.dropped,
        }))?;
        return Ok(code);
    }
    if kept == 0 {
        println!(
            "no valid signature among {}: no bundle written",
            report::plural(outcome.dropped.len() as u64, "input", "inputs")
        );
    } else {
        println!(
            "bundle written to {}: {}",
            out.display(),
            report::plural(kept, "signature", "signatures")
        );
    }
    if !outcome.dropped.is_empty() {
        println!("dropped {}:", outcome.dropped.len());
        for d in &outcome.dropped {
            println!("  {}: {}", d.source, report::clean(&d.reason));
        }
    }
    Ok(code)
}

fn verify(args: VerifyArgs) -> Result<ExitCode> {
    let petition = workflow::load_petition(&args.petition)?;
    let registry = workflow::load_registry(&args.registry)?;
    let (_, verifier) = load_verifier(&args.keys)?;
    let bytes = std::fs::read(&args.signature)
        .with_context(|| format!("reading {}", args.signature.display()))?;
    let checker = workflow::checker(&petition, &registry, verifier)?;
    let verdict = checker.check_bytes(&bytes);
    if args.json {
        if let Err(undersign_tally::check::Rejection::Malformed(_)) = &verdict {
            // Unreadable: the text error below (exit 2).
        } else {
            let value = match &verdict {
                Ok((signature, sequence)) => serde_json::json!({
                    "valid": true,
                    "petition": petition.id_hex(),
                    "checkpoint": sequence,
                    "nullifier": field::to_hex(&signature.nullifier),
                    "receipt": hex::encode(signature.receipt()),
                }),
                Err(rejection) => serde_json::json!({
                    "valid": false,
                    "code": rejection.code(),
                    "reason": rejection.to_string(),
                }),
            };
            print_json(&value)?;
            return Ok(if verdict.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_REJECTED)
            });
        }
    }
    match verdict {
        Ok((signature, sequence)) => {
            println!(
                "valid: signs {:?} with a root from checkpoint {sequence}",
                petition.fields().title
            );
            println!("nullifier: {}", field::to_hex(&signature.nullifier));
            Ok(ExitCode::SUCCESS)
        }
        Err(undersign_tally::check::Rejection::Malformed(e)) => {
            crate::files::refuse_other_kind(
                &args.signature,
                &bytes,
                undersign_tally::signature::KIND,
                "SIGNATURE",
            )?;
            bail!("{}: {e}", args.signature.display())
        }
        Err(rejection) => {
            println!("INVALID: {rejection}");
            Ok(ExitCode::from(EXIT_REJECTED))
        }
    }
}

fn audit(args: AuditArgs) -> Result<ExitCode> {
    // Usage errors (exit 2) before the bundle is read (`SPEC.md` §15.5).
    let registrar_key = registrar_key_arg(&args.registrar_key)?;
    let mut pinned_vk_hash = args
        .vk_hash
        .as_deref()
        .map(|text| hex_arg("--vk-hash", text))
        .transpose()?;
    if let Some(dir) = &args.ceremony {
        match ceremony::audit_pin(dir, pinned_vk_hash.as_deref(), args.json)? {
            Ok(hash) => pinned_vk_hash = Some(hash),
            Err(code) => return Ok(code),
        }
    }
    let options = AuditOptions {
        registrar_key,
        pinned_vk_hash,
        verifier: if args.reference {
            undersign_tally::check::VerifierMode::Reference
        } else {
            undersign_tally::check::VerifierMode::Fast
        },
    };
    let registry = args
        .registry
        .as_deref()
        .map(workflow::load_registry)
        .transpose()?;
    // The total is what the header announces (a bundle that lies about it is reported).
    let announced = workflow::announced_signatures(&args.bundle);
    let bar = counter(announced.unwrap_or(0), "auditing");
    let report = workflow::audit_file(&args.bundle, &options, &mut |n| {
        if announced.is_none_or(|total| n > total) {
            bar.set_length(n);
        }
        bar.set_position(n);
    });
    bar.finish_and_clear();
    let mut report = report?;
    name_other_file(&args.bundle, &mut report);
    if let (Some(registry), Some(named)) = (&registry, &report.registry) {
        let id = hex::encode(registry.id());
        if &id != named {
            bail!(
                "--registry is registry {id}, but the bundle's petition names registry {named}: \
                 pass that registry's file to see anonymity sets, or leave --registry out"
            );
        }
    }
    let anonymity = registry
        .as_ref()
        .map(|r| report::anonymity_sets(&report, r));
    if args.json {
        println!("{}", report::to_json(&report, anonymity.as_deref())?);
    } else {
        print!("{}", report::render(&report, anonymity.as_deref()));
    }
    Ok(if report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_REJECTED)
    })
}

/// Warns when a CSV's header lacks a column for some category (its members would have it
/// unset). Reading only the first line; errors are left to the import.
fn warn_missing_columns(csv: &Path, schema: &Schema) {
    let mut first = String::new();
    let read = std::fs::File::open(csv).and_then(|file| {
        std::io::BufRead::read_line(&mut std::io::BufReader::new(file), &mut first)
    });
    if read.is_err() {
        return;
    }
    let header: Vec<&str> = first
        .split(',')
        .map(|c| c.trim().trim_matches('"'))
        .collect();
    let missing: Vec<&str> = schema
        .slots()
        .iter()
        .map(|s| s.name.as_str())
        .filter(|name| !header.contains(name))
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "warning: {} has no column for {}: every member it adds has that category unset, \
             and may be alone in their disclosed group. Add the column, or pass --allow-unset",
            csv.display(),
            missing.join(", ")
        );
    }
}

/// When the "bundle" is another Undersign file (a pretty-printed signature's first line is
/// only `{`), says so in the fatal problem's message (informative text; the code stays
/// `header_malformed`).
fn name_other_file(path: &Path, report: &mut undersign_tally::bundle::AuditReport) {
    let Some(fatal) = report
        .fatal
        .as_mut()
        .filter(|f| f.code == "header_malformed")
    else {
        return;
    };
    let mut head = Vec::new();
    let read = std::fs::File::open(path).and_then(|file| {
        std::io::Read::read_to_end(&mut std::io::Read::take(file, 1 << 20), &mut head)
    });
    if read.is_err() {
        return;
    }
    if let Some(kind) = crate::files::sniff_kind(&head) {
        if let Some(name) = crate::files::kind_name(&kind).filter(|_| kind != "undersign-bundle") {
            fatal.message = format!(
                "{} is {name} ({kind:?} file, not a bundle header): `audit` wants a bundle, \
                 made by `undersign bundle build` or downloaded from the collector",
                path.display()
            );
        }
    }
}

fn bench_data(args: BenchDataArgs) -> Result<ExitCode> {
    crate::ui::refuse_non_empty_dir(&args.out, args.force)?;
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
