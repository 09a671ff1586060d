//! Batch verification by random linear combination (`SPEC.md` §Proofs).
//!
//! For proofs `(A_i, B_i, C_i)` with prepared inputs `P_i` and random 128-bit `r_i`:
//!
//! `Π e(r_i·A_i, B_i) · e(Σ r_i·P_i, −γ) · e(Σ r_i·C_i, −δ) = e(α, β)^(Σ r_i)`
//!
//! which costs `k + 2` Miller loops and one final exponentiation for `k` proofs instead of `3k`
//! and `k`. If any proof is invalid the equation fails except with probability about `2^-128`;
//! [`find_invalid`] then bisects to name every bad proof. Miller loops run on all cores.

use crate::verifier::Verifier;
use crate::{Proof, PublicInputs};
use ark_bn254::{Bn254, Fr, G1Affine, G1Projective};
use ark_ec::pairing::{MillerLoopOutput, Pairing};
use ark_ec::{CurveGroup, VariableBaseMSM};
use ark_ff::{CyclotomicMultSubgroup, One, PrimeField, Zero};
use rand::{CryptoRng, RngCore};
use rayon::prelude::*;

/// A proof with the public inputs it claims.
pub type Item = (Proof, PublicInputs);

/// Below this many proofs a batch is verified one by one (no gain from combining).
const MIN_BATCH: usize = 2;

/// Whether every proof in `items` verifies (false positives: probability ≤ 2^-128 per call).
pub fn verify_batch<R: RngCore + CryptoRng>(
    verifier: &Verifier,
    items: &[Item],
    rng: &mut R,
) -> bool {
    match items.len() {
        0 => true,
        n if n < MIN_BATCH => items
            .iter()
            .all(|(proof, public)| verifier.verify(proof, public)),
        _ => {
            let coefficients: Vec<Fr> = items.iter().map(|_| Fr::from(random_u128(rng))).collect();
            combined_check(verifier, items, &coefficients)
        }
    }
}

/// The indices of every proof in `items` that does not verify, found by bisection: a batch
/// that passes clears all its proofs at once.
pub fn find_invalid<R: RngCore + CryptoRng>(
    verifier: &Verifier,
    items: &[Item],
    rng: &mut R,
) -> Vec<usize> {
    let mut bad = Vec::new();
    bisect(verifier, items, 0, rng, &mut bad);
    bad
}

fn bisect<R: RngCore + CryptoRng>(
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
    bisect(verifier, &items[..mid], offset, rng, bad);
    bisect(verifier, &items[mid..], offset + mid, rng, bad);
}

fn random_u128<R: RngCore>(rng: &mut R) -> u128 {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    // A zero coefficient would drop its proof from the check.
    u128::from_le_bytes(bytes).max(1)
}

fn combined_check(verifier: &Verifier, items: &[Item], r: &[Fr]) -> bool {
    let vk = verifier.verifying_key();
    let prepared = verifier.prepared();

    // Σ r_i·P_i = (Σ r_i)·γ_abc[0] + Σ_j (Σ_i r_i·x_ij)·γ_abc[j+1].
    let r_sum: Fr = r.iter().sum();
    let mut input_scalars = vec![Fr::zero(); crate::NUM_PUBLIC_INPUTS + 1];
    input_scalars[0] = r_sum;
    for ((_, public), ri) in items.iter().zip(r) {
        for (scalar, x) in input_scalars[1..].iter_mut().zip(public.to_vec()) {
            *scalar += x * ri;
        }
    }
    let inputs = G1Projective::msm(&vk.gamma_abc_g1, &input_scalars);
    let c_points: Vec<G1Affine> = items.iter().map(|(proof, _)| proof.c).collect();
    let c_sum = G1Projective::msm(&c_points, r);
    let (Ok(inputs), Ok(c_sum)) = (inputs, c_sum) else {
        return false;
    };

    // Π e(r_i·A_i, B_i), one multi-Miller loop per core.
    let chunk = items
        .len()
        .div_ceil(rayon::current_num_threads().max(1))
        .max(1);
    let product = items
        .par_chunks(chunk)
        .zip(r.par_chunks(chunk))
        .map(|(items, r)| {
            let scaled: Vec<G1Projective> = items
                .iter()
                .zip(r)
                .map(|((proof, _), ri)| proof.a * ri)
                .collect();
            let scaled = G1Projective::normalize_batch(&scaled);
            let b: Vec<_> = items.iter().map(|(proof, _)| proof.b).collect();
            Bn254::multi_miller_loop(scaled, b).0
        })
        .reduce(<Bn254 as Pairing>::TargetField::one, |x, y| x * y);
    let tail = Bn254::multi_miller_loop(
        [inputs.into_affine(), c_sum.into_affine()].map(<Bn254 as Pairing>::G1Prepared::from),
        [
            prepared.gamma_g2_neg_pc.clone(),
            prepared.delta_g2_neg_pc.clone(),
        ],
    );
    let Some(lhs) = Bn254::final_exponentiation(MillerLoopOutput(product * tail.0)) else {
        return false;
    };
    let rhs = prepared
        .alpha_g1_beta_g2
        .cyclotomic_exp(r_sum.into_bigint());
    !lhs.0.is_zero() && lhs.0 == rhs
}
