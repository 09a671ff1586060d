//! The collector (`undersign serve`, `SPEC.md` §16) end to end, against real server processes
//! on loopback: concurrent duplicates, 1,000 signatures from parallel clients audited against
//! `/tally`, SIGKILL in the middle of a load, and hostile bodies.
//!
//! The fixture makes 1,000 signatures once (depth 10, deterministic RNGs): 64 with real proofs,
//! the rest with proofs simulated from the development keys' trapdoor, which verify exactly like
//! real ones. Each test starts its own server on its own data directory and port.
//!
//! `cargo test --release --test server -- --ignored --nocapture` runs the load measurement.

use ark_bn254::Fr;
use ark_ec::CurveGroup;
use ark_ff::UniformRand;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Mutex, OnceLock};
use std::time::{Duration, Instant};
use undersign::core::attributes::{Attributes, Mask};
use undersign::core::field;
use undersign::core::identity::IdentitySecret;
use undersign::core::scope::message;
use undersign::proof::encoding::ProofBytes;
use undersign::proof::keys::KeySet;
use undersign::proof::{Prover, Statement};
use undersign::registry::registrar::RegistrarKey;
use undersign::registry::registry::Registry;
use undersign::registry::schema::Schema;
use undersign::tally::petition::{PetitionFields, PetitionFile};
use undersign::tally::signature::Signature;
use undersign_bench_data::Trapdoor;

const DEPTH: u32 = 10;
const MEMBERS: usize = 1000;
/// How many of the members' signatures carry real proofs; the rest are simulated.
const REAL_PROOFS: usize = 64;
/// The development setup's seed.
const KEY_SEED: [u8; 32] = [5u8; 32];
const TIME: u64 = 1_800_000_000;

struct Fixture {
    dir: PathBuf,
    registry: Registry,
    registry_bytes: Vec<u8>,
    registrar_pub: String,
    petition: PetitionFile,
    /// A petition that allows disclosing only slot 0 (status).
    narrow: PetitionFile,
    /// Signature files (pretty JSON) on `petition`, one per member.
    signatures: Vec<String>,
}

impl Fixture {
    fn registry_id(&self) -> String {
        hex::encode(self.registry.id())
    }
}

fn attrs(i: usize) -> Attributes {
    Attributes([1 + (i % 2) as u16, 1 + (i / 2 % 2) as u16, 0, 0])
}

fn secret(i: usize) -> IdentitySecret {
    let mut rng = ChaCha20Rng::seed_from_u64(1_000_000 + i as u64);
    IdentitySecret::from_bytes(rng.gen())
}

/// A petition on `registry` naming the keys `(verifying key hash, proving key hash)`.
fn make_petition(
    registry: &Registry,
    (vk_hash, pk_hash): (&str, &str),
    disclose: Vec<u64>,
    nonce: u8,
) -> PetitionFile {
    let latest = registry.latest_checkpoint().unwrap();
    PetitionFile::create(PetitionFields {
        version: 1,
        kind: undersign::tally::petition::KIND.into(),
        title: format!("Collector test petition {nonce}"),
        text: "We, civil servants, ask for a collector that loses nothing.".into(),
        registry: hex::encode(registry.id()),
        registrar_key: latest.public_key.to_hex(),
        verifying_key: vk_hash.into(),
        proving_key: pk_hash.into(),
        disclose,
        min_checkpoint: 0,
        min_checkpoint_hash: hex::encode(registry.checkpoints()[0].hash()),
        // Open-ended, so the roots of checkpoints added by a registry replacement count.
        max_checkpoint: None,
        nonce: hex::encode([nonce; 32]),
    })
    .unwrap()
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let started = Instant::now();
        let dir = tempfile::Builder::new()
            .prefix("undersign-server-test-")
            .tempdir()
            .unwrap()
            .keep();
        let keyset = KeySet::development(DEPTH, &KEY_SEED).unwrap();
        let manifest = keyset.write(&dir.join("keys")).unwrap();
        let pk_hash = manifest.proving_key.blake3;
        let prover = Prover::new(DEPTH, keyset.proving_key).unwrap();
        let vk_hash = prover.verifier().key_hash().to_owned();
        let registrar = RegistrarKey::from_secret_bytes(&[7u8; 32]);
        let schema = Schema::from_json(
            br#"{"version":1,"kind":"undersign-schema","slots":[
                {"name":"status","labels":{"current":1,"former":2}},
                {"name":"ministry","labels":{"health":1,"justice":2}}]}"#,
        )
        .unwrap();
        let mut registry = Registry::new(schema, DEPTH, [9u8; 32]).unwrap();
        let secrets: Vec<IdentitySecret> = (0..MEMBERS).map(secret).collect();
        for (i, s) in secrets.iter().enumerate() {
            registry.add(s.commitment(), attrs(i)).unwrap();
        }
        registry.checkpoint(&registrar, TIME).unwrap();
        let registry_bytes = registry.to_json();
        std::fs::write(dir.join("registry.json"), &registry_bytes).unwrap();
        let petition = make_petition(&registry, (&vk_hash, &pk_hash), vec![0, 1], 1);
        let narrow = make_petition(&registry, (&vk_hash, &pk_hash), vec![0], 2);
        std::fs::write(dir.join("petition.json"), petition.bytes()).unwrap();
        let tree = registry.tree().unwrap();
        let root = registry.latest_checkpoint().unwrap().root;
        // Real proofs cost about 0.2 s each in the test profile on this project's 2-core
        // machine. The first REAL_PROOFS members prove for real; the others get proofs
        // simulated with the development setup's trapdoor (SPEC §9, "Benchmark data"): valid
        // Groth16 proofs under these development keys, checked by the server exactly like real
        // ones, at a fraction of the cost.
        let trapdoor = Trapdoor::recover(&KEY_SEED, prover.verifier().verifying_key()).unwrap();
        // Proving at the test profile's opt-level needs more stack than rayon's default.
        let pool = rayon::ThreadPoolBuilder::new()
            .stack_size(64 << 20)
            .build()
            .unwrap();
        let signatures: Vec<String> = pool.install(|| {
            (0..MEMBERS)
                .into_par_iter()
                .map(|i| {
                    let mut rng = ChaCha20Rng::seed_from_u64(i as u64);
                    let mask = match i % 3 {
                        0 => Mask::NONE,
                        1 => Mask::from_slots(&[0]).unwrap(),
                        _ => Mask::from_slots(&[0, 1]).unwrap(),
                    };
                    let statement = Statement::new(
                        secrets[i].sk(),
                        &attrs(i),
                        &tree.path(i as u64).unwrap(),
                        root,
                        petition.scope(),
                        message(None),
                        mask,
                    );
                    let proof = if i < REAL_PROOFS {
                        prover.prove(&statement, &mut rng).unwrap()
                    } else {
                        let vk = prover.verifier().verifying_key();
                        let (a, b) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
                        let b_point = (trapdoor.g2() * b).into_affine();
                        trapdoor.simulate(vk, &statement.public, a, b, b_point)
                    };
                    Signature {
                        petition: petition.id(),
                        root,
                        nullifier: statement.public.nullifier,
                        mask,
                        disclosed: attrs(i).disclose(mask),
                        comment: None,
                        proof: ProofBytes::encode(&proof).unwrap(),
                    }
                    .to_json_pretty()
                })
                .collect()
        });
        eprintln!(
            "fixture: keys, registry and {MEMBERS} proofs ({REAL_PROOFS} real) at depth {DEPTH} in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Fixture {
            dir,
            registrar_pub: registrar.public_key().to_hex(),
            registry,
            registry_bytes,
            petition,
            narrow,
            signatures,
        }
    })
}

/// A running `undersign serve` process, killed when dropped.
struct Server {
    child: Child,
    base: String,
    data: PathBuf,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    fn start(data: &Path, keys: Option<&Path>) -> Self {
        Self::start_with(data, keys, &[])
    }

