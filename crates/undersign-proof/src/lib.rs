//! Groth16 over BN254 for the Undersign membership circuit (`SPEC.md` §Proofs and §Keys).
//!
//! - [`keys`]: the development (single-party) setup, key files identified by blake3 hashes;
//! - [`prover`]: proving with constraint matrices synthesized once per loaded key;
//! - [`verifier`]: verification with a prepared verifying key;
//! - [`encoding`]: the 128-byte compressed proof and strict decoders.

pub mod batch;
pub mod encoding;
pub mod keys;
mod miller;
pub mod prover;
pub mod subgroup;
pub mod verifier;

pub use ark_bn254::Bn254;
pub use encoding::{EncodingError, ProofBytes};
pub use keys::{CeremonyRef, KeyError, KeySet, Provenance};
pub use prover::{ProveError, Prover};
pub use undersign_circuit::{
    MembershipCircuit, PublicInputs, Statement, Witness, NUM_PUBLIC_INPUTS,
};
pub use verifier::Verifier;

/// A Groth16 proof over BN254.
pub type Proof = ark_groth16::Proof<Bn254>;
/// A Groth16 proving key over BN254.
pub type ProvingKey = ark_groth16::ProvingKey<Bn254>;
/// A Groth16 verifying key over BN254.
pub type VerifyingKey = ark_groth16::VerifyingKey<Bn254>;
