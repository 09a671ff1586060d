//! Verifying a whole transcript and writing its keys (`SPEC.md` §17.6).
//!
//! A **transcript directory** holds the final `phase1.bin` and `phase2.bin`. Verifying it
//! checks phase 1, then phase 2 against phase 1 and the circuit; the keys it yields are written
//! as a key directory whose `keys.json` says `"setup": "ceremony"` and names both files' hashes.

use crate::error::{CeremonyError, VerifyError};
use crate::phase2::Beacon;
use crate::{Hash, Phase1, Phase2};
use ark_ec::AffineRepr;
use rand::{CryptoRng, RngCore};
use std::path::Path;
use undersign_proof::encoding::verifying_key_hash;
use undersign_proof::keys::{CeremonyRef, KeyManifest, Provenance, CEREMONY_SETUP};
use undersign_proof::KeySet;

/// File name of the final phase-1 transcript in a transcript directory.
pub const PHASE1_FILE: &str = "phase1.bin";
/// File name of the final phase-2 transcript in a transcript directory.
pub const PHASE2_FILE: &str = "phase2.bin";

/// A transcript that verified, with what it produced.
pub struct VerifiedCeremony {
    /// blake3 of the phase-1 file.
    pub phase1_hash: Hash,
    /// `power` of phase 1.
    pub power: u32,
    /// Phase-1 contribution hashes, in order.
    pub phase1_contributions: Vec<Hash>,
    /// blake3 of the phase-2 file.
    pub phase2_hash: Hash,
    /// Phase-2 contribution hashes in order, with the beacon for a beacon record.
    pub phase2_contributions: Vec<(Hash, Option<Beacon>)>,
    /// The keys.
    pub keys: KeySet,
    /// The verifying key hash (`SPEC.md` §2).
    pub verifying_key_hash: String,
    /// blake3 of `proving.key` as a key directory holds it.
    pub proving_key_hash: String,
}

impl VerifiedCeremony {
    /// The manifest's plain statement of who could forge with these keys.
    pub fn warning(&self) -> String {
        format!(
            "multi-party ceremony: {} phase-1 and {} phase-2 contributions; sound if at least one \
             contributor in each phase kept their secret from everyone and destroyed it. Check \
             the transcript yourself (undersign ceremony phase2 verify) and compare the \
             contribution hashes with the ones the contributors published",
            self.phase1_contributions.len(),
            self.phase2_contributions.len()
        )
    }

    /// Writes the key directory (`keys.json` with `setup = "ceremony"`).
    pub fn write_keys(&self, dir: &Path) -> Result<KeyManifest, CeremonyError> {
        let provenance = Provenance {
            setup: CEREMONY_SETUP.into(),
            warning: self.warning(),
            ceremony: Some(CeremonyRef {
                phase1: hex::encode(self.phase1_hash),
                phase2: hex::encode(self.phase2_hash),
                phase1_contributions: self.phase1_contributions.len(),
                phase2_contributions: self.phase2_contributions.len(),
            }),
        };
        Ok(self.keys.write_with(dir, &provenance)?)
    }
}

