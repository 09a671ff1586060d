//! Strict binary reading and writing for transcript files (`SPEC.md` §17.4).
//!
//! Integers are little-endian. Points use arkworks' **uncompressed** encoding: G1 is 64 bytes
//! (`x ‖ y`, each 32 bytes little-endian), G2 is 128 bytes (`x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1`); the top
//! two bits of the last byte are flags (bit 6: point at infinity, encoded with zero coordinates).
//! Reading checks that every coordinate is `< q`, every point is on the curve and in the
//! prime-order subgroup; vectors are checked in parallel. Lengths are checked against the bytes
//! left before anything is allocated.

use crate::error::FormatError;
use ark_bn254::{G1Affine, G2Affine};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use rayon::prelude::*;

/// Bytes of an uncompressed G1 point.
pub const G1_LEN: usize = 64;
/// Bytes of an uncompressed G2 point.
pub const G2_LEN: usize = 128;

/// A cursor over a transcript's bytes that reports every problem with its offset.
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading `bytes` at offset 0.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// The current offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// The next `n` bytes, or [`FormatError::Truncated`] naming `what`.
    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], FormatError> {
        if n > self.remaining() {
            return Err(FormatError::Truncated {
                what: what.to_owned(),
                offset: self.pos,
                needed: n,
                len: self.bytes.len(),
            });
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Checks the 16-byte magic.
    pub fn magic(&mut self, magic: &[u8; 16], expected: &'static str) -> Result<(), FormatError> {
        let available = self.remaining().min(16);
        if self.bytes[self.pos..self.pos + available] != magic[..available] {
            return Err(FormatError::BadMagic { expected });
        }
        self.take(16, "the magic bytes")?;
        Ok(())
    }

    /// A byte.
    pub fn u8(&mut self, what: &str) -> Result<u8, FormatError> {
        Ok(self.take(1, what)?[0])
    }

    /// A u32, little-endian.
    pub fn u32(&mut self, what: &str) -> Result<u32, FormatError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// 32 raw bytes.
    pub fn hash(&mut self, what: &str) -> Result<[u8; 32], FormatError> {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.take(32, what)?);
        Ok(out)
    }

    /// One validated G1 point.
    pub fn g1(&mut self, what: &str) -> Result<G1Affine, FormatError> {
        let offset = self.pos;
        decode(self.take(G1_LEN, what)?, what, offset)
    }

    /// One validated G2 point.
    pub fn g2(&mut self, what: &str) -> Result<G2Affine, FormatError> {
        let offset = self.pos;
        decode(self.take(G2_LEN, what)?, what, offset)
    }

    /// `count` validated G1 points (checked in parallel).
    pub fn g1_vec(&mut self, count: usize, what: &str) -> Result<Vec<G1Affine>, FormatError> {
        self.vec(count, G1_LEN, what)
    }

    /// `count` validated G2 points (checked in parallel).
    pub fn g2_vec(&mut self, count: usize, what: &str) -> Result<Vec<G2Affine>, FormatError> {
        self.vec(count, G2_LEN, what)
    }

    /// A u32 count followed by that many validated G1 points.
    pub fn g1_list(&mut self, what: &str) -> Result<Vec<G1Affine>, FormatError> {
        let count = self.u32(&format!("the length of {what}"))? as usize;
        self.g1_vec(count, what)
    }

    /// A u32 count followed by that many validated G2 points.
    pub fn g2_list(&mut self, what: &str) -> Result<Vec<G2Affine>, FormatError> {
        let count = self.u32(&format!("the length of {what}"))? as usize;
        self.g2_vec(count, what)
    }

    fn vec<P: CanonicalDeserialize + Send>(
        &mut self,
        count: usize,
        size: usize,
        what: &str,
    ) -> Result<Vec<P>, FormatError> {
        let base = self.pos;
        let total = count
            .checked_mul(size)
            .ok_or_else(|| FormatError::Truncated {
                what: format!("{what} ({count} points)"),
                offset: base,
                needed: usize::MAX,
                len: self.bytes.len(),
            })?;
        let bytes = self.take(total, &format!("{what} ({count} points)"))?;
        bytes
            .par_chunks(size)
            .enumerate()
            .map(|(i, chunk)| decode(chunk, &format!("{what}[{i}]"), base + i * size))
            .collect()
    }

    /// Succeeds only at the end of the bytes.
    pub fn finish(&self) -> Result<(), FormatError> {
        if self.remaining() > 0 {
            return Err(FormatError::TrailingBytes {
                offset: self.pos,
                count: self.remaining(),
            });
        }
        Ok(())
    }
}

fn decode<P: CanonicalDeserialize>(
    bytes: &[u8],
    what: &str,
    offset: usize,
) -> Result<P, FormatError> {
    P::deserialize_with_mode(bytes, Compress::No, Validate::Yes).map_err(|e| {
        FormatError::InvalidPoint {
            what: what.to_owned(),
            offset,
            reason: e.to_string(),
        }
    })
}

/// Appends points in the uncompressed encoding.
pub fn put_points<P: CanonicalSerialize>(out: &mut Vec<u8>, points: &[P]) {
    for p in points {
        // Writing a valid point into a Vec cannot fail.
        let _ = p.serialize_uncompressed(&mut *out);
    }
}

/// Appends a u32 count, then the points.
pub fn put_list<P: CanonicalSerialize>(out: &mut Vec<u8>, points: &[P]) {
    out.extend_from_slice(&(points.len() as u32).to_le_bytes());
    put_points(out, points);
}

/// Checks that re-encoding what was decoded gives back exactly `original`.
pub fn check_canonical(original: &[u8], reencoded: &[u8]) -> Result<(), FormatError> {
    if original == reencoded {
        return Ok(());
    }
    let offset = original
        .iter()
        .zip(reencoded)
        .position(|(a, b)| a != b)
        .unwrap_or(original.len().min(reencoded.len()));
    Err(FormatError::NonCanonical { offset })
}
