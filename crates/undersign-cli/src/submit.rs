//! `undersign submit` and `sign --submit`: send a signature to a collector (`SPEC.md` §16),
//! optionally through a SOCKS proxy such as Tor, and check the receipt it returns.
//!
//! The request carries the signature's canonical line and nothing else about the signer: no
//! user agent, no cookies, and no proxy from the environment (only `--proxy`).

use crate::EXIT_REJECTED;
use anyhow::{anyhow, bail, Context, Result};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;
use undersign_server::api::DuplicateBody;
use undersign_server::{ErrorBody, Receipt};
use undersign_tally::signature::Signature;

/// How long to wait for a collector (Tor circuits can be slow to build).
const TIMEOUT: Duration = Duration::from_secs(180);

/// The submission URL for `signature` at the collector `base` (a base URL, or the full
/// `.../signatures` URL).
pub fn submission_url(base: &str, signature: &Signature) -> Result<String> {
    let base = base.trim().trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        bail!("--to must be an http:// or https:// URL, got {base:?}");
    }
    if base.ends_with("/signatures") {
        return Ok(base.to_owned());
    }
    Ok(format!(
        "{base}/v1/petitions/{}/signatures",
        hex::encode(signature.petition)
    ))
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => host.split(':').next().unwrap_or(host),
    }
}

/// Reads a signature file and submits it.
pub fn submit_file(path: &Path, to: &str, proxy: Option<&str>) -> Result<ExitCode> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading signature {}", path.display()))?;
    let signature =
        Signature::from_json(&bytes).with_context(|| format!("signature {}", path.display()))?;
    submit(&signature, to, proxy)
}

/// Submits `signature` to the collector at `to` and prints the receipt.
pub fn submit(signature: &Signature, to: &str, proxy: Option<&str>) -> Result<ExitCode> {
    let url = submission_url(to, signature)?;
    let host = host_of(&url).to_ascii_lowercase();
    let mut builder = reqwest::blocking::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none());
    match proxy {
        Some(proxy) => {
            if proxy.starts_with("socks5://") {
                eprintln!(
                    "warning: with socks5:// names are resolved on this machine; use socks5h:// \
                     so the proxy resolves them (needed for .onion, and leaks nothing to DNS)"
                );
            }
            builder = builder
                .proxy(reqwest::Proxy::all(proxy).map_err(|e| anyhow!("--proxy {proxy:?}: {e}"))?);
        }
        None => {
            if host.ends_with(".onion") {
                bail!("{host} is an onion address: pass --proxy socks5h://127.0.0.1:9050 (Tor)");
            }
            builder = builder.no_proxy();
        }
    }
    let client = builder.build().context("setting up the HTTP client")?;
    let line = signature.to_json_line();
    let response = client
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(line.clone())
        .send()
        .map_err(|e| anyhow!("submitting to {url}: {}", error_chain(&e)))?;
    let status = response.status();
    let body = response
        .bytes()
        .map_err(|e| anyhow!("reading the answer from {url}: {e}"))?;
    let expected = Receipt::for_signature(signature);
    match status.as_u16() {
        201 => {
            let receipt: Receipt = serde_json::from_slice(&body)
                .map_err(|e| anyhow!("the collector's receipt is not valid: {e}"))?;
            if receipt != expected {
                bail!(
                    "the collector answered 201 but its receipt does not match this signature \
                     (receipt {}, expected {}): do not trust this collector's count",
                    receipt.receipt,
                    expected.receipt
                );
            }
            println!("stored by {url}");
            print_receipt(&receipt);
            Ok(ExitCode::SUCCESS)
        }
        409 => {
            let body: DuplicateBody = serde_json::from_slice(&body)
                .map_err(|e| anyhow!("409 from the collector with an unreadable body: {e}"))?;
            match body.receipt {
                Some(receipt) if receipt == expected => {
                    println!(
                        "already stored by {url} (a signature with this exact statement was \
                         counted before)"
                    );
                    print_receipt(&receipt);
                    Ok(ExitCode::SUCCESS)
                }
                _ => {
                    println!("REFUSED (409): {}", body.error);
                    Ok(ExitCode::from(EXIT_REJECTED))
                }
            }
        }
        code => {
            let reason = serde_json::from_slice::<ErrorBody>(&body)
                .map(|e| match e.field {
                    Some(field) => format!("{} (field {field})", e.error),
                    None => e.error,
                })
                .unwrap_or_else(|_| String::from_utf8_lossy(&body).chars().take(300).collect());
            let reason = if reason.trim().is_empty() {
                "no reason given".to_owned()
            } else {
                reason
            };
            if status.is_client_error() {
                println!("REFUSED ({code}): {reason}");
                Ok(ExitCode::from(EXIT_REJECTED))
            } else {
                bail!("the collector failed ({code}): {reason}; the signature was not stored, try again")
            }
        }
    }
}

fn print_receipt(receipt: &Receipt) {
    println!("petition:   {}", receipt.petition);
    println!("nullifier:  {}", receipt.nullifier);
    println!(
        "receipt:    {} (names your signature's statement; the published bundle holds a line \
         with it. Like the signature itself, it is evidence that you signed: do not keep it \
         where others could find it)",
        receipt.receipt
    );
}

/// An error with its causes (reqwest's top-level message alone rarely says what failed).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_found_in_urls() {
        assert_eq!(host_of("http://abc.onion/v1/x"), "abc.onion");
        assert_eq!(host_of("http://127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(host_of("https://u@example.org:443/p"), "example.org");
        assert_eq!(host_of("http://[::1]:80/"), "::1");
    }
}
