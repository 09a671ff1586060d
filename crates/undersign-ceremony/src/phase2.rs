//! Phase 2: the Groth16 keys of the depth-`D` membership circuit (`SPEC.md` §17.3).
//!
//! The initial key is computed from a verified phase 1 and the circuit's constraint matrices,
//! exactly as arkworks' `generate_parameters_with_qap` (with `LibsnarkReduction`) would compute
//! it for the same `τ, α, β` with `γ = δ = 1`: never with a generator that knows the secrets.
//! Each contribution draws `d` and sets `δ ← d·δ` (G1 and G2) and every L and H element
//! `← d⁻¹·`, with a proof of knowledge of `d` bound to the previous record's hash. A beacon is a
//! contribution whose `d` anyone recomputes from a public random value.

use crate::codec::{self, Reader, G1_LEN, G2_LEN};
use crate::error::{
    CeremonyError, ContributionCheck, FormatError, ParameterCheck, Secret, VerifyError,
};
use crate::lagrange::lagrange_basis;
use crate::phase1::{rlc_coefficients, scale, Phase1};
use crate::pok::{nonzero_scalar, same_ratio, PublicKey};
use crate::{derive_hash, Hash};
use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{Field, One, PrimeField, Zero};
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use ark_relations::gr1cs::Matrix;
use rand::{CryptoRng, RngCore};
use rayon::prelude::*;
use std::path::Path;
use undersign_circuit::MembershipCircuit;
use undersign_core::merkle::{MAX_DEPTH, MIN_DEPTH};
use undersign_proof::{ProvingKey, VerifyingKey};
use zeroize::Zeroizing;

/// First 16 bytes of a phase-2 file.
pub const MAGIC: &[u8; 16] = b"undersign-p2-v1\n";
/// blake3 `derive_key` context of the hash a new phase-2 transcript starts from.
pub const START_CONTEXT: &str = "undersign v1 ceremony phase2 start";
/// blake3 `derive_key` context of a key's hash.
pub const KEY_CONTEXT: &str = "undersign v1 ceremony phase2 key";
/// blake3 `derive_key` context of a record's hash.
pub const RECORD_CONTEXT: &str = "undersign v1 ceremony phase2 contribution";
/// `hash_to_g2` context of the proofs of knowledge of `d`.
pub const POK_CONTEXT: &str = "undersign v1 ceremony phase2 proof of knowledge";
/// blake3 `derive_key` context turning a beacon value into the first chain value.
pub const BEACON_CONTEXT: &str = "undersign v1 ceremony beacon";
/// blake3 `derive_key` context turning the last chain value into the beacon's `d`.
pub const BEACON_SCALAR_CONTEXT: &str = "undersign v1 ceremony beacon scalar";
/// blake3 `derive_key` context turning the last chain value into the beacon's proof nonce.
pub const BEACON_NONCE_CONTEXT: &str = "undersign v1 ceremony beacon nonce";
/// Smallest beacon exponent `n` (the chain has `2^n` blake3 iterations).
pub const MIN_BEACON_EXPONENT: u8 = 10;
/// Largest beacon exponent.
pub const MAX_BEACON_EXPONENT: u8 = 32;
/// Longest beacon value in bytes.
pub const MAX_BEACON_LEN: usize = 255;

/// The circuit's constraint system in the form the ceremony needs.
pub struct CircuitShape {
    /// Tree depth.
    pub depth: u32,
    /// A, B, C as rows of `(coefficient, variable)`.
    pub matrices: Vec<Matrix<Fr>>,
    /// Instance variables, the constant `1` included.
    pub num_instance: usize,
    /// Witness variables.
    pub num_witness: usize,
    /// Constraints.
    pub num_constraints: usize,
}

impl CircuitShape {
    /// Synthesizes the depth-`depth` membership circuit exactly as the prover does.
    pub fn new(depth: u32) -> Result<Self, CeremonyError> {
        check_depth(depth).map_err(CeremonyError::Parameter)?;
        let shape = MembershipCircuit::shape_matrices(depth)
            .map_err(|e| CeremonyError::Circuit(e.to_string()))?;
        Ok(CircuitShape {
            depth,
            matrices: shape.matrices,
            num_instance: shape.num_instance_variables,
            num_witness: shape.num_witness_variables,
            num_constraints: shape.num_constraints,
        })
    }

    /// The QAP domain: the smallest power of two `≥ constraints + instance variables`
    /// (arkworks' `LibsnarkReduction`).
    pub fn domain(&self) -> Result<GeneralEvaluationDomain<Fr>, CeremonyError> {
        GeneralEvaluationDomain::new(self.num_constraints + self.num_instance)
            .ok_or_else(|| CeremonyError::Circuit("no evaluation domain of the needed size".into()))
    }
}

