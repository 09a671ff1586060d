//! Key generation and key files (`SPEC.md` §Keys).
//!
//! The setup here is the **development setup**: one party derives every secret from a seed.
//! Whoever ran it (or knows the seed) can forge proofs and inflate any tally. It exists for
//! tests and demos; real petitions use keys from a multi-party ceremony (the
//! `undersign-ceremony` crate), written with [`KeySet::write_with`] and a [`Provenance`] that
//! says so.
//!
//! A key directory holds `proving.key`, `verifying.key` and `keys.json`, a manifest naming
//! both files with their blake3 hashes. The proving key is stored uncompressed and, once its
//! hash matches the manifest, loaded without per-point checks (it was generated locally and
//! the hash proves it is unchanged); the verifying key is always fully validated.

use crate::encoding::{verifying_key_from_bytes, verifying_key_to_bytes, EncodingError};
use crate::prover::{CircuitShape, ProveError, Prover};
use crate::verifier::{check_verifying_key, Verifier};
use crate::{ProvingKey, VerifyingKey};
use ark_bn254::Bn254;
use ark_ec::pairing::Pairing;
use ark_ec::AffineRepr;
use ark_groth16::Groth16;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use thiserror::Error;
use undersign_circuit::MembershipCircuit;
use undersign_core::atomic::write_atomic;
use undersign_core::merkle::{MAX_DEPTH, MIN_DEPTH};

/// blake3 `derive_key` context turning a development seed into the setup RNG seed.
pub const DEV_SETUP_CONTEXT: &str = "undersign v1 development setup";
/// File name of the manifest in a key directory.
pub const MANIFEST_FILE: &str = "keys.json";
/// File name of the proving key.
pub const PROVING_KEY_FILE: &str = "proving.key";
/// File name of the verifying key.
pub const VERIFYING_KEY_FILE: &str = "verifying.key";
/// First 16 bytes of `proving.key`.
pub const PROVING_KEY_MAGIC: &[u8; 16] = b"undersign-pk-v1\n";
/// The manifest's `kind` for the development setup.
pub const DEVELOPMENT_SETUP: &str = "development";
/// The manifest's `kind` for keys from a verified multi-party ceremony transcript.
pub const CEREMONY_SETUP: &str = "ceremony";
/// The warning stored in (and printed for) development keys.
pub const DEVELOPMENT_WARNING: &str = "development setup: whoever generated these keys (or knows \
     the seed) can forge signatures and inflate any tally; use a multi-party ceremony for real petitions";

/// Errors reading, writing or generating keys.
#[derive(Debug, Error)]
pub enum KeyError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The manifest is not valid JSON of the expected shape.
    #[error("{path}: invalid key manifest: {reason}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A key file's blake3 hash differs from the manifest.
    #[error("{path}: blake3 hash {actual} does not match the manifest's {expected}")]
    HashMismatch {
        /// The key file.
        path: PathBuf,
        /// The manifest's hash.
        expected: String,
        /// The file's hash.
        actual: String,
    },
    /// A key file is malformed.
    #[error("{path}: {reason}")]
    Malformed {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The depth is not supported.
    #[error("tree depth {0} is not supported (must be {MIN_DEPTH} to {MAX_DEPTH})")]
    BadDepth(u32),
    /// Key generation or preparation failed.
    #[error(transparent)]
    Prove(#[from] ProveError),
}

/// Reference to one key file in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFileRef {
    /// File name inside the key directory.
    pub file: String,
    /// blake3 of the file's bytes, lowercase hex.
    pub blake3: String,
}

/// `keys.json`: what a key directory holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyManifest {
    /// Format version, 1.
    pub version: u32,
    /// How the keys were made: `"development"`.
    pub setup: String,
    /// Tree depth of the circuit.
    pub depth: u32,
    /// Number of R1CS constraints.
    pub constraints: usize,
    /// The proving key file.
    pub proving_key: KeyFileRef,
    /// The verifying key file; its hash is also the verifying key's identifier.
    pub verifying_key: KeyFileRef,
    /// A plain statement of who could forge proofs with these keys.
    pub warning: String,
    /// For `setup = "ceremony"`: the transcript the keys came from (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceremony: Option<CeremonyRef>,
}

