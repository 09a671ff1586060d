//! The attribute schema (`SPEC.md` §11): names of the four attribute slots and labels of
//! their codes.
//!
//! ```json
//! { "version": 1, "kind": "undersign-schema",
//!   "slots": [ { "name": "status", "labels": { "current": 1, "former": 2 } } ] }
//! ```
//!
//! At most 4 slots; slot `i` is the `i`-th entry. Names are non-empty, unique and made of
//! `a-z 0-9 _ -`. Codes are `1..=65535` (0 means unset) and unique within a slot; labels are
//! non-empty and unique within a slot (a repeated JSON key is an error, not an overwrite).
//! Labels are written sorted by their UTF-8 bytes.

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use thiserror::Error;
use undersign_core::atomic::write_atomic;
use undersign_core::attributes::{Attributes, SLOTS};

/// The `kind` of a schema file.
pub const SCHEMA_KIND: &str = "undersign-schema";

/// Errors reading, validating or using a schema.
#[derive(Debug, Error)]
pub enum SchemaError {
    /// A schema file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A schema file is invalid.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: Box<SchemaError>,
    },
    /// The text is not JSON of the schema's shape (missing or unknown field, wrong type).
    #[error("invalid schema JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// `version` is not 1.
    #[error("schema: unsupported version {0} (expected 1)")]
    BadVersion(u64),
    /// `kind` is not `undersign-schema`.
    #[error("schema: kind is {0:?}, expected \"{SCHEMA_KIND}\"")]
    BadKind(String),
    /// More than four slots.
    #[error("schema: {0} slots given, at most {SLOTS} are allowed")]
    TooManySlots(usize),
    /// A slot name is empty or has a character outside `a-z 0-9 _ -`.
    #[error("schema: slot {slot} name {name:?} must be non-empty and made of a-z, 0-9, _ and -")]
    BadSlotName {
        /// The slot index.
        slot: usize,
        /// The offending name.
        name: String,
    },
    /// Two slots share a name.
    #[error("schema: slot name {name:?} is used by slots {first} and {second}")]
    DuplicateSlotName {
        /// The repeated name.
        name: String,
        /// The first slot with it.
        first: usize,
        /// The second slot with it.
        second: usize,
    },
    /// A label is the empty string.
    #[error("schema: slot {slot:?} has an empty label")]
    EmptyLabel {
        /// The slot name.
        slot: String,
    },
    /// A label appears twice in one slot (a repeated JSON key).
    #[error("schema: slot {slot:?} has the label {label:?} twice")]
    DuplicateLabel {
        /// The slot name.
        slot: String,
        /// The repeated label.
        label: String,
    },
    /// A code is 0 or above 65535.
    #[error("schema: slot {slot:?} label {label:?} has code {code}, which is not in 1..=65535")]
    CodeOutOfRange {
        /// The slot name.
        slot: String,
        /// The label.
        label: String,
        /// The offending code.
        code: u64,
    },
    /// Two labels of one slot share a code.
    #[error("schema: slot {slot:?} gives code {code} to both {first:?} and {second:?}")]
    DuplicateCode {
        /// The slot name.
        slot: String,
        /// The shared code.
        code: u16,
        /// One label with it.
        first: String,
        /// The other label with it.
        second: String,
    },
    /// A slot name or index that the schema does not define.
    #[error("unknown slot {0:?} (the schema defines: {1})")]
    UnknownSlot(String, String),
    /// A value that is neither a label nor a code of the slot.
    #[error("slot {slot:?} has no label or code {value:?} (its labels: {labels})")]
    UnknownValue {
        /// The slot name.
        slot: String,
        /// The value given.
        value: String,
        /// The slot's labels with their codes, e.g. `current (1), former (2)`.
        labels: String,
    },
    /// An assignment is not of the form `slot=value`.
    #[error("expected slot=value, got {0:?}")]
    BadAssignment(String),
    /// The same slot is named twice.
    #[error("slot {0:?} is given more than once")]
    DuplicateSlot(String),
}

/// One attribute slot: its name and the labels of its codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotSchema {
    /// The slot name (`a-z 0-9 _ -`).
    pub name: String,
    /// Label → code (`1..=65535`).
    pub labels: BTreeMap<String, u16>,
}

/// A validated schema: up to four slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    slots: Vec<SlotSchema>,
}