/// Reads and verifies phase 1 and phase 2 (random linear combinations use `rng`).
pub fn verify_files<R: RngCore + CryptoRng>(
    phase1_path: &Path,
    phase2_path: &Path,
    rng: &mut R,
) -> Result<VerifiedCeremony, CeremonyError> {
    let (phase1, phase1_hash) = Phase1::read(phase1_path)?;
    let (phase2, phase2_hash) = Phase2::read(phase2_path)?;
    phase1.verify(rng)?;
    let verified = phase2.verify(&phase1, &phase1_hash, rng)?;
    // Without a secret contribution in each phase, the toxic waste is public (phase 1 starts
    // from τ = α = β = 1, phase 2 from δ = 1, and a beacon's δ is public). A phase 1 imported
    // from a public powers of tau (SPEC.md §17.7) carries its contributors' secrets, unless it
    // is itself the identity.
    let imported_secrets = phase1.import().is_some_and(|i| {
        let g1 = ark_bn254::G1Affine::generator();
        i.tau_g1 != g1 && i.alpha_g1 != g1 && i.beta_g1 != g1
    });
    if phase1.contributions().is_empty() && !imported_secrets {
        return Err(VerifyError::NoSecretContribution { phase: 1 }.into());
    }
    if verified
        .contributions
        .iter()
        .all(|(_, beacon)| beacon.is_some())
    {
        return Err(VerifyError::NoSecretContribution { phase: 2 }.into());
    }
    let keys = KeySet {
        depth: phase2.depth(),
        proving_key: phase2.proving_key().clone(),
    };
    let proving_key_hash = blake3::hash(&keys.proving_key_file_bytes()?)
        .to_hex()
        .to_string();
    Ok(VerifiedCeremony {
        phase1_hash,
        power: phase1.power(),
        phase1_contributions: phase1.contributions().iter().map(|c| c.hash()).collect(),
        phase2_hash,
        phase2_contributions: verified.contributions,
        verifying_key_hash: verifying_key_hash(&keys.proving_key.vk),
        proving_key_hash,
        keys,
    })
}

/// [`verify_files`] on `dir/phase1.bin` and `dir/phase2.bin`.
pub fn verify_transcript_dir<R: RngCore + CryptoRng>(
    dir: &Path,
    rng: &mut R,
) -> Result<VerifiedCeremony, CeremonyError> {
    verify_files(&dir.join(PHASE1_FILE), &dir.join(PHASE2_FILE), rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Phase;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    const DEPTH: u32 = 4;
    const POWER: u32 = 11;

    fn rng(seed: u64) -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(seed)
    }

    fn verify(phase1: &Phase1, phase2: &Phase2) -> Result<VerifiedCeremony, CeremonyError> {
        let dir = tempfile::tempdir().unwrap();
        phase1.write(&dir.path().join(PHASE1_FILE)).unwrap();
        phase2.write(&dir.path().join(PHASE2_FILE)).unwrap();
        verify_transcript_dir(dir.path(), &mut rng(5))
    }

    fn no_secret(result: Result<VerifiedCeremony, CeremonyError>) -> Phase {
        match result {
            Err(CeremonyError::Verify(VerifyError::NoSecretContribution { phase })) => phase,
            Err(other) => panic!("expected NoSecretContribution, got {other}"),
            Ok(_) => panic!("a transcript anyone could forge with must not verify"),
        }
    }

    /// Transcripts whose toxic waste is public verify record by record but are refused as a
    /// whole: no phase-1 contribution, no phase-2 contribution, or only a beacon.
    #[test]
    fn transcripts_without_a_secret_contribution_are_refused() {
        let empty1 = Phase1::new(POWER).unwrap();
        let mut phase1 = empty1.clone();
        phase1.contribute(&mut rng(1)).unwrap();
        let hash = |p: &Phase1| *blake3::hash(&p.to_bytes()).as_bytes();

        let mut on_empty1 = Phase2::new(&empty1, hash(&empty1), DEPTH).unwrap();
        on_empty1.contribute(&empty1, &mut rng(2)).unwrap();
        assert_eq!(no_secret(verify(&empty1, &on_empty1)), 1);

        let fresh = Phase2::new(&phase1, hash(&phase1), DEPTH).unwrap();
        assert_eq!(no_secret(verify(&phase1, &fresh)), 2);

        let mut beacon_only = fresh.clone();
        beacon_only
            .beacon(
                &phase1,
                Beacon::new(b"public".to_vec(), 10).unwrap(),
                &mut rng(4),
            )
            .unwrap();
        assert_eq!(no_secret(verify(&phase1, &beacon_only)), 2);

        let mut good = fresh;
        good.contribute(&phase1, &mut rng(3)).unwrap();
        let verified = verify(&phase1, &good).unwrap();
        assert_eq!(verified.phase1_contributions.len(), 1);
        assert_eq!(verified.phase2_contributions.len(), 1);
    }
}