fn check_depth(depth: u32) -> Result<(), String> {
    if (MIN_DEPTH..=MAX_DEPTH).contains(&depth) {
        Ok(())
    } else {
        Err(format!(
            "tree depth {depth} is not supported (must be {MIN_DEPTH} to {MAX_DEPTH})"
        ))
    }
}

/// Columns longer than this use a (parallel) multi-scalar multiplication, one column at a
/// time; shorter ones are summed serially, many columns in parallel. (Nesting rayon inside
/// rayon here would let work stealing nest jobs arbitrarily deep and overflow worker stacks.)
const MSM_COLUMN: usize = 64;

/// Σ coefficient·basis[row] over one column.
fn combine<C>(column: &[(usize, Fr)], basis: &[C::Affine], msm: bool) -> C
where
    C: CurveGroup<ScalarField = Fr> + VariableBaseMSM<MulBase = <C as CurveGroup>::Affine>,
{
    if msm && column.len() > 16 {
        let bases: Vec<C::Affine> = column.iter().map(|(j, _)| basis[*j]).collect();
        let scalars: Vec<Fr> = column.iter().map(|(_, c)| *c).collect();
        return C::msm_unchecked(&bases, &scalars);
    }
    let mut acc = C::zero();
    for (j, coeff) in column {
        if coeff.is_one() {
            acc += basis[*j];
        } else {
            acc += basis[*j] * *coeff;
        }
    }
    acc
}

/// The initial (δ = 1) proving key of the depth-`depth` circuit from phase-1 parameters
/// (`SPEC.md` §17.3). Phase 1 must be large enough for the circuit's domain.
pub fn initial_key(phase1: &Phase1, depth: u32) -> Result<ProvingKey, CeremonyError> {
    let shape = CircuitShape::new(depth)?;
    let domain = shape.domain()?;
    let n = domain.size();
    if n > phase1.size() {
        return Err(CeremonyError::Parameter(format!(
            "phase 1 has 2^{} = {} powers; the depth-{depth} circuit needs {n} (use --power {} or more)",
            phase1.power(),
            phase1.size(),
            n.trailing_zeros()
        )));
    }
    let ((l_g1, l_g2), (alpha_l_g1, beta_l_g1)) = rayon::join(
        || {
            rayon::join(
                || lagrange_basis::<G1Projective>(phase1.tau_g1(), &domain),
                || lagrange_basis::<G2Projective>(phase1.tau_g2(), &domain),
            )
        },
        || {
            rayon::join(
                || lagrange_basis::<G1Projective>(phase1.alpha_tau_g1(), &domain),
                || lagrange_basis::<G1Projective>(phase1.beta_tau_g1(), &domain),
            )
        },
    );
    let num_vars = shape.num_instance + shape.num_witness;
    let mut columns = vec![vec![Vec::new(); num_vars]; 3];
    for (m, matrix) in shape.matrices.iter().enumerate().take(3) {
        for (j, row) in matrix.iter().enumerate() {
            for (coeff, var) in row {
                columns[m][*var].push((j, *coeff));
            }
        }
    }
    // LibsnarkReduction: instance variable i also gets L_{constraints + i} in A.
    for (i, column) in columns[0].iter_mut().enumerate().take(shape.num_instance) {
        column.push((shape.num_constraints + i, Fr::one()));
    }
    let (a, b, c) = (&columns[0], &columns[1], &columns[2]);
    type Row = (G1Projective, G1Projective, G2Projective, G1Projective);
    let row = |v: usize, msm: bool| -> Row {
        let a_v = combine::<G1Projective>(&a[v], &l_g1, msm);
        let b_v = combine::<G1Projective>(&b[v], &l_g1, msm);
        let b2_v = combine::<G2Projective>(&b[v], &l_g2, msm);
        let abc = combine::<G1Projective>(&a[v], &beta_l_g1, msm)
            + combine::<G1Projective>(&b[v], &alpha_l_g1, msm)
            + combine::<G1Projective>(&c[v], &l_g1, msm);
        (a_v, b_v, b2_v, abc)
    };
    let long = |v: usize| [a, b, c].iter().any(|m| m[v].len() > MSM_COLUMN);
    let mut rows: Vec<Row> = (0..num_vars)
        .into_par_iter()
        .map(|v| {
            if long(v) {
                Default::default()
            } else {
                row(v, false)
            }
        })
        .collect();
    for v in (0..num_vars).filter(|&v| long(v)) {
        rows[v] = row(v, true);
    }
    let a_query = G1Projective::normalize_batch(&rows.iter().map(|r| r.0).collect::<Vec<_>>());
    let b_g1_query = G1Projective::normalize_batch(&rows.iter().map(|r| r.1).collect::<Vec<_>>());
    let b_g2_query = G2Projective::normalize_batch(&rows.iter().map(|r| r.2).collect::<Vec<_>>());
    let mut abc = G1Projective::normalize_batch(&rows.iter().map(|r| r.3).collect::<Vec<_>>());
    let l_query = abc.split_off(shape.num_instance);
    let tau = phase1.tau_g1();
    // [τ^i·t(τ)] = [τ^(i+n)] − [τ^i] for i < n − 1 (arkworks' h_query length).
    let h: Vec<G1Projective> = (0..n - 1)
        .into_par_iter()
        .map(|i| tau[i + n].into_group() - tau[i])
        .collect();
    let h_query = G1Projective::normalize_batch(&h);
    Ok(ProvingKey {
        vk: VerifyingKey {
            alpha_g1: phase1.alpha_tau_g1()[0],
            beta_g2: phase1.beta_g2(),
            gamma_g2: G2Affine::generator(),
            delta_g2: G2Affine::generator(),
            gamma_abc_g1: abc,
        },
        beta_g1: phase1.beta_tau_g1()[0],
        delta_g1: G1Affine::generator(),
        a_query,
        b_g1_query,
        b_g2_query,
        h_query,
        l_query,
    })
}

