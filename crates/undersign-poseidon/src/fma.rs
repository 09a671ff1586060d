//! Poseidon of two inputs on four states at once, with AVX2 and FMA.
//!
//! The same function as [`super::hash2`], evaluated on four independent states held side
//! by side in 256-bit registers, one 64-bit lane per state, for CPUs without AVX-512 IFMA
//! (AMD before Zen 4; Intel's recent desktop and laptop chips, Alder Lake onwards, and its
//! older ones). [`super::hash2_batch`] calls it
//! when the CPU has `avx2` and `fma` but not IFMA (checked at run time).
//!
//! # Arithmetic
//!
//! Elements, Montgomery form (`R = 2^260`) and the full rounds' tables are those of the IFMA
//! lanes ([`super::lanes`]): five 52-bit limbs held in 64-bit integer lanes, the same
//! word-by-word Montgomery multiplication, the same reductions. The IFMA lanes' bounds hold
//! here too (every input to a multiplication below `8p`), though sums of products come out
//! tighter, below `2p`; the partial rounds differ (below). Within a multiplication only the
//! instruction that
//! multiplies two 52-bit limbs differs. IFMA's `vpmadd52luq`/`vpmadd52huq` give the low and
//! high 52 bits of the 104-bit product; here two double-precision fused multiply-adds give
//! the product as `H·2^52 + L` with a *signed* `L`:
//!
//! * `h = fma(a, b, 2^104)` lies in `[2^104, 2^105)`, where doubles are exactly the
//!   multiples of `2^52`: it is `2^104 + H·2^52` with `H = round(a·b / 2^52)`, and the low
//!   52 bits of its bit pattern are `H`.
//! * `l = fma(a, b, -(h - 2^104)) = a·b - H·2^52` is exact, an integer in `[-2^51, 2^51]`.
//! * `l + 3·2^51` lies in `[2^52, 2^53]`, where doubles are exactly the integers: its bit
//!   pattern minus that of `3·2^51` is `L` as a signed 64-bit integer.
//!
//! So `a·b = H·2^52 + L` exactly, for limbs `a, b < 2^52` (every limb passed to a
//! multiplication is below `2^52`, as in the IFMA code; the tests check the split at the
//! extremes and at both rounding ties). The accumulators add the raw bit patterns of
//! `l + 3·2^51` and `h` with 64-bit integer additions, and each round subtracts the offsets
//! it added (so many patterns of `3·2^51` and `2^104` per word) as one constant per word.
//! Because `L` may be negative, the accumulators are signed; their magnitude stays below
//! `2^58` (at most five rounds of three products and `m·p` reach a word, each adding less
//! than `2^53`). AVX2 has no 64-bit arithmetic shift: the word shift adds `2^61` to word 0 first
//! (which leaves `m` unchanged), and the final carries use [`shift_down_52`].
//!
//! Per round of the Montgomery multiplication (see [`reduce`]):
//!
//! * `m = t₀·(-p⁻¹) mod 2^52` is computed with integer multiplications of 32-bit halves;
//! * the low word's part of `m·p` is not accumulated: `m·p₀ + (t₀ mod 2^52)` is a multiple of
//!   `2^52` below `2^104`, so one fused multiply-add gives it exactly, and a second one
//!   divides it by `2^52` into a carry;
//! * a sum of up to three products by constants is reduced once, not three times, and a
//!   square computes each cross product once and adds it twice.
//!
//! The partial rounds are those of the scalar [`super::hash2`], in observer form
//! ([`super::observer`]): two sums of two products per round, and no conditional subtraction
//! (the IFMA lanes keep the sparse form; see [`permute`] for the bounds).
//!
//! With these, on the AMD EPYC (Zen 3) this project is measured on, a batch costs about
//! two thirds of the scalar permutation's time per hash (README, "Performance and scale").

use std::sync::OnceLock;

use ark_bn254::Fr;
use std::arch::x86_64::{
    __m256d, __m256i, _mm256_add_epi64, _mm256_add_pd, _mm256_and_si256, _mm256_blendv_epi8,
    _mm256_castpd_si256, _mm256_castsi256_pd, _mm256_cmpgt_epi64, _mm256_fmadd_pd, _mm256_fmsub_pd,
    _mm256_mul_epu32, _mm256_or_si256, _mm256_set1_epi64x, _mm256_set1_pd, _mm256_setr_epi64x,
    _mm256_setzero_si256, _mm256_slli_epi64, _mm256_srli_epi64, _mm256_sub_epi64, _mm256_sub_pd,
};