    /// Starts `undersign serve` with `extra` arguments (e.g. the publication options).
    fn start_with(data: &Path, keys: Option<&Path>, extra: &[&str]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_undersign"));
        cmd.args(["serve", "--data"])
            .arg(data)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra);
        if let Some(keys) = keys {
            cmd.arg("--keys").arg(keys);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn undersign serve");
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stderr);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                sink.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let base = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = line.strip_prefix("undersign collector listening on ") {
                        break addr.trim().to_owned();
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("the server did not start: {}", log.lock().unwrap().as_str());
                }
            }
        };
        Server {
            child,
            base,
            data: data.to_owned(),
            stderr: log,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn token(&self) -> String {
        std::fs::read_to_string(self.data.join("token"))
            .unwrap()
            .trim()
            .to_owned()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A client that opens a new connection per request: the server answers some requests (401,
/// 413) without reading their body and then closes the connection, and a pooled connection
/// reused in that moment fails with `IncompleteMessage` (a race, seen under load).
fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Starts a server on a fresh data directory with the fixture's registry and petitions
/// (default publication schedule: every hour, at least 20).
fn server_with_petition() -> (tempfile::TempDir, Server) {
    server_with_petition_and(&[])
}

/// Like [`server_with_petition`], with `extra` arguments for `undersign serve`.
fn server_with_petition_and(extra: &[&str]) -> (tempfile::TempDir, Server) {
    let f = fixture();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        &data.path().join("collector"),
        Some(&f.dir.join("keys")),
        extra,
    );
    let http = client();
    let token = server.token();
    let put = http
        .put(server.url(&format!("/v1/registries/{}", f.registry_id())))
        .bearer_auth(&token)
        .body(f.registry_bytes.clone())
        .send()
        .unwrap();
    assert_eq!(put.status(), 201, "{}", put.text().unwrap_or_default());
    for petition in [&f.petition, &f.narrow] {
        let post = http
            .post(server.url("/v1/petitions"))
            .bearer_auth(&token)
            .body(petition.bytes().to_vec())
            .send()
            .unwrap();
        assert_eq!(post.status(), 201, "{}", post.text().unwrap_or_default());
        let body: Value = post.json().unwrap();
        assert_eq!(body["id"], petition.id_hex());
    }
    (data, server)
}

fn signatures_url(server: &Server, petition: &PetitionFile) -> String {
    server.url(&format!("/v1/petitions/{}/signatures", petition.id_hex()))
}

fn get_json(url: &str) -> Value {
    let response = client().get(url).send().unwrap();
    assert_eq!(response.status(), 200, "GET {url}");
    response.json().unwrap()
}

/// `POST /v1/petitions/{id}/publish` with the organizer's token: publishes what is pending.
fn publish(server: &Server, petition: &PetitionFile) -> Value {
    let response = client()
        .post(server.url(&format!("/v1/petitions/{}/publish", petition.id_hex())))
        .bearer_auth(server.token())
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().unwrap()
}

fn tally_url(server: &Server, petition: &PetitionFile) -> String {
    server.url(&format!("/v1/petitions/{}/tally", petition.id_hex()))
}

fn get_bundle(server: &Server, petition: &PetitionFile) -> String {
    let response = client()
        .get(server.url(&format!("/v1/petitions/{}/bundle", petition.id_hex())))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().unwrap()
}

/// The nullifier and receipt of every acknowledged submission, plus every status seen.
struct Outcome {
    acknowledged: Vec<(String, String)>,
    statuses: Vec<u16>,
    elapsed: Duration,
}

/// Submits `signatures` from `clients` parallel clients; a client stops at its first
/// connection error (the server may have been killed).
fn submit_all(url: &str, signatures: &[String], clients: usize, acked: &AtomicUsize) -> Outcome {
    let next = AtomicUsize::new(0);
    let acknowledged = Mutex::new(Vec::new());
    let statuses = Mutex::new(Vec::new());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..clients {
            scope.spawn(|| {
                let http = client();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(body) = signatures.get(i) else { break };
                    let Ok(response) = http.post(url).body(body.clone()).send() else {
                        break;
                    };
                    let status = response.status().as_u16();
                    let Ok(json) = response.json::<Value>() else {
                        break;
                    };
                    if status == 201 {
                        acknowledged.lock().unwrap().push((
                            json["nullifier"].as_str().unwrap().to_owned(),
                            json["receipt"].as_str().unwrap().to_owned(),
                        ));
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                    statuses.lock().unwrap().push(status);
                }
            });
        }
    });
    Outcome {
        acknowledged: acknowledged.into_inner().unwrap(),
        statuses: statuses.into_inner().unwrap(),
        elapsed: started.elapsed(),
    }
}

/// Nullifier → receipt (the statement's hash), for every signature line of a bundle.
fn bundle_receipts(bundle: &str) -> Vec<(String, String)> {
    bundle
        .lines()
        .skip(1)
        .map(|line| {
            let signature = Signature::from_json(line.as_bytes()).unwrap();
            (
                field::to_hex(&signature.nullifier),
                hex::encode(signature.receipt()),
            )
        })
        .collect()
}

fn audit_json(bundle: &Path, registrar: &str) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_undersign"))
        .args([
            "audit",
            bundle.to_str().unwrap(),
            "--registrar-key",
            registrar,
            "--json",
        ])
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "audit output is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

