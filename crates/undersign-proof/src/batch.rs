//! Batch verification by random linear combination (`SPEC.md` §Proofs).
//!
//! For proofs `(A_i, B_i, C_i)` with prepared inputs `P_i` and random 128-bit `r_i`:
//!
//! `Π e(r_i·A_i, B_i) · e(Σ r_i·P_i, −γ) · e(Σ r_i·C_i, −δ) = e(α, β)^(Σ r_i)`
//!
//! which costs `k + 2` Miller loops and one final exponentiation for `k` proofs instead of `3k`
//! and `k`. If any proof is invalid the equation fails except with probability about `2^-128`;
//! [`find_invalid`] then bisects to name every bad proof. Miller loops run on all cores.
//!
//! Each coefficient is `r_i = a_i + λ·b_i` with `a_i`, `b_i` drawn uniformly from `[0, 2^64)` by
//! a CSPRNG, where `λ` is the eigenvalue of the G1 endomorphism `φ(x, y) = (β·x, y)`. The `2^128`
//! pairs give `2^128` distinct coefficients (a collision would be a lattice vector shorter than
//! `2^65`; the shortest are about `2^127` long), so the soundness bound is unchanged, while
//! `r_i·A_i = a_i·A_i + b_i·φ(A_i)` costs 64 doublings instead of 128.

use crate::miller;
use crate::verifier::Verifier;
use crate::{Proof, PublicInputs};
use ark_bn254::{
    g1::Config as G1Config, Bn254, Config, Fq12, Fr, G1Affine, G1Projective, G2Affine,
};
use ark_ec::bn::G2Prepared;
use ark_ec::pairing::{MillerLoopOutput, Pairing};
use ark_ec::scalar_mul::glv::GLVConfig;
use ark_ec::{CurveGroup, VariableBaseMSM};
use ark_ff::{AdditiveGroup, CyclotomicMultSubgroup, One, PrimeField, Zero};
use rand::{CryptoRng, RngCore};
use rayon::prelude::*;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A proof with the public inputs it claims.
pub type Item = (Proof, PublicInputs);

/// Below this many proofs a batch is verified one by one (no gain from combining).
const MIN_BATCH: usize = 2;

/// The fewest pairs one multi-Miller loop handles when a batch is split across cores (twice
/// [`MIN_AFFINE_PAIRS`], so that every chunk of a large batch runs the affine loop).
const MIN_MILLER_CHUNK: usize = 32;

/// The fewest pairs for which a chunk's Miller loop runs in affine coordinates
/// ([`miller::multi_miller_loop_affine`]). Its 87 shared `Fq2` inversions (≈ 7 µs each on a
/// 22–30 ns host) cost about what the affine loop saves on 5–6 pairs (≈ 115 µs per pair, in
/// whole-process audits on such a host); smaller chunks (the tail of a bisection) use the
/// projective loop.
const MIN_AFFINE_PAIRS: usize = 16;

/// Whether every proof in `items` verifies (false positives: probability ≤ 2^-128 per call).
///
/// The proofs' points must come from decoding ([`crate::ProofBytes::decode`]: on the curve
/// and in their subgroups), as for [`Verifier::verify`]; the soundness bound is for such
/// points only.
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
            let coefficients: Vec<Coefficient> =
                items.iter().map(|_| Coefficient::random(rng)).collect();
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

/// A batch coefficient `a + λ·b` with 64-bit halves (see the module docs).
#[derive(Clone, Copy)]
struct Coefficient {
    a: u64,
    b: u64,
}

impl Coefficient {
    fn random<R: RngCore>(rng: &mut R) -> Self {
        loop {
            let (a, b) = (rng.next_u64(), rng.next_u64());
            // A zero coefficient would drop its proof from the check.
            if a != 0 || b != 0 {
                return Self { a, b };
            }
        }
    }

    /// The coefficient as a scalar: `a + λ·b`.
    fn scalar(self) -> Fr {
        Fr::from(self.a) + <G1Config as GLVConfig>::LAMBDA * Fr::from(self.b)
    }

