//! Human-readable and JSON renderings of audit reports.

use anyhow::Result;
use serde::Serialize;
use std::fmt::Write;
use undersign_core::attributes::{Attributes, Mask};
use undersign_registry::anonymity::anonymity_set;
use undersign_registry::registry::Registry;
use undersign_tally::bundle::AuditReport;

/// `text` with control characters escaped, so a bundle cannot rewrite the auditor's terminal.
pub fn clean(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

pub use undersign_workflow::{slot_name, window_text};

/// Anonymity set of one disclosed group.
#[derive(Debug, Clone, Serialize)]
pub struct GroupAnonymity {
    /// Slot name → label for every disclosed slot.
    pub disclosed: Vec<(String, String)>,
    /// Accepted signatures in this group.
    pub signatures: u64,
    /// Registry members at the newest checkpoint sharing these values.
    pub anonymity_set: u64,
}

/// For each disclosed group in `report`, how many registry members share its values.
pub fn anonymity_sets(report: &AuditReport, registry: &Registry) -> Vec<GroupAnonymity> {
    let size = report
        .newest_checkpoint
        .and_then(|s| registry.checkpoints().get(s as usize))
        .map(|c| c.size)
        .unwrap_or(registry.members().len() as u64);
    report
        .groups
        .iter()
        .map(|group| {
            let mask = Mask::new(u64::from(group.mask)).unwrap_or(Mask::NONE);
            let disclosed = Attributes(group.codes);
            GroupAnonymity {
                disclosed: mask
                    .slots()
                    .into_iter()
                    .map(|s| {
                        let code = group.codes[s];
                        let label = registry
                            .schema()
                            .label(s, code)
                            .map(str::to_owned)
                            .unwrap_or_else(|| format!("code {code}"));
                        (slot_name(registry.schema(), s), label)
                    })
                    .collect(),
                signatures: group.count,
                anonymity_set: anonymity_set(registry, size, mask, &disclosed),
            }
        })
        .collect()
}

/// The report as one JSON object, keys in the order of `SPEC.md` §15.4.
pub fn to_json(report: &AuditReport, anonymity: Option<&[GroupAnonymity]>) -> Result<String> {
    #[derive(Serialize)]
    struct Out<'a> {
        #[serde(flatten)]
        report: &'a AuditReport,
        #[serde(skip_serializing_if = "Option::is_none")]
        anonymity_sets: Option<&'a [GroupAnonymity]>,
    }
    Ok(serde_json::to_string_pretty(&Out {
        report,
        anonymity_sets: anonymity,
    })?)
}

/// Distinct comments the text report lists (the JSON lists all tracked ones).
const MAX_COMMENTS_SHOWN: usize = 50;