/// The encoding of a proving key inside a phase-2 file (`SPEC.md` §17.4).
pub fn key_bytes(key: &ProvingKey) -> Vec<u8> {
    let vk = &key.vk;
    let points_g1 = vk.gamma_abc_g1.len()
        + key.a_query.len()
        + key.b_g1_query.len()
        + key.h_query.len()
        + key.l_query.len()
        + 3;
    let mut out = Vec::with_capacity(points_g1 * G1_LEN + (key.b_g2_query.len() + 3) * G2_LEN + 24);
    codec::put_points(&mut out, &[vk.alpha_g1, key.beta_g1]);
    codec::put_points(&mut out, &[vk.beta_g2, vk.gamma_g2]);
    codec::put_points(&mut out, &[key.delta_g1]);
    codec::put_points(&mut out, &[vk.delta_g2]);
    codec::put_list(&mut out, &vk.gamma_abc_g1);
    codec::put_list(&mut out, &key.a_query);
    codec::put_list(&mut out, &key.b_g1_query);
    codec::put_list(&mut out, &key.b_g2_query);
    codec::put_list(&mut out, &key.h_query);
    codec::put_list(&mut out, &key.l_query);
    out
}

/// A key's hash: blake3 (`derive_key`, [`KEY_CONTEXT`]) of [`key_bytes`].
pub fn key_hash(key: &ProvingKey) -> Hash {
    derive_hash(KEY_CONTEXT, &[&key_bytes(key)])
}

fn read_key(r: &mut Reader<'_>) -> Result<ProvingKey, FormatError> {
    let alpha_g1 = r.g1("alpha_g1")?;
    let beta_g1 = r.g1("beta_g1")?;
    let beta_g2 = r.g2("beta_g2")?;
    let gamma_g2 = r.g2("gamma_g2")?;
    let delta_g1 = r.g1("delta_g1")?;
    let delta_g2 = r.g2("delta_g2")?;
    let gamma_abc_g1 = r.g1_list("gamma_abc_g1")?;
    let a_query = r.g1_list("a_query")?;
    let b_g1_query = r.g1_list("b_g1_query")?;
    let b_g2_query = r.g2_list("b_g2_query")?;
    let h_query = r.g1_list("h_query")?;
    let l_query = r.g1_list("l_query")?;
    Ok(ProvingKey {
        vk: VerifyingKey {
            alpha_g1,
            beta_g2,
            gamma_g2,
            delta_g2,
            gamma_abc_g1,
        },
        beta_g1,
        delta_g1,
        a_query,
        b_g1_query,
        b_g2_query,
        h_query,
        l_query,
    })
}

/// A public beacon: the value and the exponent `n` of its `2^n` blake3 iterations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beacon {
    /// The public random value (e.g. a block hash announced in advance), 1 to 255 bytes.
    pub value: Vec<u8>,
    /// `n`: the chain has `2^n` iterations, `10 ≤ n ≤ 32`.
    pub exponent: u8,
}

