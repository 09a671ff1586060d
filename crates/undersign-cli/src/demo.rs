//! `undersign demo`: the whole story on built-in defaults, using the same operations as the
//! individual commands.

use crate::cli::DemoArgs;
use crate::publish;
use crate::report;
use crate::ui::{counter, spinner};
use crate::workflow::{self, SignRequest};
use anyhow::{bail, Context, Result};
use rand::rngs::OsRng;
use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use std::path::PathBuf;
use std::process::ExitCode;
use undersign_core::atomic::write_atomic;
use undersign_core::attributes::Attributes;
use undersign_core::identity::IdentitySecret;
use undersign_proof::keys::{self, KeySet, DEVELOPMENT_WARNING};
use undersign_registry::registrar::RegistrarKey;
use undersign_registry::registry::Registry;
use undersign_registry::schema::{Schema, SlotSchema};
use undersign_tally::bundle::AuditOptions;
use undersign_tally::petition::{PetitionFields, PetitionFile};

const MINISTRIES: [&str; 12] = [
    "health",
    "education",
    "justice",
    "interior",
    "foreign-affairs",
    "finance",
    "economy",
    "labour",
    "culture",
    "agriculture",
    "transport",
    "emergencies",
];
const RANKS: [&str; 4] = [
    "specialist",
    "senior-specialist",
    "head-of-unit",
    "director",
];
const REGIONS: [&str; 7] = [
    "minsk-city",
    "brest",
    "vitebsk",
    "gomel",
    "grodno",
    "minsk-region",
    "mogilev",
];

fn schema() -> Result<Schema> {
    let slot = |name: &str, labels: &[&str]| SlotSchema {
        name: name.to_owned(),
        labels: labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.to_string(), i as u16 + 1))
            .collect(),
    };
    Ok(Schema::new(vec![
        slot("status", &["current", "former"]),
        slot("ministry", &MINISTRIES),
        slot("rank", &RANKS),
        slot("region", &REGIONS),
    ])?)
}