/// The report as plain-text tables.
pub fn render(report: &AuditReport, anonymity: Option<&[GroupAnonymity]>) -> String {
    let mut out = String::new();
    if let Some(id) = &report.petition {
        let title = report.title.as_deref().map(clean);
        let title = title.as_deref().unwrap_or("(petition not readable)");
        let _ = writeln!(out, "petition:      {title} ({id})");
    }
    if let Some(hash) = &report.verifying_key_hash {
        let _ = writeln!(out, "verifying key: {hash}");
    }
    if report.verifying_key_hash.is_some() && !report.verifying_key_pinned {
        let _ = writeln!(
            out,
            "               NOT PINNED: whoever made these keys could forge signatures; pass \
             --vk-hash with the hash you trust (from a ceremony transcript)"
        );
    }
    if let Some(seq) = report.newest_checkpoint {
        let _ = writeln!(out, "checkpoints:   0 to {seq}, signed by the registrar");
    }
    if let Some(window) = &report.accepted_checkpoints {
        let _ = writeln!(
            out,
            "accepted:      {} (the breakdown is of members' categories as the registrar \
             recorded them there)",
            window_text(window.min, window.max)
        );
    }
    if let Some(fatal) = &report.fatal {
        let _ = writeln!(
            out,
            "\nBUNDLE INVALID ({}): {}\nNothing was counted.",
            fatal.code,
            clean(&fatal.message)
        );
        return out;
    }
    let _ = writeln!(out, "\nvalid signatures: {}", report.count);
    let bound = &report.double_count_bound;
    if bound.members > 0 {
        let _ = writeln!(
            out,
            "  up to {} may be double: {} removed between checkpoints {} and {} \
             (each could sign again with a re-issued identity)",
            bound.members,
            plural(bound.members, "member was", "members were"),
            bound.first.unwrap_or(0),
            bound.last.unwrap_or(0)
        );
    }
    if !report.roots.is_empty() {
        let per_root: Vec<String> = report
            .roots
            .iter()
            .map(|r| format!("checkpoint {}: {}", r.checkpoint, r.count))
            .collect();
        let _ = writeln!(out, "  by registry root: {}", per_root.join(", "));
    }
    for slot in &report.breakdown {
        let _ = writeln!(out, "\n  by {}:", slot.name);
        let width = slot.rows.iter().map(|r| r.label.len()).max().unwrap_or(0);
        for row in &slot.rows {
            let pct = if report.count > 0 {
                100.0 * row.count as f64 / report.count as f64
            } else {
                0.0
            };
            let _ = writeln!(
                out,
                "    {:<width$}  {:>8}  {:>5.1}%",
                row.label, row.count, pct
            );
        }
    }
    if report.comments_total > 0 {
        let _ = writeln!(
            out,
            "\n  comments ({}; public text, as written):",
            plural(
                report.comments_total,
                "signature has one",
                "signatures have one"
            )
        );
        for comment in report.comments.iter().take(MAX_COMMENTS_SHOWN) {
            let _ = writeln!(out, "    {:>6}  {}", comment.count, clean(&comment.text));
        }
        let more = report.comments.len().saturating_sub(MAX_COMMENTS_SHOWN);
        if more > 0 {
            let _ = writeln!(
                out,
                "    ... and {more} more distinct comments (--json lists them)"
            );
        }
    }
    if let Some(groups) = anonymity {
        let _ = writeln!(
            out,
            "\n  anonymity sets (registry members sharing each disclosed group):"
        );
        for g in groups {
            let name = if g.disclosed.is_empty() {
                "nothing disclosed".to_owned()
            } else {
                g.disclosed
                    .iter()
                    .map(|(s, l)| format!("{s}={l}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                out,
                "    {name}: {}, anonymity set {}",
                plural(g.signatures, "signature", "signatures"),
                g.anonymity_set
            );
        }
    }
    if report.rejected_total > 0 {
        let _ = writeln!(out, "\nrejected: {}", report.rejected_total);
        for (code, count) in &report.rejected_by_code {
            let _ = writeln!(out, "  {code}: {count}");
        }
        for r in &report.rejected {
            let _ = writeln!(out, "  line {}: {}", r.line, clean(&r.reason));
        }
        let unlisted = report.rejected_total - report.rejected.len() as u64;
        if unlisted > 0 {
            let _ = writeln!(out, "  ... and {unlisted} more (counted above by reason)");
        }
    }
    if !report.problems.is_empty() {
        let _ = writeln!(out, "\nproblems with the bundle:");
        for p in &report.problems {
            let _ = writeln!(out, "  {}", clean(&p.message));
        }
    }
    let _ = writeln!(
        out,
        "\n{}",
        if report.valid {
            "RESULT: bundle fully valid"
        } else {
            "RESULT: some entries were rejected"
        }
    );
    out
}

/// `count` and the singular or plural noun phrase: "1 member was", "3 members were".
pub fn plural(count: u64, one: &str, many: &str) -> String {
    if count == 1 {
        format!("{count} {one}")
    } else {
        format!("{count} {many}")
    }
}
