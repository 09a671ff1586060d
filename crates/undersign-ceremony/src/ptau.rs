//! Reading snarkjs's powers-of-tau files (`.ptau`, `SPEC.md` §17.7), so that phase 1 can start
//! from a widely attended public ceremony (e.g. the Hermez/Polygon one) instead of our own.
//!
//! The format (snarkjs `binfileutils`): the 4 bytes `"ptau"`, a u32 version (1), a u32 section
//! count, then sections, each a u32 type, a u64 byte length and its bytes. Section 1 (header):
//! u32 `n8` (32), `q` in `n8` little-endian bytes, u32 `power`, u32 `ceremonyPower`. Sections 2–6:
//! `tauG1` (`2·2^power − 1` G1 points), `tauG2` (`2^power` G2 points), `alphaTauG1`, `betaTauG1`
//! (`2^power` G1 points each), `betaG2` (one G2 point). A point is its affine coordinates, G1
//! `x ‖ y`, G2 `x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1`, each 32 bytes little-endian in **Montgomery form**
//! (`x·2^256 mod q`). Other sections (contributions, Lagrange bases) are not read: the file is
//! bound by its blake2b-512 hash, with which anyone checks it is the published one.

use crate::error::CeremonyError;
use ark_bn254::{Fq, Fq2, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInt, PrimeField};
use blake2::{Blake2b512, Digest};
use rayon::prelude::*;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// The largest `power` a `.ptau` file can have: BN254's scalar field has 2-adicity 28, so no
/// evaluation domain is larger (snarkjs's own limit). A larger value is refused before any
/// size is computed from it.
pub const MAX_PTAU_POWER: u32 = 28;

/// What phase 1 takes from a `.ptau` file: its hash, its power and the first powers.
#[derive(Debug, Clone)]
pub struct PtauPrefix {
    /// blake2b-512 of the whole file (what snarkjs and `b2sum` print).
    pub blake2b: [u8; 64],
    /// The file's `power` (its vectors hold `2^power` powers).
    pub ptau_power: u32,
    /// `tau_g1[..2N − 1]`.
    pub tau_g1: Vec<G1Affine>,
    /// `tau_g2[..N]`.
    pub tau_g2: Vec<G2Affine>,
    /// `alpha_tau_g1[..N]`.
    pub alpha_tau_g1: Vec<G1Affine>,
    /// `beta_tau_g1[..N]`.
    pub beta_tau_g1: Vec<G1Affine>,
    /// `beta_g2`.
    pub beta_g2: G2Affine,
}

fn bad(path: &Path, reason: impl Into<String>) -> CeremonyError {
    CeremonyError::Parameter(format!("{}: {}", path.display(), reason.into()))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> CeremonyError + '_ {
    move |source| CeremonyError::Io {
        path: path.into(),
        source,
    }
}

/// A base-field element from 32 little-endian bytes in Montgomery form; `None` if not `< q`.
fn fq_montgomery(bytes: &[u8]) -> Option<Fq> {
    let mut limbs = [0u64; 4];
    for (i, limb) in limbs.iter_mut().enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[8 * i..8 * i + 8]);
        *limb = u64::from_le_bytes(b);
    }
    let big = BigInt::new(limbs);
    if big >= Fq::MODULUS {
        return None;
    }
    // arkworks keeps BN254's Fq in Montgomery form with R = 2^256, as snarkjs writes it.
    Some(Fq::new_unchecked(big))
}

fn g1(bytes: &[u8]) -> Option<G1Affine> {
    let p = G1Affine::new_unchecked(fq_montgomery(&bytes[..32])?, fq_montgomery(&bytes[32..64])?);
    (!p.is_zero() && p.is_on_curve() && p.is_in_correct_subgroup_assuming_on_curve()).then_some(p)
}

