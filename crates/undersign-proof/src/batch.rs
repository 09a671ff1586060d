//! Batch verification by random linear combination (`SPEC.md` §Proofs).
//!
//! For proofs `(A_i, B_i, C_i)` with prepared inputs `P_i` and random 128-bit `r_i`:
//!
//! `Π e(r_i·A_i, B_i) · e(Σ r_i·P_i, −γ) · e(Σ r_i·C_i, −δ) = e(α, β)^(Σ r_i)`
//!
//! which costs `k + 2` Miller loops and one final exponentiation for `k` proofs instead of `3k`
//! and `k`. If any proof is invalid the equation fails except with probability about `2^-128`;
//! [`find_invalid`] then bisects to name every bad proof, within a work budget (see its doc).
//! Miller loops run on all cores.
//!
//! Each coefficient is `r_i = a_i + λ·b_i` with `a_i`, `b_i` drawn uniformly from `[0, 2^64)` by
//! a CSPRNG, where `λ` is the eigenvalue of the G1 endomorphism `φ(x, y) = (β·x, y)`. The `2^128`
//! pairs give `2^128` distinct coefficients (a collision would be a lattice vector shorter than
//! `2^65`; the shortest are about `2^127` long), so the soundness bound is unchanged, while
//! `r_i·A_i = a_i·A_i + b_i·φ(A_i)` costs 64 doublings instead of 128.

use crate::miller;
use crate::verifier::Verifier;
use crate::{Proof, PublicInputs};
use ark_bn254::{Bn254, Config, Fq12, Fr, G1Affine, G1Projective, G2Affine};
use ark_ec::bn::G2Prepared;
use ark_ec::pairing::{MillerLoopOutput, Pairing};
use ark_ec::{CurveGroup, VariableBaseMSM};
use ark_ff::{CyclotomicMultSubgroup, One, PrimeField, Zero};
use rand::{CryptoRng, RngCore};
use rayon::prelude::*;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use undersign_bn254::glv;

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

/// The indices of every proof in `items` that does not verify, in ascending order: the proofs
/// [`Verifier::verify`] rejects (a proof is named only after it failed on its own).
///
/// The whole batch is checked first; if it fails, it is bisected: a sub-batch that passes
/// clears all its proofs at once, and a failing one is split again. Bisection pays off when
/// few proofs are bad; when many are, every level of it fails, and it would cost several times
/// verifying each proof alone (with every other proof bad, 3.8 times for 64 proofs and 4.7
/// for 4,096). So the batch checks that fail, the first included, may cost at most three
/// eighths of verifying every proof alone, plus a quarter of a single verification for each
/// proof cleared by a check that passed; a check that could exceed this budget is not made, and
/// the proofs it would have covered are verified one by one, as are those of failing
/// sub-batches of at most [`ONE_BY_ONE_MAX`] proofs. Any pattern of bad proofs then costs at
/// most 1.375 times verifying each proof alone (from 9 proofs on, in the work model below,
/// which follows measured times), while one bad proof among 1,024 still costs less than half
/// of that, and two less than two thirds.
pub fn find_invalid<R: RngCore + CryptoRng>(
    verifier: &Verifier,
    items: &[Item],
    rng: &mut R,
) -> Vec<usize> {
    search(
        items.len(),
        &mut Proofs {
            verifier,
            items,
            rng,
        },
    )
}

/// Failing sub-batches of at most this many proofs are verified one by one: for them, checks
/// that fail waste about what the checks that pass save.
pub const ONE_BY_ONE_MAX: usize = 8;

/// The work of one single verification, in units of one Miller-loop pair: 3 pairs and a final
/// exponentiation, worth about 4 (measured on a 2-core host at 17 ns per field
/// multiplication: 1.3 ms to verify one proof, 0.15–0.18 ms more per proof in a batch check).
const SINGLE_WORK: u64 = 7;

/// The work of a batch check besides one unit per proof: 2 pairs, a final exponentiation, the
/// exponentiation of `e(α, β)` and two MSMs (measured: 4.2, 5.3, 7.9 and 13.5 ms for checks of
/// 8, 16, 32 and 64 proofs, so about 2.6 ms, or 14 units, plus 0.17 ms per proof).
const CHECK_FIXED_WORK: u64 = 14;

