//! `Fq` products summed before their Montgomery reduction ("lazy reduction"), for the affine
//! Miller loop's line multiplication ([`mul_by_01`]).
//!
//! arkworks reduces every `Fq2` product: two reductions of sums of two `Fq` products each
//! (`sum_of_products`), 96 word multiplications. Here an `Fq2` product is three unreduced
//! 512-bit `Fq` products (Karatsuba), and a product of `Fq6` by `c₀ + c₁·v` adds those up
//! per coefficient before reducing: 5 `Fq2` products and 6 reductions, 336 word
//! multiplications instead of 480.
//!
//! **Bounds.** Elements are in Montgomery form, `x·R mod q` with `R = 2^256`, so a product of
//! two is an integer below `q²` that reduces (REDC, `reduce`) to the product's Montgomery
//! form. REDC is exact below `q·R ≈ 5.29·q²` (`q < 2^254`), and every value reduced here is
//! below `4·q²`:
//! - subtractions first add a multiple of `q²` at least as large as what they subtract
//!   (`q² ≡ 0`, so the reduction's result is unchanged) and never go negative;
//! - the only non-canonical inputs are sums of two canonical elements (below `2q`); the
//!   Karatsuba product of two such `Fq2` values has parts below `8·q²` (its middle product
//!   below `16·q² < 2^512`), and subtracting two canonical products brings it below `4·q²`.
//!
//! Every bound is stated where it is used and checked by debug assertions (no carry out of an
//! addition, no borrow out of a subtraction, REDC's input below `q·R`). The tests compare each
//! function with arkworks on random values and on every combination of extreme ones (`0`, `1`,
//! `q − 1`), which include the largest and most negative intermediate values.

use ark_bn254::{Fq, Fq2, Fq6, Fq6Config, FqConfig};
use ark_ff::fields::Fp6Config;
use ark_ff::{BigInt, MontConfig, PrimeField};

/// `q`, the base field's modulus, as little-endian words.
const MODULUS: [u64; 4] = <Fq as PrimeField>::MODULUS.0;

/// `−q⁻¹ mod 2^64`, for REDC.
const INV: u64 = <FqConfig as MontConfig<4>>::INV;

/// A 512-bit integer, little-endian words: an unreduced sum of `Fq` products.
type Wide = [u64; 8];

/// `k·q²` for `k = 1, 2, 4`: added before a subtraction so the result stays non-negative.
const Q2: Wide = mul_wide(&MODULUS, &MODULUS);
const Q2_TIMES_2: Wide = add(&Q2, &Q2);
const Q2_TIMES_4: Wide = add(&Q2_TIMES_2, &Q2_TIMES_2);

/// An unreduced `Fq2` value `re + im·u` (`u² = −1`): parts below `4·q²` when reduced, below
/// `8·q²` only inside `mul_by_01` (see [`mul2_words`]).
#[derive(Clone, Copy)]
struct Wide2 {
    re: Wide,
    im: Wide,
}

/// `a·b` as a 512-bit integer (schoolbook).
const fn mul_wide(a: &[u64; 4], b: &[u64; 4]) -> Wide {
    let mut r = [0u64; 8];
    let mut i = 0;
    while i < 4 {
        let mut carry = 0u64;
        let mut j = 0;
        while j < 4 {
            let t = r[i + j] as u128 + (a[i] as u128) * (b[j] as u128) + carry as u128;
            r[i + j] = t as u64;
            carry = (t >> 64) as u64;
            j += 1;
        }
        r[i + 4] = carry;
        i += 1;
    }
    r
}

/// `a + b` for `N`-word values (`N` = 8: unreduced products; 4: sums of two elements'
/// words); callers keep the sum below `2^(64·N)`.
const fn add<const N: usize>(a: &[u64; N], b: &[u64; N]) -> [u64; N] {
    let mut r = [0u64; N];
    let mut carry = false;
    let mut i = 0;
    while i < N {
        let (s, c1) = a[i].overflowing_add(b[i]);
        let (s, c2) = s.overflowing_add(carry as u64);
        r[i] = s;
        carry = c1 | c2;
        i += 1;
    }
    debug_assert!(!carry, "lazy::add overflowed");
    r
}

/// `a − b`; callers keep `a ≥ b`.
fn sub(a: &Wide, b: &Wide) -> Wide {
    let mut r = [0u64; 8];
    let mut borrow = false;
    for i in 0..8 {
        let (d, b1) = a[i].overflowing_sub(b[i]);
        let (d, b2) = d.overflowing_sub(borrow as u64);
        r[i] = d;
        borrow = b1 | b2;
    }
    debug_assert!(!borrow, "lazy::sub went negative");
    r
}

