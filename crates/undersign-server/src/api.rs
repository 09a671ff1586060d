//! The HTTP API (`SPEC.md` §16): routes, handlers and the JSON bodies they return.
//!
//! Handlers log nothing about requests. Request bodies are read with a size limit and a time
//! limit; every failure is answered with an [`ErrorBody`](crate::error::ErrorBody).

use crate::error::ApiError;
use crate::state::{
    bundle_chain, bundle_path, Command, InsertJob, InsertOutcome, PetitionEntry, Publication,
    PutOutcome, RegistryEntry,
};
use crate::token::Token;
use crate::verify::{VerifyJob, VerifyQueue};
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::sync::{mpsc, oneshot, Semaphore};
use undersign_core::field;
use undersign_registry::encoding::decode_hex;
use undersign_tally::bundle::{
    write_bundle_header, CheckpointWindow, DisclosedGroup, RootCount, SlotBreakdown, Tally,
};
use undersign_tally::check::Rejection;
use undersign_tally::petition::{DoubleCountBound, PetitionFile};
use undersign_tally::signature::Signature;

/// Limits on what one request may cost.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest signature body, in bytes.
    pub signature_body: usize,
    /// Largest petition body, in bytes.
    pub petition_body: usize,
    /// Largest registry body, in bytes.
    pub registry_body: usize,
    /// Signatures queued for verification or being verified; beyond this, submissions get 503.
    pub pending_verifications: usize,
    /// Longest time to receive a request body.
    pub body_timeout: Duration,
    /// Longest time a connection may take to send a request's headers (also the longest a
    /// connection may sit idle before its first request or between requests).
    pub header_timeout: Duration,
    /// Connections served at once; further ones wait in the listen queue until one closes.
    pub max_connections: usize,
    /// Longest a connection's answer may wait for the peer to read: a write that makes no
    /// progress for this long ends the connection (a download nobody reads).
    pub write_timeout: Duration,
    /// Bundle downloads streamed at once; beyond this, `/bundle` answers 503.
    pub max_downloads: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            signature_body: 8 << 10,
            petition_body: 256 << 10,
            registry_body: 512 << 20,
            pending_verifications: 1024,
            body_timeout: Duration::from_secs(60),
            header_timeout: Duration::from_secs(10),
            max_connections: crate::MAX_CONNECTIONS,
            write_timeout: Duration::from_secs(60),
            max_downloads: 1024,
        }
    }
}

/// The receipt for a stored signature (201), also in a 409 when the stored signature has the
/// same statement as the one submitted (a retry, or a re-randomised copy of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The petition id.
    pub petition: String,
    /// The signature's nullifier (`0x` + 64 hex).
    pub nullifier: String,
    /// The signature's statement hash ([`Signature::receipt`]), in hex.
    pub receipt: String,
}

impl Receipt {
    /// The receipt for `signature`.
    pub fn for_signature(signature: &Signature) -> Self {
        Self {
            petition: hex::encode(signature.petition),
            nullifier: field::to_hex(&signature.nullifier),
            receipt: hex::encode(signature.receipt()),
        }
    }
}

/// The 409 body for a nullifier already counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateBody {
    /// What went wrong.
    pub error: String,
    /// `duplicate_nullifier`.
    pub code: String,
    /// `nullifier`.
    pub field: Option<String>,
    /// Present when the stored signature is exactly the one submitted: it was counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
}

/// The answer to `POST /v1/petitions` and `POST /v1/petitions/{id}/close`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PetitionStatus {
    /// The petition id.
    pub id: String,
    /// Whether it no longer takes signatures.
    pub closed: bool,
}

/// The answer to `POST /v1/petitions/{id}/publish`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishStatus {
    /// The petition id.
    pub id: String,
    /// Published signatures in all (the `count` of `/tally` and of the bundle).
    pub count: u64,
    /// Signatures this publication added (0 if nothing was pending).
    pub added: u64,
    /// Publications so far.
    pub publications: u64,
}