/// The failing checks' budget: `BUDGET_ALONE` of the work of verifying every proof alone, plus
/// `BUDGET_CLEARED` of the work of verifying alone each proof cleared by a check that passed,
/// as (numerator, denominator).
///
/// Why the total is at most `1 + 3/8` times the work of verifying every proof alone: the
/// failing checks cost at most `3/8` of it plus a quarter of `SINGLE_WORK` per cleared proof; a
/// check that passes clears `k ≥ 4` proofs (the whole batch, or half of a sub-batch larger than
/// [`ONE_BY_ONE_MAX`]) for `14 + k ≤ 4.5·k` units, so with the quarter it earns it costs less
/// than the `7·k` of verifying them alone; every other proof is verified alone once. (The
/// first check of a batch of at most 8 proofs can exceed the budget by itself.)
const BUDGET_ALONE: (u64, u64) = (3, 8);
/// See [`BUDGET_ALONE`].
const BUDGET_CLEARED: (u64, u64) = (1, 4);

/// The work of a batch check of `k` proofs, in the units of [`SINGLE_WORK`].
fn check_work(k: usize) -> u64 {
    CHECK_FIXED_WORK + k as u64
}

/// The two ways [`search`] can test proofs.
pub(crate) trait Oracle {
    /// Whether the proofs `range` pass the batch equation together (`range` holds at least
    /// two).
    fn check(&mut self, range: Range<usize>) -> bool;
    /// Whether proof `index` verifies on its own.
    fn verify_one(&mut self, index: usize) -> bool;
}

/// The oracle of [`find_invalid`]: batch checks by [`verify_batch`], single proofs by
/// [`Verifier::verify`].
struct Proofs<'a, R> {
    verifier: &'a Verifier,
    items: &'a [Item],
    rng: &'a mut R,
}

impl<R: RngCore + CryptoRng> Oracle for Proofs<'_, R> {
    fn check(&mut self, range: Range<usize>) -> bool {
        verify_batch(self.verifier, &self.items[range], self.rng)
    }

    fn verify_one(&mut self, index: usize) -> bool {
        let (proof, public) = &self.items[index];
        self.verifier.verify(proof, public)
    }
}

/// The indices, ascending, of the proofs among `0..n` that fail on their own, found with
/// `oracle` as [`find_invalid`] describes.
pub(crate) fn search<O: Oracle>(n: usize, oracle: &mut O) -> Vec<usize> {
    let mut search = Search {
        oracle,
        budget_base: (n as u64).saturating_mul(SINGLE_WORK * BUDGET_ALONE.0 * BUDGET_CLEARED.1),
        failed_work: 0,
        cleared: 0,
        invalid: Vec::new(),
    };
    match n {
        0 => {}
        1 => search.one_by_one(0..1),
        _ => {
            if !search.check(0..n) {
                search.failing(0..n);
            }
        }
    }
    search.invalid
}

/// The state of one [`search`].
struct Search<'a, O> {
    oracle: &'a mut O,
    /// The budget's fixed part, scaled by both denominators (see [`Search::affords`]).
    budget_base: u64,
    /// The work of the checks that failed so far.
    failed_work: u64,
    /// The proofs cleared by checks that passed so far.
    cleared: u64,
    /// The proofs found invalid, ascending.
    invalid: Vec<usize>,
}

