//! Undersign protocol primitives: canonical field encoding, Poseidon, the registry Merkle tree,
//! identities, attributes and petition scopes.
//!
//! Everything here is specified byte for byte in `SPEC.md` at the repository root.

pub mod atomic;
pub mod attributes;
pub mod cpu;
pub mod field;
pub mod identity;
pub mod merkle;
pub mod poseidon;
pub mod scope;

pub use ark_bn254::Fr;
