//! What the targets check against, made once per process (deterministically, but for the
//! collector's token and the encrypted identity seed's scrypt salt and nonce): development
//! keys at depth 4, a registry of five members with one checkpoint, a petition, one signature
//! with a real proof, a bundle, and (for `http`) a collector holding them. [`seeds`] gives each
//! target's seed corpus from them.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ark_poly::EvaluationDomain;
use axum::body::Body;
use axum::http::{Method, Request};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use tower::ServiceExt;
use undersign_core::attributes::{Attributes, Mask};
use undersign_core::identity::IdentitySecret;
use undersign_core::scope::message;
use undersign_proof::encoding::{verifying_key_to_bytes, ProofBytes};
use undersign_proof::keys::{KeyManifest, KeySet};
use undersign_proof::{Prover, Statement};
use undersign_registry::registrar::{RegistrarKey, RegistrarPublicKey};
use undersign_registry::registry::Registry;
use undersign_registry::schema::Schema;
use undersign_tally::bundle::write_bundle;
use undersign_tally::check::Checker;
use undersign_tally::petition::{PetitionFields, PetitionFile, KIND as PETITION_KIND};
use undersign_tally::signature::Signature;

use crate::Target;

/// The fixture's tree depth (the smallest allowed).
pub const DEPTH: u32 = 4;
/// The development setup's seed.
pub const KEY_SEED: [u8; 32] = [5u8; 32];
/// The passphrase of the fixture's encrypted identity file (and of the `identity` target).
pub const IDENTITY_PASSPHRASE: &str = "correct horse battery staple";
/// The scrypt work factor (log₂ N) the `identity` target accepts at most, and its seed uses.
pub const IDENTITY_WORK_FACTOR: u8 = 4;
const MEMBERS: usize = 5;
const TIME: u64 = 1_800_000_000;

/// The fixture's files and the objects made from them.
pub struct Fixture {
    /// Holds `keys/` (the development keys).
    _dir: tempfile::TempDir,
    /// The development key directory.
    pub keys_dir: PathBuf,
    /// Its `keys.json`.
    pub key_manifest: KeyManifest,
    /// Its `verifying.key` bytes.
    pub verifying_key_bytes: Vec<u8>,
    /// Its `proving.key` bytes.
    pub proving_key_bytes: Vec<u8>,
    /// The registrar's public key.
    pub registrar_key: RegistrarPublicKey,
    /// The registrar's key file (`registrar keygen`).
    pub registrar_key_file: Vec<u8>,
    /// The registry (five members, one checkpoint).
    pub registry: Registry,
    /// Its file.
    pub registry_bytes: Vec<u8>,
    /// The registry's schema file (canonical JSON).
    pub schema_bytes: Vec<u8>,
    /// The registry's one checkpoint, as JSON.
    pub checkpoint_json: Vec<u8>,
    /// The petition.
    pub petition: PetitionFile,
    /// A signature on it with a real proof (pretty JSON, as `sign` writes it).
    pub signature_json: String,
    /// Its proof bytes.
    pub proof: ProofBytes,
    /// A bundle of that signature.
    pub bundle: Vec<u8>,
    /// The petition's checker.
    pub checker: Checker,
}

/// The process's fixture, made on first use (about a second in the test profile).
pub fn get() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(make)
}

