//! Poseidon over the BN254 scalar field `Fr`, with circomlib's parameters.
//!
//! # Fast paths and their reference
//!
//! This crate is a trusted boundary: everything in it but [`hash_reference`] and [`params`] is
//! a faster evaluation of the same function and must equal it on every input. Each is tested
//! against it beside its code, with differential property tests in `proptests.rs`
//! (edge-biased inputs; `PROPTEST_CASES=N` raises the case count, proptest's own variable).
//!
//! | Fast path | Must equal |
//! |---|---|
//! | [`hash1`], [`hash2`], [`hash`] (sparse partial rounds; width 3 in observer form, module `observer`) | [`hash_reference`] |
//! | the BMI2/ADX copy of each permutation | the portable copy and [`hash_reference`] |
//! | [`hash2_batch`] (threads, chunks, padded tail) | [`hash_reference`] per pair |
//! | AVX2 + FMA lanes (module `fma`, 4 hashes at once, where the CPU has them) | [`hash_reference`] per pair |
//! | AVX-512 IFMA lanes (module `lanes`, 8 at once, where the CPU has it) | [`hash_reference`] per pair |
//! | [`hash_reference`] itself, via [`params`] | circomlib's test vectors and light-poseidon's constants |
//!
//! The lane tests skip on CPUs without the instructions (`UNDERSIGN_REQUIRE_IFMA=1` or
//! `UNDERSIGN_REQUIRE_FMA=1` turn the skip into a failure). The 10⁷-pair lane run is ignored by
//! default:
//! `CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true cargo test -p undersign-poseidon --release --lib -- --ignored ten_million`.
//!
//! This is the hash used everywhere in Undersign (commitments, nullifiers, the
//! registry Merkle tree). It is bit-for-bit compatible with circomlib's
//! `Poseidon(n)` template, circomlibjs' `poseidon` and light-poseidon's
//! `Poseidon::new_circom(n)`.
//!
//! # Definition
//!
//! For `n` inputs the state has width `t = n + 1` and starts as
//! `[0, in_1, ..., in_n]`. The permutation runs `R_F = 8` full rounds (4 before
//! and 4 after the partial rounds) and `R_P` partial rounds, where `R_P` is
//! taken from circomlib's table [`PARTIAL_ROUNDS`] (`57` for `t = 3`). Every
//! round `r` (counting from 0 across all `R_F + R_P` rounds) does:
//!
//! 1. add round constants: `s[i] += C[r·t + i]`;
//! 2. S-box `x ↦ x⁵`: on every element in full rounds, only on `s[0]` in
//!    partial rounds;
//! 3. MDS: `s'[i] = Σ_j M[i][j]·s[j]`.
//!
//! The output is `s[0]` after the last round. [`hash_reference`] is a literal
//! transcription of this definition.
//!
//! # Constants (Grain LFSR)
//!
//! The constants are not stored: they are regenerated once per width (lazily,
//! on first use) exactly as the Poseidon reference script
//! `generate_parameters_grain.sage` does, invoked as
//! `generate_parameters_grain.sage 1 0 254 t 8 R_P 0x30644e72…f0000001`:
//!
//! * **Seed.** An 80-bit LFSR state `b_0 … b_79` is initialised with, in this
//!   order and each most significant bit first: the field type `1` in 2 bits
//!   (`01`, prime field), the S-box type `0` in 4 bits (`x^α`), the field size
//!   `n = 254` in 12 bits, `t` in 12 bits, `R_F = 8` in 10 bits, `R_P` in 10
//!   bits, then 30 one-bits. `b_0` is the first of these bits.
//! * **Clocking.** Each clock computes
//!   `b = b_62 ⊕ b_51 ⊕ b_38 ⊕ b_23 ⊕ b_13 ⊕ b_0`, drops `b_0`, shifts, and
//!   appends `b` as the new `b_79`; the new bit is the clock's output. The
//!   first 160 outputs are discarded.
//! * **Self-shrinking.** Output bits are then produced from pairs of clock
//!   outputs `(a, b)`: if `a = 1` the generator outputs `b`, otherwise both are
//!   discarded.
//! * **Field elements.** An element is 254 consecutive output bits read as an
//!   unsigned integer, first bit most significant.
//! * **Round constants first.** The `(R_F + R_P)·t` round constants are drawn
//!   first, in round-major order (`C[r·t + i]`). A candidate `≥ p` is rejected
//!   and the next 254 bits are drawn instead.
//! * **MDS second.** Then `2t` further elements are drawn, each *reduced*
//!   modulo `p` (no rejection): the first `t` are `x_0 … x_{t-1}`, the next `t`
//!   are `y_0 … y_{t-1}`, and `M[i][j] = 1 / (x_i + y_j)` (a Cauchy matrix).
//!   If the `2t` values are not pairwise distinct, or some `x_i + y_j = 0`, the
//!   script discards all `2t` and draws `2t` new ones; this implementation does
//!   the same. (The script also runs the security checks "algorithms 1–3" of
//!   the Poseidon paper on the matrix and redraws it if one fails; those checks
//!   are not reimplemented here. For every supported width the first matrix
//!   passes: the tests compare every generated round constant and matrix entry
//!   for widths 2–13 with the constants light-poseidon embeds, which are
//!   circomlib's.)
//! * **Orientation.** The linear layer is `s'[i] = Σ_j M[i][j]·s[j]` with
//!   `M[i][j] = 1/(x_i + y_j)` exactly as generated (row `i` from `x_i`), i.e.
//!   the matrix multiplies the state column vector from the left. The
//!   transposed matrix gives different outputs; the tests pin the orientation
//!   against circomlib's test vectors.
//!
//! # Fast path
//!
//! [`hash1`], [`hash2`] and [`hash`] evaluate the same function using the
//! optimisations of Appendix B of the Poseidon paper, precomputed once per
//! width: the partial rounds' round constants are moved so that each partial
//! round adds a single constant to `s[0]`, and the partial rounds' dense MDS
//! multiplications are replaced by sparse ones; in addition `s[0]` is carried
//! scaled by a known per-round factor during the partial rounds, which removes
//! one more multiplication. A partial round then costs `2t + 1` field
//! multiplications (3 of them in the S-box) instead of `t² + 3`. The products of
//! the linear layers are summed before one Montgomery reduction per sum. For
//! width 3 ([`hash2`], the trees' hash) the partial rounds carry two other
//! coordinates in place of `s[1]` and `s[2]` (module `observer`), which saves one more
//! reduction per round. The state lives in a fixed-size array; no hash allocates.

