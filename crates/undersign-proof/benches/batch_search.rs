//! Naming the bad proofs of a failing batch (`cargo bench -p undersign-proof --bench
//! batch_search`): with every other proof invalid, `find_invalid` against verifying each proof
//! alone with `Verifier::verify`, and against plain bisection (a failing batch split in halves
//! down to single proofs, the search before its work budget). 64 and 128 proofs of the
//! development setup at depth 4 (verification costs the same at every depth).
//!
//! This bench lives in the proof crate so that it builds without the rest of the workspace.

use ark_bn254::Fr;
use criterion::{criterion_group, criterion_main, Criterion};
use rand::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use undersign_core::attributes::{Attributes, Mask};
use undersign_core::identity::{member_leaf, IdentitySecret};
use undersign_core::merkle::MerkleTree;
use undersign_proof::batch::{find_invalid, verify_batch, Item};
use undersign_proof::{KeySet, Prover, Statement, Verifier};

const DEPTH: u32 = 4;

/// `n` proofs of one statement, every other one (odd indices) with a wrong nullifier.
fn every_other_invalid(prover: &Prover, n: usize) -> Vec<Item> {
    let secret = IdentitySecret::from_bytes([3u8; 32]);
    let attrs = Attributes([1, 2, 3, 0]);
    let tree = MerkleTree::from_leaves(DEPTH, vec![member_leaf(secret.commitment(), &attrs)])
        .expect("tree");
    let statement = Statement::new(
        secret.sk(),
        &attrs,
        &tree.path(0).expect("path"),
        tree.root(),
        Fr::from(77u64),
        Fr::from(5u64),
        Mask::from_slots(&[0, 2]).expect("mask"),
    );
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    (0..n)
        .map(|i| {
            let proof = prover.prove(&statement, &mut rng).expect("prove");
            let mut public = statement.public;
            if i % 2 == 1 {
                public.nullifier += Fr::from(1u64);
            }
            (proof, public)
        })
        .collect()
}

/// Plain bisection: the invalid proofs of `items` (offset by `offset`) into `bad`.
fn plain_bisection<R: RngCore + CryptoRng>(
    verifier: &Verifier,
    items: &[Item],
    offset: usize,
    rng: &mut R,
    bad: &mut Vec<usize>,
) {
    if items.is_empty() || verify_batch(verifier, items, rng) {
        return;
    }
    if items.len() == 1 {
        bad.push(offset);
        return;
    }
    let mid = items.len() / 2;
    plain_bisection(verifier, &items[..mid], offset, rng, bad);
    plain_bisection(verifier, &items[mid..], offset + mid, rng, bad);
}

fn bench_every_other_invalid(c: &mut Criterion) {
    let keys = KeySet::development(DEPTH, &[9u8; 32]).expect("setup");
    let prover = Prover::new(DEPTH, keys.proving_key).expect("prover");
    let verifier = prover.verifier().clone();
    let mut group = c.benchmark_group("every other proof invalid");
    group.sample_size(20);
    for n in [64usize, 128] {
        let items = every_other_invalid(&prover, n);
        let expected: Vec<usize> = (1..n).step_by(2).collect();
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        group.bench_function(format!("{n} proofs, find_invalid"), |b| {
            b.iter(|| assert_eq!(find_invalid(&verifier, &items, &mut rng), expected))
        });
        group.bench_function(format!("{n} proofs, one by one"), |b| {
            b.iter(|| {
                let bad: Vec<usize> = (0..n)
                    .filter(|&i| !verifier.verify(&items[i].0, &items[i].1))
                    .collect();
                assert_eq!(bad, expected);
            })
        });
        group.bench_function(format!("{n} proofs, plain bisection"), |b| {
            b.iter(|| {
                let mut bad = Vec::new();
                plain_bisection(&verifier, &items, 0, &mut rng, &mut bad);
                assert_eq!(bad, expected);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_every_other_invalid);
criterion_main!(benches);
