//! Poseidon of two inputs on eight states at once, with AVX-512 IFMA.
//!
//! The same function as [`super::hash2`], evaluated on eight independent states held
//! side by side in 512-bit registers, one 64-bit lane per state. It uses the same
//! optimised tables ([`super::Optimized`]), converted once. [`super::hash2_batch`] calls
//! it when the CPU has `avx512f` and `avx512ifma` (checked at run time); other x86-64
//! machines use the AVX2 and FMA lanes ([`super::fma`], which share this module's limb
//! constants and conversions), or the scalar permutation. The tests compare them on random
//! and extreme inputs.
//!
//! # Arithmetic
//!
//! An element is five limbs of 52 bits (`x = Σ x_i·2^(52·i)`), in Montgomery form with
//! `R = 2^260`: the value `v` is held as `v·2^260 mod p`. `vpmadd52luq`/`vpmadd52huq`
//! multiply the low 52 bits of two lanes and add the low or high 52 bits of the 104-bit
//! product to a 64-bit accumulator, which is the inner step of a word-by-word Montgomery
//! multiplication with 52-bit words.
//!
//! Reduction is lazy. For inputs `a, b < 8p` the Montgomery product is
//! `(a·b + m·p)/R < 64p²/R + p < 2p`, because `64p < 2^260`. So a multiplication's inputs
//! may be sums of a few products without reducing them first:
//!
//! * after the S-box or a multiplication by a constant: `< 2p`;
//! * after a linear layer (a sum of three products): `< 6p`; plus a round constant: `< 7p`;
//! * during the partial rounds `s[1]` and `s[2]` get `+ w·u < 2p` each round and are brought
//!   back below `4p` by one conditional subtraction of `4p` (from `< 6p + 2p = 8p`).
//!
//! The output, `< 6p`, is reduced below `p` by conditional subtractions of `4p`, `2p`, `p`.
//! Every limb passed to a multiplication is below `2^52` (sums are carried after each
//! addition); values stay below `8p < 2^257`, so five limbs always suffice.
//!
//! Conversion: arkworks holds `v` as `v·2^256 mod p` (its Montgomery form). The lanes take
//! the arkworks form of `16·v`, which is `v·2^260 mod p`, and give back `X = v·2^260 mod p`
//! read as an arkworks form (`X/2^256 = 16·v`) times `1/16`. Three scalar multiplications per
//! hash, against about 600 in the permutation.

use std::sync::OnceLock;

use ark_bn254::Fr;
use ark_ff::{BigInt, MontFp, PrimeField};
use std::arch::x86_64::{
    __m512i, _mm512_add_epi64, _mm512_and_si512, _mm512_cmplt_epi64_mask, _mm512_madd52hi_epu64,
    _mm512_madd52lo_epu64, _mm512_mask_blend_epi64, _mm512_set1_epi64, _mm512_setr_epi64,
    _mm512_setzero_si512, _mm512_srai_epi64, _mm512_srli_epi64, _mm512_sub_epi64,
};

use super::{Optimized, HALF_FULL};

/// Number of states evaluated at once (64-bit lanes in a 512-bit register).
pub(super) const LANES: usize = 8;

/// Number of 52-bit limbs of an element.
pub(super) const LIMBS: usize = 5;

/// The low 52 bits.
pub(super) const MASK: u64 = (1 << 52) - 1;

/// An element in lane form: five 52-bit limbs, least significant first (see the module
/// documentation for the Montgomery form).
pub(super) type Limbs = [u64; LIMBS];

/// The BN254 scalar field modulus `p` in limbs.
pub(super) const P: Limbs = times(<Fr as PrimeField>::MODULUS.0, 1);
/// `2p`, `4p` in limbs (for conditional subtractions).
pub(super) const P2: Limbs = times(<Fr as PrimeField>::MODULUS.0, 2);
pub(super) const P4: Limbs = times(<Fr as PrimeField>::MODULUS.0, 4);
/// `-p⁻¹ mod 2^52`, the Montgomery constant for 52-bit words.
pub(super) const N0: u64 = neg_inverse_52(<Fr as PrimeField>::MODULUS.0[0]);