fn make() -> Fixture {
    let dir = tempfile::Builder::new()
        .prefix("undersign-fuzz-fixture-")
        .tempdir()
        .expect("a temporary directory");
    let keys_dir = dir.path().join("keys");
    let keyset = KeySet::development(DEPTH, &KEY_SEED).expect("development keys");
    let key_manifest = keyset.write(&keys_dir).expect("writing the keys");
    let read = |name: &str| std::fs::read(keys_dir.join(name)).expect("a key file");
    let verifying_key_bytes = read(&key_manifest.verifying_key.file);
    let proving_key_bytes = read(&key_manifest.proving_key.file);
    let prover = Prover::new(DEPTH, keyset.proving_key).expect("a prover");
    let verifier = prover.verifier().clone();
    assert_eq!(
        verifying_key_to_bytes(verifier.verifying_key()),
        verifying_key_bytes
    );

    let registrar = RegistrarKey::from_secret_bytes(&[7u8; 32]);
    let key_path = dir.path().join("registrar.key");
    registrar
        .to_file(&key_path)
        .expect("the registrar key file");
    let registrar_key_file = std::fs::read(&key_path).expect("the registrar key file");
    let schema = Schema::from_json(
        br#"{"version":1,"kind":"undersign-schema","slots":[
            {"name":"status","labels":{"current":1,"former":2}},
            {"name":"ministry","labels":{"health":1,"justice":2}}]}"#,
    )
    .expect("the fixture schema");
    let schema_bytes = schema.canonical_json();
    let mut registry = Registry::new(schema, DEPTH, [9u8; 32]).expect("a registry");
    let attrs = |i: usize| Attributes([1 + (i % 2) as u16, 1 + (i / 2 % 2) as u16, 0, 0]);
    let secrets: Vec<IdentitySecret> = (0..MEMBERS as u8)
        .map(|i| IdentitySecret::from_bytes([i + 1; 32]))
        .collect();
    for (i, secret) in secrets.iter().enumerate() {
        registry
            .add(secret.commitment(), attrs(i))
            .expect("adding a member");
    }
    registry.checkpoint(&registrar, TIME).expect("a checkpoint");
    let registry_bytes = registry.to_json();
    let latest = registry
        .latest_checkpoint()
        .expect("the checkpoint")
        .clone();
    let checkpoint_json = serde_json::to_vec_pretty(&latest).expect("checkpoint JSON");

    let petition = PetitionFile::create(PetitionFields {
        version: 1,
        kind: PETITION_KIND.into(),
        title: "Fuzzing fixture".into(),
        text: "We ask that every parser be fuzzed.".into(),
        registry: hex::encode(registry.id()),
        registrar_key: latest.public_key.to_hex(),
        verifying_key: verifier.key_hash().to_owned(),
        proving_key: key_manifest.proving_key.blake3.clone(),
        disclose: vec![0, 1],
        min_checkpoint: 0,
        min_checkpoint_hash: hex::encode(latest.hash()),
        max_checkpoint: None,
        nonce: hex::encode([3u8; 32]),
    })
    .expect("the fixture petition");

    let tree = registry.tree().expect("the tree");
    let mask = Mask::from_slots(&[0]).expect("a mask");
    let comment = "fuzz";
    let statement = Statement::new(
        secrets[0].sk(),
        &attrs(0),
        &tree.path(0).expect("a path"),
        latest.root,
        petition.scope(),
        message(Some(comment)),
        mask,
    );
    let proof = prover
        .prove(&statement, &mut ChaCha20Rng::seed_from_u64(1))
        .expect("a proof");
    let proof = ProofBytes::encode(&proof).expect("proof bytes");
    let signature = Signature {
        petition: petition.id(),
        root: latest.root,
        nullifier: statement.public.nullifier,
        mask,
        disclosed: attrs(0).disclose(mask),
        comment: Some(comment.into()),
        proof,
    };
    let checker = Checker::new(petition.clone(), registry.checkpoints(), verifier.clone());
    assert!(
        checker.check(&signature).is_ok(),
        "the fixture signature is valid"
    );
    let mut bundle = Vec::new();
    write_bundle(
        &mut bundle,
        &petition,
        registry.schema(),
        registry.checkpoints(),
        &verifier,
        std::slice::from_ref(&signature),
    )
    .expect("the fixture bundle");
    Fixture {
        _dir: dir,
        keys_dir,
        key_manifest,
        verifying_key_bytes,
        proving_key_bytes,
        registrar_key: registrar.public_key(),
        registrar_key_file,
        registry_bytes,
        registry,
        schema_bytes,
        checkpoint_json,
        signature_json: signature.to_json_pretty(),
        proof,
        bundle,
        checker,
        petition,
    }
}

/// A collector with the fixture's keys, registry and petition, one per process.
pub struct Collector {
    runtime: tokio::runtime::Runtime,
    /// Keeps the writer thread running.
    server: undersign_server::Server,
    _data: tempfile::TempDir,
    token: String,
    registry_id: String,
    petition_id: String,
}

impl Collector {
    /// Sends `request` through the router and returns the response's status.
    pub fn send(&self, request: Request<Body>) -> u16 {
        let router = self.server.router();
        self.runtime.block_on(async move {
            match router.oneshot(request).await {
                Ok(response) => {
                    // Read the body too: a streamed body can fail after the status.
                    let status = response.status().as_u16();
                    let _ = axum::body::to_bytes(response.into_body(), 64 << 20).await;
                    status
                }
                Err(never) => match never {},
            }
        })
    }

    fn authorized(&self, builder: axum::http::request::Builder) -> axum::http::request::Builder {
        builder.header("authorization", format!("Bearer {}", self.token))
    }
}

