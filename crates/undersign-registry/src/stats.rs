//! Registry statistics: how many members are active or removed, and how many active members
//! hold each code of each slot. Only counts are shown; no member is identified.

use crate::registry::Registry;
use serde::Serialize;
use std::fmt;

/// The `kind` of the statistics JSON.
pub const STATS_KIND: &str = "undersign-registry-stats";

/// The label shown for code 0.
pub const UNSET_LABEL: &str = "unset";

/// Counts over a registry's members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    /// Leaf positions used (active plus removed).
    pub positions: u64,
    /// Members not removed.
    pub active: u64,
    /// Removed members.
    pub removed: u64,
    /// One entry per schema slot.
    pub slots: Vec<SlotStats>,
}

/// Counts of the codes of one slot among active members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotStats {
    /// The slot index.
    pub slot: usize,
    /// The slot name.
    pub name: String,
    /// Code 0 ("unset") first, then every code of the schema in increasing order.
    pub codes: Vec<CodeCount>,
}

/// How many active members hold one code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeCount {
    /// The code.
    pub code: u16,
    /// Its label, or "unset" for 0.
    pub label: String,
    /// The number of active members with this code.
    pub count: u64,
}

/// The JSON shape of statistics (with `version` and `kind`, like every file).
#[derive(Serialize)]
struct StatsOut<'a> {
    version: u64,
    kind: &'static str,
    positions: u64,
    active: u64,
    removed: u64,
    slots: &'a [SlotStats],
}

impl Serialize for Stats {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        StatsOut {
            version: 1,
            kind: STATS_KIND,
            positions: self.positions,
            active: self.active,
            removed: self.removed,
            slots: &self.slots,
        }
        .serialize(s)
    }
}

impl Stats {
    /// Counts the registry's members.
    pub fn of(registry: &Registry) -> Self {
        let schema = registry.schema();
        let slot_count = schema.slots().len();
        let mut counts = vec![vec![0u64; 1 << 16]; slot_count];
        let mut active = 0u64;
        for member in registry.members().iter().flatten() {
            active += 1;
            for (slot, counts) in counts.iter_mut().enumerate() {
                counts[usize::from(member.attributes.0[slot])] += 1;
            }
        }
        let slots = schema
            .slots()
            .iter()
            .zip(&counts)
            .enumerate()
            .map(|(slot, (slot_schema, counts))| {
                let mut codes: Vec<u16> = slot_schema.labels.values().copied().collect();
                codes.sort_unstable();
                let codes = std::iter::once(0)
                    .chain(codes)
                    .map(|code| CodeCount {
                        code,
                        label: schema.label(slot, code).unwrap_or(UNSET_LABEL).to_owned(),
                        count: counts[usize::from(code)],
                    })
                    .collect();
                SlotStats {
                    slot,
                    name: slot_schema.name.clone(),
                    codes,
                }
            })
            .collect();
        Self {
            positions: registry.len(),
            active,
            removed: registry.len() - active,
            slots,
        }
    }

    /// The statistics as pretty-printed JSON (no trailing newline).
    pub fn to_json_pretty(&self) -> String {
        // Serializing strings and integers into a String cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "members: {} active, {} removed ({} positions)",
            self.active, self.removed, self.positions
        )?;
        for slot in &self.slots {
            let label_width = slot
                .codes
                .iter()
                .map(|c| c.label.chars().count())
                .max()
                .unwrap_or(0)
                .max(5);
            writeln!(f)?;
            writeln!(f, "slot {}: {}", slot.slot, slot.name)?;
            writeln!(
                f,
                "  {:>5}  {:<label_width$}  {:>9}",
                "code", "label", "members"
            )?;
            for c in &slot.codes {
                writeln!(
                    f,
                    "  {:>5}  {:<label_width$}  {:>9}",
                    c.code, c.label, c.count
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::tests::sample;

    #[test]
    fn counts_active_members_per_code() {
        // Members i = 0..8: slot 0 code i % 3, slot 1 code [0,1,2,7][i % 4].
        let mut registry = sample(8, 1);
        registry.remove(0).unwrap(); // codes [0, 0]
        registry.remove(5).unwrap(); // codes [2, 1]
        let stats = Stats::of(&registry);
        assert_eq!((stats.positions, stats.active, stats.removed), (8, 6, 2));
        let counts = |slot: usize| -> Vec<(u16, &str, u64)> {
            stats.slots[slot]
                .codes
                .iter()
                .map(|c| (c.code, c.label.as_str(), c.count))
                .collect()
        };
        // Active i: 1,2,3,4,6,7 → slot 0: 1,2,0,1,0,1 → unset 2, current 3, former 1.
        assert_eq!(
            counts(0),
            vec![(0, "unset", 2), (1, "current", 3), (2, "former", 1)]
        );
        // slot 1: 1,2,7,0,2,7 → unset 1, health 1, justice 2, interior 2.
        assert_eq!(
            counts(1),
            vec![
                (0, "unset", 1),
                (1, "health", 1),
                (2, "justice", 2),
                (7, "interior", 2)
            ]
        );
        let total: u64 = stats.slots[1].codes.iter().map(|c| c.count).sum();
        assert_eq!(total, stats.active);
    }

    #[test]
    fn json_and_table() {
        let stats = Stats::of(&sample(4, 2));
        let json: serde_json::Value = serde_json::from_str(&stats.to_json_pretty()).unwrap();
        assert_eq!(json["version"], 1);
        assert_eq!(json["kind"], STATS_KIND);
        assert_eq!(json["active"], 4);
        assert_eq!(json["slots"][1]["name"], "ministry");
        assert_eq!(json["slots"][1]["codes"][3]["label"], "interior");
        let table = stats.to_string();
        assert!(
            table.starts_with("members: 4 active, 0 removed (4 positions)\n"),
            "{table}"
        );
        assert!(table.contains("slot 1: ministry\n"), "{table}");
        assert!(table.contains("      7  interior          1\n"), "{table}");
    }
}