use super::lanes::{self, from_limbs, to_limbs, Limbs, LIMBS, MASK, N0, P};
use super::observer::ObserverRounds;
use super::{Optimized, HALF_FULL};

/// Number of states evaluated at once (64-bit lanes in a 256-bit register).
pub(super) const LANES: usize = 4;

/// `2^52`, `3·2^51` and `2^104` as doubles.
const TWO_52: f64 = 4_503_599_627_370_496.0;
const LOW_OFFSET: f64 = 6_755_399_441_055_744.0;
const TWO_104: f64 = 20_282_409_603_651_670_423_947_251_286_016.0;

/// A constant's limbs as doubles (each limb below `2^52`, so exact).
type Float = [f64; LIMBS];

/// Limbs (each below `2^52`) as doubles.
fn float(x: &Limbs) -> Float {
    x.map(|limb| limb as f64)
}

/// The width-3 tables in lane form, limbs as doubles: [`Optimized`]'s full rounds, and the
/// partial rounds in observer form ([`super::observer`]).
pub(super) struct Tables {
    /// The full rounds' constants and matrices.
    full: lanes::FullRounds<Float>,
    /// The linear layer before the partial rounds (observer form's).
    entry: [[Float; 3]; 3],
    /// Per partial round: its constant, the weights of `q` and `u` in the new `q`, and in
    /// the new `t`.
    partial: Vec<(Float, [Float; 2], [Float; 2])>,
    /// Maps the final `(q, t)` back to `(s[1], s[2])`.
    exit: [[Float; 2]; 2],
}

/// The tables for [`hash2_x4`].
pub(super) fn tables(opt: &Optimized<3>, observer: &ObserverRounds) -> Tables {
    let convert = |v: Fr| float(&to_limbs(v));
    let pair = |x: &[Fr; 2]| x.map(convert);
    Tables {
        full: lanes::FullRounds::with(opt, convert),
        entry: observer.entry.map(|row| row.map(convert)),
        partial: observer
            .rounds
            .iter()
            .map(|r| (convert(r.constant), pair(&r.q_weights), pair(&r.t_weights)))
            .collect(),
        exit: observer.exit.each_ref().map(pair),
    }
}

/// Whether this CPU can run [`hash2_x4`].
pub(super) fn available() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// `out[i] = hash2(pairs[i][0], pairs[i][1])` for equal-length slices, four at a time.
/// Returns `false` (and leaves `out` untouched) if this CPU lacks AVX2 or FMA.
pub(super) fn hash2_chunks(pairs: &[[Fr; 2]], out: &mut [Fr]) -> bool {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    if !available() {
        return false;
    }
    let tables = TABLES.get_or_init(|| tables(super::optimized2(), super::observer2()));
    // SAFETY: `available()` checked that the CPU has the features `hash2_x4` enables.
    super::in_chunks(pairs, out, |lanes| unsafe { hash2_x4(tables, lanes) });
    true
}

/// Four elements, one per lane, as limb vectors.
#[derive(Clone, Copy)]
struct Lanes([__m256i; LIMBS]);

/// Four hashes of two inputs each.
#[target_feature(enable = "avx2,fma")]
pub(super) fn hash2_x4(tables: &Tables, inputs: &[[Fr; 2]; LANES]) -> [Fr; LANES] {
    let a: [Limbs; LANES] = std::array::from_fn(|l| to_limbs(inputs[l][0]));
    let b: [Limbs; LANES] = std::array::from_fn(|l| to_limbs(inputs[l][1]));
    let zero = Lanes([_mm256_setzero_si256(); LIMBS]);
    // The permutation ends with a sum of products, below 2p.
    let out = sub_if_at_least(permute(tables, [zero, load(&a), load(&b)]), &P);
    store(out).map(from_limbs)
}