/// The ceremony transcript a key directory came from (`keys.json` `ceremony`, `SPEC.md` §9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeremonyRef {
    /// blake3 of the phase-1 transcript file, lowercase hex.
    pub phase1: String,
    /// blake3 of the phase-2 transcript file, lowercase hex.
    pub phase2: String,
    /// Number of phase-1 contributions.
    pub phase1_contributions: usize,
    /// Number of phase-2 contributions (a final beacon included).
    pub phase2_contributions: usize,
}

/// How a key set was made: what its manifest says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// `"development"` or `"ceremony"`.
    pub setup: String,
    /// Who could forge proofs with these keys.
    pub warning: String,
    /// The transcript, for ceremony keys.
    pub ceremony: Option<CeremonyRef>,
}

impl Provenance {
    /// The development setup's provenance (and warning).
    pub fn development() -> Self {
        Provenance {
            setup: DEVELOPMENT_SETUP.into(),
            warning: DEVELOPMENT_WARNING.into(),
            ceremony: None,
        }
    }
}

/// A matched proving and verifying key for one depth.
pub struct KeySet {
    /// Tree depth of the circuit.
    pub depth: u32,
    /// The proving key (which embeds the verifying key).
    pub proving_key: ProvingKey,
}

impl KeySet {
    /// The development setup: every secret is derived from `seed`. See the module docs.
    pub fn development(depth: u32, seed: &[u8; 32]) -> Result<Self, KeyError> {
        if !(MIN_DEPTH..=MAX_DEPTH).contains(&depth) {
            return Err(KeyError::BadDepth(depth));
        }
        let mut rng = ChaCha20Rng::from_seed(blake3::derive_key(DEV_SETUP_CONTEXT, seed));
        let proving_key = Groth16::<Bn254>::generate_random_parameters_with_reduction(
            MembershipCircuit::shape(depth),
            &mut rng,
        )
        .map_err(ProveError::from)?;
        Ok(Self { depth, proving_key })
    }

    /// The verifying key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.proving_key.vk
    }

    /// The bytes of `proving.key`: magic, depth, uncompressed proving key.
    pub fn proving_key_file_bytes(&self) -> Result<Vec<u8>, KeyError> {
        let mut pk_bytes = Vec::with_capacity(16 + 4 + self.proving_key.uncompressed_size());
        pk_bytes.extend_from_slice(PROVING_KEY_MAGIC);
        pk_bytes.extend_from_slice(&self.depth.to_le_bytes());
        self.proving_key
            .serialize_uncompressed(&mut pk_bytes)
            .map_err(|e| KeyError::Malformed {
                path: PROVING_KEY_FILE.into(),
                reason: e.to_string(),
            })?;
        Ok(pk_bytes)
    }

    /// Writes `proving.key`, `verifying.key` and `keys.json` into `dir` (created if needed),
    /// each atomically, as development keys, and returns the manifest.
    pub fn write(&self, dir: &Path) -> Result<KeyManifest, KeyError> {
        self.write_with(dir, &Provenance::development())
    }

    /// Writes the key directory with the given provenance in its manifest.
    pub fn write_with(&self, dir: &Path, provenance: &Provenance) -> Result<KeyManifest, KeyError> {
        let constraints =
            undersign_circuit::constraint_count(self.depth).map_err(ProveError::from)?;
        std::fs::create_dir_all(dir).map_err(|source| KeyError::Io {
            path: dir.into(),
            source,
        })?;
        let pk_bytes = self.proving_key_file_bytes()?;
        let vk_bytes = verifying_key_to_bytes(&self.proving_key.vk);
        let manifest = KeyManifest {
            version: 1,
            setup: provenance.setup.clone(),
            depth: self.depth,
            constraints,
            proving_key: KeyFileRef {
                file: PROVING_KEY_FILE.into(),
                blake3: blake3::hash(&pk_bytes).to_hex().to_string(),
            },
            verifying_key: KeyFileRef {
                file: VERIFYING_KEY_FILE.into(),
                blake3: blake3::hash(&vk_bytes).to_hex().to_string(),
            },
            warning: provenance.warning.clone(),
            ceremony: provenance.ceremony.clone(),
        };
        check_setup(&manifest).map_err(|reason| KeyError::Manifest {
            path: dir.join(MANIFEST_FILE),
            reason,
        })?;
        let json = serde_json::to_vec_pretty(&manifest).map_err(|e| KeyError::Manifest {
            path: dir.join(MANIFEST_FILE),
            reason: e.to_string(),
        })?;
        for (name, bytes) in [
            (PROVING_KEY_FILE, &pk_bytes),
            (VERIFYING_KEY_FILE, &vk_bytes),
            (MANIFEST_FILE, &json),
        ] {
            let path = dir.join(name);
            write_atomic(&path, bytes, false).map_err(|source| KeyError::Io { path, source })?;
        }
        Ok(manifest)
    }
}

