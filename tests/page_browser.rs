//! The public tally page in a real browser (issue 24): a collector on loopback with a petition
//! whose title holds markup, 90 signatures published, and the pages loaded in headless
//! Chromium (Debian's `chromium`) with JavaScript disabled. From the rendered DOM, the count
//! and every breakdown, combination and root number equal `undersign audit --json` on the
//! bundle the page links to; the title renders as text; no link leaves the host; and the
//! browser's NetLog shows that the pages made no request to another host (every host name but
//! 127.0.0.1 is unresolvable, and the pages still render completely). The same for the static
//! site `undersign publish` writes. Screenshots go to `target/tmp/page-browser/` for people
//! to look at.
//!
//! The NetLog tells a page's requests (isolated under the page's site) from the browser's own
//! background requests (update checks, network time: isolated under no site or their
//! service's); a canary page with an image on another host proves the check sees such a
//! request.
//!
//! JavaScript is disabled with the profile's content setting (`javascript: 2`, what "Don't
//! allow sites to use JavaScript" writes), and a canary page proves it: Chromium 156's
//! `--blink-settings=scriptEnabled=false` also stops `--dump-dom` and `--screenshot`, which
//! run their own script in the page, so they print nothing.
//!
//! Without the `chromium` binary the test FAILS (install Debian's `chromium`; `.ci/run` does).
//! `UNDERSIGN_CHROMIUM=/path/to/chrome` uses another binary.

mod page_fixture;

use page_fixture::{
    assert_links_stay_here, assert_numbers_match, audit_json, fixture, text_by_id, undersign,
    unescape, HOSTILE_TITLE, SIGNERS,
};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running `undersign serve`, killed when dropped.
struct Server {
    child: Child,
    base: String,
    data: PathBuf,
}