/// The width-3 permutation of [`super::hash2`], on lanes, with the partial rounds in
/// observer form ([`super::observer`]).
///
/// Bounds (see the IFMA lanes for the rest): in the partial rounds `t` is a sum of products,
/// below `2p`; `q` is `t` plus one more sum of products, below `4p`; `s[0]` is the S-box
/// output plus `q`, below `6p`, and below `7p` once the round constant is added. No
/// conditional subtraction is needed. The exit's sums of products are below `2p`.
#[target_feature(enable = "avx2,fma")]
fn permute(t: &Tables, mut s: [Lanes; 3]) -> Lanes {
    let full = &t.full;
    for (r, constants) in full.first.iter().enumerate() {
        let m = if r + 1 == HALF_FULL {
            &t.entry
        } else {
            &full.mds
        };
        s = mix(m, &full_sbox(s, constants));
    }
    let [mut s0, mut q, mut state_t] = s;
    for (constant, q_weights, t_weights) in &t.partial {
        let u = pow5(add_const(s0, constant));
        s0 = add(u, q);
        let next_q = add(state_t, sum_of_products(q_weights.each_ref(), [&q, &u]));
        state_t = sum_of_products(t_weights.each_ref(), [&q, &u]);
        q = next_q;
    }
    let exit = |row: &[Float; 2]| sum_of_products(row.each_ref(), [&q, &state_t]);
    s = [s0, exit(&t.exit[0]), exit(&t.exit[1])];
    for (r, constants) in full.last.iter().enumerate() {
        s = full_sbox(s, constants);
        if r + 1 < HALF_FULL {
            let m = if r == 0 {
                &full.post_partial
            } else {
                &full.mds
            };
            s = mix(m, &s);
        }
    }
    dot(&full.mds[0], &s)
}

/// Adds the round constants and applies the S-box to every element.
#[target_feature(enable = "avx2,fma")]
fn full_sbox(s: [Lanes; 3], constants: &[Float; 3]) -> [Lanes; 3] {
    [
        pow5(add_const(s[0], &constants[0])),
        pow5(add_const(s[1], &constants[1])),
        pow5(add_const(s[2], &constants[2])),
    ]
}

/// The linear layer `m · s`.
#[target_feature(enable = "avx2,fma")]
fn mix(m: &[[Float; 3]; 3], s: &[Lanes; 3]) -> [Lanes; 3] {
    [dot(&m[0], s), dot(&m[1], s), dot(&m[2], s)]
}

/// `Σ_j row[j]·s[j]`, below `2p`.
#[target_feature(enable = "avx2,fma")]
fn dot(row: &[Float; 3], s: &[Lanes; 3]) -> Lanes {
    sum_of_products(row.each_ref(), s.each_ref())
}

/// `x⁵` (input below `8p`, output below `2p`).
#[target_feature(enable = "avx2,fma")]
fn pow5(x: Lanes) -> Lanes {
    let x4 = square(&square(&x));
    mul(&x4, &x)
}

#[target_feature(enable = "avx2,fma")]
fn splat(c: &Float) -> [__m256d; LIMBS] {
    c.map(|limb| _mm256_set1_pd(limb))
}

#[target_feature(enable = "avx2,fma")]
fn add_const(x: Lanes, c: &Float) -> Lanes {
    let c = c.map(|limb| _mm256_set1_epi64x(limb as i64));
    add(x, Lanes(c))
}

/// Limb-wise sum, carried so that every limb is below `2^52` again (inputs normalised).
#[target_feature(enable = "avx2,fma")]
fn add(a: Lanes, b: Lanes) -> Lanes {
    let mask = _mm256_set1_epi64x(MASK as i64);
    let mut t: [__m256i; LIMBS] = std::array::from_fn(|i| _mm256_add_epi64(a.0[i], b.0[i]));
    for i in 0..LIMBS - 1 {
        t[i + 1] = _mm256_add_epi64(t[i + 1], _mm256_srli_epi64::<52>(t[i]));
        t[i] = _mm256_and_si256(t[i], mask);
    }
    Lanes(t)
}

/// `x - k` in the lanes where `x ≥ k`, `x` elsewhere (`x`, `k` below `2^260`).
#[target_feature(enable = "avx2,fma")]
fn sub_if_at_least(x: Lanes, k: &Limbs) -> Lanes {
    let mask = _mm256_set1_epi64x(MASK as i64);
    let zero = _mm256_setzero_si256();
    let mut d = [zero; LIMBS];
    let mut borrow = zero;
    for i in 0..LIMBS {
        let v = _mm256_add_epi64(
            _mm256_sub_epi64(x.0[i], _mm256_set1_epi64x(k[i] as i64)),
            borrow,
        );
        // -1 when this limb went negative, 0 otherwise (|v| < 2^53).
        borrow = _mm256_cmpgt_epi64(zero, v);
        d[i] = if i + 1 < LIMBS {
            _mm256_and_si256(v, mask)
        } else {
            v
        };
    }
    // All ones in the lanes where x < k (the difference went negative): keep x there.
    let below = _mm256_cmpgt_epi64(zero, d[LIMBS - 1]);
    Lanes(std::array::from_fn(|i| {
        _mm256_blendv_epi8(d[i], x.0[i], below)
    }))
}

