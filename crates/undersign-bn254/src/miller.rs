//! Multi-Miller loops with one accumulator for all their pairs.
//!
//! Both compute arkworks' `Bn254::multi_miller_loop` up to factors the final exponentiation
//! removes, with fewer squarings: arkworks keeps one accumulator per four pairs and squares
//! each of them at every step, while batch verification feeds hundreds of pairs to one loop,
//! which then squares one accumulator per step.
//!
//! - [`multi_miller_loop`] takes prepared G2 points (arkworks' `G2Prepared`: projective
//!   coordinates, one coefficient triple per line) and returns exactly arkworks' value. Line
//!   evaluation is arkworks' own (`mul_by_034`), transcribed from `ark_ec::bn`.
//! - [`multi_miller_loop_affine`] takes many G2 points at once and walks them together in
//!   affine coordinates, one shared inversion per step (Montgomery's trick). Each line is then
//!   scaled to the form `1 + (c₃ + c₄·v)·w`, which multiplies into the accumulator with 10
//!   `Fq2` multiplications instead of `mul_by_034`'s 13, and affine steps cost fewer
//!   multiplications than projective ones. The scaling factors lie in `Fq2*` (the line's leading
//!   coefficient and `y_P`), and the final exponentiation maps every element of `Fq2*` to 1
//!   (its exponent `(p¹²−1)/r` is a multiple of `p²−1`), so after it both loops agree.

use ark_bn254::{Config, Fq, Fq12, Fq12Config, Fq2, G1Affine, G2Affine};
use ark_ec::bn::{BnConfig, G2Prepared, TwistType};
use ark_ec::AffineRepr;
use ark_ff::fields::Fp12Config;
use ark_ff::{AdditiveGroup, Field, One, Zero};

use crate::lazy;
use crate::msm::{batch_invert, batch_invert_with};
use crate::subgroup::psi_affine;

/// Prepared coefficients of one G2 point, consumed in loop order.
type Coefficients<'a> = std::slice::Iter<'a, ark_ec::bn::g2::EllCoeff<Config>>;

/// Runs the BN Miller loop's schedule: squares `f` between steps and calls `line` once per
/// line (every doubling, every addition of `±q`, then the additions of `ψ(q)` and `−ψ²(q)`),
/// with what that line is. `None` as soon as `line` returns `None`.
fn miller_schedule(mut line: impl FnMut(&mut Fq12, Step) -> Option<()>) -> Option<Fq12> {
    const { assert!(!<Config as BnConfig>::X_IS_NEGATIVE) };
    let loop_count = <Config as BnConfig>::ATE_LOOP_COUNT;
    let mut f = Fq12::one();
    for i in (1..loop_count.len()).rev() {
        if i != loop_count.len() - 1 {
            f.square_in_place();
        }
        line(&mut f, Step::Double)?;
        match loop_count[i - 1] {
            1 => line(&mut f, Step::AddQ)?,
            -1 => line(&mut f, Step::SubQ)?,
            _ => {}
        }
    }
    line(&mut f, Step::AddPsiQ)?;
    line(&mut f, Step::SubPsi2Q)?;
    Some(f)
}

/// One line of the Miller loop: `T ← 2T`, or `T ← T + Q'` for the `Q'` named.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Step {
    /// `T ← 2T`.
    Double,
    /// `T ← T + q`.
    AddQ,
    /// `T ← T − q`.
    SubQ,
    /// `T ← T + ψ(q)`.
    AddPsiQ,
    /// `T ← T − ψ²(q)`, the last line (its `T` is not needed).
    SubPsi2Q,
}

