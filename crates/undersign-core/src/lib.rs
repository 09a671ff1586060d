//! Undersign protocol primitives: canonical field encoding, Poseidon, the registry Merkle tree,
//! identities, attributes and petition scopes.
//!
//! Everything here is specified byte for byte in `SPEC.md` at the repository root.

pub mod atomic;
pub mod attributes;
pub mod field;
pub mod identity;
pub mod merkle;
pub mod scope;

/// Run-time CPU checks, from `undersign-bn254`.
pub use undersign_bn254::cpu;
/// Poseidon (`SPEC.md` §Poseidon), from its own crate `undersign-poseidon`.
pub use undersign_poseidon as poseidon;

pub use ark_bn254::Fr;