use std::sync::OnceLock;

use ark_bn254::Fr;
use ark_ff::{AdditiveGroup, BigInt, BigInteger, Field, PrimeField};
use rayon::prelude::*;

/// Number of full rounds (`R_F`); half of them run before the partial rounds.
pub const FULL_ROUNDS: usize = 8;

/// circomlib's number of partial rounds (`R_P`) for widths `t = 2 ..= 17`:
/// `PARTIAL_ROUNDS[t - 2]`.
pub const PARTIAL_ROUNDS: [usize; 16] = [
    56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68,
];

/// Largest number of inputs accepted by [`hash`], [`hash_reference`] and
/// (as `width - 1`) [`params`].
pub const MAX_INPUTS: usize = 4;

/// Largest state width accepted by [`params`] (`MAX_INPUTS + 1`).
pub const MAX_WIDTH: usize = MAX_INPUTS + 1;

/// Size in bits of the field elements drawn from the Grain LFSR
/// (the bit length of the BN254 scalar field modulus).
const FIELD_BITS: usize = 254;

const HALF_FULL: usize = FULL_ROUNDS / 2;

#[cfg(target_arch = "x86_64")]
mod fma;
#[cfg(target_arch = "x86_64")]
mod lanes;
mod observer;

#[cfg(test)]
mod proptests;

/// [`hash2_batch`] splits inputs longer than this across rayon's thread pool.
const BATCH_PARALLEL_CHUNK: usize = 1 << 10;

/// Errors of this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PoseidonError {
    /// The number of inputs is outside `1 ..= MAX_INPUTS`.
    #[error("unsupported number of Poseidon inputs: {0} (supported: 1..={MAX_INPUTS})")]
    UnsupportedInputCount(usize),
    /// The state width is outside `2 ..= MAX_WIDTH`.
    #[error("unsupported Poseidon width: {0} (supported: 2..={MAX_WIDTH})")]
    UnsupportedWidth(usize),
}

/// The unoptimised Poseidon parameters for one state width, exactly as the
/// reference Grain script generates them (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoseidonParams {
    /// State width `t` (number of inputs + 1).
    pub width: usize,
    /// Number of full rounds `R_F` (always 8: 4 before, 4 after the partial rounds).
    pub full_rounds: usize,
    /// Number of partial rounds `R_P`.
    pub partial_rounds: usize,
    /// `(R_F + R_P)·t` round constants, round-major: round `r` adds
    /// `round_constants[r·t + i]` to state element `i`.
    pub round_constants: Vec<Fr>,
    /// The `t × t` MDS matrix, applied as `out[i] = Σ_j mds[i][j]·s[j]`.
    pub mds: Vec<Vec<Fr>>,
}

/// Returns the parameters for state width `width` (`2 ..= MAX_WIDTH`),
/// generated on first use and cached for the life of the process.
pub fn params(width: usize) -> Result<&'static PoseidonParams, PoseidonError> {
    if !(2..=MAX_WIDTH).contains(&width) {
        return Err(PoseidonError::UnsupportedWidth(width));
    }
    Ok(cached_params(width))
}

/// The cached parameters; `width` must be in `2 ..= MAX_WIDTH` (callers pass
/// constants or checked values).
fn cached_params(width: usize) -> &'static PoseidonParams {
    static CACHE: [OnceLock<PoseidonParams>; MAX_WIDTH - 1] =
        [const { OnceLock::new() }; MAX_WIDTH - 1];
    CACHE[width - 2].get_or_init(|| generate_params(width))
}

/// Poseidon of one field element (width 2). Equal to circomlib's `Poseidon(1)`.
pub fn hash1(a: Fr) -> Fr {
    static OPT: OnceLock<Optimized<2>> = OnceLock::new();
    OPT.get_or_init(|| Optimized::new(cached_params(2)))
        .permute_first([Fr::ZERO, a])
}

/// Poseidon of two field elements (width 3). Equal to circomlib's `Poseidon(2)`.
pub fn hash2(a: Fr, b: Fr) -> Fr {
    permute_width3([Fr::ZERO, a, b])
}

fn optimized2() -> &'static Optimized<3> {
    static OPT: OnceLock<Optimized<3>> = OnceLock::new();
    OPT.get_or_init(|| Optimized::new(cached_params(3)))
}

/// Width 3's partial rounds in observer form ([`observer`]), which [`hash2`] and the AVX2
/// lanes use.
fn observer2() -> &'static observer::ObserverRounds {
    static OBSERVER: OnceLock<observer::ObserverRounds> = OnceLock::new();
    OBSERVER.get_or_init(|| observer::ObserverRounds::new(optimized2()))
}

/// The width-3 permutation's first element, with observer-form partial rounds. On x86-64
/// CPUs with BMI2 and ADX the same code runs compiled for them ([`undersign_bn254::cpu`]).
#[inline]
fn permute_width3(s: [Fr; 3]) -> Fr {
    #[cfg(target_arch = "x86_64")]
    if undersign_bn254::cpu::has_bmi2_adx() {
        // SAFETY: the CPU has both features the function is compiled for (checked above).
        return unsafe { permute_width3_bmi2_adx(s) };
    }
    permute_width3_portable(s)
}