/// Signatures verified together (`SPEC.md` §16: one batch for everything queued) answer each
/// submitter alone: valid and invalid proofs of different members, submitted at once, give 201
/// for every valid one and 422 `invalid_proof` for every invalid one.
#[test]
fn valid_and_invalid_proofs_submitted_together_are_each_answered_on_their_own() {
    let f = fixture();
    let (_data, server) = server_with_petition();
    let url = signatures_url(&server, &f.petition);
    // Real proofs (members below REAL_PROOFS) and simulated ones, valid and invalid, mixed.
    let mut submissions: Vec<(String, u16)> = Vec::new();
    for i in (0..48).chain(200..296) {
        if i % 3 == 1 {
            // Member i's statement with member i + 500's proof: it decodes, but does not verify.
            let mut json: Value = serde_json::from_str(&f.signatures[i]).unwrap();
            let other: Value = serde_json::from_str(&f.signatures[i + 500]).unwrap();
            json["proof"] = other["proof"].clone();
            submissions.push((json.to_string(), 422));
        } else {
            submissions.push((f.signatures[i].clone(), 201));
        }
    }
    let barrier = Barrier::new(submissions.len());
    let http = client();
    let results: Vec<(u16, u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = submissions
            .iter()
            .map(|(body, expected)| {
                let (barrier, http, url) = (&barrier, &http, &url);
                scope.spawn(move || {
                    barrier.wait();
                    let response = http.post(url).body(body.clone()).send().unwrap();
                    let status = response.status().as_u16();
                    (*expected, status, response.json::<Value>().unwrap())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (expected, status, body) in &results {
        assert_eq!(status, expected, "{body}");
        if *status == 422 {
            assert_eq!(body["code"], "invalid_proof", "{body}");
        }
    }
    let valid = results.iter().filter(|r| r.0 == 201).count();
    assert_eq!(valid, 96);
    assert_eq!(publish(&server, &f.petition)["added"], valid);
}

#[test]
fn fifty_concurrent_copies_of_one_signature_are_counted_once() {
    let f = fixture();
    let (_data, server) = server_with_petition();
    let url = signatures_url(&server, &f.petition);
    let barrier = Barrier::new(50);
    let http = client();
    let results: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..50)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let response = http
                        .post(&url)
                        .body(f.signatures[0].clone())
                        .send()
                        .unwrap();
                    let status = response.status().as_u16();
                    (status, response.json::<Value>().unwrap())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created: Vec<&Value> = results
        .iter()
        .filter(|r| r.0 == 201)
        .map(|r| &r.1)
        .collect();
    let conflicts: Vec<&Value> = results
        .iter()
        .filter(|r| r.0 == 409)
        .map(|r| &r.1)
        .collect();
    assert_eq!(created.len(), 1, "{results:?}");
    assert_eq!(conflicts.len(), 49, "{results:?}");
    for conflict in conflicts {
        assert_eq!(conflict["code"], "duplicate_nullifier");
        assert_eq!(conflict["field"], "nullifier");
        // The same statement was stored: the conflict carries the original receipt.
        assert_eq!(&conflict["receipt"], created[0]);
    }
    assert_eq!(publish(&server, &f.petition)["added"], 1);
    let tally = get_json(&server.url(&format!("/v1/petitions/{}/tally", f.petition.id_hex())));
    assert_eq!(tally["count"], 1);
    let bundle = get_bundle(&server, &f.petition);
    assert_eq!(bundle.lines().count(), 2);
    assert_eq!(
        bundle_receipts(&bundle)[0].1,
        created[0]["receipt"].as_str().unwrap()
    );
}

#[test]
fn a_thousand_signatures_from_parallel_clients_are_all_counted_and_audit_clean() {
    let f = fixture();
    let (data, server) = server_with_petition();
    let outcome = submit_all(
        &signatures_url(&server, &f.petition),
        &f.signatures,
        16,
        &AtomicUsize::new(0),
    );
    assert_eq!(outcome.statuses.len(), MEMBERS);
    assert!(
        outcome.statuses.iter().all(|&s| s == 201),
        "{:?}",
        outcome.statuses
    );
    eprintln!(
        "accepted {MEMBERS} signatures from 16 clients in {:.2} s: {:.0} signatures/s",
        outcome.elapsed.as_secs_f64(),
        MEMBERS as f64 / outcome.elapsed.as_secs_f64()
    );

    assert_eq!(publish(&server, &f.petition)["count"], MEMBERS);
    let bundle = get_bundle(&server, &f.petition);
    let mut stored = bundle_receipts(&bundle);
    assert_eq!(stored.len(), MEMBERS);
    let in_order = stored.windows(2).all(|w| w[0].0 < w[1].0);
    assert!(in_order, "the bundle is not sorted by nullifier");
    let mut acknowledged = outcome.acknowledged.clone();
    acknowledged.sort();
    stored.sort();
    assert_eq!(
        acknowledged, stored,
        "every receipt names a bundle line's statement"
    );

    // Exactly what the library's bundle writer makes of the same signatures.
    let mut signatures: Vec<Signature> = f
        .signatures
        .iter()
        .map(|s| Signature::from_json(s.as_bytes()).unwrap())
        .collect();
    signatures.sort_by_key(Signature::nullifier_key);
    let (_, verifier) = undersign::proof::keys::load_verifier(&f.dir.join("keys")).unwrap();
    let mut expected = Vec::new();
    undersign::tally::bundle::write_bundle(
        &mut expected,
        &f.petition,
        f.registry.schema(),
        f.registry.checkpoints(),
        &verifier,
        &signatures,
    )
    .unwrap();
    assert!(
        bundle.as_bytes() == expected.as_slice(),
        "bundle differs from write_bundle"
    );

    let path = data.path().join("bundle.jsonl");
    std::fs::write(&path, &bundle).unwrap();
    let (code, audit) = audit_json(&path, &f.registrar_pub);
    assert_eq!(code, 0, "{audit}");
    let tally = get_json(&server.url(&format!("/v1/petitions/{}/tally", f.petition.id_hex())));
    assert_eq!(tally["count"], MEMBERS);
    for key in ["count", "breakdown", "groups"] {
        assert_eq!(tally[key], audit[key], "/tally and audit disagree on {key}");
    }
}

#[test]
fn sigkill_during_a_load_loses_no_acknowledged_signature() {
    let f = fixture();
    let (data, mut server) = server_with_petition();
    let load = &f.signatures[..400];
    let url = signatures_url(&server, &f.petition);
    let acked = AtomicUsize::new(0);
    let outcome = std::thread::scope(|scope| {
        let clients = scope.spawn(|| submit_all(&url, load, 8, &acked));
        let deadline = Instant::now() + Duration::from_secs(60);
        while acked.load(Ordering::SeqCst) < 100 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        server.kill(); // SIGKILL, in the middle of the load
        clients.join().unwrap()
    });
    let before = outcome.acknowledged.len();
    assert!(before >= 100, "only {before} acknowledged before the kill");
    assert!(before < load.len(), "the load finished before the kill");

    let db = server.data.join("collector.sqlite3");
    let check = rusqlite::Connection::open(&db).unwrap();
    let integrity: String = check
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    drop(check);

    // Restarted (the keys are in the database now), it has every acknowledged signature.
    let restarted = Server::start(&server.data, None);
    publish(&restarted, &f.petition);
    let bundle = get_bundle(&restarted, &f.petition);
    let stored: std::collections::HashMap<String, String> =
        bundle_receipts(&bundle).into_iter().collect();
    for (nullifier, receipt) in &outcome.acknowledged {
        assert_eq!(
            stored.get(nullifier),
            Some(receipt),
            "acknowledged {nullifier} was lost"
        );
    }
    // Submitting the whole load again: the rest is stored, nothing twice.
    let again = submit_all(
        &signatures_url(&restarted, &f.petition),
        load,
        8,
        &AtomicUsize::new(0),
    );
    assert!(again.statuses.iter().all(|&s| s == 201 || s == 409));
    publish(&restarted, &f.petition);
    let tally = get_json(&restarted.url(&format!("/v1/petitions/{}/tally", f.petition.id_hex())));
    assert_eq!(tally["count"], load.len());
    let path = data.path().join("bundle.jsonl");
    std::fs::write(&path, get_bundle(&restarted, &f.petition)).unwrap();
    let (code, audit) = audit_json(&path, &f.registrar_pub);
    assert_eq!(code, 0, "{audit}");
    assert_eq!(audit["count"], load.len());
}

/// Sends raw bytes on a fresh connection and returns the status code of the answer.
fn raw_request(base: &str, request: &[u8], close_write: bool) -> u16 {
    let addr = base.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request).unwrap();
    if close_write {
        stream.shutdown(std::net::Shutdown::Write).unwrap();
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"))
}

#[test]
fn hostile_bodies_get_4xx_with_a_reason_and_the_server_keeps_serving() {
    let f = fixture();
    let (_data, server) = server_with_petition();
    let http = client();
    let url = signatures_url(&server, &f.petition);
    let good: Value = serde_json::from_str(&f.signatures[1]).unwrap();
    let edited = |edit: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        edit(&mut v);
        v.to_string()
    };
    let mut flipped_proof = good["proof"].as_str().unwrap().to_owned();
    flipped_proof.replace_range(
        10..12,
        if &flipped_proof[10..12] == "00" {
            "01"
        } else {
            "00"
        },
    );
    let other = Signature::from_json(f.signatures[2].as_bytes()).unwrap();
    let cases: Vec<(&str, Vec<u8>, u16, Option<&str>)> = vec![
        ("empty", Vec::new(), 400, None),
        ("not JSON", b"hello".to_vec(), 400, None),
        ("not UTF-8", vec![0xff, 0xfe, 0x00, 0x7b], 400, None),
        (
            "truncated",
            f.signatures[1].as_bytes()[..200].to_vec(),
            400,
            None,
        ),
        ("JSON array", b"[1,2,3]".to_vec(), 400, None),
        (
            "unknown field",
            edited(&|v| v["extra"] = Value::from(1)).into_bytes(),
            400,
            Some("extra"),
        ),
        (
            "missing field",
            edited(&|v| {
                v.as_object_mut().unwrap().remove("proof");
            })
            .into_bytes(),
            400,
            Some("proof"),
        ),
        (
            "wrong type",
            edited(&|v| v["mask"] = "3".into()).into_bytes(),
            400,
            None,
        ),
        ("oversized", vec![b' '; 100_000], 413, None),
        (
            "nullifier not canonical",
            edited(&|v| v["nullifier"] = format!("0x{}", "f".repeat(64)).into()).into_bytes(),
            422,
            Some("nullifier"),
        ),
        (
            "proof not hex",
            edited(&|v| v["proof"] = "zz".repeat(128).into()).into_bytes(),
            422,
            Some("proof"),
        ),
        (
            "another member's proof",
            edited(&|v| v["proof"] = other.proof.to_hex().into()).into_bytes(),
            422,
            Some("proof"),
        ),
        (
            "flipped proof byte",
            edited(&|v| v["proof"] = flipped_proof.clone().into()).into_bytes(),
            422,
            Some("proof"),
        ),
        (
            "unknown root",
            edited(&|v| v["root"] = field::to_hex(&ark_bn254::Fr::from(5u64)).into()).into_bytes(),
            422,
            Some("root"),
        ),
        (
            "signs another petition",
            edited(&|v| v["petition"] = f.narrow.id_hex().into()).into_bytes(),
            422,
            Some("petition"),
        ),
    ];
    for (name, body, status, field) in &cases {
        let response = http.post(&url).body(body.clone()).send().unwrap();
        assert_eq!(response.status().as_u16(), *status, "{name}");
        let json: Value = response.json().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            json["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{name}: {json}"
        );
        if let Some(field) = field {
            assert_eq!(json["field"], *field, "{name}: {json}");
        }
    }
    // A disclosure the narrow petition does not allow (it allows status only; this discloses
    // status and ministry).
    let mut narrow_sig: Value = serde_json::from_str(&f.signatures[2]).unwrap();
    assert_eq!(narrow_sig["mask"], 3);
    narrow_sig["petition"] = f.narrow.id_hex().into();
    let response = http
        .post(signatures_url(&server, &f.narrow))
        .body(narrow_sig.to_string())
        .send()
        .unwrap();
    assert_eq!(response.status(), 422);
    let json: Value = response.json().unwrap();
    assert_eq!(json["field"], "mask");
    assert_eq!(json["code"], "mask_not_allowed");

    // Truncated on the wire: Content-Length promises more than arrives.
    let partial = format!(
        "POST /v1/petitions/{}/signatures HTTP/1.1\r\nHost: x\r\nContent-Length: 700\r\n\r\n{{\"version\":1",
        f.petition.id_hex()
    );
    assert_eq!(raw_request(&server.base, partial.as_bytes(), true), 400);
    // A huge announced length is refused without reading it.
    let huge = format!(
        "POST /v1/petitions/{}/signatures HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\nConnection: close\r\n\r\n",
        f.petition.id_hex()
    );
    assert_eq!(raw_request(&server.base, huge.as_bytes(), false), 413);
    assert!(raw_request(&server.base, b"GARBAGE\r\n\r\n", true) >= 400);

    // Unknown and malformed ids, unknown routes.
    let unknown = format!("/v1/petitions/{}/signatures", "ab".repeat(32));
    let response = http
        .post(server.url(&unknown))
        .body(f.signatures[1].clone())
        .send()
        .unwrap();
    assert_eq!(response.status(), 404);
    let response = http
        .post(server.url("/v1/petitions/xyz/signatures"))
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        http.get(server.url("/nothing")).send().unwrap().status(),
        404
    );

    // Organizer endpoints need the token.
    let token = server.token();
    let registry_url = server.url(&format!("/v1/registries/{}", f.registry_id()));
    let response = http
        .put(&registry_url)
        .body(f.registry_bytes.clone())
        .send()
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = http
        .put(&registry_url)
        .bearer_auth("0".repeat(64))
        .body(f.registry_bytes.clone())
        .send()
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = http
        .put(&registry_url)
        .bearer_auth(&token)
        .body("{")
        .send()
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = http
        .put(server.url(&format!("/v1/registries/{}", "cd".repeat(32))))
        .bearer_auth(&token)
        .body(f.registry_bytes.clone())
        .send()
        .unwrap();
    assert_eq!(response.status(), 422);
    // The same file again is fine; a registry whose chain does not extend the stored one is not.
    let response = http
        .put(&registry_url)
        .bearer_auth(&token)
        .body(f.registry_bytes.clone())
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut rival = Registry::new(f.registry.schema().clone(), DEPTH, *f.registry.id()).unwrap();
    rival.add(secret(5000).commitment(), attrs(0)).unwrap();
    rival
        .checkpoint(&RegistrarKey::from_secret_bytes(&[7u8; 32]), TIME)
        .unwrap();
    let response = http
        .put(&registry_url)
        .bearer_auth(&token)
        .body(rival.to_json())
        .send()
        .unwrap();
    assert_eq!(response.status(), 409);
    let response = http
        .post(server.url("/v1/petitions"))
        .bearer_auth(&token)
        .body(b"{\"version\":1}".to_vec())
        .send()
        .unwrap();
    assert_eq!(response.status(), 400);
    // A petition whose registry was never uploaded.
    let mut orphan_registry = Registry::new(f.registry.schema().clone(), DEPTH, [3u8; 32]).unwrap();
    orphan_registry
        .add(secret(1).commitment(), attrs(0))
        .unwrap();
    orphan_registry
        .checkpoint(&RegistrarKey::from_secret_bytes(&[7u8; 32]), TIME)
        .unwrap();
    let any_hash = "11".repeat(32);
    let orphan = make_petition(&orphan_registry, (&any_hash, &any_hash), vec![0], 3);
    let response = http
        .post(server.url("/v1/petitions"))
        .bearer_auth(&token)
        .body(orphan.bytes().to_vec())
        .send()
        .unwrap();
    assert_eq!(response.status(), 422);
    assert_eq!(response.json::<Value>().unwrap()["field"], "registry");

    // Nothing was stored; the server still serves and takes a good signature.
    let health = get_json(&server.url("/healthz"));
    assert_eq!(health["status"], "ok");
    let tally_url = server.url(&format!("/v1/petitions/{}/tally", f.petition.id_hex()));
    assert_eq!(get_json(&tally_url)["count"], 0);
    let response = http
        .post(&url)
        .body(f.signatures[1].clone())
        .send()
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(
        get_json(&tally_url)["count"],
        0,
        "published before a publication"
    );
    publish(&server, &f.petition);
    assert_eq!(get_json(&tally_url)["count"], 1);

    // Closing: 410 for new signatures, the bundle still downloads.
    let close = server.url(&format!("/v1/petitions/{}/close", f.petition.id_hex()));
    assert_eq!(http.post(&close).send().unwrap().status(), 401);
    let response = http.post(&close).bearer_auth(&token).send().unwrap();
    assert_eq!(response.status(), 200);
    let response = http
        .post(&url)
        .body(f.signatures[3].clone())
        .send()
        .unwrap();
    assert_eq!(response.status(), 410);
    assert_eq!(get_json(&tally_url)["closed"], true);
    assert_eq!(get_bundle(&server, &f.petition).lines().count(), 2);

    // Public files come back byte for byte.
    let petition = http
        .get(server.url(&format!("/v1/petitions/{}", f.petition.id_hex())))
        .send()
        .unwrap();
    assert_eq!(petition.bytes().unwrap().as_ref(), f.petition.bytes());
    let registry = http.get(&registry_url).send().unwrap();
    assert_eq!(
        registry.bytes().unwrap().as_ref(),
        f.registry_bytes.as_slice()
    );

    // The log names no request: no address, no nullifier.
    let log = server.stderr.lock().unwrap().clone();
    assert!(!log.contains("127.0.0.1"), "{log}");
    assert!(!log.contains(good["nullifier"].as_str().unwrap()), "{log}");
}

#[test]
fn submit_and_sign_submit_print_a_checked_receipt() {
    let f = fixture();
    let (data, server) = server_with_petition();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_undersign"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let sig = data.path().join("sig.json");
    std::fs::write(&sig, &f.signatures[4]).unwrap();
    let sig = sig.to_str().unwrap();
    let (code, out, err) = run(&["submit", sig, "--to", &server.base]);
    assert_eq!(code, 0, "{out}{err}");
    let expected = Signature::from_json(f.signatures[4].as_bytes())
        .unwrap()
        .receipt();
    assert!(out.contains(&hex::encode(expected)), "{out}");
    let (code, out, _) = run(&["submit", sig, "--to", &server.base]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("already stored"), "{out}");
    // A proxy that is not there: a network error, exit 2, nothing claimed.
    let (code, _, err) = run(&[
        "submit",
        sig,
        "--to",
        &server.base,
        "--proxy",
        "socks5h://127.0.0.1:9",
    ]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&["submit", sig, "--to", "http://abcdefgh.onion"]);
    assert_eq!(code, 2);
    assert!(err.contains("--proxy"), "{err}");

    // sign --submit: prove with the binary and submit in one go, without --out: nothing is
    // written to disk (the signature is evidence that its owner signed).
    let id = data.path().join("member.id");
    undersign_cli::identity_file::write(&id, &secret(10), None).unwrap();
    let p = |n: &str| f.dir.join(n).to_str().unwrap().to_owned();
    let files_before = dir_listing(data.path());
    let (code, out, err) = run(&[
        "sign",
        "--identity",
        id.to_str().unwrap(),
        "--registry",
        &p("registry.json"),
        "--petition",
        &p("petition.json"),
        "--keys",
        &p("keys"),
        "--submit",
        &server.base,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("stored by"), "{out}");
    assert!(out.contains("not written to disk"), "{out}");
    assert!(
        err.contains("is not encrypted"),
        "a plain identity warns: {err}"
    );
    assert_eq!(
        dir_listing(data.path()),
        files_before,
        "sign --submit wrote a file"
    );
    publish(&server, &f.petition);
    let tally = get_json(&server.url(&format!("/v1/petitions/{}/tally", f.petition.id_hex())));
    assert_eq!(tally["count"], 2);
    // Neither --out nor --submit: a usage error, nothing proved.
    let (code, _, err) = run(&[
        "sign",
        "--identity",
        id.to_str().unwrap(),
        "--registry",
        &p("registry.json"),
        "--petition",
        &p("petition.json"),
        "--keys",
        &p("keys"),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--out"), "{err}");
}

/// Every file name under `dir`, recursively, sorted (the collector's own files included).
fn dir_listing(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path.clone());
            }
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Load measurement: `cargo test --release --test server -- --ignored --nocapture`.
#[test]
#[ignore = "load measurement; run explicitly"]
fn load_accepted_signatures_per_second() {
    let f = fixture();
    for clients in [4, 16, 64] {
        let (_data, server) = server_with_petition();
        let outcome = submit_all(
            &signatures_url(&server, &f.petition),
            &f.signatures,
            clients,
            &AtomicUsize::new(0),
        );
        assert!(outcome.statuses.iter().all(|&s| s == 201));
        println!(
            "{clients:>3} clients: {} signatures accepted in {:.2} s = {:.0} signatures/s",
            outcome.statuses.len(),
            outcome.elapsed.as_secs_f64(),
            outcome.statuses.len() as f64 / outcome.elapsed.as_secs_f64()
        );
    }
}

#[test]
fn a_registry_extension_replaces_the_stored_one_and_its_new_roots_count() {
    let f = fixture();
    let (data, server) = server_with_petition();
    let http = client();
    let token = server.token();
    // The registrar adds a member and signs checkpoint 1; the organizer uploads the new file.
    let mut registry = f.registry.clone();
    let newcomer = secret(MEMBERS);
    let index = registry.add(newcomer.commitment(), attrs(1)).unwrap();
    registry
        .checkpoint(&RegistrarKey::from_secret_bytes(&[7u8; 32]), TIME + 60)
        .unwrap();
    let registry_url = server.url(&format!("/v1/registries/{}", f.registry_id()));
    let response = http
        .put(&registry_url)
        .bearer_auth(&token)
        .body(registry.to_json())
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().unwrap()["result"], "replaced");
    // Going back to the shorter chain is not an extension.
    let response = http
        .put(&registry_url)
        .bearer_auth(&token)
        .body(f.registry_bytes.clone())
        .send()
        .unwrap();
    assert_eq!(response.status(), 409);
    assert_eq!(response.json::<Value>().unwrap()["field"], "checkpoints");
    let served = http.get(&registry_url).send().unwrap().bytes().unwrap();
    assert_eq!(served.as_ref(), registry.to_json().as_slice());

    // The newcomer signs against checkpoint 1; an old-root signature still counts too.
    let (_, prover) = undersign::proof::keys::load_prover(&f.dir.join("keys")).unwrap();
    let tree = registry.tree().unwrap();
    let root = registry.latest_checkpoint().unwrap().root;
    let mask = Mask::from_slots(&[0]).unwrap();
    let statement = Statement::new(
        newcomer.sk(),
        &attrs(1),
        &tree.path(index).unwrap(),
        root,
        f.petition.scope(),
        message(Some("joined late")),
        mask,
    );
    let proof = prover
        .prove(&statement, &mut ChaCha20Rng::seed_from_u64(77))
        .unwrap();
    let late = Signature {
        petition: f.petition.id(),
        root,
        nullifier: statement.public.nullifier,
        mask,
        disclosed: attrs(1).disclose(mask),
        comment: Some("joined late".into()),
        proof: ProofBytes::encode(&proof).unwrap(),
    };
    let url = signatures_url(&server, &f.petition);
    for body in [late.to_json_pretty(), f.signatures[0].clone()] {
        let response = http.post(&url).body(body).send().unwrap();
        assert_eq!(response.status(), 201);
    }
    publish(&server, &f.petition);
    let bundle = get_bundle(&server, &f.petition);
    let header: Value = serde_json::from_str(bundle.lines().next().unwrap()).unwrap();
    assert_eq!(header["checkpoints"].as_array().unwrap().len(), 2);
    let path = data.path().join("bundle.jsonl");
    std::fs::write(&path, &bundle).unwrap();
    let (code, audit) = audit_json(&path, &f.registrar_pub);
    assert_eq!(code, 0, "{audit}");
    assert_eq!(audit["count"], 2);

    // After a restart the replacement and both signatures are still there.
    drop(server);
    let restarted = Server::start(&data.path().join("collector"), None);
    let served = http
        .get(restarted.url(&format!("/v1/registries/{}", f.registry_id())))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(served.as_ref(), registry.to_json().as_slice());
    assert_eq!(get_bundle(&restarted, &f.petition), bundle);
}

#[test]
fn serve_and_submit_have_help_and_refuse_bad_arguments() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_undersign"))
            .args(args)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.contains("panicked"), "{args:?}: {text}");
        (out.status.code().unwrap_or(-1), text)
    };
    for cmd in ["serve", "submit"] {
        let (code, help) = run(&[cmd, "--help"]);
        assert_eq!(code, 0);
        assert!(help.contains("Example: undersign"), "{help}");
    }
    assert_eq!(run(&["serve"]).0, 2);
    assert_eq!(run(&["submit", "x.json"]).0, 2);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (code, text) = run(&[
        "serve",
        "--data",
        data.to_str().unwrap(),
        "--keys",
        "/nonexistent-keys",
    ]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("/nonexistent-keys"), "{text}");
    let (code, text) = run(&[
        "serve",
        "--data",
        data.to_str().unwrap(),
        "--listen",
        "nope",
    ]);
    assert_eq!(code, 2, "{text}");
    let (code, text) = run(&["submit", "/nonexistent.json", "--to", "http://127.0.0.1:9"]);
    assert_eq!(code, 2, "{text}");
    let sig = dir.path().join("sig.json");
    std::fs::write(&sig, "{}").unwrap();
    let (code, text) = run(&["submit", sig.to_str().unwrap(), "--to", "ftp://x"]);
    assert_eq!(code, 2, "{text}");
}