/// `setup` is `"development"` (no `ceremony`) or `"ceremony"` (with it).
fn check_setup(manifest: &KeyManifest) -> Result<(), String> {
    match (manifest.setup.as_str(), &manifest.ceremony) {
        (DEVELOPMENT_SETUP, None) | (CEREMONY_SETUP, Some(_)) => Ok(()),
        (DEVELOPMENT_SETUP, Some(_)) => Err("development keys cannot name a ceremony".into()),
        (CEREMONY_SETUP, None) => Err("ceremony keys must name their transcript".into()),
        (other, _) => Err(format!(
            "unknown setup {other:?} (expected \"development\" or \"ceremony\")"
        )),
    }
}

/// Reads and checks `keys.json` in `dir`.
pub fn read_manifest(dir: &Path) -> Result<KeyManifest, KeyError> {
    let path = dir.join(MANIFEST_FILE);
    let bytes = read(&path)?;
    let manifest: KeyManifest = serde_json::from_slice(&bytes).map_err(|e| KeyError::Manifest {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    if manifest.version != 1 {
        return Err(KeyError::Manifest {
            path,
            reason: format!("unsupported version {}", manifest.version),
        });
    }
    if let Err(reason) = check_setup(&manifest) {
        return Err(KeyError::Manifest { path, reason });
    }
    for file in [&manifest.proving_key.file, &manifest.verifying_key.file] {
        if file.contains('/') || file.contains('\\') || file.starts_with('.') {
            return Err(KeyError::Manifest {
                path,
                reason: format!("key file name {file:?} is not a plain file name"),
            });
        }
    }
    if !(MIN_DEPTH..=MAX_DEPTH).contains(&manifest.depth) {
        return Err(KeyError::BadDepth(manifest.depth));
    }
    Ok(manifest)
}

/// Loads and fully validates the verifying key of `dir`, checking its hash.
pub fn load_verifier(dir: &Path) -> Result<(KeyManifest, Verifier), KeyError> {
    let manifest = read_manifest(dir)?;
    let verifier = manifest_verifier(dir, &manifest)?;
    Ok((manifest, verifier))
}

/// The verifier of the verifying key that `manifest` (read from `dir`) names.
fn manifest_verifier(dir: &Path, manifest: &KeyManifest) -> Result<Verifier, KeyError> {
    let path = dir.join(&manifest.verifying_key.file);
    let bytes = read_checked(&path, &manifest.verifying_key.blake3)?;
    let vk = verifying_key_from_bytes(&bytes).map_err(|e| malformed(&path, e))?;
    Verifier::new(vk).map_err(|e| KeyError::Malformed {
        path,
        reason: e.to_string(),
    })
}

/// Loads the proving key of `dir` (hash-checked, then read without per-point checks), checks
/// it matches the verifying key, and prepares a [`Prover`]. The circuit's shape, which needs
/// no key, is synthesized on one core while the keys are read and checked on the other.
pub fn load_prover(dir: &Path) -> Result<(KeyManifest, Prover), KeyError> {
    let manifest = read_manifest(dir)?;
    let (shape, keys) = rayon::join(
        || CircuitShape::synthesize(manifest.depth),
        || -> Result<(Verifier, ProvingKey), KeyError> {
            let verifier = manifest_verifier(dir, &manifest)?;
            let proving_key = read_proving_key(dir, &manifest, &verifier)?;
            Ok((verifier, proving_key))
        },
    );
    // Key errors first: they concern the user's files (a synthesis failure would be a bug).
    let (verifier, proving_key) = keys?;
    let prover = Prover::from_parts(shape?, proving_key, verifier)?;
    Ok((manifest, prover))
}

/// The proving key `manifest` names: hash-checked, read without per-point checks, and checked
/// against `verifier`'s key and for a consistent δ.
fn read_proving_key(
    dir: &Path,
    manifest: &KeyManifest,
    verifier: &Verifier,
) -> Result<ProvingKey, KeyError> {
    let path = dir.join(&manifest.proving_key.file);
    let bytes = read_checked(&path, &manifest.proving_key.blake3)?;
    let body = bytes
        .strip_prefix(PROVING_KEY_MAGIC.as_slice())
        .ok_or_else(|| KeyError::Malformed {
            path: path.clone(),
            reason: "not an undersign proving key".into(),
        })?;
    let (depth_bytes, body) = body
        .split_at_checked(4)
        .ok_or_else(|| KeyError::Malformed {
            path: path.clone(),
            reason: "truncated header".into(),
        })?;
    let depth = u32::from_le_bytes([
        depth_bytes[0],
        depth_bytes[1],
        depth_bytes[2],
        depth_bytes[3],
    ]);
    if depth != manifest.depth {
        return Err(KeyError::Malformed {
            path,
            reason: format!(
                "depth {depth} does not match the manifest's {}",
                manifest.depth
            ),
        });
    }
    let mut reader = body;
    let proving_key = ProvingKey::deserialize_with_mode(&mut reader, Compress::No, Validate::No)
        .map_err(|e| KeyError::Malformed {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    if !reader.is_empty() {
        return Err(KeyError::Malformed {
            path,
            reason: "trailing bytes after the proving key".into(),
        });
    }
    if &proving_key.vk != verifier.verifying_key() {
        return Err(KeyError::Malformed {
            path,
            reason: "the proving key does not match verifying.key".into(),
        });
    }
    check_delta(&proving_key).map_err(|reason| KeyError::Malformed { path, reason })?;
    Ok(proving_key)
}

/// `e(δ₁, β₂) = e(β₁, δ₂)` with δ₁ ≠ 0: the proving key's δ in G1 is the verifying key's δ.
/// Without it a hostile proving key could make proofs that reveal the witness.
///
/// The embedded verifying key is the one `verifying.key` holds, which [`Verifier::new`] has
/// accepted already; its rules are checked again here so that this function alone never
/// passes a proving key whose verifying key would be refused.
fn check_delta(pk: &ProvingKey) -> Result<(), String> {
    check_verifying_key(&pk.vk).map_err(|e| e.to_string())?;
    if pk.delta_g1.is_zero()
        || !pk.delta_g1.is_on_curve()
        || !pk.delta_g1.is_in_correct_subgroup_assuming_on_curve()
    {
        return Err("the proving key's delta is invalid".into());
    }
    let lhs = Bn254::pairing(pk.delta_g1, pk.vk.beta_g2);
    let rhs = Bn254::pairing(pk.beta_g1, pk.vk.delta_g2);
    if lhs == rhs {
        Ok(())
    } else {
        Err("the proving key's delta does not match the verifying key's".into())
    }
}

fn read(path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|source| KeyError::Io {
        path: path.into(),
        source,
    })
}

fn read_checked(path: &Path, expected: &str) -> Result<Vec<u8>, KeyError> {
    let bytes = read(path)?;
    let actual = blake3::hash(&bytes).to_hex().to_string();
    if actual != expected {
        return Err(KeyError::HashMismatch {
            path: path.into(),
            expected: expected.into(),
            actual,
        });
    }
    Ok(bytes)
}

fn malformed(path: &Path, e: EncodingError) -> KeyError {
    KeyError::Malformed {
        path: path.into(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verifier::VerifyingKeyError;
    use ark_bn254::{Fr, G1Projective, G2Projective};
    use ark_ff::UniformRand;

    /// A proving key whose δ is consistent (δ₁ and δ₂ from one secret) but equal to γ is
    /// refused by `check_delta` on its own, with the verifying key's error; the same key with
    /// independent secrets passes.
    #[test]
    fn check_delta_refuses_a_consistent_key_with_delta_equal_to_gamma() {
        let depth = 4;
        let mut rng = ChaCha20Rng::seed_from_u64(61);
        let key = |gamma: Fr, delta: Fr, rng: &mut ChaCha20Rng| {
            Groth16::<Bn254>::generate_parameters_with_qap(
                MembershipCircuit::shape(depth),
                Fr::rand(rng),
                Fr::rand(rng),
                gamma,
                delta,
                G1Projective::rand(rng),
                G2Projective::rand(rng),
                rng,
            )
            .unwrap()
        };
        let gamma = Fr::rand(&mut rng);
        let unsafe_key = key(gamma, gamma, &mut rng);
        assert_eq!(
            check_delta(&unsafe_key),
            Err(VerifyingKeyError::DeltaEqualsGamma.to_string())
        );
        let delta = Fr::rand(&mut rng);
        assert_eq!(check_delta(&key(gamma, delta, &mut rng)), Ok(()));
    }
}
