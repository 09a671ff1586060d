//! BN254 fast paths over arkworks' types: the hand-written arithmetic Undersign uses in place of
//! arkworks' own functions, and nothing else. This crate is the trusted boundary of the proof
//! system's speed: a wrong carry here breaks soundness or completeness silently, so every fast
//! path must equal its reference exactly, on every input it accepts, and is tested against it
//! beside its code (fixed cases in each module, differential property tests in `proptests.rs`).
//!
//! | Fast path | Must equal (reference) | Domain |
//! |---|---|---|
//! | [`lazy::mul`] | `Fq2 * Fq2` (arkworks, `sum_of_products`) | all `Fq2` |
//! | [`lazy::mul_by_01`] | `Fq6::mul_by_01` | all `Fq6`, `Fq2` |
//! | [`msm::msm`] (G1, G2) | `VariableBaseMSM::msm_bigint` | bases in the prime-order subgroup, canonical scalars |
//! | [`msm::batch_invert`], [`msm::batch_invert_with`] | `Field::inverse` per element (zeros stay zero) | all |
//! | [`miller::multi_miller_loop`] | `Bn254::multi_miller_loop` (exactly) | prepared G2 points |
//! | [`miller::multi_miller_loop_affine`] | `Bn254::multi_miller_loop`, after `final_exponentiation` | points on the curves; `None` only where documented |
//! | [`decompress::g1`], [`decompress::g2`] | `CanonicalDeserialize::deserialize_compressed` with `Validate::No` (value or error) | all byte strings of the length |
//! | [`subgroup::g2_in_subgroup_assuming_on_curve`] | `G2Affine::is_in_correct_subgroup_assuming_on_curve` (`[r]Q = 0`) | points on the twist |
//! | [`subgroup::psi_affine`] | `[p]Q` on G2 | G2 |
//! | [`glv::mul_split`] | `P * (Fr::from(a) + λ·Fr::from(b))` | G1 |
//! | [`glv::endomorphism`] | `P * λ` | G1 |
//!
//! Groth16 verification as a whole (`undersign_proof::Verifier`, batch verification) is compared
//! with `ark_groth16::Groth16::verify` in `undersign-proof`'s tests.
//!
//! # Running the tests longer
//!
//! `cargo test -p undersign-bn254` runs the property tests with a modest number of cases (a few
//! seconds in the dev profile). proptest's own variable raises it for long runs:
//!
//! ```text
//! PROPTEST_CASES=100000 cargo test -p undersign-bn254 --release
//! ```
//!
//! The debug assertions on the lazy-reduction bounds ([`lazy`]) stay on in the dev profile, and
//! in release runs with `RUSTFLAGS="-C debug-assertions"`. The long fixed runs are `#[ignore]`d;
//! see their doc comments (`lazy.rs`) for the commands.
//!
//! [`cpu`] holds the run-time CPU check that chooses the BMI2/ADX copies of the hot loops.

pub mod cpu;
pub mod decompress;
pub mod glv;
pub mod lazy;
pub mod miller;
pub mod msm;
pub mod subgroup;

#[cfg(test)]
mod proptests;
