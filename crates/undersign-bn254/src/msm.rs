//! Multi-scalar multiplication with batch-affine bucket accumulation, for the prover.
//!
//! [`msm`] computes `Σ kᵢ·Pᵢ` like arkworks' `VariableBaseMSM::msm_bigint` (and returns the
//! same point), with the same windowed bucket method (Pippenger, signed digits) but a cheaper
//! way to fill the buckets. arkworks adds each point into a projective bucket: one mixed
//! addition, about 11 field multiplications. Here each window first sorts the points by
//! bucket, then sums every bucket's points pairwise in affine coordinates, all buckets at
//! once, round after round: the slopes of all pairs of a round share one field inversion
//! (Montgomery's trick), so an addition costs about 6 multiplications. The buckets are then
//! combined with the usual running sum in projective coordinates.
//!
//! Scalars are taken as signed: `k` or `−(r − k)`, whichever is shorter, so that small
//! negative scalars cost as little as small positive ones.

use ark_bn254::{Fq, Fq2};
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AdditiveGroup, AffineRepr};
use ark_ff::{BigInt, BigInteger, Field, PrimeField};
use rayon::prelude::*;
use zeroize::{Zeroize, Zeroizing};

/// The multiplication of a curve's base field that the affine additions use: arkworks' for
/// `Fq` (G1), the Karatsuba product with one reduction per coefficient ([`crate::lazy::mul`])
/// for `Fq2` (G2).
pub trait AffineMul: Field {
    /// `self · other`.
    fn affine_mul(&self, other: &Self) -> Self;
}

impl AffineMul for Fq {
    #[inline(always)]
    fn affine_mul(&self, other: &Self) -> Self {
        *self * other
    }
}

impl AffineMul for Fq2 {
    #[inline(always)]
    fn affine_mul(&self, other: &Self) -> Self {
        crate::lazy::mul(self, other)
    }
}

/// `Σ scalars[i]·bases[i]` over the first `min(bases.len(), scalars.len())` pairs.
///
/// `scalars` are canonical integers (below the group order), as `PrimeField::into_bigint`
/// returns them. Bases at infinity and zero scalars are skipped. Bases are expected in the
/// prime-order subgroup (a proving key's are): only there does `−(r − k)·P` equal `k·P`.
pub fn msm<P: SWCurveConfig>(
    bases: &[Affine<P>],
    scalars: &[<P::ScalarField as PrimeField>::BigInt],
) -> Projective<P>
where
    P::BaseField: AffineMul,
    P::ScalarField: PrimeField<BigInt = BigInt<4>>,
{
    // The scalars may be a witness (the prover's): their magnitudes and digits are zeroized
    // when dropped.
    let terms = Zeroizing::new(signed_terms(bases, scalars));
    let Some(bits) = terms.iter().map(|t| t.magnitude.num_bits()).max() else {
        return Projective::<P>::ZERO;
    };
    let window_bits = window_bits(terms.len());
    // One more bit than the longest magnitude holds the last signed digit's carry.
    let windows = (bits as usize + 1).div_ceil(window_bits);
    let digits = Zeroizing::new(signed_digits(&terms, window_bits, windows));

    let window_sums: Vec<Projective<P>> = (0..windows)
        .into_par_iter()
        .map(|w| {
            let window_digits = digits.iter().skip(w).step_by(windows);
            window_sum(bases, &terms, window_digits, window_bits)
        })
        .collect();
    // Horner: Σ_w 2^(c·w)·S_w, from the highest window down.
    let mut total = Projective::<P>::ZERO;
    for sum in window_sums.iter().rev() {
        for _ in 0..window_bits {
            total.double_in_place();
        }
        total += sum;
    }
    total
}

/// The nonzero terms of `Σ scalars[i]·bases[i]`, in order.
fn signed_terms<P: SWCurveConfig>(
    bases: &[Affine<P>],
    scalars: &[<P::ScalarField as PrimeField>::BigInt],
) -> Vec<SignedTerm>
where
    P::ScalarField: PrimeField<BigInt = BigInt<4>>,
{
    bases
        .iter()
        .zip(scalars)
        .enumerate()
        .filter(|(_, (base, scalar))| !base.is_zero() && !scalar.is_zero())
        .map(|(index, (_, scalar))| SignedTerm::new::<P::ScalarField>(index, scalar))
        .collect()
}

/// One nonzero term: the base's index, the scalar's shorter signed form `±magnitude`.
struct SignedTerm {
    index: usize,
    magnitude: BigInt<4>,
    negative: bool,
}

