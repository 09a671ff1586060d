//! Multi-party Groth16 trusted setup for Undersign (`SPEC.md` §17).
//!
//! A Bowe–Gabizon–Miers ceremony in two phases, where one honest contributor (one who keeps
//! their secret from everyone and destroys it) suffices for the keys to be sound, and anyone can
//! verify the whole transcript:
//!
//! - [`phase1`]: powers of tau over BN254 (`τ^i·G1`, `τ^i·G2`, `α·τ^i·G1`, `β·τ^i·G1`, `β·G2`),
//!   independent of the circuit; every contribution carries proofs of knowledge of its secrets
//!   and is chained by hashes.
//! - [`phase2`]: the Groth16 keys of the membership circuit, derived from phase 1 with
//!   `γ = δ = 1`, then re-randomised by contributions to `δ` (and a final public beacon).
//!   The keys are exactly what arkworks' `generate_parameters_with_qap` would produce for the
//!   same `τ, α, β, δ` with `γ = 1`, so the existing prover and verifier work unchanged.
//! - [`pok`]: proofs of knowledge (same-ratio pairing checks) and [`hash_to_g2`], the
//!   transcript-bound G2 points whose discrete logarithm nobody knows.
//! - [`codec`]: the binary file encodings (strict: every point validated, no trailing bytes).
//! - [`lagrange`]: the Lagrange basis in the exponent by an inverse FFT over group elements.
//! - [`export`]: writing a key directory (`keys.json` with `setup = "ceremony"`) from a verified
//!   transcript.

pub mod codec;
pub mod error;
pub mod export;
pub mod hash_to_g2;
pub mod lagrange;
pub mod phase1;
pub mod phase2;
pub mod pok;
pub mod ptau;

pub use error::{
    CeremonyError, ContributionCheck, FormatError, ParameterCheck, Secret, VerifyError,
};
pub use phase1::Phase1;
pub use phase2::{Beacon, Phase2};

/// A blake3 hash: state, record and file identifiers.
pub type Hash = [u8; 32];

/// The short form of a hash a contributor publishes: its first 16 bytes as lowercase hex in
/// groups of four digits, e.g. `3f2a 91c0 77de 0b14 9a5e 22c1 d0f3 8e47`.
pub fn short_hash(hash: &Hash) -> String {
    hex::encode(&hash[..16])
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// blake3 in `derive_key` mode with `context` over the concatenation of `parts`.
pub(crate) fn derive_hash(context: &str, parts: &[&[u8]]) -> Hash {
    let mut hasher = blake3::Hasher::new_derive_key(context);
    for part in parts {
        hasher.update(part);
    }
    *hasher.finalize().as_bytes()
}