/// `Π_i f_{q_i}(p_i)` before the final exponentiation. Pairs with a point at infinity
/// contribute 1, as in arkworks. `None` if a prepared point lacks coefficients (arkworks would
/// panic; callers treat it as a failed check).
pub fn multi_miller_loop(pairs: &[(G1Affine, &G2Prepared<Config>)]) -> Option<Fq12> {
    let mut pairs: Vec<(&G1Affine, Coefficients<'_>)> = pairs
        .iter()
        .filter(|(p, q)| !p.is_zero() && !q.infinity)
        .map(|(p, q)| (p, q.ell_coeffs.iter()))
        .collect();
    miller_schedule(|f, _| ell_all(f, &mut pairs))
}

/// Multiplies `f` by the next line of every pair, evaluated at the pair's G1 point; `None` if
/// a pair has no line left.
fn ell_all(f: &mut Fq12, pairs: &mut [(&G1Affine, Coefficients<'_>)]) -> Option<()> {
    for (p, coefficients) in pairs.iter_mut() {
        // A prepared G2 point holds one coefficient triple per line of the loop.
        let &(mut c0, mut c1, mut c2) = coefficients.next()?;
        match <Config as BnConfig>::TWIST_TYPE {
            TwistType::M => {
                c2.mul_assign_by_fp(&p.y);
                c1.mul_assign_by_fp(&p.x);
                f.mul_by_014(&c0, &c1, &c2);
            }
            TwistType::D => {
                c0.mul_assign_by_fp(&p.y);
                c1.mul_assign_by_fp(&p.x);
                f.mul_by_034(&c0, &c1, &c2);
            }
        }
    }
    Some(())
}

/// One pair of [`multi_miller_loop_affine`] on its way through the loop.
struct AffineWalk {
    /// `x_p / y_p` of the G1 point.
    p_x_over_y: Fq,
    /// `1 / y_p` of the G1 point.
    p_inv_y: Fq,
    /// The G2 point `q`.
    q: G2Affine,
    /// `ψ(q)` and `−ψ²(q)`, added by the last two lines.
    psi_q: G2Affine,
    neg_psi2_q: G2Affine,
    /// `T`, a multiple of `q`: `(x, y)`, never at infinity.
    t: (Fq2, Fq2),
}

impl AffineWalk {
    /// The point `step` adds to `T`; `None` for a doubling.
    fn added(&self, step: Step) -> Option<G2Affine> {
        match step {
            Step::Double => None,
            Step::AddQ => Some(self.q),
            Step::SubQ => Some(-self.q),
            Step::AddPsiQ => Some(self.psi_q),
            Step::SubPsi2Q => Some(self.neg_psi2_q),
        }
    }
}

/// `Π_i f_{q_i}(p_i)` times an element of `Fq2*`: after the final exponentiation, the value
/// of [`multi_miller_loop`] and of arkworks, for G2 points on the curve (in G2 or not). Pairs
/// with a point at infinity contribute 1.
///
/// `None` if a G2 point is off the curve (the affine formulas assume its equation, while
/// arkworks' projective ones assume the curve's `b`), or if a step would divide by zero: a G1
/// point with `y = 0`, or a `T` with `y = 0` or equal to `±` the point added. Neither happens
/// for points of the prime-order groups, which is all that decoding lets through:
/// - G1 has odd order `r`, so no point of order 2;
/// - the main loop's `T = [k]q` has `2 ≤ k < 6x+2 < r`, so `T ≠ O` (no `y = 0`, as `r` is odd)
///   and `T ≠ ±q`;
/// - `ψ` acts on G2 as `[p]` with `p ≡ 6x² (mod r)`, and `0 < |6x+2 ∓ 6x²| < r`, so `T ≠ ±ψ(q)`;
/// - then `T = [6x+2+p]q`, and by the optimal-ate relation `6x+2+p−p²+p³ ≡ 0 (mod r)`,
///   `6x+2+p ∓ p²` is `−p³` or `p²(2−p)`, both nonzero mod `r`, so `T ≠ ±ψ²(q)`.
///
/// Callers fall back to [`multi_miller_loop`] on `None` anyway.
pub fn multi_miller_loop_affine(pairs: &[(G1Affine, G2Affine)]) -> Option<Fq12> {
    let live: Vec<&(G1Affine, G2Affine)> = pairs
        .iter()
        .filter(|(p, q)| !p.is_zero() && !q.is_zero())
        .collect();
    if live.iter().any(|(_, q)| !q.is_on_curve()) {
        return None;
    }
    let mut inv_y: Vec<Fq> = live.iter().map(|(p, _)| p.y).collect();
    if inv_y.iter().any(Zero::is_zero) {
        return None;
    }
    batch_invert(&mut inv_y, &mut Vec::new());
    let mut walks: Vec<AffineWalk> = live
        .iter()
        .zip(inv_y)
        .map(|((p, q), inv_y)| {
            let psi_q = psi_affine(q);
            AffineWalk {
                p_x_over_y: p.x * inv_y,
                p_inv_y: inv_y,
                q: *q,
                psi_q,
                neg_psi2_q: -psi_affine(&psi_q),
                t: (q.x, q.y),
            }
        })
        .collect();
    let mut denominators = vec![Fq2::zero(); walks.len()];
    let mut scratch = Vec::with_capacity(walks.len());
    miller_schedule(|f, step| affine_step(f, step, &mut walks, &mut denominators, &mut scratch))
}

/// Takes every walk one `step` further and multiplies `f` by each walk's line, evaluated at
/// its G1 point and scaled to `1 + (c₃ + c₄·v)·w`. `denominators` (one per walk) and
/// `scratch` are scratch space.
fn affine_step(
    f: &mut Fq12,
    step: Step,
    walks: &mut [AffineWalk],
    denominators: &mut [Fq2],
    scratch: &mut Vec<Fq2>,
) -> Option<()> {
    // The slope's denominator: 2·y_T for a tangent, x_T − x_Q for a chord.
    for (d, walk) in denominators.iter_mut().zip(walks.iter()) {
        *d = match walk.added(step) {
            None => walk.t.1.double(),
            Some(q) => walk.t.0 - q.x,
        };
    }
    if denominators.iter().any(Zero::is_zero) {
        return None;
    }
    // Serial on purpose: this runs inside the batch's parallel chunks (arkworks'
    // `batch_inversion` would split it across threads again).
    batch_invert_with(denominators, scratch, lazy::mul);
    for (inv, walk) in denominators.iter().zip(walks.iter_mut()) {
        let (x, y) = walk.t;
        // The line through (x0, y0) with slope λ is Y − λX + c with c = λ·x0 − y0.
        let (slope, c, x3) = match walk.added(step) {
            None => {
                let x_sq = x.square();
                let slope = lazy::mul(&(x_sq.double() + x_sq), inv);
                let c = lazy::mul(&slope, &x) - y;
                (slope, c, slope.square() - x.double())
            }
            Some(q) => {
                let slope = lazy::mul(&(y - q.y), inv);
                let c = lazy::mul(&slope, &q.x) - q.y;
                (slope, c, slope.square() - x - q.x)
            }
        };
        if step != Step::SubPsi2Q {
            // The third point on the line is (x3, λ·x3 − c); T is its negative.
            walk.t = (x3, c - lazy::mul(&slope, &x3));
        }
        // At p the line is y_p − λ·x_p + c (positions 0, 3 and 4 of arkworks' D-twist
        // lines); divided by y_p it is 1 − λ·(x_p/y_p) + c·(1/y_p).
        let mut c3 = -slope;
        c3.mul_assign_by_fp(&walk.p_x_over_y);
        let mut c4 = c;
        c4.mul_assign_by_fp(&walk.p_inv_y);
        mul_by_line(f, &c3, &c4);
    }
    Some(())
}

/// `f ← f · (1 + (c3 + c4·v)·w)`: with `f = f0 + f1·w` and `w² = v`, the product is
/// `(f0 + v·f1·X) + (f1 + f0·X)·w` where `X = c3 + c4·v`; two sparse `Fq6` products.
/// Both are lazily reduced ([`lazy::mul_by_01`]: 10 `Fq2` products, each `Fq` coefficient
/// reduced once).
fn mul_by_line(f: &mut Fq12, c3: &Fq2, c4: &Fq2) {
    const { assert!(matches!(<Config as BnConfig>::TWIST_TYPE, TwistType::D)) };
    let mut f1_x = lazy::mul_by_01(&f.c1, c3, c4);
    let f0_x = lazy::mul_by_01(&f.c0, c3, c4);
    f.c1 += f0_x;
    <Fq12Config as Fp12Config>::mul_fp6_by_nonresidue_in_place(&mut f1_x);
    f.c0 += f1_x;
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{Bn254, Fr, G1Projective, G2Projective};
    use ark_ec::pairing::{MillerLoopOutput, Pairing};
    use ark_ec::{CurveGroup, PrimeGroup};
    use ark_ff::UniformRand;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn pairs_of<'a>(
        p: &[G1Affine],
        q: &'a [G2Prepared<Config>],
    ) -> Vec<(G1Affine, &'a G2Prepared<Config>)> {
        p.iter().copied().zip(q).collect()
    }

    #[test]
    fn equals_arkworks_multi_miller_loop() {
        let mut rng = ChaCha20Rng::seed_from_u64(77);
        for n in [0usize, 1, 3, 4, 5, 9] {
            let p: Vec<G1Affine> = (0..n)
                .map(|_| (G1Projective::generator() * Fr::rand(&mut rng)).into_affine())
                .collect();
            let q_affine: Vec<G2Affine> = (0..n)
                .map(|_| (G2Projective::generator() * Fr::rand(&mut rng)).into_affine())
                .collect();
            let q: Vec<G2Prepared<Config>> = q_affine.iter().map(|&q| q.into()).collect();
            let expected = Bn254::multi_miller_loop(p.clone(), q_affine.clone()).0;
            assert_eq!(
                multi_miller_loop(&pairs_of(&p, &q)),
                Some(expected),
                "{n} pairs"
            );
        }
        // Points at infinity contribute 1, on either side.
        let p = [G1Affine::zero(), G1Projective::generator().into_affine()];
        let q_affine = [G2Projective::generator().into_affine(), G2Affine::zero()];
        let q: Vec<G2Prepared<Config>> = q_affine.iter().map(|&q| q.into()).collect();
        assert_eq!(multi_miller_loop(&pairs_of(&p, &q)), Some(Fq12::one()));
        // And a pair changes the value.
        let g2: G2Prepared<Config> = G2Projective::generator().into_affine().into();
        let one_pair = multi_miller_loop(&[(p[1], &g2)]);
        assert_ne!(one_pair, Some(Fq12::one()));
        // A prepared point that runs out of coefficients is refused, not miscounted.
        let mut short = g2.clone();
        short.ell_coeffs.pop();
        assert_eq!(multi_miller_loop(&[(p[1], &short)]), None);
    }

    fn random_pairs(rng: &mut ChaCha20Rng, n: usize) -> (Vec<G1Affine>, Vec<G2Affine>) {
        let p = (0..n)
            .map(|_| (G1Projective::generator() * Fr::rand(rng)).into_affine())
            .collect();
        let q = (0..n)
            .map(|_| (G2Projective::generator() * Fr::rand(rng)).into_affine())
            .collect();
        (p, q)
    }

    fn final_exp(f: Fq12) -> Fq12 {
        Bn254::final_exponentiation(MillerLoopOutput(f))
            .expect("nonzero")
            .0
    }

    #[test]
    fn affine_loop_equals_arkworks_after_final_exponentiation() {
        let mut rng = ChaCha20Rng::seed_from_u64(78);
        for n in [1usize, 2, 3, 8] {
            let (p, q) = random_pairs(&mut rng, n);
            let pairs: Vec<(G1Affine, G2Affine)> = p.iter().copied().zip(q.clone()).collect();
            let ours = multi_miller_loop_affine(&pairs).expect("subgroup points");
            let expected = Bn254::multi_pairing(p.clone(), q.clone()).0;
            assert_eq!(final_exp(ours), expected, "{n} pairs");
            // The Miller loop's value itself differs (the lines are scaled), which is why
            // only the pairing is compared.
            assert_ne!(ours, Bn254::multi_miller_loop(p, q).0, "{n} pairs");
        }
        // Bilinearity through the loop: e(2p, q) = e(p, 2q) = e(p, q)².
        let (p, q) = random_pairs(&mut rng, 1);
        let e = |p: G1Affine, q: G2Affine| final_exp(multi_miller_loop_affine(&[(p, q)]).unwrap());
        let p2 = (p[0] + p[0]).into_affine();
        let q2 = (q[0] + q[0]).into_affine();
        assert_eq!(e(p2, q[0]), e(p[0], q[0]).square());
        assert_eq!(e(p[0], q2), e(p2, q[0]));
        // Generators, and a pair with its negation cancels.
        let g1 = G1Affine::generator();
        let g2 = G2Affine::generator();
        assert_eq!(e(g1, g2), Bn254::pairing(g1, g2).0);
        let cancelled = multi_miller_loop_affine(&[(g1, g2), (-g1, g2)]).unwrap();
        assert_eq!(final_exp(cancelled), Fq12::one());
    }

    #[test]
    fn affine_loop_skips_points_at_infinity() {
        let mut rng = ChaCha20Rng::seed_from_u64(79);
        let (p, q) = random_pairs(&mut rng, 2);
        let pairs = [
            (G1Affine::zero(), q[0]),
            (p[0], G2Affine::zero()),
            (p[1], q[1]),
        ];
        let ours = multi_miller_loop_affine(&pairs).unwrap();
        assert_eq!(final_exp(ours), Bn254::pairing(p[1], q[1]).0);
        assert_eq!(multi_miller_loop_affine(&pairs[..2]), Some(Fq12::one()));
        assert_eq!(multi_miller_loop_affine(&[]), Some(Fq12::one()));
    }

    #[test]
    fn affine_loop_agrees_outside_g2_and_refuses_points_off_the_curve() {
        let mut rng = ChaCha20Rng::seed_from_u64(81);
        let (p, q) = random_pairs(&mut rng, 1);
        // A curve point outside G2 (the twist's cofactor is about 2^254): arkworks' lines and
        // ours are still the same lines, so both loops agree after the final exponentiation.
        let outside = loop {
            let x = Fq2::new(Fq::rand(&mut rng), Fq::rand(&mut rng));
            if let Some(point) = G2Affine::get_point_from_x_unchecked(x, true) {
                break point;
            }
        };
        assert!(outside.is_on_curve() && !outside.is_in_correct_subgroup_assuming_on_curve());
        let prepared: G2Prepared<Config> = outside.into();
        let ours = multi_miller_loop_affine(&[(p[0], outside), (p[0], q[0])]).unwrap();
        let theirs = multi_miller_loop(&[(p[0], &prepared)]).unwrap()
            * Bn254::multi_miller_loop([p[0]], [q[0]]).0;
        assert_eq!(final_exp(ours), final_exp(theirs));
        // Off the curve, the two kinds of formulas compute different things: refused.
        let off = G2Affine::new_unchecked(q[0].x, q[0].y.double());
        assert!(!off.is_on_curve());
        assert_eq!(multi_miller_loop_affine(&[(p[0], q[0]), (p[0], off)]), None);
    }

    #[test]
    fn affine_loop_refuses_points_with_y_zero() {
        let mut rng = ChaCha20Rng::seed_from_u64(80);
        let (p, q) = random_pairs(&mut rng, 1);
        // y = 0 on the G1 side (not a curve point; only the API could pass one). A G2 point
        // with y = 0 is off the curve too, refused before any division.
        let flat_q = G2Affine::new_unchecked(q[0].x, Fq2::zero());
        assert_eq!(multi_miller_loop_affine(&[(p[0], flat_q)]), None);
        let flat_p = G1Affine::new_unchecked(p[0].x, Fq::zero());
        assert_eq!(multi_miller_loop_affine(&[(flat_p, q[0])]), None);
        // One bad pair among good ones spoils the whole call.
        assert_eq!(
            multi_miller_loop_affine(&[(p[0], q[0]), (p[0], flat_q)]),
            None
        );
    }

    #[test]
    fn the_schedule_has_one_line_per_prepared_coefficient() {
        let mut lines = Vec::new();
        miller_schedule(|_, step| {
            lines.push(step);
            Some(())
        });
        let prepared: G2Prepared<Config> = G2Affine::generator().into();
        assert_eq!(lines.len(), prepared.ell_coeffs.len());
        assert_eq!(lines.last(), Some(&Step::SubPsi2Q));
        assert_eq!(lines.iter().filter(|s| **s == Step::AddPsiQ).count(), 1);
        let digits = <Config as BnConfig>::ATE_LOOP_COUNT;
        let nonzero = digits[..digits.len() - 1]
            .iter()
            .filter(|d| **d != 0)
            .count();
        let adds = lines
            .iter()
            .filter(|s| matches!(s, Step::AddQ | Step::SubQ))
            .count();
        assert_eq!(adds, nonzero);
    }
}
