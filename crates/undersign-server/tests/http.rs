//! The collector in-process on loopback, without proofs: connection handling, authentication,
//! error bodies and shutdown. (`tests/server.rs` at the workspace root covers signatures end to
//! end through the `undersign` binary.)

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use undersign_server::{Config, Limits, Server};

struct Running {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), undersign_server::ServerError>>>,
}

impl Running {
    fn start(dir: &std::path::Path, limits: Limits) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut config = Config::new(dir, Vec::new());
        config.limits = limits;
        let server = Server::open(config).unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime.block_on(server.serve(listener, async {
                let _ = stopped.await;
            }))
        });
        Running {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Sends `request` on a new connection and returns (status, headers, body).
    fn request(&self, request: &str) -> (u16, String, String) {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        let text = String::from_utf8_lossy(&answer).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, head.to_owned(), body.to_owned())
    }

    fn stop(&mut self) -> Duration {
        let started = Instant::now();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap().unwrap();
        }
        started.elapsed()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
}

fn post(path: &str, headers: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn health_errors_and_authentication() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Running::start(&data, Limits::default());
    let token = std::fs::read_to_string(data.join("token")).unwrap();
    let token = token.trim();

    let (status, _, body) = server.request(&get("/healthz"));
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["status"],
        "ok"
    );

    // Organizer endpoints: no token, a wrong one, a near miss.
    for auth in [
        String::new(),
        "Authorization: Bearer nope\r\n".into(),
        format!(
            "Authorization: Bearer {}{}\r\n",
            &token[..63],
            if token.ends_with('0') { '1' } else { '0' }
        ),
        format!("Authorization: Basic {token}\r\n"),
    ] {
        let (status, head, body) = server.request(&post("/v1/petitions", &auth, "{}"));
        assert_eq!(status, 401, "{auth}");
        assert!(head
            .to_ascii_lowercase()
            .contains("www-authenticate: bearer"));
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["code"], "unauthorized");
        assert!(!body.to_string().contains(token));
    }
    // With the token, a petition must parse.
    let auth = format!("Authorization: Bearer {token}\r\n");
    let (status, _, body) = server.request(&post("/v1/petitions", &auth, "{\"version\":1"));
    assert_eq!(status, 400, "{body}");
    let (status, _, body) = server.request(&post(
        "/v1/petitions",
        &auth,
        "{\"version\":1,\"kind\":\"undersign-petition\",\"surprise\":true}",
    ));
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["field"],
        "surprise"
    );

    // Public endpoints: unknown ids are 404, malformed ones 400, all with a JSON reason.
    let id = "ab".repeat(32);
    for (request, expected) in [
        (get(&format!("/v1/petitions/{id}")), 404),
        (get(&format!("/v1/petitions/{id}/tally")), 404),
        (get(&format!("/v1/petitions/{id}/bundle")), 404),
        (get(&format!("/v1/registries/{id}")), 404),
        (get("/v1/petitions/ABC/tally"), 400),
        (
            post(&format!("/v1/petitions/{id}/signatures"), "", "{}"),
            404,
        ),
        (get("/v2/anything"), 404),
        (post(&format!("/v1/petitions/{id}/publish"), "", ""), 401),
        (post(&format!("/v1/petitions/{id}/publish"), &auth, ""), 404),
        (post("/v1/petitions/ABC/publish", &auth, ""), 400),
    ] {
        let (status, _, body) = server.request(&request);
        assert_eq!(status, expected, "{request}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
}

#[test]
fn silent_connections_are_closed_and_shutdown_is_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let limits = Limits {
        header_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let mut server = Running::start(&data, limits);
    // A client that connects and says nothing is dropped after the header timeout.
    let mut silent = TcpStream::connect(server.addr).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    let mut buffer = Vec::new();
    let _ = silent.read_to_end(&mut buffer);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a silent connection stayed open {:?}",
        started.elapsed()
    );
    // The server still serves, then stops promptly and the data directory opens again.
    assert_eq!(server.request(&get("/healthz")).0, 200);
    let idle = TcpStream::connect(server.addr).unwrap();
    assert!(server.stop() < Duration::from_secs(10));
    drop(idle);
    let token = std::fs::read_to_string(data.join("token")).unwrap();
    let again = Running::start(&data, Limits::default());
    assert_eq!(std::fs::read_to_string(data.join("token")).unwrap(), token);
    assert_eq!(again.request(&get("/healthz")).0, 200);
}

/// Sends raw bytes on a new connection; returns the whole answer (read until the server
/// closes the connection).
fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // The server may answer and close before the whole request is written.
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn wrong_methods_get_405_with_the_json_error_and_unknown_petitions_come_before_the_body_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(&dir.path().join("data"), Limits::default());
    let id = "ab".repeat(32);
    for request in [
        "DELETE /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_owned(),
        get("/v1/petitions"),
        get(&format!("/v1/petitions/{id}/signatures")),
        post(&format!("/v1/petitions/{id}/tally"), "", ""),
        format!("PUT /v1/petitions/{id} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
    ] {
        let (status, _, body) = server.request(&request);
        assert_eq!(status, 405, "{request}");
        let body: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{request}: {e}"));
        assert_eq!(body["code"], "method_not_allowed", "{request}");
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()));
        assert!(body["field"].is_null());
    }
    // An announced body far over the limit, to an unknown petition: 404, not 413.
    let (status, _, body) = server.request(&format!(
        "POST /v1/petitions/{id}/signatures HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1000000000\r\n\r\n"
    ));
    assert_eq!(status, 404);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["code"],
        "not_found"
    );
}

/// Requests hyper refuses while parsing the head never reach the router: hyper answers them
/// itself with a bare status (no body, `content-length: 0`) and closes the connection, as
/// SPEC §16 states. The server keeps serving.
#[test]
fn unparsable_request_heads_get_a_bare_status_and_the_connection_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(&dir.path().join("data"), Limits::default());
    let long_uri = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000));
    let huge_head = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(100_000)
    );
    let many_headers = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..120)
            .map(|i| format!("X-H{i}: v\r\n"))
            .collect::<String>()
    );
    for (name, request, status) in [
        (
            "no colon",
            "GET /healthz HTTP/1.1\r\nbad header\r\n\r\n".to_owned(),
            400,
        ),
        ("garbage", "GARBAGE\r\n\r\n".to_owned(), 400),
        ("URI over 65,534 bytes", long_uri, 414),
        ("head over 80 KiB", huge_head, 431),
        ("over 100 headers", many_headers, 431),
    ] {
        let answer = raw(server.addr, request.as_bytes());
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status} ")),
            "{name}: {answer:?}"
        );
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        assert!(
            head.to_ascii_lowercase().contains("content-length: 0"),
            "{name}: {head}"
        );
        assert!(body.is_empty(), "{name}: {body:?}");
    }
    assert_eq!(server.request(&get("/healthz")).0, 200);
}
