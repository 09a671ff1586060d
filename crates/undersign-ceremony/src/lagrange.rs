//! The Lagrange basis "in the exponent" (`SPEC.md` §17.3).
//!
//! For the QAP domain `{ω^j}` of size `n`, `L_j(X) = (1/n)·Σ_i ω^(−ij)·X^i`, so
//! `[L_j(τ)] = (1/n)·Σ_i ω^(−ij)·[τ^i]`: the inverse FFT of the powers `[τ^0], …, [τ^(n−1)]`,
//! computed over group elements (in parallel).

use ark_bn254::Fr;
use ark_ec::{AffineRepr, CurveGroup};
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use rayon::prelude::*;

/// `[L_j(τ)]` for `j < domain.size()`, from `powers[i] = [τ^i]` (at least `domain.size()` of
/// them; only the first `domain.size()` are used).
pub fn lagrange_basis<C>(
    powers: &[C::Affine],
    domain: &GeneralEvaluationDomain<Fr>,
) -> Vec<C::Affine>
where
    C: CurveGroup<ScalarField = Fr>,
{
    let n = domain.size();
    let mut values: Vec<C> = powers[..n].par_iter().map(|p| p.into_group()).collect();
    domain.ifft_in_place(&mut values);
    C::normalize_batch(&values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{G1Affine, G1Projective};
    use ark_ff::Field;

    #[test]
    fn matches_the_lagrange_coefficients() {
        let domain = GeneralEvaluationDomain::<Fr>::new(16).unwrap();
        let tau = Fr::from(12345u64);
        let g = G1Affine::generator();
        let powers: Vec<G1Affine> = (0..16u64)
            .map(|i| (g * tau.pow([i])).into_affine())
            .collect();
        let basis = lagrange_basis::<G1Projective>(&powers, &domain);
        let expected = domain.evaluate_all_lagrange_coefficients(tau);
        for (b, l) in basis.iter().zip(expected) {
            assert_eq!(*b, (g * l).into_affine());
        }
    }
}