/// `k·x` for a 256-bit `x` (little-endian 64-bit words) and a small `k`, in 52-bit limbs.
/// The result must fit in 260 bits.
pub(super) const fn times(x: [u64; 4], k: u64) -> Limbs {
    let mut limbs = split(x);
    let mut carry = 0;
    let mut i = 0;
    while i < LIMBS {
        let v = limbs[i] * k + carry;
        limbs[i] = v & MASK;
        carry = v >> 52;
        i += 1;
    }
    limbs
}

/// `-x⁻¹ mod 2^52` for an odd `x` (Newton's iteration; each step doubles the correct bits).
const fn neg_inverse_52(x: u64) -> u64 {
    let mut inv: u64 = 1;
    let mut i = 0;
    while i < 6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(x.wrapping_mul(inv)));
        i += 1;
    }
    inv.wrapping_neg() & MASK
}

/// A 256-bit integer (little-endian 64-bit words) as 52-bit limbs.
const fn split(x: [u64; 4]) -> Limbs {
    let mut out = [0; LIMBS];
    let mut i = 0;
    while i < LIMBS {
        let (word, offset) = (52 * i / 64, 52 * i % 64);
        let mut v = x[word] >> offset;
        if offset > 12 && word + 1 < 4 {
            v |= x[word + 1] << (64 - offset);
        }
        out[i] = v & MASK;
        i += 1;
    }
    out
}

/// 52-bit limbs (each below `2^52`, value below `2^256`) as a 256-bit integer.
fn join(x: Limbs) -> [u64; 4] {
    let mut out = [0u64; 4];
    for (i, limb) in x.iter().enumerate() {
        let (word, offset) = (52 * i / 64, 52 * i % 64);
        out[word] |= limb << offset;
        if offset > 12 && word + 1 < 4 {
            out[word + 1] |= limb >> (64 - offset);
        }
    }
    out
}

/// 16 and its inverse modulo p (the tests check `SIXTEEN · INV_SIXTEEN = 1`).
const SIXTEEN: Fr = MontFp!("16");
const INV_SIXTEEN: Fr =
    MontFp!("20520227692349320520856005386178695395514091625390032197217066424914820464641");

/// `v` in lane form: `v·2^260 mod p`, as the arkworks form of `16·v`.
pub(super) fn to_limbs(v: Fr) -> Limbs {
    split((v * SIXTEEN).0 .0)
}

/// The element whose lane form is `x` (which must be below `p`).
pub(super) fn from_limbs(x: Limbs) -> Fr {
    let raw = join(x);
    debug_assert!(
        raw.iter()
            .rev()
            .lt(<Fr as PrimeField>::MODULUS.0.iter().rev()),
        "lane output not fully reduced"
    );
    Fr::new_unchecked(BigInt(raw)) * INV_SIXTEEN
}

/// The width-3 full rounds' tables of [`Optimized`] in lane form, each element as an `E`
/// (52-bit limbs here; the same limbs as doubles in [`super::fma`]). The linear layer before
/// the partial rounds depends on their form, so it is not among them.
pub(super) struct FullRounds<E> {
    pub(super) first: [[E; 3]; HALF_FULL],
    pub(super) last: [[E; 3]; HALF_FULL],
    pub(super) mds: [[E; 3]; 3],
    pub(super) post_partial: [[E; 3]; 3],
}

impl<E> FullRounds<E> {
    /// The full rounds' tables with every element converted by `convert`.
    pub(super) fn with(opt: &Optimized<3>, convert: impl Fn(Fr) -> E) -> Self {
        let row = |r: &[Fr; 3]| r.map(&convert);
        let matrix = |m: &[[Fr; 3]; 3]| m.each_ref().map(row);
        FullRounds {
            first: opt.first_constants.each_ref().map(row),
            last: opt.last_constants.each_ref().map(row),
            mds: matrix(&opt.mds),
            post_partial: matrix(&opt.post_partial),
        }
    }
}

/// The width-3 tables of [`Optimized`] in lane form: the full rounds, and the sparse partial
/// rounds with the linear layer before them.
pub(super) struct Tables {
    pub(super) full: FullRounds<Limbs>,
    pub(super) pre_partial: [[Limbs; 3]; 3],
    /// Per partial round: the constant, `row[1..]`, `col[1..]`.
    pub(super) partial: Vec<(Limbs, [Limbs; 2], [Limbs; 2])>,
}

