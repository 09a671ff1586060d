//! Signed checkpoints of the registry (`SPEC.md` §12).
//!
//! A checkpoint commits to the registry's root at one size, and to how many members were
//! removed, so that an audit can bound how many people a window of checkpoints could count
//! twice. The registrar signs a fixed 192-byte message with Ed25519; checkpoints are chained by
//! the blake3 hash of that message.

use crate::encoding::{encode_hex, field_hex, hex32, hex64};
use crate::registrar::{RegistrarKey, RegistrarPublicKey};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use undersign_core::field;
use undersign_core::Fr;

/// The first 24 bytes of every signed checkpoint message.
pub const CHECKPOINT_DOMAIN: &[u8; 24] = b"undersign v1 checkpoint\n";
/// Length of the signed message: 24 + 32 + 8 + 8 + 8 + 8 + 32 + 32 + 8 + 32.
pub const CHECKPOINT_MESSAGE_LEN: usize = 192;

/// A signed commitment to the registry at one moment.
///
/// JSON field order and names are those of `SPEC.md` §12; hex fields are strict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The registry id.
    #[serde(with = "hex32")]
    pub registry: [u8; 32],
    /// Position in the chain, from 0.
    pub sequence: u64,
    /// Leaf positions covered (removed members included).
    pub size: u64,
    /// How many of the first `size` positions were removed when this checkpoint was signed.
    pub removed: u64,
    /// How many members live at the previous checkpoint (their leaf non-zero under its root)
    /// were removed since; 0 for sequence 0. Each could be counted twice by a petition that
    /// accepts both checkpoints (`SPEC.md` §12).
    pub removed_since_previous: u64,
    /// The root of the tree at `size`.
    #[serde(with = "field_hex")]
    pub root: Fr,
    /// blake3 of the registry schema's canonical JSON (`SPEC.md` §11), so the labels an
    /// audit prints are the registrar's.
    #[serde(with = "hex32")]
    pub schema: [u8; 32],
    /// Unix seconds.
    pub time: u64,
    /// The hash of checkpoint `sequence − 1`, or 32 zero bytes for sequence 0.
    #[serde(with = "hex32")]
    pub previous: [u8; 32],
    /// The registrar key that signed it.
    pub public_key: RegistrarPublicKey,
    /// Ed25519 signature of [`Checkpoint::message`].
    #[serde(with = "hex64")]
    pub signature: [u8; 64],
}

/// Why a list of checkpoints is not a valid chain. Each rule of `SPEC.md` §12 has its own
/// variant; `sequence` is the position in the list where the rule first fails.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ChainError {
    /// Sequences must be 0, 1, 2, … without gaps or repeats.
    #[error("checkpoint at position {position} has sequence {found}, expected {position}")]
    Sequence {
        /// The position in the chain (the expected sequence).
        position: u64,
        /// The sequence found.
        found: u64,
    },
    /// Every checkpoint must name the chain's registry.
    #[error("checkpoint {sequence}: registry {found} is not the expected registry {expected}")]
    Registry {
        /// The checkpoint's sequence.
        sequence: u64,
        /// Its registry id (hex).
        found: String,
        /// The expected registry id (hex).
        expected: String,
    },
    /// Every checkpoint must carry the registrar's key.
    #[error("checkpoint {sequence}: public key {found} is not the registrar key {expected}")]
    PublicKey {
        /// The checkpoint's sequence.
        sequence: u64,
        /// Its public key.
        found: RegistrarPublicKey,
        /// The registrar key.
        expected: RegistrarPublicKey,
    },
    /// The signature does not verify (strictly) against the message.
    #[error("checkpoint {sequence}: the signature does not verify")]
    Signature {
        /// The checkpoint's sequence.
        sequence: u64,
    },
    /// `previous` is not the hash of the checkpoint before (or zeros for sequence 0).
    #[error("checkpoint {sequence}: previous is {found}, expected {expected}")]
    Previous {
        /// The checkpoint's sequence.
        sequence: u64,
        /// Its `previous` (hex).
        found: String,
        /// The hash it should be (hex).
        expected: String,
    },
    /// Sizes never decrease.
    #[error(
        "checkpoint {sequence}: size {size} is smaller than the previous checkpoint's {previous}"
    )]
    SizeDecreased {
        /// The checkpoint's sequence.
        sequence: u64,
        /// Its size.
        size: u64,
        /// The previous checkpoint's size.
        previous: u64,
    },
    /// The removal counts contradict each other or the sizes.
    #[error("checkpoint {sequence}: its removal counts are inconsistent: {reason}")]
    Removals {
        /// The checkpoint's sequence.
        sequence: u64,
        /// Which rule fails.
        reason: String,
    },
    /// Times never decrease.
    #[error(
        "checkpoint {sequence}: time {time} is earlier than the previous checkpoint's {previous}"
    )]
    TimeDecreased {
        /// The checkpoint's sequence.
        sequence: u64,
        /// Its time.
        time: u64,
        /// The previous checkpoint's time.
        previous: u64,
    },
}

