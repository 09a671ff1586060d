//! The petition file (`SPEC.md` §13). Its exact bytes define the petition id and scope, so a
//! [`PetitionFile`] keeps them and never re-serializes.

use ark_bn254::Fr;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use undersign_core::attributes::{Mask, SLOTS};
use undersign_core::scope::petition_scope;
use undersign_registry::checkpoint::Checkpoint;
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
    /// blake3 of the `proving.key` file signers must prove with (64 hex): `sign` refuses any
    /// other, so whoever hands out keys cannot give chosen signers a doctored proving key.
    pub proving_key: String,
    /// Slots a signature may disclose, strictly increasing, each below 4.
    pub disclose: Vec<u64>,
    /// Lowest checkpoint sequence whose root signatures may use.
    pub min_checkpoint: u64,
    /// The hash of checkpoint `min_checkpoint` (64 hex): pins the registrar's chain up to it,
    /// so a rival checkpoint with the same sequence (signed by whoever holds the registrar
    /// key, for chosen signers) is not this petition's.
    pub min_checkpoint_hash: String,
    /// Highest checkpoint sequence whose root signatures may use, or `null` for no upper
    /// bound. Written out even when `null` (a missing field is an error), so a window is never
    /// opened by omission.
    #[serde(deserialize_with = "required_option")]
    pub max_checkpoint: Option<u64>,
    /// 32 random bytes (64 hex) so equal texts get unrelated scopes.
    pub nonce: String,
}

/// Deserializes an `Option` that must be present (`null` or a value): serde would otherwise
/// treat a missing `Option` field as `None`.
fn required_option<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer)
}

/// A parsed petition with its exact bytes, id and scope.
#[derive(Debug, Clone)]
pub struct PetitionFile {
    bytes: Vec<u8>,
    fields: PetitionFields,
    min_checkpoint_hash: [u8; 32],
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
        let fields: PetitionFields = undersign_registry::json::from_slice(&bytes)
            .map_err(|e| PetitionError::Json(e.to_string()))?;
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
        decode_hex::<32>(&fields.proving_key).map_err(|e| field("proving_key", e.to_string()))?;
        let min_checkpoint_hash = decode_hex::<32>(&fields.min_checkpoint_hash)
            .map_err(|e| field("min_checkpoint_hash", e.to_string()))?;
        if let Some(max) = fields.max_checkpoint {
            if max < fields.min_checkpoint {
                return Err(field(
                    "max_checkpoint",
                    format!("{max} is below min_checkpoint {}", fields.min_checkpoint),
                ));
            }
        }
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
            min_checkpoint_hash,
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

    /// The hash of the proving key signers must use (64 lowercase hex).
    pub fn proving_key_hash(&self) -> &str {
        &self.fields.proving_key
    }

    /// The lowest usable checkpoint sequence.
    pub fn min_checkpoint(&self) -> u64 {
        self.fields.min_checkpoint
    }

    /// The highest usable checkpoint sequence, or `None` when the window is open-ended.
    pub fn max_checkpoint(&self) -> Option<u64> {
        self.fields.max_checkpoint
    }

    /// Checks that `chain` (a valid chain of the petition's registry) is the one the petition
    /// was opened on: if it reaches `min_checkpoint`, that checkpoint's hash is the petition's
    /// `min_checkpoint_hash`.
    pub fn check_chain(&self, chain: &[Checkpoint]) -> Result<(), String> {
        let Some(checkpoint) = usize::try_from(self.fields.min_checkpoint)
            .ok()
            .and_then(|i| chain.get(i))
        else {
            return Ok(());
        };
        if checkpoint.hash() == self.min_checkpoint_hash {
            Ok(())
        } else {
            Err(format!(
                "checkpoint {} has hash {}, but the petition was opened on checkpoint {} with \
                 hash {}: this is another chain of checkpoints than the petition's",
                checkpoint.sequence,
                hex::encode(checkpoint.hash()),
                self.fields.min_checkpoint,
                self.fields.min_checkpoint_hash
            ))
        }
    }

    /// Whether checkpoint `sequence` is in the petition's window.
    pub fn accepts_checkpoint(&self, sequence: u64) -> bool {
        sequence >= self.fields.min_checkpoint
            && self.fields.max_checkpoint.is_none_or(|max| sequence <= max)
    }

    /// The number of members who may be counted twice (`SPEC.md` §13): with a window of
    /// checkpoints, each member live at an accepted checkpoint and removed by a later accepted
    /// one could also sign under a re-issued identity. `chain` is a valid checkpoint chain of
    /// the petition's registry; the bound runs over the accepted checkpoints it holds.
    pub fn double_count_bound(&self, chain: &[Checkpoint]) -> DoubleCountBound {
        let accepted: Vec<&Checkpoint> = chain
            .iter()
            .filter(|cp| self.accepts_checkpoint(cp.sequence))
            .collect();
        let members = accepted.iter().skip(1).fold(0u64, |sum, cp| {
            sum.saturating_add(cp.removed_since_previous)
        });
        DoubleCountBound {
            members,
            first: accepted.first().map(|cp| cp.sequence),
            last: accepted.last().map(|cp| cp.sequence),
        }
    }
}

/// How many signers an audit may count twice, from the signed removal counts of the accepted
/// checkpoints ([`PetitionFile::double_count_bound`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DoubleCountBound {
    /// Members live at an accepted checkpoint and removed by a later accepted one: at most this
    /// many people could have signed twice. 0 when one checkpoint is accepted.
    pub members: u64,
    /// The oldest accepted checkpoint in the chain, if any.
    pub first: Option<u64>,
    /// The newest accepted checkpoint in the chain, if any.
    pub last: Option<u64>,
}