impl Zeroize for SignedTerm {
    fn zeroize(&mut self) {
        self.index.zeroize();
        self.magnitude.zeroize();
        self.negative.zeroize();
    }
}

impl SignedTerm {
    fn new<F: PrimeField<BigInt = BigInt<4>>>(index: usize, scalar: &BigInt<4>) -> Self {
        debug_assert!(*scalar < F::MODULUS, "scalars are canonical");
        let mut complement = F::MODULUS;
        // A borrow means `scalar ≥ r` (outside the contract): keep it positive, as given.
        let borrow = complement.sub_with_borrow(scalar);
        if !borrow && complement.num_bits() < scalar.num_bits() {
            Self {
                index,
                magnitude: complement,
                negative: true,
            }
        } else {
            Self {
                index,
                magnitude: *scalar,
                negative: false,
            }
        }
    }
}

/// Window width `c` for `n` terms. A window costs about `6·n` multiplications for the
/// buckets' additions and `27·2^(c−1)` for their running sum; `c ≈ log₂ n − 3` balances them
/// (checked by hand with the `msm` bench in `benches/proof.rs`: at 5,600 points, widths 8 to
/// 11 were within noise of each other, 12 was slower).
fn window_bits(n: usize) -> usize {
    let log = usize::BITS - n.max(1).leading_zeros();
    (log as usize).saturating_sub(3).clamp(2, 16)
}

/// Signed base-`2^c` digits of every term (sign included), `windows` per term, term-major:
/// `digits[t·windows + w]` is term `t`'s digit in window `w`, in `[−2^(c−1), 2^(c−1)]`.
fn signed_digits(terms: &[SignedTerm], window_bits: usize, windows: usize) -> Vec<i32> {
    let radix = 1i64 << window_bits;
    let half = radix / 2;
    let mut digits = vec![0i32; terms.len() * windows];
    digits
        .par_chunks_mut(windows)
        .zip(terms)
        .for_each(|(out, term)| {
            let limbs = term.magnitude.0;
            let mut carry = 0i64;
            for (w, digit) in out.iter_mut().enumerate() {
                let mut value = carry + window_value(&limbs, w * window_bits, window_bits);
                carry = 0;
                if value > half {
                    value -= radix;
                    carry = 1;
                }
                *digit = if term.negative { -value } else { value } as i32;
            }
            debug_assert_eq!(carry, 0, "the windows hold every bit and the last carry");
        });
    digits
}

/// Bits `[start, start + len)` of a 256-bit little-endian integer (`len ≤ 32`).
fn window_value(limbs: &[u64; 4], start: usize, len: usize) -> i64 {
    let (limb, shift) = (start / 64, start % 64);
    if limb >= 4 {
        return 0;
    }
    let mut value = limbs[limb] >> shift;
    if shift + len > 64 && limb + 1 < 4 {
        value |= limbs[limb + 1] << (64 - shift);
    }
    (value & ((1u64 << len) - 1)) as i64
}

/// `Σ_t digit_t·base_t` for one window: buckets filled by batch-affine addition, then the
/// running sum `Σ_b b·B_b`.
///
/// On x86-64 CPUs with BMI2 and ADX the same code runs compiled for them
/// ([`crate::cpu`]).
fn window_sum<'a, P: SWCurveConfig>(
    bases: &[Affine<P>],
    terms: &[SignedTerm],
    digits: impl Iterator<Item = &'a i32>,
    window_bits: usize,
) -> Projective<P>
where
    P::BaseField: AffineMul,
{
    #[cfg(target_arch = "x86_64")]
    if crate::cpu::has_bmi2_adx() {
        // SAFETY: the CPU has both features the function is compiled for (checked above).
        return unsafe { window_sum_bmi2_adx(bases, terms, digits, window_bits) };
    }
    window_sum_portable(bases, terms, digits, window_bits)
}

/// [`window_sum`] compiled for CPUs with BMI2 and ADX.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi2,adx")]
fn window_sum_bmi2_adx<'a, P: SWCurveConfig>(
    bases: &[Affine<P>],
    terms: &[SignedTerm],
    digits: impl Iterator<Item = &'a i32>,
    window_bits: usize,
) -> Projective<P>
where
    P::BaseField: AffineMul,
{
    window_sum_portable(bases, terms, digits, window_bits)
}

