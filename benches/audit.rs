//! Verification at scale (`cargo bench --bench audit`): batch verification of 64 and 1,024
//! proofs, and a whole audit of a 10,000-signature bundle generated once and cached under
//! `target/bench-data/`. Simulated proofs (development trapdoor) cost the verifier exactly what
//! real ones do.

use ark_bn254::Fr;
use criterion::{criterion_group, criterion_main, Criterion};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::path::PathBuf;
use undersign::proof::batch::verify_batch;
use undersign::proof::{KeySet, PublicInputs, Verifier};
use undersign::registry::registrar::RegistrarPublicKey;
use undersign::tally::bundle::{audit, AuditOptions};
use undersign_bench_data::{generate, Trapdoor};

const SEED: [u8; 32] = [0x42; 32];

fn bench_batch(c: &mut Criterion) {
    let keys = KeySet::development(20, &SEED).expect("setup");
    let vk = keys.verifying_key().clone();
    let trapdoor = Trapdoor::recover(&SEED, &vk).expect("trapdoor");
    let verifier = Verifier::new(vk.clone()).expect("verifier");
    let mut group = c.benchmark_group("batch verify");
    group.sample_size(10);
    for n in [64usize, 1024] {
        let publics: Vec<PublicInputs> = (0..n as u64)
            .map(|i| PublicInputs {
                root: Fr::from(11u64),
                scope: Fr::from(12u64),
                nullifier: Fr::from(1000 + i),
                message: Fr::from(0u64),
                mask: Fr::from(3u64),
                disclosed: Fr::from(1 + (i % 12) * 65536),
            })
            .collect();
        let proofs = trapdoor.simulate_many(&vk, &publics, 7);
        let items: Vec<_> = proofs.into_iter().zip(publics).collect();
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        group.bench_function(format!("{n} proofs"), |b| {
            b.iter(|| assert!(verify_batch(&verifier, &items, &mut rng)))
        });
    }
    group.finish();
}

fn bench_audit(c: &mut Criterion) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/audit-10000");
    let marker = dir.join("ready.txt");
    let (bundle, key, vk_hash) = match std::fs::read_to_string(&marker) {
        Ok(text) => {
            let mut lines = text.lines().map(str::to_owned);
            (
                dir.join("bundle.jsonl"),
                lines.next().unwrap_or_default(),
                lines.next().unwrap_or_default(),
            )
        }
        Err(_) => {
            let g = generate(&dir, 10_000, 16, 20, SEED).expect("generate bench data");
            std::fs::write(
                &marker,
                format!("{}\n{}\n", g.registrar_key, g.verifying_key_hash),
            )
            .expect("marker");
            (g.bundle, g.registrar_key, g.verifying_key_hash)
        }
    };
    let options = AuditOptions {
        registrar_key: RegistrarPublicKey::from_hex(&key).expect("key"),
        pinned_vk_hash: Some(vk_hash),
        verifier: Default::default(),
    };
    let mut group = c.benchmark_group("audit");
    group.sample_size(10);
    group.bench_function("10,000-signature bundle, end to end", |b| {
        b.iter(|| {
            let file = std::io::BufReader::new(std::fs::File::open(&bundle).expect("bundle"));
            let report = audit(file, &options).expect("audit");
            assert_eq!(report.count, 10_000);
        })
    });
    group.finish();
}

criterion_group!(benches, bench_batch, bench_audit);
criterion_main!(benches);