/// A Groth16 proof can be re-randomised by anyone who sees it: `A' = A/r₁`,
/// `B' = r₁·B + r₁·r₂·δ`, `C' = C + r₂·A` verifies for the same inputs. Stored first, such a
/// copy must not leave the signer without a receipt: receipts name the statement, and the
/// signer's own submission gets the same 409 with the receipt they expect.
#[test]
fn a_rerandomised_copy_stored_first_keeps_the_signers_receipt() {
    use ark_ec::AffineRepr;
    let f = fixture();
    let (data, server) = server_with_petition();
    let original = Signature::from_json(f.signatures[7].as_bytes()).unwrap();
    let vk = undersign::proof::encoding::verifying_key_from_bytes(
        &std::fs::read(f.dir.join("keys").join("verifying.key")).unwrap(),
    )
    .unwrap();
    let proof = original.proof.decode().unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(77);
    let (r1, r2) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
    let r1_inv = ark_ff::Field::inverse(&r1).unwrap();
    let rerandomised = undersign::proof::Proof {
        a: (proof.a * r1_inv).into_affine(),
        b: (proof.b * r1 + vk.delta_g2 * (r1 * r2)).into_affine(),
        c: (proof.c.into_group() + proof.a * r2).into_affine(),
    };
    let mut copy = original.clone();
    copy.proof = ProofBytes::encode(&rerandomised).unwrap();
    assert_ne!(copy.proof, original.proof);
    assert_eq!(copy.receipt(), original.receipt());

    let url = signatures_url(&server, &f.petition);
    let post = |body: String| {
        let response = client().post(&url).body(body).send().unwrap();
        let status = response.status().as_u16();
        (status, response.json::<Value>().unwrap())
    };
    let (status, stored) = post(copy.to_json_line());
    assert_eq!(status, 201, "the re-randomised copy verifies: {stored}");
    let expected = hex::encode(original.receipt());
    assert_eq!(stored["receipt"], Value::from(expected.clone()));
    let (status, conflict) = post(original.to_json_line());
    assert_eq!(status, 409);
    assert_eq!(
        conflict["receipt"]["receipt"],
        Value::from(expected.clone())
    );
    // The signer's CLI takes that as stored, with their receipt.
    let sig = data.path().join("original.json");
    std::fs::write(&sig, original.to_json_pretty()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_undersign"))
        .args(["submit", sig.to_str().unwrap(), "--to", &server.base])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("already stored") && stdout.contains(&expected),
        "{stdout}"
    );
}