impl<O: Oracle> Search<'_, O> {
    /// Whether a check of `k` proofs keeps the failing checks within the budget should it fail.
    fn affords(&self, k: usize) -> bool {
        let spent =
            (self.failed_work + check_work(k)).saturating_mul(BUDGET_ALONE.1 * BUDGET_CLEARED.1);
        let earned = self
            .cleared
            .saturating_mul(SINGLE_WORK * BUDGET_CLEARED.0 * BUDGET_ALONE.1);
        spent <= self.budget_base.saturating_add(earned)
    }

    /// A batch check, with its work accounted.
    fn check(&mut self, range: Range<usize>) -> bool {
        let len = range.len();
        let passed = self.oracle.check(range);
        if passed {
            self.cleared += len as u64;
        } else {
            self.failed_work += check_work(len);
        }
        passed
    }

    /// Verifies each proof of `range` on its own.
    fn one_by_one(&mut self, range: Range<usize>) {
        for index in range {
            if !self.oracle.verify_one(index) {
                self.invalid.push(index);
            }
        }
    }

    /// Names the invalid proofs of `range`, which holds at least one (its check failed, or it
    /// is the second half of a failing batch whose first half passed). Both halves are checked
    /// before either is searched, so that a half that passes earns budget early.
    fn failing(&mut self, range: Range<usize>) {
        let mid = range.start + range.len() / 2;
        let (left, right) = (range.start..mid, mid..range.end);
        if range.len() <= ONE_BY_ONE_MAX || !self.affords(left.len()) {
            return self.one_by_one(range);
        }
        if self.check(left.clone()) {
            return self.failing(right);
        }
        if !self.affords(right.len()) {
            self.failing(left);
            return self.one_by_one(right);
        }
        if self.check(right.clone()) {
            return self.failing(left);
        }
        self.failing(left);
        self.failing(right);
    }
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
        glv::scalar(self.a, self.b)
    }

    /// `(a + λ·b)·P` as `a·P + b·φ(P)` (`undersign_bn254::glv`).
    fn mul(self, point: &G1Affine) -> G1Projective {
        glv::mul_split(self.a, self.b, point)
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
        c_points.push(glv::endomorphism(&proof.c));
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

    /// An oracle over a pattern of bad proofs that counts the work asked of it: Miller-loop
    /// pairs and final exponentiations (a check of `k` proofs: `k + 2` pairs and one; a single
    /// verification: 3 pairs and one), and the weighted work of [`SINGLE_WORK`] units.
    struct Pattern {
        bad: Vec<bool>,
        checks: Vec<Range<usize>>,
        singles: Vec<usize>,
    }

    impl Pattern {
        fn new(bad: Vec<bool>) -> Self {
            Self {
                bad,
                checks: Vec::new(),
                singles: Vec::new(),
            }
        }

        fn miller_pairs(&self) -> usize {
            self.checks.iter().map(|r| r.len() + 2).sum::<usize>() + 3 * self.singles.len()
        }

        fn final_exponentiations(&self) -> usize {
            self.checks.len() + self.singles.len()
        }

        fn work(&self) -> u64 {
            self.checks.iter().map(|r| check_work(r.len())).sum::<u64>()
                + SINGLE_WORK * self.singles.len() as u64
        }

        /// This work over that of verifying every proof alone.
        fn ratio(&self) -> f64 {
            self.work() as f64 / (SINGLE_WORK * self.bad.len() as u64) as f64
        }

        fn truth(&self) -> Vec<usize> {
            (0..self.bad.len()).filter(|&i| self.bad[i]).collect()
        }
    }

    impl Oracle for Pattern {
        fn check(&mut self, range: Range<usize>) -> bool {
            assert!(range.len() >= 2, "a check of {range:?}");
            self.checks.push(range.clone());
            !self.bad[range].iter().any(|&b| b)
        }

        fn verify_one(&mut self, index: usize) -> bool {
            self.singles.push(index);
            !self.bad[index]
        }
    }

    /// The search before the work budget: plain bisection, a failing batch split in halves
    /// down to single proofs (checks of one proof are single verifications).
    fn plain_bisection(oracle: &mut Pattern, range: Range<usize>, bad: &mut Vec<usize>) {
        if range.is_empty() {
            return;
        }
        if range.len() == 1 {
            if !oracle.verify_one(range.start) {
                bad.push(range.start);
            }
            return;
        }
        if oracle.check(range.clone()) {
            return;
        }
        let mid = range.start + range.len() / 2;
        plain_bisection(oracle, range.start..mid, bad);
        plain_bisection(oracle, mid..range.end, bad);
    }

    /// Named patterns of bad proofs among `n`, and random ones of several densities.
    fn patterns(n: usize, rng: &mut ChaCha20Rng) -> Vec<(String, Vec<bool>)> {
        let by =
            |name: &str, f: &dyn Fn(usize) -> bool| (name.to_string(), (0..n).map(f).collect());
        let mut out = vec![
            by("all valid", &|_| false),
            by("all invalid", &|_| true),
            by("every other", &|i| i % 2 == 1),
            by("every other, from the first", &|i| i % 2 == 0),
            by("first", &|i| i == 0),
            by("last", &|i| i + 1 == n),
            by("first and last", &|i| i == 0 || i + 1 == n),
            by("middle", &|i| i == n / 2),
            by("every 4th", &|i| i % 4 == 3),
            by("every 16th", &|i| i % 16 == 5),
            by("every 64th", &|i| i % 64 == 9),
            by("first quarter", &|i| i < n / 4),
        ];
        for density in [0.01, 0.05, 0.25, 0.5, 0.9] {
            let bad = (0..n)
                .map(|_| (rng.next_u32() as f64) < density * 4_294_967_296.0)
                .collect();
            out.push((format!("random {density}"), bad));
        }
        for count in [2, 3, 4] {
            let mut bad = vec![false; n];
            for _ in 0..count {
                bad[rng.next_u32() as usize % n] = true;
            }
            out.push((format!("{count} at random"), bad));
        }
        out
    }

    const SIZES: [usize; 16] = [
        1, 2, 3, 5, 8, 9, 16, 17, 31, 33, 64, 100, 128, 255, 1024, 4096,
    ];

    /// The search names exactly the bad proofs, ascending, on every pattern and size, and
    /// verifies no proof on its own twice.
    #[test]
    fn search_names_exactly_the_bad_proofs() {
        let mut rng = ChaCha20Rng::seed_from_u64(31);
        for n in SIZES {
            for (name, bad) in patterns(n, &mut rng) {
                let mut oracle = Pattern::new(bad);
                let found = search(n, &mut oracle);
                assert_eq!(found, oracle.truth(), "n={n} {name}");
                let mut singles = oracle.singles.clone();
                singles.sort_unstable();
                singles.dedup();
                assert_eq!(singles.len(), oracle.singles.len(), "n={n} {name}");
            }
        }
        // Every single position of one bad proof, in a batch with a budget to bisect it.
        for i in 0..64 {
            let mut oracle = Pattern::new((0..64).map(|j| j == i).collect());
            assert_eq!(search(64, &mut oracle), vec![i]);
        }
    }

    /// From 9 proofs on no pattern costs more than 1.375 times verifying every proof alone, the
    /// bound of [`find_invalid`]. With every other proof bad, plain bisection costs 3.4 to 4.7
    /// times (3 to 5.7 times the Miller loops, twice the final exponentiations) from 16 to
    /// 4,096 proofs; the search 1.27 to 1.375 times (at most twice the Miller loops, and at
    /// most 8 final exponentiations more).
    #[test]
    fn search_work_is_bounded() {
        let mut rng = ChaCha20Rng::seed_from_u64(32);
        for n in SIZES.into_iter().filter(|&n| n > ONE_BY_ONE_MAX) {
            for (name, bad) in patterns(n, &mut rng) {
                let mut oracle = Pattern::new(bad);
                search(n, &mut oracle);
                assert!(oracle.ratio() <= 1.375, "n={n} {name}: {}", oracle.ratio());
            }
        }
        for n in [16, 32, 64, 128, 1024, 4096] {
            let every_other: Vec<bool> = (0..n).map(|i| i % 2 == 1).collect();
            let mut ours = Pattern::new(every_other.clone());
            assert_eq!(search(n, &mut ours), ours.truth());
            let mut plain = Pattern::new(every_other);
            let mut found = Vec::new();
            plain_bisection(&mut plain, 0..n, &mut found);
            assert_eq!(found, plain.truth());
            let (pairs, exps) = (ours.miller_pairs(), ours.final_exponentiations());
            let (plain_pairs, plain_exps) = (plain.miller_pairs(), plain.final_exponentiations());
            let text = format!(
                "n={n}: work {:.3} (plain {:.3}), pairs {pairs} (plain {plain_pairs}), \
                 final exponentiations {exps} (plain {plain_exps}), alone {} and {n}",
                ours.ratio(),
                plain.ratio(),
                3 * n
            );
            assert!(ours.ratio() <= 1.375, "{text}");
            assert!(pairs <= 2 * 3 * n, "{text}");
            assert!(exps <= n + 8, "{text}");
            assert!(plain.ratio() > 3.0, "{text}");
            assert!(plain_exps + 1 >= 2 * n, "{text}");
            assert!(plain_pairs * 10 >= 3 * n * 29, "{text}");
        }
    }

    /// The budget leaves sparse batches to bisection: among 1,024 or 4,096 proofs, one bad
    /// proof anywhere costs less than half of verifying every proof alone, two less than two
    /// thirds; all valid, one check.
    #[test]
    fn sparse_batches_are_still_bisected() {
        for n in [1024, 4096] {
            for i in (0..n).step_by(n / 128).chain([n - 1]) {
                let mut oracle = Pattern::new((0..n).map(|j| j == i).collect());
                assert_eq!(search(n, &mut oracle), vec![i]);
                assert!(oracle.ratio() < 0.5, "n={n} {i}: {}", oracle.ratio());
                assert!(oracle.singles.len() <= ONE_BY_ONE_MAX, "n={n} {i}");
            }
            for bad_at in [
                [0, n - 1],
                [5, n - 7],
                [n / 2 - 1, n / 2],
                [3, 4],
                [n / 3, n / 2 + 9],
            ] {
                let mut oracle = Pattern::new((0..n).map(|i| bad_at.contains(&i)).collect());
                assert_eq!(search(n, &mut oracle), bad_at);
                assert!(
                    oracle.ratio() < 0.67,
                    "n={n} {bad_at:?}: {}",
                    oracle.ratio()
                );
                assert!(oracle.singles.len() <= 2 * ONE_BY_ONE_MAX, "{bad_at:?}");
            }
            let mut oracle = Pattern::new(vec![false; n]);
            assert!(search(n, &mut oracle).is_empty());
            assert_eq!(oracle.checks, vec![0..n]);
            assert!(oracle.singles.is_empty());
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