impl Beacon {
    /// Checks the value's length and the exponent's range.
    pub fn new(value: Vec<u8>, exponent: u8) -> Result<Self, String> {
        if value.is_empty() || value.len() > MAX_BEACON_LEN {
            return Err(format!(
                "the beacon value must be 1 to {MAX_BEACON_LEN} bytes, not {}",
                value.len()
            ));
        }
        if !(MIN_BEACON_EXPONENT..=MAX_BEACON_EXPONENT).contains(&exponent) {
            return Err(format!(
                "the beacon exponent must be {MIN_BEACON_EXPONENT} to {MAX_BEACON_EXPONENT}, not {exponent}"
            ));
        }
        Ok(Beacon { value, exponent })
    }

    /// `(d, k)`: `h_0 = derive_key(BEACON_CONTEXT, value)`, `h_{i+1} = blake3(h_i)` for `2^n`
    /// steps, then `d` and the proof nonce `k` are 64 bytes of `derive_key` extended output
    /// (contexts [`BEACON_SCALAR_CONTEXT`], [`BEACON_NONCE_CONTEXT`]) over the last `h`, read
    /// little-endian mod r. `None` if either is zero (probability about 2^-254).
    pub fn scalars(&self) -> Option<(Zeroizing<Fr>, Zeroizing<Fr>)> {
        let mut h = derive_hash(BEACON_CONTEXT, &[&self.value]);
        for _ in 0..(1u64 << self.exponent) {
            h = *blake3::hash(&h).as_bytes();
        }
        let wide = |context: &str| {
            let mut bytes = [0u8; 64];
            blake3::Hasher::new_derive_key(context)
                .update(&h)
                .finalize_xof()
                .fill(&mut bytes);
            Fr::from_le_bytes_mod_order(&bytes)
        };
        let d = wide(BEACON_SCALAR_CONTEXT);
        let k = wide(BEACON_NONCE_CONTEXT);
        (!d.is_zero() && !k.is_zero()).then(|| (Zeroizing::new(d), Zeroizing::new(k)))
    }
}

/// One phase-2 contribution record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    /// Hash of the previous record (or of the start for the first one).
    pub previous: Hash,
    /// `δ·G1` after this contribution.
    pub delta_g1: G1Affine,
    /// Proof of knowledge of `d`.
    pub pok: PublicKey,
    /// Hash of the key this contribution produced ([`key_hash`]).
    pub state_after: Hash,
    /// For a beacon: the public value `d` is derived from.
    pub beacon: Option<Beacon>,
}

impl Contribution {
    /// The record's canonical bytes (`SPEC.md` §17.4).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 32 + 3 * G1_LEN + G2_LEN + 32 + 2 + 255);
        out.push(u8::from(self.beacon.is_some()));
        out.extend_from_slice(&self.previous);
        codec::put_points(&mut out, &[self.delta_g1, self.pok.s, self.pok.s_x]);
        codec::put_points(&mut out, &[self.pok.r_x]);
        out.extend_from_slice(&self.state_after);
        if let Some(beacon) = &self.beacon {
            out.push(beacon.exponent);
            out.push(beacon.value.len() as u8);
            out.extend_from_slice(&beacon.value);
        }
        out
    }

    /// The contribution hash: blake3 (`derive_key`, [`RECORD_CONTEXT`]) of the record bytes.
    pub fn hash(&self) -> Hash {
        derive_hash(RECORD_CONTEXT, &[&self.to_bytes()])
    }

    fn read(r: &mut Reader<'_>, index: usize) -> Result<Self, FormatError> {
        let w = |f: &str| format!("contribution #{index} {f}");
        let kind = r.u8(&w("kind"))?;
        if kind > 1 {
            return Err(FormatError::InvalidValue {
                what: w("kind"),
                reason: format!("{kind} is neither 0 (contribution) nor 1 (beacon)"),
            });
        }
        let previous = r.hash(&w("previous hash"))?;
        let delta_g1 = r.g1(&w("delta_g1"))?;
        let s = r.g1(&w("proof s"))?;
        let s_x = r.g1(&w("proof s_d"))?;
        let r_x = r.g2(&w("proof r_d"))?;
        let state_after = r.hash(&w("state hash"))?;
        let beacon = if kind == 1 {
            let exponent = r.u8(&w("beacon exponent"))?;
            let len = r.u8(&w("beacon length"))? as usize;
            let value = r.take(len, &w("beacon value"))?.to_vec();
            Some(
                Beacon::new(value, exponent).map_err(|reason| FormatError::InvalidValue {
                    what: w("beacon"),
                    reason,
                })?,
            )
        } else {
            None
        };
        Ok(Contribution {
            previous,
            delta_g1,
            pok: PublicKey { s, s_x, r_x },
            state_after,
            beacon,
        })
    }
}

/// A phase-2 transcript: header, the current key and every contribution record.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase2 {
    depth: u32,
    phase1_hash: Hash,
    pub(crate) key: ProvingKey,
    pub(crate) contributions: Vec<Contribution>,
}

