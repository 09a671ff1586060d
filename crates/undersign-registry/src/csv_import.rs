//! Bulk import of members from CSV.
//!
//! The header is `commitment` followed by any subset of the schema's slot names, in any order.
//! Each row gives a canonical commitment and, per slot column, a label or a numeric code of
//! that slot (an empty cell means 0, unset). Cells are trimmed. The import is all-or-nothing:
//! every row is checked first, and every bad row (the first [`MAX_LISTED_ROW_ERRORS`]) is
//! reported with its line and column, then how many there are.

use crate::registry::{Registry, RegistryError};
use crate::schema::SchemaError;
use ark_ff::Zero;
use std::collections::HashMap;
use std::io::Read;
use thiserror::Error;
use undersign_core::attributes::{Attributes, SLOTS};
use undersign_core::field::{self, FieldError};
use undersign_core::Fr;

/// The name of the first column.
pub const COMMITMENT_COLUMN: &str = "commitment";
/// Bad rows listed one by one; beyond this they are only counted.
pub const MAX_LISTED_ROW_ERRORS: usize = 20;

/// Why a CSV import was refused (nothing was imported).
#[derive(Debug, Error)]
pub enum CsvImportError {
    /// The CSV itself is malformed (bad quoting, a row with another number of cells, not UTF-8).
    #[error("CSV line {}: {source}", line.map_or_else(|| "?".to_owned(), |l| l.to_string()))]
    Csv {
        /// The line, when known.
        line: Option<u64>,
        /// The parser's error.
        source: csv::Error,
    },
    /// The input has no header line.
    #[error("CSV: missing header line (expected \"{COMMITMENT_COLUMN},<slot>,...\")")]
    MissingHeader,
    /// The first column is not `commitment`.
    #[error("CSV header: first column is {0:?}, expected \"{COMMITMENT_COLUMN}\"")]
    FirstColumn(String),
    /// A column names no slot of the schema.
    #[error("CSV header column {column}: {source}")]
    UnknownColumn {
        /// The 1-based column number.
        column: usize,
        /// The schema's complaint.
        source: SchemaError,
    },
    /// Two columns name the same slot.
    #[error("CSV header column {column}: slot {name:?} is already column {first}")]
    DuplicateColumn {
        /// The 1-based column number.
        column: usize,
        /// The slot name.
        name: String,
        /// The 1-based column number of its first occurrence.
        first: usize,
    },
    /// Rows are invalid: each listed (up to [`MAX_LISTED_ROW_ERRORS`]), then the total.
    #[error("{}", rows_text(listed, *total))]
    Rows {
        /// The first bad rows, in file order (one problem per row: its first).
        listed: Vec<RowError>,
        /// How many rows are bad.
        total: u64,
    },
    /// The rows do not fit in the registry's tree.
    #[error("CSV: {rows} rows do not fit: the registry has room for {free} more members")]
    Full {
        /// The number of rows.
        rows: u64,
        /// Free positions.
        free: u64,
    },
    /// Adding a validated row failed (not expected to happen).
    #[error("CSV: {0}")]
    Registry(#[from] RegistryError),
}

/// One bad row: where, and its first problem.
#[derive(Debug, Error)]
#[error("CSV line {line}, column {column:?}: {problem}")]
pub struct RowError {
    /// The line of the row.
    pub line: u64,
    /// The column header.
    pub column: String,
    /// What is wrong.
    pub problem: RowProblem,
}

fn rows_text(listed: &[RowError], total: u64) -> String {
    let mut text: Vec<String> = listed.iter().map(ToString::to_string).collect();
    let unlisted = total.saturating_sub(listed.len() as u64);
    if unlisted > 0 {
        text.push(format!("... and {unlisted} more"));
    }
    text.push(format!(
        "{total} {}; nothing was imported",
        if total == 1 { "bad row" } else { "bad rows" }
    ));
    text.join("\n")
}

/// What is wrong with one cell of a row.
#[derive(Debug, Error)]
pub enum RowProblem {
    /// The commitment is not a canonical field element.
    #[error("commitment: {0}")]
    BadCommitment(FieldError),
    /// The commitment is 0.
    #[error("commitment is 0")]
    ZeroCommitment,
    /// The commitment appears on an earlier line.
    #[error("commitment already appears on line {0}")]
    DuplicateInFile(u64),
    /// The commitment is already in the registry.
    #[error("commitment is already registered as member {0}")]
    AlreadyRegistered(u64),
    /// The value is neither a label nor a code of the slot.
    #[error("{0}")]
    BadValue(SchemaError),
}

/// Imports every row of `reader` into `registry`, or none. Returns the number of members added.
pub fn import_csv<R: Read>(registry: &mut Registry, reader: R) -> Result<usize, CsvImportError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let csv_error = |source: csv::Error| CsvImportError::Csv {
        line: source.position().map(|p| p.line()),
        source,
    };
    let header = csv.headers().map_err(csv_error)?.clone();
    let mut names = header.iter();
    match names.next() {
        None => return Err(CsvImportError::MissingHeader),
        Some(COMMITMENT_COLUMN) => {}
        Some(other) => return Err(CsvImportError::FirstColumn(other.to_owned())),
    }
    let schema = registry.schema();
    let mut slots: Vec<usize> = Vec::new();
    for (i, name) in names.enumerate() {
        let column = i + 2;
        let slot = schema
            .slot_index(name)
            .ok_or_else(|| SchemaError::UnknownSlot(name.to_owned(), slot_list(registry)))
            .map_err(|source| CsvImportError::UnknownColumn { column, source })?;
        if let Some(first) = slots.iter().position(|&s| s == slot) {
            return Err(CsvImportError::DuplicateColumn {
                column,
                name: name.to_owned(),
                first: first + 2,
            });
        }
        slots.push(slot);
    }
    debug_assert!(slots.len() <= SLOTS);