/// The JSON shape of a schema, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SchemaJson {
    version: u64,
    kind: String,
    #[serde(deserialize_with = "crate::json::objects")]
    slots: Vec<SlotJson>,
}

/// The JSON shape of a slot, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlotJson {
    name: String,
    labels: LabelsJson,
}

/// A JSON object of labels, in file order, keeping repeated keys so they can be rejected.
#[derive(Debug)]
struct LabelsJson(Vec<(String, u64)>);

impl<'de> Deserialize<'de> for LabelsJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LabelsVisitor;
        impl<'de> Visitor<'de> for LabelsVisitor {
            type Value = LabelsJson;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object mapping labels to codes")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LabelsJson, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, u64>()? {
                    entries.push(entry);
                }
                Ok(LabelsJson(entries))
            }
        }
        deserializer.deserialize_map(LabelsVisitor)
    }
}

/// The JSON shape written for a schema (field order as in the SPEC).
#[derive(Serialize)]
struct SchemaOut<'a> {
    version: u64,
    kind: &'static str,
    slots: &'a [SlotSchema],
}

impl Serialize for Schema {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        SchemaOut {
            version: 1,
            kind: SCHEMA_KIND,
            slots: &self.slots,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Schema {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw: SchemaJson = crate::json::object(d)?;
        Schema::from_raw(raw).map_err(serde::de::Error::custom)
    }
}

/// Whether `name` is a valid slot name.
fn valid_slot_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

impl Schema {
    /// Validates and builds a schema from its slots.
    pub fn new(slots: Vec<SlotSchema>) -> Result<Self, SchemaError> {
        if slots.len() > SLOTS {
            return Err(SchemaError::TooManySlots(slots.len()));
        }
        for (i, slot) in slots.iter().enumerate() {
            if !valid_slot_name(&slot.name) {
                return Err(SchemaError::BadSlotName {
                    slot: i,
                    name: slot.name.clone(),
                });
            }
            if let Some(first) = slots[..i].iter().position(|s| s.name == slot.name) {
                return Err(SchemaError::DuplicateSlotName {
                    name: slot.name.clone(),
                    first,
                    second: i,
                });
            }
            let mut by_code: BTreeMap<u16, &str> = BTreeMap::new();
            for (label, &code) in &slot.labels {
                if label.is_empty() {
                    return Err(SchemaError::EmptyLabel {
                        slot: slot.name.clone(),
                    });
                }
                if code == 0 {
                    return Err(SchemaError::CodeOutOfRange {
                        slot: slot.name.clone(),
                        label: label.clone(),
                        code: 0,
                    });
                }
                if let Some(first) = by_code.insert(code, label) {
                    return Err(SchemaError::DuplicateCode {
                        slot: slot.name.clone(),
                        code,
                        first: first.to_owned(),
                        second: label.clone(),
                    });
                }
            }
        }
        Ok(Self { slots })
    }

    /// Validates the JSON shape of a schema.
    pub(crate) fn from_raw(raw: SchemaJson) -> Result<Self, SchemaError> {
        if raw.version != 1 {
            return Err(SchemaError::BadVersion(raw.version));
        }
        if raw.kind != SCHEMA_KIND {
            return Err(SchemaError::BadKind(raw.kind));
        }
        if raw.slots.len() > SLOTS {
            return Err(SchemaError::TooManySlots(raw.slots.len()));
        }
        let mut slots = Vec::with_capacity(raw.slots.len());
        for slot in raw.slots {
            let mut labels = BTreeMap::new();
            for (label, code) in slot.labels.0 {
                let code = match u16::try_from(code) {
                    Ok(code) if code != 0 => code,
                    _ => {
                        return Err(SchemaError::CodeOutOfRange {
                            slot: slot.name,
                            label,
                            code,
                        });
                    }
                };
                if labels.contains_key(&label) {
                    return Err(SchemaError::DuplicateLabel {
                        slot: slot.name,
                        label,
                    });
                }
                labels.insert(label, code);
            }
            slots.push(SlotSchema {
                name: slot.name,
                labels,
            });
        }
        Self::new(slots)
    }

    /// Parses and validates a schema file's bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Self, SchemaError> {
        let raw: SchemaJson = crate::json::from_slice(bytes)?;
        Self::from_raw(raw)
    }