/// The process's collector, made on first use: the fixture's registry and petition are put in
/// with the organizer's token.
pub fn collector() -> &'static Collector {
    static COLLECTOR: OnceLock<Collector> = OnceLock::new();
    COLLECTOR.get_or_init(|| {
        let fixture = get();
        let data = tempfile::Builder::new()
            .prefix("undersign-fuzz-collector-")
            .tempdir()
            .expect("a temporary directory");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let config = undersign_server::Config::new(
            data.path().join("collector"),
            vec![fixture.keys_dir.clone()],
        );
        let server = {
            let _entered = runtime.enter();
            undersign_server::Server::open(config).expect("the collector opens")
        };
        let token = std::fs::read_to_string(server.token_path())
            .expect("the token")
            .trim()
            .to_owned();
        let collector = Collector {
            runtime,
            server,
            _data: data,
            token,
            registry_id: hex::encode(fixture.registry.id()),
            petition_id: fixture.petition.id_hex(),
        };
        for (method, uri, body) in [
            (
                Method::PUT,
                format!("/v1/registries/{}", collector.registry_id),
                fixture.registry_bytes.clone(),
            ),
            (
                Method::POST,
                "/v1/petitions".to_owned(),
                fixture.petition.bytes().to_vec(),
            ),
        ] {
            let request = collector
                .authorized(Request::builder().method(method).uri(&uri))
                .body(Body::from(body))
                .expect("a request");
            let status = collector.send(request);
            assert!(
                status < 300,
                "setting up the collector: {uri} gave {status}"
            );
        }
        collector
    })
}

/// The request an `http` input stands for. Its first byte chooses the route:
/// 0 `PUT /v1/registries/{fixture registry}`, 1 `POST /v1/petitions`, 2 `POST
/// /v1/petitions/{fixture petition}/signatures` (each with the rest as body; 0 and 1 with the
/// organizer's token), 3 `GET .../tally`, 4 `POST .../publish` (with the token), 5 any: the
/// second byte picks the method, the third whether the token is sent, then the path up to the
/// first newline and the body after it. `None` when the input makes no request: an invalid
/// path, or one that closes a petition (a closed fixture petition would refuse every later
/// signature unread, leaving the rest of a run blind).
///
/// The collector keeps its state from one input to the next, as a real one does: a stored
/// signature makes a copy of it a `409` before verification, and petitions put by route 1
/// accumulate. A finding that depends on earlier inputs may not reproduce from its one input;
/// `cargo fuzz run http` with the whole corpus directory does.
pub fn http_request(collector: &Collector, data: &[u8]) -> Option<Request<Body>> {
    let (&route, rest) = data.split_first()?;
    let petition = &collector.petition_id;
    let body = Body::from(rest.to_vec());
    let request = match route % 6 {
        0 => collector
            .authorized(Request::put(format!(
                "/v1/registries/{}",
                collector.registry_id
            )))
            .body(body),
        1 => collector
            .authorized(Request::post("/v1/petitions"))
            .body(body),
        2 => Request::post(format!("/v1/petitions/{petition}/signatures")).body(body),
        3 => Request::get(format!("/v1/petitions/{petition}/tally")).body(Body::empty()),
        4 => collector
            .authorized(Request::post(format!("/v1/petitions/{petition}/publish")))
            .body(Body::empty()),
        _ => {
            let (&method, rest) = rest.split_first()?;
            let (&token, rest) = rest.split_first()?;
            let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let path = std::str::from_utf8(&rest[..end]).ok()?;
            let uri: axum::http::Uri = path.parse().ok()?;
            if uri.path().trim_end_matches('/').ends_with("/close") {
                return None;
            }
            uri.path_and_query()?;
            let method = [Method::GET, Method::POST, Method::PUT, Method::DELETE]
                [usize::from(method % 4)]
            .clone();
            let builder = Request::builder().method(method).uri(uri);
            let builder = if token % 2 == 1 {
                collector.authorized(builder)
            } else {
                builder
            };
            builder.body(Body::from(rest[(end + 1).min(rest.len())..].to_vec()))
        }
    };
    request.ok()
}

