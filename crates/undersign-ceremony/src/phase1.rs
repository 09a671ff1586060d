//! Phase 1: powers of tau over BN254 (`SPEC.md` §17.2), independent of the circuit.
//!
//! For size `N = 2^power` the parameters are `τ^i·G1` for `i < 2N − 1`, `τ^i·G2`, `α·τ^i·G1` and
//! `β·τ^i·G1` for `i < N`, and `β·G2`. A new transcript holds the identity parameters (every
//! secret 1). Each contribution multiplies by fresh secrets `τ'`, `α'`, `β'` and appends a
//! record with the new leading values, a proof of knowledge of each secret bound to the hash of
//! the previous record, and the hash of the parameters it produced. Verification checks every
//! record in order and the final parameters' structure by random linear combinations.

use crate::codec::{self, Reader, G1_LEN, G2_LEN};
use crate::error::{
    CeremonyError, ContributionCheck, FormatError, ParameterCheck, Secret, VerifyError,
};
use crate::pok::{nonzero_scalar, same_ratio, PublicKey};
use crate::{derive_hash, Hash};
use ark_bn254::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::One;
use rand::{CryptoRng, Rng, RngCore};
use rayon::prelude::*;
use std::path::Path;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// First 16 bytes of a phase-1 file.
pub const MAGIC: &[u8; 16] = b"undersign-p1-v1\n";
/// First 16 bytes of a phase-1 file started from a snarkjs `.ptau` file (`SPEC.md` §17.7).
pub const MAGIC_IMPORTED: &[u8; 16] = b"undersign-p1-v2\n";
/// blake3 `derive_key` context of the hash an imported transcript starts from.
pub const IMPORT_CONTEXT: &str = "undersign v1 ceremony phase1 import";
/// Bytes of the import block of an imported transcript.
pub const IMPORT_LEN: usize = 64 + 4 + 3 * G1_LEN + 2 * G2_LEN;
/// Smallest supported `power`.
pub const MIN_POWER: u32 = 4;
/// Largest supported `power` (2^16 powers: circuits of up to ~65,000 constraints).
pub const MAX_POWER: u32 = 16;
/// blake3 `derive_key` context of the hash a new transcript starts from.
pub const START_CONTEXT: &str = "undersign v1 ceremony phase1 start";
/// blake3 `derive_key` context of the parameters' hash.
pub const STATE_CONTEXT: &str = "undersign v1 ceremony phase1 state";
/// blake3 `derive_key` context of a contribution record's hash.
pub const RECORD_CONTEXT: &str = "undersign v1 ceremony phase1 contribution";
/// `hash_to_g2` context of the proofs of knowledge.
pub const POK_CONTEXT: &str = "undersign v1 ceremony phase1 proof of knowledge";
/// Bytes of one contribution record.
pub const RECORD_LEN: usize = 32 + 3 * G1_LEN + 2 * G2_LEN + 3 * (2 * G1_LEN + G2_LEN) + 32;

/// One contribution: the leading values after it, proofs of knowledge, hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    /// Hash of the previous record (or of the start for the first one).
    pub previous: Hash,
    /// `τ·G1` after this contribution.
    pub tau_g1: G1Affine,
    /// `α·G1` after.
    pub alpha_g1: G1Affine,
    /// `β·G1` after.
    pub beta_g1: G1Affine,
    /// `τ·G2` after.
    pub tau_g2: G2Affine,
    /// `β·G2` after.
    pub beta_g2: G2Affine,
    /// Proof of knowledge of `τ'`.
    pub tau_pok: PublicKey,
    /// Proof of knowledge of `α'`.
    pub alpha_pok: PublicKey,
    /// Proof of knowledge of `β'`.
    pub beta_pok: PublicKey,
    /// Hash of the parameters this contribution produced ([`Phase1::state_hash`]).
    pub state_after: Hash,
}

