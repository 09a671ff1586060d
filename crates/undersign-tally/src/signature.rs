//! The signature file (`SPEC.md` §14): one signer's proof and public inputs.

use ark_bn254::Fr;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use undersign_core::attributes::{decode_disclosed, Attributes, Mask, SLOTS};
use undersign_core::field;
use undersign_core::scope::message;
use undersign_proof::encoding::ProofBytes;
use undersign_proof::PublicInputs;
use undersign_registry::encoding::decode_hex;

/// The `kind` of a signature file.
pub const KIND: &str = "undersign-signature";
/// Longest accepted comment, in bytes.
pub const MAX_COMMENT: usize = 1000;
/// Longest accepted signature JSON, in bytes (a real one is about 700).
pub const MAX_SIGNATURE_BYTES: usize = 4096;

/// Why a signature file was rejected.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// Not JSON of the signature shape.
    #[error("not a valid signature: {0}")]
    Json(String),
    /// A field has a bad value.
    #[error("signature field `{field}`: {reason}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Larger than any real signature.
    #[error("signature is {0} bytes; at most {MAX_SIGNATURE_BYTES} are allowed")]
    TooLarge(usize),
}

/// The signature's JSON fields, exactly as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureFields {
    version: u32,
    kind: String,
    petition: String,
    root: String,
    nullifier: String,
    mask: u64,
    #[serde(deserialize_with = "disclosed_codes")]
    disclosed: [u64; SLOTS],
    // `deserialize_with` makes the field required (null allowed, absent rejected).
    #[serde(deserialize_with = "Option::deserialize")]
    comment: Option<String>,
    proof: String,
}

/// `disclosed`: exactly [`SLOTS`] codes. A wrong count is an error naming the field (serde's
/// own fixed-size array reports a fifth code as "trailing characters").
fn disclosed_codes<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<[u64; SLOTS], D::Error> {
    // Bounded by MAX_SIGNATURE_BYTES: at most ~2,000 entries are ever read.
    let codes = Vec::<u64>::deserialize(deserializer)?;
    let count = codes.len();
    <[u64; SLOTS]>::try_from(codes).map_err(|_| {
        serde::de::Error::custom(format!(
            "invalid field `disclosed`: expected {SLOTS} codes (one per slot), got {count}"
        ))
    })
}

/// A validated signature: every field canonical (the proof's points are checked when verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The petition id it signs.
    pub petition: [u8; 32],
    /// The registry root (a checkpoint root) the proof is against.
    pub root: Fr,
    /// `Poseidon(scope, sk)`.
    pub nullifier: Fr,
    /// The disclosed slots.
    pub mask: Mask,
    /// The disclosed codes (0 outside `mask`).
    pub disclosed: Attributes,
    /// The signer's comment, if any.
    pub comment: Option<String>,
    /// The 128-byte proof.
    pub proof: ProofBytes,
}

/// blake3 `derive_key` context of [`Signature::receipt`].
pub const RECEIPT_CONTEXT: &str = "undersign v1 receipt";

impl Signature {
    /// Parses and validates a signature's JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Self, SignatureError> {
        if bytes.len() > MAX_SIGNATURE_BYTES {
            return Err(SignatureError::TooLarge(bytes.len()));
        }
        let raw: SignatureFields = undersign_registry::json::from_slice(bytes)
            .map_err(|e| SignatureError::Json(e.to_string()))?;
        let field = |field: &'static str, reason: String| SignatureError::Field { field, reason };
        if raw.version != 1 {
            return Err(field(
                "version",
                format!("unsupported version {}", raw.version),
            ));
        }
        if raw.kind != KIND {
            return Err(field(
                "kind",
                format!("expected {KIND:?}, got {:?}", raw.kind),
            ));
        }
        let petition =
            decode_hex::<32>(&raw.petition).map_err(|e| field("petition", e.to_string()))?;
        let root = field::from_hex(&raw.root).map_err(|e| field("root", e.to_string()))?;
        let nullifier =
            field::from_hex(&raw.nullifier).map_err(|e| field("nullifier", e.to_string()))?;
        let mask = Mask::new(raw.mask).map_err(|e| field("mask", e.to_string()))?;
        let mut codes = [0u16; SLOTS];
        for (code, &value) in codes.iter_mut().zip(&raw.disclosed) {
            *code = u16::try_from(value)
                .map_err(|_| field("disclosed", format!("code {value} is above 65535")))?;
        }
        let disclosed = decode_disclosed(Attributes(codes).packed(), mask)
            .map_err(|e| field("disclosed", e.to_string()))?;
        if let Some(comment) = &raw.comment {
            if comment.len() > MAX_COMMENT {
                return Err(field("comment", format!("longer than {MAX_COMMENT} bytes")));
            }
        }
        let proof = ProofBytes::from_hex(&raw.proof).map_err(|e| field("proof", e.to_string()))?;
        Ok(Self {
            petition,
            root,
            nullifier,
            mask,
            disclosed,
            comment: raw.comment,
            proof,
        })
    }

    fn fields(&self) -> SignatureFields {
        SignatureFields {
            version: 1,
            kind: KIND.into(),
            petition: hex::encode(self.petition),
            root: field::to_hex(&self.root),
            nullifier: field::to_hex(&self.nullifier),
            mask: u64::from(self.mask.bits()),
            disclosed: self.disclosed.0.map(u64::from),
            comment: self.comment.clone(),
            proof: self.proof.to_hex(),
        }
    }

    /// The signature as one compact JSON line (no trailing newline), as in a bundle.
    pub fn to_json_line(&self) -> String {
        // Serializing plain strings and integers cannot fail.
        serde_json::to_string(&self.fields()).unwrap_or_default()
    }

    /// The signature as a pretty-printed file.
    pub fn to_json_pretty(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.fields()).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The circuit's public inputs for this signature under `scope`.
    pub fn public_inputs(&self, scope: Fr) -> PublicInputs {
        PublicInputs {
            root: self.root,
            scope,
            nullifier: self.nullifier,
            message: message(self.comment.as_deref()),
            mask: self.mask.to_field(),
            disclosed: self.disclosed.packed(),
        }
    }

    /// The receipt (`SPEC.md` §14): `blake3::derive_key("undersign v1 receipt", petition id ‖
    /// root ‖ nullifier ‖ message ‖ mask ‖ disclosed)`, each public input as 32 big-endian
    /// bytes. It names the signature's statement, not its proof bytes: anyone holding a Groth16
    /// proof can re-randomise it, and a re-randomised copy has the same receipt.
    pub fn receipt(&self) -> [u8; 32] {
        let mut material = Vec::with_capacity(32 * 6);
        material.extend_from_slice(&self.petition);
        for input in [
            self.root,
            self.nullifier,
            message(self.comment.as_deref()),
            self.mask.to_field(),
            self.disclosed.packed(),
        ] {
            material.extend_from_slice(&field::to_bytes_be(&input));
        }
        blake3::derive_key(RECEIPT_CONTEXT, &material)
    }

    /// The nullifier's canonical bytes: the bundle's sort key.
    pub fn nullifier_key(&self) -> [u8; 32] {
        field::to_bytes_be(&self.nullifier)
    }
}
