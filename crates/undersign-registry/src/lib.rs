//! The Undersign registry: the registrar's list of member commitments with their attribute
//! codes, the schema naming those codes, the registrar's Ed25519 key and the signed
//! checkpoints that commit to the registry's Merkle roots (`SPEC.md` §7, §11, §12).
//!
//! Also: statistics, anonymity-set sizes for choosing a disclosure mask, and CSV import.

#![warn(missing_docs)]

pub mod anonymity;
pub mod checkpoint;
pub mod csv_import;
pub mod encoding;
pub mod json;
pub mod registrar;
pub mod registry;
pub mod schema;
pub mod stats;

pub use anonymity::{anonymity_set, choose_mask};
pub use checkpoint::{verify_chain, ChainError, Checkpoint};
pub use csv_import::{import_csv, CsvImportError, RowProblem};
pub use registrar::{PublicKeyError, RegistrarKey, RegistrarKeyError, RegistrarPublicKey};
pub use registry::{checkpoint_root_matches, Member, MemberError, Registry, RegistryError};
pub use schema::{Schema, SchemaError, SlotSchema};
pub use stats::Stats;