/// The summary of a verified phase-2 transcript.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Contribution hashes in order, with the beacon if the record is one.
    pub contributions: Vec<(Hash, Option<Beacon>)>,
}

impl Phase2 {
    /// Starts phase 2 for the depth-`depth` circuit from a phase 1 whose file hash is
    /// `phase1_hash`. The caller must have verified `phase1`.
    pub fn new(phase1: &Phase1, phase1_hash: Hash, depth: u32) -> Result<Self, CeremonyError> {
        let key = initial_key(phase1, depth)?;
        Ok(Phase2 {
            depth,
            phase1_hash,
            key,
            contributions: Vec::new(),
        })
    }

    /// Tree depth of the circuit.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// blake3 of the phase-1 file this transcript was made from.
    pub fn phase1_hash(&self) -> &Hash {
        &self.phase1_hash
    }

    /// The current proving key (which embeds the verifying key).
    pub fn proving_key(&self) -> &ProvingKey {
        &self.key
    }

    /// The contribution records, oldest first.
    pub fn contributions(&self) -> &[Contribution] {
        &self.contributions
    }

    /// The hash this transcript starts from: over the depth and the phase-1 file hash.
    pub fn start_hash(&self) -> Hash {
        derive_hash(
            START_CONTEXT,
            &[&self.depth.to_le_bytes(), &self.phase1_hash],
        )
    }

    /// The hash the next record must name as previous.
    pub fn last_hash(&self) -> Hash {
        self.contributions
            .last()
            .map(Contribution::hash)
            .unwrap_or_else(|| self.start_hash())
    }

    /// Contributes a fresh `d` from `rng` (the command line uses the OS generator); `d` is
    /// zeroized before this returns. Returns the new record's hash.
    ///
    /// First verifies `phase1` and this whole transcript against it and the circuit
    /// ([`Phase2::verify`]): a contributor must never scale a key they have not checked. Only
    /// the last record's state hash binds the key in the file, so a coordinator could otherwise
    /// hand over a key with extra L or H elements (say `[IC_j / δ]`), strip them after the
    /// contribution and publish a key that verifies, having learned the contributor's
    /// `[IC_j / (δ·d)]`: enough to forge proofs once δ's other factors are known.
    pub fn contribute<R: RngCore + CryptoRng>(
        &mut self,
        phase1: &Phase1,
        rng: &mut R,
    ) -> Result<Hash, CeremonyError> {
        self.verify_before_contributing(phase1, rng)?;
        let d = Zeroizing::new(nonzero_scalar(rng));
        let previous = self.last_hash();
        let pok = PublicKey::prove(&d, POK_CONTEXT, &previous, rng);
        Ok(self.apply(&d, pok, None))
    }

    /// Applies a public beacon as the next contribution (normally the last one). Takes about
    /// `2^exponent` blake3 hashes. Verifies first, as [`Phase2::contribute`] does (`rng` draws
    /// the verification's random coefficients only).
    pub fn beacon<R: RngCore + CryptoRng>(
        &mut self,
        phase1: &Phase1,
        beacon: Beacon,
        rng: &mut R,
    ) -> Result<Hash, CeremonyError> {
        self.verify_before_contributing(phase1, rng)?;
        let (d, k) = beacon.scalars().ok_or_else(|| {
            CeremonyError::Parameter("this beacon gives a zero scalar; use another value".into())
        })?;
        let previous = self.last_hash();
        let pok = PublicKey::prove_with_k(&d, &k, POK_CONTEXT, &previous);
        Ok(self.apply(&d, pok, Some(beacon)))
    }

    /// Phase 1, then this transcript in full against it ([`Phase2::verify`], with the hash of
    /// `phase1`'s own canonical file bytes), and no beacon yet.
    fn verify_before_contributing<R: RngCore + CryptoRng>(
        &self,
        phase1: &Phase1,
        rng: &mut R,
    ) -> Result<(), CeremonyError> {
        phase1.verify(rng)?;
        let phase1_hash = *blake3::hash(&phase1.to_bytes()).as_bytes();
        self.verify(phase1, &phase1_hash, rng)?;
        self.refuse_after_beacon()
    }

    /// The beacon closes the ceremony: nothing may follow it.
    fn refuse_after_beacon(&self) -> Result<(), CeremonyError> {
        match self.contributions.last() {
            Some(last) if last.beacon.is_some() => Err(CeremonyError::Parameter(
                "this transcript already ends with the beacon; the ceremony is closed".into(),
            )),
            _ => Ok(()),
        }
    }