/// Polls `/tally` and `/bundle`: a single submission changes neither until a publication, and a
/// publication shows every pending signature at once. Timed publications (`--publish-every 1s
/// --publish-min 3`) wait for the minimum; the organizer's publish endpoint and closing do not.
#[test]
fn polling_tally_and_bundle_shows_nothing_new_until_a_publication() {
    let f = fixture();
    let (data, server) = server_with_petition_and(&["--publish-every", "1s", "--publish-min", "3"]);
    let http = client();
    let url = signatures_url(&server, &f.petition);
    let tally = || get_json(&tally_url(&server, &f.petition));
    let submit = |i: usize| {
        let response = http
            .post(&url)
            .body(f.signatures[i].clone())
            .send()
            .unwrap();
        assert_eq!(response.status(), 201);
        response.json::<Value>().unwrap()["receipt"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // Before any publication: count 0 and a valid empty bundle.
    let empty = get_bundle(&server, &f.petition);
    assert_eq!(empty.lines().count(), 1);
    let header: Value = serde_json::from_str(empty.lines().next().unwrap()).unwrap();
    assert_eq!(header["signatures"], 0);
    let before = tally();
    assert_eq!(before["count"], 0);
    assert_eq!(before["publication"]["publications"], 0);
    assert_eq!(before["publication"]["every_seconds"], 1);
    assert_eq!(before["publication"]["min"], 3);

    // One submission, polled across several publication ticks: below the minimum, nothing
    // shows (this does not depend on timing: no tick may publish a single signature).
    let first = submit(10);
    for _ in 0..6 {
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(tally(), before, "a pending signature shows in /tally");
        assert_eq!(get_bundle(&server, &f.petition), empty);
    }
    let text = tally().to_string();
    assert!(!text.contains("pending"), "{text}");

    // Two more reach the minimum: the next tick publishes all three together.
    let mut receipts = vec![first, submit(11), submit(12)];
    let deadline = Instant::now() + Duration::from_secs(60);
    while tally()["count"] == 0 {
        assert!(Instant::now() < deadline, "no timed publication");
        std::thread::sleep(Duration::from_millis(100));
    }
    let published = tally();
    assert_eq!(published["count"], 3);
    assert_eq!(published["publication"]["publications"], 1);
    let bundle = get_bundle(&server, &f.petition);
    let mut seen: Vec<String> = bundle_receipts(&bundle).into_iter().map(|r| r.1).collect();
    seen.sort();
    receipts.sort();
    assert_eq!(seen, receipts);
    let path = data.path().join("bundle.jsonl");
    std::fs::write(&path, &bundle).unwrap();
    let (code, audit) = audit_json(&path, &f.registrar_pub);
    assert_eq!(code, 0, "{audit}");
    for key in ["count", "breakdown", "groups"] {
        assert_eq!(
            published[key], audit[key],
            "/tally and audit disagree on {key}"
        );
    }
    // The file served is the one in the data directory.
    let file = server
        .data
        .join("bundles")
        .join(format!("{}.jsonl", f.petition.id_hex()));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), bundle);

    // One more: below the minimum again, invisible, until the organizer publishes it.
    receipts.push(submit(13));
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(tally(), published);
        assert_eq!(get_bundle(&server, &f.petition), bundle);
    }
    let answer = publish(&server, &f.petition);
    assert_eq!(answer["added"], 1);
    assert_eq!(answer["count"], 4);
    assert_eq!(answer["publications"], 2);
    assert_eq!(tally()["count"], 4);
    assert_eq!(get_bundle(&server, &f.petition).lines().count(), 5);
    // Nothing pending: publishing again changes nothing.
    assert_eq!(publish(&server, &f.petition)["added"], 0);
    assert_eq!(tally()["publication"]["publications"], 2);

    // Closing publishes what is pending, however few.
    receipts.push(submit(14));
    let close = http
        .post(server.url(&format!("/v1/petitions/{}/close", f.petition.id_hex())))
        .bearer_auth(server.token())
        .send()
        .unwrap();
    assert_eq!(close.status(), 200);
    let closed = tally();
    assert_eq!(closed["closed"], true);
    assert_eq!(closed["count"], 5);
    let bundle = get_bundle(&server, &f.petition);
    let mut seen: Vec<String> = bundle_receipts(&bundle).into_iter().map(|r| r.1).collect();
    seen.sort();
    receipts.sort();
    assert_eq!(seen, receipts);
}

