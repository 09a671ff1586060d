//! Ceremony benchmarks (`cargo bench --bench ceremony`): phase-2 contribute and verify for the
//! depth-20 circuit (2^13 powers), the issue's ≤ 60 s targets on 2 cores.

use criterion::{criterion_group, criterion_main, Criterion};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use undersign::ceremony::{Phase1, Phase2};

fn bench_phase2(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(20);
    let mut phase1 = Phase1::new(13).expect("phase 1");
    phase1.contribute(&mut rng).expect("contribute");
    let phase1_hash = *blake3::hash(&phase1.to_bytes()).as_bytes();
    let mut phase2 = Phase2::new(&phase1, phase1_hash, 20).expect("phase 2");
    phase2.contribute(&phase1, &mut rng).expect("contribute");
    let bytes = phase2.to_bytes();
    let mut group = c.benchmark_group("ceremony depth 20");
    group.sample_size(10);
    group.bench_function(
        "phase2 contribute (decode + verify phase 1 and 2 + contribute + encode)",
        |b| {
            b.iter(|| {
                let mut p = Phase2::from_bytes(&bytes).expect("decode");
                p.contribute(&phase1, &mut rng).expect("contribute");
                p.to_bytes()
            })
        },
    );
    group.bench_function("phase2 verify (decode + full verify)", |b| {
        b.iter(|| {
            let p = Phase2::from_bytes(&bytes).expect("decode");
            p.verify(&phase1, &phase1_hash, &mut rng).expect("verify")
        })
    });
    group.bench_function("phase1 verify, power 13", |b| {
        b.iter(|| phase1.verify(&mut rng).expect("verify"))
    });
    group.finish();
}

criterion_group!(benches, bench_phase2);
criterion_main!(benches);