impl Tables {
    pub(super) fn new(opt: &Optimized<3>) -> Self {
        let convert = to_limbs;
        Tables {
            full: FullRounds::with(opt, convert),
            pre_partial: opt.pre_partial.map(|row| row.map(convert)),
            partial: opt
                .partial
                .iter()
                .map(|round| {
                    (
                        convert(round.constant),
                        [convert(round.row[1]), convert(round.row[2])],
                        [convert(round.col[1]), convert(round.col[2])],
                    )
                })
                .collect(),
        }
    }
}

/// Whether this CPU can run [`hash2_x8`].
pub(super) fn available() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512ifma")
}

/// `out[i] = hash2(pairs[i][0], pairs[i][1])` for equal-length slices, eight at a time.
/// Returns `false` (and leaves `out` untouched) if this CPU lacks AVX-512 IFMA.
pub(super) fn hash2_chunks(pairs: &[[Fr; 2]], out: &mut [Fr]) -> bool {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    if !available() {
        return false;
    }
    let tables = TABLES.get_or_init(|| Tables::new(super::optimized2()));
    // SAFETY: `available()` checked that the CPU has the features `hash2_x8` enables.
    super::in_chunks(pairs, out, |lanes| unsafe { hash2_x8(tables, lanes) });
    true
}

/// Eight elements, one per lane, as limb vectors.
#[derive(Clone, Copy)]
struct Lanes([__m512i; LIMBS]);

/// Eight hashes of two inputs each.
#[target_feature(enable = "avx512f,avx512ifma")]
pub(super) fn hash2_x8(tables: &Tables, inputs: &[[Fr; 2]; LANES]) -> [Fr; LANES] {
    let a: [Limbs; LANES] = std::array::from_fn(|l| to_limbs(inputs[l][0]));
    let b: [Limbs; LANES] = std::array::from_fn(|l| to_limbs(inputs[l][1]));
    let zero = Lanes([_mm512_setzero_si512(); LIMBS]);
    let out = permute(tables, [zero, load(&a), load(&b)]);
    let out = sub_if_at_least(out, &P4);
    let out = sub_if_at_least(out, &P2);
    let out = sub_if_at_least(out, &P);
    store(out).map(from_limbs)
}