/// Normalised limbs (each below `2^52`) as doubles, exactly: the pattern of `2^52 + x`
/// is that of `2^52` with `x` in its mantissa.
#[target_feature(enable = "avx2,fma")]
fn to_float(x: &Lanes) -> [__m256d; LIMBS] {
    let two52 = _mm256_set1_pd(TWO_52);
    x.0.map(|limb| to_double(limb, two52))
}

/// Arithmetic shift right by 52 of signed 64-bit lanes (exact for every value).
#[target_feature(enable = "avx2,fma")]
fn shift_down_52(x: __m256i) -> __m256i {
    let bias = _mm256_set1_epi64x(i64::MIN);
    let shifted = _mm256_srli_epi64::<52>(_mm256_add_epi64(x, bias));
    _mm256_sub_epi64(shifted, _mm256_set1_epi64x(1 << 11))
}

/// The product `a·b` of two limbs below `2^52`, as the bit patterns of
/// `L + 3·2^51` and `2^104 + H·2^52` (`a·b = H·2^52 + L`; see the module documentation).
#[target_feature(enable = "avx2,fma")]
fn product(a: __m256d, b: __m256d) -> (__m256i, __m256i) {
    let two104 = _mm256_set1_pd(TWO_104);
    let h = _mm256_fmadd_pd(a, b, two104);
    let l = _mm256_fmsub_pd(a, b, _mm256_sub_pd(h, two104));
    let low = _mm256_add_pd(l, _mm256_set1_pd(LOW_OFFSET));
    (_mm256_castpd_si256(low), _mm256_castpd_si256(h))
}

/// Montgomery sum of products `Σₖ aₖ·bₖ/2^260 mod p` (each `aₖ` as limb doubles; one factor
/// of each product below `p` and the other below `8p`, or `K = 1` and both below `8p`;
/// output below `2p`), by the
/// word-by-word reduction of the IFMA lanes: five rounds of "add `Σₖ aₖ·bₖ,ᵢ`, add `m·p`
/// to clear the low word, shift one word down". Summing before reducing saves `K - 1`
/// reductions; the bound holds because `3·8p·p + 2^260·p < 2^260·2p`.
///
/// The low word's part of `m·p` never enters an accumulator. With `t₀ = t₀ʰ·2^52 + t₀ˡ`
/// (`0 ≤ t₀ˡ < 2^52`), `m·p₀ + t₀ˡ` is a multiple of `2^52` below `2^104`, so one fused
/// multiply-add gives it exactly, and the carry into the next word is
/// `t₀ʰ + (m·p₀ + t₀ˡ)/2^52`. This keeps the chain from one word to the next short.
///
/// With `SQUARE` (and `K = 1`, `b₀ = a₀`) each cross product `aⱼ·aᵢ`, `j > i`, is computed
/// once, in round `i`, and added twice: 15 limb products instead of 25. A term added in an
/// earlier round at the same weight changes only the words' contents on the way: every term
/// of weight `2^(52·w)` is in by round `w`, so the quotient words `m` and the result are
/// those of the plain schedule.
#[target_feature(enable = "avx2,fma")]
fn reduce<const K: usize, const SQUARE: bool>(a: [[__m256d; LIMBS]; K], b: [&Lanes; K]) -> Lanes {
    let mut t = [_mm256_setzero_si256(); LIMBS + 1];
    // One function per round, so that every index and offset is a constant in it.
    round::<0, K, SQUARE>(&mut t, &a, &b);
    round::<1, K, SQUARE>(&mut t, &a, &b);
    round::<2, K, SQUARE>(&mut t, &a, &b);
    round::<3, K, SQUARE>(&mut t, &a, &b);
    round::<4, K, SQUARE>(&mut t, &a, &b);
    let mask = _mm256_set1_epi64x(MASK as i64);
    let mut t = [t[0], t[1], t[2], t[3], t[4]];
    // Signed carries: limbs 0-3 into [0, 2^52), limb 4 takes the rest (the value is >= 0).
    for i in 0..LIMBS - 1 {
        t[i + 1] = _mm256_add_epi64(t[i + 1], shift_down_52(t[i]));
        t[i] = _mm256_and_si256(t[i], mask);
    }
    Lanes(t)
}