/// The signed fields of a checkpoint, in the order of its message (`SPEC.md` §12 table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointFields {
    /// The registry id.
    pub registry: [u8; 32],
    /// Position in the chain, from 0.
    pub sequence: u64,
    /// Leaf positions covered (removed members included).
    pub size: u64,
    /// Removed positions among the first `size`.
    pub removed: u64,
    /// Members live at the previous checkpoint and removed since.
    pub removed_since_previous: u64,
    /// The root of the tree at `size`.
    pub root: Fr,
    /// blake3 of the schema's canonical JSON.
    pub schema: [u8; 32],
    /// Unix seconds.
    pub time: u64,
    /// The previous checkpoint's hash, or zeros.
    pub previous: [u8; 32],
}

impl CheckpointFields {
    /// The signed message (`SPEC.md` §12 table).
    pub fn message(&self) -> [u8; CHECKPOINT_MESSAGE_LEN] {
        let mut m = [0u8; CHECKPOINT_MESSAGE_LEN];
        m[0..24].copy_from_slice(CHECKPOINT_DOMAIN);
        m[24..56].copy_from_slice(&self.registry);
        m[56..64].copy_from_slice(&self.sequence.to_le_bytes());
        m[64..72].copy_from_slice(&self.size.to_le_bytes());
        m[72..80].copy_from_slice(&self.removed.to_le_bytes());
        m[80..88].copy_from_slice(&self.removed_since_previous.to_le_bytes());
        m[88..120].copy_from_slice(&field::to_bytes_be(&self.root));
        m[120..152].copy_from_slice(&self.schema);
        m[152..160].copy_from_slice(&self.time.to_le_bytes());
        m[160..192].copy_from_slice(&self.previous);
        m
    }
}

impl Checkpoint {
    /// Signs a checkpoint with these fields with `key`.
    pub fn sign(key: &RegistrarKey, fields: CheckpointFields) -> Self {
        let message = fields.message();
        let CheckpointFields {
            registry,
            sequence,
            size,
            removed,
            removed_since_previous,
            root,
            schema,
            time,
            previous,
        } = fields;
        Self {
            registry,
            sequence,
            size,
            removed,
            removed_since_previous,
            root,
            schema,
            time,
            previous,
            public_key: key.public_key(),
            signature: key.sign(&message),
        }
    }

    /// The signed fields.
    pub fn fields(&self) -> CheckpointFields {
        CheckpointFields {
            registry: self.registry,
            sequence: self.sequence,
            size: self.size,
            removed: self.removed,
            removed_since_previous: self.removed_since_previous,
            root: self.root,
            schema: self.schema,
            time: self.time,
            previous: self.previous,
        }
    }

    /// The 192-byte signed message.
    pub fn message(&self) -> Vec<u8> {
        self.fields().message().to_vec()
    }

    /// The checkpoint hash: `blake3(message)`.
    pub fn hash(&self) -> [u8; 32] {
        *blake3::hash(&self.message()).as_bytes()
    }

