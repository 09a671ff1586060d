//! "Verify this tally in your browser" on a static site (issue 25): `undersign publish
//! --web-auditor` with the JavaScript auditor built for the web (`npm run build:web` in
//! `verifiers/js`), the site served over loopback HTTP (workers do not run from `file://`),
//! and `verify.html` loaded in headless Chromium WITH JavaScript. When the page says it is
//! done, its DOM must show the count and every breakdown number of `undersign audit --json`
//! on the published bundle, in the browser's column, and say that they agree. The tally page
//! stays script-free and links to the verify page; a site published without the flag has
//! neither. A screenshot goes to `target/tmp/browser-verify/` for people to look at.
//!
//! The same on a collector (`undersign serve --web-auditor`): its `/petitions/{id}/verify`
//! page compares the worker's numbers with `/v1/petitions/{id}/tally`, and must agree with
//! `undersign audit --json` on the bundle the collector serves; the three routes carry their
//! headers, and a collector without the flag has neither the routes nor the link.
//!
//! The page's state is read over the DevTools protocol (a small WebSocket client below):
//! `--dump-dom` and `--virtual-time-budget` do not wait for a Web Worker's work.
//!
//! Needs Node.js, npm and Chromium: the test FAILS, never skips, without them
//! (`UNDERSIGN_CHROMIUM` names another browser binary).

mod page_fixture;

use page_fixture::{audit_json, fixture, text_by_id, undersign, unescape, HOSTILE_TITLE, SIGNERS};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// The Chromium binary, which must run.
fn chromium() -> PathBuf {
    let chromium = std::env::var_os("UNDERSIGN_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("chromium"));
    let works = Command::new(&chromium)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        works,
        "this test needs Chromium and `{}` did not run: install Debian's `chromium` (.ci/run \
         does), or set UNDERSIGN_CHROMIUM",
        chromium.display()
    );
    chromium
}

/// A child process killed when dropped.
struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Headless Chromium (JavaScript on) showing `url`, and a DevTools connection to the page
/// whose URL contains `marker`. Keep the guard and the profile alive while using it.
fn open_in_chromium(chromium: &Path, url: &str, marker: &str) -> (Kill, tempfile::TempDir, Cdp) {
    let profile = tempfile::tempdir().unwrap();
    let browser = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--no-proxy-server",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--hide-scrollbars",
            "--window-size=1000,1500",
            "--remote-debugging-port=0",
        ])
        .arg("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1")
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let guard = Kill(browser);
    let deadline = Instant::now() + Duration::from_secs(60);
    let devtools_port = loop {
        let text =
            std::fs::read_to_string(profile.path().join("DevToolsActivePort")).unwrap_or_default();
        if let Some(port) = text
            .lines()
            .next()
            .and_then(|l| l.trim().parse::<u16>().ok())
        {
            break port;
        }
        assert!(
            Instant::now() < deadline,
            "Chromium's DevTools did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let http = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    let ws_url = loop {
        let targets: Value = http
            .get(format!("http://127.0.0.1:{devtools_port}/json/list"))
            .send()
            .and_then(|r| r.json())
            .unwrap_or(Value::Null);
        let page =
            targets.as_array().into_iter().flatten().find(|t| {
                t["type"] == "page" && t["url"].as_str().is_some_and(|u| u.contains(marker))
            });
        if let Some(url) = page.and_then(|p| p["webSocketDebuggerUrl"].as_str()) {
            break url.to_owned();
        }
        assert!(Instant::now() < deadline, "no {marker} page in DevTools");
        std::thread::sleep(Duration::from_millis(100));
    };
    let cdp = Cdp::connect(&ws_url);
    (guard, profile, cdp)
}