/// Round `I` of [`reduce`]: adds the products with word `I` of `b`, then `m·p`, and
/// shifts one word down.
#[target_feature(enable = "avx2,fma")]
fn round<const I: usize, const K: usize, const SQUARE: bool>(
    t: &mut [__m256i; LIMBS + 1],
    a: &[[__m256d; LIMBS]; K],
    b: &[&Lanes; K],
) {
    let two52 = _mm256_set1_pd(TWO_52);
    // How many products this round adds at each word j (low) and j + 1 (high).
    let count: [u64; LIMBS] = if SQUARE {
        let ai = a[0][I];
        for j in I..LIMBS {
            let (low, high) = product(a[0][j], ai);
            let (low, high) = if j == I {
                (low, high)
            } else {
                (_mm256_add_epi64(low, low), _mm256_add_epi64(high, high))
            };
            t[j] = _mm256_add_epi64(t[j], low);
            t[j + 1] = _mm256_add_epi64(t[j + 1], high);
        }
        std::array::from_fn(|j| u64::from(j >= I) + u64::from(j > I))
    } else {
        for (ak, bk) in a.iter().zip(b) {
            let bki = to_double(bk.0[I], two52);
            for j in 0..LIMBS {
                let (low, high) = product(ak[j], bki);
                t[j] = _mm256_add_epi64(t[j], low);
                t[j + 1] = _mm256_add_epi64(t[j + 1], high);
            }
        }
        [K as u64; LIMBS]
    };
    // The offsets this round leaves in each word (see `product`): `count[j]` patterns of
    // `3·2^51` in word j and of `2^104` in word j + 1; `m·p` (without its word 0) one of
    // each in words 1-4 and 2-5; the carry the pattern of `2^52`.
    let (low, high) = (LOW_OFFSET.to_bits(), TWO_104.to_bits());
    let offset = |lows: u64, highs: u64, extra: u64| {
        _mm256_set1_epi64x(
            lows.wrapping_mul(low)
                .wrapping_add(highs.wrapping_mul(high))
                .wrapping_add(extra) as i64,
        )
    };
    // Word 0 is also raised by `2^61` (a multiple of `2^52`, so `m` is unchanged) to make
    // it positive: its logical shift by 52 is then the carry plus `2^9`.
    let t0 = _mm256_sub_epi64(t[0], offset(count[0], 0, (1u64 << 61).wrapping_neg()));
    let mask = _mm256_set1_epi64x(MASK as i64);
    let t0_low = _mm256_and_si256(t0, mask);
    // m = t0_low·n0 mod 2^52 from 32-bit halves (the high halves' product drops out).
    let (n0_low, n0_high) = (
        _mm256_set1_epi64x((N0 & 0xffff_ffff) as i64),
        _mm256_set1_epi64x((N0 >> 32) as i64),
    );
    let cross = _mm256_add_epi64(
        _mm256_mul_epu32(t0_low, n0_high),
        _mm256_mul_epu32(_mm256_srli_epi64::<32>(t0_low), n0_low),
    );
    let m = _mm256_and_si256(
        _mm256_add_epi64(
            _mm256_mul_epu32(t0_low, n0_low),
            _mm256_slli_epi64::<32>(cross),
        ),
        mask,
    );
    let m = to_double(m, two52);
    // (m·p0 + t0_low)/2^52 + 2^52, exactly; its pattern minus that of 2^52 is the carry.
    let p = splat(&float(&P));
    let cleared = _mm256_fmadd_pd(m, p[0], to_double(t0_low, two52));
    let carry = _mm256_fmadd_pd(cleared, _mm256_set1_pd(1.0 / TWO_52), two52);
    for j in 1..LIMBS {
        let (low, high) = product(m, p[j]);
        t[j] = _mm256_add_epi64(t[j], low);
        t[j + 1] = _mm256_add_epi64(t[j + 1], high);
    }
    let word1 = _mm256_add_epi64(
        _mm256_add_epi64(t[1], _mm256_castpd_si256(carry)),
        _mm256_sub_epi64(
            _mm256_srli_epi64::<52>(t0),
            offset(count[1] + 1, count[0], TWO_52.to_bits() + (1 << 9)),
        ),
    );
    *t = [
        word1,
        _mm256_sub_epi64(t[2], offset(count[2] + 1, count[1] + 1, 0)),
        _mm256_sub_epi64(t[3], offset(count[3] + 1, count[2] + 1, 0)),
        _mm256_sub_epi64(t[4], offset(count[4] + 1, count[3] + 1, 0)),
        _mm256_sub_epi64(t[5], offset(0, count[4] + 1, 0)),
        _mm256_setzero_si256(),
    ];
}

