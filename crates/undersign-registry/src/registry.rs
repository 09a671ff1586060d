//! The registry of members (`SPEC.md` §7, §11): commitments with their attribute codes, the
//! schema naming the codes, and the registrar's signed checkpoints.
//!
//! The file (`undersign-registry`) is compact JSON followed by one newline:
//!
//! ```json
//! {"version":1,"kind":"undersign-registry","id":"<64 hex>","depth":20,"schema":{...},
//!  "members":[["0x<commitment>",[1,7,0,0]],{"leaf":"0x<leaf>","removed_at":2},...],
//!  "checkpoints":[...]}
//! ```
//!
//! `members[i]` is leaf `i`. A removed member becomes a tombstone: the commitment is forgotten,
//! but its leaf value and `removed_at` (the number of checkpoints signed before the removal) are
//! kept, so the root of every checkpoint can be rebuilt from the current file and its removal
//! counts checked; from checkpoint `removed_at` on its leaf is 0. Positions are never reused. Loading validates everything and is fast for millions of members: member
//! entries are decoded without per-member allocation and checked in parallel.

use crate::checkpoint::{verify_chain, ChainError, Checkpoint, CheckpointFields};
use crate::encoding::{decode_hex, deserialize_str_with, encode_hex, hex32, HexError};
use crate::registrar::{RegistrarKey, RegistrarPublicKey};
use crate::schema::{Schema, SchemaError, SchemaJson};
use ark_ff::Zero;
use rand_core::CryptoRngCore;
use rayon::prelude::*;
use serde::de::{SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::fmt;
use std::path::{Path, PathBuf};
use thiserror::Error;
use undersign_core::atomic::write_atomic;
use undersign_core::attributes::Attributes;
use undersign_core::field::{self, FieldError};
use undersign_core::identity::{member_leaf, member_leaves};
use undersign_core::merkle::{MerkleTree, TreeError, MAX_DEPTH, MIN_DEPTH};
use undersign_core::Fr;

/// The `kind` of a registry file.
pub const REGISTRY_KIND: &str = "undersign-registry";

/// One registered member: the commitment handed over by the signer and its four codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// `Poseidon(sk)`; never 0, unique in the registry.
    pub commitment: Fr,
    /// The attribute codes, each 0 or a code of the schema.
    pub attributes: Attributes,
}

impl Member {
    /// The member's leaf, `Poseidon(commitment, attrs)`.
    pub fn leaf(&self) -> Fr {
        member_leaf(self.commitment, &self.attributes)
    }
}

/// What the registry keeps of a removed member: its leaf (not its commitment) and when it was
/// removed, so that older checkpoints' roots can still be rebuilt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tombstone {
    /// The removed member's leaf, `Poseidon(commitment, attrs)`.
    pub leaf: Fr,
    /// How many checkpoints had been signed when it was removed: the leaf is in the roots of
    /// checkpoints `0..removed_at` (those whose size covers it) and 0 from `removed_at` on.
    pub removed_at: u64,
}

/// What is wrong with one member entry.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MemberError {
    /// The commitment is not a canonical field element.
    #[error("commitment: {0}")]
    BadCommitment(#[from] FieldError),
    /// The commitment is 0.
    #[error("commitment is 0")]
    ZeroCommitment,
    /// The commitment is already registered.
    #[error("commitment is already registered as member {first}")]
    DuplicateCommitment {
        /// The index of the earlier member with this commitment.
        first: u64,
    },
    /// A code is neither 0 nor a code of the slot's schema.
    #[error("slot {slot} has code {code}, which the schema does not define")]
    UnknownCode {
        /// The slot.
        slot: usize,
        /// The code.
        code: u16,
    },
}

/// Errors loading, saving or changing a registry.
#[derive(Debug, Error)]
pub enum RegistryError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A registry file is invalid.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: Box<RegistryError>,
    },
    /// The text is not JSON of the registry's shape (missing or unknown field, wrong type,
    /// malformed hex in a checkpoint).
    #[error("invalid registry JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// `version` is not 1.
    #[error("registry: unsupported version {0} (expected 1)")]
    BadVersion(u64),
    /// `kind` is not `undersign-registry`.
    #[error("registry: kind is {0:?}, expected \"{REGISTRY_KIND}\"")]
    BadKind(String),
    /// A checkpoint signs another schema than the registry's.
    #[error("registry: checkpoint {sequence} signs a different schema than the registry's")]
    CheckpointSchema {
        /// The checkpoint's sequence.
        sequence: u64,
    },
    /// `id` is not 64 lowercase hex digits.
    #[error("registry: field id: {0}")]
    BadId(HexError),
    /// `depth` is outside 4..=32.
    #[error("registry: depth {0} is not supported (must be {MIN_DEPTH} to {MAX_DEPTH})")]
    BadDepth(u64),
    /// More members than leaves.
    #[error(
        "registry: {members} members do not fit in a tree of depth {depth} ({capacity} leaves)"
    )]
    TooManyMembers {
        /// The number of member entries.
        members: u64,
        /// The depth.
        depth: u32,
        /// `2^depth`.
        capacity: u64,
    },
    /// The embedded schema is invalid.
    #[error("registry: field schema: {0}")]
    Schema(#[from] SchemaError),
    /// A member entry in the file is invalid.
    #[error("registry: members[{index}]: {source}")]
    Member {
        /// The member's index.
        index: u64,
        /// What is wrong.
        source: MemberError,
    },
    /// The checkpoints do not form a valid chain.
    #[error("registry: checkpoints: {0}")]
    Chain(#[from] ChainError),
    /// A checkpoint covers more positions than the registry has.
    #[error(
        "registry: checkpoint {sequence} has size {size}, but the registry has {members} positions"
    )]
    CheckpointBeyondMembers {
        /// The checkpoint's sequence.
        sequence: u64,
        /// Its size.
        size: u64,
        /// The number of member positions.
        members: u64,
    },
    /// A checkpoint's signed removal counts differ from what the tombstones say.
    #[error(
        "registry: checkpoint {sequence} signs {} removed and {} removed since the previous \
         checkpoint, but the file's removed members give {} and {}",
        signed.0, signed.1, tombstones.0, tombstones.1
    )]
    RemovalCounts {
        /// The checkpoint's sequence.
        sequence: u64,
        /// Its signed `(removed, removed_since_previous)`.
        signed: (u64, u64),
        /// The counts the tombstones give.
        tombstones: (u64, u64),
    },
    /// A tombstone claims a removal after the newest checkpoint's successor.
    #[error(
        "registry: members[{index}] was removed at checkpoint {removed_at}, but the registry \
         has only {checkpoints} checkpoints"
    )]
    RemovedAfterLastCheckpoint {
        /// The removed member's index.
        index: u64,
        /// Its `removed_at`.
        removed_at: u64,
        /// The number of checkpoints.
        checkpoints: u64,
    },
    /// A member cannot be added.
    #[error("cannot add member: {0}")]
    InvalidMember(MemberError),
    /// The tree is full.
    #[error("the registry is full ({capacity} members at depth {depth})")]
    Full {
        /// The depth.
        depth: u32,
        /// `2^depth`.
        capacity: u64,
    },
    /// A member index at or past the number of positions.
    #[error("member index {index} is out of range (the registry has {len} positions)")]
    IndexOutOfRange {
        /// The index given.
        index: u64,
        /// The number of positions.
        len: u64,
    },
    /// The member was already removed.
    #[error("member {0} was already removed")]
    AlreadyRemoved(u64),
    /// A checkpoint signed with a key other than the existing checkpoints' key.
    #[error("the registry's checkpoints are signed by {expected}, not by {found}")]
    KeyMismatch {
        /// The key of the existing checkpoints.
        expected: RegistrarPublicKey,
        /// The key given.
        found: RegistrarPublicKey,
    },
    /// A checkpoint time earlier than the latest checkpoint's.
    #[error("checkpoint time {time} is earlier than the latest checkpoint's time {previous}")]
    TimeBeforePrevious {
        /// The time given.
        time: u64,
        /// The latest checkpoint's time.
        previous: u64,
    },
    /// The tree given for a checkpoint is not the registry's current tree.
    #[error(
        "the tree has {tree} leaves but the registry has {registry} positions (or another depth)"
    )]
    StaleTree {
        /// The tree's number of leaves.
        tree: u64,
        /// The registry's number of positions.
        registry: u64,
    },
    /// Building the tree failed.
    #[error("registry tree: {0}")]
    Tree(#[from] TreeError),
}