/// `verifiers/js` with its dependencies (from the lockfile) and the worker built.
fn build_worker() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("verifiers/js");
    let node = Command::new("node").arg("--version").output();
    assert!(
        matches!(&node, Ok(o) if o.status.success()),
        "node is required for the browser auditor's test (Node.js 20 or later): {node:?}"
    );
    if !dir.join("node_modules").is_dir() {
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .output()
            .expect("npm is required for the browser auditor's test");
        assert!(
            out.status.success(),
            "npm ci in verifiers/js failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = Command::new("npm")
        .args(["run", "--silent", "build:web"])
        .current_dir(&dir)
        .output()
        .expect("spawn npm run build:web");
    assert!(out.status.success(), "npm run build:web: {out:?}");
    dir.join("dist/undersign-audit-worker.js")
}

/// What [`serve_dir`] served, and what it serves next.
#[derive(Default)]
struct Served {
    /// Requests per file name.
    hits: HashMap<String, usize>,
    /// A body to send instead of a file's, once (a file as it was before a publication).
    once: HashMap<String, Vec<u8>>,
}

/// Serves the files of `root` on loopback, forever (a thread that ends with the test), with
/// the media types a browser needs for module scripts and workers.
fn serve_dir(root: PathBuf) -> (u16, Arc<Mutex<Served>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let served = Arc::new(Mutex::new(Served::default()));
    let state = served.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let root = root.clone();
            let state = state.clone();
            std::thread::spawn(move || serve_one(stream, &root, &state));
        }
    });
    (port, served)
}

fn serve_one(stream: TcpStream, root: &Path, served: &Mutex<Served>) {
    let mut reader = BufReader::new(stream);
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
            break;
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let name = path.trim_start_matches('/');
    let safe = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && !name.starts_with('.');
    let mime = match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("jsonl") => "application/jsonl",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
    let mut stream = reader.into_inner();
    let once = {
        let mut served = served.lock().unwrap();
        *served.hits.entry(name.to_owned()).or_default() += 1;
        served.once.remove(name)
    };
    let read = || once.map_or_else(|| std::fs::read(root.join(name)), Ok);
    let response = match safe.then(read) {
        Some(Ok(body)) => {
            let mut r = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: {mime}\r\ncontent-length: {}\r\n\
                 cache-control: no-store\r\nconnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend(body);
            r
        }
        _ => b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec(),
    };
    let _ = stream.write_all(&response);
}

/// A DevTools-protocol connection to one page: a minimal WebSocket client (RFC 6455: masked
/// text frames out, unmasked frames in).
struct Cdp {
    stream: TcpStream,
    next_id: u64,
}

