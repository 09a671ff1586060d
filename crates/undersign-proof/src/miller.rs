//! A multi-Miller loop with one accumulator for all its pairs.
//!
//! The same value as arkworks' `Bn254::multi_miller_loop` (the Miller loop is multiplicative in
//! its pairs), computed with fewer squarings: arkworks keeps one accumulator per four pairs and
//! squares each of them at every step, while batch verification feeds hundreds of pairs to one
//! loop, which then squares one accumulator per step. Line evaluation is arkworks' own
//! (`G2Prepared` coefficients, `mul_by_034`/`mul_by_014`), transcribed from `ark_ec::bn`.

use ark_bn254::{Config, Fq12, G1Affine};
use ark_ec::bn::{BnConfig, G2Prepared, TwistType};
use ark_ec::AffineRepr;
use ark_ff::{CyclotomicMultSubgroup, Field, One};

/// Prepared coefficients of one G2 point, consumed in loop order.
type Coefficients<'a> = std::slice::Iter<'a, ark_ec::bn::g2::EllCoeff<Config>>;

/// `Π_i f_{q_i}(p_i)` before the final exponentiation. Pairs with a point at infinity
/// contribute 1, as in arkworks. `None` if a prepared point lacks coefficients (arkworks would
/// panic; callers treat it as a failed check).
pub(crate) fn multi_miller_loop(pairs: &[(G1Affine, &G2Prepared<Config>)]) -> Option<Fq12> {
    let mut pairs: Vec<(&G1Affine, Coefficients<'_>)> = pairs
        .iter()
        .filter(|(p, q)| !p.is_zero() && !q.infinity)
        .map(|(p, q)| (p, q.ell_coeffs.iter()))
        .collect();
    let loop_count = <Config as BnConfig>::ATE_LOOP_COUNT;
    let mut f = Fq12::one();
    for i in (1..loop_count.len()).rev() {
        if i != loop_count.len() - 1 {
            f.square_in_place();
        }
        ell_all(&mut f, &mut pairs)?;
        if matches!(loop_count[i - 1], 1 | -1) {
            ell_all(&mut f, &mut pairs)?;
        }
    }
    if <Config as BnConfig>::X_IS_NEGATIVE {
        f.cyclotomic_inverse_in_place();
    }
    ell_all(&mut f, &mut pairs)?;
    ell_all(&mut f, &mut pairs)?;
    Some(f)
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

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{Bn254, Fr, G1Projective, G2Affine, G2Projective};
    use ark_ec::pairing::Pairing;
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
}