    /// Whether the signature verifies (strictly) against `public_key`.
    pub fn verify_signature(&self) -> bool {
        self.public_key.verify(&self.message(), &self.signature)
    }
}

/// Why `checkpoint`'s removal counts cannot be true given the checkpoint before it (`SPEC.md`
/// §12): `removed ≤ size`; for sequence 0 `removed_since_previous = 0`; after a checkpoint `p`,
/// `removed_since_previous ≤ p.size − p.removed` (only live members can be removed),
/// `removed ≥ p.removed + removed_since_previous` (removals are never undone) and
/// `removed − p.removed − removed_since_previous ≤ size − p.size` (the rest lie in the new
/// positions).
fn removal_counts_error(checkpoint: &Checkpoint, previous: Option<&Checkpoint>) -> Option<String> {
    if checkpoint.removed > checkpoint.size {
        return Some(format!(
            "{} removed of {} positions",
            checkpoint.removed, checkpoint.size
        ));
    }
    let Some(p) = previous else {
        return (checkpoint.removed_since_previous != 0)
            .then(|| "the first checkpoint has removals since a previous one".to_owned());
    };
    let live_before = p.size.saturating_sub(p.removed);
    if checkpoint.removed_since_previous > live_before {
        return Some(format!(
            "{} members removed since the previous checkpoint, which had {live_before} live",
            checkpoint.removed_since_previous
        ));
    }
    let carried = p.removed + checkpoint.removed_since_previous;
    if checkpoint.removed < carried {
        return Some(format!(
            "{} removed in all, fewer than the previous {} plus {} since",
            checkpoint.removed, p.removed, checkpoint.removed_since_previous
        ));
    }
    if checkpoint.removed - carried > checkpoint.size.saturating_sub(p.size) {
        return Some(format!(
            "{} removed among the {} new positions",
            checkpoint.removed - carried,
            checkpoint.size.saturating_sub(p.size)
        ));
    }
    None
}

