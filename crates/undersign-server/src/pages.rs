//! The public HTML pages beside the JSON API (`SPEC.md` §16, *Pages*): an index of the
//! petitions this collector holds and one page per petition, in English, Belarusian or
//! Russian (`?lang=en|be|ru`), rendered by [`undersign_page`]; and the verifying key file the
//! pages link to.
//!
//! A page shows exactly what `/v1/petitions/{id}/tally` and the petition file show (the same
//! [`TallyBody`](crate::api::TallyBody), built by the same function), so it changes only at a
//! publication (or when the petition is closed) and carries no time. Every page is sent with
//! a Content-Security-Policy that lets nothing load but its own stylesheet (by hash), with
//! `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, `X-Frame-Options: DENY`,
//! and no cookie.
//!
//! With a web auditor configured (`undersign serve --web-auditor`), the collector also serves
//! the auditor's Web Worker ([`WORKER_FILE`]), the page's script ([`VERIFY_SCRIPT_FILE`]) and
//! each petition's "verify in your browser" page, `/petitions/{id}/verify`: the only page with
//! a script, sent with [`undersign_page::verify_content_security_policy`]. It fetches the
//! published bundle and `/tally` (what the JSON API already publishes) and nothing else.

use crate::api::{tally_body, AppState};
use crate::error::ApiError;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use undersign_page::{
    render_index, render_not_found, render_petition_with, render_verify_with, Download,
    DownloadKind, IndexEntry, Lang, LangLinks, PetitionPage, Publication, State as PageState,
    VerifyPageFiles, VERIFY_SCRIPT, VERIFY_SCRIPT_FILE, WORKER_FILE,
};
use undersign_proof::encoding::verifying_key_to_bytes;
use undersign_registry::encoding::decode_hex;

/// The pages' routes, merged into the API's router; with `browser_verify` (a web auditor is
/// configured), also the "verify in your browser" page and its two scripts.
pub(crate) fn routes(browser_verify: bool) -> Router<AppState> {
    let router = Router::new()
        .route("/", get(index))
        .route("/petitions/{id}", get(petition))
        .route("/v1/verifying-keys/{hash}", get(verifying_key));
    if !browser_verify {
        return router;
    }
    router
        .route(&format!("/{WORKER_FILE}"), get(worker_script))
        .route(&format!("/{VERIFY_SCRIPT_FILE}"), get(verify_script))
        .route("/petitions/{id}/verify", get(verify_page))
}

/// The headers every page is sent with.
pub fn page_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // The policy is ASCII; should it ever not be, the page goes out unstyled, never unguarded.
    let policy = HeaderValue::from_str(&undersign_page::content_security_policy())
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Readers should see a new publication when there is one.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers
}

fn page(status: StatusCode, body: String) -> Response {
    (status, page_headers(), body).into_response()
}

/// The headers of the "verify in your browser" page: [`page_headers`], with the policy that
/// lets scripts, the worker and `fetch` load from this origin only.
pub fn verify_page_headers() -> HeaderMap {
    let mut headers = page_headers();
    let policy = HeaderValue::from_str(&undersign_page::verify_content_security_policy())
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    headers
}

/// The headers of the two scripts: JavaScript, with the pages' strict policy (a script needs
/// none of its own), nosniff and no referrer.
pub fn script_headers() -> HeaderMap {
    let mut headers = page_headers();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    headers
}

/// The headers of the auditor's Web Worker: [`script_headers`], with the policy a worker
/// runs under ([`undersign_page::worker_content_security_policy`]: WebAssembly may compile).
pub fn worker_headers() -> HeaderMap {
    let mut headers = script_headers();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(undersign_page::worker_content_security_policy()),
    );
    headers
}

/// `GET /undersign-audit-worker.js`: the configured web auditor.
async fn worker_script(State(state): State<AppState>) -> Response {
    match state.web_auditor {
        Some(bytes) => (StatusCode::OK, worker_headers(), bytes).into_response(),
        None => ApiError::not_found("route").into_response(),
    }
}

/// `GET /undersign-verify.js`: the verify page's script.
async fn verify_script() -> Response {
    (StatusCode::OK, script_headers(), VERIFY_SCRIPT).into_response()
}

/// The language a request asks for with `?lang=`; English otherwise.
fn lang_of(uri: &Uri) -> Lang {
    uri.query()
        .into_iter()
        .flat_map(|query| query.split('&'))
        .filter_map(|pair| pair.strip_prefix("lang="))
        .find_map(Lang::from_code)
        .unwrap_or(Lang::En)
}

fn not_found(lang: Lang, home: &str) -> Response {
    page(
        StatusCode::NOT_FOUND,
        render_not_found(lang, &format!("{home}?lang={}", lang.code())),
    )
}

async fn index(State(state): State<AppState>, uri: Uri) -> Response {
    let lang = lang_of(&uri);
    let entries: Vec<IndexEntry> = state
        .catalog
        .petitions
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .values()
        .map(|entry| IndexEntry {
            id: hex::encode(entry.id),
            title: entry.petition.fields().title.clone(),
            count: entry.tally().count,
            closed: entry.is_closed(),
        })
        .collect();
    page(StatusCode::OK, render_index(&entries, lang))
}

async fn petition(State(state): State<AppState>, Path(text): Path<String>, uri: Uri) -> Response {
    let lang = lang_of(&uri);
    let home = "../";
    let Some(page_data) = petition_page(&state, &text) else {
        return not_found(lang, home);
    };
    page(
        StatusCode::OK,
        render_petition_with(
            &page_data,
            lang,
            &LangLinks::Query,
            Some(home),
            state.web_auditor.is_some(),
        ),
    )
}

