//! Proving and verification benchmarks (`cargo bench --bench proof`).

use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::{BigInt, PrimeField, UniformRand};
use criterion::{criterion_group, criterion_main, Criterion};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use undersign::core::attributes::{Attributes, Mask};
use undersign::core::identity::{member_leaf, IdentitySecret};
use undersign::core::merkle::MerkleTree;
use undersign::proof::encoding::ProofBytes;
use undersign::proof::inputs::InputCommitment;
use undersign::proof::msm;
use undersign::proof::subgroup::g2_in_subgroup_assuming_on_curve;
use undersign::proof::{KeySet, Prover, PublicInputs, Statement};

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

/// The per-signature pieces of an audit, one at a time on one core: decoding (with subgroup
/// checks), the G2 preparation and Miller loop each proof needs, and the final exponentiation a
/// batch shares.
fn bench_verify_parts(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let a = (G1Projective::generator() * Fr::rand(&mut rng)).into_affine();
    let b = (G2Projective::generator() * Fr::rand(&mut rng)).into_affine();
    let proof = undersign::proof::Proof { a, b, c: a };
    let bytes = ProofBytes::encode(&proof).expect("encode");
    let mut group = c.benchmark_group("verify parts");
    group.bench_function("decode proof (3 points, subgroup checks)", |bench| {
        bench.iter(|| bytes.decode().expect("decode"))
    });
    group.bench_function("G2 subgroup check, 2022/348", |bench| {
        bench.iter(|| g2_in_subgroup_assuming_on_curve(&b))
    });
    group.bench_function("G2 subgroup check, arkworks", |bench| {
        bench.iter(|| b.is_in_correct_subgroup_assuming_on_curve())
    });
    group.bench_function("G2 prepare", |bench| {
        bench.iter(|| <Bn254 as Pairing>::G2Prepared::from(b))
    });
    let prepared = <Bn254 as Pairing>::G2Prepared::from(b);
    group.bench_function("Miller loop, one pair (prepared G2)", |bench| {
        bench.iter(|| Bn254::multi_miller_loop([a], [prepared.clone()]))
    });
    let miller = Bn254::multi_miller_loop([a], [prepared.clone()]);
    group.bench_function("final exponentiation", |bench| {
        bench.iter(|| Bn254::final_exponentiation(miller))
    });
    // The commitment to six public inputs: precomputed tables against arkworks' way (one
    // double-and-add per input, as in `Groth16::prepare_inputs`).
    let gamma_abc: Vec<G1Affine> = (0..7)
        .map(|_| (G1Projective::generator() * Fr::rand(&mut rng)).into_affine())
        .collect();
    let public = PublicInputs {
        root: Fr::rand(&mut rng),
        scope: Fr::rand(&mut rng),
        nullifier: Fr::rand(&mut rng),
        message: Fr::rand(&mut rng),
        mask: Fr::from(5u64),
        disclosed: Fr::from(0x0004_0001u64),
    };
    let inputs = public.to_vec();
    let tables = InputCommitment::new(&gamma_abc).expect("seven bases");
    group.bench_function("input commitment, 6 inputs, tables", |bench| {
        bench.iter(|| tables.commit(&public))
    });
    group.bench_function("input commitment, 6 inputs, arkworks", |bench| {
        bench.iter(|| {
            let mut sum = G1Projective::from(gamma_abc[0]);
            for (x, base) in inputs.iter().zip(&gamma_abc[1..]) {
                sum += base.mul_bigint(x.into_bigint());
            }
            sum
        })
    });
    group.finish();
}

/// The prover's multi-scalar multiplications at depth 20 (about 5,600 variables; the `H` query
/// has 8,192 points): batch-affine buckets (`undersign::proof::msm`) against arkworks'.
fn bench_msm(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let mut group = c.benchmark_group("msm");
    group.sample_size(10);
    let g1: Vec<G1Affine> = (0..8192)
        .map(|_| (G1Projective::generator() * Fr::rand(&mut rng)).into_affine())
        .collect();
    let g2: Vec<G2Affine> = (0..5600)
        .map(|_| (G2Projective::generator() * Fr::rand(&mut rng)).into_affine())
        .collect();
    let scalars: Vec<BigInt<4>> = (0..8192)
        .map(|_| Fr::rand(&mut rng).into_bigint())
        .collect();
    for n in [5600usize, 8192] {
        group.bench_function(format!("G1, {n} points, batch-affine"), |b| {
            b.iter(|| msm::msm(&g1[..n], &scalars[..n]))
        });
        group.bench_function(format!("G1, {n} points, arkworks"), |b| {
            b.iter(|| G1Projective::msm_bigint(&g1[..n], &scalars[..n]))
        });
    }
    group.bench_function("G2, 5600 points, batch-affine", |b| {
        b.iter(|| msm::msm(&g2, &scalars[..5600]))
    });
    group.bench_function("G2, 5600 points, arkworks", |b| {
        b.iter(|| G2Projective::msm_bigint(&g2, &scalars[..5600]))
    });
    group.finish();
}

criterion_group!(benches, bench_prove_verify, bench_verify_parts, bench_msm);
criterion_main!(benches);