/// [`permute_width3`] compiled for CPUs with BMI2 and ADX.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi2,adx")]
fn permute_width3_bmi2_adx(s: [Fr; 3]) -> Fr {
    permute_width3_portable(s)
}

/// [`permute_width3`] for any CPU.
#[inline(always)]
fn permute_width3_portable(s: [Fr; 3]) -> Fr {
    let (opt, observer) = (optimized2(), observer2());
    let s = opt.first_half(s, &observer.entry);
    opt.second_half(observer.run(s))
}

/// Poseidon of many pairs: `out[i] = hash2(pairs[i][0], pairs[i][1])`.
///
/// The same values as calling [`hash2`] on each pair, computed faster: long inputs are split
/// across rayon's thread pool, and on x86-64 CPUs several hashes run at once in vector
/// registers, eight with AVX-512 IFMA or else four with AVX2 and FMA (checked at run time).
/// Used to build registry trees.
pub fn hash2_batch(pairs: &[[Fr; 2]]) -> Vec<Fr> {
    let mut out = vec![Fr::ZERO; pairs.len()];
    if pairs.len() > BATCH_PARALLEL_CHUNK {
        out.par_chunks_mut(BATCH_PARALLEL_CHUNK)
            .zip(pairs.par_chunks(BATCH_PARALLEL_CHUNK))
            .for_each(|(out, pairs)| hash2_into(pairs, out));
    } else {
        hash2_into(pairs, &mut out);
    }
    out
}

/// [`hash2_batch`] on one thread, into `out` (of the same length as `pairs`): with AVX-512
/// IFMA where the CPU has it, else with AVX2 and FMA, else one hash at a time.
fn hash2_into(pairs: &[[Fr; 2]], out: &mut [Fr]) {
    debug_assert_eq!(pairs.len(), out.len());
    #[cfg(target_arch = "x86_64")]
    if lanes::hash2_chunks(pairs, out) || fma::hash2_chunks(pairs, out) {
        return;
    }
    hash2_scalar(pairs, out);
}

/// `out[i] = hash2(pairs[i][0], pairs[i][1])` with a function that hashes `L` pairs at once:
/// whole chunks of `L`, then the rest padded with zeros (whose hashes are dropped).
#[cfg(target_arch = "x86_64")]
fn in_chunks<const L: usize>(
    pairs: &[[Fr; 2]],
    out: &mut [Fr],
    hash_lanes: impl Fn(&[[Fr; 2]; L]) -> [Fr; L],
) {
    let mut pairs = pairs.chunks_exact(L);
    let mut outs = out.chunks_exact_mut(L);
    for (chunk, dst) in (&mut pairs).zip(&mut outs) {
        let mut lanes = [[Fr::ZERO; 2]; L];
        lanes.copy_from_slice(chunk);
        dst.copy_from_slice(&hash_lanes(&lanes));
    }
    let (rest, dst) = (pairs.remainder(), outs.into_remainder());
    if !rest.is_empty() {
        let mut lanes = [[Fr::ZERO; 2]; L];
        lanes[..rest.len()].copy_from_slice(rest);
        dst.copy_from_slice(&hash_lanes(&lanes)[..rest.len()]);
    }
}

/// [`hash2_into`] with the scalar permutation only.
fn hash2_scalar(pairs: &[[Fr; 2]], out: &mut [Fr]) {
    for (dst, [a, b]) in out.iter_mut().zip(pairs) {
        *dst = permute_width3([Fr::ZERO, *a, *b]);
    }
}

fn hash3(a: Fr, b: Fr, c: Fr) -> Fr {
    static OPT: OnceLock<Optimized<4>> = OnceLock::new();
    OPT.get_or_init(|| Optimized::new(cached_params(4)))
        .permute_first([Fr::ZERO, a, b, c])
}

fn hash4(a: Fr, b: Fr, c: Fr, d: Fr) -> Fr {
    static OPT: OnceLock<Optimized<5>> = OnceLock::new();
    OPT.get_or_init(|| Optimized::new(cached_params(5)))
        .permute_first([Fr::ZERO, a, b, c, d])
}

/// Poseidon of `1 ..= MAX_INPUTS` field elements, using the optimised
/// evaluation. Equal to circomlib's `Poseidon(inputs.len())` and to
/// [`hash_reference`]; one input is [`hash1`], two are [`hash2`].
pub fn hash(inputs: &[Fr]) -> Result<Fr, PoseidonError> {
    match *inputs {
        [a] => Ok(hash1(a)),
        [a, b] => Ok(hash2(a, b)),
        [a, b, c] => Ok(hash3(a, b, c)),
        [a, b, c, d] => Ok(hash4(a, b, c, d)),
        _ => Err(PoseidonError::UnsupportedInputCount(inputs.len())),
    }
}

/// Poseidon of `1 ..= MAX_INPUTS` field elements, computed with the plain,
/// unoptimised permutation straight from [`params`]. This is the readable
/// definition; it is slower than [`hash`] and returns the same values.
pub fn hash_reference(inputs: &[Fr]) -> Result<Fr, PoseidonError> {
    if inputs.is_empty() || inputs.len() > MAX_INPUTS {
        return Err(PoseidonError::UnsupportedInputCount(inputs.len()));
    }
    let p = cached_params(inputs.len() + 1);
    let t = p.width;
    let mut state = Vec::with_capacity(t);
    state.push(Fr::ZERO);
    state.extend_from_slice(inputs);

    let half = p.full_rounds / 2;
    for r in 0..p.full_rounds + p.partial_rounds {
        for (s, c) in state.iter_mut().zip(&p.round_constants[r * t..(r + 1) * t]) {
            *s += c;
        }
        let full = r < half || r >= half + p.partial_rounds;
        if full {
            state.iter_mut().for_each(|s| *s = pow5(*s));
        } else {
            state[0] = pow5(state[0]);
        }
        state = p
            .mds
            .iter()
            .map(|row| row.iter().zip(&state).map(|(m, s)| *m * s).sum())
            .collect();
    }
    Ok(state[0])
}