/// [`window_sum`] for any CPU.
#[inline(always)]
fn window_sum_portable<'a, P: SWCurveConfig>(
    bases: &[Affine<P>],
    terms: &[SignedTerm],
    digits: impl Iterator<Item = &'a i32>,
    window_bits: usize,
) -> Projective<P>
where
    P::BaseField: AffineMul,
{
    let buckets = 1usize << (window_bits - 1);
    // Counting sort of the terms by bucket; a negative digit adds the negated base.
    let mut entries: Vec<(u32, Affine<P>)> = Vec::with_capacity(terms.len());
    for (term, &digit) in terms.iter().zip(digits) {
        if digit != 0 {
            let base = bases[term.index];
            let point = if digit < 0 { -base } else { base };
            entries.push((digit.unsigned_abs() - 1, point));
        }
    }
    let mut counts = vec![0usize; buckets + 1];
    for (bucket, _) in &entries {
        counts[*bucket as usize + 1] += 1;
    }
    for b in 0..buckets {
        counts[b + 1] += counts[b];
    }
    let mut points = vec![Affine::<P>::identity(); entries.len()];
    let mut next = counts.clone();
    for (bucket, point) in entries {
        points[next[bucket as usize]] = point;
        next[bucket as usize] += 1;
    }
    let sums = sum_groups(points, counts);

    let mut running = Projective::<P>::ZERO;
    let mut total = Projective::<P>::ZERO;
    for sum in sums.iter().rev() {
        if !sum.is_zero() {
            running += sum;
        }
        total += running;
    }
    total
}

/// The sum of each group of `points`, where group `g` is `points[starts[g]..starts[g + 1]]`
/// (`starts` is nondecreasing and ends at `points.len()`), as one affine point per group.
///
/// Each round adds the points of every group in consecutive pairs, with one inversion for
/// the whole round, until every group holds at most one point.
#[inline(always)]
fn sum_groups<P: SWCurveConfig>(
    mut points: Vec<Affine<P>>,
    mut starts: Vec<usize>,
) -> Vec<Affine<P>>
where
    P::BaseField: AffineMul,
{
    let groups = starts.len() - 1;
    let mut denominators: Vec<P::BaseField> = Vec::with_capacity(points.len() / 2);
    let mut prefix_products: Vec<P::BaseField> = Vec::with_capacity(points.len() / 2);
    loop {
        let longest = (0..groups)
            .map(|g| starts[g + 1] - starts[g])
            .max()
            .unwrap_or(0);
        if longest <= 1 {
            break;
        }
        // Slope denominators of every pair: x₂ − x₁, or 2y for a doubling. Pairs whose
        // denominator is zero (P + (−P), or a point of order 2) sum to infinity.
        denominators.clear();
        for g in 0..groups {
            for pair in points[starts[g]..starts[g + 1]].chunks_exact(2) {
                denominators.push(pair_denominator(&pair[0], &pair[1]));
            }
        }
        batch_invert_with(
            &mut denominators,
            &mut prefix_products,
            P::BaseField::affine_mul,
        );

        // Add the pairs and compact each group to the front of its new range.
        let mut write = 0;
        let mut pair = 0;
        let mut new_starts = Vec::with_capacity(starts.len());
        for g in 0..groups {
            new_starts.push(write);
            let (start, end) = (starts[g], starts[g + 1]);
            let mut read = start;
            while read + 1 < end {
                // One inverse was pushed per pair, in this order.
                let sum = add_with_inverse(&points[read], &points[read + 1], denominators[pair]);
                pair += 1;
                if !sum.is_zero() {
                    points[write] = sum;
                    write += 1;
                }
                read += 2;
            }
            if read < end {
                points[write] = points[read];
                write += 1;
            }
        }
        debug_assert_eq!(pair, denominators.len(), "every pair used its inverse");
        new_starts.push(write);
        points.truncate(write);
        starts = new_starts;
    }
    (0..groups)
        .map(|g| {
            if starts[g + 1] > starts[g] {
                points[starts[g]]
            } else {
                Affine::<P>::identity()
            }
        })
        .collect()
}

/// Replaces every nonzero element of `values` by its inverse, with one field inversion and
/// three multiplications per element (Montgomery's trick); zeros stay zero. `prefix_products`
/// is scratch space.
#[inline(always)]
pub fn batch_invert<F: Field>(values: &mut [F], prefix_products: &mut Vec<F>) {
    batch_invert_with(values, prefix_products, |a, b| *a * b)
}

/// [`batch_invert`] with the field's multiplication given as `mul` (for a faster one than the
/// `Field` implementation, such as `lazy::mul` in `Fq2`).
#[inline(always)]
pub fn batch_invert_with<F: Field>(
    values: &mut [F],
    prefix_products: &mut Vec<F>,
    mul: impl Fn(&F, &F) -> F,
) {
    prefix_products.clear();
    let mut product = F::ONE;
    for value in values.iter() {
        prefix_products.push(product);
        if *value != F::ZERO {
            product = mul(&product, value);
        }
    }
    // A product of nonzero elements is nonzero: the inverse exists.
    let mut inverse = product.inverse().unwrap_or(F::ZERO);
    for (value, before) in values.iter_mut().zip(prefix_products.iter()).rev() {
        if *value != F::ZERO {
            let value_inverse = mul(&inverse, before);
            inverse = mul(&inverse, value);
            *value = value_inverse;
        }
    }
}

