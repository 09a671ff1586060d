//! Groth16 over BN254 for the Undersign membership circuit (`SPEC.md` §Proofs and §Keys).
//!
//! - [`keys`]: the development (single-party) setup, key files identified by blake3 hashes;
//! - [`prover`]: proving with constraint matrices synthesized once per loaded key;
//! - [`verifier`]: verification with a prepared verifying key;
//! - [`inputs`]: the commitment to a proof's public inputs, from precomputed tables;
//! - [`encoding`]: the 128-byte compressed proof and strict decoders;
//! - [`batch`]: batch verification by random linear combination, with bisection.
//!
//! This crate is the Groth16 protocol. The hand-written BN254 arithmetic it runs on (MSM,
//! Miller loops, lazy reduction, point decompression, the G2 subgroup check, the GLV split
//! multiplication) lives in `undersign-bn254`, with the arkworks function each must equal; its
//! public modules are re-exported here under their old paths.

pub mod batch;
pub mod encoding;
pub mod inputs;
pub mod keys;
pub mod prover;
pub mod verifier;

use undersign_bn254::{decompress, miller};
pub use undersign_bn254::{msm, subgroup};

pub use ark_bn254::Bn254;
pub use encoding::{EncodingError, ProofBytes};
pub use keys::{CeremonyRef, KeyError, KeySet, Provenance};
pub use prover::{CircuitShape, ProveError, Prover};
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

#[cfg(test)]
mod tests {
    use crate::keys::KeySet;
    use crate::{Prover, Statement};
    use undersign_core::attributes::{Attributes, Mask};
    use undersign_core::identity::{member_leaf, IdentitySecret};
    use undersign_core::merkle::MerkleTree;
    use undersign_core::scope;

    /// A development-key prover and a true statement for the only member of a registry.
    pub(crate) fn one_member_prover(depth: u32) -> (Prover, Statement) {
        let keys = KeySet::development(depth, &[1u8; 32]).unwrap();
        let prover = Prover::new(depth, keys.proving_key).unwrap();
        let secret = IdentitySecret::from_bytes([3u8; 32]);
        let attrs = Attributes([1, 2, 3, 0]);
        let tree =
            MerkleTree::from_leaves(depth, vec![member_leaf(secret.commitment(), &attrs)]).unwrap();
        let statement = Statement::new(
            secret.sk(),
            &attrs,
            &tree.path(0).unwrap(),
            tree.root(),
            scope::petition_scope(b"petition"),
            scope::message(Some("hello")),
            Mask::from_slots(&[0, 2]).unwrap(),
        );
        (prover, statement)
    }
}