#[inline(always)]
fn pow5(x: Fr) -> Fr {
    let x2 = x.square();
    x2.square() * x
}

// ---------------------------------------------------------------------------
// Grain LFSR parameter generation
// ---------------------------------------------------------------------------

/// The Grain LFSR of the reference script, in self-shrinking mode.
struct Grain {
    /// Bit `i` holds `b_i`; `b_0` is the oldest bit.
    state: u128,
}

impl Grain {
    fn new(width: usize, partial_rounds: usize) -> Self {
        // (value, bit length), concatenated most significant bit first.
        let fields: [(u128, u32); 7] = [
            (1, 2),                       // field: GF(p)
            (0, 4),                       // S-box: x^alpha
            (FIELD_BITS as u128, 12),     // n
            (width as u128, 12),          // t
            (FULL_ROUNDS as u128, 10),    // R_F
            (partial_rounds as u128, 10), // R_P
            ((1 << 30) - 1, 30),          // 30 one-bits
        ];
        let mut state = 0u128;
        let mut pos = 0;
        for (value, len) in fields {
            for k in (0..len).rev() {
                state |= ((value >> k) & 1) << pos;
                pos += 1;
            }
        }
        debug_assert_eq!(pos, 80);
        let mut grain = Grain { state };
        for _ in 0..160 {
            grain.clock();
        }
        grain
    }

    fn clock(&mut self) -> bool {
        let s = self.state;
        let bit = ((s >> 62) ^ (s >> 51) ^ (s >> 38) ^ (s >> 23) ^ (s >> 13) ^ s) & 1;
        self.state = (s >> 1) | (bit << 79);
        bit == 1
    }

    fn next_bit(&mut self) -> bool {
        loop {
            let keep = self.clock();
            let bit = self.clock();
            if keep {
                return bit;
            }
        }
    }

    /// The next `FIELD_BITS` output bits as an integer, first bit most significant.
    fn next_int(&mut self) -> BigInt<4> {
        let mut limbs = [0u64; 4];
        for _ in 0..FIELD_BITS {
            let bit = u64::from(self.next_bit());
            // Shift the 256-bit little-endian limb array left by one.
            for k in (1..4).rev() {
                limbs[k] = (limbs[k] << 1) | (limbs[k - 1] >> 63);
            }
            limbs[0] = (limbs[0] << 1) | bit;
        }
        BigInt::new(limbs)
    }

    /// A round constant: the next integer below the modulus (rejection sampling).
    fn next_round_constant(&mut self) -> Fr {
        loop {
            let x = self.next_int();
            if x < Fr::MODULUS {
                return Fr::from_le_bytes_mod_order(&x.to_bytes_le());
            }
        }
    }

    /// An MDS seed element: the next integer, reduced modulo `p`.
    fn next_reduced(&mut self) -> Fr {
        Fr::from_le_bytes_mod_order(&self.next_int().to_bytes_le())
    }
}

/// Generates the parameters for width `width` (`2 ..= 17`) with the Grain LFSR.
fn generate_params(width: usize) -> PoseidonParams {
    let partial_rounds = PARTIAL_ROUNDS[width - 2];
    let mut grain = Grain::new(width, partial_rounds);

    let round_constants = (0..(FULL_ROUNDS + partial_rounds) * width)
        .map(|_| grain.next_round_constant())
        .collect();

    let mds = loop {
        let draws: Vec<Fr> = (0..2 * width).map(|_| grain.next_reduced()).collect();
        let distinct = draws
            .iter()
            .enumerate()
            .all(|(i, a)| draws[i + 1..].iter().all(|b| a != b));
        if !distinct {
            continue;
        }
        let (xs, ys) = draws.split_at(width);
        let rows: Option<Vec<Vec<Fr>>> = xs
            .iter()
            .map(|x| ys.iter().map(|y| (*x + y).inverse()).collect())
            .collect();
        // `inverse` is `None` exactly when some x_i + y_j = 0: redraw, as the script does.
        if let Some(rows) = rows {
            break rows;
        }
    };

    PoseidonParams {
        width,
        full_rounds: FULL_ROUNDS,
        partial_rounds,
        round_constants,
        mds,
    }
}

// ---------------------------------------------------------------------------
// Optimised evaluation (Poseidon paper, Appendix B)
// ---------------------------------------------------------------------------

type Matrix<const T: usize> = [[Fr; T]; T];

/// One partial round of the optimised permutation (see [`Optimized`]).
struct PartialRound<const T: usize> {
    /// The constant added to the scaled `s[0]` before the S-box.
    constant: Fr,
    /// Weights of `s[1..]` in the new `s[0]` (`row[0]` is unused).
    row: [Fr; T],
    /// Weights of the S-box output added to `s[1..]` (`col[0]` is unused).
    col: [Fr; T],
}

