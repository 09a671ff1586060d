//! Typed errors: decoding ([`FormatError`]), verification ([`VerifyError`]) and everything else
//! ([`CeremonyError`]). Every message names what is wrong: which contribution, which check, which
//! element or which byte offset.

use std::fmt;
use std::path::PathBuf;
use thiserror::Error;

/// Which phase a failure belongs to.
pub type Phase = u8;

/// A secret of a contribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// Phase 1 `τ`.
    Tau,
    /// Phase 1 `α`.
    Alpha,
    /// Phase 1 `β`.
    Beta,
    /// Phase 2 `δ`.
    Delta,
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Secret::Tau => "tau",
            Secret::Alpha => "alpha",
            Secret::Beta => "beta",
            Secret::Delta => "delta",
        })
    }
}

/// Why a transcript file could not be decoded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum FormatError {
    /// The file does not start with the expected magic bytes.
    #[error("not {expected} (wrong magic bytes; garbled, or another kind of file)")]
    BadMagic {
        /// What the file should have been.
        expected: &'static str,
    },
    /// The file ends before a field it must hold.
    #[error("truncated: {what} needs {needed} bytes at offset {offset}, but the file has {len}")]
    Truncated {
        /// The field being read.
        what: String,
        /// Its offset.
        offset: usize,
        /// Bytes it needs.
        needed: usize,
        /// The file's length.
        len: usize,
    },
    /// Bytes follow the last record.
    #[error("{count} trailing bytes after the last record (offset {offset})")]
    TrailingBytes {
        /// Where the transcript should end.
        offset: usize,
        /// How many bytes follow.
        count: usize,
    },
    /// A point is not canonical, not on the curve or not in the prime-order subgroup.
    #[error("{what} at offset {offset} is not a valid curve point: {reason}")]
    InvalidPoint {
        /// Which element.
        what: String,
        /// Its offset.
        offset: usize,
        /// The decoder's reason.
        reason: String,
    },
    /// A header or record field has a value out of range.
    #[error("{what}: {reason}")]
    InvalidValue {
        /// Which field.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// Decoding succeeded but re-encoding gives other bytes (e.g. a point at infinity with
    /// non-zero coordinates): the file is not in canonical form.
    #[error("the encoding is not canonical (first differing byte at offset {offset})")]
    NonCanonical {
        /// First differing byte.
        offset: usize,
    },
}

/// A check of one contribution record that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContributionCheck {
    /// The record's "previous" hash is not the hash of the record before it (or of the
    /// ceremony's start): a contribution was dropped, reordered or altered.
    PreviousHash,
    /// A point that may not be the point at infinity is.
    Identity(&'static str),
    /// `e(s, r·x) ≠ e(s·x, r)`: the contributor did not prove knowledge of the secret.
    ProofOfKnowledge(Secret),
    /// The value after the contribution is not the value before times the secret the proof
    /// of knowledge is about.
    Update(Secret),
    /// The G2 value after the contribution does not match the G1 value.
    G2Mismatch(Secret),
    /// A beacon's δ is not the value its public beacon determines.
    Beacon,
    /// A beacon record is followed by another record: the beacon must come last, once.
    BeaconNotLast,
    /// The record's state hash is not the hash of the parameters it claims to have produced.
    StateHash,
}

impl fmt::Display for ContributionCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContributionCheck::PreviousHash => f.write_str(
                "its previous hash is not the hash of the record before it: a contribution was \
                 dropped, reordered or altered",
            ),
            ContributionCheck::Identity(what) => write!(f, "{what} is the point at infinity"),
            ContributionCheck::ProofOfKnowledge(s) => write!(
                f,
                "the proof of knowledge of {s} fails (e(s, r^x) != e(s^x, r))"
            ),
            ContributionCheck::Update(s) => write!(
                f,
                "the new {s} value is not the previous one times the secret its proof of \
                 knowledge is about"
            ),
            ContributionCheck::G2Mismatch(s) => {
                write!(f, "its {s} in G2 does not match its {s} in G1")
            }
            ContributionCheck::Beacon => f.write_str(
                "delta is not the previous delta times the scalar its public beacon determines",
            ),
            ContributionCheck::BeaconNotLast => f.write_str(
                "a record follows the beacon: the beacon must be the last contribution, and \
                 there can be only one",
            ),
            ContributionCheck::StateHash => f.write_str(
                "the state hash it records is not the hash of the parameters in the file",
            ),
        }
    }
}