    fn apply(&mut self, d: &Fr, pok: PublicKey, beacon: Option<Beacon>) -> Hash {
        let previous = self.last_hash();
        let d_inv = Zeroizing::new(d.inverse().unwrap_or_default());
        self.key.delta_g1 = (self.key.delta_g1 * d).into_affine();
        self.key.vk.delta_g2 = (self.key.vk.delta_g2 * d).into_affine();
        let d_inv = &d_inv;
        scale::<G1Projective>(&mut self.key.l_query, |_| **d_inv);
        scale::<G1Projective>(&mut self.key.h_query, |_| **d_inv);
        let record = Contribution {
            previous,
            delta_g1: self.key.delta_g1,
            pok,
            state_after: key_hash(&self.key),
            beacon,
        };
        let hash = record.hash();
        self.contributions.push(record);
        hash
    }

    /// Checks that the last record's state hash is the hash of the key in the file.
    pub fn verify_state_hash(&self) -> Result<(), VerifyError> {
        match self.contributions.last() {
            Some(last) if last.state_after != key_hash(&self.key) => {
                Err(VerifyError::Contribution {
                    phase: 2,
                    index: self.contributions.len(),
                    check: ContributionCheck::StateHash,
                })
            }
            _ => Ok(()),
        }
    }

    /// Checks the records in order (hash chain, proofs of knowledge, the δ chain, beacons) and
    /// that the key's δ is the last record's, consistently in G1 and G2. Does not check L, H,
    /// the other elements or the state hash ([`Phase2::verify`] does).
    pub fn verify_contributions(&self) -> Result<Verified, VerifyError> {
        let g1 = G1Affine::generator();
        let g2 = G2Affine::generator();
        let mut links = Vec::with_capacity(self.contributions.len());
        let mut expected_previous = self.start_hash();
        let mut before = g1;
        let mut hashes = Vec::with_capacity(self.contributions.len());
        for c in &self.contributions {
            links.push((expected_previous, before));
            before = c.delta_g1;
            expected_previous = c.hash();
            hashes.push((expected_previous, c.beacon.clone()));
        }
        let failure = links
            .par_iter()
            .enumerate()
            .find_map_first(|(i, (previous, before))| {
                let c = &self.contributions[i];
                let fail = |check| {
                    Some(VerifyError::Contribution {
                        phase: 2,
                        index: i + 1,
                        check,
                    })
                };
                if c.beacon.is_some() && i + 1 != self.contributions.len() {
                    return fail(ContributionCheck::BeaconNotLast);
                }
                if c.previous != *previous {
                    return fail(ContributionCheck::PreviousHash);
                }
                if c.delta_g1.is_zero() {
                    return fail(ContributionCheck::Identity("delta_g1"));
                }
                if c.pok.has_identity() {
                    return fail(ContributionCheck::Identity("the proof of knowledge"));
                }
                let r = c.pok.r(POK_CONTEXT, &c.previous);
                if !c.pok.verify(&r) {
                    return fail(ContributionCheck::ProofOfKnowledge(Secret::Delta));
                }
                if !same_ratio((*before, c.delta_g1), (r, c.pok.r_x)) {
                    return fail(ContributionCheck::Update(Secret::Delta));
                }
                if let Some(beacon) = &c.beacon {
                    let Some((d, _)) = beacon.scalars() else {
                        return fail(ContributionCheck::Beacon);
                    };
                    if c.delta_g1 != (*before * *d).into_affine()
                        || c.pok.r_x != (r * *d).into_affine()
                    {
                        return fail(ContributionCheck::Beacon);
                    }
                }
                None
            });
        if let Some(e) = failure {
            return Err(e);
        }
        let fail = |check| VerifyError::Parameters { phase: 2, check };
        let expected_delta = self.contributions.last().map_or(g1, |c| c.delta_g1);
        if self.key.delta_g1 != expected_delta {
            return Err(fail(ParameterCheck::NotLastContribution("delta_g1")));
        }
        if self.key.vk.delta_g2.is_zero() {
            return Err(fail(ParameterCheck::Identity("delta_g2")));
        }
        if !same_ratio((g1, self.key.delta_g1), (g2, self.key.vk.delta_g2)) {
            return Err(fail(ParameterCheck::G2Mismatch("delta")));
        }
        Ok(Verified {
            contributions: hashes,
        })
    }