/// Precomputed tables for the optimised permutation of width `T`.
///
/// Derivation, starting from the plain rounds of [`PoseidonParams`]:
///
/// 1. *Constant moving.* In a partial round, adding `(0, c_1, …, c_{t-1})`
///    commutes with the S-box (which only touches `s[0]`), so that part is
///    pushed through the MDS into the next round's constants. Done forwards,
///    every partial round is left with a single constant on `s[0]` and the last
///    one pushes into the first full round of the second half.
/// 2. *Sparse factorisation.* The linear layer `N` of a partial round is
///    written `N = B·A` with `A = diag(1, N̂)` (`N̂`: `N` without its first row
///    and column) and `B = [[n00, vᵀ], [w, I]]`, `vᵀ = N[0][1..]·N̂⁻¹`,
///    `w = N[1..][0]`. `A` commutes with the partial S-box and with adding a
///    constant to `s[0]`, so it moves into the previous round's layer, which
///    becomes `A·M` and is factored in turn (backwards from the last partial
///    round). The first partial round's `A` lands in the last full round of
///    the first half.
/// 3. *Scaling of `s[0]`.* During the partial rounds `s[0]` is stored divided
///    by a known per-round factor `λ_p` (`λ_0 = 1`, `λ_{p+1} = n00·λ_p⁵`, and
///    `n00 = M[0][0] ≠ 0` in every factor). This removes the multiplication by
///    `n00` from every partial round; the factors are folded into the round
///    constants, `v`, `w`, and the first full round after the partial rounds.
///
/// A partial round is then `u = (s0 + k)⁵; s0 = u + Σ_{j≥1} v_j·s_j;
/// s_j += w_j·u`, i.e. `2t + 1` multiplications instead of `t² + 3`.
struct Optimized<const T: usize> {
    /// Round constants of the first-half full rounds.
    first_constants: [[Fr; T]; HALF_FULL],
    /// Round constants of the second-half full rounds (the first of them
    /// absorbs the constants moved out of the partial rounds, and the scaling
    /// of `s[0]`).
    last_constants: [[Fr; T]; HALF_FULL],
    /// The MDS matrix, `mds[i][j]`.
    mds: Matrix<T>,
    /// Linear layer of the last first-half full round: `A_0·M`.
    pre_partial: Matrix<T>,
    /// Linear layer of the first second-half full round: `M` with column 0
    /// multiplied by `λ_P⁵`.
    post_partial: Matrix<T>,
    /// The partial rounds.
    partial: Vec<PartialRound<T>>,
}

fn mat_vec<const T: usize>(m: &Matrix<T>, v: &[Fr; T]) -> [Fr; T] {
    std::array::from_fn(|i| (0..T).map(|j| m[i][j] * v[j]).sum())
}

fn mat_mul<const T: usize>(a: &Matrix<T>, b: &Matrix<T>) -> Matrix<T> {
    std::array::from_fn(|i| std::array::from_fn(|j| (0..T).map(|k| a[i][k] * b[k][j]).sum()))
}

/// Inverse of a square matrix by Gauss–Jordan elimination, `None` if singular.
fn invert(m: &[Vec<Fr>]) -> Option<Vec<Vec<Fr>>> {
    let n = m.len();
    let mut a: Vec<Vec<Fr>> = m.to_vec();
    let mut inv: Vec<Vec<Fr>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| if i == j { Fr::ONE } else { Fr::ZERO })
                .collect()
        })
        .collect();
    for col in 0..n {
        let pivot = (col..n).find(|&r| a[r][col] != Fr::ZERO)?;
        a.swap(col, pivot);
        inv.swap(col, pivot);
        let p_inv = a[col][col].inverse()?;
        for j in 0..n {
            a[col][j] *= p_inv;
            inv[col][j] *= p_inv;
        }
        for r in 0..n {
            if r != col && a[r][col] != Fr::ZERO {
                let f = a[r][col];
                for j in 0..n {
                    let (ac, ic) = (a[col][j], inv[col][j]);
                    a[r][j] -= f * ac;
                    inv[r][j] -= f * ic;
                }
            }
        }
    }
    Some(inv)
}

/// `Σ_{j≥1} row[j]·s[j]`, the weights of a sparse partial round applied to `s[1..]`, as one
/// sum of products (reduced once, not once per product).
#[inline(always)]
fn dot_tail<const T: usize>(row: &[Fr; T], s: &[Fr; T]) -> Fr {
    /// `Fr::sum_of_products` of two slices of length `M`; `None` for another length.
    #[inline(always)]
    fn sum_of<const M: usize>(a: &[Fr], b: &[Fr]) -> Option<Fr> {
        Some(Fr::sum_of_products::<M>(
            a.try_into().ok()?,
            b.try_into().ok()?,
        ))
    }
    debug_assert!((2..=MAX_WIDTH).contains(&T), "width {T}");
    let (a, b) = (&row[1..], &s[1..]);
    let lazy = match T {
        2 => a.first().zip(b.first()).map(|(a, b)| *a * b),
        3 => sum_of::<2>(a, b),
        4 => sum_of::<3>(a, b),
        5 => sum_of::<4>(a, b),
        _ => None,
    };
    // Every width in use matches above.
    lazy.unwrap_or_else(|| a.iter().zip(b).map(|(a, b)| *a * b).sum())
}

/// Full-round linear layer: `m · s`.
#[inline(always)]
fn mix<const T: usize>(m: &Matrix<T>, s: &[Fr; T]) -> [Fr; T] {
    std::array::from_fn(|i| Fr::sum_of_products(&m[i], s))
}

