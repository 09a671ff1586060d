//! Prints this machine's speed for the primitive every Undersign cost is made of: one BN254
//! field multiplication (scalar field `Fr`, base field `Fq`), as a dependent chain, the same
//! measurement as `cargo bench --bench core -- field`. The project's VM changes speed with its
//! host (twofold within a day), so `scripts/measure-scale.sh` prints this beside its
//! whole-process figures: compare runs by it.
//!
//! `cargo run --release --example host_speed`

use std::time::Instant;

use ark_bn254::{Fq, Fr};
use ark_ff::Field;
use ark_std::UniformRand;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Multiplications per timed run.
const CHAIN: u32 = 200_000;
/// Timed runs; the median is printed.
const RUNS: usize = 21;

/// Median time of one multiplication in a chain of `CHAIN`, in nanoseconds.
fn median_multiplication<F: Field + UniformRand>(rng: &mut ChaCha20Rng) -> f64 {
    let (x, y) = (F::rand(rng), F::rand(rng));
    let mut runs: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let mut acc = std::hint::black_box(x);
            for _ in 0..CHAIN {
                acc *= y;
            }
            std::hint::black_box(acc);
            start.elapsed().as_secs_f64() * 1e9 / f64::from(CHAIN)
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[RUNS / 2]
}

fn main() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let fr = median_multiplication::<Fr>(&mut rng);
    let fq = median_multiplication::<Fq>(&mut rng);
    println!(
        "host speed: one field multiplication takes {:.1} ns (Fr), {:.1} ns (Fq); \
         15.7 ns was a fast day, 30-37 ns slow ones",
        fr, fq
    );
}