/// The publication schedule and progress, in the tally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicationInfo {
    /// Publications so far (0: the bundle is still empty).
    pub publications: u64,
    /// The publication interval, in seconds.
    pub every_seconds: u64,
    /// Pending signatures a timed publication needs.
    pub min: u64,
}

/// The answer to `PUT /v1/registries/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryStatus {
    /// The registry id.
    pub id: String,
    /// Leaf positions in the file.
    pub members: u64,
    /// Signed checkpoints.
    pub checkpoints: u64,
    /// `created`, `replaced` or `unchanged`.
    pub result: String,
}

/// The answer to `GET /v1/petitions/{id}/tally`: the numbers `undersign audit --json` prints
/// for the published bundle (`count`, `breakdown`, `groups`). Signatures not yet published
/// appear nowhere in it, not even as a pending count.
#[derive(Debug, Clone, Serialize)]
pub struct TallyBody {
    /// The petition id.
    pub petition: String,
    /// The petition's title.
    pub title: String,
    /// Whether it no longer takes signatures.
    pub closed: bool,
    /// Published signatures (the bundle's count).
    pub count: u64,
    /// Counts per disclosed slot and label.
    pub breakdown: Vec<SlotBreakdown>,
    /// Counts per combination of disclosed values.
    pub groups: Vec<DisclosedGroup>,
    /// The checkpoints whose roots the petition accepts.
    pub accepted_checkpoints: CheckpointWindow,
    /// How many counted signers may have signed twice, as the audit of the bundle states it.
    pub double_count_bound: DoubleCountBound,
    /// Published signatures per registry root, oldest checkpoint first.
    pub roots: Vec<RootCount>,
    /// The publication schedule and how many publications there were.
    pub publication: PublicationInfo,
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub catalog: Arc<crate::state::Catalog>,
    pub writer: mpsc::Sender<Command>,
    pub token: Token,
    /// The directory of published bundle files.
    pub bundles: PathBuf,
    pub publication: Publication,
    /// The browser auditor's Web Worker, when the collector serves "verify in your browser".
    pub web_auditor: Option<Bytes>,
    pub limits: Limits,
    /// One permit per submission queued for verification or being verified.
    pub verify_slots: Arc<Semaphore>,
    /// The verification queue.
    pub verifier: VerifyQueue,
    /// One permit per bundle download being streamed.
    pub download_slots: Arc<Semaphore>,
}

/// The API's routes.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/registries/{id}", put(put_registry).get(get_registry))
        .route("/v1/petitions", post(create_petition))
        .route("/v1/petitions/{id}", get(get_petition))
        .route("/v1/petitions/{id}/close", post(close_petition))
        .route("/v1/petitions/{id}/publish", post(publish))
        .route("/v1/petitions/{id}/signatures", post(submit_signature))
        .route("/v1/petitions/{id}/tally", get(tally))
        .route("/v1/petitions/{id}/bundle", get(bundle))
        .merge(crate::pages::routes(state.web_auditor.is_some()))
        .fallback(|| async { ApiError::not_found("route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take this method",
                None,
            )
        })
        .with_state(state)
}

/// A 32-byte id from the path (64 lowercase hex digits).
pub(crate) struct Id([u8; 32]);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let bad =
            || ApiError::bad_request("bad_id", "an id is 64 lowercase hex digits", Some("id"));
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| bad())?;
        decode_hex::<32>(&text).map(Id).map_err(|_| bad())
    }
}

/// Proof that the request carries the organizer's token.
pub(crate) struct Organizer;

impl FromRequestParts<AppState> for Organizer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        match presented {
            Some(token) if state.token.matches(token) => Ok(Organizer),
            _ => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this needs the organizer's token: Authorization: Bearer <contents of DATA/token>",
                None,
            )),
        }
    }
}

