//! Field multiplication, Poseidon and registry-tree benchmarks (`cargo bench --bench core`).

use ark_bn254::{Fq, Fr};
use ark_ff::Field;
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use undersign::core::attributes::Attributes;
use undersign::core::identity;
use undersign::core::merkle::MerkleTree;
use undersign::core::poseidon;
use undersign::registry::{import_csv, Registry, Schema};

fn random_fr(rng: &mut ChaCha20Rng) -> Fr {
    Fr::from(rng.gen::<u128>()) * Fr::from(rng.gen::<u128>())
}

fn bench_poseidon(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let (a, b) = (random_fr(&mut rng), random_fr(&mut rng));
    c.bench_function("poseidon/1 input", |bench| {
        bench.iter(|| poseidon::hash1(black_box(a)))
    });
    c.bench_function("poseidon/2 inputs", |bench| {
        bench.iter(|| poseidon::hash2(black_box(a), black_box(b)))
    });
    // Throughput of the batch path trees use (one thread; AVX-512 IFMA where the CPU has it,
    // else AVX2 and FMA, else the scalar permutation).
    let pairs: Vec<[Fr; 2]> = (0..1024)
        .map(|_| [random_fr(&mut rng), random_fr(&mut rng)])
        .collect();
    c.bench_function("poseidon/2 inputs, batch of 1024 (one thread)", |bench| {
        bench.iter(|| poseidon::hash2_batch(black_box(&pairs)))
    });
}

/// The primitive every other figure is made of: one BN254 field multiplication (scalar field
/// `Fr` for Poseidon, base field `Fq` for curve arithmetic and pairings), as a dependent chain.
fn bench_field(c: &mut Criterion) {
    fn chain<F: Field>(c: &mut Criterion, name: &str, x: F, y: F) {
        c.bench_function(&format!("field/{name} multiplication x1000"), |bench| {
            bench.iter(|| {
                let mut acc = black_box(x);
                for _ in 0..1000 {
                    acc *= y;
                }
                acc
            })
        });
    }
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    chain(c, "Fr", random_fr(&mut rng), random_fr(&mut rng));
    chain(
        c,
        "Fq",
        Fq::from(rng.gen::<u128>()),
        Fq::from(rng.gen::<u128>()),
    );
}

fn bench_tree(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let mut group = c.benchmark_group("tree build");
    group.sample_size(10);
    for log in [16u32, 20] {
        let leaves: Vec<Fr> = (0..1usize << log).map(|_| random_fr(&mut rng)).collect();
        group.bench_function(format!("2^{log} leaves, depth 20"), |bench| {
            bench.iter_batched(
                || leaves.clone(),
                |leaves| MerkleTree::from_leaves(20, leaves),
                BatchSize::LargeInput,
            )
        });
    }
    // What a registry checkpoint costs: every member's leaf hash, then the tree.
    let members: Vec<(Fr, Attributes)> = (0..1usize << 20)
        .map(|i| {
            (
                random_fr(&mut rng),
                Attributes::from_packed_u64(i as u64 % 5000),
            )
        })
        .collect();
    group.bench_function("2^20 members, leaf hashes included, depth 20", |bench| {
        bench.iter(|| {
            let leaves = identity::member_leaves(members.iter().map(|(c, a)| Some((*c, a))));
            MerkleTree::from_leaves(20, leaves)
        })
    });
    group.finish();
}

/// Reading a registry: parsing and validating a 1M-member file (no hashing: the tree is
/// `tree build` above), and importing 50,000 CSV rows.
fn bench_registry(c: &mut Criterion) {
    const SCHEMA: &str = r#"{"version":1,"kind":"undersign-schema","slots":[{"name":"status","labels":{"current":1,"former":2}}]}"#;
    let schema = || Schema::from_json(SCHEMA.as_bytes()).expect("the bench's schema is valid");
    let new_registry = || Registry::new(schema(), 20, [5; 32]).expect("depth 20 is valid");
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let mut registry = new_registry();
    for i in 0..1_000_000u64 {
        let status = Attributes::from_packed_u64(1 + i % 2);
        registry
            .add(random_fr(&mut rng), status)
            .expect("random commitments are distinct and nonzero");
    }
    let json = registry.to_json();
    let mut csv = String::from("commitment,status\n");
    for i in 0..50_000u64 {
        let status = if i % 2 == 0 { "current" } else { "former" };
        let commitment = undersign::core::field::to_hex(&random_fr(&mut rng));
        csv.push_str(&format!("{commitment},{status}\n"));
    }

    let mut group = c.benchmark_group("registry");
    group.sample_size(10);
    group.bench_function("load 1M members (parse and validate)", |bench| {
        bench.iter(|| Registry::from_json(black_box(&json)))
    });
    group.bench_function("CSV import, 50,000 rows", |bench| {
        bench.iter_batched(
            new_registry,
            |mut registry| import_csv(&mut registry, black_box(csv.as_bytes())),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(
    benches,
    bench_field,
    bench_poseidon,
    bench_tree,
    bench_registry
);
criterion_main!(benches);