/// `GET /petitions/{id}/verify`: the "verify in your browser" page. Its links are relative
/// to it: the bundle and `/tally` (the published numbers it compares with), the worker and
/// the script at the root, and the petition's page in the same language.
async fn verify_page(
    State(state): State<AppState>,
    Path(text): Path<String>,
    uri: Uri,
) -> Response {
    let lang = lang_of(&uri);
    let home = "../../";
    let Some(page_data) = petition_page(&state, &text) else {
        return not_found(lang, home);
    };
    let id = &page_data.id;
    let files = VerifyPageFiles {
        bundle: format!("../../v1/petitions/{id}/bundle"),
        report: format!("../../v1/petitions/{id}/tally"),
        worker: format!("../../{WORKER_FILE}"),
        script: format!("../../{VERIFY_SCRIPT_FILE}"),
        tally_page: format!("../{id}?lang={}", lang.code()),
    };
    (
        StatusCode::OK,
        verify_page_headers(),
        render_verify_with(&page_data, lang, &files, &LangLinks::Query),
    )
        .into_response()
}

/// What petition `text`'s page shows, from its published tally; `None` for an unknown or
/// malformed id.
fn petition_page(state: &AppState, text: &str) -> Option<PetitionPage> {
    let id = decode_hex::<32>(text).ok()?;
    let entry = state.catalog.petition(&id)?;
    let tally = tally_body(state, &id).ok()?;
    let id_hex = hex::encode(id);
    let fields = entry.petition.fields();
    let bundle_name = format!("bundle-{id_hex}.jsonl");
    let vk_hash = entry.petition.verifying_key_hash().to_owned();
    let registrar_key = entry.petition.registrar_key().to_hex();
    let api = format!("../v1/petitions/{id_hex}");
    let download = |kind, href: String, name: Option<&str>| Download {
        kind,
        href,
        file_name: name.map(str::to_owned),
    };
    let page_data = PetitionPage {
        id: id_hex.clone(),
        title: fields.title.clone(),
        text: fields.text.clone(),
        state: if tally.closed {
            PageState::Closed
        } else {
            PageState::Open
        },
        count: tally.count,
        breakdown: tally.breakdown,
        groups: tally.groups.iter().map(Into::into).collect(),
        accepted: tally.accepted_checkpoints,
        double_count_bound: tally.double_count_bound,
        roots: tally.roots,
        registrar_key: registrar_key.clone(),
        verifying_key_hash: vk_hash.clone(),
        // Whoever reads the page pins nothing: the hash is the one the petition names.
        verifying_key_pinned: false,
        // The collector holds only the verifying key, not the ceremony's transcript.
        ceremony: None,
        publication: Publication::Collector {
            publications: tally.publication.publications,
            every_seconds: tally.publication.every_seconds,
            min: tally.publication.min,
        },
        downloads: vec![
            download(
                DownloadKind::Bundle,
                format!("{api}/bundle"),
                Some(&bundle_name),
            ),
            download(DownloadKind::Petition, api.clone(), Some("petition.json")),
            download(
                DownloadKind::Registry,
                format!(
                    "../v1/registries/{}",
                    hex::encode(entry.petition.registry())
                ),
                Some("registry.json"),
            ),
            download(
                DownloadKind::VerifyingKey,
                format!("../v1/verifying-keys/{vk_hash}"),
                Some("verifying.key"),
            ),
            download(DownloadKind::Tally, format!("{api}/tally"), None),
        ],
        audit_command: format!(
            "undersign audit {bundle_name} --registrar-key {registrar_key} --registry registry.json"
        ),
    };
    Some(page_data)
}

/// `GET /v1/verifying-keys/{hash}`: the verifying key file (`verifying.key`, the compressed
/// key whose blake3 is `hash`) of a key this collector holds. Every bundle embeds the same
/// bytes; this serves them as the file `undersign ceremony phase2 verify --out` writes.
async fn verifying_key(
    State(state): State<AppState>,
    Path(text): Path<String>,
) -> Result<Response, ApiError> {
    let hash = decode_hex::<32>(&text).map_err(|_| {
        ApiError::bad_request("bad_id", "an id is 64 lowercase hex digits", Some("id"))
    })?;
    let verifier = state
        .catalog
        .verifiers
        .get(&hex::encode(hash))
        .ok_or_else(|| ApiError::not_found("verifying key"))?;
    let bytes = verifying_key_to_bytes(verifier.verifying_key());
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"verifying.key\""),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_comes_from_the_query_and_defaults_to_english() {
        let lang = |uri: &str| lang_of(&uri.parse::<Uri>().unwrap_or_default());
        assert_eq!(lang("/"), Lang::En);
        assert_eq!(lang("/?lang=be"), Lang::Be);
        assert_eq!(lang("/petitions/x?x=1&lang=RU"), Lang::Ru);
        assert_eq!(lang("/?lang=xx"), Lang::En);
        assert_eq!(lang("/?lang=xx&lang=ru"), Lang::Ru);
    }

    #[test]
    fn pages_are_sent_with_a_strict_policy() {
        let headers = page_headers();
        let policy = headers
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(policy.starts_with("default-src 'none'; style-src 'sha256-"));
        for directive in [
            "form-action 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(policy.contains(directive), "{policy}");
        }
        assert!(!policy.contains("script-src"));
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
        assert!(headers.get(header::SET_COOKIE).is_none());
    }
}