/// A registry: its id, tree depth, schema, members and checkpoints.
///
/// Fields are private so that the invariants checked on load (canonical, non-zero, unique
/// commitments; codes from the schema; a valid checkpoint chain) hold after every change.
#[derive(Debug, Clone)]
pub struct Registry {
    id: [u8; 32],
    depth: u32,
    schema: Schema,
    members: Vec<Option<Member>>,
    /// Index → tombstone of every removed member (`members[i]` is `None` exactly there).
    tombstones: BTreeMap<u64, Tombstone>,
    checkpoints: Vec<Checkpoint>,
    /// Commitment → index of every present member.
    index: HashMap<Fr, u64>,
}

impl Registry {
    /// An empty registry.
    pub fn new(schema: Schema, depth: u32, id: [u8; 32]) -> Result<Self, RegistryError> {
        if !(MIN_DEPTH..=MAX_DEPTH).contains(&depth) {
            return Err(RegistryError::BadDepth(u64::from(depth)));
        }
        Ok(Self {
            id,
            depth,
            schema,
            members: Vec::new(),
            tombstones: BTreeMap::new(),
            checkpoints: Vec::new(),
            index: HashMap::new(),
        })
    }

    /// 32 random bytes for a new registry's id.
    pub fn random_id<R: CryptoRngCore + ?Sized>(rng: &mut R) -> [u8; 32] {
        let mut id = [0u8; 32];
        rng.fill_bytes(&mut id);
        id
    }