    let mut rows: Vec<(Fr, Attributes)> = Vec::new();
    let mut seen: HashMap<Fr, u64> = HashMap::new();
    let mut record = csv::StringRecord::new();
    let mut listed: Vec<RowError> = Vec::new();
    let mut total: u64 = 0;
    while csv.read_record(&mut record).map_err(csv_error)? {
        let line = record.position().map_or(0, |p| p.line());
        match check_row(registry, &slots, &record, line, &mut seen) {
            Ok(row) => rows.push(row),
            Err(error) => {
                total += 1;
                if listed.len() < MAX_LISTED_ROW_ERRORS {
                    listed.push(error);
                }
            }
        }
    }
    if total > 0 {
        return Err(CsvImportError::Rows { listed, total });
    }

    let free = registry.capacity() - registry.len();
    if rows.len() as u64 > free {
        return Err(CsvImportError::Full {
            rows: rows.len() as u64,
            free,
        });
    }
    let count = rows.len();
    for (commitment, attributes) in rows {
        registry.add(commitment, attributes)?;
    }
    Ok(count)
}

/// Checks one row: a new, canonical, non-zero commitment and a value of each slot column.
fn check_row(
    registry: &Registry,
    slots: &[usize],
    record: &csv::StringRecord,
    line: u64,
    seen: &mut HashMap<Fr, u64>,
) -> Result<(Fr, Attributes), RowError> {
    let row_error = |column: &str, problem| RowError {
        line,
        column: column.to_owned(),
        problem,
    };
    let text = record.get(0).unwrap_or_default();
    let commitment = field::from_hex(text)
        .map_err(|e| row_error(COMMITMENT_COLUMN, RowProblem::BadCommitment(e)))?;
    if commitment.is_zero() {
        return Err(row_error(COMMITMENT_COLUMN, RowProblem::ZeroCommitment));
    }
    if let Some(index) = registry.find(&commitment) {
        return Err(row_error(
            COMMITMENT_COLUMN,
            RowProblem::AlreadyRegistered(index),
        ));
    }
    if let Some(&first) = seen.get(&commitment) {
        return Err(row_error(
            COMMITMENT_COLUMN,
            RowProblem::DuplicateInFile(first),
        ));
    }
    seen.insert(commitment, line);
    let schema = registry.schema();
    let mut codes = [0u16; SLOTS];
    for (&slot, cell) in slots.iter().zip(record.iter().skip(1)) {
        if !cell.is_empty() {
            codes[slot] = schema
                .resolve_value(slot, cell)
                .map_err(|e| row_error(&schema.slots()[slot].name, RowProblem::BadValue(e)))?;
        }
    }
    Ok((commitment, Attributes(codes)))
}