impl<const T: usize> Optimized<T> {
    fn new(p: &PoseidonParams) -> Self {
        // Internal invariant: every caller passes `cached_params(T)`.
        assert_eq!(p.width, T, "parameter width mismatch");
        let rounds = p.full_rounds + p.partial_rounds;
        let n_partial = p.partial_rounds;
        let mds: Matrix<T> = std::array::from_fn(|i| std::array::from_fn(|j| p.mds[i][j]));
        let mut c: Vec<[Fr; T]> = (0..rounds)
            .map(|r| std::array::from_fn(|i| p.round_constants[r * T + i]))
            .collect();

        // (1) Constant moving.
        for r in HALF_FULL..HALF_FULL + n_partial {
            let mut rest = c[r];
            rest[0] = Fr::ZERO;
            let pushed = mat_vec(&mds, &rest);
            for (dst, add) in c[r + 1].iter_mut().zip(pushed) {
                *dst += add;
            }
            c[r] = std::array::from_fn(|i| if i == 0 { c[r][0] } else { Fr::ZERO });
        }

        // (2) Sparse factorisation, backwards: (v, w) per partial round.
        let mut factors_rev: Vec<([Fr; T], [Fr; T])> = Vec::with_capacity(n_partial);
        let mut n = mds;
        for _ in 0..n_partial {
            let hat: Vec<Vec<Fr>> = (1..T).map(|i| n[i][1..].to_vec()).collect();
            // N̂ is invertible: for the last partial round it is a square
            // submatrix of a Cauchy matrix (itself Cauchy, hence nonsingular);
            // before that it is Â·M̂, a product of such invertible matrices.
            // The construction is deterministic and covered by the tests, so
            // this cannot fail at run time.
            let hat_inv = invert(&hat).expect("Poseidon MDS submatrix is invertible");
            let mut v = [Fr::ZERO; T];
            for (j, vj) in v.iter_mut().enumerate().skip(1) {
                *vj = (1..T).map(|k| n[0][k] * hat_inv[k - 1][j - 1]).sum();
            }
            let w: [Fr; T] = std::array::from_fn(|i| if i == 0 { Fr::ZERO } else { n[i][0] });
            factors_rev.push((v, w));
            let a: Matrix<T> = std::array::from_fn(|i| {
                std::array::from_fn(|j| match (i, j) {
                    (0, 0) => Fr::ONE,
                    (0, _) | (_, 0) => Fr::ZERO,
                    _ => n[i][j],
                })
            });
            n = mat_mul(&a, &mds);
        }
        let pre_partial = n;

        // (3) Scaling of s[0]. Every factor's n00 is M[0][0]: A's first row is e_0.
        let n00 = mds[0][0];
        let mut lambda = Fr::ONE;
        let partial = factors_rev
            .iter()
            .rev()
            .enumerate()
            .map(|(i, (v, w))| {
                // λ and n00 are nonzero (n00 is an entry of a Cauchy matrix),
                // so these inverses exist.
                let lambda_inv = lambda.inverse().expect("λ_p is nonzero");
                let lambda5 = pow5(lambda);
                let next = n00 * lambda5;
                let next_inv = next.inverse().expect("λ_{p+1} is nonzero");
                let round = PartialRound {
                    constant: c[HALF_FULL + i][0] * lambda_inv,
                    row: std::array::from_fn(|j| v[j] * next_inv),
                    col: std::array::from_fn(|j| w[j] * lambda5),
                };
                lambda = next;
                round
            })
            .collect();
        let mut last_constants: [[Fr; T]; HALF_FULL] =
            std::array::from_fn(|r| c[HALF_FULL + n_partial + r]);
        // λ_P is nonzero, as above.
        last_constants[0][0] *= lambda.inverse().expect("λ_P is nonzero");
        let lambda5 = pow5(lambda);
        let mut post_partial = mds;
        for row in post_partial.iter_mut() {
            row[0] *= lambda5;
        }

        Optimized {
            first_constants: std::array::from_fn(|r| c[r]),
            last_constants,
            mds,
            pre_partial,
            post_partial,
            partial,
        }
    }

    /// Runs the permutation on `state` and returns its first element.
    ///
    /// On x86-64 CPUs with BMI2 and ADX the same code runs compiled for them
    /// ([`undersign_bn254::cpu`]).
    #[inline]
    fn permute_first(&self, s: [Fr; T]) -> Fr {
        #[cfg(target_arch = "x86_64")]
        if undersign_bn254::cpu::has_bmi2_adx() {
            // SAFETY: the CPU has both features the function is compiled for (checked above).
            return unsafe { self.permute_first_bmi2_adx(s) };
        }
        self.permute_first_portable(s)
    }

    /// [`Self::permute_first`] compiled for CPUs with BMI2 and ADX.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "bmi2,adx")]
    fn permute_first_bmi2_adx(&self, s: [Fr; T]) -> Fr {
        self.permute_first_portable(s)
    }

    /// The permutation itself, for any CPU.
    #[inline(always)]
    fn permute_first_portable(&self, s: [Fr; T]) -> Fr {
        let mut s = self.first_half(s, &self.pre_partial);
        for round in &self.partial {
            // Independent of this round's S-box, so it overlaps with it.
            let acc = dot_tail(&round.row, &s);
            let u = pow5(s[0] + round.constant);
            s[0] = u + acc;
            for (x, w) in s.iter_mut().zip(&round.col).skip(1) {
                *x += *w * u;
            }
        }
        self.second_half(s)
    }

    /// The full rounds before the partial rounds, with `pre_partial` as the last one's linear
    /// layer (the sparse form's, or the one another form of the partial rounds expects).
    #[inline(always)]
    fn first_half(&self, mut s: [Fr; T], pre_partial: &Matrix<T>) -> [Fr; T] {
        let [c0, c1, c2, c3] = &self.first_constants;
        for (c, m) in [
            (c0, &self.mds),
            (c1, &self.mds),
            (c2, &self.mds),
            (c3, pre_partial),
        ] {
            for i in 0..T {
                s[i] = pow5(s[i] + c[i]);
            }
            s = mix(m, &s);
        }
        s
    }