/// Checks that `checkpoints` is a valid chain for registrar key `key` and registry `registry`
/// (`SPEC.md` §12): sequences `0, 1, 2, …`; each `previous` is the hash of the checkpoint
/// before (zeros for sequence 0); every public key is `key` and every signature verifies; all
/// name `registry`; sizes and times never decrease; the removal counts are consistent (see
/// `removal_counts_error`). The empty list is a valid (empty) chain.
pub fn verify_chain(
    checkpoints: &[Checkpoint],
    key: &RegistrarPublicKey,
    registry: &[u8; 32],
) -> Result<(), ChainError> {
    let mut previous: Option<&Checkpoint> = None;
    let mut previous_hash = [0u8; 32];
    for (position, checkpoint) in (0u64..).zip(checkpoints) {
        let sequence = checkpoint.sequence;
        if sequence != position {
            return Err(ChainError::Sequence {
                position,
                found: sequence,
            });
        }
        if checkpoint.registry != *registry {
            return Err(ChainError::Registry {
                sequence,
                found: encode_hex(&checkpoint.registry),
                expected: encode_hex(registry),
            });
        }
        if checkpoint.public_key != *key {
            return Err(ChainError::PublicKey {
                sequence,
                found: checkpoint.public_key,
                expected: *key,
            });
        }
        if !checkpoint.verify_signature() {
            return Err(ChainError::Signature { sequence });
        }
        if checkpoint.previous != previous_hash {
            return Err(ChainError::Previous {
                sequence,
                found: encode_hex(&checkpoint.previous),
                expected: encode_hex(&previous_hash),
            });
        }
        if let Some(before) = previous {
            if checkpoint.size < before.size {
                return Err(ChainError::SizeDecreased {
                    sequence,
                    size: checkpoint.size,
                    previous: before.size,
                });
            }
            if checkpoint.time < before.time {
                return Err(ChainError::TimeDecreased {
                    sequence,
                    time: checkpoint.time,
                    previous: before.time,
                });
            }
        }
        if let Some(reason) = removal_counts_error(checkpoint, previous) {
            return Err(ChainError::Removals { sequence, reason });
        }
        previous_hash = checkpoint.hash();
        previous = Some(checkpoint);
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::registrar::tests::test_key;

    const REGISTRY: [u8; 32] = [0xab; 32];

    /// A valid chain of `n` checkpoints with growing sizes and times.
    pub(crate) fn chain(key: &RegistrarKey, registry: [u8; 32], n: u64) -> Vec<Checkpoint> {
        let mut out: Vec<Checkpoint> = Vec::new();
        for sequence in 0..n {
            let previous = out.last().map(Checkpoint::hash).unwrap_or([0; 32]);
            out.push(Checkpoint::sign(
                key,
                CheckpointFields {
                    registry,
                    sequence,
                    size: 10 * (sequence + 1),
                    removed: sequence,
                    removed_since_previous: sequence.min(1),
                    root: Fr::from(100 + sequence),
                    schema: [0x5c; 32],
                    time: 1_795_000_000 + sequence,
                    previous,
                },
            ));
        }
        out
    }

    #[test]
    fn message_layout() {
        let key = test_key(10);
        let root = Fr::from(0x0102_0304u64);
        let cp = Checkpoint::sign(
            &key,
            CheckpointFields {
                registry: [0xaa; 32],
                sequence: 0x11,
                size: 0x22,
                removed: 0x0102,
                removed_since_previous: 0x03,
                root,
                schema: [0xcc; 32],
                time: 0x33,
                previous: [0xbb; 32],
            },
        );
        let m = cp.message();
        assert_eq!(m.len(), 192);
        assert_eq!(&m[0..24], b"undersign v1 checkpoint\n");
        assert_eq!(&m[24..56], &[0xaa; 32]);
        assert_eq!(&m[56..64], &[0x11, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&m[64..72], &[0x22, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&m[72..80], &[0x02, 0x01, 0, 0, 0, 0, 0, 0], "removed, LE");
        assert_eq!(&m[80..88], &[0x03, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&m[88..116], &[0u8; 28]);
        assert_eq!(&m[116..120], &[1, 2, 3, 4], "root is big-endian");
        assert_eq!(&m[120..152], &[0xcc; 32], "schema hash");
        assert_eq!(&m[152..160], &[0x33, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&m[160..192], &[0xbb; 32]);
        assert_eq!(cp.hash(), *blake3::hash(&m).as_bytes());
        assert!(cp.verify_signature());
        assert!(key.public_key().verify(&m, &cp.signature));
    }

    #[test]
    fn json_round_trip_and_strictness() {
        let key = test_key(11);
        let cp = chain(&key, REGISTRY, 2).pop().unwrap();
        let json = serde_json::to_string(&cp).unwrap();
        assert!(json.starts_with(r#"{"registry":"abab"#), "{json}");
        let order = [
            "registry",
            "sequence",
            "size",
            "removed",
            "removed_since_previous",
            "root",
            "time",
            "previous",
            "public_key",
            "signature",
        ];
        let positions: Vec<usize> = order
            .iter()
            .map(|f| json.find(&format!("\"{f}\"")).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{json}");
        assert_eq!(serde_json::from_str::<Checkpoint>(&json).unwrap(), cp);

        let reject =
            |text: String| assert!(serde_json::from_str::<Checkpoint>(&text).is_err(), "{text}");
        reject(json.replace("\"time\"", "\"extra\":1,\"time\""));
        reject(json.replace(
            &encode_hex(&REGISTRY),
            &encode_hex(&REGISTRY).to_uppercase(),
        ));
        reject(json.replace(&encode_hex(&REGISTRY), &encode_hex(&REGISTRY)[2..]));
        let root = field::to_hex(&cp.root);
        reject(json.replace(&root, &root[2..]));
        reject(json.replace(
            &root,
            "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001",
        ));
        let sig = encode_hex(&cp.signature);
        reject(json.replace(&sig, &sig.to_uppercase()));
        reject(json.replace(&sig, &sig[..126]));
        let pk = cp.public_key.to_hex();
        reject(json.replace(&pk, &pk.to_uppercase()));
        reject(json.replace("\"sequence\":1", "\"sequence\":-1"));
        reject(json.replace("\"sequence\":1", "\"sequence\":1.0"));
        reject(json.replace(",\"time\":1795000001", ""));
    }

    #[test]
    fn valid_chain_verifies() {
        let key = test_key(12);
        let cps = chain(&key, REGISTRY, 4);
        assert_eq!(verify_chain(&cps, &key.public_key(), &REGISTRY), Ok(()));
        assert_eq!(verify_chain(&[], &key.public_key(), &REGISTRY), Ok(()));
        assert_eq!(cps[0].previous, [0u8; 32]);
        assert_eq!(cps[2].previous, cps[1].hash());
    }

    /// Re-signs checkpoint `i` after `edit`, then re-links and re-signs the rest, so only the
    /// rule `edit` breaks fails.
    fn edited(key: &RegistrarKey, i: usize, edit: impl FnOnce(&mut Checkpoint)) -> Vec<Checkpoint> {
        let mut cps = chain(key, REGISTRY, 4);
        edit(&mut cps[i]);
        cps[i] = Checkpoint::sign(key, cps[i].fields());
        for j in i + 1..cps.len() {
            let previous = cps[j - 1].hash();
            cps[j] = Checkpoint::sign(
                key,
                CheckpointFields {
                    previous,
                    ..cps[j].fields()
                },
            );
        }
        cps
    }

    #[test]
    fn every_rule_has_its_error() {
        let key = test_key(13);
        let pk = key.public_key();
        let verify = |cps: &[Checkpoint]| verify_chain(cps, &pk, &REGISTRY);

        // Tampering with any signed field (or the key) breaks the signature.
        type Tamper = (&'static str, fn(&mut Checkpoint));
        let tampers: [Tamper; 10] = [
            ("registry", |c| c.registry[0] ^= 1),
            ("sequence", |c| c.sequence += 1),
            ("size", |c| c.size += 1),
            ("removed", |c| c.removed += 1),
            ("removed_since_previous", |c| c.removed_since_previous -= 1),
            ("root", |c| c.root += Fr::from(1u64)),
            ("time", |c| c.time += 1),
            ("previous", |c| c.previous[5] ^= 1),
            ("public_key", |c| c.public_key = test_key(99).public_key()),
            ("signature", |c| c.signature[40] ^= 1),
        ];
        for (name, tamper) in tampers {
            let mut cps = chain(&key, REGISTRY, 3);
            assert!(cps[1].verify_signature());
            tamper(&mut cps[1]);
            assert!(!cps[1].verify_signature(), "{name}");
            assert!(verify(&cps).is_err(), "{name}");
        }
        for (name, tamper) in &tampers[2..8] {
            let mut cps = chain(&key, REGISTRY, 3);
            tamper(&mut cps[1]);
            assert_eq!(
                verify(&cps),
                Err(ChainError::Signature { sequence: 1 }),
                "{name}"
            );
        }
        let mut cps = chain(&key, REGISTRY, 3);
        cps[2].signature[0] ^= 1;
        assert_eq!(verify(&cps), Err(ChainError::Signature { sequence: 2 }));

        // Gap, repeat, wrong start.
        let mut cps = chain(&key, REGISTRY, 4);
        cps.remove(2);
        assert_eq!(
            verify(&cps),
            Err(ChainError::Sequence {
                position: 2,
                found: 3
            })
        );
        let cps = chain(&key, REGISTRY, 4);
        assert_eq!(
            verify(&cps[1..]),
            Err(ChainError::Sequence {
                position: 0,
                found: 1
            })
        );
        let cps = edited(&key, 2, |c| c.sequence = 1);
        assert_eq!(
            verify(&cps),
            Err(ChainError::Sequence {
                position: 2,
                found: 1
            })
        );

        // Broken link, correctly signed.
        let cps = edited(&key, 2, |c| c.previous = [9; 32]);
        assert!(matches!(
            verify(&cps),
            Err(ChainError::Previous { sequence: 2, .. })
        ));
        let cps = edited(&key, 0, |c| c.previous = [1; 32]);
        assert!(matches!(
            verify(&cps),
            Err(ChainError::Previous { sequence: 0, .. })
        ));

        // Another registry id, correctly signed.
        let cps = edited(&key, 1, |c| c.registry = [8; 32]);
        assert!(matches!(
            verify(&cps),
            Err(ChainError::Registry { sequence: 1, .. })
        ));
        assert!(matches!(
            verify_chain(&cps, &pk, &[8; 32]),
            Err(ChainError::Registry { sequence: 0, .. })
        ));

        // Another key signs one checkpoint, or the whole chain.
        let other = test_key(14);
        let mut cps = chain(&key, REGISTRY, 3);
        cps[2] = Checkpoint::sign(&other, cps[2].fields());
        assert!(matches!(
            verify(&cps),
            Err(ChainError::PublicKey { sequence: 2, .. })
        ));
        let cps = chain(&other, REGISTRY, 2);
        assert!(matches!(
            verify(&cps),
            Err(ChainError::PublicKey { sequence: 0, .. })
        ));
        assert_eq!(verify_chain(&cps, &other.public_key(), &REGISTRY), Ok(()));

        // Sizes and times never decrease (equal is fine).
        let cps = edited(&key, 2, |c| c.size = 19);
        assert_eq!(
            verify(&cps),
            Err(ChainError::SizeDecreased {
                sequence: 2,
                size: 19,
                previous: 20
            })
        );
        let cps = edited(&key, 2, |c| c.size = 20);
        assert_eq!(verify(&cps), Ok(()));
        let cps = edited(&key, 3, |c| c.time -= 2);
        assert!(matches!(
            verify(&cps),
            Err(ChainError::TimeDecreased { sequence: 3, .. })
        ));
        let cps = edited(&key, 3, |c| c.time -= 1);
        assert_eq!(verify(&cps), Ok(()));
    }

    #[test]
    fn removal_counts_must_be_consistent() {
        let key = test_key(15);
        let pk = key.public_key();
        let verify = |cps: &[Checkpoint]| verify_chain(cps, &pk, &REGISTRY);
        let removals = |cps: &[Checkpoint], sequence: u64| {
            assert!(
                matches!(verify(cps), Err(ChainError::Removals { sequence: s, .. }) if s == sequence),
                "{:?}",
                verify(cps)
            )
        };
        // The chain: sizes 10, 20, 30, 40; removed 0, 1, 2, 3; one removal since each previous.
        assert_eq!(verify(&chain(&key, REGISTRY, 4)), Ok(()));
        // More removed than positions.
        removals(&edited(&key, 1, |c| c.removed = 21), 1);
        // The first checkpoint has no previous one to remove members from.
        removals(&edited(&key, 0, |c| c.removed_since_previous = 1), 0);
        // More removed since checkpoint 1 than it had live members (20 − 1 = 19).
        removals(
            &edited(&key, 2, |c| {
                c.removed_since_previous = 20;
                c.removed = 21;
            }),
            2,
        );
        // Exactly every live member removed is fine (up to checkpoint 2, which is edited).
        let all_live = edited(&key, 2, |c| {
            c.removed_since_previous = 19;
            c.removed = 20;
        });
        assert_eq!(verify(&all_live[..3]), Ok(()));
        // A removal undone: fewer removed in all than before plus since.
        removals(&edited(&key, 2, |c| c.removed = 1), 2);
        // More removals among the new positions (30 − 20 = 10) than there are.
        removals(&edited(&key, 2, |c| c.removed = 13), 2);
        assert_eq!(verify(&edited(&key, 2, |c| c.removed = 12)[..3]), Ok(()));
    }
}