impl Server {
    fn start(data: &Path, keys: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_undersign"))
            .args(["serve", "--data"])
            .arg(data)
            .args(["--listen", "127.0.0.1:0", "--keys"])
            .arg(keys)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn undersign serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let base = loop {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => {
                    if let Some(addr) = line.strip_prefix("undersign collector listening on ") {
                        break addr.trim().to_owned();
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("the collector did not start");
                }
            }
        };
        Server {
            child,
            base,
            data: data.to_owned(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn token(&self) -> String {
        std::fs::read_to_string(self.data.join("token"))
            .unwrap()
            .trim()
            .to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// One request Chromium's network stack started, from its NetLog.
#[derive(Debug, Clone)]
struct Request {
    url: String,
    /// `main frame`, `sub frame` or `other` (subresources and the browser's own requests).
    request_type: String,
    /// The top-frame and frame sites the request was made for (its network isolation key).
    isolation_key: String,
}

impl Request {
    /// Whether a page made the request: a navigation, or a request isolated under the page's
    /// site (the collector's, or a file's). The browser's own requests are isolated under no
    /// site (`null null`) or their service's site.
    fn made_by_page(&self) -> bool {
        self.request_type != "other"
            || self.isolation_key.starts_with("http://127.0.0.1")
            || self.isolation_key.starts_with("file://")
    }

    /// Whether it stays on this machine.
    fn is_local(&self) -> bool {
        self.url.starts_with("http://127.0.0.1:")
            || self.url.starts_with("file://")
            || self.url.starts_with("data:")
    }
}

/// The requests in a NetLog file (completing the JSON if Chromium was cut short).
fn net_log_requests(path: &Path) -> Vec<Request> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let log: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|_| {
        let cut = text.trim_end().trim_end_matches(',');
        serde_json::from_str(&format!("{cut}]}}"))
            .unwrap_or_else(|e| panic!("the NetLog {} does not parse: {e}", path.display()))
    });
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].clone();
    assert!(
        start_job.is_u64(),
        "no URL_REQUEST_START_JOB in the NetLog constants"
    );
    log["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|event| event["type"] == start_job && event["params"]["url"].is_string())
        .map(|event| {
            let text = |key: &str| event["params"][key].as_str().unwrap_or_default().to_owned();
            Request {
                url: text("url"),
                request_type: text("request_type"),
                isolation_key: text("network_isolation_key"),
            }
        })
        .collect()
}

/// Fails if a page made a request that leaves this machine. A page served over HTTP shows
/// at least its own navigation in the NetLog (a `file://` page is read without the network).
fn assert_local(requests: &[Request], what: &str) {
    let page: Vec<&Request> = requests.iter().filter(|r| r.made_by_page()).collect();
    if what.starts_with("http") || what.starts_with("collector") || what == "index" {
        assert!(
            !page.is_empty(),
            "{what}: the NetLog shows no request of the page"
        );
    }
    let away: Vec<&&Request> = page.iter().filter(|r| !r.is_local()).collect();
    assert!(
        away.is_empty(),
        "{what}: requests to another host: {away:?}"
    );
}

/// Headless Chromium with JavaScript disabled and a fresh profile, every host name but
/// 127.0.0.1 unresolvable (nothing can leave the machine), logging its network requests.
struct Browser {
    binary: PathBuf,
    profile: tempfile::TempDir,
    runs: std::cell::Cell<u32>,
}

impl Browser {
    /// Finds the browser, or fails the test saying how to install it.
    fn new() -> Self {
        let binary = std::env::var_os("UNDERSIGN_CHROMIUM")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("chromium"));
        let works = Command::new(&binary)
            .arg("--version")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .output()
            .is_ok_and(|out| out.status.success());
        assert!(
            works,
            "the browser test needs Chromium, and `{}` did not run. Install Debian's `chromium` \
             package (apt-get install --no-install-recommends chromium; .ci/run does this), or \
             set UNDERSIGN_CHROMIUM to a Chromium binary.",
            binary.display()
        );
        let profile = tempfile::tempdir().unwrap();
        // "Don't allow sites to use JavaScript" (content setting 2 = block).
        std::fs::create_dir_all(profile.path().join("Default")).unwrap();
        std::fs::write(
            profile.path().join("Default/Preferences"),
            r#"{"profile":{"default_content_setting_values":{"javascript":2}}}"#,
        )
        .unwrap();
        Browser {
            binary,
            profile,
            runs: std::cell::Cell::new(0),
        }
    }

    /// Runs the browser on `url` with `extra` flags; returns its standard output and the
    /// requests its network stack started.
    fn run(&self, extra: &[String], url: &str) -> (String, Vec<Request>) {
        self.runs.set(self.runs.get() + 1);
        let net_log = self
            .profile
            .path()
            .join(format!("net-{}.json", self.runs.get()));
        let mut child = Command::new(&self.binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--no-first-run",
                "--no-default-browser-check",
                "--no-proxy-server",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-default-apps",
                "--hide-scrollbars",
                "--window-size=1000,2600",
            ])
            .arg(format!("--user-data-dir={}", self.profile.path().display()))
            .arg("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1")
            .arg(format!("--log-net-log={}", net_log.display()))
            .args(extra)
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromium");
        let mut stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut out = String::new();
            let _ = stdout.read_to_string(&mut out);
            out
        });
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not finish with {url} in 120 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        (reader.join().unwrap(), net_log_requests(&net_log))
    }

    /// The DOM of `url` after loading, serialized, and the requests made.
    fn dom(&self, url: &str) -> (String, Vec<Request>) {
        let (dom, requests) = self.run(&["--dump-dom".to_owned()], url);
        assert!(dom.contains("</html>"), "no DOM from {url}: {dom:?}");
        (dom, requests)
    }

    /// Writes a screenshot of `url` to `path`.
    fn screenshot(&self, url: &str, path: &Path) {
        let _ = std::fs::remove_file(path);
        let (_, requests) = self.run(&[format!("--screenshot={}", path.display())], url);
        assert_local(&requests, url);
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        assert!(
            size > 10_000,
            "no screenshot of {url} in {}",
            path.display()
        );
    }
}

/// Checks what every rendering of the petition page must show.
fn assert_page(dom: &str, report: &serde_json::Value, what: &str) {
    assert_numbers_match(dom, report, what);
    // The title is text, in the heading, exactly as written; no script or image element.
    assert_eq!(
        text_by_id(dom, "title").map(unescape).as_deref(),
        Some(HOSTILE_TITLE),
        "{what}"
    );
    assert!(!dom.contains("<script"), "{what}: a script element");
    assert!(!dom.contains("<img"), "{what}: an image element");
    assert_links_stay_here(dom, what);
    // Rendered completely: the page's last section and footer are there.
    assert!(dom.contains("id=\"audit-command\""), "{what}");
    assert!(dom.contains("</footer>"), "{what}");
}