    /// Checks the key against phase 1 and the circuit without recomputing it (`SPEC.md`
    /// §17.3): the elements contributions never change must be exactly those phase 1 and the
    /// circuit determine, and L and H those divided by the final δ. Vectors are compared by
    /// random linear combinations with 128-bit coefficients from `rng`: for coefficients `ρ`
    /// over the variables, `Σ ρ_v·[u_v(τ)] = Σ_i c_i·[τ^i]` with `c = IFFT(A·ρ)`, a field
    /// computation, so each check costs two multi-scalar multiplications.
    pub fn verify_key<R: RngCore + CryptoRng>(
        &self,
        phase1: &Phase1,
        rng: &mut R,
    ) -> Result<(), CeremonyError> {
        let shape = CircuitShape::new(self.depth)?;
        let domain = shape.domain()?;
        let n = domain.size();
        let fail = |check| CeremonyError::Verify(VerifyError::Parameters { phase: 2, check });
        if n > phase1.size() {
            return Err(fail(ParameterCheck::TooSmall {
                size: phase1.size(),
                needed: n,
            }));
        }
        let k = &self.key;
        for (query, ok) in [
            ("alpha_g1", k.vk.alpha_g1 == phase1.alpha_tau_g1()[0]),
            ("beta_g1", k.beta_g1 == phase1.beta_tau_g1()[0]),
            ("beta_g2", k.vk.beta_g2 == phase1.beta_g2()),
            ("gamma_g2", k.vk.gamma_g2 == G2Affine::generator()),
        ] {
            if !ok {
                return Err(fail(ParameterCheck::Element { query, index: 0 }));
            }
        }
        let (num_instance, num_witness) = (shape.num_instance, shape.num_witness);
        let num_vars = num_instance + num_witness;
        for (query, expected, actual) in [
            ("gamma_abc_g1", num_instance, k.vk.gamma_abc_g1.len()),
            ("a_query", num_vars, k.a_query.len()),
            ("b_g1_query", num_vars, k.b_g1_query.len()),
            ("b_g2_query", num_vars, k.b_g2_query.len()),
            ("l_query", num_witness, k.l_query.len()),
            ("h_query", n - 1, k.h_query.len()),
        ] {
            if expected != actual {
                return Err(fail(ParameterCheck::Length {
                    query,
                    expected,
                    actual,
                }));
            }
        }
        // IFFT(M·ρ): the coefficients c with Σ_v ρ_v·M-polynomial_v(τ) = Σ_i c_i·τ^i.
        let coefficients = |m: usize, rho: &[Fr]| -> Vec<Fr> {
            let mut sigma: Vec<Fr> = shape.matrices[m]
                .par_iter()
                .map(|row| row.iter().map(|(c, v)| *c * rho[*v]).sum())
                .collect();
            sigma.resize(n, Fr::zero());
            if m == 0 {
                for i in 0..num_instance {
                    sigma[shape.num_constraints + i] += rho[i];
                }
            }
            domain.ifft_in_place(&mut sigma);
            sigma
        };
        let tau_g1 = &phase1.tau_g1()[..n];
        let tau_g2 = &phase1.tau_g2()[..n];
        let alpha_tau = &phase1.alpha_tau_g1()[..n];
        let beta_tau = &phase1.beta_tau_g1()[..n];
        let msm1 = |bases: &[G1Affine], scalars: &[Fr]| G1Projective::msm_unchecked(bases, scalars);
        let msm2 = |bases: &[G2Affine], scalars: &[Fr]| G2Projective::msm_unchecked(bases, scalars);
        // Σ ρ_v·[β·u_v(τ) + α·v_v(τ) + w_v(τ)] from phase 1.
        let abc = |rho: &[Fr]| {
            msm1(beta_tau, &coefficients(0, rho))
                + msm1(alpha_tau, &coefficients(1, rho))
                + msm1(tau_g1, &coefficients(2, rho))
        };

        let rho = rlc_coefficients(rng, num_vars);
        if msm1(&k.a_query, &rho) != msm1(tau_g1, &coefficients(0, &rho)) {
            return Err(fail(ParameterCheck::Query("a_query")));
        }
        let rho = rlc_coefficients(rng, num_vars);
        let c = coefficients(1, &rho);
        if msm1(&k.b_g1_query, &rho) != msm1(tau_g1, &c) {
            return Err(fail(ParameterCheck::Query("b_g1_query")));
        }
        if msm2(&k.b_g2_query, &rho) != msm2(tau_g2, &c) {
            return Err(fail(ParameterCheck::Query("b_g2_query")));
        }
        let mut rho = vec![Fr::zero(); num_vars];
        rho[..num_instance].copy_from_slice(&rlc_coefficients(rng, num_instance));
        if msm1(&k.vk.gamma_abc_g1, &rho[..num_instance]) != abc(&rho) {
            return Err(fail(ParameterCheck::Query("gamma_abc_g1")));
        }
        // L and H: e(Σρ·initial, G2) = e(Σρ·final, δ2).
        let g2 = G2Affine::generator();
        let mut rho = vec![Fr::zero(); num_vars];
        rho[num_instance..].copy_from_slice(&rlc_coefficients(rng, num_witness));
        let initial = abc(&rho).into_affine();
        let now = msm1(&k.l_query, &rho[num_instance..]).into_affine();
        if !same_ratio((initial, now), (k.vk.delta_g2, g2)) {
            return Err(fail(ParameterCheck::DividedByDelta("L")));
        }
        let rho = rlc_coefficients(rng, n - 1);
        let initial = (msm1(&phase1.tau_g1()[n..2 * n - 1], &rho) - msm1(&tau_g1[..n - 1], &rho))
            .into_affine();
        let now = msm1(&k.h_query, &rho).into_affine();
        if !same_ratio((initial, now), (k.vk.delta_g2, g2)) {
            return Err(fail(ParameterCheck::DividedByDelta("H")));
        }
        Ok(())
    }