/// The slope denominator of `p + q` (both finite): `x_q − x_p`, or `2·y_p` when `p = q`;
/// zero when the sum is infinity.
#[inline(always)]
fn pair_denominator<P: SWCurveConfig>(p: &Affine<P>, q: &Affine<P>) -> P::BaseField {
    if p.x != q.x {
        q.x - p.x
    } else if p.y == q.y {
        p.y.double()
    } else {
        P::BaseField::ZERO
    }
}

/// `p + q` (both finite) given the inverse of [`pair_denominator`] (zero if it was zero).
#[inline(always)]
fn add_with_inverse<P: SWCurveConfig>(
    p: &Affine<P>,
    q: &Affine<P>,
    inverse: P::BaseField,
) -> Affine<P>
where
    P::BaseField: AffineMul,
{
    if inverse == P::BaseField::ZERO {
        return Affine::<P>::identity();
    }
    let slope = if p.x != q.x {
        (q.y - p.y).affine_mul(&inverse)
    } else {
        // Tangent: (3x² + a) / 2y.
        let x2 = p.x.square();
        (x2.double() + x2 + P::COEFF_A).affine_mul(&inverse)
    };
    let x = slope.square() - p.x - q.x;
    let y = slope.affine_mul(&(p.x - x)) - p.y;
    Affine::<P>::new_unchecked(x, y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{Fq, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
    use ark_ec::{CurveGroup, VariableBaseMSM};
    use ark_ff::UniformRand;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    /// Scalars of every kind the prover sees: zero, one, small, full-size, and the negatives
    /// `r − k` of small ones.
    fn mixed_scalars(n: usize, rng: &mut ChaCha20Rng) -> Vec<BigInt<4>> {
        (0..n)
            .map(|i| match i % 7 {
                0 => Fr::from(0u64),
                1 => Fr::from(1u64),
                2 => Fr::from(rng.gen::<u16>()),
                3 => -Fr::from(rng.gen::<u32>()),
                4 => -Fr::from(1u64),
                _ => Fr::rand(rng),
            })
            .map(|s| s.into_bigint())
            .collect()
    }

    fn check<P: SWCurveConfig<ScalarField = Fr>>(bases: &[Affine<P>], scalars: &[BigInt<4>])
    where
        P::BaseField: AffineMul,
        Projective<P>: VariableBaseMSM<MulBase = Affine<P>, ScalarField = Fr>,
    {
        let expected = <Projective<P> as VariableBaseMSM>::msm_bigint(bases, scalars);
        assert_eq!(msm(bases, scalars), expected, "{} terms", bases.len());
    }

    #[test]
    fn equals_arkworks_on_random_inputs() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        // Window widths 2 (n ≤ 31) to 10 (n ≥ 4,096).
        for n in [0usize, 1, 2, 3, 16, 100, 1000, 3000, 5000] {
            let g1: Vec<G1Affine> = (0..n).map(|_| G1Affine::rand(&mut rng)).collect();
            let scalars = mixed_scalars(n, &mut rng);
            check(&g1, &scalars);
        }
        for n in [1usize, 5, 300] {
            let g2: Vec<G2Affine> = (0..n).map(|_| G2Affine::rand(&mut rng)).collect();
            let scalars = mixed_scalars(n, &mut rng);
            check(&g2, &scalars);
        }
    }

    /// Repeated bases, negated bases and bases at infinity make buckets meet the same point
    /// (a doubling) and its negation (infinity): the cases the affine formulas single out.
    #[test]
    fn equal_and_opposite_points_and_infinity() {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let p = G1Affine::rand(&mut rng);
        let q = G1Affine::rand(&mut rng);
        let bases = vec![p, p, -p, p, q, -q, G1Affine::identity(), p, q, q];
        let x = Fr::rand(&mut rng);
        let scalar_sets: Vec<Vec<Fr>> = vec![
            vec![x; bases.len()],
            vec![Fr::from(1u64); bases.len()],
            vec![Fr::from(3u64); bases.len()],
            vec![-Fr::from(1u64); bases.len()],
            (0..bases.len()).map(|_| Fr::rand(&mut rng)).collect(),
        ];
        for scalars in scalar_sets {
            let scalars: Vec<BigInt<4>> = scalars.iter().map(|s| s.into_bigint()).collect();
            check(&bases, &scalars);
        }
        // Many copies of one point with one scalar: every round doubles.
        let copies = vec![p; 64];
        check(&copies, &vec![x.into_bigint(); 64]);
        // A sum that is exactly infinity.
        let cancel = [p, -p];
        assert_eq!(
            msm(&cancel, &[x.into_bigint(), x.into_bigint()]),
            G1Projective::ZERO
        );
    }

    #[test]
    fn g2_equal_and_opposite_points() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let p = G2Affine::rand(&mut rng);
        let bases = vec![p, p, -p, p, G2Affine::identity()];
        let x = Fr::rand(&mut rng).into_bigint();
        check(&bases, &vec![x; bases.len()]);
        let sum: G2Projective = msm(&bases, &vec![x; bases.len()]);
        assert_eq!(
            sum.into_affine(),
            (p * Fr::from(2u64) * Fr::from(x)).into_affine()
        );
    }

    #[test]
    fn shorter_slices_are_truncated_like_arkworks() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let bases: Vec<G1Affine> = (0..10).map(|_| G1Affine::rand(&mut rng)).collect();
        let scalars = mixed_scalars(6, &mut rng);
        check(&bases, &scalars);
        let sum: G1Projective = msm(&bases[..3], &scalars);
        assert_eq!(sum, G1Projective::msm_bigint(&bases[..3], &scalars[..3]));
    }

    #[test]
    fn digits_recompose_the_scalar() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        for window_bits in [2usize, 5, 9, 13, 16] {
            for _ in 0..20 {
                let scalar = Fr::rand(&mut rng).into_bigint();
                let term = SignedTerm::new::<Fr>(0, &scalar);
                let windows = (term.magnitude.num_bits() as usize + 1).div_ceil(window_bits);
                let digits = signed_digits(&[term], window_bits, windows);
                let half = 1i32 << (window_bits - 1);
                let mut value = Fr::from(0u64);
                for d in digits.iter().rev() {
                    assert!(d.abs() <= half, "digit {d} out of range");
                    value = value * Fr::from(1u64 << window_bits) + Fr::from(*d as i64);
                }
                assert_eq!(value.into_bigint(), scalar);
            }
        }
    }

    #[test]
    fn batch_inversion_skips_zeros() {
        let mut rng = ChaCha20Rng::seed_from_u64(10);
        let zero = Fq::from(0u64);
        let values = [
            Fq::rand(&mut rng),
            zero,
            Fq::rand(&mut rng),
            zero,
            Fq::rand(&mut rng),
        ];
        let mut inverted = values;
        batch_invert(&mut inverted, &mut Vec::new());
        for (value, inverse) in values.iter().zip(&inverted) {
            assert_eq!(*inverse, value.inverse().unwrap_or(zero));
        }
        let mut zeros = [zero; 3];
        batch_invert(&mut zeros, &mut Vec::new());
        assert_eq!(zeros, [zero; 3]);
    }

    /// The copy of a window's sum compiled for BMI2 and ADX computes what the portable one
    /// does, on G1 and G2.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn bmi2_adx_copy_matches_portable() {
        /// # Safety
        /// The CPU must have BMI2 and ADX.
        unsafe fn check<P: SWCurveConfig<ScalarField = Fr>>(
            bases: &[Affine<P>],
            scalars: &[BigInt<4>],
        ) where
            P::BaseField: AffineMul,
        {
            let terms = signed_terms(bases, scalars);
            let (window_bits, windows) = (6, 43);
            let digits = signed_digits(&terms, window_bits, windows);
            for w in 0..windows {
                let window = || digits.iter().skip(w).step_by(windows);
                // SAFETY: the caller guarantees BMI2 and ADX.
                let fast = unsafe { window_sum_bmi2_adx(bases, &terms, window(), window_bits) };
                assert_eq!(
                    fast,
                    window_sum_portable(bases, &terms, window(), window_bits)
                );
            }
        }
        if !crate::cpu::has_bmi2_adx() {
            eprintln!("skipped: this CPU has no BMI2/ADX");
            return;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let g1: Vec<G1Affine> = (0..200).map(|_| G1Affine::rand(&mut rng)).collect();
        let g2: Vec<G2Affine> = (0..50).map(|_| G2Affine::rand(&mut rng)).collect();
        // SAFETY: checked `has_bmi2_adx()` above.
        unsafe {
            check(&g1, &mixed_scalars(200, &mut rng));
            check(&g2, &mixed_scalars(50, &mut rng));
        }
    }
}