/// Montgomery reduction (REDC) of `t < q·2^256`: the canonical `Fq` whose Montgomery form is
/// `t·2^−256 mod q`.
fn reduce(t: &Wide) -> Fq {
    // t < q·2^256 exactly when its upper half is below q.
    debug_assert!(less_than_modulus(&[t[4], t[5], t[6], t[7]]));
    let mut t = *t;
    // Each round clears one low word; `carry_next` carries into the next round's top word.
    let mut carry_next = 0u64;
    for i in 0..4 {
        let m = t[i].wrapping_mul(INV);
        let mut carry = 0u64;
        for j in 0..4 {
            let s = t[i + j] as u128 + (m as u128) * (MODULUS[j] as u128) + carry as u128;
            t[i + j] = s as u64;
            carry = (s >> 64) as u64;
        }
        let s = t[i + 4] as u128 + carry as u128 + carry_next as u128;
        t[i + 4] = s as u64;
        carry_next = (s >> 64) as u64;
    }
    // t < q·2^256 makes the result (t + m·q)/2^256 < 2q, below 2^255: no carry is left.
    debug_assert_eq!(carry_next, 0);
    let mut r = [t[4], t[5], t[6], t[7]];
    if !less_than_modulus(&r) {
        let mut borrow = false;
        for (word, q) in r.iter_mut().zip(MODULUS) {
            let (d, b1) = word.overflowing_sub(q);
            let (d, b2) = d.overflowing_sub(borrow as u64);
            *word = d;
            borrow = b1 | b2;
        }
    }
    Fq::new_unchecked(BigInt(r))
}

/// Whether `r < q`.
fn less_than_modulus(r: &[u64; 4]) -> bool {
    for i in (0..4).rev() {
        if r[i] != MODULUS[i] {
            return r[i] < MODULUS[i];
        }
    }
    false
}

/// `x·y` unreduced, for `x`, `y` with words below `2q` (`x0`, `x1`, `y0`, `y1`), Karatsuba:
/// `re = x0·y0 − x1·y1 + k`, `im = (x0 + x1)·(y0 + y1) − x0·y0 − x1·y1`, where `k` bounds
/// `x1·y1`. For canonical inputs `k = q²` and both parts are below `2·q²`; for inputs below
/// `2q`, `k = 4·q²` and both are below `8·q²` (callers subtract back down).
fn mul2_words(x: [[u64; 4]; 2], y: [[u64; 4]; 2], k: &Wide) -> Wide2 {
    let v0 = mul_wide(&x[0], &y[0]);
    let v1 = mul_wide(&x[1], &y[1]);
    // Words below 2q, so their sums are below 4q < 2^256.
    let s = mul_wide(&add(&x[0], &x[1]), &add(&y[0], &y[1]));
    Wide2 {
        re: sub(&add(&v0, k), &v1),
        im: sub(&sub(&s, &v0), &v1),
    }
}

/// The words of a canonical `Fq2`.
fn words(x: &Fq2) -> [[u64; 4]; 2] {
    [x.c0.0 .0, x.c1.0 .0]
}

/// `x·y` unreduced for canonical `x`, `y`: both parts below `2·q²`; `re` is `q²` above the
/// integer `x0·y0 − x1·y1`.
fn mul2(x: &Fq2, y: &Fq2) -> Wide2 {
    mul2_words(words(x), words(y), &Q2)
}

/// Reduces both parts (each below `q·2^256`).
fn reduce2(x: &Wide2) -> Fq2 {
    Fq2::new(reduce(&x.re), reduce(&x.im))
}

/// `x·y` in `Fq2`: three word products and two reductions instead of arkworks' four products
/// and two reductions (`sum_of_products`).
#[inline]
pub fn mul(x: &Fq2, y: &Fq2) -> Fq2 {
    reduce2(&mul2(x, y))
}