/// Montgomery product `a·b/2^260 mod p` (inputs below `8p`, output below `2p`).
#[target_feature(enable = "avx2,fma")]
fn mul(a: &Lanes, b: &Lanes) -> Lanes {
    reduce::<1, false>([to_float(a)], [b])
}

/// `a²/2^260 mod p` (input below `8p`, output below `2p`).
#[target_feature(enable = "avx2,fma")]
fn square(a: &Lanes) -> Lanes {
    reduce::<1, true>([to_float(a)], [a])
}

/// Montgomery sum of products of lanes and constants, `Σₖ xₖ·cₖ/2^260 mod p` (`xₖ` below
/// `8p`, `K ≤ 3`; output below `2p`).
#[target_feature(enable = "avx2,fma")]
fn sum_of_products<const K: usize>(c: [&Float; K], x: [&Lanes; K]) -> Lanes {
    reduce::<K, false>(c.map(|c| c.map(|limb| _mm256_set1_pd(limb))), x)
}

/// A lane below `2^52` as a double, exactly: the pattern of `2^52 + x` is that of `2^52`
/// with `x` in its mantissa.
#[target_feature(enable = "avx2,fma")]
fn to_double(x: __m256i, two52: __m256d) -> __m256d {
    _mm256_sub_pd(
        _mm256_castsi256_pd(_mm256_or_si256(x, _mm256_castpd_si256(two52))),
        two52,
    )
}

/// Four elements (one per lane) into limb vectors.
#[target_feature(enable = "avx2,fma")]
fn load(x: &[Limbs; LANES]) -> Lanes {
    Lanes(std::array::from_fn(|i| {
        _mm256_setr_epi64x(
            x[0][i] as i64,
            x[1][i] as i64,
            x[2][i] as i64,
            x[3][i] as i64,
        )
    }))
}