    /// Reads and validates a registry file.
    pub fn load(path: &Path) -> Result<Self, RegistryError> {
        let bytes = std::fs::read(path).map_err(|source| RegistryError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(&bytes).map_err(|e| RegistryError::File {
            path: path.to_owned(),
            source: Box::new(e),
        })
    }

    /// Parses and validates a registry file's bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Self, RegistryError> {
        let raw: RegistryJson<'_> = match crate::json::from_slice(bytes) {
            Ok(raw) => raw,
            Err(e) => return Err(header_error(bytes).unwrap_or(RegistryError::Json(e))),
        };
        if raw.version != 1 {
            return Err(RegistryError::BadVersion(raw.version));
        }
        if raw.kind != REGISTRY_KIND {
            return Err(RegistryError::BadKind(raw.kind.into_owned()));
        }
        let id = decode_hex::<32>(&raw.id).map_err(RegistryError::BadId)?;
        let depth = match u32::try_from(raw.depth) {
            Ok(d) if (MIN_DEPTH..=MAX_DEPTH).contains(&d) => d,
            _ => return Err(RegistryError::BadDepth(raw.depth)),
        };
        let capacity = 1u64 << depth;
        let members = raw.members.members;
        if members.len() as u64 > capacity {
            return Err(RegistryError::TooManyMembers {
                members: members.len() as u64,
                depth,
                capacity,
            });
        }
        let schema = Schema::from_raw(raw.schema)?;
        let member_error = |index: u64, source| RegistryError::Member { index, source };
        if let Some((index, e)) = raw.members.first_bad {
            return Err(member_error(index, MemberError::BadCommitment(e)));
        }
        let table = schema.code_table();
        let bad = members.par_iter().enumerate().find_map_first(|(i, m)| {
            let m = m.as_ref()?;
            if m.commitment.is_zero() {
                return Some((i, MemberError::ZeroCommitment));
            }
            table
                .check(&m.attributes)
                .map(|(slot, code)| (i, MemberError::UnknownCode { slot, code }))
        });
        if let Some((i, e)) = bad {
            return Err(member_error(i as u64, e));
        }
        let mut index = HashMap::with_capacity(members.len());
        for (i, m) in (0u64..).zip(&members) {
            if let Some(m) = m {
                if let Some(first) = index.insert(m.commitment, i) {
                    return Err(member_error(i, MemberError::DuplicateCommitment { first }));
                }
            }
        }
        let checkpoints = raw.checkpoints;
        if let Some(first) = checkpoints.first() {
            verify_chain(&checkpoints, &first.public_key, &id)?;
        }
        let schema_hash = schema.hash();
        if let Some(cp) = checkpoints.iter().find(|cp| cp.schema != schema_hash) {
            return Err(RegistryError::CheckpointSchema {
                sequence: cp.sequence,
            });
        }
        if let Some(cp) = checkpoints.iter().find(|cp| cp.size > members.len() as u64) {
            return Err(RegistryError::CheckpointBeyondMembers {
                sequence: cp.sequence,
                size: cp.size,
                members: members.len() as u64,
            });
        }
        let tombstones = raw.members.tombstones;
        if let Some((&index, t)) = tombstones
            .iter()
            .find(|(_, t)| t.removed_at > checkpoints.len() as u64)
        {
            return Err(RegistryError::RemovedAfterLastCheckpoint {
                index,
                removed_at: t.removed_at,
                checkpoints: checkpoints.len() as u64,
            });
        }
        // Every checkpoint's removal counts are what the tombstones say (`SPEC.md` §11).
        let mut previous_size = None;
        for cp in &checkpoints {
            let expected = removal_counts(&tombstones, cp.size, previous_size, cp.sequence);
            if expected != (cp.removed, cp.removed_since_previous) {
                return Err(RegistryError::RemovalCounts {
                    sequence: cp.sequence,
                    signed: (cp.removed, cp.removed_since_previous),
                    tombstones: expected,
                });
            }
            previous_size = Some(cp.size);
        }
        Ok(Self {
            id,
            depth,
            schema,
            members,
            tombstones,
            checkpoints,
            index,
        })
    }

    /// The registry file's bytes: compact JSON and a newline.
    pub fn to_json(&self) -> Vec<u8> {
        let out = RegistryOut {
            version: 1,
            kind: REGISTRY_KIND,
            id: &self.id,
            depth: self.depth,
            schema: &self.schema,
            members: MembersOut(&self.members, &self.tombstones),
            checkpoints: &self.checkpoints,
        };
        // Serializing strings, integers and arrays into memory cannot fail.
        let mut bytes = serde_json::to_vec(&out).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Writes the registry file atomically.
    pub fn save(&self, path: &Path) -> Result<(), RegistryError> {
        write_atomic(path, &self.to_json(), false).map_err(|source| RegistryError::Io {
            path: path.to_owned(),
            source,
        })
    }

    /// The registry id.
    pub fn id(&self) -> &[u8; 32] {
        &self.id
    }

    /// The tree depth.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// The schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Every position: a member, or `None` where one was removed.
    pub fn members(&self) -> &[Option<Member>] {
        &self.members
    }

    /// The member at `index`, if present.
    pub fn member(&self, index: u64) -> Option<&Member> {
        self.members.get(usize::try_from(index).ok()?)?.as_ref()
    }

    /// The number of positions used (removed members included): the tree's size.
    pub fn len(&self) -> u64 {
        self.members.len() as u64
    }

    /// Whether no member was ever added.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The number of members not removed.
    pub fn active_count(&self) -> u64 {
        self.index.len() as u64
    }

    /// `2^depth`, the most positions the registry can hold.
    pub fn capacity(&self) -> u64 {
        1u64 << self.depth
    }

    /// The checkpoints, sequence 0 first.
    pub fn checkpoints(&self) -> &[Checkpoint] {
        &self.checkpoints
    }

    /// The newest checkpoint.
    pub fn latest_checkpoint(&self) -> Option<&Checkpoint> {
        self.checkpoints.last()
    }

    /// Checks that a member could be added (without adding it).
    pub fn check_new_member(
        &self,
        commitment: &Fr,
        attributes: &Attributes,
    ) -> Result<(), RegistryError> {
        let invalid = RegistryError::InvalidMember;
        if commitment.is_zero() {
            return Err(invalid(MemberError::ZeroCommitment));
        }
        if let Some(&first) = self.index.get(commitment) {
            return Err(invalid(MemberError::DuplicateCommitment { first }));
        }
        if let Some((slot, code)) = self.schema.check_attributes(attributes) {
            return Err(invalid(MemberError::UnknownCode { slot, code }));
        }
        if self.len() >= self.capacity() {
            return Err(RegistryError::Full {
                depth: self.depth,
                capacity: self.capacity(),
            });
        }
        Ok(())
    }

    /// Adds a member at the next position and returns its index.
    pub fn add(&mut self, commitment: Fr, attributes: Attributes) -> Result<u64, RegistryError> {
        self.check_new_member(&commitment, &attributes)?;
        let index = self.len();
        self.members.push(Some(Member {
            commitment,
            attributes,
        }));
        self.index.insert(commitment, index);
        Ok(index)
    }

    /// Removes the member at `index`: its leaf becomes 0, the commitment is forgotten and the
    /// position is never reused.
    pub fn remove(&mut self, index: u64) -> Result<(), RegistryError> {
        let len = self.len();
        let slot = usize::try_from(index)
            .ok()
            .and_then(|i| self.members.get_mut(i))
            .ok_or(RegistryError::IndexOutOfRange { index, len })?;
        let member = slot.take().ok_or(RegistryError::AlreadyRemoved(index))?;
        self.index.remove(&member.commitment);
        self.tombstones.insert(
            index,
            Tombstone {
                leaf: member.leaf(),
                removed_at: self.checkpoints.len() as u64,
            },
        );
        Ok(())
    }

    /// The index of the member with this commitment, if present.
    pub fn find(&self, commitment: &Fr) -> Option<u64> {
        self.index.get(commitment).copied()
    }

    /// The number of removed positions among the first `size`.
    pub fn removed_below(&self, size: u64) -> u64 {
        self.tombstones.range(..size).count() as u64
    }

    /// The tombstones of removed members, by index.
    pub fn tombstones(&self) -> &BTreeMap<u64, Tombstone> {
        &self.tombstones
    }

    /// The leaves as they were at checkpoint `sequence` (every position the file has; the
    /// checkpoint's root is the root of the first `size` of them): a removed member's leaf is
    /// its tombstone's while `sequence < removed_at`, else 0.
    pub fn leaves_at(&self, sequence: u64) -> Vec<Fr> {
        let mut leaves = self.leaves();
        for (&index, tombstone) in &self.tombstones {
            if sequence < tombstone.removed_at {
                leaves[index as usize] = tombstone.leaf;
            }
        }
        leaves
    }

    /// Every leaf, in order: `Poseidon(commitment, attrs)`, or 0 for a removed member.
    pub fn leaves(&self) -> Vec<Fr> {
        member_leaves(
            self.members
                .iter()
                .map(|m| m.as_ref().map(|m| (m.commitment, &m.attributes))),
        )
    }

    /// The Merkle tree over the current leaves.
    pub fn tree(&self) -> Result<MerkleTree, RegistryError> {
        Ok(MerkleTree::from_leaves(self.depth, self.leaves())?)
    }

    /// Signs a checkpoint of the current registry (size = every position, root = the current
    /// root) and appends it. The key must be the one that signed the earlier checkpoints, and
    /// `time` must not be before the latest checkpoint's.
    pub fn checkpoint(
        &mut self,
        key: &RegistrarKey,
        time: u64,
    ) -> Result<&Checkpoint, RegistryError> {
        let tree = self.tree()?;
        self.checkpoint_with_tree(key, time, &tree)
    }

    /// Like [`Registry::checkpoint`], with a tree the caller already built from
    /// [`Registry::tree`] (checked by its size only).
    pub fn checkpoint_with_tree(
        &mut self,
        key: &RegistrarKey,
        time: u64,
        tree: &MerkleTree,
    ) -> Result<&Checkpoint, RegistryError> {
        let public_key = key.public_key();
        let mut previous = [0u8; 32];
        if let Some(last) = self.checkpoints.last() {
            if last.public_key != public_key {
                return Err(RegistryError::KeyMismatch {
                    expected: last.public_key,
                    found: public_key,
                });
            }
            if time < last.time {
                return Err(RegistryError::TimeBeforePrevious {
                    time,
                    previous: last.time,
                });
            }
            previous = last.hash();
        }
        let size = self.len();
        if tree.len() != size || tree.depth() != self.depth {
            return Err(RegistryError::StaleTree {
                tree: tree.len(),
                registry: size,
            });
        }
        let root = tree.root_at(size)?;
        let sequence = self.checkpoints.len() as u64;
        let (removed, removed_since_previous) = removal_counts(
            &self.tombstones,
            size,
            self.checkpoints.last().map(|last| last.size),
            sequence,
        );
        self.checkpoints.push(Checkpoint::sign(
            key,
            CheckpointFields {
                registry: self.id,
                sequence,
                size,
                removed,
                removed_since_previous,
                root,
                schema: self.schema.hash(),
                time,
                previous,
            },
        ));
        Ok(&self.checkpoints[self.checkpoints.len() - 1])
    }
}