    /// Full verification of this phase: this transcript was made from the phase 1 whose file
    /// hash is `phase1_hash` (the caller verifies phase 1 itself, and that some contribution
    /// in each phase had a secret: [`crate::export::verify_files`] does all), every record checks
    /// ([`Phase2::verify_contributions`]), the key is the one phase 1, the circuit and the
    /// final δ determine ([`Phase2::verify_key`]), and the last record's state hash is the
    /// key's.
    pub fn verify<R: RngCore + CryptoRng>(
        &self,
        phase1: &Phase1,
        phase1_hash: &Hash,
        rng: &mut R,
    ) -> Result<Verified, CeremonyError> {
        if phase1_hash != &self.phase1_hash {
            return Err(VerifyError::Parameters {
                phase: 2,
                check: ParameterCheck::Phase1Mismatch,
            }
            .into());
        }
        let verified = self.verify_contributions()?;
        self.verify_key(phase1, rng)?;
        self.verify_state_hash()?;
        Ok(verified)
    }

    /// The file encoding (`SPEC.md` §17.4).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&self.depth.to_le_bytes());
        out.extend_from_slice(&self.phase1_hash);
        out.extend_from_slice(&key_bytes(&self.key));
        out.extend_from_slice(&(self.contributions.len() as u32).to_le_bytes());
        for c in &self.contributions {
            out.extend_from_slice(&c.to_bytes());
        }
        out
    }

    /// Decodes a phase-2 file: magic, a supported depth, every point valid, the exact length,
    /// canonical encoding. Does not verify.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FormatError> {
        let mut r = Reader::new(bytes);
        r.magic(MAGIC, "an undersign phase-2 transcript")?;
        let depth = r.u32("the depth")?;
        check_depth(depth).map_err(|reason| FormatError::InvalidValue {
            what: "depth".into(),
            reason,
        })?;
        let phase1_hash = r.hash("the phase-1 hash")?;
        let key = read_key(&mut r)?;
        let count = r.u32("the number of contributions")? as usize;
        // Every record is at least this long: bound the count before allocating.
        let min_record = 1 + 32 + 3 * G1_LEN + G2_LEN + 32;
        if count.saturating_mul(min_record) > r.remaining() {
            return Err(FormatError::Truncated {
                what: format!("{count} contribution records"),
                offset: r.pos(),
                needed: count.saturating_mul(min_record),
                len: bytes.len(),
            });
        }
        let mut contributions = Vec::with_capacity(count);
        for i in 0..count {
            contributions.push(Contribution::read(&mut r, i + 1)?);
        }
        r.finish()?;
        let phase2 = Phase2 {
            depth,
            phase1_hash,
            key,
            contributions,
        };
        codec::check_canonical(bytes, &phase2.to_bytes())?;
        Ok(phase2)
    }

    /// Reads and decodes a phase-2 file; returns it with the file's blake3 hash.
    pub fn read(path: &Path) -> Result<(Self, Hash), CeremonyError> {
        let bytes = std::fs::read(path).map_err(|source| CeremonyError::Io {
            path: path.into(),
            source,
        })?;
        let phase2 = Self::from_bytes(&bytes).map_err(|source| CeremonyError::Format {
            path: path.into(),
            source,
        })?;
        Ok((phase2, *blake3::hash(&bytes).as_bytes()))
    }

    /// Writes the file atomically; returns its blake3 hash.
    pub fn write(&self, path: &Path) -> Result<Hash, CeremonyError> {
        let bytes = self.to_bytes();
        undersign_core::atomic::write_atomic(path, &bytes, false).map_err(|source| {
            CeremonyError::Io {
                path: path.into(),
                source,
            }
        })?;
        Ok(*blake3::hash(&bytes).as_bytes())
    }
}

#[cfg(test)]
mod tests;
