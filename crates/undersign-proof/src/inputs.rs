//! The commitment to a proof's public inputs, `P = γ_abc[0] + Σ x_j·γ_abc[j+1]`, for single
//! verification.
//!
//! arkworks' `prepare_inputs` computes each `x_j·γ_abc[j+1]` by its own double-and-add: about
//! 254 doublings and 127 additions per full-size input. The bases are fixed by the verifying
//! key, so this module precomputes their odd multiples once and evaluates the sum with one
//! shared chain of doublings (Straus' method) over width-`WINDOW` (7) NAF digits: 254 doublings
//! in all, plus about `254/(WINDOW+1)` mixed additions per full-size input.

use crate::{PublicInputs, NUM_PUBLIC_INPUTS};
use ark_bn254::{G1Affine, G1Projective};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{AdditiveGroup, BigInteger, PrimeField, Zero};
use std::cmp::Ordering;

/// The NAF window: digits are odd and in `(−2^(WINDOW−1), 2^(WINDOW−1))`.
const WINDOW: usize = 7;
// `find_wnaf` accepts windows in 2..64 only; outside it would return no digits at all.
const _: () = assert!(WINDOW >= 2 && WINDOW < 64);

/// Odd multiples `1·Q, 3·Q, …, (2^(WINDOW−1) − 1)·Q` per base.
const TABLE_LEN: usize = 1 << (WINDOW - 2);

/// Precomputed odd multiples of the input bases `γ_abc[1..]` of one verifying key.
#[derive(Clone)]
pub struct InputCommitment {
    /// `γ_abc[0]`, added once.
    constant: G1Affine,
    /// `tables[j][k] = (2k + 1)·γ_abc[j+1]`.
    tables: [[G1Affine; TABLE_LEN]; NUM_PUBLIC_INPUTS],
}

impl InputCommitment {
    /// Builds the tables for `gamma_abc`; `None` unless it holds one point per public input
    /// plus one. About 200 point additions.
    pub fn new(gamma_abc: &[G1Affine]) -> Option<Self> {
        let (&constant, bases) = gamma_abc.split_first()?;
        let bases: &[G1Affine; NUM_PUBLIC_INPUTS] = bases.try_into().ok()?;
        let tables = bases.map(|base| {
            let mut double = base.into_group();
            double.double_in_place();
            let mut multiples = [G1Projective::zero(); TABLE_LEN];
            let mut current = base.into_group();
            for multiple in multiples.iter_mut() {
                *multiple = current;
                current += double;
            }
            let affine = G1Projective::normalize_batch(&multiples);
            std::array::from_fn(|k| affine[k])
        });
        Some(Self { constant, tables })
    }

    /// `γ_abc[0] + Σ x_j·γ_abc[j+1]`, `x` the public inputs in circuit order.
    pub fn commit(&self, public: &PublicInputs) -> G1Projective {
        let digits: Vec<Vec<i64>> = public
            .to_vec()
            .iter()
            .map(|x| {
                x.into_bigint()
                    .find_wnaf(WINDOW)
                    .expect("WINDOW is in 2..64 (checked at compile time)")
            })
            .collect();
        let len = digits.iter().map(Vec::len).max().unwrap_or(0);
        let mut acc = G1Projective::zero();
        for i in (0..len).rev() {
            acc.double_in_place();
            for (table, digits) in self.tables.iter().zip(&digits) {
                let Some(&d) = digits.get(i) else { continue };
                debug_assert!(d.unsigned_abs() < 1 << (WINDOW - 1) && (d == 0 || d % 2 != 0));
                // |d| ≤ 2^(WINDOW−1) − 1 and odd, so |d|/2 < TABLE_LEN.
                match d.cmp(&0) {
                    Ordering::Greater => acc += &table[(d / 2) as usize],
                    Ordering::Less => acc -= &table[(-d / 2) as usize],
                    Ordering::Equal => {}
                }
            }
        }
        acc + self.constant
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{Bn254, Fr};
    use ark_ec::PrimeGroup;
    use ark_ff::{Field, UniformRand};
    use ark_groth16::{Groth16, PreparedVerifyingKey, VerifyingKey};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    /// Agrees with arkworks' `prepare_inputs` on random, zero, one, small, `2^k` and maximal
    /// inputs, with random bases, a base at infinity, and repeated bases.
    #[test]
    fn equals_arkworks_prepare_inputs() {
        let mut rng = ChaCha20Rng::seed_from_u64(21);
        let random_point =
            |rng: &mut ChaCha20Rng| (G1Projective::generator() * Fr::rand(rng)).into_affine();
        let vk = VerifyingKey::<Bn254> {
            gamma_abc_g1: (0..=NUM_PUBLIC_INPUTS)
                .map(|_| random_point(&mut rng))
                .collect(),
            ..Default::default()
        };
        let mut with_infinity = vk.clone();
        with_infinity.gamma_abc_g1[2] = G1Affine::zero();
        let mut repeated = vk.clone();
        repeated.gamma_abc_g1[3] = repeated.gamma_abc_g1[1];
        repeated.gamma_abc_g1[4] = -repeated.gamma_abc_g1[1];

        let max = -Fr::ONE;
        let mut input_sets: Vec<Vec<Fr>> = vec![
            vec![Fr::ZERO; NUM_PUBLIC_INPUTS],
            vec![Fr::ONE; NUM_PUBLIC_INPUTS],
            vec![max; NUM_PUBLIC_INPUTS],
            (0..NUM_PUBLIC_INPUTS as u64).map(Fr::from).collect(),
            (0..NUM_PUBLIC_INPUTS as u32)
                .map(|k| Fr::from(2u64).pow([u64::from(40 * k + 13)]))
                .collect(),
            vec![
                Fr::from(63u64),
                Fr::from(64u64),
                Fr::from(65u64),
                max,
                Fr::from(15u64),
                Fr::ZERO,
            ],
        ];
        for _ in 0..20 {
            input_sets.push((0..NUM_PUBLIC_INPUTS).map(|_| Fr::rand(&mut rng)).collect());
        }
        for key in [vk, with_infinity, repeated] {
            let table = InputCommitment::new(&key.gamma_abc_g1).unwrap();
            let prepared = PreparedVerifyingKey::from(key);
            for inputs in &input_sets {
                let expected = Groth16::<Bn254>::prepare_inputs(&prepared, inputs).unwrap();
                let public = PublicInputs {
                    root: inputs[0],
                    scope: inputs[1],
                    nullifier: inputs[2],
                    message: inputs[3],
                    mask: inputs[4],
                    disclosed: inputs[5],
                };
                assert_eq!(public.to_vec(), *inputs);
                assert_eq!(table.commit(&public), expected, "inputs {inputs:?}");
            }
        }
    }

    /// A key with too few or too many input commitments gets no tables.
    #[test]
    fn wrong_number_of_bases_is_refused() {
        let g = G1Affine::generator();
        for n in [0, 1, NUM_PUBLIC_INPUTS, NUM_PUBLIC_INPUTS + 2] {
            assert!(InputCommitment::new(&vec![g; n]).is_none(), "{n} bases");
        }
        assert!(InputCommitment::new(&[g; NUM_PUBLIC_INPUTS + 1]).is_some());
    }
}
