//! Undersign: anonymous, verifiable signature tallies.
//!
//! This facade re-exports the workspace crates; see `SPEC.md` for the protocol.

pub use undersign_ceremony as ceremony;
pub use undersign_circuit as circuit;
pub use undersign_core as core;
pub use undersign_proof as proof;
pub use undersign_registry as registry;
pub use undersign_tally as tally;