    /// The schema as pretty-printed JSON (no trailing newline).
    pub fn to_json_pretty(&self) -> String {
        // Serializing strings and integers into a String cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The canonical bytes of the schema: compact JSON, labels sorted (`SPEC.md` §11).
    pub fn canonical_json(&self) -> Vec<u8> {
        // Serializing strings and integers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// blake3 of [`Schema::canonical_json`]; every checkpoint signs it.
    pub fn hash(&self) -> [u8; 32] {
        *blake3::hash(&self.canonical_json()).as_bytes()
    }

    /// Reads and validates a schema file.
    pub fn load(path: &Path) -> Result<Self, SchemaError> {
        let bytes = std::fs::read(path).map_err(|source| SchemaError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(&bytes).map_err(|e| SchemaError::File {
            path: path.to_owned(),
            source: Box::new(e),
        })
    }

    /// Writes the schema pretty-printed, with a trailing newline, atomically.
    pub fn save(&self, path: &Path) -> Result<(), SchemaError> {
        let mut text = self.to_json_pretty();
        text.push('\n');
        write_atomic(path, text.as_bytes(), false).map_err(|source| SchemaError::Io {
            path: path.to_owned(),
            source,
        })
    }

    /// The slots, slot 0 first.
    pub fn slots(&self) -> &[SlotSchema] {
        &self.slots
    }

    /// The index of the slot called `name`.
    pub fn slot_index(&self, name: &str) -> Option<usize> {
        self.slots.iter().position(|s| s.name == name)
    }

    /// The label of `code` in `slot`, if the schema defines it.
    pub fn label(&self, slot: usize, code: u16) -> Option<&str> {
        let slot = self.slots.get(slot)?;
        slot.labels
            .iter()
            .find(|(_, &c)| c == code)
            .map(|(label, _)| label.as_str())
    }

    /// The code of `label` in `slot`, if the schema defines it.
    pub fn code(&self, slot: usize, label: &str) -> Option<u16> {
        self.slots.get(slot)?.labels.get(label).copied()
    }

    /// Whether `code` may be stored in `slot`: 0 (unset) or a code of the slot's schema.
    pub fn allows(&self, slot: usize, code: u16) -> bool {
        code == 0
            || self
                .slots
                .get(slot)
                .is_some_and(|s| s.labels.values().any(|&c| c == code))
    }

    /// The first slot of `attributes` whose code the schema does not allow, with that code.
    pub fn check_attributes(&self, attributes: &Attributes) -> Option<(usize, u16)> {
        (0..SLOTS)
            .map(|i| (i, attributes.0[i]))
            .find(|&(i, code)| !self.allows(i, code))
    }

    /// A fast membership table of every allowed code, for validating many members.
    pub(crate) fn code_table(&self) -> CodeTable {
        let mut bits = vec![0u64; SLOTS * 1024];
        for slot in 0..SLOTS {
            bits[slot * 1024] |= 1; // code 0 is always allowed
        }
        for (slot, schema) in self.slots.iter().enumerate() {
            for &code in schema.labels.values() {
                bits[slot * 1024 + usize::from(code) / 64] |= 1 << (code % 64);
            }
        }
        CodeTable { bits }
    }

    /// Resolves a slot given by name or by decimal index.
    pub fn resolve_slot(&self, text: &str) -> Result<usize, SchemaError> {
        if let Some(index) = self.slot_index(text) {
            return Ok(index);
        }
        match text.parse::<usize>() {
            Ok(index) if index < self.slots.len() && is_plain_decimal(text) => Ok(index),
            _ => Err(SchemaError::UnknownSlot(text.to_owned(), self.slot_names())),
        }
    }

    /// The labels of `slot` with their codes, by code: `current (1), former (2)`, or `none`.
    fn label_list(&self, slot: usize) -> String {
        let Some(schema) = self.slots.get(slot) else {
            return "none".to_owned();
        };
        let mut labels: Vec<(&u16, &String)> = schema.labels.iter().map(|(l, c)| (c, l)).collect();
        labels.sort();
        if labels.is_empty() {
            return "none".to_owned();
        }
        labels
            .iter()
            .map(|(code, label)| format!("{label} ({code})"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Resolves a value of `slot` given as a label or as a decimal code the slot defines. A
    /// label wins over a code, so a label that looks like a number keeps its meaning.
    pub fn resolve_value(&self, slot: usize, text: &str) -> Result<u16, SchemaError> {
        if let Some(code) = self.code(slot, text) {
            return Ok(code);
        }
        let name = self
            .slots
            .get(slot)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| slot.to_string());
        match text.parse::<u16>() {
            Ok(code) if code != 0 && is_plain_decimal(text) && self.allows(slot, code) => Ok(code),
            _ => Err(SchemaError::UnknownValue {
                slot: name,
                value: text.to_owned(),
                labels: self.label_list(slot),
            }),
        }
    }

    /// Parses `slot=value` (slot by name or index; value a label or a defined code).
    pub fn parse_assignment(&self, text: &str) -> Result<(usize, u16), SchemaError> {
        let (slot, value) = text
            .split_once('=')
            .ok_or_else(|| SchemaError::BadAssignment(text.to_owned()))?;
        let slot = self.resolve_slot(slot.trim())?;
        Ok((slot, self.resolve_value(slot, value.trim())?))
    }

    /// Parses a comma-separated list of slots (names or indices) into sorted slot indices. An
    /// empty or blank list gives no slots; a repeated slot is an error.
    pub fn parse_slots(&self, text: &str) -> Result<Vec<usize>, SchemaError> {
        if text.trim().is_empty() {
            return Ok(Vec::new());
        }
        let mut slots = Vec::new();
        for item in text.split(',') {
            let slot = self.resolve_slot(item.trim())?;
            if slots.contains(&slot) {
                return Err(SchemaError::DuplicateSlot(item.trim().to_owned()));
            }
            slots.push(slot);
        }
        slots.sort_unstable();
        Ok(slots)
    }

    /// Builds a member's codes from `slot=value` assignments; unassigned slots are 0.
    pub fn attributes_from_assignments(
        &self,
        assignments: &[String],
    ) -> Result<Attributes, SchemaError> {
        let mut codes = [0u16; SLOTS];
        let mut seen = [false; SLOTS];
        for text in assignments {
            let (slot, code) = self.parse_assignment(text)?;
            if std::mem::replace(&mut seen[slot], true) {
                return Err(SchemaError::DuplicateSlot(self.slots[slot].name.clone()));
            }
            codes[slot] = code;
        }
        Ok(Attributes(codes))
    }

    /// The slot names, comma-separated (for error messages).
    fn slot_names(&self) -> String {
        if self.slots.is_empty() {
            return "no slots".to_owned();
        }
        self.slots
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Whether `text` is a decimal number without sign, spaces or leading zeros.
fn is_plain_decimal(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'))
}

/// A bitset of allowed codes per slot (4 × 65536 bits).
pub(crate) struct CodeTable {
    bits: Vec<u64>,
}

impl CodeTable {
    /// The first slot whose code is not allowed, with that code.
    pub(crate) fn check(&self, attributes: &Attributes) -> Option<(usize, u16)> {
        attributes.0.iter().enumerate().find_map(|(slot, &code)| {
            let word = self.bits[slot * 1024 + usize::from(code) / 64];
            (word >> (code % 64) & 1 == 0).then_some((slot, code))
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const EXAMPLE: &str = r#"{
  "version": 1,
  "kind": "undersign-schema",
  "slots": [
    { "name": "status", "labels": { "current": 1, "former": 2 } },
    { "name": "ministry", "labels": { "health": 1, "justice": 2, "interior": 7 } }
  ]
}"#;

    pub(crate) fn example() -> Schema {
        Schema::from_json(EXAMPLE.as_bytes()).unwrap()
    }

    fn with_slots(slots: &str) -> String {
        format!(r#"{{"version":1,"kind":"undersign-schema","slots":[{slots}]}}"#)
    }

    #[test]
    fn parses_and_round_trips() {
        let schema = example();
        assert_eq!(schema.slots().len(), 2);
        assert_eq!(schema.slot_index("ministry"), Some(1));
        assert_eq!(schema.code(1, "interior"), Some(7));
        assert_eq!(schema.label(0, 2), Some("former"));
        assert_eq!(schema.label(0, 3), None);
        assert_eq!(schema.label(3, 1), None);
        let pretty = schema.to_json_pretty();
        assert!(pretty.starts_with("{\n  \"version\": 1,\n  \"kind\": \"undersign-schema\""));
        assert_eq!(Schema::from_json(pretty.as_bytes()).unwrap(), schema);
        let compact = serde_json::to_string(&schema).unwrap();
        assert_eq!(
            compact,
            r#"{"version":1,"kind":"undersign-schema","slots":[{"name":"status","labels":{"current":1,"former":2}},{"name":"ministry","labels":{"health":1,"interior":7,"justice":2}}]}"#
        );
    }

    #[test]
    fn validation_rules_reject() {
        let bad = |json: String| Schema::from_json(json.as_bytes()).unwrap_err();
        let ok_slot = r#"{"name":"a","labels":{"x":1}}"#;
        assert!(matches!(
            bad(EXAMPLE.replace("\"version\": 1", "\"version\": 2")),
            SchemaError::BadVersion(2)
        ));
        assert!(matches!(
            bad(EXAMPLE.replace("undersign-schema", "undersign-registry")),
            SchemaError::BadKind(_)
        ));
        assert!(matches!(
            bad(EXAMPLE.replace("\"slots\"", "\"extra\": 1, \"slots\"")),
            SchemaError::Json(_)
        ));
        assert!(matches!(
            bad(EXAMPLE.replace("\"kind\": \"undersign-schema\",", "")),
            SchemaError::Json(_)
        ));
        let five = (0..5)
            .map(|i| format!(r#"{{"name":"s{i}","labels":{{}}}}"#))
            .collect::<Vec<_>>();
        assert!(matches!(
            bad(with_slots(&five.join(","))),
            SchemaError::TooManySlots(5)
        ));
        for name in ["", "Status", "a b", "é", "x.y"] {
            let slot = format!(r#"{{"name":"{name}","labels":{{}}}}"#);
            assert!(
                matches!(bad(with_slots(&slot)), SchemaError::BadSlotName { .. }),
                "{name}"
            );
        }
        assert!(matches!(
            bad(with_slots(&format!("{ok_slot},{ok_slot}"))),
            SchemaError::DuplicateSlotName {
                first: 0,
                second: 1,
                ..
            }
        ));
        assert!(matches!(
            bad(with_slots(r#"{"name":"a","labels":{"x":1,"x":2}}"#)),
            SchemaError::DuplicateLabel { .. }
        ));
        assert!(matches!(
            bad(with_slots(r#"{"name":"a","labels":{"x":1,"y":1}}"#)),
            SchemaError::DuplicateCode { code: 1, .. }
        ));
        assert!(matches!(
            bad(with_slots(r#"{"name":"a","labels":{"":1}}"#)),
            SchemaError::EmptyLabel { .. }
        ));
        for code in ["0", "65536", "99999999999"] {
            let slot = format!(r#"{{"name":"a","labels":{{"x":{code}}}}}"#);
            assert!(
                matches!(bad(with_slots(&slot)), SchemaError::CodeOutOfRange { .. }),
                "{code}"
            );
        }
        for code in ["-1", "1.5", "\"1\""] {
            let slot = format!(r#"{{"name":"a","labels":{{"x":{code}}}}}"#);
            assert!(
                matches!(bad(with_slots(&slot)), SchemaError::Json(_)),
                "{code}"
            );
        }
        // Valid edge cases: no slots, a slot without labels, the largest code, 4 slots.
        assert!(Schema::from_json(with_slots("").as_bytes())
            .unwrap()
            .slots()
            .is_empty());
        assert!(Schema::from_json(
            with_slots(r#"{"name":"a_-9","labels":{"x":65535}}"#).as_bytes()
        )
        .is_ok());
        let four = (0..4)
            .map(|i| format!(r#"{{"name":"s{i}","labels":{{}}}}"#))
            .collect::<Vec<_>>();
        assert_eq!(
            Schema::from_json(with_slots(&four.join(",")).as_bytes())
                .unwrap()
                .slots()
                .len(),
            4
        );
        // The constructor applies the same rules.
        let slot = SlotSchema {
            name: "a".into(),
            labels: BTreeMap::from([("x".into(), 0)]),
        };
        assert!(matches!(
            Schema::new(vec![slot]),
            Err(SchemaError::CodeOutOfRange { .. })
        ));
    }

    #[test]
    fn garbage_is_an_error() {
        for bytes in [
            &b""[..],
            b"{",
            b"null",
            b"[]",
            b"\xff\xfe",
            &EXAMPLE.as_bytes()[..40],
        ] {
            assert!(Schema::from_json(bytes).is_err());
        }
    }

    #[test]
    fn assignments_and_slot_lists() {
        let schema = example();
        assert_eq!(schema.parse_assignment("status=current").unwrap(), (0, 1));
        assert_eq!(schema.parse_assignment("ministry=7").unwrap(), (1, 7));
        assert_eq!(schema.parse_assignment("1=justice").unwrap(), (1, 2));
        assert!(matches!(
            schema.parse_assignment("ministry=3"),
            Err(SchemaError::UnknownValue { .. })
        ));
        assert!(matches!(
            schema.parse_assignment("ministry=0"),
            Err(SchemaError::UnknownValue { .. })
        ));
        assert!(matches!(
            schema.parse_assignment("ministry=07"),
            Err(SchemaError::UnknownValue { .. })
        ));
        let err = schema.parse_assignment("ministry=Health").unwrap_err();
        assert!(matches!(err, SchemaError::UnknownValue { .. }));
        // The message lists what the slot does have, by code.
        assert_eq!(
            err.to_string(),
            "slot \"ministry\" has no label or code \"Health\" (its labels: health (1), \
             justice (2), interior (7))"
        );
        assert!(matches!(
            schema.parse_assignment("grade=1"),
            Err(SchemaError::UnknownSlot(..))
        ));
        assert!(matches!(
            schema.parse_assignment("2=1"),
            Err(SchemaError::UnknownSlot(..))
        ));
        assert!(matches!(
            schema.parse_assignment("status"),
            Err(SchemaError::BadAssignment(_))
        ));

        let attrs = schema
            .attributes_from_assignments(&["ministry=interior".into(), "status=2".into()])
            .unwrap();
        assert_eq!(attrs, Attributes([2, 7, 0, 0]));
        assert_eq!(
            schema.attributes_from_assignments(&[]).unwrap(),
            Attributes::default()
        );
        assert!(matches!(
            schema.attributes_from_assignments(&["status=1".into(), "0=former".into()]),
            Err(SchemaError::DuplicateSlot(_))
        ));

        assert_eq!(schema.parse_slots("ministry, status").unwrap(), vec![0, 1]);
        assert_eq!(schema.parse_slots("1").unwrap(), vec![1]);
        assert_eq!(schema.parse_slots("").unwrap(), Vec::<usize>::new());
        assert!(matches!(
            schema.parse_slots("status,0"),
            Err(SchemaError::DuplicateSlot(_))
        ));
        assert!(matches!(
            schema.parse_slots("status,,ministry"),
            Err(SchemaError::UnknownSlot(..))
        ));
        assert!(matches!(
            schema.parse_slots("grade"),
            Err(SchemaError::UnknownSlot(..))
        ));
    }

    #[test]
    fn numeric_labels_win_over_codes() {
        let json = with_slots(r#"{"name":"grade","labels":{"1":2,"2":1}}"#);
        let schema = Schema::from_json(json.as_bytes()).unwrap();
        assert_eq!(schema.parse_assignment("grade=1").unwrap(), (0, 2));
        assert_eq!(schema.parse_assignment("grade=2").unwrap(), (0, 1));
    }

    #[test]
    fn code_table_matches_allows() {
        let schema = example();
        let table = schema.code_table();
        for attrs in [
            [0, 0, 0, 0],
            [1, 7, 0, 0],
            [2, 2, 0, 0],
            [3, 0, 0, 0],
            [0, 0, 1, 0],
            [1, 65535, 0, 0],
        ] {
            let attrs = Attributes(attrs);
            assert_eq!(
                table.check(&attrs),
                schema.check_attributes(&attrs),
                "{attrs:?}"
            );
        }
        assert_eq!(table.check(&Attributes([1, 3, 0, 0])), Some((1, 3)));
    }

    #[test]
    fn load_and_save() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("schema.json");
        example().save(&path).unwrap();
        assert_eq!(Schema::load(&path).unwrap(), example());
        std::fs::write(&path, "{").unwrap();
        let err = Schema::load(&path).unwrap_err().to_string();
        assert!(err.contains("schema.json"), "{err}");
        assert!(matches!(
            Schema::load(&dir.path().join("missing")),
            Err(SchemaError::Io { .. })
        ));
    }
}