/// Reads a request body of at most `limit` bytes within the body time limit.
async fn read_body(body: Body, limit: usize, timeout: Duration) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body is larger than {limit} bytes"),
            None,
        )
    };
    // A Content-Length over the limit is refused before reading anything.
    if axum::body::HttpBody::size_hint(&body).lower() > limit as u64 {
        return Err(too_large());
    }
    let collected = tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await;
    match collected {
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "the request body did not arrive in time",
            None,
        )),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Ok(Err(_)) => Err(ApiError::bad_request(
            "unreadable_body",
            "the request body could not be read (truncated?)",
            None,
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

fn json_bytes(bytes: Bytes, content_type: &'static str) -> Response {
    let mut response = bytes.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

async fn healthz() -> Json<HashMap<&'static str, &'static str>> {
    Json(HashMap::from([("status", "ok")]))
}

async fn writer_call<T>(
    state: &AppState,
    make: impl FnOnce(oneshot::Sender<T>) -> Command,
) -> Result<T, ApiError> {
    let (tx, rx) = oneshot::channel();
    state
        .writer
        .send(make(tx))
        .await
        .map_err(|_| ApiError::unavailable("the server is shutting down"))?;
    rx.await
        .map_err(|_| ApiError::unavailable("the server is shutting down"))
}

async fn put_registry(
    State(state): State<AppState>,
    _: Organizer,
    Id(id): Id,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(body, state.limits.registry_body, state.limits.body_timeout).await?;
    let entry = tokio::task::spawn_blocking(move || RegistryEntry::parse(bytes))
        .await
        .map_err(|_| ApiError::internal("the registry could not be checked"))?
        .map_err(|e| ApiError::from_registry_error(&e))?;
    if entry.id != id {
        return Err(ApiError::unprocessable(
            "id_mismatch",
            format!(
                "the file is registry {}, not the {} in the URL",
                hex::encode(entry.id),
                hex::encode(id)
            ),
            Some("id"),
        ));
    }
    let status = RegistryStatus {
        id: hex::encode(id),
        members: entry.members,
        checkpoints: entry.checkpoints.len() as u64,
        result: String::new(),
    };
    let outcome = writer_call(&state, |reply| Command::PutRegistry { entry, reply }).await??;
    let (code, result) = match outcome {
        PutOutcome::Created => (StatusCode::CREATED, "created"),
        PutOutcome::Replaced => (StatusCode::OK, "replaced"),
        PutOutcome::Unchanged => (StatusCode::OK, "unchanged"),
    };
    let status = RegistryStatus {
        result: result.into(),
        ..status
    };
    Ok((code, Json(status)).into_response())
}

async fn get_registry(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    let entry = state
        .catalog
        .registry(&id)
        .ok_or_else(|| ApiError::not_found("registry"))?;
    Ok(json_bytes(entry.bytes.clone(), "application/json"))
}

async fn create_petition(
    State(state): State<AppState>,
    _: Organizer,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(body, state.limits.petition_body, state.limits.body_timeout).await?;
    let petition =
        PetitionFile::parse(bytes.to_vec()).map_err(|e| ApiError::from_petition_error(&e))?;
    let id = petition.id();
    let new = writer_call(&state, |reply| Command::CreatePetition { petition, reply }).await??;
    let closed = state.catalog.petition(&id).is_some_and(|p| p.is_closed());
    let code = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let status = PetitionStatus {
        id: hex::encode(id),
        closed,
    };
    Ok((code, Json(status)).into_response())
}

fn petition(state: &AppState, id: &[u8; 32]) -> Result<Arc<PetitionEntry>, ApiError> {
    state
        .catalog
        .petition(id)
        .ok_or_else(|| ApiError::not_found("petition"))
}

async fn get_petition(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    let entry = petition(&state, &id)?;
    Ok(json_bytes(entry.bytes.clone(), "application/json"))
}

async fn close_petition(
    State(state): State<AppState>,
    _: Organizer,
    Id(id): Id,
) -> Result<Response, ApiError> {
    petition(&state, &id)?;
    writer_call(&state, |reply| Command::Close { id, reply }).await??;
    Ok(Json(PetitionStatus {
        id: hex::encode(id),
        closed: true,
    })
    .into_response())
}

async fn publish(
    State(state): State<AppState>,
    _: Organizer,
    Id(id): Id,
) -> Result<Response, ApiError> {
    petition(&state, &id)?;
    let published = writer_call(&state, |reply| Command::Publish { id, reply }).await??;
    Ok(Json(PublishStatus {
        id: hex::encode(id),
        count: published.count,
        added: published.added,
        publications: published.publications,
    })
    .into_response())
}

fn gone() -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        "closed",
        "this petition is closed and takes no more signatures",
        None,
    )
}

async fn submit_signature(
    State(state): State<AppState>,
    Id(id): Id,
    body: Body,
) -> Result<Response, ApiError> {
    // The petition first (404, 410), then the body (413, 408, 400).
    let entry = petition(&state, &id)?;
    if entry.is_closed() {
        return Err(gone());
    }
    let bytes = read_body(body, state.limits.signature_body, state.limits.body_timeout).await?;
    let signature = Signature::from_json(&bytes).map_err(|e| ApiError::from_signature_error(&e))?;
    // A nullifier already stored costs no verification: answer 409 from the stored line.
    let key = signature.nullifier_key();
    if entry.has_nullifier(&key) {
        let existing = writer_call(&state, |reply| Command::Lookup {
            petition: id,
            nullifier: key,
            reply,
        })
        .await??;
        if existing.is_some() {
            return Ok(duplicate(existing.as_deref(), &signature));
        }
    }
    // Queued with the others waiting (crate::verify): verified together as one batch, on
    // rayon's pool, off the runtime. The permit bounds what waits; beyond it, 503.
    let permit = state
        .verify_slots
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::unavailable("too many signatures are being verified; try again"))?;
    let (tx, rx) = oneshot::channel();
    state
        .verifier
        .send(VerifyJob {
            checker: entry.checker(),
            body: bytes,
            reply: tx,
            permit,
        })
        .map_err(|_| ApiError::unavailable("the server is shutting down"))?;
    let signature = rx
        .await
        .map_err(|_| ApiError::internal("the signature could not be verified"))?
        .map_err(|rejection: Rejection| ApiError::from_rejection(&rejection))?;
    let line = signature.to_json_line();
    let receipt = Receipt::for_signature(&signature);
    let submitted = signature.clone();
    let outcome = writer_call(&state, |reply| {
        Command::Insert(InsertJob {
            entry,
            signature,
            line: line.clone(),
            reply,
        })
    })
    .await?;
    match outcome {
        InsertOutcome::Stored => Ok((StatusCode::CREATED, Json(receipt)).into_response()),
        InsertOutcome::Duplicate { existing } => Ok(duplicate(existing.as_deref(), &submitted)),
        InsertOutcome::Closed => Err(gone()),
        InsertOutcome::Failed => Err(ApiError::unavailable(
            "the database could not store the signature; it was not counted, try again",
        )),
    }
}