/// Limb vectors back into four elements.
fn store(x: Lanes) -> [Limbs; LANES] {
    // SAFETY: `__m256i` and `[u64; 4]` have the same size, and every bit pattern is a
    // valid `u64`.
    lanes::transpose(x.0.map(|v| unsafe { std::mem::transmute::<__m256i, [u64; LANES]>(v) }))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::lanes::tests::{
        available_or_skip, check_conditional_subtraction, less, random_below, value,
    };
    use crate::lanes::times;
    use crate::lanes::{P2, P4};
    use ark_ff::{Field, PrimeField};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    /// Whether the AVX2/FMA tests can run here. With `UNDERSIGN_REQUIRE_FMA=1` in the
    /// environment a CPU without them fails the test instead of skipping it.
    pub(crate) fn fma_or_skip() -> bool {
        available_or_skip(available(), "UNDERSIGN_REQUIRE_FMA", "AVX2 and FMA")
    }

    /// # Safety
    /// Only where `available()`.
    unsafe fn lanes_of(x: [Limbs; 4]) -> Lanes {
        load(&x)
    }

    fn lanes_u64(x: __m256i) -> [u64; 4] {
        // SAFETY: same size, every bit pattern is a valid `u64`.
        unsafe { std::mem::transmute::<__m256i, [u64; 4]>(x) }
    }

    #[test]
    fn product_is_exact_and_split_as_documented() {
        if !fma_or_skip() {
            return;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(0xf3a);
        // Extremes, the ties of rounding to nearest (a·b ≡ 2^51 mod 2^52, low part ±2^51),
        // then random limbs.
        let mut limbs: Vec<u64> = vec![
            0,
            1,
            2,
            3,
            (1 << 51) - 1,
            1 << 51,
            (1 << 51) + 1,
            MASK - 1,
            MASK,
        ];
        limbs.extend((0..40).map(|_| rng.gen::<u64>() & MASK));
        for &a in &limbs {
            for chunk in limbs.chunks(4) {
                let b: [u64; 4] = std::array::from_fn(|l| chunk.get(l).copied().unwrap_or(MASK));
                // SAFETY: checked `available()` above.
                let (low, high) = unsafe {
                    let two52 = _mm256_set1_pd(TWO_52);
                    let a = to_double(_mm256_set1_epi64x(a as i64), two52);
                    let bv = _mm256_setr_epi64x(b[0] as i64, b[1] as i64, b[2] as i64, b[3] as i64);
                    product(a, to_double(bv, two52))
                };
                let (low, high) = (lanes_u64(low), lanes_u64(high));
                for lane in 0..4 {
                    let l = low[lane].wrapping_sub(LOW_OFFSET.to_bits()) as i64;
                    let h = high[lane] - TWO_104.to_bits();
                    assert!(l.unsigned_abs() <= 1 << 51, "{a} {}", b[lane]);
                    assert!(h < 1 << 52);
                    assert_eq!(
                        (i128::from(h) << 52) + i128::from(l),
                        i128::from(a) * i128::from(b[lane]),
                        "{a} * {}",
                        b[lane]
                    );
                }
            }
        }
        // Both signs of the tie occur: 2^51·1 (low +2^51) and 2^51·3 (low -2^51).
        for (b, expected) in [(1u64, 1i64 << 51), (3, -(1i64 << 51))] {
            // SAFETY: as above.
            let (low, _) = unsafe {
                let two52 = _mm256_set1_pd(TWO_52);
                product(
                    to_double(_mm256_set1_epi64x(1 << 51), two52),
                    to_double(_mm256_set1_epi64x(b as i64), two52),
                )
            };
            let l = lanes_u64(low)[0].wrapping_sub(LOW_OFFSET.to_bits()) as i64;
            assert_eq!(l, expected);
        }
    }

    #[test]
    fn arithmetic_shift_and_conversion() {
        if !fma_or_skip() {
            return;
        }
        let xs: [i64; 4] = [-(1 << 61), -(1 << 52) - 1, (1 << 52) * 5 + 7, (1 << 61) - 1];
        // SAFETY: checked `available()` above.
        let shifted =
            lanes_u64(unsafe { shift_down_52(_mm256_setr_epi64x(xs[0], xs[1], xs[2], xs[3])) });
        for (got, x) in shifted.iter().zip(xs) {
            assert_eq!(*got as i64, x >> 52);
        }
        let limbs = [0u64, 1, MASK - 1, MASK];
        // SAFETY: as above.
        let doubles: [f64; 4] = unsafe {
            std::mem::transmute::<__m256d, [f64; 4]>(to_double(
                _mm256_setr_epi64x(
                    limbs[0] as i64,
                    limbs[1] as i64,
                    limbs[2] as i64,
                    limbs[3] as i64,
                ),
                _mm256_set1_pd(TWO_52),
            ))
        };
        assert_eq!(doubles, limbs.map(|l| l as f64));
    }

    /// Inputs for the multiplication tests: extreme values in every lane position, then
    /// random values below `bound`, different in every lane.
    fn cases(rng: &mut ChaCha20Rng, bound: &Limbs) -> Vec<[Limbs; 4]> {
        let mut bound_minus_1 = *bound;
        bound_minus_1[0] -= 1;
        let mut p_minus_1 = P;
        p_minus_1[0] -= 1;
        // Also: limbs 0-3 all ones (the largest limbs below 8p), and every limb 2^51 (a
        // rounding tie in every limb product).
        let extreme = [
            [0; LIMBS],
            [1, 0, 0, 0, 0],
            p_minus_1,
            P,
            P2,
            P4,
            bound_minus_1,
            [MASK, MASK, MASK, MASK, 0],
            [1 << 51, 1 << 51, 1 << 51, 1 << 51, 0],
        ];
        let extreme: Vec<Limbs> = extreme.into_iter().filter(|x| less(x, bound)).collect();
        let mut cases = Vec::new();
        for a in &extreme {
            for b in &extreme {
                cases.push([*a, *b, *a, *b]);
                cases.push([*b, *a, *b, *a]);
            }
        }
        cases.extend((0..150).map(|_| std::array::from_fn(|_| random_below(rng, bound))));
        cases
    }

    /// Checks a lane output: normalised limbs, below `2p`, and equal to `expected` (as a field
    /// element: the lane form's value times `2^-260`).
    fn check(got: Lanes, expected: [Fr; 4]) {
        let got = store(got);
        for lane in 0..4 {
            let out = got[lane];
            assert!(out.iter().all(|&l| l <= MASK), "normalised limbs");
            assert!(less(&out, &P2), "output below 2p");
            assert_eq!(value(&out), expected[lane], "lane {lane}");
        }
    }

    #[test]
    fn multiplication_and_squaring_at_the_lazy_bounds() {
        if !fma_or_skip() {
            return;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(52);
        let p8 = times(<Fr as PrimeField>::MODULUS.0, 8);
        let r_inv = Fr::from(2u64).pow([260]).inverse().unwrap();
        let all = cases(&mut rng, &p8);
        for (a, b) in all.iter().zip(all.iter().rev()) {
            // SAFETY: checked `available()` above.
            let (product, square) = unsafe {
                let (la, lb) = (lanes_of(*a), lanes_of(*b));
                (mul(&la, &lb), square(&la))
            };
            check(
                product,
                std::array::from_fn(|l| value(&a[l]) * value(&b[l]) * r_inv),
            );
            check(
                square,
                std::array::from_fn(|l| value(&a[l]).square() * r_inv),
            );
        }
    }

    #[test]
    fn sums_of_products_with_constants_at_the_lazy_bounds() {
        if !fma_or_skip() {
            return;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(53);
        let p8 = times(<Fr as PrimeField>::MODULUS.0, 8);
        let r_inv = Fr::from(2u64).pow([260]).inverse().unwrap();
        let mut p_minus_1 = P;
        p_minus_1[0] -= 1;
        // Constants are canonical (below p): the largest, and random ones.
        let constants: Vec<Limbs> = [p_minus_1, [0; LIMBS], p_minus_1]
            .into_iter()
            .chain((0..30).map(|_| random_below(&mut rng, &P)))
            .collect();
        let xs = cases(&mut rng, &p8);
        for (i, c) in constants.windows(3).enumerate() {
            for x in xs.iter().skip(i).step_by(7).collect::<Vec<_>>().windows(3) {
                // SAFETY: checked `available()` above.
                let lanes = unsafe { [lanes_of(*x[0]), lanes_of(*x[1]), lanes_of(*x[2])] };
                let floats = [float(&c[0]), float(&c[1]), float(&c[2])];
                let term = |k: usize, l: usize| value(&c[k]) * value(&x[k][l]) * r_inv;
                // SAFETY: checked `available()` above.
                let (one, two, three) = unsafe {
                    (
                        sum_of_products([&floats[0]], [&lanes[0]]),
                        sum_of_products([&floats[0], &floats[1]], [&lanes[0], &lanes[1]]),
                        sum_of_products(floats.each_ref(), lanes.each_ref()),
                    )
                };
                check(one, std::array::from_fn(|l| term(0, l)));
                check(two, std::array::from_fn(|l| term(0, l) + term(1, l)));
                check(
                    three,
                    std::array::from_fn(|l| term(0, l) + term(1, l) + term(2, l)),
                );
            }
        }
    }

    #[test]
    fn tables_hold_the_limbs_as_doubles() {
        let (opt, observer) = (crate::optimized2(), crate::observer2());
        let (doubles, limbs) = (tables(opt, observer), lanes::Tables::new(opt));
        let back = |x: &Float| x.map(|d| d as u64);
        let rows = |t: &lanes::FullRounds<Float>| -> Vec<[Limbs; 3]> {
            [&t.first[..], &t.last[..], &t.mds[..], &t.post_partial[..]]
                .concat()
                .iter()
                .map(|r| r.each_ref().map(back))
                .collect()
        };
        let limb_rows: Vec<[Limbs; 3]> = [
            &limbs.full.first[..],
            &limbs.full.last[..],
            &limbs.full.mds[..],
            &limbs.full.post_partial[..],
        ]
        .concat();
        assert_eq!(rows(&doubles.full), limb_rows);

        let limbs_of = |v: &Fr| to_limbs(*v);
        let entry = doubles.entry.each_ref().map(|r| r.each_ref().map(back));
        assert_eq!(
            entry,
            observer
                .entry
                .each_ref()
                .map(|r| r.each_ref().map(limbs_of))
        );
        assert_eq!(doubles.partial.len(), observer.rounds.len());
        for (d, r) in doubles.partial.iter().zip(&observer.rounds) {
            assert_eq!(back(&d.0), to_limbs(r.constant));
            assert_eq!(
                d.1.each_ref().map(back),
                r.q_weights.each_ref().map(limbs_of)
            );
            assert_eq!(
                d.2.each_ref().map(back),
                r.t_weights.each_ref().map(limbs_of)
            );
        }
        let exit = doubles.exit.each_ref().map(|r| r.each_ref().map(back));
        assert_eq!(
            exit,
            observer.exit.each_ref().map(|r| r.each_ref().map(limbs_of))
        );
    }

    #[test]
    fn conditional_subtraction() {
        if !fma_or_skip() {
            return;
        }
        // SAFETY: checked `available()` above.
        check_conditional_subtraction(|x: [Limbs; LANES], k| unsafe {
            store(sub_if_at_least(lanes_of(x), k))
        });
    }
}