/// Every file under `dir` with its bytes (a copy of the data directory as a seizure takes it).
fn copy_dir(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    dir_listing(dir)
        .into_iter()
        .filter(|p| p.is_file())
        .filter_map(|p| std::fs::read(&p).ok().map(|bytes| (p, bytes)))
        .collect()
}

/// Where each needle occurs in `haystack` (all occurrences), found through an index of their
/// first 8 bytes. Needles are at least 8 bytes long and distinct in their first 8.
fn find_all(haystack: &[u8], needles: &[Vec<u8>]) -> Vec<Vec<usize>> {
    let mut by_prefix = std::collections::HashMap::new();
    for (i, needle) in needles.iter().enumerate() {
        let prefix: [u8; 8] = needle[..8].try_into().unwrap();
        assert!(by_prefix.insert(prefix, i).is_none());
    }
    let mut found = vec![Vec::new(); needles.len()];
    for offset in 0..haystack.len().saturating_sub(7) {
        let prefix: [u8; 8] = haystack[offset..offset + 8].try_into().unwrap();
        if let Some(&i) = by_prefix.get(&prefix) {
            if haystack[offset..].starts_with(&needles[i]) {
                found[i].push(offset);
            }
        }
    }
    found
}

/// A nullifier as the store keeps it (32 raw bytes) and as lines carry it (64 hex digits).
fn nullifier_forms(nullifiers: &[String]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let raw = nullifiers
        .iter()
        .map(|n| hex::decode(n.trim_start_matches("0x")).unwrap())
        .collect();
    let text = nullifiers
        .iter()
        .map(|n| n.trim_start_matches("0x").as_bytes().to_vec())
        .collect();
    (raw, text)
}

/// The nullifiers (indices into `nullifiers`) found, raw or in hex, in any copied file other
/// than the main database file and the bundle files.
fn nullifiers_outside_the_database(
    files: &[(PathBuf, Vec<u8>)],
    nullifiers: &[String],
) -> Vec<(PathBuf, usize)> {
    let (raw, text) = nullifier_forms(nullifiers);
    let mut out = Vec::new();
    for (path, bytes) in files {
        let in_bundles = path
            .parent()
            .is_some_and(|p| p.file_name().is_some_and(|n| n == "bundles"));
        if path.file_name().is_some_and(|n| n == "collector.sqlite3") || in_bundles {
            continue;
        }
        for forms in [&raw, &text] {
            for (i, hits) in find_all(bytes, forms).iter().enumerate() {
                if !hits.is_empty() {
                    out.push((path.clone(), i));
                }
            }
        }
    }
    out
}