    /// `(a + λ·b)·P` as `a·P + b·φ(P)`: one joint double-and-add over 64 bits.
    fn mul(self, point: &G1Affine) -> G1Projective {
        let phi = <G1Config as GLVConfig>::endomorphism_affine(point);
        let both = *point + phi;
        let mut acc = G1Projective::zero();
        for bit in (0..64).rev() {
            acc.double_in_place();
            match ((self.a >> bit) & 1 == 1, (self.b >> bit) & 1 == 1) {
                (true, true) => acc += both,
                (true, false) => acc += point,
                (false, true) => acc += phi,
                (false, false) => {}
            }
        }
        acc
    }
}

/// `Π e(r_i·A_i, B_i)` over one chunk, before the final exponentiation (up to a factor the
/// final exponentiation removes). `None` only where the projective loop would also fail.
fn chunk_miller_product(items: &[Item], coefficients: &[Coefficient]) -> Option<Fq12> {
    let scaled: Vec<G1Projective> = items
        .iter()
        .zip(coefficients)
        .map(|((proof, _), coefficient)| coefficient.mul(&proof.a))
        .collect();
    let scaled = G1Projective::normalize_batch(&scaled);
    if items.len() >= MIN_AFFINE_PAIRS {
        let pairs: Vec<(G1Affine, G2Affine)> = scaled
            .iter()
            .zip(items)
            .map(|(a, (proof, _))| (*a, proof.b))
            .collect();
        // The affine loop refuses only inputs decoding never yields (see its doc).
        if let Some(product) = miller::multi_miller_loop_affine(&pairs) {
            return Some(product);
        }
    }
    let b: Vec<G2Prepared<Config>> = items.iter().map(|(proof, _)| proof.b.into()).collect();
    let pairs: Vec<(G1Affine, &G2Prepared<Config>)> = scaled.into_iter().zip(&b).collect();
    miller::multi_miller_loop(&pairs)
}

/// Splits `n` pairs into the chunks of [`combined_check`]'s Miller loops, in the order cores
/// take them: each chunk is `1 / (2·threads)` of what remains (guided scheduling), at least
/// [`MIN_MILLER_CHUNK`]. Early chunks are large, so that each loop's shared work (one squaring
/// and one inversion per step) stays small beside its pairs; the last are small, so that the
/// cores finish together instead of one idling while the other ends a large chunk.
fn miller_chunks(n: usize, threads: usize) -> Vec<Range<usize>> {
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < n {
        let remaining = n - start;
        let mut size = (remaining / (2 * threads)).max(MIN_MILLER_CHUNK);
        if remaining < size + MIN_MILLER_CHUNK {
            size = remaining;
        }
        chunks.push(start..start + size);
        start += size;
    }
    chunks
}