/// The optimised permutation of [`Optimized::permute_first`], on lanes.
#[target_feature(enable = "avx512f,avx512ifma")]
fn permute(t: &Tables, mut s: [Lanes; 3]) -> Lanes {
    let full = &t.full;
    for (r, constants) in full.first.iter().enumerate() {
        let m = if r + 1 == HALF_FULL {
            &t.pre_partial
        } else {
            &full.mds
        };
        s = mix(m, &full_sbox(s, constants));
    }
    for (constant, row, col) in &t.partial {
        let acc = add(mul_const(s[1], &row[0]), mul_const(s[2], &row[1]));
        let u = pow5(add_const(s[0], constant));
        s[0] = add(u, acc);
        s[1] = sub_if_at_least(add(s[1], mul_const(u, &col[0])), &P4);
        s[2] = sub_if_at_least(add(s[2], mul_const(u, &col[1])), &P4);
    }
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
#[target_feature(enable = "avx512f,avx512ifma")]
fn full_sbox(s: [Lanes; 3], constants: &[Limbs; 3]) -> [Lanes; 3] {
    [
        pow5(add_const(s[0], &constants[0])),
        pow5(add_const(s[1], &constants[1])),
        pow5(add_const(s[2], &constants[2])),
    ]
}

/// The linear layer `m · s`.
#[target_feature(enable = "avx512f,avx512ifma")]
fn mix(m: &[[Limbs; 3]; 3], s: &[Lanes; 3]) -> [Lanes; 3] {
    [dot(&m[0], s), dot(&m[1], s), dot(&m[2], s)]
}

/// `Σ_j row[j]·s[j]`, below `6p`.
#[target_feature(enable = "avx512f,avx512ifma")]
fn dot(row: &[Limbs; 3], s: &[Lanes; 3]) -> Lanes {
    add(
        add(mul_const(s[0], &row[0]), mul_const(s[1], &row[1])),
        mul_const(s[2], &row[2]),
    )
}

/// `x⁵` (input below `8p`, output below `2p`).
#[target_feature(enable = "avx512f,avx512ifma")]
fn pow5(x: Lanes) -> Lanes {
    let x2 = mul(&x, &x);
    let x4 = mul(&x2, &x2);
    mul(&x4, &x)
}

#[target_feature(enable = "avx512f,avx512ifma")]
fn splat(c: &Limbs) -> Lanes {
    Lanes(c.map(|limb| _mm512_set1_epi64(limb as i64)))
}

#[target_feature(enable = "avx512f,avx512ifma")]
fn mul_const(x: Lanes, c: &Limbs) -> Lanes {
    mul(&x, &splat(c))
}

#[target_feature(enable = "avx512f,avx512ifma")]
fn add_const(x: Lanes, c: &Limbs) -> Lanes {
    add(x, splat(c))
}

/// Limb-wise sum, carried so that every limb is below `2^52` again.
#[target_feature(enable = "avx512f,avx512ifma")]
fn add(a: Lanes, b: Lanes) -> Lanes {
    carry(std::array::from_fn(|i| _mm512_add_epi64(a.0[i], b.0[i])))
}

/// Propagates carries so that limbs 0–3 are below `2^52` (limb 4 takes the rest).
#[target_feature(enable = "avx512f,avx512ifma")]
fn carry(mut t: [__m512i; LIMBS]) -> Lanes {
    let mask = _mm512_set1_epi64(MASK as i64);
    for i in 0..LIMBS - 1 {
        t[i + 1] = _mm512_add_epi64(t[i + 1], _mm512_srli_epi64::<52>(t[i]));
        t[i] = _mm512_and_si512(t[i], mask);
    }
    Lanes(t)
}

/// `x - k` in the lanes where `x ≥ k`, `x` elsewhere (`x`, `k` below `2^260`).
#[target_feature(enable = "avx512f,avx512ifma")]
fn sub_if_at_least(x: Lanes, k: &Limbs) -> Lanes {
    let mask = _mm512_set1_epi64(MASK as i64);
    let mut d = [_mm512_setzero_si512(); LIMBS];
    let mut borrow = _mm512_setzero_si512();
    for i in 0..LIMBS {
        let v = _mm512_add_epi64(
            _mm512_sub_epi64(x.0[i], _mm512_set1_epi64(k[i] as i64)),
            borrow,
        );
        // Arithmetic shift: -1 when this limb went negative, 0 otherwise.
        borrow = _mm512_srai_epi64::<52>(v);
        d[i] = if i + 1 < LIMBS {
            _mm512_and_si512(v, mask)
        } else {
            v
        };
    }
    let below = _mm512_cmplt_epi64_mask(d[LIMBS - 1], _mm512_setzero_si512());
    Lanes(std::array::from_fn(|i| {
        _mm512_mask_blend_epi64(below, d[i], x.0[i])
    }))
}

/// Montgomery product `a·b/2^260 mod p` (inputs below `8p`, output below `2p`), by
/// word-by-word reduction with 52-bit words: five rounds of "add `a·b_i`, add `m·p` to
/// clear the low word, shift one word down".
#[target_feature(enable = "avx512f,avx512ifma")]
fn mul(a: &Lanes, b: &Lanes) -> Lanes {
    let zero = _mm512_setzero_si512();
    let p = splat(&P);
    let n0 = _mm512_set1_epi64(N0 as i64);
    let mut t = [zero; LIMBS + 1];
    for &bi in &b.0 {
        for j in 0..LIMBS {
            t[j] = _mm512_madd52lo_epu64(t[j], a.0[j], bi);
            t[j + 1] = _mm512_madd52hi_epu64(t[j + 1], a.0[j], bi);
        }
        let m = _mm512_madd52lo_epu64(zero, t[0], n0);
        for j in 0..LIMBS {
            t[j] = _mm512_madd52lo_epu64(t[j], m, p.0[j]);
            t[j + 1] = _mm512_madd52hi_epu64(t[j + 1], m, p.0[j]);
        }
        // The low 52 bits of t[0] are now zero: shift one word down, keeping its carry.
        let low_carry = _mm512_srli_epi64::<52>(t[0]);
        t = [
            _mm512_add_epi64(t[1], low_carry),
            t[2],
            t[3],
            t[4],
            t[5],
            zero,
        ];
    }
    carry([t[0], t[1], t[2], t[3], t[4]])
}

/// Eight elements (one per lane) into limb vectors.
#[target_feature(enable = "avx512f,avx512ifma")]
fn load(x: &[Limbs; LANES]) -> Lanes {
    Lanes(std::array::from_fn(|i| {
        _mm512_setr_epi64(
            x[0][i] as i64,
            x[1][i] as i64,
            x[2][i] as i64,
            x[3][i] as i64,
            x[4][i] as i64,
            x[5][i] as i64,
            x[6][i] as i64,
            x[7][i] as i64,
        )
    }))
}

/// Limb vectors back into eight elements.
fn store(x: Lanes) -> [Limbs; LANES] {
    // SAFETY: `__m512i` and `[u64; 8]` have the same size, and every bit pattern is a
    // valid `u64`.
    transpose(x.0.map(|v| unsafe { std::mem::transmute::<__m512i, [u64; LANES]>(v) }))
}

/// Limb `i` of every lane (`limbs[i][lane]`) as each lane's limbs.
pub(super) fn transpose<const L: usize>(limbs: [[u64; L]; LIMBS]) -> [Limbs; L] {
    std::array::from_fn(|lane| std::array::from_fn(|i| limbs[i][lane]))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use ark_ff::{AdditiveGroup, Field};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    /// Whether the IFMA tests can run here. With `UNDERSIGN_REQUIRE_IFMA=1` in the environment
    /// a CPU without it fails the test instead of skipping it.
    pub(crate) fn ifma_or_skip() -> bool {
        available_or_skip(available(), "UNDERSIGN_REQUIRE_IFMA", "AVX-512 IFMA")
    }

    /// `available`, or else (unless the environment variable `require` is set, which makes it
    /// a failure) a note that the calling test skips for want of `instructions`.
    pub(crate) fn available_or_skip(available: bool, require: &str, instructions: &str) -> bool {
        if available {
            return true;
        }
        assert!(
            std::env::var_os(require).is_none(),
            "{require} is set but this CPU has no {instructions}"
        );
        eprintln!("skipped: this CPU has no {instructions}");
        false
    }

    #[test]
    fn limb_constants() {
        // p in limbs round-trips; N0·p ≡ -1 (mod 2^52); 4p fits below 2^260.
        assert_eq!(join(P), <Fr as PrimeField>::MODULUS.0);
        assert_eq!(N0.wrapping_mul(P[0]) & MASK, MASK);
        assert!(P4[4] < 1 << 52);
        assert_eq!(SIXTEEN, Fr::from(16u64));
        assert_eq!(SIXTEEN * INV_SIXTEEN, Fr::ONE);
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        for _ in 0..100 {
            let x: [u64; 4] = std::array::from_fn(|_| rng.gen());
            assert_eq!(join(split(x)), x);
        }
        for v in [Fr::ZERO, Fr::ONE, -Fr::ONE, Fr::from(12345u64)] {
            assert_eq!(from_limbs(to_limbs(v)), v);
        }
    }

    /// The integer value of limbs (any limb size) modulo p, as a field element.
    pub(crate) fn value(x: &Limbs) -> Fr {
        let two52 = Fr::from(1u64 << 52);
        x.iter()
            .rev()
            .fold(Fr::ZERO, |acc, &l| acc * two52 + Fr::from(l))
    }

    /// Whether `a < b` as integers (normalised limbs).
    pub(crate) fn less(a: &Limbs, b: &Limbs) -> bool {
        a.iter().rev().lt(b.iter().rev())
    }

    /// A uniformly random normalised value below `bound` (rejection sampling).
    pub(crate) fn random_below(rng: &mut ChaCha20Rng, bound: &Limbs) -> Limbs {
        loop {
            let mut x: Limbs = std::array::from_fn(|_| rng.gen::<u64>() & MASK);
            x[4] &= (1 << 49) - 1;
            if less(&x, bound) {
                return x;
            }
        }
    }

    /// # Safety
    /// Only where `available()`.
    unsafe fn lanes_of(x: [Limbs; LANES]) -> Lanes {
        load(&x)
    }

    #[test]
    fn multiplication_at_the_lazy_bounds() {
        if !ifma_or_skip() {
            return;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(52);
        let p8 = times(<Fr as PrimeField>::MODULUS.0, 8);
        let mut p8_minus_1 = p8;
        p8_minus_1[0] -= 1;
        let r_inv = Fr::from(2u64).pow([260]).inverse().unwrap();
        // Extreme inputs in every lane position, then random inputs in [0, 8p), different in
        // every lane.
        let extreme = [
            [0; LIMBS],
            P4,
            P2,
            P,
            p8_minus_1,
            [MASK, MASK, MASK, MASK, 0],
        ];
        let mut cases: Vec<([Limbs; LANES], [Limbs; LANES])> = Vec::new();
        for a in &extreme {
            for b in &extreme {
                let mut x = [*a; LANES];
                x[3] = *b;
                cases.push((x, [*b; LANES]));
            }
        }
        for _ in 0..200 {
            cases.push((
                std::array::from_fn(|_| random_below(&mut rng, &p8)),
                std::array::from_fn(|_| random_below(&mut rng, &p8)),
            ));
        }
        for (a, b) in cases {
            let got = store(unsafe { mul(&lanes_of(a), &lanes_of(b)) });
            for lane in 0..LANES {
                let out = got[lane];
                assert!(out.iter().all(|&l| l <= MASK), "normalised limbs");
                assert!(less(&out, &P2), "output below 2p");
                assert_eq!(value(&out), value(&a[lane]) * value(&b[lane]) * r_inv);
            }
        }
    }

    #[test]
    fn conditional_subtraction() {
        if !ifma_or_skip() {
            return;
        }
        // SAFETY: checked `available()` above.
        check_conditional_subtraction(|x: [Limbs; LANES], k| unsafe {
            store(sub_if_at_least(lanes_of(x), k))
        });
    }

    /// Checks a lane width's `sub_if_at_least(x, k)`, given as `sub` on `L` lanes: exact
    /// results at `k - 1`, `k`, `k + p`, and the output chain (`4p`, `2p`, `p`) bringing
    /// anything below `6p` below `p`.
    pub(crate) fn check_conditional_subtraction<const L: usize>(
        sub: impl Fn([Limbs; L], &Limbs) -> [Limbs; L],
    ) {
        let minus_1 = |mut v: Limbs| {
            v[0] -= 1;
            v
        };
        let p5 = times(<Fr as PrimeField>::MODULUS.0, 5);
        let p6 = times(<Fr as PrimeField>::MODULUS.0, 6);
        let below = minus_1(P4);
        let mut p5_plus_1 = p5;
        p5_plus_1[0] += 1;
        let cases = [
            (P4, [0; LIMBS]),
            (below, below),
            ([0; LIMBS], [0; LIMBS]),
            (P, P),
            (P2, P2),
            (p5, P),
        ];
        let chain_inputs = [
            P4,
            p5_plus_1,
            minus_1(p6),
            minus_1(P),
            P,
            P2,
            [0; LIMBS],
            minus_1(P4),
        ];
        // Every input in every lane position.
        for shift in 0..L {
            let x: [Limbs; L] = std::array::from_fn(|l| cases[(l + shift) % cases.len()].0);
            let expected: [Limbs; L] = std::array::from_fn(|l| cases[(l + shift) % cases.len()].1);
            assert_eq!(sub(x, &P4), expected);
            let x: [Limbs; L] = std::array::from_fn(|l| chain_inputs[(l + shift) % 8]);
            let reduced = sub(sub(sub(x, &P4), &P2), &P);
            for (lane, input) in reduced.iter().zip(&x) {
                assert!(less(lane, &P));
                assert_eq!(value(lane), value(input));
            }
        }
    }
}
