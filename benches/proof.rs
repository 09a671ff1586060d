//! Proving and verification benchmarks (`cargo bench --bench proof`).

use ark_bn254::Fr;
use criterion::{criterion_group, criterion_main, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use undersign::core::attributes::{Attributes, Mask};
use undersign::core::identity::{member_leaf, IdentitySecret};
use undersign::core::merkle::MerkleTree;
use undersign::proof::encoding::ProofBytes;
use undersign::proof::{KeySet, Prover, Statement};

fn statement(depth: u32, rng: &mut ChaCha20Rng) -> Statement {
    let secrets: Vec<IdentitySecret> = (0..64)
        .map(|_| IdentitySecret::from_bytes(rng.gen()))
        .collect();
    let attrs = Attributes([1, 4, 2, 0]);
    let leaves = secrets
        .iter()
        .map(|s| member_leaf(s.commitment(), &attrs))
        .collect();
    let tree = MerkleTree::from_leaves(depth, leaves).expect("tree");
    let me = 17;
    Statement::new(
        secrets[me].sk(),
        &attrs,
        &tree.path(me as u64).expect("path"),
        tree.root(),
        Fr::from(77u64),
        Fr::from(0u64),
        Mask::from_slots(&[0, 1]).expect("mask"),
    )
}

fn bench_prove_verify(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let mut group = c.benchmark_group("groth16");
    group.sample_size(10);
    for depth in [16u32, 20] {
        let keys = KeySet::development(depth, &[depth as u8; 32]).expect("setup");
        let prover = Prover::new(depth, keys.proving_key).expect("prover");
        let statement = statement(depth, &mut rng);
        group.bench_function(format!("prove depth {depth}"), |b| {
            b.iter(|| prover.prove(&statement, &mut rng).expect("prove"))
        });
        if depth == 20 {
            let proof = prover.prove(&statement, &mut rng).expect("prove");
            let bytes = ProofBytes::encode(&proof).expect("encode");
            let verifier = prover.verifier().clone();
            group.bench_function("verify single (decode + prepared vk)", |b| {
                b.iter(|| {
                    verifier
                        .verify_bytes(&bytes, &statement.public)
                        .expect("verify")
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_prove_verify);
criterion_main!(benches);