/// Draws an index with the given relative weights.
fn weighted(rng: &mut impl Rng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut x = rng.gen_range(0..total);
    for (i, &w) in weights.iter().enumerate() {
        if x < w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// Runs the demo.
pub fn run(args: DemoArgs) -> Result<ExitCode> {
    if args.signers > args.members {
        bail!(
            "--signers ({}) cannot exceed --members ({})",
            args.signers,
            args.members
        );
    }
    if args.members as u64 > 1u64 << args.depth.min(63) {
        bail!(
            "--members {} do not fit a depth-{} tree",
            args.members,
            args.depth
        );
    }
    let dir = match &args.dir {
        Some(d) => {
            crate::ui::refuse_non_empty_dir(d, args.force)?;
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            d.clone()
        }
        None => tempfile::Builder::new()
            .prefix("undersign-demo-")
            .tempdir()?
            .keep(),
    };
    let sig_dir = dir.join("signatures");
    std::fs::create_dir_all(&sig_dir)?;
    println!(
        "Undersign demo: {} members, {} signers, depth {}; files in {}\n",
        args.members,
        args.signers,
        args.depth,
        dir.display()
    );
    let mut rng = ChaCha20Rng::from_rng(OsRng)?;

    // 1. Keys (development setup).
    println!("1. Proving keys (development setup). {DEVELOPMENT_WARNING}.");
    let mut seed = [0u8; 32];
    rng.fill_bytes(&mut seed);
    let bar = spinner("   generating keys");
    let keyset = KeySet::development(args.depth, &seed)?;
    let keys_dir = dir.join("keys");
    let manifest = keyset.write(&keys_dir)?;
    bar.finish_and_clear();
    println!(
        "   {} constraints; verifying key {}",
        manifest.constraints, manifest.verifying_key.blake3
    );

    // 2. The registrar verifies members once and registers commitments with categories.
    let registrar = RegistrarKey::generate(&mut OsRng);
    registrar.to_file(&dir.join("registrar.key"))?;
    let schema = schema()?;
    schema.save(&dir.join("schema.json"))?;
    let mut id = [0u8; 32];
    rng.fill_bytes(&mut id);
    let mut registry = Registry::new(schema, args.depth, id)?;
    let bar = counter(args.members as u64, "2. registering members");
    let mut secrets = Vec::with_capacity(args.members);
    for _ in 0..args.members {
        let secret = IdentitySecret::from_bytes(rng.gen());
        let status = if rng.gen_bool(0.76) { 1 } else { 2 };
        let ministry = weighted(&mut rng, &[20, 25, 12, 18, 5, 8, 7, 6, 4, 9, 6, 10]) as u16 + 1;
        let rank = weighted(&mut rng, &[50, 30, 15, 5]) as u16 + 1;
        let region = weighted(&mut rng, &[30, 12, 11, 13, 10, 14, 10]) as u16 + 1;
        registry.add(
            secret.commitment(),
            Attributes([status, ministry, rank, region]),
        )?;
        secrets.push(secret);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let checkpoint = registry.checkpoint(&registrar, workflow::now())?.clone();
    let registry_path = dir.join("registry.json");
    registry.save(&registry_path)?;
    println!(
        "2. Registrar registered {} members (commitments and category codes only, no names)",
        args.members
    );
    println!(
        "   and signed checkpoint {} (root {}).",
        checkpoint.sequence,
        undersign_core::field::to_hex(&checkpoint.root)
    );
    println!(
        "   Registrar public key: {}",
        registrar.public_key().to_hex()
    );

    // 3. The organizer opens a petition that lets signers disclose status and ministry.
    let mut nonce = [0u8; 32];
    rng.fill_bytes(&mut nonce);
    let petition = PetitionFile::create(PetitionFields {
        version: 1,
        kind: undersign_tally::petition::KIND.into(),
        title: "Open letter: stop the violence".into(),
        text: "We, civil servants, demand an immediate end to violence against peaceful citizens."
            .into(),
        registry: hex::encode(registry.id()),
        registrar_key: registrar.public_key().to_hex(),
        verifying_key: manifest.verifying_key.blake3.clone(),
        proving_key: manifest.proving_key.blake3.clone(),
        disclose: vec![0, 1],
        min_checkpoint: checkpoint.sequence,
        min_checkpoint_hash: hex::encode(checkpoint.hash()),
        max_checkpoint: Some(checkpoint.sequence),
        nonce: hex::encode(nonce),
    })?;
    write_atomic(&dir.join("petition.json"), petition.bytes(), false)?;
    println!(
        "3. Organizer opened petition {} (signers may disclose status and ministry).",
        petition.id_hex()
    );

    // 4. Signers prove membership locally; some try to sign twice.
    let (loaded_manifest, prover) = keys::load_prover(&keys_dir)?;
    let signing_keys = workflow::SigningKeys {
        manifest: loaded_manifest,
        prover,
    };
    let prover = &signing_keys.prover;
    let mut order: Vec<usize> = (0..args.members).collect();
    order.shuffle(&mut rng);
    let signers = &order[..args.signers];
    let twice: Vec<usize> = signers
        .iter()
        .copied()
        .take(args.signers.div_ceil(20))
        .collect();
    let jobs: Vec<(usize, Option<String>)> = signers
        .iter()
        .map(|&m| (m, None))
        .chain(twice.iter().map(|&m| (m, Some("signing again".to_owned()))))
        .collect();
    let bar = counter(jobs.len() as u64, "4. signers proving");
    let results: Vec<Result<(usize, workflow::SignOutcome)>> = jobs
        .par_iter()
        .enumerate()
        .map(|(n, (member, comment))| {
            let request = SignRequest {
                secret: &secrets[*member],
                registry: &registry,
                petition: &petition,
                comment: comment.clone(),
                disclose: None,
                min_anonymity: 20,
                accept_small_anonymity_set: false,
            };
            let outcome = workflow::sign(&request, &signing_keys, &mut OsRng);
            bar.inc(1);
            outcome.map(|o| (n, o)).map_err(anyhow::Error::from)
        })
        .collect();
    bar.finish_and_clear();
    let mut withheld = 0;
    let mut files = Vec::new();
    for result in results {
        let (n, outcome) = result?;
        if !outcome.dropped_slots.is_empty() {
            withheld += 1;
        }
        let path: PathBuf = sig_dir.join(format!("{n:05}.json"));
        let text = outcome.signature.to_json_pretty();
        write_atomic(&path, text.as_bytes(), false)?;
        files.push((path.display().to_string(), text.into_bytes()));
    }
    println!(
        "4. {} signers proved membership locally ({} tried to sign a second time; {} withheld their ministry\n   because too few members share it).",
        args.signers,
        twice.len(),
        withheld
    );

    // 5. The organizer collects signatures into a bundle.
    let bundle_path = dir.join("bundle.jsonl");
    let outcome = workflow::build_bundle(
        &petition,
        &registry,
        prover.verifier().clone(),
        files,
        &bundle_path,
    )?;
    println!(
        "5. Organizer built the bundle: {} signatures kept, {} dropped (duplicates).",
        outcome.accepted.len(),
        outcome.dropped.len()
    );

    // 6. Anyone audits the bundle with only the registrar's public key.
    let options = AuditOptions {
        registrar_key: registrar.public_key(),
        pinned_vk_hash: Some(manifest.verifying_key.blake3.clone()),
        verifier: Default::default(),
    };
    let audit = workflow::audit_file(&bundle_path, &options, &mut |_| {})?;
    let anonymity = report::anonymity_sets(&audit, &registry);
    println!(
        "6. An auditor checks the bundle (undersign audit {} --registrar-key {} --registry {}):\n",
        bundle_path.display(),
        registrar.public_key().to_hex(),
        registry_path.display()
    );
    print!("{}", report::render(&audit, Some(&anonymity)));
    let expected = args.signers as u64;
    if audit.count != expected {
        bail!(
            "demo tally {} differs from the {} distinct signers",
            audit.count,
            expected
        );
    }

    // 7. The organizer publishes the tally page as a static site.
    let site = dir.join("site");
    let request = publish::SiteRequest {
        bundle: &bundle_path,
        options: AuditOptions {
            registrar_key: registrar.public_key(),
            pinned_vk_hash: Some(manifest.verifying_key.blake3.clone()),
            verifier: Default::default(),
        },
        registry: Some((&registry, &registry_path)),
        ceremony: None,
        web_auditor: None,
        langs: &undersign_page::LANGS,
        out: &site,
        force: true,
    };
    match publish::write_site(&request)? {
        publish::SiteOutcome::Published { index, .. } => println!(
            "\n7. Organizer published the tally page (no JavaScript, nothing from other hosts;\n   \
             English, Belarusian, Russian) with the bundle and the files to check it:\n   {}",
            index.display()
        ),
        publish::SiteOutcome::Refused(_) => bail!("the demo bundle does not audit fully valid"),
    }
    Ok(ExitCode::SUCCESS)
}