/// `a · (c0 + c1·v)` in `Fq6`, as arkworks' `Fq6::mul_by_01` computes it, with lazy reduction.
pub fn mul_by_01(a: &Fq6, c0: &Fq2, c1: &Fq2) -> Fq6 {
    // (a0 + a1·v + a2·v²)(c0 + c1·v), v³ = ξ:
    //   r0 = a0·c0 + ξ·a2·c1, r1 = a0·c1 + a1·c0, r2 = a1·c1 + a2·c0.
    let v0 = mul2(&a.c0, c0); // parts < 2q², re carrying +q²
    let v1 = mul2(&a.c1, c1); // parts < 2q², re carrying +q²
    let xi_a2 = <Fq6Config as Fp6Config>::mul_fp2_by_nonresidue(a.c2);
    let t0 = mul2(&xi_a2, c1);
    let t2 = mul2(&a.c2, c0);
    // r0, r2: sums of two products, parts < 4q².
    let r0 = Wide2 {
        re: add(&v0.re, &t0.re),
        im: add(&v0.im, &t0.im),
    };
    let r2 = Wide2 {
        re: add(&v1.re, &t2.re),
        im: add(&v1.im, &t2.im),
    };
    // r1 = (a0 + a1)(c0 + c1) − v0 − v1, with the sums' words below 2q (not reduced, so the
    // identity holds over the integers). s.re = (integer re) + 4q²; subtracting v0.re and
    // v1.re (each +q²) leaves r1's integer re (> −2q²) + 2q²: in (0, 4q²). s.im − v0.im −
    // v1.im is r1's integer im, in [0, 4q²).
    let sum = |x: &Fq2, y: &Fq2| {
        let (x, y) = (words(x), words(y));
        [add(&x[0], &y[0]), add(&x[1], &y[1])]
    };
    let s = mul2_words(sum(&a.c0, &a.c1), sum(c0, c1), &Q2_TIMES_4);
    let r1 = Wide2 {
        re: sub(&sub(&s.re, &v0.re), &v1.re),
        im: sub(&sub(&s.im, &v0.im), &v1.im),
    };
    Fq6::new(reduce2(&r0), reduce2(&r1), reduce2(&r2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{AdditiveGroup, Field, One, UniformRand, Zero};
    use rand::{RngCore, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    /// Random elements, then the extremes: 0, 1, q − 1, q − 2.
    fn fq_samples(rng: &mut ChaCha20Rng) -> Vec<Fq> {
        let mut out: Vec<Fq> = (0..40).map(|_| Fq::rand(rng)).collect();
        out.extend([Fq::zero(), Fq::one(), -Fq::one(), -Fq::one().double()]);
        out
    }

    fn fq2_samples(rng: &mut ChaCha20Rng) -> Vec<Fq2> {
        let fq = fq_samples(rng);
        let extremes = [Fq::zero(), -Fq::one()];
        let mut out: Vec<Fq2> = fq.chunks(2).map(|c| Fq2::new(c[0], c[1])).collect();
        for a in extremes {
            for b in extremes {
                out.push(Fq2::new(a, b));
            }
        }
        out
    }

    /// `(low, high)` halves of `q²` and `4·q²` from arkworks' own big-integer product.
    #[test]
    fn constants_match_the_field() {
        use ark_ff::BigInteger;
        // q·INV ≡ −1 (mod 2^64).
        assert_eq!(MODULUS[0].wrapping_mul(INV), u64::MAX);
        let q = <Fq as PrimeField>::MODULUS;
        let (low, high) = q.mul(&q);
        assert_eq!(Q2[..4], low.0);
        assert_eq!(Q2[4..], high.0);
        let (low4, high4) = q.mul(&BigInt::from(4u64));
        let (low, high) = q.mul(&low4);
        assert_eq!(high4, BigInt::from(0u64));
        assert_eq!(Q2_TIMES_4[..4], low.0);
        assert_eq!(Q2_TIMES_4[4..], high.0);
        // q < 2^254, so 4q² < q·2^256 (the bound of `reduce`) and sums of two canonical
        // elements fit in four words.
        assert!(MODULUS[3] < 1 << 62);
        // REDC of q² (≡ 0) is 0, of the largest product (q − 1)² is (q − 1)²'s field value.
        assert!(reduce(&Q2).is_zero());
        let max = -Fq::one();
        assert_eq!(reduce(&mul_wide(&max.0 .0, &max.0 .0)), max * max);
    }

    #[test]
    fn reduced_products_equal_field_products() {
        let mut rng = ChaCha20Rng::seed_from_u64(21);
        let samples = fq_samples(&mut rng);
        for a in &samples {
            for b in &samples {
                assert_eq!(reduce(&mul_wide(&a.0 .0, &b.0 .0)), *a * b);
            }
        }
    }

    #[test]
    fn fq2_products_equal_arkworks() {
        let mut rng = ChaCha20Rng::seed_from_u64(22);
        let samples = fq2_samples(&mut rng);
        for x in &samples {
            for y in &samples {
                assert_eq!(reduce2(&mul2(x, y)), *x * y);
            }
        }
    }

    /// `0`, `1` and `q − 1` in every one of the ten coordinates of `mul_by_01`'s inputs
    /// (3^10 cases): the extremes of every intermediate value, such as `r1`'s most negative
    /// integer value at `a0 = a1 = c0 = c1 = (0, q − 1)`.
    #[test]
    fn mul_by_01_equals_arkworks_on_every_combination_of_extremes() {
        let extremes = [Fq::zero(), Fq::one(), -Fq::one()];
        let mut coordinates = [Fq::zero(); 10];
        for case in 0..3usize.pow(10) {
            let mut rest = case;
            for coordinate in coordinates.iter_mut() {
                *coordinate = extremes[rest % 3];
                rest /= 3;
            }
            let [a00, a01, a10, a11, a20, a21, c00, c01, c10, c11] = coordinates;
            let a = Fq6::new(Fq2::new(a00, a01), Fq2::new(a10, a11), Fq2::new(a20, a21));
            let (c0, c1) = (Fq2::new(c00, c01), Fq2::new(c10, c11));
            let mut expected = a;
            expected.mul_by_01(&c0, &c1);
            assert_eq!(mul_by_01(&a, &c0, &c1), expected, "case {case}");
        }
    }

    /// REDC at the top of its range: `q·2^256 − 1`, and values just below it.
    #[test]
    fn reduce_handles_the_largest_input() {
        let mut rng = ChaCha20Rng::seed_from_u64(24);
        let q_minus_1 = MODULUS[0] - 1; // q is odd: no borrow
        let top: Wide = [
            u64::MAX,
            u64::MAX,
            u64::MAX,
            u64::MAX,
            q_minus_1,
            MODULUS[1],
            MODULUS[2],
            MODULUS[3],
        ];
        let mut cases = vec![top];
        for _ in 0..32 {
            let mut t = top;
            t[0] = rng.next_u64();
            t[1] = rng.next_u64();
            cases.push(t);
        }
        // REDC's result is the integer t·2^−256 mod q (a Montgomery form): computed here
        // from t reduced mod q by arkworks, times the inverse of 2^256.
        let r_inv = Fq::from(2u64).pow([256]).inverse().unwrap();
        for t in cases {
            let bytes: Vec<u8> = t.iter().flat_map(|w| w.to_le_bytes()).collect();
            let t_mod_q = Fq::from_le_bytes_mod_order(&bytes);
            let expected = Fq::new_unchecked((t_mod_q * r_inv).into_bigint());
            assert_eq!(reduce(&t), expected);
        }
    }

    #[test]
    fn mul_by_01_equals_arkworks() {
        let mut rng = ChaCha20Rng::seed_from_u64(23);
        let samples = fq2_samples(&mut rng);
        let extreme = Fq2::new(-Fq::one(), -Fq::one());
        let mut sixes: Vec<Fq6> = samples
            .chunks(3)
            .filter(|c| c.len() == 3)
            .map(|c| Fq6::new(c[0], c[1], c[2]))
            .collect();
        sixes.push(Fq6::new(extreme, extreme, extreme));
        sixes.push(Fq6::zero());
        for a in &sixes {
            for pair in samples.chunks(2) {
                let (c0, c1) = (pair[0], pair[1]);
                let mut expected = *a;
                expected.mul_by_01(&c0, &c1);
                assert_eq!(mul_by_01(a, &c0, &c1), expected);
            }
            let mut expected = *a;
            expected.mul_by_01(&extreme, &extreme);
            assert_eq!(mul_by_01(a, &extreme, &extreme), expected);
        }
        // An element times (1 + 0·v) is itself, and a square matches arkworks' square.
        let a = sixes[0];
        assert_eq!(mul_by_01(&a, &Fq2::one(), &Fq2::zero()), a);
        assert_eq!(a.square(), a * a);
    }

    /// REDC's result for `t`: `t·2^−256 mod q` as a Montgomery form, from arkworks.
    fn redc_reference(t: &Wide) -> Fq {
        let bytes: Vec<u8> = t.iter().flat_map(|w| w.to_le_bytes()).collect();
        let t_mod_q = Fq::from_le_bytes_mod_order(&bytes);
        let r_inv = Fq::from(2u64)
            .pow([256])
            .inverse()
            .expect("2 is invertible");
        Fq::new_unchecked((t_mod_q * r_inv).into_bigint())
    }

    /// `k·q² + d` or `k·q² − d` for a small `d`, clamped below `q·2^256` (REDC's bound).
    fn near(multiple: &Wide, d: u64, above: bool) -> Wide {
        let d: Wide = [d, 0, 0, 0, 0, 0, 0, 0];
        if above {
            add(multiple, &d)
        } else {
            let (out, _) = sub_borrow(multiple, &d);
            out
        }
    }

    /// `a − b` with the borrow (the tests' own, not the asserted one).
    fn sub_borrow(a: &Wide, b: &Wide) -> (Wide, bool) {
        let mut out = [0u64; 8];
        let mut borrow = false;
        for i in 0..8 {
            let (d, b1) = a[i].overflowing_sub(b[i]);
            let (d, b2) = d.overflowing_sub(u64::from(borrow));
            out[i] = d;
            borrow = b1 || b2;
        }
        (out, borrow)
    }

    /// `q·2^256 − 1`, the largest input REDC is exact for.
    fn redc_top() -> Wide {
        let m = u64::MAX;
        [
            m,
            m,
            m,
            m,
            MODULUS[0] - 1,
            MODULUS[1],
            MODULUS[2],
            MODULUS[3],
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512),
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        })]

        /// REDC on values near its bound (`q·2^256`) and near the multiples of `q²` the lazy
        /// sums reach (`q²`, `2q²`, `4q²`), and on products of canonical words.
        #[test]
        fn reduce_equals_arkworks_near_the_bounds(
            which in 0u8..6,
            d in proptest::prop_oneof![proptest::strategy::Just(0u64), proptest::strategy::Just(1), 0u64..1 << 16, proptest::prelude::any::<u64>()],
            above in proptest::prelude::any::<bool>(),
            a in proptest::prelude::any::<[u64; 4]>(),
            b in proptest::prelude::any::<[u64; 4]>(),
        ) {
            let t = match which {
                0 => near(&redc_top(), d, false),
                1 => near(&Q2, d, above),
                2 => near(&Q2_TIMES_2, d, above),
                3 => near(&Q2_TIMES_4, d, above),
                4 => {
                    // Two words below q (clear the top bits, then reduce by q if needed).
                    let canonical = |mut x: [u64; 4]| {
                        x[3] &= (1 << 62) - 1;
                        if !less_than_modulus(&x) {
                            x[3] = 0;
                        }
                        x
                    };
                    mul_wide(&canonical(a), &canonical(b))
                }
                _ => [a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3] % (MODULUS[3] - 1)],
            };
            proptest::prop_assume!(sub_borrow(&t, &redc_top()).1 || t == redc_top());
            proptest::prop_assert_eq!(reduce(&t), redc_reference(&t));
        }
    }

    /// Edge-biased `Fq` values (0, 1, q − 1, q − k, (q ± 1)/2, all-ones Montgomery words) or
    /// uniform ones.
    fn edge_or_random(rng: &mut ChaCha20Rng) -> Fq {
        let m = u64::MAX;
        let half = Fq::from(2u64).inverse().expect("2 is invertible");
        match rng.next_u32() % 8 {
            0 => Fq::zero(),
            1 => Fq::one(),
            2 => -Fq::from(rng.next_u32() % 4 + 1),
            3 => half,
            4 => -half,
            5 => Fq::new_unchecked(BigInt([m, m, m, MODULUS[3] - 1])),
            _ => Fq::rand(rng),
        }
    }

    /// 10⁶ cases of [`mul`] and [`mul_by_01`] against arkworks, edge-biased, with the bound
    /// assertions on (the dev profile keeps debug assertions). About 25 s on a 2-core host (24.2 s measured):
    ///
    /// ```text
    /// cargo test -p undersign-bn254 --lib -- --ignored lazy_million
    /// ```
    #[test]
    #[ignore]
    fn lazy_million_cases_equal_arkworks() {
        let mut rng = ChaCha20Rng::seed_from_u64(0x1a27);
        let f2 = |rng: &mut ChaCha20Rng| Fq2::new(edge_or_random(rng), edge_or_random(rng));
        for case in 0..1_000_000u32 {
            let (x, y) = (f2(&mut rng), f2(&mut rng));
            assert_eq!(mul(&x, &y), x * y, "case {case}");
            let a = Fq6::new(f2(&mut rng), f2(&mut rng), f2(&mut rng));
            let mut expected = a;
            expected.mul_by_01(&x, &y);
            assert_eq!(mul_by_01(&a, &x, &y), expected, "case {case}");
        }
    }
}
