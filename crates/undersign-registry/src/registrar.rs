//! The registrar's Ed25519 key (`SPEC.md` §12), which signs checkpoints.
//!
//! Key file (`undersign-registrar-key`, mode 0600, one line):
//! `{"version":1,"kind":"undersign-registrar-key","secret_key":"<64 hex>","public_key":"<64 hex>"}`.
//! The secret key is the 32-byte RFC 8032 private key (seed). Public keys are 64 lowercase hex
//! digits of the RFC 8032 encoding; decoding rejects encodings that are not points, are not the
//! canonical encoding of their point, or are of small order (such keys can never pass
//! `verify_strict`).

use crate::encoding::{decode_hex, deserialize_str_with, encode_hex, HexError};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand_core::CryptoRngCore;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use thiserror::Error;
use undersign_core::atomic::write_atomic;
use zeroize::{Zeroize, Zeroizing};

/// The `kind` of a registrar key file.
pub const REGISTRAR_KEY_KIND: &str = "undersign-registrar-key";

/// Why a public key was rejected.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PublicKeyError {
    /// The text is not 64 lowercase hex digits.
    #[error("invalid Ed25519 public key: {0}")]
    Hex(#[from] HexError),
    /// The 32 bytes are not the encoding of a curve point.
    #[error("invalid Ed25519 public key: not the encoding of a curve point")]
    NotAPoint,
    /// The bytes decode to a point, but are not its canonical encoding.
    #[error("invalid Ed25519 public key: non-canonical point encoding")]
    NonCanonical,
    /// The point has small order, so no signature can be verified strictly against it.
    #[error("invalid Ed25519 public key: point of small order")]
    SmallOrder,
}

/// Errors reading or writing a registrar key file.
#[derive(Debug, Error)]
pub enum RegistrarKeyError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not JSON of the key file's shape.
    #[error("{path}: invalid registrar key file: {reason}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What is wrong (the parser's message; it never contains the secret).
        reason: String,
    },
    /// `version` is not 1.
    #[error("{path}: unsupported registrar key file version {version} (expected 1)")]
    BadVersion {
        /// The file.
        path: PathBuf,
        /// The version found.
        version: u64,
    },
    /// `kind` is not `undersign-registrar-key`.
    #[error("{path}: kind is {kind:?}, expected \"{REGISTRAR_KEY_KIND}\"")]
    BadKind {
        /// The file.
        path: PathBuf,
        /// The kind found.
        kind: String,
    },
    /// `secret_key` is not 64 lowercase hex digits.
    #[error("{path}: field secret_key: {source}")]
    SecretKey {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: HexError,
    },
    /// `public_key` is malformed.
    #[error("{path}: field public_key: {source}")]
    PublicKey {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: PublicKeyError,
    },
    /// `public_key` is not the public key of `secret_key`.
    #[error(
        "{path}: public_key does not belong to secret_key (the file is corrupt or was edited)"
    )]
    KeyMismatch {
        /// The file.
        path: PathBuf,
    },
}

/// A registrar's Ed25519 public key: a validated RFC 8032 encoding (a canonical encoding of a
/// curve point not of small order).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegistrarPublicKey([u8; 32]);

impl RegistrarPublicKey {
    /// Decodes and validates the 32-byte RFC 8032 encoding.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, PublicKeyError> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| PublicKeyError::NotAPoint)?;
        if key.to_edwards().compress().to_bytes() != *bytes {
            return Err(PublicKeyError::NonCanonical);
        }
        if key.is_weak() {
            return Err(PublicKeyError::SmallOrder);
        }
        Ok(Self(*bytes))
    }

    /// Decodes 64 lowercase hex digits and validates the key.
    pub fn from_hex(text: &str) -> Result<Self, PublicKeyError> {
        Self::from_bytes(&decode_hex::<32>(text)?)
    }

    /// The 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// The 64-hex-digit text form.
    pub fn to_hex(&self) -> String {
        encode_hex(&self.0)
    }

    /// Verifies an Ed25519 signature on `message` with `verify_strict`.
    pub fn verify(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        // The bytes were validated on construction, so decoding them succeeds.
        VerifyingKey::from_bytes(&self.0).is_ok_and(|key| {
            key.verify_strict(message, &Signature::from_bytes(signature))
                .is_ok()
        })
    }
}

impl fmt::Debug for RegistrarPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegistrarPublicKey({})", self.to_hex())
    }
}

impl fmt::Display for RegistrarPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for RegistrarPublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for RegistrarPublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_str_with(
            d,
            "an Ed25519 public key: 64 lowercase hex digits",
            Self::from_hex,
        )
    }
}

/// The registrar's signing key. The secret is zeroized on drop and never printed.
#[derive(Clone)]
pub struct RegistrarKey(SigningKey);