impl Contribution {
    /// The record's canonical bytes (`SPEC.md` §17.4).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(RECORD_LEN);
        out.extend_from_slice(&self.previous);
        codec::put_points(&mut out, &[self.tau_g1, self.alpha_g1, self.beta_g1]);
        codec::put_points(&mut out, &[self.tau_g2, self.beta_g2]);
        for pk in [&self.tau_pok, &self.alpha_pok, &self.beta_pok] {
            codec::put_points(&mut out, &[pk.s, pk.s_x]);
            codec::put_points(&mut out, &[pk.r_x]);
        }
        out.extend_from_slice(&self.state_after);
        out
    }

    /// The contribution hash: blake3 (`derive_key`, [`RECORD_CONTEXT`]) of the record bytes.
    pub fn hash(&self) -> Hash {
        derive_hash(RECORD_CONTEXT, &[&self.to_bytes()])
    }

    fn read(r: &mut Reader<'_>, index: usize) -> Result<Self, FormatError> {
        let w = |f: &str| format!("contribution #{index} {f}");
        let previous = r.hash(&w("previous hash"))?;
        let tau_g1 = r.g1(&w("tau_g1"))?;
        let alpha_g1 = r.g1(&w("alpha_g1"))?;
        let beta_g1 = r.g1(&w("beta_g1"))?;
        let tau_g2 = r.g2(&w("tau_g2"))?;
        let beta_g2 = r.g2(&w("beta_g2"))?;
        let mut poks = Vec::with_capacity(3);
        for name in ["tau", "alpha", "beta"] {
            poks.push(PublicKey {
                s: r.g1(&w(&format!("{name} proof s")))?,
                s_x: r.g1(&w(&format!("{name} proof s_x")))?,
                r_x: r.g2(&w(&format!("{name} proof r_x")))?,
            });
        }
        let state_after = r.hash(&w("state hash"))?;
        Ok(Contribution {
            previous,
            tau_g1,
            alpha_g1,
            beta_g1,
            tau_g2,
            beta_g2,
            tau_pok: poks[0],
            alpha_pok: poks[1],
            beta_pok: poks[2],
            state_after,
        })
    }
}

/// Where an imported transcript started (`SPEC.md` §17.7): the `.ptau` file's blake2b-512
/// hash, its power, and the leading values of the parameters taken from it (the "before"
/// values of the first record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// blake2b-512 of the whole `.ptau` file.
    pub ptau_blake2b: [u8; 64],
    /// The `.ptau` file's power.
    pub ptau_power: u32,
    /// `tau_g1[1]` of the imported parameters.
    pub tau_g1: G1Affine,
    /// `alpha_tau_g1[0]`.
    pub alpha_g1: G1Affine,
    /// `beta_tau_g1[0]`.
    pub beta_g1: G1Affine,
    /// `tau_g2[1]`.
    pub tau_g2: G2Affine,
    /// `beta_g2`.
    pub beta_g2: G2Affine,
}

impl Import {
    /// The import block's bytes (`SPEC.md` §17.7).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(IMPORT_LEN);
        out.extend_from_slice(&self.ptau_blake2b);
        out.extend_from_slice(&self.ptau_power.to_le_bytes());
        codec::put_points(&mut out, &[self.tau_g1, self.alpha_g1, self.beta_g1]);
        codec::put_points(&mut out, &[self.tau_g2, self.beta_g2]);
        out
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, FormatError> {
        let mut ptau_blake2b = [0u8; 64];
        ptau_blake2b.copy_from_slice(r.take(64, "the .ptau file's blake2b hash")?);
        Ok(Import {
            ptau_blake2b,
            ptau_power: r.u32("the .ptau file's power")?,
            tau_g1: r.g1("import tau_g1")?,
            alpha_g1: r.g1("import alpha_g1")?,
            beta_g1: r.g1("import beta_g1")?,
            tau_g2: r.g2("import tau_g2")?,
            beta_g2: r.g2("import beta_g2")?,
        })
    }

    /// The leading values, G1 then G2.
    fn leading(&self) -> (G1Affine, G1Affine, G1Affine, G2Affine, G2Affine) {
        (
            self.tau_g1,
            self.alpha_g1,
            self.beta_g1,
            self.tau_g2,
            self.beta_g2,
        )
    }
}

/// A contribution's secrets; zeroized when dropped.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct Secrets {
    pub(crate) tau: Fr,
    pub(crate) alpha: Fr,
    pub(crate) beta: Fr,
}

impl Secrets {
    fn random<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        Secrets {
            tau: nonzero_scalar(rng),
            alpha: nonzero_scalar(rng),
            beta: nonzero_scalar(rng),
        }
    }
}

/// A phase-1 transcript: the current parameters and every contribution record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phase1 {
    power: u32,
    pub(crate) tau_g1: Vec<G1Affine>,
    pub(crate) tau_g2: Vec<G2Affine>,
    pub(crate) alpha_tau_g1: Vec<G1Affine>,
    pub(crate) beta_tau_g1: Vec<G1Affine>,
    pub(crate) beta_g2: G2Affine,
    pub(crate) contributions: Vec<Contribution>,
    /// Set when the transcript started from a `.ptau` file rather than the identity.
    pub(crate) import: Option<Import>,
}