/// The removal counts checkpoint `sequence` of size `size` signs (`SPEC.md` §12), from the
/// tombstones: removed positions below `size` whose removal came before it, and those among
/// them below the previous checkpoint's size removed since that checkpoint (`removed_at =
/// sequence`: they were live in it).
fn removal_counts(
    tombstones: &BTreeMap<u64, Tombstone>,
    size: u64,
    previous_size: Option<u64>,
    sequence: u64,
) -> (u64, u64) {
    let removed = tombstones
        .range(..size)
        .filter(|(_, t)| t.removed_at <= sequence)
        .count() as u64;
    let since = previous_size.map_or(0, |previous| {
        tombstones
            .range(..previous)
            .filter(|(_, t)| t.removed_at == sequence)
            .count() as u64
    });
    (removed, since)
}

/// Whether a checkpoint's root is the root of `tree` at the checkpoint's size.
pub fn checkpoint_root_matches(checkpoint: &Checkpoint, tree: &MerkleTree) -> bool {
    tree.root_at(checkpoint.size)
        .is_ok_and(|root| root == checkpoint.root)
}

/// After a failed parse: a wrong `version` or `kind` explains the failure better.
fn header_error(bytes: &[u8]) -> Option<RegistryError> {
    #[derive(Deserialize)]
    struct Header<'a> {
        version: u64,
        #[serde(borrow)]
        kind: std::borrow::Cow<'a, str>,
    }
    let header: Header<'_> = serde_json::from_slice(bytes).ok()?;
    if header.version != 1 {
        Some(RegistryError::BadVersion(header.version))
    } else if header.kind != REGISTRY_KIND {
        Some(RegistryError::BadKind(header.kind.into_owned()))
    } else {
        None
    }
}

/// The JSON shape of a registry file, before validation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryJson<'a> {
    version: u64,
    #[serde(borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    id: std::borrow::Cow<'a, str>,
    depth: u64,
    #[serde(deserialize_with = "crate::json::object")]
    schema: SchemaJson,
    members: MembersJson,
    #[serde(deserialize_with = "crate::json::objects")]
    checkpoints: Vec<Checkpoint>,
}

/// The decoded `members` array, with the first non-canonical field element (whose entry is
/// kept as `None` so parsing can finish).
struct MembersJson {
    members: Vec<Option<Member>>,
    tombstones: BTreeMap<u64, Tombstone>,
    first_bad: Option<(u64, FieldError)>,
}

impl<'de> Deserialize<'de> for MembersJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = MembersJson;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of members")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MembersJson, A::Error> {
                let mut members = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                let mut first_bad = None;
                let mut tombstones = BTreeMap::new();
                while let Some(entry) = seq.next_element::<MemberEntry>()? {
                    let index = members.len() as u64;
                    let member = match entry {
                        MemberEntry::Active {
                            commitment: Ok(commitment),
                            codes,
                        } => Some(Member {
                            commitment,
                            attributes: Attributes(codes),
                        }),
                        MemberEntry::Removed {
                            leaf: Ok(leaf),
                            removed_at,
                        } => {
                            tombstones.insert(index, Tombstone { leaf, removed_at });
                            None
                        }
                        MemberEntry::Active {
                            commitment: Err(e), ..
                        }
                        | MemberEntry::Removed { leaf: Err(e), .. } => {
                            first_bad.get_or_insert((index, e));
                            None
                        }
                    };
                    members.push(member);
                }
                Ok(MembersJson {
                    members,
                    tombstones,
                    first_bad,
                })
            }
        }
        d.deserialize_seq(MembersVisitor)
    }
}

/// One member entry: `["0x<commitment>", [a0, a1, a2, a3]]`, or a removed member's
/// `{"leaf": "0x<leaf>", "removed_at": k}`.
enum MemberEntry {
    Active {
        commitment: Result<Fr, FieldError>,
        codes: [u16; 4],
    },
    Removed {
        leaf: Result<Fr, FieldError>,
        removed_at: u64,
    },
}