#[test]
fn the_tally_page_renders_in_chromium_without_javascript_and_matches_the_audit() {
    let started = Instant::now();
    let browser = Browser::new();
    let f = fixture();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("page-browser");
    std::fs::create_dir_all(&shots).unwrap();

    // JavaScript is off: a page whose script would rewrite it renders unchanged. And the
    // request check sees a page's request to another host: this page's image is one.
    let canary = f.dir.join("canary.html");
    std::fs::write(
        &canary,
        "<!DOCTYPE html><p id=\"canary\">static</p><img src=\"http://evil.example/t.png\">\
         <script>document.getElementById('canary').textContent = 'script ran';</script>",
    )
    .unwrap();
    let (canary_dom, requests) = browser.dom(&format!("file://{}", canary.display()));
    assert_eq!(
        text_by_id(&canary_dom, "canary"),
        Some("static"),
        "JavaScript must be disabled"
    );
    assert!(
        requests
            .iter()
            .any(|r| r.made_by_page() && !r.is_local() && r.url.contains("evil.example")),
        "the NetLog must show the canary's image request: {requests:?}"
    );

    // A collector with the petition and every signature, then one publication.
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&data.path().join("collector"), &f.keys);
    let http = client();
    let token = server.token();
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
    let id = f.petition.id_hex();
    for signature in &f.signatures {
        let response = http
            .post(server.url(&format!("/v1/petitions/{id}/signatures")))
            .body(signature.clone())
            .send()
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    let page_url = |lang: &str| server.url(&format!("/petitions/{id}?lang={lang}"));
    // Pending signatures are nowhere on the page (they would date each signature).
    let before = http.get(page_url("en")).send().unwrap().text().unwrap();
    assert_eq!(text_by_id(&before, "total"), Some("0"));
    assert!(before.contains("Nothing has been published yet."));
    let published: serde_json::Value = http
        .post(server.url(&format!("/v1/petitions/{id}/publish")))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(published["count"], SIGNERS);

    // The headers of a page.
    let response = http.get(page_url("en")).send().unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "text/html; charset=utf-8");
    assert!(header("content-security-policy").starts_with("default-src 'none'; style-src 'sha256-"));
    assert!(header("content-security-policy").contains("frame-ancestors 'none'"));
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "no-referrer");
    assert!(headers.get("set-cookie").is_none());
    let body = response.text().unwrap();
    assert!(body.len() < 100_000, "{} bytes", body.len());

    // The bundle the page links to, audited.
    let bundle_href = format!("../v1/petitions/{id}/bundle");
    assert!(body.contains(&format!("href=\"{bundle_href}\"")));
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
    // The verifying key link serves the key the bundle carries.
    let vk = http
        .get(server.url(&format!("/v1/verifying-keys/{}", f.vk_hash)))
        .send()
        .unwrap();
    assert_eq!(vk.status(), 200);
    assert_eq!(
        blake3::hash(&vk.bytes().unwrap()).to_hex().as_str(),
        f.vk_hash
    );

    // Each language, rendered by Chromium.
    for (lang, words) in [
        ("en", "verified signatures"),
        ("be", "правераных подпісаў"),
        ("ru", "проверенных подписей"),
    ] {
        let (dom, requests) = browser.dom(&page_url(lang));
        let what = format!("collector page, {lang}");
        assert_page(&dom, &report, &what);
        assert_local(&requests, &what);
        assert!(dom.contains(&format!("<html lang=\"{lang}\">")), "{what}");
        assert!(dom.contains(words), "{what}");
    }
    let (index, requests) = browser.dom(&server.url("/?lang=be"));
    assert_local(&requests, "index");
    assert!(index.contains(&format!("data-id=\"{id}\"")));
    assert!(!index.contains("<script"));
    assert_links_stay_here(&index, "index");
    browser.screenshot(&page_url("en"), &shots.join("collector-en.png"));
    browser.screenshot(&page_url("be"), &shots.join("collector-be.png"));

    // The static site from the same bundle.
    let site = data.path().join("site");
    let out = undersign(&[
        "publish",
        bundle.to_str().unwrap(),
        "--registrar-key",
        &f.registrar_pub,
        "--registry",
        f.registry_path.to_str().unwrap(),
        "--vk-hash",
        &f.vk_hash,
        "--lang",
        "ru",
        "--out",
        site.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let static_url = format!("file://{}", site.join("index.html").display());
    let (dom, requests) = browser.dom(&static_url);
    assert_page(&dom, &report, "static site");
    assert_local(&requests, "static site");
    assert!(dom.contains("<html lang=\"ru\">"));
    assert!(
        dom.contains("class=\"n anonymity\""),
        "anonymity sets with --registry"
    );
    browser.screenshot(&static_url, &shots.join("static-ru.png"));

    eprintln!(
        "browser test: screenshots in {} ({:.1} s)",
        shots.display(),
        started.elapsed().as_secs_f64()
    );
}