impl fmt::Debug for RegistrarKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RegistrarKey {{ public_key: {}, secret_key: <redacted> }}",
            self.public_key()
        )
    }
}

/// The JSON shape of a key file; the secret is decoded straight into a zeroizing buffer.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFileJson<'a> {
    version: u64,
    kind: String,
    secret_key: SecretHex,
    #[serde(borrow)]
    public_key: std::borrow::Cow<'a, str>,
}

/// A secret key's hex text, decoded without keeping a copy of the text.
struct SecretHex(Result<Zeroizing<[u8; 32]>, HexError>);

impl<'de> Deserialize<'de> for SecretHex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_str_with(d, "64 lowercase hex digits", |text| {
            Ok::<_, HexError>(SecretHex(decode_hex::<32>(text).map(Zeroizing::new)))
        })
    }
}

impl RegistrarKey {
    /// A new key from a cryptographically secure RNG.
    pub fn generate<R: CryptoRngCore + ?Sized>(rng: &mut R) -> Self {
        Self(SigningKey::generate(rng))
    }

    /// The key with the given 32-byte RFC 8032 secret key.
    pub fn from_secret_bytes(secret: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(secret))
    }

    /// The public key.
    pub fn public_key(&self) -> RegistrarPublicKey {
        RegistrarPublicKey(self.0.verifying_key().to_bytes())
    }

    /// Signs `message` (Ed25519, RFC 8032).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }

    /// The key file's bytes (one JSON line and a newline).
    fn to_file_bytes(&self) -> Zeroizing<String> {
        let mut secret = Zeroizing::new(encode_hex(self.0.as_bytes()));
        let mut text = Zeroizing::new(String::with_capacity(200));
        // Writing to a String cannot fail.
        let _ = writeln!(
            text,
            r#"{{"version":1,"kind":"{REGISTRAR_KEY_KIND}","secret_key":"{}","public_key":"{}"}}"#,
            secret.as_str(),
            self.public_key().to_hex()
        );
        secret.zeroize();
        text
    }

    /// Writes the key file atomically with mode 0600.
    pub fn to_file(&self, path: &Path) -> Result<(), RegistrarKeyError> {
        write_atomic(path, self.to_file_bytes().as_bytes(), true).map_err(|source| {
            RegistrarKeyError::Io {
                path: path.to_owned(),
                source,
            }
        })
    }

    /// Reads a key file and checks that its public key belongs to its secret key.
    pub fn from_file(path: &Path) -> Result<Self, RegistrarKeyError> {
        let bytes =
            Zeroizing::new(std::fs::read(path).map_err(|source| RegistrarKeyError::Io {
                path: path.to_owned(),
                source,
            })?);
        Self::from_file_bytes(&bytes, path)
    }

    /// Parses a key file's bytes; `path` only names the file in errors.
    pub fn from_file_bytes(bytes: &[u8], path: &Path) -> Result<Self, RegistrarKeyError> {
        let path = || path.to_owned();
        let raw: KeyFileJson<'_> =
            crate::json::from_slice(bytes).map_err(|e| RegistrarKeyError::Json {
                path: path(),
                reason: e.to_string(),
            })?;
        if raw.version != 1 {
            return Err(RegistrarKeyError::BadVersion {
                path: path(),
                version: raw.version,
            });
        }
        if raw.kind != REGISTRAR_KEY_KIND {
            return Err(RegistrarKeyError::BadKind {
                path: path(),
                kind: raw.kind,
            });
        }
        let secret = raw
            .secret_key
            .0
            .map_err(|source| RegistrarKeyError::SecretKey {
                path: path(),
                source,
            })?;
        let public = RegistrarPublicKey::from_hex(&raw.public_key).map_err(|source| {
            RegistrarKeyError::PublicKey {
                path: path(),
                source,
            }
        })?;
        let key = Self::from_secret_bytes(&secret);
        if key.public_key() != public {
            return Err(RegistrarKeyError::KeyMismatch { path: path() });
        }
        Ok(key)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    pub(crate) fn test_key(seed: u64) -> RegistrarKey {
        RegistrarKey::generate(&mut ChaCha20Rng::seed_from_u64(seed))
    }

    #[test]
    fn generation_is_deterministic_for_a_seeded_rng() {
        assert_eq!(test_key(1).public_key(), test_key(1).public_key());
        assert_ne!(test_key(1).public_key(), test_key(2).public_key());
    }

    #[test]
    fn public_key_hex_is_strict() {
        let key = test_key(3).public_key();
        let hex = key.to_hex();
        assert_eq!(hex.len(), 64);
        assert_eq!(RegistrarPublicKey::from_hex(&hex).unwrap(), key);
        assert!(matches!(
            RegistrarPublicKey::from_hex(&hex.to_uppercase()),
            Err(PublicKeyError::Hex(HexError::BadDigit { .. }))
        ));
        assert!(matches!(
            RegistrarPublicKey::from_hex(&hex[..62]),
            Err(PublicKeyError::Hex(HexError::BadLength { .. }))
        ));
        assert!(RegistrarPublicKey::from_hex(&format!("0x{hex}")).is_err());
        // y = 2 is not on the curve.
        let mut not_point = [0u8; 32];
        not_point[0] = 2;
        assert_eq!(
            RegistrarPublicKey::from_bytes(&not_point),
            Err(PublicKeyError::NotAPoint)
        );
        // The identity (y = 1) has small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            RegistrarPublicKey::from_bytes(&identity),
            Err(PublicKeyError::SmallOrder)
        );
        // y = p + 1 ≡ 1 is a non-canonical encoding of the identity.
        let mut non_canonical = [0xffu8; 32];
        non_canonical[0] = 0xee;
        non_canonical[31] = 0x7f;
        assert_eq!(
            RegistrarPublicKey::from_bytes(&non_canonical),
            Err(PublicKeyError::NonCanonical)
        );
        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(json, format!("\"{hex}\""));
        assert_eq!(
            serde_json::from_str::<RegistrarPublicKey>(&json).unwrap(),
            key
        );
        assert!(serde_json::from_str::<RegistrarPublicKey>(&json.to_uppercase()).is_err());
    }

    #[test]
    fn signatures_verify_strictly() {
        let key = test_key(4);
        let sig = key.sign(b"hello");
        assert!(key.public_key().verify(b"hello", &sig));
        assert!(!key.public_key().verify(b"hellO", &sig));
        assert!(!test_key(5).public_key().verify(b"hello", &sig));
        let mut bad = sig;
        bad[63] ^= 0x10; // s no longer canonical / valid
        assert!(!key.public_key().verify(b"hello", &bad));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = RegistrarKey::from_secret_bytes(&[0xab; 32]);
        let shown = format!("{key:?}");
        assert!(!shown.contains(&"ab".repeat(8)), "{shown}");
        assert!(shown.contains(&key.public_key().to_hex()));
    }

    #[test]
    fn key_file_round_trips_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registrar.key");
        let key = test_key(6);
        key.to_file(&path).unwrap();
        let loaded = RegistrarKey::from_file(&path).unwrap();
        assert_eq!(loaded.public_key(), key.public_key());
        assert_eq!(loaded.sign(b"m"), key.sign(b"m"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            format!(
                "{{\"version\":1,\"kind\":\"undersign-registrar-key\",\"secret_key\":\"{}\",\"public_key\":\"{}\"}}\n",
                hex::encode(key.0.as_bytes()),
                key.public_key().to_hex()
            )
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn bad_key_files_are_rejected() {
        let key = test_key(7);
        let good = key.to_file_bytes().to_string();
        let path = Path::new("k.json");
        let parse = |text: &str| RegistrarKey::from_file_bytes(text.as_bytes(), path);
        assert!(parse(&good).is_ok());
        assert!(matches!(
            parse(&good.replace("\"version\":1", "\"version\":2")),
            Err(RegistrarKeyError::BadVersion { .. })
        ));
        assert!(matches!(
            parse(&good.replace("registrar-key", "registry")),
            Err(RegistrarKeyError::BadKind { .. })
        ));
        assert!(matches!(
            parse(&good.replace("}", ",\"x\":1}")),
            Err(RegistrarKeyError::Json { .. })
        ));
        let other = test_key(8).public_key().to_hex();
        assert!(matches!(
            parse(&good.replace(&key.public_key().to_hex(), &other)),
            Err(RegistrarKeyError::KeyMismatch { .. })
        ));
        let secret = hex::encode(key.0.as_bytes());
        assert!(matches!(
            parse(&good.replace(&secret, &secret.to_uppercase())),
            Err(RegistrarKeyError::SecretKey { .. })
        ));
        assert!(matches!(
            parse(&good.replace(&secret, &secret[2..])),
            Err(RegistrarKeyError::SecretKey { .. })
        ));
        let public = key.public_key().to_hex();
        assert!(matches!(
            parse(&good.replace(&public, &public[..63])),
            Err(RegistrarKeyError::PublicKey { .. })
        ));
        for cut in [0, 1, 10, good.len() / 2, good.len() - 3] {
            let err = parse(&good[..cut]).unwrap_err();
            assert!(
                matches!(err, RegistrarKeyError::Json { .. }),
                "{cut}: {err}"
            );
            assert!(
                !err.to_string().contains(&secret),
                "errors never show the secret"
            );
        }
        assert!(RegistrarKey::from_file_bytes(b"\xff\x00garbage", path).is_err());
        assert!(matches!(
            RegistrarKey::from_file(Path::new("/nonexistent/undersign/k")),
            Err(RegistrarKeyError::Io { .. })
        ));
    }
}
