//! Poseidon as R1CS: the plain permutation of `SPEC.md` §Poseidon over `FpVar`s.
//!
//! Linear layers are free linear combinations; each S-box `x^5` costs three constraints
//! (`x²`, `x⁴`, `x⁴·x`), and S-boxes over constants cost none.

use ark_bn254::Fr;
use ark_r1cs_std::fields::fp::FpVar;
use ark_r1cs_std::prelude::*;
use ark_relations::gr1cs::SynthesisError;
use undersign_core::poseidon;

/// Poseidon of `inputs` (1 to 4 of them), exactly as the native `poseidon::hash`.
pub fn hash(inputs: &[FpVar<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
    let params = poseidon::params(inputs.len() + 1).map_err(|_| SynthesisError::Unsatisfiable)?;
    let width = params.width;
    let half_full = params.full_rounds / 2;
    let rounds = params.full_rounds + params.partial_rounds;

    let mut state = Vec::with_capacity(width);
    state.push(FpVar::Constant(Fr::from(0u64)));
    state.extend(inputs.iter().cloned());

    for round in 0..rounds {
        let constants = &params.round_constants[round * width..(round + 1) * width];
        for (s, c) in state.iter_mut().zip(constants) {
            *s += *c;
        }
        let full = round < half_full || round >= half_full + params.partial_rounds;
        let sboxed = if full { width } else { 1 };
        for s in state.iter_mut().take(sboxed) {
            *s = sbox(s)?;
        }
        state = params
            .mds
            .iter()
            .map(|row| {
                row.iter()
                    .zip(&state)
                    .map(|(m, s)| s * *m)
                    .sum::<FpVar<Fr>>()
            })
            .collect();
    }
    Ok(state.swap_remove(0))
}

/// `x^5` in three constraints.
fn sbox(x: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    let x2 = x.square()?;
    let x4 = x2.square()?;
    Ok(x4 * x)
}