/// The prefix of a proof-of-knowledge challenge: previous hash ‖ secret id.
fn pok_prefix(previous: &Hash, id: u8) -> Vec<u8> {
    let mut prefix = previous.to_vec();
    prefix.push(id);
    prefix
}

fn check_power(power: u32) -> Result<(), String> {
    if (MIN_POWER..=MAX_POWER).contains(&power) {
        Ok(())
    } else {
        Err(format!(
            "power {power} is not supported (must be {MIN_POWER} to {MAX_POWER})"
        ))
    }
}

/// Multiplies `points[i]` by `scalar(i)` in parallel.
pub(crate) fn scale<C>(points: &mut [C::Affine], scalar: impl Fn(usize) -> Fr + Sync)
where
    C: CurveGroup<ScalarField = Fr>,
{
    let scaled: Vec<C> = points
        .par_iter()
        .enumerate()
        .map(|(i, p)| {
            let s = Zeroizing::new(scalar(i));
            *p * *s
        })
        .collect();
    points.copy_from_slice(&C::normalize_batch(&scaled));
}

/// `count` random 128-bit coefficients for a random linear combination.
pub(crate) fn rlc_coefficients<R: RngCore + CryptoRng>(rng: &mut R, count: usize) -> Vec<Fr> {
    (0..count).map(|_| Fr::from(rng.gen::<u128>())).collect()
}

impl Phase1 {
    /// A new transcript of size `2^power` with the identity parameters and no contributions.
    pub fn new(power: u32) -> Result<Self, CeremonyError> {
        check_power(power).map_err(CeremonyError::Parameter)?;
        let n = 1usize << power;
        Ok(Phase1 {
            power,
            tau_g1: vec![G1Affine::generator(); 2 * n - 1],
            tau_g2: vec![G2Affine::generator(); n],
            alpha_tau_g1: vec![G1Affine::generator(); n],
            beta_tau_g1: vec![G1Affine::generator(); n],
            beta_g2: G2Affine::generator(),
            contributions: Vec::new(),
            import: None,
        })
    }

    /// A new transcript of size `2^power` whose parameters are the first powers of a snarkjs
    /// `.ptau` file (`SPEC.md` §17.7), and no contributions. Every point is validated; the
    /// caller verifies the parameters ([`Phase1::verify`]) before using them.
    pub fn import_ptau(path: &Path, power: u32) -> Result<Self, CeremonyError> {
        check_power(power).map_err(CeremonyError::Parameter)?;
        let p = crate::ptau::read_prefix(path, power)?;
        let import = Import {
            ptau_blake2b: p.blake2b,
            ptau_power: p.ptau_power,
            tau_g1: p.tau_g1[1],
            alpha_g1: p.alpha_tau_g1[0],
            beta_g1: p.beta_tau_g1[0],
            tau_g2: p.tau_g2[1],
            beta_g2: p.beta_g2,
        };
        Ok(Phase1 {
            power,
            tau_g1: p.tau_g1,
            tau_g2: p.tau_g2,
            alpha_tau_g1: p.alpha_tau_g1,
            beta_tau_g1: p.beta_tau_g1,
            beta_g2: p.beta_g2,
            contributions: Vec::new(),
            import: Some(import),
        })
    }

    /// The `.ptau` origin of an imported transcript.
    pub fn import(&self) -> Option<&Import> {
        self.import.as_ref()
    }

    /// The leading values the first record starts from: the imported ones, or generators.
    fn origin(&self) -> (G1Affine, G1Affine, G1Affine, G2Affine, G2Affine) {
        let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
        self.import
            .as_ref()
            .map_or((g1, g1, g1, g2, g2), Import::leading)
    }

    /// `power`: the transcript has `2^power` powers.
    pub fn power(&self) -> u32 {
        self.power
    }

    /// `N = 2^power`.
    pub fn size(&self) -> usize {
        1 << self.power
    }

    /// `τ^i·G1`, `i < 2N − 1`.
    pub fn tau_g1(&self) -> &[G1Affine] {
        &self.tau_g1
    }

    /// `τ^i·G2`, `i < N`.
    pub fn tau_g2(&self) -> &[G2Affine] {
        &self.tau_g2
    }

    /// `α·τ^i·G1`, `i < N`.
    pub fn alpha_tau_g1(&self) -> &[G1Affine] {
        &self.alpha_tau_g1
    }

    /// `β·τ^i·G1`, `i < N`.
    pub fn beta_tau_g1(&self) -> &[G1Affine] {
        &self.beta_tau_g1
    }

    /// `β·G2`.
    pub fn beta_g2(&self) -> G2Affine {
        self.beta_g2
    }

    /// The contribution records, oldest first.
    pub fn contributions(&self) -> &[Contribution] {
        &self.contributions
    }

