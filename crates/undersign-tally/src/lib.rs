//! Petitions, signatures, bundles and audits (`SPEC.md` §13–§15).
//!
//! - [`petition`]: the organizer's petition file, its id and scope;
//! - [`signature`]: one signer's signature file and its public inputs;
//! - [`check`]: the rules every signature must pass, shared by `verify`, `bundle build` and
//!   `audit`;
//! - [`bundle`]: the JSON Lines bundle and the streaming, parallel audit.

pub mod bundle;
pub mod check;
pub mod petition;
pub mod signature;