fn g2(bytes: &[u8]) -> Option<G2Affine> {
    let x = Fq2::new(fq_montgomery(&bytes[..32])?, fq_montgomery(&bytes[32..64])?);
    let y = Fq2::new(
        fq_montgomery(&bytes[64..96])?,
        fq_montgomery(&bytes[96..128])?,
    );
    let p = G2Affine::new_unchecked(x, y);
    (!p.is_zero() && p.is_on_curve() && p.is_in_correct_subgroup_assuming_on_curve()).then_some(p)
}

/// Reads the first `2N − 1`, `N`, `N`, `N` and 1 elements (`N = 2^power`) of a `.ptau` file's
/// five vectors, validating every point (coordinates `< q`, on the curve, in the subgroup, not
/// the point at infinity), and hashes the whole file with blake2b-512.
pub fn read_prefix(path: &Path, power: u32) -> Result<PtauPrefix, CeremonyError> {
    let mut file = File::open(path).map_err(io(path))?;
    let len = file.metadata().map_err(io(path))?.len();
    let mut hasher = Blake2b512::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let blake2b: [u8; 64] = hasher.finalize().into();

    file.seek(SeekFrom::Start(0)).map_err(io(path))?;
    let mut head = [0u8; 12];
    file.read_exact(&mut head)
        .map_err(|_| bad(path, "not a snarkjs .ptau file (too short)"))?;
    if &head[..4] != b"ptau" {
        return Err(bad(path, "not a snarkjs .ptau file (no \"ptau\" magic)"));
    }
    let u32_at = |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    if u32_at(&head, 4) != 1 {
        return Err(bad(path, "unsupported .ptau version"));
    }
    let sections = u32_at(&head, 8);
    // Section type -> (offset, length); each of 1..=6 exactly once.
    let mut found: [Option<(u64, u64)>; 7] = [None; 7];
    let mut pos = 12u64;
    for _ in 0..sections {
        let mut h = [0u8; 12];
        file.seek(SeekFrom::Start(pos)).map_err(io(path))?;
        file.read_exact(&mut h)
            .map_err(|_| bad(path, "truncated section table"))?;
        let kind = u32_at(&h, 0);
        let mut l = [0u8; 8];
        l.copy_from_slice(&h[4..12]);
        let size = u64::from_le_bytes(l);
        let start = pos + 12;
        let end = start
            .checked_add(size)
            .filter(|&e| e <= len)
            .ok_or_else(|| {
                bad(
                    path,
                    format!("section {kind} runs past the end of the file"),
                )
            })?;
        if (1..=6).contains(&kind) {
            let slot = &mut found[kind as usize];
            if slot.is_some() {
                return Err(bad(path, format!("section {kind} appears twice")));
            }
            *slot = Some((start, size));
        }
        pos = end;
    }
    let section =
        |kind: usize| found[kind].ok_or_else(|| bad(path, format!("section {kind} is missing")));

    // Header.
    let (start, size) = section(1)?;
    if size != 4 + 32 + 4 + 4 {
        return Err(bad(path, "the header is not BN254's (n8 = 32)"));
    }
    let mut header = [0u8; 44];
    file.seek(SeekFrom::Start(start)).map_err(io(path))?;
    file.read_exact(&mut header).map_err(io(path))?;
    let q_bytes = Fq::MODULUS
        .0
        .iter()
        .flat_map(|l| l.to_le_bytes())
        .collect::<Vec<u8>>();
    if u32_at(&header, 0) != 32 || header[4..36] != q_bytes[..] {
        return Err(bad(path, "the file is not for BN254 (bn128)"));
    }
    let ptau_power = u32_at(&header, 36);
    if ptau_power > MAX_PTAU_POWER {
        return Err(bad(
            path,
            format!(
                "the file claims 2^{ptau_power} powers; BN254 allows at most 2^{MAX_PTAU_POWER}"
            ),
        ));
    }
    if ptau_power < power {
        return Err(bad(
            path,
            format!("the file has 2^{ptau_power} powers, fewer than the 2^{power} asked for"),
        ));
    }
    let big_n = 1u64 << ptau_power;
    let n = 1usize << power;

    // Reads `count` points of `width` bytes from the start of section `kind`, which must hold
    // exactly `total` of them.
    let mut read_points = |kind: usize, width: usize, total: u64, count: usize| {
        let (start, size) = section(kind)?;
        if size != total * width as u64 {
            return Err(bad(path, format!("section {kind} has the wrong length")));
        }
        let mut bytes = vec![0u8; count * width];
        file.seek(SeekFrom::Start(start)).map_err(io(path))?;
        file.read_exact(&mut bytes).map_err(io(path))?;
        Ok::<Vec<u8>, CeremonyError>(bytes)
    };
    let decode_g1 = |bytes: Vec<u8>, what: &str| -> Result<Vec<G1Affine>, CeremonyError> {
        bytes
            .par_chunks(64)
            .enumerate()
            .map(|(i, c)| {
                g1(c).ok_or_else(|| bad(path, format!("{what}[{i}] is not a valid G1 point")))
            })
            .collect()
    };
    let decode_g2 = |bytes: Vec<u8>, what: &str| -> Result<Vec<G2Affine>, CeremonyError> {
        bytes
            .par_chunks(128)
            .enumerate()
            .map(|(i, c)| {
                g2(c).ok_or_else(|| bad(path, format!("{what}[{i}] is not a valid G2 point")))
            })
            .collect()
    };
    let tau_g1 = read_points(2, 64, 2 * big_n - 1, 2 * n - 1)?;
    let tau_g2 = read_points(3, 128, big_n, n)?;
    let alpha = read_points(4, 64, big_n, n)?;
    let beta = read_points(5, 64, big_n, n)?;
    let beta_g2 = read_points(6, 128, 1, 1)?;
    Ok(PtauPrefix {
        blake2b,
        ptau_power,
        tau_g1: decode_g1(tau_g1, "tauG1")?,
        tau_g2: decode_g2(tau_g2, "tauG2")?,
        alpha_tau_g1: decode_g1(alpha, "alphaTauG1")?,
        beta_tau_g1: decode_g1(beta, "betaTauG1")?,
        beta_g2: decode_g2(beta_g2, "betaG2")?[0],
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A point's coordinates in Montgomery form, little-endian (as snarkjs writes them).
    fn mont(x: &Fq) -> Vec<u8> {
        x.0 .0.iter().flat_map(|l| l.to_le_bytes()).collect()
    }

    /// Writes a `.ptau` file (sections 1–7) for the given vectors, as snarkjs lays it out.
    pub(crate) fn write_ptau(
        power: u32,
        tau_g1: &[G1Affine],
        tau_g2: &[G2Affine],
        alpha: &[G1Affine],
        beta: &[G1Affine],
        beta_g2: &G2Affine,
    ) -> Vec<u8> {
        let p1 = |p: &G1Affine| [mont(&p.x), mont(&p.y)].concat();
        let p2 =
            |p: &G2Affine| [mont(&p.x.c0), mont(&p.x.c1), mont(&p.y.c0), mont(&p.y.c1)].concat();
        let mut out = b"ptau".to_vec();
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&7u32.to_le_bytes());
        let mut section = |kind: u32, body: Vec<u8>| {
            out.extend_from_slice(&kind.to_le_bytes());
            out.extend_from_slice(&(body.len() as u64).to_le_bytes());
            out.extend_from_slice(&body);
        };
        let mut header = 32u32.to_le_bytes().to_vec();
        header.extend(Fq::MODULUS.0.iter().flat_map(|l| l.to_le_bytes()));
        header.extend_from_slice(&power.to_le_bytes());
        header.extend_from_slice(&power.to_le_bytes());
        section(1, header);
        section(2, tau_g1.iter().flat_map(p1).collect());
        section(3, tau_g2.iter().flat_map(p2).collect());
        section(4, alpha.iter().flat_map(p1).collect());
        section(5, beta.iter().flat_map(p1).collect());
        section(6, p2(beta_g2));
        section(7, 0u32.to_le_bytes().to_vec());
        out
    }
}