/// A check of the final parameters that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterCheck {
    /// The first element of a vector is not the generator.
    Generator(&'static str),
    /// A vector is not a sequence of successive powers of τ (random linear combination check).
    Powers(&'static str),
    /// A vector's leading element is not the last contribution's value.
    NotLastContribution(&'static str),
    /// `β·G1` and `β·G2` (or `δ·G1` and `δ·G2`) do not match.
    G2Mismatch(&'static str),
    /// The phase-2 transcript was made from another phase-1 transcript.
    Phase1Mismatch,
    /// A query vector is not the one phase 1 and the circuit determine (random linear
    /// combination check).
    Query(&'static str),
    /// A query vector has the wrong length.
    Length {
        /// Which vector.
        query: &'static str,
        /// The length the circuit needs.
        expected: usize,
        /// The length in the file.
        actual: usize,
    },
    /// An element that contributions never change differs from the initial key.
    Element {
        /// Which vector or element.
        query: &'static str,
        /// Its index (0 for single elements).
        index: usize,
    },
    /// The L or H query is not the initial one divided by the final δ.
    DividedByDelta(&'static str),
    /// A point that may not be at infinity is.
    Identity(&'static str),
    /// Phase 1 is too small for the circuit.
    TooSmall {
        /// The phase-1 size `2^power`.
        size: usize,
        /// The domain size the circuit needs.
        needed: usize,
    },
}

impl fmt::Display for ParameterCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParameterCheck::Generator(what) => write!(f, "{what}[0] is not the generator"),
            ParameterCheck::Powers(what) => {
                write!(f, "{what} is not a sequence of successive powers of tau")
            }
            ParameterCheck::NotLastContribution(what) => {
                write!(f, "{what} is not the value the last contribution produced")
            }
            ParameterCheck::G2Mismatch(what) => write!(f, "{what} in G1 and G2 do not match"),
            ParameterCheck::Phase1Mismatch => f.write_str(
                "it was made from another phase-1 transcript (the phase-1 hash differs)",
            ),
            ParameterCheck::Query(query) => write!(
                f,
                "{query} is not the one phase 1 and the circuit determine (contributions change \
                 only delta, L and H)"
            ),
            ParameterCheck::Length {
                query,
                expected,
                actual,
            } => write!(
                f,
                "{query} has {actual} elements; the circuit needs {expected}"
            ),
            ParameterCheck::Element { query, index } => write!(
                f,
                "{query}[{index}] differs from the key phase 1 and the circuit determine \
                 (contributions change only delta, L and H)"
            ),
            ParameterCheck::DividedByDelta(what) => write!(
                f,
                "the {what} query is not the initial one divided by the final delta"
            ),
            ParameterCheck::Identity(what) => write!(f, "{what} is the point at infinity"),
            ParameterCheck::TooSmall { size, needed } => write!(
                f,
                "phase 1 has 2^k = {size} powers; the circuit needs {needed}"
            ),
        }
    }
}

/// A transcript that decodes but does not verify.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// Contribution `index` (1-based, in transcript order) fails `check`.
    #[error("phase {phase} contribution #{index}: {check}")]
    Contribution {
        /// 1 or 2.
        phase: Phase,
        /// 1-based position in the transcript.
        index: usize,
        /// The failed check.
        check: ContributionCheck,
    },
    /// The phase has no contribution with a secret (beacons do not count: their secret is
    /// public), so anyone can forge proofs under the keys.
    #[error(
        "phase {phase} has no contribution with a secret: anyone could forge proofs under these \
         keys (the ceremony is not finished)"
    )]
    NoSecretContribution {
        /// 1 or 2.
        phase: Phase,
    },
    /// The parameters themselves fail `check`.
    #[error("phase {phase} parameters: {check}")]
    Parameters {
        /// 1 or 2.
        phase: Phase,
        /// The failed check.
        check: ParameterCheck,
    },
}

/// Any ceremony error.
#[derive(Debug, Error)]
pub enum CeremonyError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file is not a well-formed transcript.
    #[error("{path}: {source}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: FormatError,
    },
    /// Bytes (not from a named file) are not a well-formed transcript.
    #[error(transparent)]
    Decode(#[from] FormatError),
    /// The transcript does not verify.
    #[error("the transcript does not verify: {0}")]
    Verify(#[from] VerifyError),
    /// A parameter is out of range (power, depth, beacon).
    #[error("{0}")]
    Parameter(String),
    /// The circuit could not be synthesized.
    #[error("circuit synthesis failed: {0}")]
    Circuit(String),
    /// Writing the key directory failed.
    #[error(transparent)]
    Keys(#[from] undersign_proof::KeyError),
}

impl CeremonyError {
    /// Whether this is a verification failure (exit status 1) rather than unreadable input.
    pub fn is_verification_failure(&self) -> bool {
        matches!(self, CeremonyError::Verify(_))
    }
}