    /// The hash a new transcript of this size starts from.
    pub fn start_hash(&self) -> Hash {
        match &self.import {
            None => derive_hash(START_CONTEXT, &[&self.power.to_le_bytes()]),
            Some(import) => derive_hash(
                IMPORT_CONTEXT,
                &[&self.power.to_le_bytes(), &import.to_bytes()],
            ),
        }
    }

    /// The hash the next contribution must name as its previous: the last record's hash, or
    /// the start hash.
    pub fn last_hash(&self) -> Hash {
        self.contributions
            .last()
            .map(Contribution::hash)
            .unwrap_or_else(|| self.start_hash())
    }

    fn parameter_bytes(&self) -> Vec<u8> {
        let n = self.size();
        let mut out = Vec::with_capacity(4 + (4 * n - 1) * G1_LEN + (n + 1) * G2_LEN);
        out.extend_from_slice(&self.power.to_le_bytes());
        codec::put_points(&mut out, &self.tau_g1);
        codec::put_points(&mut out, &self.tau_g2);
        codec::put_points(&mut out, &self.alpha_tau_g1);
        codec::put_points(&mut out, &self.beta_tau_g1);
        codec::put_points(&mut out, &[self.beta_g2]);
        out
    }

    /// The parameters' hash: blake3 (`derive_key`, [`STATE_CONTEXT`]) of `power` and the five
    /// vectors as encoded in the file.
    pub fn state_hash(&self) -> Hash {
        derive_hash(STATE_CONTEXT, &[&self.parameter_bytes()])
    }