/// The seed corpus of `target`: the fixture's files, in the form the target takes.
pub fn seeds(target: Target) -> Vec<Vec<u8>> {
    let f = get();
    let with = |selector: u8, body: &[u8]| [&[selector][..], body].concat();
    let header_line = f.bundle.split(|&b| b == b'\n').next().unwrap_or_default();
    let signature_line = f.bundle.split(|&b| b == b'\n').nth(1).unwrap_or_default();
    match target {
        Target::Signature => vec![
            f.signature_json.as_bytes().to_vec(),
            signature_line.to_vec(),
        ],
        Target::BundleLine => vec![signature_line.to_vec()],
        Target::Bundle => vec![f.bundle.clone(), header_line.to_vec()],
        Target::Registry => vec![f.registry_bytes.clone()],
        Target::Csv => vec![format!(
            "commitment,status,ministry\n{},current,health\n{},2,justice\n",
            undersign_core::field::to_hex(&IdentitySecret::from_bytes([40; 32]).commitment()),
            undersign_core::field::to_hex(&IdentitySecret::from_bytes([41; 32]).commitment())
        )
        .into_bytes()],
        Target::RegistrarKey => vec![
            f.registrar_key_file.clone(),
            f.registrar_key.to_hex().into_bytes(),
            serde_json::to_vec(&f.registrar_key).expect("key JSON"),
        ],
        Target::Petition => vec![f.petition.bytes().to_vec()],
        Target::Schema => vec![f.schema_bytes.clone()],
        Target::Checkpoint => vec![f.checkpoint_json.clone()],
        Target::Keys => vec![
            with(
                0,
                &serde_json::to_vec_pretty(&f.key_manifest).expect("manifest JSON"),
            ),
            with(1, &f.verifying_key_bytes),
            with(2, &f.proving_key_bytes),
        ],
        Target::Ceremony => ceremony_seeds(),
        // Made by snarkjs in the seed command (`fuzz-seeds`), when Node.js is there.
        Target::Ptau => Vec::new(),
        Target::Identity => identity_seeds(),
        Target::Http => {
            let petition = f.petition.id_hex();
            vec![
                with(0, &f.registry_bytes),
                with(1, f.petition.bytes()),
                with(2, f.signature_json.as_bytes()),
                vec![3],
                vec![4],
                [
                    &[5u8, 0, 0][..],
                    format!("/petitions/{petition}?lang=be\n").as_bytes(),
                ]
                .concat(),
                [
                    &[5u8, 0, 0][..],
                    format!("/v1/petitions/{petition}/bundle\n").as_bytes(),
                ]
                .concat(),
            ]
        }
        Target::Proof => vec![f.proof.0.to_vec(), f.proof.to_hex().into_bytes()],
    }
}

/// A phase 1 transcript of power 4 with one contribution, and a phase 2 transcript on one of
/// power 11 (the depth-4 circuit's size).
fn ceremony_seeds() -> Vec<Vec<u8>> {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS
        .get_or_init(|| {
            let mut rng = ChaCha20Rng::seed_from_u64(11);
            let mut small = undersign_ceremony::Phase1::new(4).expect("phase 1");
            small.contribute(&mut rng).expect("a contribution");
            let mut seeds = vec![[&[0u8][..], &small.to_bytes()].concat()];
            let shape = undersign_ceremony::phase2::CircuitShape::new(DEPTH).expect("shape");
            let power = shape.domain().expect("domain").log_size_of_group() as u32;
            if let Ok(big) = undersign_ceremony::Phase1::new(power) {
                let hash = *blake3::hash(&big.to_bytes()).as_bytes();
                if let Ok(phase2) = undersign_ceremony::Phase2::new(&big, hash, DEPTH) {
                    seeds.push([&[1u8][..], &phase2.to_bytes()].concat());
                }
            }
            seeds
        })
        .clone()
}

/// A plain identity file and one encrypted with [`IDENTITY_PASSPHRASE`] at the capped work
/// factor.
fn identity_seeds() -> Vec<Vec<u8>> {
    let json = format!(
        "{{\n  \"version\": 1,\n  \"kind\": \"{}\",\n  \"secret\": \"{}\"\n}}",
        undersign_cli::identity_file::KIND,
        hex::encode([1u8; 32])
    )
    .into_bytes();
    let mut recipient = age::scrypt::Recipient::new(age::secrecy::SecretString::from(
        IDENTITY_PASSPHRASE.to_owned(),
    ));
    recipient.set_work_factor(IDENTITY_WORK_FACTOR);
    let encrypted = age::encrypt(&recipient, &json).expect("age encryption");
    vec![json, encrypted]
}

/// Writes every target's seeds under `dir/<target>/seed-<n>`, plus the conformance vectors'
/// bundles (`tests/vectors/bundles`) for `bundle` and their lines for `bundle_line`.
pub fn write_corpus(dir: &Path, vectors: Option<&Path>) -> std::io::Result<usize> {
    let mut written = 0;
    for target in Target::ALL {
        let target_dir = dir.join(target.name());
        std::fs::create_dir_all(&target_dir)?;
        let mut seeds = seeds(target);
        if let (Some(vectors), Target::Bundle | Target::BundleLine) = (vectors, target) {
            for entry in std::fs::read_dir(vectors)? {
                let bytes = std::fs::read(entry?.path())?;
                if bytes.len() > 1 << 20 {
                    continue;
                }
                if target == Target::Bundle {
                    seeds.push(bytes);
                } else {
                    seeds.extend(bytes.split(|&b| b == b'\n').skip(1).map(<[u8]>::to_vec));
                }
            }
        }
        for (n, seed) in seeds.iter().enumerate() {
            std::fs::write(target_dir.join(format!("seed-{n}")), seed)?;
            written += 1;
        }
    }
    Ok(written)
}