impl<'de> Deserialize<'de> for MemberEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = MemberEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a member: [\"0x<commitment>\", [four codes]], or a removed member: \
                     {\"leaf\": \"0x<leaf>\", \"removed_at\": <checkpoint count>}",
                )
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MemberEntry, A::Error> {
                use serde::de::Error;
                let CommitmentText(commitment) = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(0, &self))?;
                let codes = seq
                    .next_element()?
                    .ok_or_else(|| A::Error::invalid_length(1, &self))?;
                if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(A::Error::invalid_length(3, &self));
                }
                Ok(MemberEntry::Active { commitment, codes })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<MemberEntry, A::Error> {
                use serde::de::Error;
                let mut leaf = None;
                let mut removed_at = None;
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "leaf" if leaf.is_none() => {
                            leaf = Some(map.next_value::<CommitmentText>()?.0);
                        }
                        "removed_at" if removed_at.is_none() => {
                            removed_at = Some(map.next_value::<u64>()?);
                        }
                        "leaf" => return Err(A::Error::duplicate_field("leaf")),
                        "removed_at" => return Err(A::Error::duplicate_field("removed_at")),
                        other => {
                            return Err(A::Error::unknown_field(other, &["leaf", "removed_at"]))
                        }
                    }
                }
                Ok(MemberEntry::Removed {
                    leaf: leaf.ok_or_else(|| A::Error::missing_field("leaf"))?,
                    removed_at: removed_at.ok_or_else(|| A::Error::missing_field("removed_at"))?,
                })
            }
        }
        d.deserialize_any(EntryVisitor)
    }
}

/// A commitment's text, decoded in place; a non-canonical value is kept as its error.
struct CommitmentText(Result<Fr, FieldError>);

impl<'de> Deserialize<'de> for CommitmentText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_str_with(d, "a commitment: 0x and 64 lowercase hex digits", |text| {
            Ok::<_, Infallible>(CommitmentText(field::from_hex(text)))
        })
    }
}

/// The JSON shape written for a registry (field order as in the SPEC).
#[derive(Serialize)]
struct RegistryOut<'a> {
    version: u64,
    kind: &'static str,
    #[serde(with = "hex32")]
    id: &'a [u8; 32],
    depth: u32,
    schema: &'a Schema,
    members: MembersOut<'a>,
    checkpoints: &'a [Checkpoint],
}

/// A removed member as written: `{"leaf":"0x..","removed_at":k}`.
#[derive(Serialize)]
struct TombstoneOut<'a> {
    leaf: FrText<'a>,
    removed_at: u64,
}

/// Writes members as `["0x..",[a0,a1,a2,a3]]`, removed ones as their tombstone.
struct MembersOut<'a>(&'a [Option<Member>], &'a BTreeMap<u64, Tombstone>);

impl Serialize for MembersOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error;
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (index, member) in (0u64..).zip(self.0) {
            match member {
                Some(m) => seq.serialize_element(&(FrText(&m.commitment), m.attributes.0))?,
                None => {
                    let t = self
                        .1
                        .get(&index)
                        .ok_or_else(|| S::Error::custom("a removed member has no tombstone"))?;
                    seq.serialize_element(&TombstoneOut {
                        leaf: FrText(&t.leaf),
                        removed_at: t.removed_at,
                    })?
                }
            }
        }
        seq.end()
    }
}

/// A field element written canonically without allocating.
struct FrText<'a>(&'a Fr);

impl Serialize for FrText<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut text = [0u8; 66];
        text[..2].copy_from_slice(b"0x");
        // 32 bytes always fit in 64 hex digits.
        let _ = hex::encode_to_slice(field::to_bytes_be(self.0), &mut text[2..]);
        s.serialize_str(std::str::from_utf8(&text).unwrap_or_default())
    }
}