    /// Contributes fresh secrets drawn from `rng` (the command line uses the OS generator);
    /// the secrets are zeroized before this returns. Returns the new record's hash.
    ///
    /// Checks the transcript first ([`Phase1::verify`]).
    pub fn contribute<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
    ) -> Result<Hash, CeremonyError> {
        self.verify(rng)?;
        let secrets = Secrets::random(rng);
        Ok(self.apply(&secrets, rng))
    }

    /// Multiplies the parameters by `secrets` and appends the record.
    pub(crate) fn apply<R: RngCore + CryptoRng>(&mut self, secrets: &Secrets, rng: &mut R) -> Hash {
        let previous = self.last_hash();
        let mut powers = Zeroizing::new(Vec::with_capacity(self.tau_g1.len()));
        let mut p = Fr::one();
        for _ in 0..self.tau_g1.len() {
            powers.push(p);
            p *= secrets.tau;
        }
        p.zeroize();
        let powers = &powers;
        scale::<G1Projective>(&mut self.tau_g1, |i| powers[i]);
        scale::<G2Projective>(&mut self.tau_g2, |i| powers[i]);
        scale::<G1Projective>(&mut self.alpha_tau_g1, |i| secrets.alpha * powers[i]);
        scale::<G1Projective>(&mut self.beta_tau_g1, |i| secrets.beta * powers[i]);
        self.beta_g2 = (self.beta_g2 * secrets.beta).into_affine();
        let tau_pok = PublicKey::prove(&secrets.tau, POK_CONTEXT, &pok_prefix(&previous, 0), rng);
        let alpha_pok =
            PublicKey::prove(&secrets.alpha, POK_CONTEXT, &pok_prefix(&previous, 1), rng);
        let beta_pok = PublicKey::prove(&secrets.beta, POK_CONTEXT, &pok_prefix(&previous, 2), rng);
        let record = Contribution {
            previous,
            tau_g1: self.tau_g1[1],
            alpha_g1: self.alpha_tau_g1[0],
            beta_g1: self.beta_tau_g1[0],
            tau_g2: self.tau_g2[1],
            beta_g2: self.beta_g2,
            tau_pok,
            alpha_pok,
            beta_pok,
            state_after: self.state_hash(),
        };
        let hash = record.hash();
        self.contributions.push(record);
        hash
    }

    /// Checks every contribution record in order: hash chain, proofs of knowledge, and that
    /// each moved the leading values by the secrets it proved knowledge of.
    pub fn verify_contributions(&self) -> Result<(), VerifyError> {
        let g1 = G1Affine::generator();
        let g2 = G2Affine::generator();
        // What each record must name as previous, and the leading values before it.
        let mut links = Vec::with_capacity(self.contributions.len());
        let mut expected_previous = self.start_hash();
        let origin = self.origin();
        let mut before = (origin.0, origin.1, origin.2);
        for c in &self.contributions {
            links.push((expected_previous, before));
            before = (c.tau_g1, c.alpha_g1, c.beta_g1);
            expected_previous = c.hash();
        }
        // Records are checked in parallel; the first failing record (in order) is reported,
        // with its first failing check.
        let failure = links
            .par_iter()
            .enumerate()
            .find_map_first(|(i, (previous, before))| {
                let c = &self.contributions[i];
                let fail = |check| {
                    Some(VerifyError::Contribution {
                        phase: 1,
                        index: i + 1,
                        check,
                    })
                };
                if c.previous != *previous {
                    return fail(ContributionCheck::PreviousHash);
                }
                for (what, zero) in [
                    ("tau_g1", c.tau_g1.is_zero()),
                    ("alpha_g1", c.alpha_g1.is_zero()),
                    ("beta_g1", c.beta_g1.is_zero()),
                    ("tau_g2", c.tau_g2.is_zero()),
                    ("beta_g2", c.beta_g2.is_zero()),
                    ("the tau proof of knowledge", c.tau_pok.has_identity()),
                    ("the alpha proof of knowledge", c.alpha_pok.has_identity()),
                    ("the beta proof of knowledge", c.beta_pok.has_identity()),
                ] {
                    if zero {
                        return fail(ContributionCheck::Identity(what));
                    }
                }
                for (secret, id, pk, old, new) in [
                    (Secret::Tau, 0u8, &c.tau_pok, before.0, c.tau_g1),
                    (Secret::Alpha, 1, &c.alpha_pok, before.1, c.alpha_g1),
                    (Secret::Beta, 2, &c.beta_pok, before.2, c.beta_g1),
                ] {
                    let r = pk.r(POK_CONTEXT, &pok_prefix(&c.previous, id));
                    if !pk.verify(&r) {
                        return fail(ContributionCheck::ProofOfKnowledge(secret));
                    }
                    if !same_ratio((old, new), (r, pk.r_x)) {
                        return fail(ContributionCheck::Update(secret));
                    }
                }
                if !same_ratio((g1, c.tau_g1), (g2, c.tau_g2)) {
                    return fail(ContributionCheck::G2Mismatch(Secret::Tau));
                }
                if !same_ratio((g1, c.beta_g1), (g2, c.beta_g2)) {
                    return fail(ContributionCheck::G2Mismatch(Secret::Beta));
                }
                None
            });
        if let Some(e) = failure {
            return Err(e);
        }
        Ok(())
    }

    /// Checks that the last record's state hash is the hash of the parameters in the file.
    pub fn verify_state_hash(&self) -> Result<(), VerifyError> {
        match self.contributions.last() {
            Some(last) if last.state_after != self.state_hash() => Err(VerifyError::Contribution {
                phase: 1,
                index: self.contributions.len(),
                check: ContributionCheck::StateHash,
            }),
            _ => Ok(()),
        }
    }

    /// Checks the parameters: generators first, leading values equal to the last record's,
    /// and every vector a sequence of powers of the same `τ` (random linear combinations with
    /// 128-bit coefficients from `rng`).
    pub fn verify_parameters<R: RngCore + CryptoRng>(
        &self,
        rng: &mut R,
    ) -> Result<(), VerifyError> {
        let fail = |check| VerifyError::Parameters { phase: 1, check };
        let g1 = G1Affine::generator();
        let g2 = G2Affine::generator();
        if self.tau_g1[0] != g1 {
            return Err(fail(ParameterCheck::Generator("tau_g1")));
        }
        if self.tau_g2[0] != g2 {
            return Err(fail(ParameterCheck::Generator("tau_g2")));
        }
        let last = self.contributions.last();
        let origin = self.origin();
        let expected = (
            last.map_or(origin.0, |c| c.tau_g1),
            last.map_or(origin.1, |c| c.alpha_g1),
            last.map_or(origin.2, |c| c.beta_g1),
            last.map_or(origin.3, |c| c.tau_g2),
            last.map_or(origin.4, |c| c.beta_g2),
        );
        for (what, ok) in [
            ("tau_g1[1]", self.tau_g1[1] == expected.0),
            ("alpha_tau_g1[0]", self.alpha_tau_g1[0] == expected.1),
            ("beta_tau_g1[0]", self.beta_tau_g1[0] == expected.2),
            ("tau_g2[1]", self.tau_g2[1] == expected.3),
            ("beta_g2", self.beta_g2 == expected.4),
        ] {
            if !ok {
                return Err(fail(ParameterCheck::NotLastContribution(what)));
            }
        }
        let rho = rlc_coefficients(rng, self.tau_g1.len() - 1);
        let tau = self.tau_g2[1];
        let shifted_g1 = |v: &[G1Affine]| {
            let m = v.len() - 1;
            let (a, b) = rayon::join(
                || G1Projective::msm_unchecked(&v[..m], &rho[..m]),
                || G1Projective::msm_unchecked(&v[1..], &rho[..m]),
            );
            (a.into_affine(), b.into_affine())
        };
        for (what, v) in [
            ("tau_g1", &self.tau_g1),
            ("alpha_tau_g1", &self.alpha_tau_g1),
            ("beta_tau_g1", &self.beta_tau_g1),
        ] {
            if !same_ratio(shifted_g1(v), (g2, tau)) {
                return Err(fail(ParameterCheck::Powers(what)));
            }
        }
        let m = self.tau_g2.len() - 1;
        let (c, d) = rayon::join(
            || G2Projective::msm_unchecked(&self.tau_g2[..m], &rho[..m]),
            || G2Projective::msm_unchecked(&self.tau_g2[1..], &rho[..m]),
        );
        if !same_ratio((g1, self.tau_g1[1]), (c.into_affine(), d.into_affine())) {
            return Err(fail(ParameterCheck::Powers("tau_g2")));
        }
        if !same_ratio((g1, self.beta_tau_g1[0]), (g2, self.beta_g2)) {
            return Err(fail(ParameterCheck::G2Mismatch("beta")));
        }
        Ok(())
    }

    /// The full check: [`Phase1::verify_contributions`], [`Phase1::verify_parameters`], then
    /// [`Phase1::verify_state_hash`].
    pub fn verify<R: RngCore + CryptoRng>(&self, rng: &mut R) -> Result<(), VerifyError> {
        self.verify_contributions()?;
        self.verify_parameters(rng)?;
        self.verify_state_hash()
    }

    /// The file encoding (`SPEC.md` §17.4).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = match &self.import {
            None => MAGIC.to_vec(),
            Some(import) => {
                let mut out = MAGIC_IMPORTED.to_vec();
                out.extend_from_slice(&self.power.to_le_bytes());
                out.extend_from_slice(&import.to_bytes());
                out
            }
        };
        let parameters = self.parameter_bytes();
        // An imported file has its power before the import block, not again after it.
        let skip = if self.import.is_some() { 4 } else { 0 };
        out.extend_from_slice(&parameters[skip..]);
        out.extend_from_slice(&(self.contributions.len() as u32).to_le_bytes());
        for c in &self.contributions {
            out.extend_from_slice(&c.to_bytes());
        }
        out
    }

    /// Decodes a phase-1 file: magic, a supported power, every point valid, the exact length,
    /// canonical encoding. Does not verify (see [`Phase1::verify`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FormatError> {
        let mut r = Reader::new(bytes);
        let imported = bytes.starts_with(MAGIC_IMPORTED);
        r.magic(
            if imported { MAGIC_IMPORTED } else { MAGIC },
            "an undersign phase-1 transcript",
        )?;
        let power = r.u32("the power")?;
        check_power(power).map_err(|reason| FormatError::InvalidValue {
            what: "power".into(),
            reason,
        })?;
        let import = if imported {
            let import = Import::read(&mut r)?;
            let (a, b, c, d, e) = import.leading();
            if a.is_zero() || b.is_zero() || c.is_zero() || d.is_zero() || e.is_zero() {
                return Err(FormatError::InvalidValue {
                    what: "the import block".into(),
                    reason: "a leading value is the point at infinity".into(),
                });
            }
            Some(import)
        } else {
            None
        };
        let n = 1usize << power;
        let tau_g1 = r.g1_vec(2 * n - 1, "tau_g1")?;
        let tau_g2 = r.g2_vec(n, "tau_g2")?;
        let alpha_tau_g1 = r.g1_vec(n, "alpha_tau_g1")?;
        let beta_tau_g1 = r.g1_vec(n, "beta_tau_g1")?;
        let beta_g2 = r.g2("beta_g2")?;
        let count = r.u32("the number of contributions")? as usize;
        let needed = count.saturating_mul(RECORD_LEN);
        if needed > r.remaining() {
            return Err(FormatError::Truncated {
                what: format!("{count} contribution records"),
                offset: r.pos(),
                needed,
                len: bytes.len(),
            });
        }
        let mut contributions = Vec::with_capacity(count);
        for i in 0..count {
            contributions.push(Contribution::read(&mut r, i + 1)?);
        }
        r.finish()?;
        let phase1 = Phase1 {
            power,
            tau_g1,
            tau_g2,
            alpha_tau_g1,
            beta_tau_g1,
            beta_g2,
            contributions,
            import,
        };
        codec::check_canonical(bytes, &phase1.to_bytes())?;
        Ok(phase1)
    }

    /// Reads and decodes a phase-1 file.
    pub fn read(path: &Path) -> Result<(Self, Hash), CeremonyError> {
        let bytes = std::fs::read(path).map_err(|source| CeremonyError::Io {
            path: path.into(),
            source,
        })?;
        let phase1 = Self::from_bytes(&bytes).map_err(|source| CeremonyError::Format {
            path: path.into(),
            source,
        })?;
        Ok((phase1, *blake3::hash(&bytes).as_bytes()))
    }

    /// Writes the file atomically; returns the file's blake3 hash (the transcript hash).
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

    /// The phase-1 parameters for known secrets (tests: compare with arkworks' generator).
    #[cfg(test)]
    pub(crate) fn from_known_secrets(
        power: u32,
        tau: Fr,
        alpha: Fr,
        beta: Fr,
    ) -> Result<Self, CeremonyError> {
        let mut phase1 = Self::new(power)?;
        let secrets = Secrets { tau, alpha, beta };
        let mut rng = <rand_chacha::ChaCha20Rng as rand::SeedableRng>::from_seed([7; 32]);
        phase1.apply(&secrets, &mut rng);
        Ok(phase1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn rng(seed: u64) -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(seed)
    }

    fn three_party(power: u32) -> Phase1 {
        let mut p = Phase1::new(power).unwrap();
        for seed in 1..=3 {
            p.contribute(&mut rng(seed)).unwrap();
        }
        p
    }

    fn contribution_failure(p: &Phase1) -> (usize, ContributionCheck) {
        match p.verify(&mut rng(99)) {
            Err(VerifyError::Contribution { index, check, .. }) => (index, check),
            other => panic!("expected a contribution failure, got {other:?}"),
        }
    }

    /// A `.ptau` file (as snarkjs lays it out) holding `p`'s parameters.
    fn ptau_of(p: &Phase1) -> tempfile::NamedTempFile {
        let bytes = crate::ptau::tests::write_ptau(
            p.power,
            &p.tau_g1,
            &p.tau_g2,
            &p.alpha_tau_g1,
            &p.beta_tau_g1,
            &p.beta_g2,
        );
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), bytes).unwrap();
        file
    }

    #[test]
    fn a_ptau_file_imports_verifies_round_trips_and_takes_contributions() {
        let source = three_party(5);
        let file = ptau_of(&source);
        let mut p = Phase1::import_ptau(file.path(), 4).unwrap();
        p.verify(&mut rng(0)).unwrap();
        assert_eq!(p.tau_g1[..], source.tau_g1[..31]);
        assert_eq!(p.beta_g2, source.beta_g2);
        let import = p.import().unwrap();
        assert_eq!(import.ptau_power, 5);
        let expected: [u8; 64] = {
            use blake2::Digest;
            blake2::Blake2b512::digest(std::fs::read(file.path()).unwrap()).into()
        };
        assert_eq!(import.ptau_blake2b, expected);
        assert_eq!(Phase1::from_bytes(&p.to_bytes()).unwrap(), p);
        assert!(p.to_bytes().starts_with(MAGIC_IMPORTED));
        // The import is bound into the chain: another origin gives another start hash.
        assert_ne!(p.start_hash(), Phase1::new(4).unwrap().start_hash());
        p.contribute(&mut rng(7)).unwrap();
        p.verify(&mut rng(1)).unwrap();
        assert_eq!(Phase1::from_bytes(&p.to_bytes()).unwrap(), p);

        // A different claimed origin breaks the first record.
        let mut forged = p.clone();
        forged.import.as_mut().unwrap().alpha_g1 = G1Affine::generator();
        assert!(forged.verify(&mut rng(2)).is_err());
        // Without records, the parameters must be the imported ones.
        let mut bare = Phase1::import_ptau(file.path(), 4).unwrap();
        bare.import.as_mut().unwrap().tau_g1 = G1Affine::generator();
        assert!(bare.verify(&mut rng(3)).is_err());
        // A .ptau whose powers are not powers of one tau imports but does not verify.
        let mut broken = source.clone();
        broken.tau_g1[7] = broken.tau_g1[8];
        let bad = Phase1::import_ptau(ptau_of(&broken).path(), 4).unwrap();
        assert!(matches!(
            bad.verify(&mut rng(4)),
            Err(VerifyError::Parameters { .. })
        ));
        // Asking for more powers than the file has is refused.
        assert!(Phase1::import_ptau(file.path(), 6).is_err());
    }

    #[test]
    fn new_and_contributed_transcripts_verify_and_round_trip() {
        let p = Phase1::new(4).unwrap();
        p.verify(&mut rng(0)).unwrap();
        let p = three_party(4);
        p.verify(&mut rng(0)).unwrap();
        assert_eq!(p.contributions().len(), 3);
        let bytes = p.to_bytes();
        assert_eq!(Phase1::from_bytes(&bytes).unwrap(), p);
        assert_ne!(p.tau_g1[1], G1Affine::generator());
    }

    #[test]
    fn powers_are_powers_of_the_product_of_the_secrets() {
        let (t, a, b) = (Fr::from(3u64), Fr::from(5u64), Fr::from(7u64));
        let p = Phase1::from_known_secrets(4, t, a, b).unwrap();
        p.verify(&mut rng(0)).unwrap();
        let g1 = G1Affine::generator();
        assert_eq!(p.tau_g1[5], (g1 * t.pow([5])).into_affine());
        assert_eq!(p.alpha_tau_g1[3], (g1 * (a * t.pow([3]))).into_affine());
        assert_eq!(p.beta_g2, (G2Affine::generator() * b).into_affine());
    }

    use ark_ff::Field;

    #[test]
    fn wrong_proof_of_knowledge_is_detected() {
        let mut p = three_party(4);
        // r·x from another secret: take contribution 3's alpha r_x in place of its tau r_x.
        p.contributions[1].tau_pok.r_x = p.contributions[1].alpha_pok.r_x;
        assert_eq!(
            contribution_failure(&p),
            (2, ContributionCheck::ProofOfKnowledge(Secret::Tau))
        );
    }

    #[test]
    fn broken_powers_are_detected() {
        let mut p = three_party(4);
        p.tau_g1[7] = (p.tau_g1[7] * Fr::from(2u64)).into_affine();
        assert_eq!(
            p.verify(&mut rng(5)).unwrap_err(),
            VerifyError::Parameters {
                phase: 1,
                check: ParameterCheck::Powers("tau_g1")
            }
        );
        let mut q = three_party(4);
        q.tau_g2[3] = (q.tau_g2[3] * Fr::from(2u64)).into_affine();
        assert!(matches!(
            q.verify(&mut rng(5)),
            Err(VerifyError::Parameters {
                check: ParameterCheck::Powers("tau_g2"),
                ..
            })
        ));
        let mut q = three_party(4);
        q.beta_tau_g1[9] = q.beta_tau_g1[8];
        assert!(matches!(
            q.verify(&mut rng(5)),
            Err(VerifyError::Parameters {
                check: ParameterCheck::Powers("beta_tau_g1"),
                ..
            })
        ));
    }

    #[test]
    fn dropped_or_swapped_contributions_are_detected() {
        let p = three_party(4);
        let mut dropped = p.clone();
        dropped.contributions.remove(1);
        assert_eq!(
            contribution_failure(&dropped),
            (2, ContributionCheck::PreviousHash)
        );
        let mut swapped = p.clone();
        swapped.contributions.swap(0, 1);
        assert_eq!(
            contribution_failure(&swapped),
            (1, ContributionCheck::PreviousHash)
        );
        // Dropping the last record leaves parameters the remaining records did not produce.
        let mut last = p.clone();
        last.contributions.pop();
        assert!(last.verify(&mut rng(1)).is_err());
    }

    #[test]
    fn malformed_files_give_typed_errors() {
        let p = three_party(4);
        let bytes = p.to_bytes();
        for cut in [0, 10, 17, 100, bytes.len() - 1] {
            assert!(
                matches!(
                    Phase1::from_bytes(&bytes[..cut]),
                    Err(FormatError::Truncated { .. }) | Err(FormatError::BadMagic { .. })
                ),
                "cut at {cut}"
            );
        }
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(matches!(
            Phase1::from_bytes(&trailing),
            Err(FormatError::TrailingBytes { .. })
        ));
        let mut garbled = bytes.clone();
        garbled[30] ^= 0x55;
        assert!(matches!(
            Phase1::from_bytes(&garbled),
            Err(FormatError::InvalidPoint { .. })
        ));
        let mut magic = bytes.clone();
        magic[0] = b'X';
        assert!(matches!(
            Phase1::from_bytes(&magic),
            Err(FormatError::BadMagic { .. })
        ));
        let mut power = bytes.clone();
        power[16] = 40;
        assert!(matches!(
            Phase1::from_bytes(&power),
            Err(FormatError::InvalidValue { .. })
        ));
        let mut count = bytes;
        let at = count.len() - 3 * RECORD_LEN - 4;
        count[at] = 200;
        assert!(matches!(
            Phase1::from_bytes(&count),
            Err(FormatError::Truncated { .. })
        ));
    }
}