impl Cdp {
    fn connect(ws_url: &str) -> Self {
        let rest = ws_url.strip_prefix("ws://").expect("ws:// URL");
        let (host, path) = rest.split_once('/').expect("path");
        let mut stream = TcpStream::connect(host).expect("connect to DevTools");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        write!(
            stream,
            "GET /{path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).expect("WebSocket handshake");
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 101"), "handshake: {head}");
        Cdp { stream, next_id: 1 }
    }

    fn send_frame(&mut self, payload: &[u8]) {
        let mask = [0x5a, 0x17, 0xc3, 0x81];
        let mut frame = vec![0x81];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n < 65536 => {
                frame.push(0x80 | 126);
                frame.extend((n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend((n as u64).to_be_bytes());
            }
        }
        frame.extend(mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream.write_all(&frame).expect("send to DevTools");
    }

    fn read_message(&mut self) -> Vec<u8> {
        let mut message = Vec::new();
        loop {
            let mut h = [0u8; 2];
            self.stream.read_exact(&mut h).expect("read from DevTools");
            let (fin, opcode) = (h[0] & 0x80 != 0, h[0] & 0x0f);
            let len = match h[1] & 0x7f {
                126 => {
                    let mut b = [0u8; 2];
                    self.stream.read_exact(&mut b).unwrap();
                    u64::from(u16::from_be_bytes(b))
                }
                127 => {
                    let mut b = [0u8; 8];
                    self.stream.read_exact(&mut b).unwrap();
                    u64::from_be_bytes(b)
                }
                n => u64::from(n),
            };
            let mut payload = vec![0u8; len as usize];
            self.stream.read_exact(&mut payload).unwrap();
            assert_ne!(opcode, 8, "DevTools closed the connection");
            if opcode == 9 || opcode == 10 {
                continue; // ping, pong
            }
            message.extend(payload);
            if fin {
                return message;
            }
        }
    }

    /// Calls `method` and returns its result.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let text = json!({"id": id, "method": method, "params": params}).to_string();
        self.send_frame(text.as_bytes());
        loop {
            let message: Value =
                serde_json::from_slice(&self.read_message()).expect("DevTools JSON");
            if message["id"] == id {
                assert!(message["error"].is_null(), "{method}: {message}");
                return message["result"].clone();
            }
        }
    }

    /// The value of a JavaScript expression in the page.
    fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        result["result"]["value"].clone()
    }
}

/// Polls verify.html's `data-result` until it is one of `states` (300 s at most).
fn wait_for_result(cdp: &mut Cdp, states: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let state = cdp.eval(
            "(document.getElementById('browser-verify') || {dataset: {}}).dataset.result || ''",
        );
        let state = state.as_str().unwrap_or_default().to_owned();
        if states.contains(&state.as_str()) {
            return state;
        }
        if Instant::now() > deadline {
            let status = cdp.eval(
                "(document.getElementById('verify-status') || {textContent: ''}).textContent",
            );
            panic!("verify.html did not finish in 300 s (state {state:?}, status {status})");
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = ALPHABET.iter().position(|&a| a == c).expect("base64") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// The text of the cell with `class` in the table row whose attributes start with `row`.
fn cell_in_row<'a>(dom: &'a str, row: &str, class: &str) -> Option<&'a str> {
    let at = dom.find(row)?;
    let rest = &dom[at..];
    let rest = &rest[..rest.find("</tr>")?];
    let at = rest.find(&format!("class=\"{class}\""))?;
    let rest = &rest[at..];
    let start = rest.find('>')? + 1;
    let end = rest[start..].find('<')? + start;
    Some(&rest[start..end])
}

#[test]
fn verify_html_runs_the_auditor_in_chromium_and_agrees_with_the_audit() {
    let started = Instant::now();
    let chromium = chromium();
    let worker = build_worker();
    let f = fixture();
    let tmp = tempfile::tempdir().unwrap();
    let (status, report) = audit_json(&f.bundle, &f.registrar_pub);
    assert_eq!(status, 0, "{report}");

    // Without --web-auditor: no verify page, no script, no link.
    let plain = tmp.path().join("plain");
    let publish = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "publish",
            f.bundle.to_str().unwrap(),
            "--registrar-key",
            &f.registrar_pub,
            "--vk-hash",
            &f.vk_hash,
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        let o = undersign(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    publish(&plain, &[]);
    assert!(!plain.join("verify.html").exists());
    assert!(!plain.join("undersign-audit-worker.js").exists());
    let index = std::fs::read_to_string(plain.join("index.html")).unwrap();
    assert!(!index.contains("verify.en.html"));

    // With it.
    let site = tmp.path().join("site");
    publish(&site, &["--web-auditor", worker.to_str().unwrap()]);
    assert_eq!(
        std::fs::read(site.join("undersign-audit-worker.js")).unwrap(),
        std::fs::read(&worker).unwrap()
    );
    for lang in ["en", "be", "ru"] {
        let index = std::fs::read_to_string(site.join(format!("index.{lang}.html"))).unwrap();
        assert!(!index.contains("<script"), "index.{lang}.html has a script");
        assert!(
            index.contains(&format!("href=\"verify.{lang}.html\"")),
            "index.{lang}.html links to its verify page"
        );
        let verify = std::fs::read_to_string(site.join(format!("verify.{lang}.html"))).unwrap();
        assert!(verify.contains(&format!("<html lang=\"{lang}\">")));
        assert_eq!(verify.matches("<script").count(), 1);
        assert!(verify.contains("<script type=\"module\" src=\"undersign-verify.js\"></script>"));
        assert!(unescape(&verify).contains(
            "content=\"default-src 'none'; script-src 'self'; worker-src 'self'; connect-src \
             'self'; style-src 'sha256-"
        ));
        // The hostile title is text.
        assert!(!verify.contains("<img"));
        assert_eq!(
            text_by_id(&verify, "title").map(unescape).as_deref(),
            Some(HOSTILE_TITLE)
        );
    }
    assert!(std::fs::read_to_string(site.join("index.html"))
        .unwrap()
        .contains("Verify this tally in your browser"));

    // In the browser.
    let (port, served) = serve_dir(site.clone());
    let (guard, _profile, mut cdp) = open_in_chromium(
        &chromium,
        &format!("http://127.0.0.1:{port}/verify.html"),
        "verify.html",
    );
    let result = wait_for_result(&mut cdp, &["agree", "disagree", "error"]);
    let dom = cdp
        .eval("document.documentElement.outerHTML")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-verify");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = cdp.call("Page.captureScreenshot", json!({"format": "png"}));
    let png = base64_decode(shot["data"].as_str().expect("screenshot data"));
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    std::fs::write(shots.join("verify-en.png"), &png).unwrap();

    // A published number the bundle does not give (audit.json's count off by one): the same
    // page, reloaded, says they do not agree.
    let mut forged = report.clone();
    forged["count"] = json!(report["count"].as_u64().unwrap() + 1);
    std::fs::write(site.join("audit.json"), forged.to_string()).unwrap();
    let bundle_name = std::fs::read_dir(&site)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|n| n.ends_with(".jsonl"))
        .expect("the site's bundle");
    let hits = |name: &str| served.lock().unwrap().hits.get(name).copied().unwrap_or(0);
    served.lock().unwrap().hits.clear();
    cdp.call("Page.reload", json!({"ignoreCache": true}));
    assert_eq!(
        wait_for_result(&mut cdp, &["disagree", "error"]),
        "disagree"
    );
    let verdict = cdp.eval("document.getElementById('verify-verdict').textContent");
    assert!(
        verdict
            .as_str()
            .is_some_and(|t| t.starts_with("Does NOT agree")),
        "{verdict}"
    );
    // The published numbers did not change since: checked once more, not run again.
    assert_eq!((hits("audit.json"), hits(&bundle_name)), (2, 1));

    // Fetched across a publication: the numbers fetched first are older than the bundle (the
    // forged ones, once), and are not what is published by the time they disagree: the page
    // runs once more, with both fetched again, and agrees.
    std::fs::write(site.join("audit.json"), report.to_string()).unwrap();
    {
        let mut served = served.lock().unwrap();
        served.hits.clear();
        served
            .once
            .insert("audit.json".to_owned(), forged.to_string().into_bytes());
    }
    // (The old page's verdict must not be read as the new one's.)
    cdp.eval("document.getElementById('browser-verify').dataset.result = 'reloading'");
    cdp.call("Page.reload", json!({"ignoreCache": true}));
    assert_eq!(
        wait_for_result(&mut cdp, &["agree", "disagree", "error"]),
        "agree"
    );
    assert_eq!((hits("audit.json"), hits(&bundle_name)), (3, 2));
    drop(guard);

    let status = text_by_id(&dom, "verify-status").unwrap_or_default();
    assert_eq!(result, "agree", "the page says: {status}\n{dom}");
    assert_eq!(
        text_by_id(&dom, "browser-count").map(str::trim),
        Some(report["count"].to_string().as_str()),
        "the browser's count"
    );
    assert_eq!(
        text_by_id(&dom, "published-count").map(str::trim),
        Some(report["count"].to_string().as_str()),
        "the published count"
    );
    let mut rows = 0;
    for slot in report["breakdown"].as_array().unwrap() {
        for row in slot["rows"].as_array().unwrap() {
            let code = row["code"]
                .as_u64()
                .map_or_else(|| "none".to_owned(), |c| c.to_string());
            let tr = format!("<tr data-slot=\"{}\" data-code=\"{code}\">", slot["slot"]);
            for class in ["n published", "n browser"] {
                assert_eq!(
                    cell_in_row(&dom, &tr, class).map(str::trim),
                    Some(row["count"].to_string().as_str()),
                    "{class} of slot {} code {code}",
                    slot["slot"]
                );
            }
            rows += 1;
        }
    }
    assert!(rows >= 3, "the breakdown has rows");
    assert!(
        text_by_id(&dom, "verify-verdict").is_some_and(|t| t.starts_with("Agrees")),
        "the verdict"
    );
    eprintln!(
        "browser verify test: screenshot {} ({:.1} s)",
        shots.join("verify-en.png").display(),
        started.elapsed().as_secs_f64()
    );
}

/// The count and every breakdown row of `report` in both columns of a verify page's `dom`,
/// and the verdict that they agree.
fn assert_dom_agrees(dom: &str, report: &Value, what: &str) {
    assert_eq!(
        text_by_id(dom, "browser-count").map(str::trim),
        Some(report["count"].to_string().as_str()),
        "{what}: the browser's count"
    );
    assert_eq!(
        text_by_id(dom, "published-count").map(str::trim),
        Some(report["count"].to_string().as_str()),
        "{what}: the published count"
    );
    let mut rows = 0;
    for slot in report["breakdown"].as_array().unwrap() {
        for row in slot["rows"].as_array().unwrap() {
            let code = row["code"]
                .as_u64()
                .map_or_else(|| "none".to_owned(), |c| c.to_string());
            let tr = format!("<tr data-slot=\"{}\" data-code=\"{code}\">", slot["slot"]);
            for class in ["n published", "n browser"] {
                assert_eq!(
                    cell_in_row(dom, &tr, class).map(str::trim),
                    Some(row["count"].to_string().as_str()),
                    "{what}: {class} of slot {} code {code}",
                    slot["slot"]
                );
            }
            rows += 1;
        }
    }
    assert!(rows >= 3, "{what}: the breakdown has rows");
    assert!(
        text_by_id(dom, "verify-verdict").is_some_and(|t| t.starts_with("Agrees")),
        "{what}: the verdict"
    );
}

/// A running `undersign serve`, killed when dropped.
struct Collector {
    _child: Kill,
    base: String,
}

impl Collector {
    fn start(data: &Path, keys: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_undersign"))
            .args(["serve", "--data"])
            .arg(data)
            .args(["--listen", "127.0.0.1:0", "--keys"])
            .arg(keys)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn undersign serve");
        let stdout = child.stdout.take().unwrap();
        let child = Kill(child);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let base = loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("the collector did not start");
            if let Some(addr) = line.strip_prefix("undersign collector listening on ") {
                break addr.trim().to_owned();
            }
        };
        Collector {
            _child: child,
            base,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

#[test]
fn a_collector_with_a_web_auditor_serves_a_verify_page_that_agrees_with_the_audit() {
    let started = Instant::now();
    let chromium = chromium();
    let worker = build_worker();
    let f = fixture();
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("collector");
    let http = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let id = f.petition.id_hex();

    // Without --web-auditor: the petition, every signature, one publication; no verify link,
    // no verify routes.
    {
        let server = Collector::start(&dir, &f.keys, &[]);
        let token = std::fs::read_to_string(dir.join("token"))
            .unwrap()
            .trim()
            .to_owned();
        let put = http
            .put(server.url(&format!("/v1/registries/{}", f.registry_id)))
            .bearer_auth(&token)
            .body(f.registry_bytes.clone())
            .send()
            .unwrap();
        assert_eq!(put.status(), 201);
        let post = http
            .post(server.url("/v1/petitions"))
            .bearer_auth(&token)
            .body(f.petition.bytes().to_vec())
            .send()
            .unwrap();
        assert_eq!(post.status(), 201);
        for signature in &f.signatures {
            let response = http
                .post(server.url(&format!("/v1/petitions/{id}/signatures")))
                .body(signature.clone())
                .send()
                .unwrap();
            assert_eq!(response.status(), 201);
        }
        let published: Value = http
            .post(server.url(&format!("/v1/petitions/{id}/publish")))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(published["count"], SIGNERS);
        for lang in ["en", "be", "ru"] {
            let page = http
                .get(server.url(&format!("/petitions/{id}?lang={lang}")))
                .send()
                .unwrap()
                .text()
                .unwrap();
            assert!(
                !page.contains("/verify?"),
                "{lang}: a verify link without the flag"
            );
            assert!(!page.contains("Verify this tally in your browser"));
        }
        for path in [
            format!("/petitions/{id}/verify"),
            "/undersign-audit-worker.js".to_owned(),
            "/undersign-verify.js".to_owned(),
        ] {
            let response = http.get(server.url(&path)).send().unwrap();
            assert_eq!(response.status(), 404, "{path} without the flag");
        }
    }

    // The same collector again, with it.
    let server = Collector::start(&dir, &f.keys, &["--web-auditor", worker.to_str().unwrap()]);
    let header = |response: &reqwest::blocking::Response, name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let strict = |policy: &str, what: &str| {
        for directive in [
            "default-src 'none'",
            "form-action 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(policy.contains(directive), "{what}: {policy}");
        }
    };
    for (path, body) in [
        (
            "/undersign-audit-worker.js",
            std::fs::read(&worker).unwrap(),
        ),
        (
            "/undersign-verify.js",
            include_bytes!("../crates/undersign-page/src/verify.js").to_vec(),
        ),
    ] {
        let response = http.get(server.url(path)).send().unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            header(&response, "content-type"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        assert_eq!(header(&response, "referrer-policy"), "no-referrer");
        let policy = header(&response, "content-security-policy");
        strict(&policy, path);
        if path == "/undersign-audit-worker.js" {
            // The worker runs under its own response's policy and compiles WebAssembly.
            assert!(
                policy.contains("script-src 'wasm-unsafe-eval';"),
                "{path}: {policy}"
            );
            assert!(!policy.contains("'self'"), "{path}: {policy}");
        } else {
            assert!(!policy.contains("script-src"), "{path}: {policy}");
        }
        assert!(response.headers().get("set-cookie").is_none());
        assert_eq!(response.bytes().unwrap().to_vec(), body, "{path}");
    }
    for lang in ["en", "be", "ru"] {
        let response = http
            .get(server.url(&format!("/petitions/{id}/verify?lang={lang}")))
            .send()
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            header(&response, "content-type"),
            "text/html; charset=utf-8"
        );
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        assert_eq!(header(&response, "referrer-policy"), "no-referrer");
        assert!(response.headers().get("set-cookie").is_none());
        let policy = header(&response, "content-security-policy");
        assert!(
            policy.starts_with(
                "default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; \
                 style-src 'sha256-"
            ),
            "{policy}"
        );
        strict(&policy, "the verify page");
        let page = response.text().unwrap();
        assert!(page.contains(&format!("<html lang=\"{lang}\">")));
        assert_eq!(page.matches("<script").count(), 1);
        assert!(
            page.contains("<script type=\"module\" src=\"../../undersign-verify.js\"></script>")
        );
        assert!(page.contains(&format!("data-bundle=\"../../v1/petitions/{id}/bundle\"")));
        assert!(page.contains(&format!("data-report=\"../../v1/petitions/{id}/tally\"")));
        assert!(page.contains(&format!("href=\"../{id}?lang={lang}\"")));
        assert!(!page.contains("<img"));
        assert_eq!(
            text_by_id(&page, "title").map(unescape).as_deref(),
            Some(HOSTILE_TITLE)
        );
        // The tally page links to it, and stays script-free.
        let tally_page = http
            .get(server.url(&format!("/petitions/{id}?lang={lang}")))
            .send()
            .unwrap()
            .text()
            .unwrap();
        assert!(!tally_page.contains("<script"));
        assert!(
            tally_page.contains(&format!("href=\"{id}/verify?lang={lang}\"")),
            "the {lang} tally page links to its verify page"
        );
    }

    // `undersign audit --json` on the bundle the collector serves.
    let bundle = data.path().join("bundle.jsonl");
    let bytes = http
        .get(server.url(&format!("/v1/petitions/{id}/bundle")))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    std::fs::write(&bundle, &bytes).unwrap();
    let (status, report) = audit_json(&bundle, &f.registrar_pub);
    assert_eq!(status, 0, "{report}");
    assert_eq!(report["count"], SIGNERS);

    // In the browser.
    let (guard, _profile, mut cdp) = open_in_chromium(
        &chromium,
        &server.url(&format!("/petitions/{id}/verify?lang=en")),
        "/verify",
    );
    let result = wait_for_result(&mut cdp, &["agree", "disagree", "error"]);
    let dom = cdp
        .eval("document.documentElement.outerHTML")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-verify");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = cdp.call("Page.captureScreenshot", json!({"format": "png"}));
    let png = base64_decode(shot["data"].as_str().expect("screenshot data"));
    std::fs::write(shots.join("collector-verify-en.png"), &png).unwrap();
    drop(guard);
    let status = text_by_id(&dom, "verify-status").unwrap_or_default();
    assert_eq!(result, "agree", "the page says: {status}\n{dom}");
    assert_dom_agrees(&dom, &report, "the collector's verify page");
    eprintln!(
        "collector browser verify test: screenshot {} ({:.1} s)",
        shots.join("collector-verify-en.png").display(),
        started.elapsed().as_secs_f64()
    );
}