/// The schema's slot names, for error messages.
fn slot_list(registry: &Registry) -> String {
    let names: Vec<&str> = registry
        .schema()
        .slots()
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    if names.is_empty() {
        "no slots".to_owned()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::example;

    fn commitment(i: u64) -> String {
        field::to_hex(&Fr::from(i))
    }

    fn empty() -> Registry {
        Registry::new(example(), 10, [1; 32]).unwrap()
    }

    #[test]
    fn imports_labels_and_codes() {
        let mut registry = empty();
        registry
            .add(Fr::from(1000u64), Attributes::default())
            .unwrap();
        let csv = format!(
            "commitment,ministry,status\n{},health,current\n{}, 7 ,2\n\"{}\",,former\n{},,\n",
            commitment(1),
            commitment(2),
            commitment(3),
            commitment(4)
        );
        assert_eq!(import_csv(&mut registry, csv.as_bytes()).unwrap(), 4);
        assert_eq!(registry.len(), 5);
        let attrs = |c: u64| {
            registry
                .member(registry.find(&Fr::from(c)).unwrap())
                .unwrap()
                .attributes
        };
        assert_eq!(attrs(1), Attributes([1, 1, 0, 0]));
        assert_eq!(attrs(2), Attributes([2, 7, 0, 0]));
        assert_eq!(attrs(3), Attributes([2, 0, 0, 0]));
        assert_eq!(attrs(4), Attributes([0, 0, 0, 0]));
        assert_eq!(registry.find(&Fr::from(1u64)), Some(1));
        // A header with only the commitment column, and no rows at all.
        assert_eq!(
            import_csv(
                &mut registry,
                format!("commitment\n{}\n", commitment(5)).as_bytes()
            )
            .unwrap(),
            1
        );
        assert_eq!(
            import_csv(&mut registry, "commitment,status\n".as_bytes()).unwrap(),
            0
        );
        assert_eq!(registry.len(), 6);
    }

    /// Imports `csv` into a registry holding one member, checks that nothing was added and
    /// returns the error.
    fn refused(csv: &str) -> CsvImportError {
        let mut registry = empty();
        registry
            .add(Fr::from(1000u64), Attributes::default())
            .unwrap();
        let before = registry.to_json();
        let err = import_csv(&mut registry, csv.as_bytes()).unwrap_err();
        assert_eq!(registry.to_json(), before, "nothing may be imported: {err}");
        err
    }

    #[test]
    fn every_bad_row_is_reported_then_counted() {
        let mut csv = String::from("commitment,status\n");
        csv += &format!("{},current\n", commitment(1));
        for i in 0..25u64 {
            // Alternately an unknown label and a zero commitment.
            if i % 2 == 0 {
                csv += &format!("{},retired\n", commitment(100 + i));
            } else {
                csv += &format!("{},\n", commitment(0));
            }
        }
        let err = refused(&csv);
        let CsvImportError::Rows { listed, total } = &err else {
            panic!("{err}");
        };
        assert_eq!((listed.len(), *total), (MAX_LISTED_ROW_ERRORS, 25));
        assert_eq!(listed[0].line, 3);
        assert!(matches!(listed[1].problem, RowProblem::ZeroCommitment));
        let text = err.to_string();
        assert!(text.contains("CSV line 3, column \"status\""), "{text}");
        assert!(text.contains("current (1), former (2)"), "{text}");
        assert!(
            text.ends_with("... and 5 more\n25 bad rows; nothing was imported"),
            "{text}"
        );
    }

    #[test]
    fn a_bad_row_imports_nothing() {
        let good = format!(
            "commitment,status,ministry\n{},current,health\n{},former,justice\n",
            commitment(1),
            commitment(2)
        );
        let err = refused(&format!("{good}{},current,dentistry\n", commitment(3)));
        assert!(
            matches!(&err, CsvImportError::Rows { listed, total: 1 } if matches!(&listed[..], [RowError { line: 4, column, problem: RowProblem::BadValue(_) }] if column == "ministry")),
            "{err}"
        );
        assert!(
            err.to_string().contains("line 4") && err.to_string().contains("dentistry"),
            "{err}"
        );
        let row_err = |csv: String| match refused(&csv) {
            CsvImportError::Rows { mut listed, total } if total == 1 && listed.len() == 1 => {
                let RowError {
                    line,
                    column,
                    problem,
                } = listed.remove(0);
                (line, column, problem)
            }
            other => panic!("{other}"),
        };
        let (line, column, problem) = row_err(format!("{good}{},3,\n", commitment(3)));
        assert_eq!((line, column.as_str()), (4, "status"));
        assert!(matches!(problem, RowProblem::BadValue(_)));
        let (line, _, problem) = row_err(format!("{good}{},current,\n", commitment(1)));
        assert_eq!(line, 4);
        assert!(matches!(problem, RowProblem::DuplicateInFile(2)));
        let (_, _, problem) = row_err(format!("{good}{},current,\n", commitment(1000)));
        assert!(matches!(problem, RowProblem::AlreadyRegistered(0)));
        let (_, column, problem) = row_err(format!("{good}{},,\n", commitment(0)));
        assert_eq!(column, "commitment");
        assert!(matches!(problem, RowProblem::ZeroCommitment));
        let upper = commitment(0xabc).to_uppercase().replacen("0X", "0x", 1);
        let (_, _, problem) = row_err(format!("{good}{upper},,\n"));
        assert!(matches!(problem, RowProblem::BadCommitment(_)));
        let r = "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001";
        let (_, _, problem) = row_err(format!("{good}{r},,\n"));
        assert!(matches!(
            problem,
            RowProblem::BadCommitment(FieldError::NotCanonical)
        ));
        let (_, _, problem) = row_err(format!("{good}3,,\n"));
        assert!(matches!(problem, RowProblem::BadCommitment(_)));
        assert!(matches!(
            refused(&format!("{good}{},current\n", commitment(3))),
            CsvImportError::Csv { line: Some(4), .. }
        ));
        assert!(matches!(
            refused(&format!("{good}{},current,health,x\n", commitment(3))),
            CsvImportError::Csv { .. }
        ));
    }

    #[test]
    fn bad_headers() {
        assert!(matches!(refused(""), CsvImportError::MissingHeader));
        assert!(matches!(
            refused("status,commitment\n"),
            CsvImportError::FirstColumn(_)
        ));
        assert!(matches!(
            refused("commitment,grade\n"),
            CsvImportError::UnknownColumn { column: 2, .. }
        ));
        assert!(matches!(
            refused("commitment,status,ministry,status\n"),
            CsvImportError::DuplicateColumn {
                column: 4,
                first: 2,
                ..
            }
        ));
        assert!(matches!(
            refused("\u{feff}\u{fffe}\u{0}"),
            CsvImportError::FirstColumn(_)
        ));
        assert!(import_csv(&mut empty(), &b"commitment\n\xff\xfe\n"[..]).is_err());
    }

    #[test]
    fn capacity_is_checked_before_importing() {
        let mut registry = Registry::new(example(), 4, [1; 32]).unwrap();
        let rows: String = (1..=17).map(|i| format!("{}\n", commitment(i))).collect();
        let err = import_csv(&mut registry, format!("commitment\n{rows}").as_bytes()).unwrap_err();
        assert!(
            matches!(err, CsvImportError::Full { rows: 17, free: 16 }),
            "{err}"
        );
        assert!(registry.is_empty());
    }

    #[test]
    fn fifty_thousand_rows_import() {
        let mut csv = String::from("commitment,status,ministry\n");
        let labels = ["health", "justice", "interior", "7", ""];
        for i in 1..=50_000u64 {
            let status = if i % 2 == 0 { "current" } else { "2" };
            csv.push_str(&format!(
                "{},{status},{}\n",
                commitment(i * 7919),
                labels[(i % 5) as usize]
            ));
        }
        let mut registry = Registry::new(example(), 20, [1; 32]).unwrap();
        // (Its speed is measured by `cargo bench --bench core -- registry`, not here.)
        assert_eq!(import_csv(&mut registry, csv.as_bytes()).unwrap(), 50_000);
        assert_eq!(registry.len(), 50_000);
        assert_eq!(
            registry.member(2).unwrap().attributes,
            Attributes([2, 7, 0, 0])
        );
    }
}
