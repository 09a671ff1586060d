//! Errors: [`ServerError`] for starting and running the service, [`ApiError`] for one request's
//! answer (`{"error": ..., "code": ..., "field": ...}` with an HTTP status).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use thiserror::Error;
use undersign_registry::registry::RegistryError;
use undersign_tally::check::Rejection;
use undersign_tally::petition::PetitionError;
use undersign_tally::signature::SignatureError;

/// Why the collector could not start or stopped.
#[derive(Debug, Error)]
pub enum ServerError {
    /// A file or socket operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The database failed.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// A key directory could not be loaded.
    #[error("keys {path}: {source}")]
    Keys {
        /// The key directory.
        path: PathBuf,
        /// What is wrong.
        source: undersign_proof::KeyError,
    },
    /// The organizer token file is unusable.
    #[error("organizer token {path}: {reason}")]
    Token {
        /// The token file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Something stored in the database no longer loads (it was valid when stored).
    #[error("stored {what}: {reason}")]
    Corrupt {
        /// Which record.
        what: String,
        /// What is wrong.
        reason: String,
    },
}

impl ServerError {
    /// An I/O error with what was being done.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

/// A database failure.
#[derive(Debug, Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored value has the wrong shape.
    #[error("bad stored value: {0}")]
    BadValue(String),
}

/// The JSON body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong, in plain language.
    pub error: String,
    /// A stable machine-readable code (`invalid_proof`, `duplicate_nullifier`, ...).
    pub code: String,
    /// The request field at fault, if one is.
    pub field: Option<String>,
}

/// One request's failure: an HTTP status and an [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: ErrorBody,
}

impl ApiError {
    /// An error with `status`, a stable `code`, a message and the field at fault.
    pub fn new(
        status: StatusCode,
        code: &str,
        message: impl Into<String>,
        field: Option<&str>,
    ) -> Self {
        Self {
            status,
            body: ErrorBody {
                error: message.into(),
                code: code.to_owned(),
                field: field.map(str::to_owned),
            },
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(code: &str, message: impl Into<String>, field: Option<&str>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message, field)
    }

    /// 422 Unprocessable Content: well-formed, but breaks a rule.
    pub fn unprocessable(code: &str, message: impl Into<String>, field: Option<&str>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message, field)
    }

    /// 404 Not Found.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what} on this server"),
            None,
        )
    }

    /// 500: a failure on the server's side; the message names no request data.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message, None)
    }

    /// 503: the server cannot take the request now; nothing was stored.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            message,
            None,
        )
    }

    /// The answer for a signature that failed to parse.
    pub fn from_signature_error(error: &SignatureError) -> Self {
        match error {
            SignatureError::Json(message) => Self::bad_request(
                "malformed",
                format!("not a valid signature: {message}"),
                serde_field(message).as_deref(),
            ),
            SignatureError::TooLarge(_) => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                error.to_string(),
                None,
            ),
            SignatureError::Field { field, .. } => {
                Self::unprocessable("malformed", error.to_string(), Some(field))
            }
            #[allow(unreachable_patterns)]
            _ => Self::unprocessable("malformed", error.to_string(), None),
        }
    }

    /// The answer for a signature the tally rules reject.
    pub fn from_rejection(rejection: &Rejection) -> Self {
        let field = match rejection {
            Rejection::Malformed(e) => return Self::from_signature_error(e),
            Rejection::DuplicateNullifier => {
                return Self::new(
                    StatusCode::CONFLICT,
                    rejection.code(),
                    rejection.to_string(),
                    Some("nullifier"),
                )
            }
            Rejection::WrongPetition { .. } => Some("petition"),
            Rejection::MaskNotAllowed { .. } => Some("mask"),
            Rejection::UnknownRoot
            | Rejection::RootBeforeMinimum { .. }
            | Rejection::RootAfterMaximum { .. } => Some("root"),
            Rejection::InvalidProof(_) => Some("proof"),
            #[allow(unreachable_patterns)]
            _ => None,
        };
        Self::unprocessable(rejection.code(), rejection.to_string(), field)
    }

    /// The answer for a petition file that failed to parse.
    pub fn from_petition_error(error: &PetitionError) -> Self {
        match error {
            PetitionError::Json(message) => Self::bad_request(
                "malformed",
                error.to_string(),
                serde_field(message).as_deref(),
            ),
            PetitionError::Field { field, .. } => {
                Self::unprocessable("invalid_petition", error.to_string(), Some(field))
            }
            #[allow(unreachable_patterns)]
            _ => Self::unprocessable("invalid_petition", error.to_string(), None),
        }
    }

    /// The answer for a registry file that failed to load.
    pub fn from_registry_error(error: &RegistryError) -> Self {
        match error {
            RegistryError::Json(e) => Self::bad_request(
                "malformed",
                error.to_string(),
                serde_field(&e.to_string()).as_deref(),
            ),
            RegistryError::BadId(_) => {
                Self::unprocessable("invalid_registry", error.to_string(), Some("id"))
            }
            RegistryError::BadVersion(_) => {
                Self::unprocessable("invalid_registry", error.to_string(), Some("version"))
            }
            RegistryError::BadKind(_) => {
                Self::unprocessable("invalid_registry", error.to_string(), Some("kind"))
            }
            RegistryError::BadDepth(_) => {
                Self::unprocessable("invalid_registry", error.to_string(), Some("depth"))
            }
            RegistryError::Chain(_)
            | RegistryError::CheckpointSchema { .. }
            | RegistryError::CheckpointBeyondMembers { .. } => {
                Self::unprocessable("invalid_registry", error.to_string(), Some("checkpoints"))
            }
            RegistryError::Schema(_) => {
                Self::unprocessable("invalid_registry", error.to_string(), Some("schema"))
            }
            RegistryError::Member { .. } | RegistryError::TooManyMembers { .. } => {
                Self::unprocessable("invalid_registry", error.to_string(), Some("members"))
            }
            _ => Self::unprocessable("invalid_registry", error.to_string(), None),
        }
    }
}

/// The field a serde error names (`unknown field `x``, `missing field `x``), if any.
fn serde_field(message: &str) -> Option<String> {
    for prefix in [
        "unknown field `",
        "missing field `",
        "duplicate field `",
        "invalid field `",
    ] {
        if let Some(start) = message.find(prefix) {
            let rest = &message[start + prefix.len()..];
            let name = rest.split('`').next().unwrap_or_default();
            if !name.is_empty() && name.len() <= 64 {
                return Some(name.to_owned());
            }
        }
    }
    None
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"undersign organizer\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_name_their_field() {
        assert_eq!(
            serde_field("unknown field `extra`, expected one of `version`, `kind`").as_deref(),
            Some("extra")
        );
        assert_eq!(
            serde_field("missing field `proof` at line 1 column 20").as_deref(),
            Some("proof")
        );
        assert_eq!(
            serde_field("invalid field `disclosed`: expected 4 codes (one per slot), got 5")
                .as_deref(),
            Some("disclosed")
        );
        assert_eq!(serde_field("EOF while parsing a value"), None);
    }
}