/// The 409 for `submitted`, whose nullifier is stored as the line `existing`. When the stored
/// signature has the same receipt (the same statement: a retry, or a copy whose proof someone
/// re-randomised) it was counted, and the signer's receipt stands. The submitted proof need
/// not have been verified: the receipt names the statement, not the proof.
fn duplicate(existing: Option<&str>, submitted: &Signature) -> Response {
    let same = existing
        .and_then(|stored| Signature::from_json(stored.as_bytes()).ok())
        .is_some_and(|stored| stored.receipt() == submitted.receipt());
    let body = DuplicateBody {
        error: if same {
            "this signature's statement was already counted (same petition, nullifier, root, \
             disclosure and comment)"
                .into()
        } else {
            Rejection::DuplicateNullifier.to_string()
        },
        code: Rejection::DuplicateNullifier.code().into(),
        field: Some("nullifier".into()),
        receipt: same.then(|| Receipt::for_signature(submitted)),
    };
    (StatusCode::CONFLICT, Json(body)).into_response()
}

async fn tally(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    Ok(Json(tally_body(&state, &id)?).into_response())
}

/// The tally of petition `id`'s published signatures, as `/tally` and the petition's page
/// show it.
pub(crate) fn tally_body(state: &AppState, id: &[u8; 32]) -> Result<TallyBody, ApiError> {
    let entry = petition(state, id)?;
    let registry = state
        .catalog
        .registry(&entry.petition.registry())
        .ok_or_else(|| ApiError::internal("the petition's registry is missing"))?;
    let tally = entry.tally();
    // The bundle's chain runs to the newest checkpoint a published signature uses (the newest
    // checkpoint when none is published); the bound is over the accepted checkpoints in it.
    let chain = bundle_chain(&registry, &tally);
    Ok(TallyBody {
        petition: hex::encode(id),
        title: entry.petition.fields().title.clone(),
        closed: entry.is_closed(),
        count: tally.count,
        breakdown: tally.breakdown(&registry.schema),
        groups: tally
            .groups
            .iter()
            .map(|(&(mask, codes), &count)| DisclosedGroup { mask, codes, count })
            .collect(),
        accepted_checkpoints: CheckpointWindow::of(&entry.petition),
        double_count_bound: entry.petition.double_count_bound(chain),
        roots: tally.root_counts(chain),
        publication: PublicationInfo {
            publications: entry.publications(),
            every_seconds: state.publication.every.as_secs(),
            min: state.publication.min,
        },
    })
}