/// Whether the batch equation holds for `items` with these coefficients.
fn combined_check(verifier: &Verifier, items: &[Item], coefficients: &[Coefficient]) -> bool {
    let vk = verifier.verifying_key();
    let prepared = verifier.prepared();
    let r: Vec<Fr> = coefficients.iter().map(|c| c.scalar()).collect();

    // Σ r_i·P_i = (Σ r_i)·γ_abc[0] + Σ_j (Σ_i r_i·x_ij)·γ_abc[j+1].
    let r_sum: Fr = r.iter().sum();
    let mut input_scalars = vec![Fr::zero(); crate::NUM_PUBLIC_INPUTS + 1];
    input_scalars[0] = r_sum;
    for ((_, public), ri) in items.iter().zip(&r) {
        for (scalar, x) in input_scalars[1..].iter_mut().zip(public.to_vec()) {
            *scalar += x * ri;
        }
    }
    let inputs = G1Projective::msm(&vk.gamma_abc_g1, &input_scalars);
    // Σ r_i·C_i = Σ a_i·C_i + b_i·φ(C_i): an MSM over 2k points with 64-bit scalars.
    let mut c_points = Vec::with_capacity(2 * items.len());
    let mut c_scalars = Vec::with_capacity(2 * items.len());
    for ((proof, _), coefficient) in items.iter().zip(coefficients) {
        c_points.push(proof.c);
        c_points.push(<G1Config as GLVConfig>::endomorphism_affine(&proof.c));
        c_scalars.push(Fr::from(coefficient.a));
        c_scalars.push(Fr::from(coefficient.b));
    }
    let c_sum = G1Projective::msm(&c_points, &c_scalars);
    let (Ok(inputs), Ok(c_sum)) = (inputs, c_sum) else {
        return false;
    };

    // Π e(r_i·A_i, B_i) as multi-Miller loops over chunks, handed out in order to one task per
    // core (see `miller_chunks`).
    debug_assert_eq!(items.len(), coefficients.len());
    let threads = rayon::current_num_threads().max(1);
    let chunks = miller_chunks(items.len(), threads);
    let next_chunk = AtomicUsize::new(0);
    let product = (0..threads)
        .into_par_iter()
        .with_max_len(1)
        .map(|_| {
            let mut product = <Bn254 as Pairing>::TargetField::one();
            while let Some(range) = chunks.get(next_chunk.fetch_add(1, Ordering::Relaxed)) {
                let range = range.clone();
                product *= chunk_miller_product(&items[range.clone()], &coefficients[range])?;
            }
            Some(product)
        })
        .reduce(
            || Some(<Bn254 as Pairing>::TargetField::one()),
            |x, y| Some(x? * y?),
        );
    let Some(product) = product else {
        return false;
    };
    let Some(tail) = miller::multi_miller_loop(&[
        (inputs.into_affine(), &prepared.gamma_g2_neg_pc),
        (c_sum.into_affine(), &prepared.delta_g2_neg_pc),
    ]) else {
        return false;
    };
    let Some(lhs) = Bn254::final_exponentiation(MillerLoopOutput(product * tail)) else {
        return false;
    };
    let rhs = prepared
        .alpha_g1_beta_g2
        .cyclotomic_exp(r_sum.into_bigint());
    !lhs.0.is_zero() && lhs.0 == rhs
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::{AffineRepr, PrimeGroup};
    use ark_ff::UniformRand;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn endomorphism_multiplies_by_lambda() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        for _ in 0..8 {
            let p = (G1Projective::generator() * Fr::rand(&mut rng)).into_affine();
            let phi = <G1Config as GLVConfig>::endomorphism_affine(&p);
            assert_eq!(G1Projective::from(phi), p * <G1Config as GLVConfig>::LAMBDA);
        }
    }

    #[test]
    fn split_multiplication_matches_the_scalar() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let edge = [
            (1, 0),
            (0, 1),
            (u64::MAX, u64::MAX),
            (u64::MAX, 0),
            (0, u64::MAX),
        ];
        let random = (0..32).map(|_| (rng.next_u64(), rng.next_u64()));
        let cases: Vec<(u64, u64)> = edge.into_iter().chain(random).collect();
        for (a, b) in cases {
            let coefficient = Coefficient { a, b };
            let p = (G1Projective::generator() * Fr::rand(&mut rng)).into_affine();
            assert_eq!(coefficient.mul(&p), p * coefficient.scalar(), "a={a} b={b}");
        }
    }

    #[test]
    fn random_coefficients_are_never_zero() {
        /// Yields zeros first, then ones.
        struct Zeros(u32);
        impl RngCore for Zeros {
            fn next_u32(&mut self) -> u32 {
                self.next_u64() as u32
            }
            fn next_u64(&mut self) -> u64 {
                self.0 += 1;
                u64::from(self.0 > 4)
            }
            fn fill_bytes(&mut self, dest: &mut [u8]) {
                dest.fill(0)
            }
            fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
                dest.fill(0);
                Ok(())
            }
        }
        let c = Coefficient::random(&mut Zeros(0));
        assert!(c.a != 0 || c.b != 0);
        assert!(!c.scalar().is_zero());
    }

    #[test]
    fn miller_chunks_cover_the_batch_in_shrinking_chunks() {
        for threads in [1, 2, 3, 16] {
            for n in [0, 1, 2, 31, 32, 33, 63, 64, 65, 100, 1000, 4096, 100_000] {
                let chunks = miller_chunks(n, threads);
                // Contiguous, in order, covering 0..n.
                let mut next = 0;
                for chunk in &chunks {
                    assert_eq!(chunk.start, next, "n={n} threads={threads}");
                    assert!(!chunk.is_empty());
                    next = chunk.end;
                }
                assert_eq!(next, n);
                // Every chunk holds at least MIN_MILLER_CHUNK pairs unless the batch is smaller,
                // and none is larger than the one before (except the last, which may take the
                // remainder).
                for chunk in &chunks {
                    assert!(chunk.len() >= MIN_MILLER_CHUNK.min(n), "n={n} {chunks:?}");
                }
                for pair in chunks[..chunks.len().saturating_sub(1)].windows(2) {
                    assert!(pair[1].len() <= pair[0].len(), "n={n} {chunks:?}");
                }
                if let Some(last) = chunks.last() {
                    assert!(last.len() < 2 * MIN_MILLER_CHUNK + 1 || chunks.len() == 1);
                }
                // The first chunk is 1/(2·threads) of the batch when that is large enough.
                if n / (2 * threads) >= 2 * MIN_MILLER_CHUNK {
                    assert_eq!(chunks[0].len(), n / (2 * threads));
                }
            }
        }
    }

    /// `n` items with random group points (not proofs: only the Miller loop sees them).
    fn random_items(rng: &mut ChaCha20Rng, n: usize) -> (Vec<Item>, Vec<Coefficient>) {
        let zero = Fr::zero();
        let public = PublicInputs {
            root: zero,
            scope: zero,
            nullifier: zero,
            message: zero,
            mask: zero,
            disclosed: zero,
        };
        let items = (0..n)
            .map(|_| {
                let proof = Proof {
                    a: (G1Projective::generator() * Fr::rand(rng)).into_affine(),
                    b: (ark_bn254::G2Projective::generator() * Fr::rand(rng)).into_affine(),
                    c: G1Affine::generator(),
                };
                (proof, public)
            })
            .collect();
        let coefficients = (0..n).map(|_| Coefficient::random(rng)).collect();
        (items, coefficients)
    }

    /// The projective loop's product for the same chunk.
    fn projective_product(items: &[Item], coefficients: &[Coefficient]) -> Fq12 {
        let scaled: Vec<G1Affine> = items
            .iter()
            .zip(coefficients)
            .map(|((proof, _), c)| c.mul(&proof.a).into_affine())
            .collect();
        let b: Vec<G2Prepared<Config>> = items.iter().map(|(proof, _)| proof.b.into()).collect();
        let pairs: Vec<_> = scaled.into_iter().zip(&b).collect();
        miller::multi_miller_loop(&pairs).unwrap()
    }

    fn final_exp(f: Fq12) -> Fq12 {
        Bn254::final_exponentiation(MillerLoopOutput(f)).unwrap().0
    }

    #[test]
    fn chunk_product_affine_or_projective_is_the_same_pairing() {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        // Below MIN_AFFINE_PAIRS the projective loop runs: the same value exactly.
        let (items, coefficients) = random_items(&mut rng, MIN_AFFINE_PAIRS - 1);
        assert_eq!(
            chunk_miller_product(&items, &coefficients),
            Some(projective_product(&items, &coefficients))
        );
        // From MIN_AFFINE_PAIRS on, the affine loop: the same value after the final
        // exponentiation, but not before (so it did run).
        let (mut items, coefficients) = random_items(&mut rng, MIN_AFFINE_PAIRS + 3);
        let affine = chunk_miller_product(&items, &coefficients).unwrap();
        let projective = projective_product(&items, &coefficients);
        assert_ne!(affine, projective);
        assert_eq!(final_exp(affine), final_exp(projective));
        // A B with y = 0 (off the curve) makes the affine loop refuse; the chunk falls back
        // to the projective loop rather than failing.
        items[4].0.b = G2Affine::new_unchecked(items[4].0.b.x, ark_bn254::Fq2::zero());
        assert_eq!(
            chunk_miller_product(&items, &coefficients),
            Some(projective_product(&items, &coefficients))
        );
    }
}