/// The hex text of a registry id.
pub fn id_to_hex(id: &[u8; 32]) -> String {
    encode_hex(id)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::registrar::tests::test_key;
    use crate::schema::tests::example;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    pub(crate) fn random_commitment(rng: &mut ChaCha20Rng) -> Fr {
        Fr::from(rng.gen::<u64>()) * Fr::from(rng.gen::<u64>()) + Fr::from(1u64)
    }

    /// A registry of `n` members with codes cycling through the example schema.
    pub(crate) fn sample(n: usize, seed: u64) -> Registry {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let id = Registry::random_id(&mut rng);
        let mut registry = Registry::new(example(), 6, id).unwrap();
        for i in 0..n {
            let attrs = Attributes([(i % 3) as u16, [0, 1, 2, 7][i % 4], 0, 0]);
            registry.add(random_commitment(&mut rng), attrs).unwrap();
        }
        registry
    }

    fn with_checkpoints(n: usize) -> (Registry, RegistrarKey) {
        let key = test_key(20);
        let mut registry = sample(n, 21);
        registry.checkpoint(&key, 1000).unwrap();
        registry
            .add(Fr::from(424242u64), Attributes::default())
            .unwrap();
        registry.remove(1).unwrap();
        registry.checkpoint(&key, 1000).unwrap();
        registry.checkpoint(&key, 2000).unwrap();
        (registry, key)
    }

    fn json_of(registry: &Registry) -> String {
        String::from_utf8(registry.to_json()).unwrap()
    }

    fn load_err(text: &str) -> RegistryError {
        Registry::from_json(text.as_bytes()).unwrap_err()
    }

    #[test]
    fn json_round_trip_and_layout() {
        let (registry, _) = with_checkpoints(5);
        let json = json_of(&registry);
        let expected_start = format!(
            r#"{{"version":1,"kind":"undersign-registry","id":"{}","depth":6,"schema":{{"version":1,"kind":"undersign-schema","slots":"#,
            id_to_hex(registry.id())
        );
        assert!(json.starts_with(&expected_start), "{json}");
        assert!(json.ends_with("]}\n"));
        assert_eq!(json.matches('\n').count(), 1);
        let member0 = registry.member(0).unwrap();
        let removed = registry.tombstones()[&1];
        assert!(json.contains(&format!(
            r#""members":[["{}",[0,0,0,0]],{{"leaf":"{}","removed_at":{}}},"#,
            field::to_hex(&member0.commitment),
            field::to_hex(&removed.leaf),
            removed.removed_at
        )));
        let loaded = Registry::from_json(json.as_bytes()).unwrap();
        assert_eq!(loaded.to_json(), registry.to_json());
        assert_eq!(loaded.members(), registry.members());
        assert_eq!(loaded.checkpoints(), registry.checkpoints());
        assert_eq!(loaded.find(&Fr::from(424242u64)), Some(5));
        assert_eq!(loaded.active_count(), 5);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.json");
        registry.save(&path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), registry.to_json());
        assert_eq!(Registry::load(&path).unwrap().to_json(), registry.to_json());
    }

    #[test]
    fn add_remove_find() {
        let mut registry = sample(3, 1);
        let c = Fr::from(77u64);
        assert_eq!(registry.add(c, Attributes([1, 2, 0, 0])).unwrap(), 3);
        assert_eq!(registry.find(&c), Some(3));
        assert!(matches!(
            registry.add(c, Attributes::default()),
            Err(RegistryError::InvalidMember(
                MemberError::DuplicateCommitment { first: 3 }
            ))
        ));
        assert!(matches!(
            registry.add(Fr::zero(), Attributes::default()),
            Err(RegistryError::InvalidMember(MemberError::ZeroCommitment))
        ));
        assert!(matches!(
            registry.add(Fr::from(78u64), Attributes([0, 3, 0, 0])),
            Err(RegistryError::InvalidMember(MemberError::UnknownCode {
                slot: 1,
                code: 3
            }))
        ));
        assert!(matches!(
            registry.add(Fr::from(78u64), Attributes([0, 0, 1, 0])),
            Err(RegistryError::InvalidMember(MemberError::UnknownCode {
                slot: 2,
                code: 1
            }))
        ));
        registry.remove(3).unwrap();
        assert_eq!(registry.find(&c), None);
        assert_eq!(registry.len(), 4);
        assert_eq!(registry.active_count(), 3);
        assert!(matches!(
            registry.remove(3),
            Err(RegistryError::AlreadyRemoved(3))
        ));
        assert!(matches!(
            registry.remove(4),
            Err(RegistryError::IndexOutOfRange { index: 4, len: 4 })
        ));
        assert!(matches!(
            registry.remove(u64::MAX),
            Err(RegistryError::IndexOutOfRange { .. })
        ));
        // The forgotten commitment may be registered again, at a new position.
        assert_eq!(registry.add(c, Attributes::default()).unwrap(), 4);
    }

    #[test]
    fn capacity_is_enforced() {
        let mut registry = Registry::new(example(), 4, [0; 32]).unwrap();
        for i in 1..=16u64 {
            registry.add(Fr::from(i), Attributes::default()).unwrap();
        }
        assert!(matches!(
            registry.add(Fr::from(17u64), Attributes::default()),
            Err(RegistryError::Full { .. })
        ));
        assert!(matches!(
            Registry::new(example(), 3, [0; 32]),
            Err(RegistryError::BadDepth(3))
        ));
        assert!(matches!(
            Registry::new(example(), 33, [0; 32]),
            Err(RegistryError::BadDepth(33))
        ));
    }

    #[test]
    fn removal_changes_the_root_and_keeps_len() {
        let mut registry = sample(9, 2);
        let before = registry.tree().unwrap();
        let removed = *registry.member(4).unwrap();
        registry.remove(4).unwrap();
        let after = registry.tree().unwrap();
        assert_ne!(before.root(), after.root());
        assert_eq!(after.len(), 9);
        assert_eq!(registry.len(), 9);
        assert_eq!(after.leaves()[4], Fr::zero());
        assert_eq!(before.leaves()[4], removed.leaf());
        assert_eq!(registry.leaves()[3], registry.member(3).unwrap().leaf());
        // The prefix before the removed position is unchanged.
        assert_eq!(before.root_at(4).unwrap(), after.root_at(4).unwrap());
    }

    #[test]
    fn checkpoints_commit_to_roots() {
        let key = test_key(30);
        let mut registry = sample(5, 3);
        let cp0 = registry.checkpoint(&key, 10).unwrap().clone();
        assert_eq!((cp0.sequence, cp0.size, cp0.previous), (0, 5, [0; 32]));
        assert_eq!(cp0.root, registry.tree().unwrap().root());
        registry
            .add(Fr::from(5555u64), Attributes::default())
            .unwrap();
        let cp1 = registry.checkpoint(&key, 11).unwrap().clone();
        assert_eq!((cp1.sequence, cp1.size, cp1.previous), (1, 6, cp0.hash()));
        assert_eq!(registry.latest_checkpoint(), Some(&cp1));
        let tree = registry.tree().unwrap();
        assert!(checkpoint_root_matches(&cp0, &tree));
        assert!(checkpoint_root_matches(&cp1, &tree));
        registry.remove(2).unwrap();
        let tree = registry.tree().unwrap();
        assert!(
            !checkpoint_root_matches(&cp0, &tree),
            "removal changes the root at old sizes"
        );
        let mut far = cp1.clone();
        far.size = 100;
        assert!(!checkpoint_root_matches(&far, &tree));
        verify_chain(registry.checkpoints(), &key.public_key(), registry.id()).unwrap();

        assert!(matches!(
            registry.checkpoint(&test_key(31), 12),
            Err(RegistryError::KeyMismatch { .. })
        ));
        assert!(matches!(
            registry.checkpoint(&key, 10),
            Err(RegistryError::TimeBeforePrevious { .. })
        ));
        assert_eq!(registry.checkpoints().len(), 2);
        let stale = MerkleTree::from_leaves(6, registry.leaves()[..3].to_vec()).unwrap();
        assert!(registry.checkpoint_with_tree(&key, 12, &stale).is_err());
        assert_eq!(registry.checkpoints().len(), 2);
        assert_eq!(registry.checkpoint(&key, 12).unwrap().sequence, 2);
    }

    #[test]
    fn checkpoints_count_removals() {
        let key = test_key(32);
        let mut registry = sample(6, 3);
        let cp0 = registry.checkpoint(&key, 10).unwrap().clone();
        assert_eq!((cp0.removed, cp0.removed_since_previous), (0, 0));
        // Two members live at checkpoint 0 removed; one added and removed before any
        // checkpoint saw it (never live at a signed root); one more added.
        registry.remove(1).unwrap();
        registry.remove(4).unwrap();
        let ghost = registry
            .add(Fr::from(7777u64), Attributes::default())
            .unwrap();
        registry.remove(ghost).unwrap();
        registry
            .add(Fr::from(8888u64), Attributes::default())
            .unwrap();
        let cp1 = registry.checkpoint(&key, 11).unwrap().clone();
        assert_eq!(
            (cp1.size, cp1.removed, cp1.removed_since_previous),
            (8, 3, 2)
        );
        // Nothing changed: nothing removed since.
        let cp2 = registry.checkpoint(&key, 12).unwrap().clone();
        assert_eq!((cp2.removed, cp2.removed_since_previous), (3, 0));
        registry.remove(7).unwrap();
        let cp3 = registry.checkpoint(&key, 13).unwrap().clone();
        assert_eq!((cp3.removed, cp3.removed_since_previous), (4, 1));
        let json = json_of(&registry);
        let loaded = Registry::from_json(json.as_bytes()).unwrap();
        assert_eq!(loaded.tombstones(), registry.tombstones());
        assert_eq!(loaded.to_json(), registry.to_json());
        assert_eq!(
            registry.tombstones()[&1].removed_at,
            1,
            "removed after checkpoint 0"
        );
        assert_eq!(registry.tombstones()[&7].removed_at, 3);

        // Every checkpoint's root is rebuilt from the current file: the tombstones keep the
        // removed leaves for the checkpoints before their removal.
        for cp in registry.checkpoints() {
            let leaves = registry.leaves_at(cp.sequence)[..cp.size as usize].to_vec();
            let tree = MerkleTree::from_leaves(registry.depth(), leaves).unwrap();
            assert_eq!(tree.root(), cp.root, "checkpoint {}", cp.sequence);
        }
        assert_ne!(registry.tree().unwrap().root_at(6).unwrap(), cp0.root);

        // A tombstone dated otherwise, or a removed member silently dropped (its position
        // filled again), contradicts the signed counts: loading refuses it.
        let redated = json.replacen("\"removed_at\":1", "\"removed_at\":2", 1);
        assert_ne!(redated, json);
        assert!(matches!(
            load_err(&redated),
            RegistryError::RemovalCounts { sequence: 1, .. }
        ));
        let mut undone = registry.clone();
        let member = *registry.member(0).unwrap();
        undone.members[1] = Some(Member {
            commitment: Fr::from(9999u64),
            ..member
        });
        undone.tombstones.remove(&1);
        assert!(matches!(
            load_err(&json_of(&undone)),
            RegistryError::RemovalCounts {
                sequence: 1,
                signed: (3, 2),
                tombstones: (2, 1)
            }
        ));
        let future = json.replacen("\"removed_at\":3", "\"removed_at\":5", 1);
        assert!(matches!(
            load_err(&future),
            RegistryError::RemovedAfterLastCheckpoint {
                index: 7,
                removed_at: 5,
                checkpoints: 4
            }
        ));
        // Tombstones are strict: no unknown or missing field, a canonical leaf.
        for bad in [
            json.replacen("\"removed_at\":3", "\"removed_at\":3,\"x\":1", 1),
            json.replacen(",\"removed_at\":3", "", 1),
            json.replacen("\"leaf\":\"0x", "\"leaf\":\"0X", 1),
        ] {
            assert_ne!(bad, json);
            assert!(Registry::from_json(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    /// Replaces the first occurrence of `from` in the registry's JSON.
    fn edit(registry: &Registry, from: &str, to: &str) -> String {
        let json = json_of(registry);
        assert!(json.contains(from), "{from} not in {json}");
        json.replacen(from, to, 1)
    }

    #[test]
    fn validation_rules_reject() {
        let (registry, key) = with_checkpoints(5);
        let json = json_of(&registry);
        assert!(Registry::from_json(json.as_bytes()).is_ok());

        assert!(matches!(
            load_err(&edit(&registry, "\"version\":1", "\"version\":2")),
            RegistryError::BadVersion(2)
        ));
        assert!(matches!(
            load_err(&edit(&registry, "undersign-registry", "undersign-petition")),
            RegistryError::BadKind(_)
        ));
        // A wrong kind is reported as such even when the rest has another shape.
        assert!(matches!(
            load_err(r#"{"version":1,"kind":"undersign-petition","title":"x"}"#),
            RegistryError::BadKind(_)
        ));
        assert!(matches!(
            load_err(&edit(&registry, "\"depth\":6", "\"extra\":0,\"depth\":6")),
            RegistryError::Json(_)
        ));
        assert!(matches!(
            load_err(&edit(&registry, "\"depth\":6,", "")),
            RegistryError::Json(_)
        ));
        assert!(matches!(
            load_err(&edit(&registry, "\"depth\":6", "\"depth\":3")),
            RegistryError::BadDepth(3)
        ));
        assert!(matches!(
            load_err(&edit(&registry, "\"depth\":6", "\"depth\":33")),
            RegistryError::BadDepth(33)
        ));
        let id = id_to_hex(registry.id());
        assert!(matches!(
            load_err(&edit(&registry, &id, &id.to_uppercase())),
            RegistryError::BadId(_)
        ));
        assert!(matches!(
            load_err(&edit(&registry, "\"status\"", "\"Status\"")),
            RegistryError::Schema(_)
        ));

        // Non-canonical commitments.
        let c0 = field::to_hex(&registry.member(0).unwrap().commitment);
        let r = "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001";
        for bad in [
            r.to_owned(),
            c0.to_uppercase().replacen("0X", "0x", 1),
            c0[2..].to_owned(),
            format!("{c0}0"),
        ] {
            let err = load_err(&edit(&registry, &c0, &bad));
            assert!(
                matches!(
                    err,
                    RegistryError::Member {
                        index: 0,
                        source: MemberError::BadCommitment(_)
                    }
                ),
                "{bad}: {err}"
            );
        }
        let zero = field::to_hex(&Fr::zero());
        assert!(matches!(
            load_err(&edit(&registry, &c0, &zero)),
            RegistryError::Member {
                index: 0,
                source: MemberError::ZeroCommitment
            }
        ));
        // Duplicate commitment.
        let c2 = field::to_hex(&registry.member(2).unwrap().commitment);
        assert!(matches!(
            load_err(&edit(&registry, &c2, &c0)),
            RegistryError::Member {
                index: 2,
                source: MemberError::DuplicateCommitment { first: 0 }
            }
        ));
        // Unknown code (member 0 has codes [0,0,0,0]; member 2 has [2,2,0,0]).
        let entry0 = format!("[\"{c0}\",[0,0,0,0]]");
        for (codes, slot, code) in [
            ("[3,0,0,0]", 0, 3),
            ("[0,5,0,0]", 1, 5),
            ("[0,0,0,9]", 3, 9),
        ] {
            let err = load_err(&edit(&registry, &entry0, &format!("[\"{c0}\",{codes}]")));
            assert!(
                matches!(err, RegistryError::Member { index: 0, source: MemberError::UnknownCode { slot: s, code: c } } if s == slot && c == code),
                "{codes}: {err}"
            );
        }
        // Malformed entries.
        for bad in [
            format!("[\"{c0}\",[0,0,0]]"),
            format!("[\"{c0}\",[0,0,0,0,0]]"),
            format!("[\"{c0}\"]"),
            format!("[\"{c0}\",[0,0,0,0],1]"),
            format!("[\"{c0}\",[0,0,0,65536]]"),
            format!("[\"{c0}\",[0,0,0,-1]]"),
            format!("{{\"c\":\"{c0}\"}}"),
            "0".into(),
            "[]".into(),
        ] {
            assert!(
                matches!(
                    load_err(&edit(&registry, &entry0, &bad)),
                    RegistryError::Json(_)
                ),
                "{bad}"
            );
        }
        // Too many members for the depth: 17 members at depth 4.
        let mut big = Registry::new(example(), 5, [1; 32]).unwrap();
        for i in 1..=17u64 {
            big.add(Fr::from(i), Attributes::default()).unwrap();
        }
        let text = edit(&big, "\"depth\":5", "\"depth\":4");
        assert!(matches!(
            load_err(&text),
            RegistryError::TooManyMembers {
                members: 17,
                depth: 4,
                capacity: 16
            }
        ));

        // Checkpoints: a tampered field fails the signature.
        let cp1 = &registry.checkpoints()[1];
        let root1 = field::to_hex(&cp1.root);
        let other_root = field::to_hex(&(cp1.root + Fr::from(1u64)));
        assert!(matches!(
            load_err(&edit(&registry, &root1, &other_root)),
            RegistryError::Chain(ChainError::Signature { sequence: 1 })
        ));
        assert!(matches!(
            load_err(&edit(&registry, "\"time\":2000", "\"time\":2001")),
            RegistryError::Chain(ChainError::Signature { sequence: 2 })
        ));
        // A broken link, a gap and another key, each correctly signed.
        let rebuild = |cps: Vec<Checkpoint>| {
            let mut copy = registry.clone();
            copy.checkpoints = cps;
            json_of(&copy)
        };
        let resign = |c: &Checkpoint, k: &RegistrarKey, previous: [u8; 32]| {
            Checkpoint::sign(
                k,
                CheckpointFields {
                    previous,
                    ..c.fields()
                },
            )
        };
        let cps = registry.checkpoints().to_vec();
        let broken = vec![
            cps[0].clone(),
            cps[1].clone(),
            resign(&cps[2], &key, [3; 32]),
        ];
        assert!(matches!(
            load_err(&rebuild(broken)),
            RegistryError::Chain(ChainError::Previous { sequence: 2, .. })
        ));
        let gap = vec![cps[0].clone(), cps[2].clone()];
        assert!(matches!(
            load_err(&rebuild(gap)),
            RegistryError::Chain(ChainError::Sequence {
                position: 1,
                found: 2
            })
        ));
        let other = test_key(40);
        let mixed = vec![
            cps[0].clone(),
            cps[1].clone(),
            resign(&cps[2], &other, cps[1].hash()),
        ];
        assert!(matches!(
            load_err(&rebuild(mixed)),
            RegistryError::Chain(ChainError::PublicKey { sequence: 2, .. })
        ));
        let foreign = vec![Checkpoint::sign(
            &key,
            CheckpointFields {
                registry: [9; 32],
                sequence: 0,
                size: 5,
                removed: 0,
                removed_since_previous: 0,
                root: cps[0].root,
                schema: cps[0].schema,
                time: 1000,
                previous: [0; 32],
            },
        )];
        assert!(matches!(
            load_err(&rebuild(foreign)),
            RegistryError::Chain(ChainError::Registry { sequence: 0, .. })
        ));
        let beyond = vec![Checkpoint::sign(
            &key,
            CheckpointFields {
                registry: *registry.id(),
                sequence: 0,
                size: 7,
                removed: 0,
                removed_since_previous: 0,
                root: cps[0].root,
                schema: cps[0].schema,
                time: 1000,
                previous: [0; 32],
            },
        )];
        assert!(matches!(
            load_err(&rebuild(beyond)),
            RegistryError::CheckpointBeyondMembers {
                sequence: 0,
                size: 7,
                members: 6
            }
        ));
        let other_schema = vec![Checkpoint::sign(
            &key,
            CheckpointFields {
                registry: *registry.id(),
                sequence: 0,
                size: 5,
                removed: 0,
                removed_since_previous: 0,
                root: cps[0].root,
                schema: [0x77; 32],
                time: 1000,
                previous: [0; 32],
            },
        )];
        assert!(matches!(
            load_err(&rebuild(other_schema)),
            RegistryError::CheckpointSchema { sequence: 0 }
        ));
        assert!(matches!(
            load_err(&edit(&registry, "\"size\":5", "\"size\":5,\"x\":1")),
            RegistryError::Json(_)
        ));
    }

    #[test]
    fn truncated_and_garbage_files_are_errors() {
        let (registry, _) = with_checkpoints(4);
        let json = registry.to_json();
        for cut in (0..json.len() - 1).step_by(7) {
            assert!(Registry::from_json(&json[..cut]).is_err(), "cut at {cut}");
        }
        let mut rng = ChaCha20Rng::seed_from_u64(50);
        for _ in 0..200 {
            let mut bytes = json.clone();
            let i = rng.gen_range(0..bytes.len());
            bytes[i] = rng.gen();
            let _ = Registry::from_json(&bytes); // must not panic
        }
        for garbage in [
            &b""[..],
            b"\0\0\0",
            b"[1,2,3]",
            b"{}",
            b"\xef\xbb\xbf{",
            b"nul",
        ] {
            assert!(Registry::from_json(garbage).is_err());
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.json");
        std::fs::write(&path, &json[..json.len() / 2]).unwrap();
        let err = Registry::load(&path).unwrap_err();
        assert!(err.to_string().contains("broken.json"), "{err}");
        assert!(matches!(
            Registry::load(&dir.path().join("none.json")),
            Err(RegistryError::Io { .. })
        ));
    }

    /// A large registry survives the trip through its file format: every position, the
    /// removed one included. (Its speed is measured by `cargo bench --bench core --
    /// registry`, not here.)
    #[test]
    fn a_large_registry_round_trips() {
        let mut registry = Registry::new(example(), 20, [5; 32]).unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(60);
        for i in 0..100_000u64 {
            let c = Fr::from(rng.gen::<u64>()) * Fr::from(rng.gen::<u64>()) + Fr::from(i + 1);
            registry.members.push(Some(Member {
                commitment: c,
                attributes: Attributes([1, 7, 0, 0]),
            }));
        }
        registry.remove(7).unwrap();
        let loaded = Registry::from_json(&registry.to_json()).unwrap();
        assert_eq!(loaded.tombstones(), registry.tombstones());
        assert_eq!(loaded.len(), 100_000);
        assert_eq!(loaded.active_count(), 100_000 - 1);
        assert_eq!(loaded.members(), registry.members());
    }
}