/// Bytes sent per chunk of a streamed bundle.
const CHUNK: usize = 64 << 10;

/// Serves the bundle file written at the petition's latest publication, streamed from an open
/// handle (a publication meanwhile renames a new file into place; this download goes on with
/// the old one). Before the first publication: a valid empty bundle (its header, with
/// `signatures: 0`). The database is not read.
async fn bundle(State(state): State<AppState>, Id(id): Id) -> Result<Response, ApiError> {
    let entry = petition(&state, &id)?;
    // Each streamed download holds a file handle and up to one chunk in memory until it ends
    // (or its connection's write timeout ends it): at most `max_downloads` at once.
    let permit = state
        .download_slots
        .clone()
        .try_acquire_owned()
        .map_err(|_| {
            ApiError::unavailable("too many bundle downloads are in progress; try again")
        })?;
    let mut response = match tokio::fs::File::open(bundle_path(&state.bundles, &id)).await {
        Ok(file) => {
            let length = file.metadata().await.ok().map(|m| m.len());
            let stream = futures_util::stream::unfold(Some((file, permit)), |open| async move {
                let (mut file, permit) = open?;
                let mut buffer = vec![0u8; CHUNK];
                match file.read(&mut buffer).await {
                    Ok(0) => None,
                    Ok(n) => {
                        buffer.truncate(n);
                        Some((Ok(Bytes::from(buffer)), Some((file, permit))))
                    }
                    Err(e) => Some((Err(e), None)),
                }
            });
            let mut response = Body::from_stream(stream).into_response();
            if let Some(length) = length {
                response
                    .headers_mut()
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
            }
            response
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            empty_bundle(&state, &entry)?.into_response()
        }
        Err(e) => {
            eprintln!("collector: opening a bundle file failed: {e}");
            return Err(ApiError::internal("the bundle could not be read"));
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"bundle-{}.jsonl\"",
        hex::encode(id)
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// The bundle of a petition with nothing published yet: its header alone, with the chain up
/// to the registry's newest checkpoint.
fn empty_bundle(state: &AppState, entry: &PetitionEntry) -> Result<Bytes, ApiError> {
    let registry = state
        .catalog
        .registry(&entry.petition.registry())
        .ok_or_else(|| ApiError::internal("the petition's registry is missing"))?;
    let empty = Tally::new(&entry.petition.allowed_mask().slots());
    let mut buffer = Vec::new();
    write_bundle_header(
        &mut buffer,
        &entry.petition,
        &registry.schema,
        bundle_chain(&registry, &empty),
        entry.checker().verifier(),
        0,
    )
    .map_err(|e| {
        eprintln!("collector: writing an empty bundle header failed: {e}");
        ApiError::internal("the bundle could not be made")
    })?;
    Ok(Bytes::from(buffer))
}
