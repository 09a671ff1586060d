//! The petition file (`SPEC.md` §13). Its exact bytes define the petition id and scope, so a
//! [`PetitionFile`] keeps them and never re-serializes.

use ark_bn254::Fr;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use undersign_core::attributes::{Mask, SLOTS};
use undersign_core::scope::petition_scope;
use undersign_registry::encoding::decode_hex;
use undersign_registry::registrar::RegistrarPublicKey;

/// The `kind` of a petition file.
pub const KIND: &str = "undersign-petition";
/// Longest accepted title, in bytes.
pub const MAX_TITLE: usize = 500;
/// Longest accepted text, in bytes.
pub const MAX_TEXT: usize = 100_000;

/// Why a petition file was rejected.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PetitionError {
    /// Not JSON of the petition shape.
    #[error("not a valid petition file: {0}")]
    Json(String),
    /// A field has a bad value.
    #[error("petition field `{field}`: {reason}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// The petition's JSON fields, exactly as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PetitionFields {
    /// Format version, 1.
    pub version: u32,
    /// `"undersign-petition"`.
    pub kind: String,
    /// Title shown to signers.
    pub title: String,
    /// The petition's text.
    pub text: String,
    /// Registry id (64 hex).
    pub registry: String,
    /// The registrar's Ed25519 public key (64 hex).
    pub registrar_key: String,
    /// Hash of the verifying key signatures must verify under (64 hex).
    pub verifying_key: String,
    /// Slots a signature may disclose, strictly increasing, each below 4.
    pub disclose: Vec<u64>,
    /// Lowest checkpoint sequence whose root signatures may use.
    pub min_checkpoint: u64,
    /// 32 random bytes (64 hex) so equal texts get unrelated scopes.
    pub nonce: String,
}

/// A parsed petition with its exact bytes, id and scope.
#[derive(Debug, Clone)]
pub struct PetitionFile {
    bytes: Vec<u8>,
    fields: PetitionFields,
    registry: [u8; 32],
    registrar_key: RegistrarPublicKey,
    verifying_key: String,
    allowed: Mask,
    id: [u8; 32],
    scope: Fr,
}

impl PetitionFile {
    /// Builds a new petition's bytes (pretty JSON) and parses them back.
    pub fn create(fields: PetitionFields) -> Result<Self, PetitionError> {
        let mut bytes =
            serde_json::to_vec_pretty(&fields).map_err(|e| PetitionError::Json(e.to_string()))?;
        bytes.push(b'\n');
        Self::parse(bytes)
    }

    /// Parses and validates a petition file's bytes.
    pub fn parse(bytes: Vec<u8>) -> Result<Self, PetitionError> {
        let fields: PetitionFields =
            serde_json::from_slice(&bytes).map_err(|e| PetitionError::Json(e.to_string()))?;
        let field = |field: &'static str, reason: String| PetitionError::Field { field, reason };
        if fields.version != 1 {
            return Err(field(
                "version",
                format!("unsupported version {}", fields.version),
            ));
        }
        if fields.kind != KIND {
            return Err(field(
                "kind",
                format!("expected {KIND:?}, got {:?}", fields.kind),
            ));
        }
        if fields.title.trim().is_empty() || fields.title.len() > MAX_TITLE {
            return Err(field("title", format!("must be 1 to {MAX_TITLE} bytes")));
        }
        if fields.text.len() > MAX_TEXT {
            return Err(field("text", format!("longer than {MAX_TEXT} bytes")));
        }
        let registry =
            decode_hex::<32>(&fields.registry).map_err(|e| field("registry", e.to_string()))?;
        let registrar_key = RegistrarPublicKey::from_hex(&fields.registrar_key)
            .map_err(|e| field("registrar_key", e.to_string()))?;
        decode_hex::<32>(&fields.nonce).map_err(|e| field("nonce", e.to_string()))?;
        let verifying_key = hex::encode(
            decode_hex::<32>(&fields.verifying_key)
                .map_err(|e| field("verifying_key", e.to_string()))?,
        );
        if !fields.disclose.windows(2).all(|w| w[0] < w[1]) {
            return Err(field(
                "disclose",
                "slots must be strictly increasing".into(),
            ));
        }
        let slots: Vec<usize> = fields
            .disclose
            .iter()
            .map(|&s| {
                if s < SLOTS as u64 {
                    Ok(s as usize)
                } else {
                    Err(field(
                        "disclose",
                        format!("slot {s} does not exist (0 to 3)"),
                    ))
                }
            })
            .collect::<Result<_, _>>()?;
        let allowed = Mask::from_slots(&slots).map_err(|e| field("disclose", e.to_string()))?;
        let id = *blake3::hash(&bytes).as_bytes();
        let scope = petition_scope(&bytes);
        Ok(Self {
            bytes,
            fields,
            registry,
            registrar_key,
            verifying_key,
            allowed,
            id,
            scope,
        })
    }

    /// The exact file bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The parsed fields.
    pub fn fields(&self) -> &PetitionFields {
        &self.fields
    }

    /// The petition id: blake3 of the file bytes.
    pub fn id(&self) -> [u8; 32] {
        self.id
    }

    /// The petition id in hex.
    pub fn id_hex(&self) -> String {
        hex::encode(self.id)
    }

    /// The scope public input.
    pub fn scope(&self) -> Fr {
        self.scope
    }

    /// The registry id the petition is for.
    pub fn registry(&self) -> [u8; 32] {
        self.registry
    }

    /// The registrar key whose checkpoints count.
    pub fn registrar_key(&self) -> &RegistrarPublicKey {
        &self.registrar_key
    }

    /// The hash of the verifying key signatures must verify under.
    pub fn verifying_key_hash(&self) -> &str {
        &self.verifying_key
    }

    /// The slots a signature may disclose.
    pub fn allowed_mask(&self) -> Mask {
        self.allowed
    }

    /// The lowest usable checkpoint sequence.
    pub fn min_checkpoint(&self) -> u64 {
        self.fields.min_checkpoint
    }
}