    /// The full rounds after the partial rounds, returning the state's first element.
    #[inline(always)]
    fn second_half(&self, mut s: [Fr; T]) -> Fr {
        let [c0, c1, c2, c3] = &self.last_constants;
        for (c, m) in [(c0, &self.post_partial), (c1, &self.mds), (c2, &self.mds)] {
            for i in 0..T {
                s[i] = pow5(s[i] + c[i]);
            }
            s = mix(m, &s);
        }
        for i in 0..T {
            s[i] = pow5(s[i] + c3[i]);
        }
        Fr::sum_of_products(&self.mds[0], &s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_std::UniformRand;
    use light_poseidon::{Poseidon, PoseidonHasher};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;
    use std::str::FromStr;

    fn fr(s: &str) -> Fr {
        Fr::from_str(s).unwrap()
    }

    fn ints(xs: &[u64]) -> Vec<Fr> {
        xs.iter().map(|&x| Fr::from(x)).collect()
    }

    const VECTORS: [(&[u64], &str); 3] = [
        (
            &[1],
            "18586133768512220936620570745912940619677854269274689475585506675881198879027",
        ),
        (
            &[1, 2],
            "7853200120776062878684798364095072458815029376092732009249414926327459813530",
        ),
        (
            &[1, 2, 3],
            "6542985608222806190361240322586112750744169038454362455181422643027100751666",
        ),
    ];

    #[test]
    fn circomlib_vectors_optimized() {
        for (inputs, expected) in VECTORS {
            assert_eq!(hash(&ints(inputs)).unwrap(), fr(expected), "{inputs:?}");
        }
        assert_eq!(hash1(Fr::from(1u64)), fr(VECTORS[0].1));
        assert_eq!(hash2(Fr::from(1u64), Fr::from(2u64)), fr(VECTORS[1].1));
    }

    #[test]
    fn circomlib_vectors_reference() {
        for (inputs, expected) in VECTORS {
            assert_eq!(
                hash_reference(&ints(inputs)).unwrap(),
                fr(expected),
                "{inputs:?}"
            );
        }
    }

    #[test]
    fn transposed_mds_does_not_match() {
        // The plain permutation with the MDS applied transposed must miss the
        // circomlib vector: this pins the orientation documented above.
        let p = params(3).unwrap();
        let mut s = [Fr::ZERO, Fr::from(1u64), Fr::from(2u64)];
        for r in 0..p.full_rounds + p.partial_rounds {
            for (x, c) in s.iter_mut().zip(&p.round_constants[r * 3..]) {
                *x += c;
            }
            if r < 4 || r >= 4 + p.partial_rounds {
                s = s.map(pow5);
            } else {
                s[0] = pow5(s[0]);
            }
            s = std::array::from_fn(|i| (0..3).map(|j| p.mds[j][i] * s[j]).sum());
        }
        assert_ne!(s[0], fr(VECTORS[1].1));
        assert_ne!(p.mds[0][1], p.mds[1][0]);
    }

    #[test]
    fn agrees_with_light_poseidon_and_reference() {
        let mut rng = ChaCha20Rng::seed_from_u64(0x5eed_0001);
        for n in 1..=MAX_INPUTS {
            let mut light = Poseidon::<Fr>::new_circom(n).unwrap();
            for _ in 0..300 {
                let inputs: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
                let expected = light.hash(&inputs).unwrap();
                assert_eq!(hash(&inputs).unwrap(), expected, "n = {n}");
                assert_eq!(hash_reference(&inputs).unwrap(), expected, "n = {n}");
            }
        }
        // Edge values.
        let edge = [Fr::ZERO, Fr::ONE, -Fr::ONE];
        let mut light = Poseidon::<Fr>::new_circom(2).unwrap();
        for a in edge {
            for b in edge {
                assert_eq!(hash2(a, b), light.hash(&[a, b]).unwrap());
            }
        }
    }

    #[test]
    fn grain_constants_match_circomlib() {
        // Every round constant and MDS entry, for every width circomlib
        // publishes and light-poseidon embeds (2..=13), not only the supported
        // ones: this pins the Grain seed layout, draw order and rejection rules.
        for t in 2..=13 {
            let ours = generate_params(t);
            let theirs =
                light_poseidon::parameters::bn254_x5::get_poseidon_parameters::<Fr>(t as u8)
                    .unwrap();
            assert_eq!(ours.partial_rounds, theirs.partial_rounds, "t = {t}");
            assert_eq!(ours.full_rounds, theirs.full_rounds, "t = {t}");
            assert_eq!(ours.round_constants, theirs.ark, "round constants, t = {t}");
            assert_eq!(ours.mds, theirs.mds, "MDS, t = {t}");
        }
    }

    #[test]
    fn first_round_constants_t3() {
        // circomlib poseidon_constants C[1] (t = 3), first entries.
        let p = params(3).unwrap();
        assert_eq!(p.round_constants.len(), (8 + 57) * 3);
        assert_eq!(
            p.round_constants[0],
            fr("6745197990210204598374042828761989596302876299545964402857411729872131034734")
        );
        assert_eq!(
            p.round_constants[1],
            fr("426281677759936592021316809065178817848084678679510574715894138690250139748")
        );
        assert_eq!(
            p.round_constants[2],
            fr("4014188762916583598888942667424965430287497824629657219807941460227372577781")
        );
        assert_eq!(
            p.mds[0][0],
            fr("7511745149465107256748700652201246547602992235352608707588321460060273774987")
        );
    }

    #[test]
    fn unsupported_lengths_are_errors() {
        for n in [0usize, 5, 6, 16] {
            let inputs = vec![Fr::ONE; n];
            assert_eq!(hash(&inputs), Err(PoseidonError::UnsupportedInputCount(n)));
            assert_eq!(
                hash_reference(&inputs),
                Err(PoseidonError::UnsupportedInputCount(n))
            );
        }
        for w in [0usize, 1, 6, 17] {
            assert_eq!(params(w), Err(PoseidonError::UnsupportedWidth(w)));
        }
        for w in 2..=MAX_INPUTS + 1 {
            let p = params(w).unwrap();
            assert_eq!(p.width, w);
            assert_eq!(
                p.round_constants.len(),
                (p.full_rounds + p.partial_rounds) * w
            );
            assert_eq!(p.mds.len(), w);
        }
    }

    #[test]
    fn optimized_tables_shape() {
        let p = params(3).unwrap();
        let opt = Optimized::<3>::new(p);
        assert_eq!(opt.partial.len(), p.partial_rounds);
        // The first-half constants are untouched.
        for r in 0..HALF_FULL {
            assert_eq!(
                &opt.first_constants[r][..],
                &p.round_constants[r * 3..r * 3 + 3]
            );
        }
    }

    /// Pairs for the batch tests: extreme values in every lane position, then random pairs,
    /// enough to be split across threads.
    fn batch_pairs() -> Vec<[Fr; 2]> {
        let mut rng = ChaCha20Rng::seed_from_u64(0x5eed_0002);
        // Values whose lane form (v·2^260 mod p) is 1 or p - 1, as well as the usual ones.
        let lane_one = Fr::from(2u64).pow([260]).inverse().unwrap();
        let edge = [
            Fr::ZERO,
            Fr::ONE,
            -Fr::ONE,
            -Fr::from(2u64),
            Fr::from(u64::MAX),
            lane_one,
            -lane_one,
        ];
        let mut pairs: Vec<[Fr; 2]> = Vec::new();
        for a in edge {
            for b in edge {
                pairs.push([a, b]);
            }
        }
        pairs.extend(
            (0..2 * BATCH_PARALLEL_CHUNK + 13).map(|_| [Fr::rand(&mut rng), Fr::rand(&mut rng)]),
        );
        pairs
    }

    #[test]
    fn batch_equals_one_by_one() {
        // Every tail length around the lane widths, and one input long enough to be split
        // across threads.
        let pairs = batch_pairs();
        let expected: Vec<Fr> = pairs.iter().map(|[a, b]| hash2(*a, *b)).collect();
        for len in (0..=40).chain([pairs.len()]) {
            assert_eq!(hash2_batch(&pairs[..len]), expected[..len], "len {len}");
        }
        // The scalar fallback, which machines without AVX-512 IFMA or AVX2 and FMA use.
        let mut scalar = vec![Fr::ZERO; 40];
        hash2_scalar(&pairs[..40], &mut scalar);
        assert_eq!(scalar, expected[..40]);
        // Circomlib's vector through the batch path.
        assert_eq!(
            hash2_batch(&[[Fr::from(1u64), Fr::from(2u64)]]),
            [fr(VECTORS[1].1)]
        );
    }

    /// Each vector path called directly (`hash2_batch` picks only one of them on a given CPU):
    /// the same hashes as one by one, for every tail length around its width.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn each_vector_path_equals_one_by_one() {
        let pairs = &batch_pairs()[..100];
        let expected: Vec<Fr> = pairs.iter().map(|[a, b]| hash2(*a, *b)).collect();
        type Path = fn(&[[Fr; 2]], &mut [Fr]) -> bool;
        let paths: [(&str, bool, Path); 2] = [
            ("AVX2 and FMA", fma::tests::fma_or_skip(), fma::hash2_chunks),
            (
                "AVX-512 IFMA",
                lanes::tests::ifma_or_skip(),
                lanes::hash2_chunks,
            ),
        ];
        for (name, available, hash2_chunks) in paths {
            if !available {
                continue;
            }
            for len in (0..=17).chain([pairs.len()]) {
                let mut out = vec![Fr::ZERO; len];
                assert!(hash2_chunks(&pairs[..len], &mut out), "{name}");
                assert_eq!(out, expected[..len], "{name}, len {len}");
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn fma_lanes_are_independent() {
        if !fma::tests::fma_or_skip() {
            return;
        }
        let tables = fma::tables(optimized2(), observer2());
        // SAFETY: checked `available()` above.
        lanes_independent(|x| unsafe { fma::hash2_x4(&tables, x) });
    }

    /// Changing one lane's input changes that lane's output, to the scalar hash, and no other.
    #[cfg(target_arch = "x86_64")]
    fn lanes_independent<const L: usize>(hash_lanes: impl Fn(&[[Fr; 2]; L]) -> [Fr; L]) {
        let base: [[Fr; 2]; L] =
            std::array::from_fn(|l| [Fr::from(l as u64), Fr::from(100 + l as u64)]);
        let before = hash_lanes(&base);
        for lane in 0..L {
            for side in 0..2 {
                let mut changed = base;
                changed[lane][side] += Fr::ONE;
                let after = hash_lanes(&changed);
                for l in 0..L {
                    assert_eq!(after[l] == before[l], l != lane, "lane {lane} side {side}");
                }
                assert_eq!(after[lane], hash2(changed[lane][0], changed[lane][1]));
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn lanes_are_independent() {
        if !lanes::tests::ifma_or_skip() {
            return;
        }
        let tables = lanes::Tables::new(optimized2());
        // SAFETY: checked `available()` above.
        lanes_independent(|x| unsafe { lanes::hash2_x8(&tables, x) });
    }

    /// The copy of the permutation compiled for BMI2 and ADX computes what the portable one
    /// does, at every width.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn bmi2_adx_copy_matches_portable() {
        fn check<const T: usize>(rng: &mut ChaCha20Rng) {
            let opt = Optimized::<T>::new(cached_params(T));
            for _ in 0..20 {
                let state: [Fr; T] = std::array::from_fn(|_| Fr::rand(rng));
                // SAFETY: the caller checked `has_bmi2_adx()`.
                let fast = unsafe { opt.permute_first_bmi2_adx(state) };
                assert_eq!(fast, opt.permute_first_portable(state), "width {T}");
            }
        }
        if !undersign_bn254::cpu::has_bmi2_adx() {
            eprintln!("skipped: this CPU has no BMI2/ADX");
            return;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(41);
        check::<2>(&mut rng);
        check::<3>(&mut rng);
        check::<4>(&mut rng);
        check::<5>(&mut rng);
        for _ in 0..20 {
            let state: [Fr; 3] = std::array::from_fn(|_| Fr::rand(&mut rng));
            // SAFETY: checked `has_bmi2_adx()` above.
            let fast = unsafe { permute_width3_bmi2_adx(state) };
            assert_eq!(
                fast,
                permute_width3_portable(state),
                "width 3, observer form"
            );
        }
    }
}