/// How the byte order of the nullifiers (32 raw bytes, at their one occurrence in a B-tree
/// page) in a SQLite file agrees with their arrival order (`nullifiers` is in arrival order):
/// `(concordant fraction over all pairs, pairs, concordant fraction over same-page pairs,
/// same-page pairs)`.
fn order_agreement(db: &[u8], nullifiers: &[String]) -> (f64, u64, f64, u64) {
    let page_size = match u16::from_be_bytes([db[16], db[17]]) {
        1 => 65536,
        n => n as usize,
    };
    let (raw, _) = nullifier_forms(nullifiers);
    let found = find_all(db, &raw);
    // A WITHOUT ROWID table is an index B-tree: each row is stored once, in a leaf page (type
    // 0x0a) or, as a divider, in an interior page (0x02); page 1's header follows the 100-byte
    // database header.
    let page_type = |offset: usize| {
        let page = offset / page_size;
        db[page * page_size + if page == 0 { 100 } else { 0 }]
    };
    let offsets: Vec<usize> = found
        .iter()
        .enumerate()
        .map(|(i, hits)| {
            let rows: Vec<usize> = hits
                .iter()
                .copied()
                .filter(|&o| matches!(page_type(o), 0x0a | 0x02))
                .collect();
            assert_eq!(
                rows.len(),
                1,
                "nullifier {i}: B-tree occurrences {rows:?} of {hits:?}"
            );
            rows[0]
        })
        .collect();
    let (mut all, mut all_pairs, mut same, mut same_pairs) = (0u64, 0u64, 0u64, 0u64);
    for i in 0..offsets.len() {
        for j in i + 1..offsets.len() {
            let concordant = u64::from(offsets[i] < offsets[j]);
            all += concordant;
            all_pairs += 1;
            if offsets[i] / page_size == offsets[j] / page_size {
                same += concordant;
                same_pairs += 1;
            }
        }
    }
    (
        all as f64 / all_pairs as f64,
        all_pairs,
        same as f64 / same_pairs.max(1) as f64,
        same_pairs,
    )
}

/// A state seizes the collector's disk (a copy while it runs, or after `kill -9`): no file but
/// the main database holds a signature's nullifier (the WAL is truncated after every commit;
/// at most the batch in flight may be there), and after a publication (`VACUUM`) the position
/// of the rows in the database file says nothing about their arrival order.
///
/// The bound: if the byte order of the nullifiers were independent of their arrival order,
/// the concordant fraction would be `(1 + τ)/2` for Kendall's τ of a random permutation, whose
/// standard deviation is `√(2(2n+5)/(9n(n−1)))`; for n = 1,000 the fraction's is 0.011, so
/// 0.5 ± 0.05 is ±4.7 σ. Same-page pairs (about 5 rows per page) are about 2,000 pairs in
/// independent groups; their fraction's standard deviation is about 0.015, so ±0.05 is over
/// ±3 σ. (Before `VACUUM` the in-page order follows arrival: see the figures printed.)
#[test]
fn a_seized_data_directory_reveals_no_arrival_order() {
    use rand::seq::SliceRandom;
    const BOUND: f64 = 0.05;
    let f = fixture();
    let (_data, mut server) = server_with_petition();
    let mut order: Vec<usize> = (0..MEMBERS).collect();
    order.shuffle(&mut ChaCha20Rng::seed_from_u64(2024));
    let url = signatures_url(&server, &f.petition);
    let http = client();
    // One client, one signature at a time: arrival order is submission order, and every group
    // commit holds one signature.
    let mut arrived: Vec<String> = Vec::new();
    let mut while_running = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        let response = http
            .post(&url)
            .body(f.signatures[i].clone())
            .send()
            .unwrap();
        assert_eq!(response.status(), 201);
        let json: Value = response.json().unwrap();
        arrived.push(json["nullifier"].as_str().unwrap().to_owned());
        if k + 1 == MEMBERS / 2 {
            while_running = copy_dir(&server.data);
            let leaked = nullifiers_outside_the_database(&while_running, &arrived);
            assert!(
                leaked.iter().all(|(_, n)| *n == arrived.len() - 1),
                "nullifiers outside the main database while running: {leaked:?}"
            );
        }
    }
    let main = |files: &[(PathBuf, Vec<u8>)]| {
        files
            .iter()
            .find(|(p, _)| p.file_name().is_some_and(|n| n == "collector.sqlite3"))
            .unwrap()
            .1
            .clone()
    };
    let half = order_agreement(&main(&while_running), &arrived[..MEMBERS / 2]);
    eprintln!(
        "before VACUUM, while running, {} rows: all pairs {:.3} ({}), same-page pairs {:.3} ({})",
        MEMBERS / 2,
        half.0,
        half.1,
        half.2,
        half.3
    );

    server.kill(); // SIGKILL
    let killed = copy_dir(&server.data);
    let leaked = nullifiers_outside_the_database(&killed, &arrived);
    assert!(
        leaked.iter().all(|(_, n)| *n == arrived.len() - 1),
        "nullifiers outside the main database after kill -9: {leaked:?}"
    );
    let bundles = killed
        .iter()
        .filter(|(p, _)| p.parent().is_some_and(|d| d.ends_with("bundles")));
    assert_eq!(bundles.count(), 0, "a bundle file before any publication");
    let before = order_agreement(&main(&killed), &arrived);
    eprintln!("before VACUUM, after kill -9, {MEMBERS} rows: all pairs {:.3} ({}), same-page pairs {:.3} ({})", before.0, before.1, before.2, before.3);

    // Restarted, the organizer publishes: VACUUM rewrites the table in key order.
    let mut restarted = Server::start(&server.data, None);
    assert_eq!(publish(&restarted, &f.petition)["added"], MEMBERS);
    for files in [copy_dir(&restarted.data), {
        restarted.kill();
        copy_dir(&restarted.data)
    }] {
        let leaked = nullifiers_outside_the_database(&files, &arrived);
        assert!(
            leaked.is_empty(),
            "nullifiers outside the main database: {leaked:?}"
        );
        // The bundle file holds the published lines in nullifier order, nothing else.
        let (path, bundle) = files
            .iter()
            .find(|(p, _)| p.parent().is_some_and(|d| d.ends_with("bundles")))
            .unwrap();
        assert!(path.ends_with(format!("{}.jsonl", f.petition.id_hex())));
        let stored: Vec<String> = bundle_receipts(std::str::from_utf8(bundle).unwrap())
            .into_iter()
            .map(|r| r.0)
            .collect();
        let mut sorted = arrived.clone();
        sorted.sort();
        assert_eq!(stored, sorted);
        let after = order_agreement(&main(&files), &arrived);
        eprintln!(
            "after VACUUM, {MEMBERS} rows: all pairs {:.3} ({}), same-page pairs {:.3} ({})",
            after.0, after.1, after.2, after.3
        );
        assert!(after.1 >= 1000 && after.3 >= 1000, "{after:?}");
        assert!((after.0 - 0.5).abs() <= BOUND, "all pairs: {after:?}");
        assert!((after.2 - 0.5).abs() <= BOUND, "same-page pairs: {after:?}");
    }
}

/// Issue 22 §2/§3: a nullifier already stored is answered 409 from the stored line without
/// verifying the new proof; a wrong number of disclosed codes names `disclosed`; an oversized
/// body to a closed or unknown petition answers 410/404, not 413 (the petition is checked
/// before the body is read).
#[test]
fn duplicates_skip_verification_and_the_petition_is_checked_before_the_body() {
    let f = fixture();
    let (_data, server) = server_with_petition();
    let http = client();
    let url = signatures_url(&server, &f.petition);
    let first = http
        .post(&url)
        .body(f.signatures[1].clone())
        .send()
        .unwrap();
    assert_eq!(first.status(), 201);
    let receipt: Value = first.json().unwrap();
    let good: Value = serde_json::from_str(&f.signatures[1]).unwrap();
    let mut flipped = good["proof"].as_str().unwrap().to_owned();
    flipped.replace_range(10..12, if &flipped[10..12] == "00" { "01" } else { "00" });
    let other = Signature::from_json(f.signatures[2].as_bytes()).unwrap();

    // The same statement with a proof that does not verify (a flipped byte, another member's
    // proof): verified, either would be 422; the stored nullifier answers 409 first, and as the
    // statement is the one counted, with its receipt.
    for proof in [flipped, other.proof.to_hex()] {
        let mut sig = good.clone();
        sig["proof"] = proof.into();
        let response = http.post(&url).body(sig.to_string()).send().unwrap();
        assert_eq!(response.status(), 409);
        let body: Value = response.json().unwrap();
        assert_eq!(body["code"], "duplicate_nullifier");
        assert_eq!(body["field"], "nullifier");
        assert_eq!(body["receipt"], receipt, "{body}");
    }
    // Another statement under the stored nullifier (a different comment) with a proof that
    // does not verify for it: 409 without a receipt, still no verification (not 422).
    let mut sig = good.clone();
    sig["comment"] = "someone else's words".into();
    let response = http.post(&url).body(sig.to_string()).send().unwrap();
    assert_eq!(response.status(), 409);
    let body: Value = response.json().unwrap();
    assert_eq!(body["code"], "duplicate_nullifier");
    assert!(body.get("receipt").is_none(), "{body}");

    // Five disclosed codes (and three): 400 naming `disclosed` and saying what is wrong.
    for codes in [vec![0u64; 5], vec![0u64; 3]] {
        let n = codes.len();
        let mut sig: Value = serde_json::from_str(&f.signatures[3]).unwrap();
        sig["disclosed"] = codes.into();
        let response = http.post(&url).body(sig.to_string()).send().unwrap();
        assert_eq!(response.status(), 400);
        let body: Value = response.json().unwrap();
        assert_eq!(body["field"], "disclosed", "{body}");
        let error = body["error"].as_str().unwrap();
        assert!(
            error.contains("expected 4 codes") && error.contains(&format!("got {n}")),
            "{error}"
        );
    }

    // An oversized body: 413 to an open petition, 410 once it is closed, 404 to an unknown one.
    let oversized = |path: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\nConnection: close\r\n\r\n"
        )
    };
    let path = format!("/v1/petitions/{}/signatures", f.petition.id_hex());
    assert_eq!(
        raw_request(&server.base, oversized(&path).as_bytes(), false),
        413
    );
    let closed = http
        .post(server.url(&format!("/v1/petitions/{}/close", f.petition.id_hex())))
        .bearer_auth(server.token())
        .send()
        .unwrap();
    assert_eq!(closed.status(), 200);
    assert_eq!(
        raw_request(&server.base, oversized(&path).as_bytes(), false),
        410
    );
    let unknown = format!("/v1/petitions/{}/signatures", "ab".repeat(32));
    assert_eq!(
        raw_request(&server.base, oversized(&unknown).as_bytes(), false),
        404
    );
    let response = http.post(&url).body(vec![b' '; 100_000]).send().unwrap();
    assert_eq!(response.status(), 410);
    let body: Value = response.json().unwrap();
    assert_eq!(body["code"], "closed");
}

/// Issue 22 §2: thousands of connections that send nothing do not lock others out (the
/// default --max-connections is 16,384 and the server raises its open-file limit); a normal
/// request still answers within 2 s.
#[test]
fn thousands_of_idle_connections_do_not_lock_out_a_request() {
    const IDLE: usize = 4200;
    let limit = undersign_server::raise_open_file_limit().unwrap_or(0);
    assert!(
        limit >= IDLE as u64 + 256,
        "this test needs {} open files; the hard limit allows {limit}",
        IDLE + 256
    );
    let data = tempfile::tempdir().unwrap();
    // A header timeout longer than the test, so every idle connection is held throughout.
    let server = Server::start_with(
        &data.path().join("collector"),
        None,
        &["--header-timeout", "10m"],
    );
    let addr = server.base.strip_prefix("http://").unwrap().to_owned();
    let idle: Vec<TcpStream> = (0..IDLE)
        .map(|i| TcpStream::connect(&addr).unwrap_or_else(|e| panic!("connection {i}: {e}")))
        .collect();
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    assert!(
        read.is_ok() && text.starts_with("HTTP/1.1 200"),
        "with {IDLE} idle connections open, /healthz did not answer within 2 s: {read:?} {text:?}"
    );
    assert!(text.contains("\"ok\""), "{text}");
    // The idle connections were all still held open by the server (none was refused or
    // closed): each still has nothing to read.
    for (i, mut conn) in idle.into_iter().enumerate().step_by(500) {
        conn.set_nonblocking(true).unwrap();
        let mut byte = [0u8; 1];
        match conn.read(&mut byte) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("idle connection {i} was closed or answered: {other:?}"),
        }
    }
}

/// Output that cannot be written is an error (exit 2, a message on stderr), never a panic:
/// `submit` after the signature was stored, and `registrar keygen`.
#[test]
fn output_to_a_full_device_is_exit_2_not_a_panic() {
    let f = fixture();
    let (data, server) = server_with_petition();
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let sig = data.path().join("sig.json");
    std::fs::write(&sig, &f.signatures[6]).unwrap();
    let key = data.path().join("registrar.key");
    for args in [
        vec![
            "submit".to_owned(),
            sig.to_str().unwrap().to_owned(),
            "--to".to_owned(),
            server.base.clone(),
        ],
        vec![
            "registrar".to_owned(),
            "keygen".to_owned(),
            "--out".to_owned(),
            key.to_str().unwrap().to_owned(),
        ],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_undersign"))
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(full()))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("the output could not be written"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // The signature was stored before the output failed: submitting it again finds it.
    let again = client()
        .post(signatures_url(&server, &f.petition))
        .body(f.signatures[6].clone())
        .send()
        .unwrap();
    assert_eq!(again.status(), 409);
    let body: Value = again.json().unwrap();
    assert!(body.get("receipt").is_some(), "{body}");
    assert!(key.exists());
}

/// Issue 22 §2: a few hundred clients that request `/bundle` and never read it neither keep
/// others out nor hold their download slot beyond `--write-timeout`: /healthz and an organizer
/// request answer meanwhile, and once the stalled writes time out a new download is served
/// again (with `--max-downloads 100`, fewer than the stalled clients, which hold them all
/// until then).
#[test]
fn clients_that_never_read_their_bundle_time_out_and_lock_nobody_out() {
    const STALLED: usize = 300;
    let f = fixture();
    let (_data, server) =
        server_with_petition_and(&["--write-timeout", "5s", "--max-downloads", "100"]);
    let acked = AtomicUsize::new(0);
    let outcome = submit_all(
        &signatures_url(&server, &f.petition),
        &f.signatures,
        16,
        &acked,
    );
    assert_eq!(outcome.acknowledged.len(), f.signatures.len());
    assert_eq!(publish(&server, &f.petition)["count"], f.signatures.len());
    let addr = server.base.strip_prefix("http://").unwrap().to_owned();
    let request = format!(
        "GET /v1/petitions/{}/bundle HTTP/1.1\r\nHost: x\r\n\r\n",
        f.petition.id_hex()
    );
    // A small receive buffer, so that the bundle (about 600 KB) cannot all sit in buffers (the
    // server bounds its own: 80 KiB in hyper, a fixed kernel send buffer): its writes stall.
    let stalled: Vec<TcpStream> = (0..STALLED)
        .map(|_| {
            let socket =
                socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
            socket.set_recv_buffer_size(4096).unwrap();
            let target: std::net::SocketAddr = addr.parse().unwrap();
            socket.connect(&target.into()).unwrap();
            let mut stream: TcpStream = socket.into();
            stream.write_all(request.as_bytes()).unwrap();
            stream
        })
        .collect();
    // The stalled downloads hold every download slot: a new one is refused with 503 (polled:
    // the server reads the stalled requests concurrently).
    let http = client();
    let bundle_url = server.url(&format!("/v1/petitions/{}/bundle", f.petition.id_hex()));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = http.get(&bundle_url).send().unwrap();
        if response.status() == 503 {
            let body: Value = response.json().unwrap();
            assert_eq!(body["code"], "unavailable");
            break;
        }
        assert_eq!(response.status(), 200);
        assert!(
            Instant::now() < deadline,
            "the stalled downloads hold no slot"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let answer_within_2s = |request: String| {
        let mut stream = TcpStream::connect(&addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = Vec::new();
        let read = stream.read_to_end(&mut answer);
        let text = String::from_utf8_lossy(&answer).into_owned();
        assert!(
            read.is_ok(),
            "no answer within 2 s to {request:?}: {read:?} {text:?}"
        );
        text
    };
    let health =
        answer_within_2s("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into());
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let publish = answer_within_2s(format!(
        "POST /v1/petitions/{}/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        f.petition.id_hex(),
        server.token()
    ));
    assert!(publish.starts_with("HTTP/1.1 200"), "{publish}");
    // The stalled downloads end at their write timeout and free their slots: a download is
    // served again (deadline: the timeout plus a margin), and the whole bundle arrives.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = http.get(&bundle_url).send().unwrap();
        if response.status() == 200 {
            let bundle = response.text().unwrap();
            assert_eq!(bundle.lines().count(), f.signatures.len() + 1);
            break;
        }
        assert_eq!(response.status(), 503);
        let body: Value = response.json().unwrap();
        assert_eq!(body["code"], "unavailable");
        assert!(
            Instant::now() < deadline,
            "the stalled downloads still hold every download slot"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(stalled);
}
