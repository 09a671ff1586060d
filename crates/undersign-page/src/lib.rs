//! Undersign's public tally page: a petition's verified count and breakdown, how to check
//! them and the files to check them with, as one self-contained HTML document.
//!
//! - **No JavaScript, nothing from other hosts.** One `<style>` element (allowed by its hash
//!   in the Content-Security-Policy, [`content_security_policy`]), no images, fonts or
//!   scripts; links are relative. Bars are CSS classes (`w0`..`w100`), so they show in Tor
//!   Browser's "Safest" mode, where SVG is off; every number is also in a real `<table>`.
//! - **Escaped.** Every string from a file (title, text, slot names, labels) and every
//!   translated word goes through the [`html::Html`] writer, which has no way to add a
//!   runtime string unescaped.
//! - **Languages.** The page's own words come from Fluent files embedded at compile time
//!   ([`i18n`]); the petition's title and text are shown as written.
//! - **Privacy.** A page shows only what the collector's JSON (`/tally`, the petition file)
//!   or the audit of a published bundle already shows: counts of published signatures, the
//!   publication schedule and count, never a time.
//!
//! [`render_petition`] writes a petition's page, [`render_index`] a collector's list of
//! petitions, [`render_not_found`] a 404 page.

#![warn(missing_docs)]

pub mod html;
pub mod i18n;

use base64::Engine as _;
use html::Html;
use i18n::{Arg, Words};
pub use i18n::{Lang, LANGS};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use undersign_tally::bundle::{
    AuditReport, CheckpointWindow, DisclosedGroup, RootCount, SlotBreakdown,
};
use undersign_tally::petition::{DoubleCountBound, PetitionFile};

/// Disclosed combinations listed on a page at most (the most frequent first); the rest are
/// counted in one line, so a bundle with very many combinations keeps the page small.
pub const MAX_GROUP_ROWS: usize = 100;

/// Whether a petition takes signatures, as the page says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Served by a collector, taking signatures.
    Open,
    /// Served by a collector, closed.
    Closed,
    /// A static page made from a published bundle.
    Static,
}

/// When the numbers on the page change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publication {
    /// A collector's publication epochs (`SPEC.md` §16): what `/tally` says.
    Collector {
        /// Publications so far.
        publications: u64,
        /// The publication interval, in seconds.
        every_seconds: u64,
        /// Pending signatures a timed publication needs.
        min: u64,
    },
    /// A static page: it never changes.
    Static,
}

/// What a download link is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadKind {
    /// The bundle.
    Bundle,
    /// The petition file.
    Petition,
    /// The registry file.
    Registry,
    /// The verifying key file.
    VerifyingKey,
    /// The collector's tally (JSON).
    Tally,
    /// `undersign audit --json` of the bundle.
    Report,
    /// A text file with the audit command.
    Command,
    /// The ceremony's phase-1 transcript.
    CeremonyPhase1,
    /// The ceremony's phase-2 transcript.
    CeremonyPhase2,
}

impl DownloadKind {
    fn message(self) -> &'static str {
        match self {
            DownloadKind::Bundle => "download-bundle",
            DownloadKind::Petition => "download-petition",
            DownloadKind::Registry => "download-registry",
            DownloadKind::VerifyingKey => "download-verifying-key",
            DownloadKind::Tally => "download-tally",
            DownloadKind::Report => "download-report",
            DownloadKind::Command => "download-command",
            DownloadKind::CeremonyPhase1 => "download-ceremony-phase1",
            DownloadKind::CeremonyPhase2 => "download-ceremony-phase2",
        }
    }
}

/// A link to a file (a relative path: the page loads nothing from other hosts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// What it is.
    pub kind: DownloadKind,
    /// Where it is, relative to the page.
    pub href: String,
    /// The name to save it as (the `download` attribute), if any.
    pub file_name: Option<String>,
}

/// Accepted signatures that disclosed the same values, with the group's anonymity set when it
/// is known (an audit given the registry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The disclosure mask.
    pub mask: u8,
    /// The disclosed codes (0 outside the mask).
    pub codes: [u16; 4],
    /// Accepted signatures in the group.
    pub count: u64,
    /// Registry members sharing the disclosed values, if known.
    pub anonymity_set: Option<u64>,
}

impl From<&DisclosedGroup> for Group {
    fn from(group: &DisclosedGroup) -> Self {
        Self {
            mask: group.mask,
            codes: group.codes,
            count: group.count,
            anonymity_set: None,
        }
    }
}

/// The multi-party ceremony the keys came from, as its verified transcript lists it: each
/// contributor finds the hash they published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ceremony {
    /// Phase-1 contribution hashes (hex), in order.
    pub phase1: Vec<String>,
    /// Phase-2 contribution hashes (hex), in order.
    pub phase2: Vec<String>,
    /// The final beacon: its public value (hex) and exponent, if the last contribution is one.
    pub beacon: Option<(String, u8)>,
}

/// Everything one petition's page shows.
#[derive(Debug, Clone)]
pub struct PetitionPage {
    /// Petition id (64 hex).
    pub id: String,
    /// Title, as written in the petition file.
    pub title: String,
    /// Text, as written in the petition file.
    pub text: String,
    /// Open, closed or static.
    pub state: State,
    /// Verified (published) signatures.
    pub count: u64,
    /// Counts per disclosed slot and label.
    pub breakdown: Vec<SlotBreakdown>,
    /// Counts per combination of disclosed values.
    pub groups: Vec<Group>,
    /// The checkpoints the petition accepts.
    pub accepted: CheckpointWindow,
    /// How many counted signers may have signed twice.
    pub double_count_bound: DoubleCountBound,
    /// Signatures per registry root.
    pub roots: Vec<RootCount>,
    /// The registrar's public key (hex), as the petition names it.
    pub registrar_key: String,
    /// The verifying key hash the petition names.
    pub verifying_key_hash: String,
    /// Whether the audit behind the page pinned that hash.
    pub verifying_key_pinned: bool,
    /// The ceremony the keys came from, when the publisher verified its transcript.
    pub ceremony: Option<Ceremony>,
    /// When the numbers change.
    pub publication: Publication,
    /// Files to download.
    pub downloads: Vec<Download>,
    /// The exact audit command to run on the downloaded files.
    pub audit_command: String,
}

impl PetitionPage {
    /// A static page's content from the audit `report` of a bundle whose embedded petition is
    /// `petition` (the caller adds the downloads and the audit command). The petition gives
    /// the id, title, text, keys and window; the report only the numbers.
    pub fn from_report(report: &AuditReport, petition: &PetitionFile) -> Self {
        Self {
            id: petition.id_hex(),
            title: petition.fields().title.clone(),
            text: petition.fields().text.clone(),
            state: State::Static,
            count: report.count,
            breakdown: report.breakdown.clone(),
            groups: report.groups.iter().map(Group::from).collect(),
            accepted: CheckpointWindow::of(petition),
            double_count_bound: report.double_count_bound,
            roots: report.roots.clone(),
            registrar_key: petition.registrar_key().to_hex(),
            verifying_key_hash: petition.verifying_key_hash().to_owned(),
            verifying_key_pinned: report.verifying_key_pinned,
            ceremony: None,
            publication: Publication::Static,
            downloads: Vec::new(),
            audit_command: String::new(),
        }
    }
}

/// How a page links to itself in another language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LangLinks {
    /// `?lang=xx` on the same path (a collector).
    Query,
    /// Files side by side: `index.xx.html` (a static site).
    Files,
    /// A static site's "verify in your browser" pages side by side: `verify.xx.html`.
    VerifyFiles,
}

impl LangLinks {
    fn href(&self, lang: Lang) -> String {
        match self {
            LangLinks::Query => format!("?lang={}", lang.code()),
            LangLinks::Files => static_file_name(lang),
            LangLinks::VerifyFiles => verify_file_name(lang),
        }
    }
}

/// The file name of a static site's page in `lang`: `index.en.html`.
pub fn static_file_name(lang: Lang) -> String {
    format!("index.{}.html", lang.code())
}

/// The file name of a static site's "verify in your browser" page in `lang`: `verify.en.html`.
pub fn verify_file_name(lang: Lang) -> String {
    format!("verify.{}.html", lang.code())
}

/// The JavaScript auditor's Web Worker inside a static site (`npm run build:web` in
/// `verifiers/js` builds it; `undersign publish --web-auditor` copies it in).
pub const WORKER_FILE: &str = "undersign-audit-worker.js";

/// The script of the "verify in your browser" page, inside a static site.
pub const VERIFY_SCRIPT_FILE: &str = "undersign-verify.js";

/// The script of the "verify in your browser" page: it fetches the bundle and the audit report
/// the page names (relative URLs), runs [`WORKER_FILE`] on the bundle with a progress bar, and
/// writes the worker's count and breakdown beside the published ones (as text, never markup).
pub const VERIFY_SCRIPT: &str = include_str!("verify.js");

/// The files a "verify in your browser" page names, relative to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyPageFiles {
    /// The bundle.
    pub bundle: String,
    /// `undersign audit --json` of the bundle: the published numbers.
    pub report: String,
    /// The auditor's Web Worker.
    pub worker: String,
    /// The page's script.
    pub script: String,
    /// The tally page in the same language.
    pub tally_page: String,
}

/// One petition on a collector's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// Petition id (64 hex).
    pub id: String,
    /// Title, as written.
    pub title: String,
    /// Published signatures.
    pub count: u64,
    /// Whether it is closed.
    pub closed: bool,
}

/// The page's stylesheet: the one `<style>` element, allowed by its hash. Bars are `<span>`s
/// whose width comes from a class `w0`..`w100` (no `style` attribute, which the policy forbids).
pub fn stylesheet() -> &'static str {
    static CSS: OnceLock<String> = OnceLock::new();
    CSS.get_or_init(|| {
        let mut css = String::from(
            "body{font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;max-width:48rem;\
margin:0 auto;padding:1rem;color:#111;background:#fff}\
h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0}h2{font-size:1.2rem;margin-top:2rem}\
nav{font-size:.9rem;display:flex;flex-wrap:wrap;gap:.3rem 1rem}\
nav [aria-current]{font-weight:700;text-decoration:none;color:inherit}\
.total{font-size:3rem;font-weight:700;line-height:1.1;margin:.5rem 0 0}\
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}\
caption{text-align:left;font-weight:700;padding:.3rem 0}\
th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #ddd;vertical-align:middle}\
.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
td.b{width:40%}.bar{display:block;height:.9rem;background:#e4e4e4;min-width:5rem}\
.fill{display:block;height:100%;background:#2a5db0}\
code,pre,.hash{font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}\
pre{white-space:pre-wrap;background:#f3f3f3;padding:.6rem;overflow-wrap:anywhere}\
.text{white-space:pre-wrap;border-left:3px solid #ccc;padding-left:1rem}\
.note{color:#444;font-size:.92rem}.warn{color:#8a1c00}\
footer{margin-top:3rem;font-size:.85rem;color:#555}\
progress{width:100%;height:1.2rem}.agree{color:#13632b;font-weight:700}\
@media (prefers-color-scheme:dark){body{color:#eee;background:#121212}th,td{border-color:#444}\
pre{background:#222}.note,footer{color:#bbb}.bar{background:#333}.fill{background:#7aa7ff}\
.warn{color:#ff9a7a}.agree{color:#7ad99a}a{color:#9cc0ff}}\
@media print{.bar,.fill{print-color-adjust:exact;-webkit-print-color-adjust:exact}}",
        );
        for w in 0..=100 {
            css.push_str(&format!(".w{w}{{width:{w}%}}"));
        }
        css
    })
}

/// The CSP source for [`stylesheet`]: `'sha256-<base64>'`.
pub fn style_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let digest = Sha256::digest(stylesheet().as_bytes());
        format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(digest)
        )
    })
}

/// The Content-Security-Policy a collector sends with every page: nothing may load but the
/// page's own stylesheet (by hash) and the empty `data:` icon; no scripts, no forms, no
/// `<base>`, no framing.
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src {}; img-src data:; form-action 'none'; base-uri 'none'; \
         frame-ancestors 'none'",
        style_source()
    )
}

/// The policy a page carries itself in a `<meta>` element (for static hosting, where no
/// header can be set; `frame-ancestors` only works as a header).
fn meta_policy() -> String {
    format!(
        "default-src 'none'; style-src {}; img-src data:; form-action 'none'; base-uri 'none'",
        style_source()
    )
}

/// The policy of the "verify in your browser" page ([`render_verify`]), the only page with a
/// script: as strict as [`content_security_policy`], but scripts, the Web Worker and `fetch`
/// may load from the page's own origin (`'self'`) — nothing from other hosts, no inline script.
pub fn verify_content_security_policy() -> String {
    format!("{}; frame-ancestors 'none'", verify_meta_policy())
}

/// The policy a collector sends with the auditor's Web Worker ([`WORKER_FILE`]): a worker
/// loaded from a URL runs under the policy of its own response, and the auditor compiles
/// WebAssembly from bytes it carries, so this is [`content_security_policy`]'s `default-src
/// 'none'` with `'wasm-unsafe-eval'` (WebAssembly only; JavaScript `eval` stays forbidden) and
/// nothing else: the worker fetches nothing, loads no script and starts no worker.
pub fn worker_content_security_policy() -> &'static str {
    "default-src 'none'; script-src 'wasm-unsafe-eval'; form-action 'none'; base-uri 'none'; \
     frame-ancestors 'none'"
}

/// [`verify_content_security_policy`] without `frame-ancestors`, for a `<meta>` element.
fn verify_meta_policy() -> String {
    format!(
        "default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; \
         style-src {}; img-src data:; form-action 'none'; base-uri 'none'",
        style_source()
    )
}

fn head(html: &mut Html, lang: Lang, title: &str) {
    head_with_policy(html, lang, title, &meta_policy());
}

fn head_with_policy(html: &mut Html, lang: Lang, title: &str, policy: &str) {
    html.raw("<!DOCTYPE html>\n")
        .open("html", &[("lang", lang.code())])
        .raw("<head><meta charset=\"utf-8\">")
        .raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .raw("<meta name=\"referrer\" content=\"no-referrer\">")
        .open(
            "meta",
            &[
                ("http-equiv", "Content-Security-Policy"),
                ("content", policy),
            ],
        )
        .element("title", &[], title)
        // An empty icon, so that browsers do not ask for /favicon.ico.
        .raw("<link rel=\"icon\" href=\"data:,\">")
        .raw("<style>")
        .raw(stylesheet())
        .raw("</style></head>\n<body>");
}

fn lang_nav(html: &mut Html, words: Words, links: &LangLinks, home: Option<&str>) {
    html.open("nav", &[("aria-label", &words.get("lang-nav"))]);
    if let Some(home) = home {
        html.element("a", &[("href", home)], &words.get("home-link"));
    }
    for lang in LANGS {
        let href = links.href(lang);
        if lang == words.lang() {
            html.element(
                "a",
                &[
                    ("href", &href),
                    ("hreflang", lang.code()),
                    ("lang", lang.code()),
                    ("aria-current", "page"),
                ],
                lang.native_name(),
            );
        } else {
            html.element(
                "a",
                &[
                    ("href", &href),
                    ("hreflang", lang.code()),
                    ("lang", lang.code()),
                ],
                lang.native_name(),
            );
        }
    }
    html.close("nav");
}

fn footer(html: &mut Html, words: Words) {
    html.raw("<footer>")
        .element("p", &[], &words.get("no-script"))
        .close("footer")
        .raw("</body></html>\n");
}

/// `part / whole` in tenths of a percent, rounded half up.
fn tenths(part: u64, whole: u64) -> u64 {
    if whole == 0 {
        return 0;
    }
    let (part, whole) = (u128::from(part), u128::from(whole));
    u64::try_from((part * 1000 + whole / 2) / whole).unwrap_or(1000)
}

/// A share as the page writes it: `76.0%` (`76,0%` in Belarusian and Russian).
pub fn percent_text(part: u64, whole: u64, lang: Lang) -> String {
    let t = tenths(part, whole);
    format!("{}{}{}%", t / 10, lang.decimal_separator(), t % 10)
}

/// The width class of a bar for `part / whole`: `w0`..`w100`, at least `w1` for a non-zero part.
fn width_class(part: u64, whole: u64) -> String {
    let t = tenths(part, whole);
    let mut w = (t + 5) / 10;
    if part > 0 && w == 0 {
        w = 1;
    }
    format!("fill w{}", w.min(100))
}

fn label_of(words: Words, code: Option<u16>, label: &str) -> String {
    match code {
        None => words.get("label-undisclosed"),
        Some(0) => words.get("label-unset"),
        Some(_) => label.to_owned(),
    }
}

/// The interval in words: "hour", "30 minutes" ("час", "30 минут").
fn every_text(words: Words, seconds: u64) -> String {
    let (id, n) = if seconds.is_multiple_of(86_400) {
        ("every-days", seconds / 86_400)
    } else if seconds.is_multiple_of(3600) {
        ("every-hours", seconds / 3600)
    } else if seconds.is_multiple_of(60) {
        ("every-minutes", seconds / 60)
    } else {
        ("every-seconds", seconds)
    };
    words.with(id, &[("n", Arg::Num(n))])
}

fn window_message(words: Words, window: CheckpointWindow) -> String {
    match window.max {
        Some(max) if max == window.min => {
            words.with("accepted-one", &[("min", Arg::Num(window.min))])
        }
        Some(max) => words.with(
            "accepted-range",
            &[("min", Arg::Num(window.min)), ("max", Arg::Num(max))],
        ),
        None => words.with("accepted-open", &[("min", Arg::Num(window.min))]),
    }
}

fn state_message(state: State) -> &'static str {
    match state {
        State::Open => "state-open",
        State::Closed => "state-closed",
        State::Static => "state-static",
    }
}

/// Renders one petition's page in `lang`. `home` links back to a collector's index.
pub fn render_petition(
    page: &PetitionPage,
    lang: Lang,
    links: &LangLinks,
    home: Option<&str>,
) -> String {
    render_petition_with(page, lang, links, home, false)
}

/// [`render_petition`], with a link to the "verify in your browser" page in the same language
/// when `browser_verify` (a static site that ships the auditor's Web Worker). The page itself
/// stays script-free.
pub fn render_petition_with(
    page: &PetitionPage,
    lang: Lang,
    links: &LangLinks,
    home: Option<&str>,
    browser_verify: bool,
) -> String {
    let words = Words::new(lang);
    let mut html = Html::new();
    head(
        &mut html,
        lang,
        &words.with("page-title", &[("title", Arg::Str(&page.title))]),
    );
    lang_nav(&mut html, words, links, home);
    html.raw("<main>");
    html.element("h1", &[("id", "title"), ("dir", "auto")], &page.title);
    html.element(
        "p",
        &[("class", "note"), ("id", "state")],
        &words.get(state_message(page.state)),
    );

    // The count.
    html.raw("<section id=\"count\">")
        .open("p", &[("class", "total")])
        .element("span", &[("id", "total")], &page.count.to_string())
        .close("p")
        .element(
            "p",
            &[],
            &words.with("count-label", &[("count", Arg::Num(page.count))]),
        )
        .element("p", &[("class", "note")], &words.get("count-explain"))
        .element("p", &[], &window_message(words, page.accepted));
    let bound = page.double_count_bound;
    if bound.members > 0 {
        html.element(
            "p",
            &[("class", "warn"), ("id", "double-count")],
            &words.with(
                "double-bound",
                &[
                    ("members", Arg::Num(bound.members)),
                    ("first", Arg::Num(bound.first.unwrap_or(0))),
                    ("last", Arg::Num(bound.last.unwrap_or(0))),
                ],
            ),
        );
    }
    html.raw("</section>");

    breakdown(&mut html, words, page);
    groups(&mut html, words, page);
    roots(&mut html, words, page);
    publication(&mut html, words, page.publication);

    html.raw("<section id=\"text\">")
        .element("h2", &[], &words.get("text-heading"))
        .element("div", &[("class", "text"), ("dir", "auto")], &page.text)
        .raw("</section>");

    let browser_href = browser_verify.then(|| match links {
        LangLinks::Query => format!("{}/verify?lang={}", page.id, lang.code()),
        LangLinks::Files | LangLinks::VerifyFiles => verify_file_name(lang),
    });
    verify(&mut html, words, page, browser_href.as_deref());
    html.raw("</main>");
    footer(&mut html, words);
    html.finish()
}

fn breakdown(html: &mut Html, words: Words, page: &PetitionPage) {
    // Nothing counted yet: no table of nothing.
    if page.breakdown.is_empty() || page.count == 0 {
        return;
    }
    html.raw("<section id=\"breakdown\">")
        .element("h2", &[], &words.get("breakdown-heading"))
        .element("p", &[("class", "note")], &words.get("breakdown-note"));
    for slot in &page.breakdown {
        let slot_index = slot.slot.to_string();
        html.open(
            "table",
            &[("class", "breakdown"), ("data-slot", &slot_index)],
        )
        .element(
            "caption",
            &[],
            &words.with("breakdown-by", &[("slot", Arg::Str(&slot.name))]),
        )
        .raw("<thead><tr>")
        .element("th", &[("scope", "col")], &words.get("col-value"))
        .element(
            "th",
            &[("scope", "col"), ("class", "n")],
            &words.get("col-count"),
        )
        .element(
            "th",
            &[("scope", "col"), ("class", "n")],
            &words.get("col-percent"),
        )
        .element("th", &[("scope", "col")], &words.get("col-bar"))
        .raw("</tr></thead><tbody>");
        for row in &slot.rows {
            let code = row
                .code
                .map_or_else(|| "none".to_owned(), |c| c.to_string());
            html.open("tr", &[("data-code", &code)])
                .element(
                    "th",
                    &[("scope", "row"), ("dir", "auto")],
                    &label_of(words, row.code, &row.label),
                )
                .element("td", &[("class", "n count")], &row.count.to_string())
                .element(
                    "td",
                    &[("class", "n")],
                    &percent_text(row.count, page.count, words.lang()),
                )
                // The bar repeats the number beside it: hidden from screen readers.
                .raw("<td class=\"b\" aria-hidden=\"true\"><span class=\"bar\">")
                .open("span", &[("class", &width_class(row.count, page.count))])
                .raw("</span></span></td></tr>");
        }
        html.raw("</tbody></table>");
    }
    html.raw("</section>");
}

/// Slot → code → label, from the breakdown (every code a counted signature disclosed is in it).
fn labels(page: &PetitionPage) -> BTreeMap<(usize, u16), &str> {
    page.breakdown
        .iter()
        .flat_map(|slot| {
            slot.rows
                .iter()
                .filter_map(move |row| Some(((slot.slot, row.code?), row.label.as_str())))
        })
        .collect()
}

fn group_text(words: Words, page: &PetitionPage, group: &Group) -> String {
    let labels = labels(page);
    let names: BTreeMap<usize, &str> = page
        .breakdown
        .iter()
        .map(|s| (s.slot, s.name.as_str()))
        .collect();
    let parts: Vec<String> = (0..4usize)
        .filter(|s| group.mask & (1u8 << s) != 0)
        .map(|s| {
            let code = group.codes[s];
            let name = names
                .get(&s)
                .map_or_else(|| format!("slot{s}"), |n| (*n).to_owned());
            let label = match code {
                0 => words.get("label-unset"),
                c => labels
                    .get(&(s, c))
                    .map_or_else(|| format!("code {c}"), |l| (*l).to_owned()),
            };
            format!("{name}: {label}")
        })
        .collect();
    if parts.is_empty() {
        words.get("groups-nothing")
    } else {
        parts.join(", ")
    }
}

fn groups(html: &mut Html, words: Words, page: &PetitionPage) {
    if page.groups.is_empty() {
        return;
    }
    let anonymity = page.groups.iter().all(|g| g.anonymity_set.is_some());
    let mut sorted: Vec<&Group> = page.groups.iter().collect();
    sorted.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then((a.mask, a.codes).cmp(&(b.mask, b.codes)))
    });
    html.raw("<section id=\"groups\">")
        .element("h2", &[], &words.get("groups-heading"))
        .element("p", &[("class", "note")], &words.get("groups-note"))
        .raw("<table class=\"groups\"><thead><tr>")
        .element("th", &[("scope", "col")], &words.get("col-group"))
        .element(
            "th",
            &[("scope", "col"), ("class", "n")],
            &words.get("col-count"),
        );
    if anonymity {
        html.element(
            "th",
            &[("scope", "col"), ("class", "n")],
            &words.get("col-anonymity"),
        );
    }
    html.raw("</tr></thead><tbody>");
    for group in sorted.iter().take(MAX_GROUP_ROWS) {
        let mask = group.mask.to_string();
        let codes = group
            .codes
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(",");
        html.open("tr", &[("data-mask", &mask), ("data-codes", &codes)])
            .element(
                "th",
                &[("scope", "row"), ("dir", "auto")],
                &group_text(words, page, group),
            )
            .element("td", &[("class", "n count")], &group.count.to_string());
        if let (true, Some(set)) = (anonymity, group.anonymity_set) {
            html.element("td", &[("class", "n anonymity")], &set.to_string());
        }
        html.raw("</tr>");
    }
    html.raw("</tbody></table>");
    let more = sorted.len().saturating_sub(MAX_GROUP_ROWS) as u64;
    if more > 0 {
        html.element(
            "p",
            &[("class", "note")],
            &words.with("groups-more", &[("more", Arg::Num(more))]),
        );
    }
    html.element(
        "p",
        &[("class", "note")],
        &words.get(if anonymity {
            "anonymity-note"
        } else {
            "anonymity-missing"
        }),
    );
    html.raw("</section>");
}

fn roots(html: &mut Html, words: Words, page: &PetitionPage) {
    if page.roots.is_empty() {
        return;
    }
    html.raw("<section id=\"roots\">")
        .element("h2", &[], &words.get("roots-heading"))
        .raw("<table class=\"roots\"><thead><tr>")
        .element(
            "th",
            &[("scope", "col"), ("class", "n")],
            &words.get("col-checkpoint"),
        )
        .element("th", &[("scope", "col")], &words.get("col-root"))
        .element(
            "th",
            &[("scope", "col"), ("class", "n")],
            &words.get("col-count"),
        )
        .raw("</tr></thead><tbody>");
    for root in &page.roots {
        html.raw("<tr>")
            .element(
                "th",
                &[("scope", "row"), ("class", "n")],
                &root.checkpoint.to_string(),
            )
            .element("td", &[("class", "hash")], &root.root)
            .element("td", &[("class", "n count")], &root.count.to_string())
            .raw("</tr>");
    }
    html.raw("</tbody></table></section>");
}

fn publication(html: &mut Html, words: Words, publication: Publication) {
    html.raw("<section id=\"publication\">")
        .element("h2", &[], &words.get("publication-heading"));
    match publication {
        Publication::Collector {
            publications,
            every_seconds,
            min,
        } => {
            html.element(
                "p",
                &[("id", "publications")],
                &words.with(
                    "publication-count",
                    &[("publications", Arg::Num(publications))],
                ),
            )
            .element(
                "p",
                &[("class", "note")],
                &words.with(
                    "publication-schedule",
                    &[
                        ("every", Arg::Str(&every_text(words, every_seconds))),
                        ("min", Arg::Num(min)),
                    ],
                ),
            );
        }
        Publication::Static => {
            html.element("p", &[], &words.get("publication-static"));
        }
    }
    html.raw("</section>");
}

fn verify(html: &mut Html, words: Words, page: &PetitionPage, browser_href: Option<&str>) {
    html.raw("<section id=\"verify\">")
        .element("h2", &[], &words.get("verify-heading"));
    if let Some(href) = browser_href {
        html.open("p", &[("id", "browser-verify-link")])
            .element("a", &[("href", href)], &words.get("browser-verify-link"))
            .close("p");
    }
    html.element("p", &[], &words.get("verify-intro"))
        .open("pre", &[("id", "audit-command")])
        .element("code", &[], &page.audit_command)
        .close("pre")
        .raw("<dl>")
        .element("dt", &[], &words.get("verify-id"))
        .element("dd", &[("class", "hash"), ("id", "petition-id")], &page.id)
        .element("dt", &[], &words.get("verify-registrar"))
        .element(
            "dd",
            &[("class", "hash"), ("id", "registrar-key")],
            &page.registrar_key,
        )
        .element("dt", &[], &words.get("verify-vk"))
        .open("dd", &[])
        .element(
            "span",
            &[("class", "hash"), ("id", "vk-hash")],
            &page.verifying_key_hash,
        )
        .raw("<br>");
    if page.verifying_key_pinned {
        html.element("span", &[("class", "note")], &words.get("verify-pinned"));
    } else {
        html.element("span", &[("class", "warn")], &words.get("verify-unpinned"));
    }
    html.raw("</dd></dl>");
    if let Some(ceremony) = &page.ceremony {
        html.raw("<div id=\"ceremony\">")
            .element("h2", &[], &words.get("ceremony-heading"))
            .element("p", &[("class", "note")], &words.get("ceremony-note"));
        for (id, hashes) in [
            ("ceremony-phase1", &ceremony.phase1),
            ("ceremony-phase2", &ceremony.phase2),
        ] {
            html.element("h3", &[], &words.get(id))
                .open("ol", &[("class", "hash"), ("id", id)]);
            for hash in hashes {
                html.element("li", &[], hash);
            }
            html.raw("</ol>");
        }
        if let Some((value, exponent)) = &ceremony.beacon {
            html.element(
                "p",
                &[("class", "note")],
                &words.with(
                    "ceremony-beacon",
                    &[
                        ("value", Arg::Str(value)),
                        ("exponent", Arg::Num(u64::from(*exponent))),
                    ],
                ),
            );
        }
        html.raw("</div>");
    }
    if !page.downloads.is_empty() {
        html.element("h2", &[], &words.get("downloads-heading"))
            .raw("<ul id=\"downloads\">");
        for download in &page.downloads {
            html.raw("<li>");
            match &download.file_name {
                Some(name) => html.open("a", &[("href", &download.href), ("download", name)]),
                None => html.open("a", &[("href", &download.href)]),
            };
            html.text(&words.get(download.kind.message()))
                .close("a")
                .raw("</li>");
        }
        html.raw("</ul>");
    }
    html.raw("</section>");
}

/// Renders the "verify in your browser" page of a static site in `lang`: the published count
/// and breakdown in a table, with an empty column the script ([`VERIFY_SCRIPT`], loaded from
/// `files.script`) fills with what the JavaScript auditor counted in the reader's browser, a
/// progress bar, and whether the two agree. The only page with a script; its policy is
/// [`verify_content_security_policy`]. Every text is escaped; the script's words are in
/// `data-*` attributes (escaped like any attribute) and it writes them as text.
pub fn render_verify(page: &PetitionPage, lang: Lang, files: &VerifyPageFiles) -> String {
    render_verify_with(page, lang, files, &LangLinks::VerifyFiles)
}

/// [`render_verify`], with its language links as `links` says: a collector serves the page at
/// `/petitions/<id>/verify` and links the other languages with [`LangLinks::Query`].
pub fn render_verify_with(
    page: &PetitionPage,
    lang: Lang,
    files: &VerifyPageFiles,
    links: &LangLinks,
) -> String {
    let words = Words::new(lang);
    let mut html = Html::new();
    head_with_policy(
        &mut html,
        lang,
        &words.with("browser-verify-title", &[("title", Arg::Str(&page.title))]),
        &verify_meta_policy(),
    );
    lang_nav(&mut html, words, links, None);
    html.raw("<main>")
        .open("p", &[])
        .element(
            "a",
            &[("href", &files.tally_page)],
            &words.get("browser-verify-back"),
        )
        .close("p")
        .element("h1", &[], &words.get("browser-verify-heading"))
        .element(
            "p",
            &[("id", "title"), ("class", "note"), ("dir", "auto")],
            &page.title,
        )
        .element("p", &[], &words.get("browser-verify-intro"))
        .raw("<noscript>")
        .element(
            "p",
            &[("class", "warn")],
            &words.get("browser-verify-noscript"),
        )
        .raw("</noscript>");
    let vk_hash = if page.verifying_key_pinned {
        page.verifying_key_hash.as_str()
    } else {
        ""
    };
    html.open(
        "section",
        &[
            ("id", "browser-verify"),
            ("data-bundle", &files.bundle),
            ("data-report", &files.report),
            ("data-worker", &files.worker),
            ("data-registrar-key", &page.registrar_key),
            ("data-vk-hash", vk_hash),
            ("data-running", &words.get("browser-verify-running")),
            ("data-done", &words.get("browser-verify-done")),
            ("data-failed", &words.get("browser-verify-failed")),
            ("data-agree", &words.get("browser-verify-agree")),
            ("data-disagree", &words.get("browser-verify-disagree")),
            ("data-result", "waiting"),
        ],
    )
    .element(
        "button",
        &[("id", "verify-start"), ("type", "button")],
        &words.get("browser-verify-start"),
    )
    .raw("<progress id=\"verify-progress\" value=\"0\" max=\"1\"></progress>")
    .element(
        "p",
        &[("id", "verify-status"), ("role", "status")],
        &words.get("browser-verify-waiting"),
    )
    .element("p", &[("id", "verify-verdict"), ("role", "status")], "")
    .raw("<table id=\"verify-table\">")
    .element("caption", &[], &words.get("browser-verify-caption"))
    .raw("<thead><tr>")
    .element("th", &[("scope", "col")], &words.get("col-value"))
    .element(
        "th",
        &[("scope", "col"), ("class", "n")],
        &words.get("browser-verify-published"),
    )
    .element(
        "th",
        &[("scope", "col"), ("class", "n")],
        &words.get("browser-verify-browser"),
    )
    .raw("</tr></thead><tbody><tr id=\"verify-count-row\">")
    .element(
        "th",
        &[("scope", "row")],
        &words.get("browser-verify-count"),
    )
    .element(
        "td",
        &[("class", "n published"), ("id", "published-count")],
        &page.count.to_string(),
    )
    .element("td", &[("class", "n"), ("id", "browser-count")], "—")
    .raw("</tr>");
    for slot in &page.breakdown {
        let slot_index = slot.slot.to_string();
        for row in &slot.rows {
            let code = row
                .code
                .map_or_else(|| "none".to_owned(), |c| c.to_string());
            let label = format!("{}: {}", slot.name, label_of(words, row.code, &row.label));
            html.open("tr", &[("data-slot", &slot_index), ("data-code", &code)])
                .element("th", &[("scope", "row"), ("dir", "auto")], &label)
                .element("td", &[("class", "n published")], &row.count.to_string())
                .element("td", &[("class", "n browser")], "—")
                .raw("</tr>");
        }
    }
    html.raw("</tbody></table></section>")
        .open("script", &[("type", "module"), ("src", &files.script)])
        .close("script")
        .raw("</main><footer>")
        .element("p", &[], &words.get("browser-verify-footer"))
        .close("footer")
        .raw("</body></html>\n");
    html.finish()
}

/// Renders a collector's index: every petition it holds, open ones first, with its published
/// count, each linking to `petitions/<id>` in the same language.
pub fn render_index(entries: &[IndexEntry], lang: Lang) -> String {
    let words = Words::new(lang);
    let mut html = Html::new();
    let title = words.get("index-title");
    head(&mut html, lang, &title);
    lang_nav(&mut html, words, &LangLinks::Query, None);
    html.raw("<main>").element("h1", &[], &title).element(
        "p",
        &[("class", "note")],
        &words.get("index-intro"),
    );
    if entries.is_empty() {
        html.element("p", &[], &words.get("index-empty"));
    } else {
        let mut sorted: Vec<&IndexEntry> = entries.iter().collect();
        sorted.sort_by(|a, b| (a.closed, &a.title, &a.id).cmp(&(b.closed, &b.title, &b.id)));
        html.raw("<table class=\"index\"><thead><tr>")
            .element("th", &[("scope", "col")], &words.get("col-petition"))
            .element(
                "th",
                &[("scope", "col"), ("class", "n")],
                &words.get("col-count"),
            )
            .element("th", &[("scope", "col")], &words.get("col-state"))
            .raw("</tr></thead><tbody>");
        for entry in sorted {
            let href = format!("petitions/{}?lang={}", entry.id, lang.code());
            html.open("tr", &[("data-id", &entry.id)])
                .raw("<th scope=\"row\">")
                .element("a", &[("href", &href), ("dir", "auto")], &entry.title)
                .raw("</th>")
                .element("td", &[("class", "n count")], &entry.count.to_string())
                .element(
                    "td",
                    &[],
                    &words.get(if entry.closed {
                        "state-closed"
                    } else {
                        "state-open"
                    }),
                )
                .raw("</tr>");
        }
        html.raw("</tbody></table>");
    }
    html.raw("</main>");
    footer(&mut html, words);
    html.finish()
}

/// A page saying there is no such petition, linking to `home`.
pub fn render_not_found(lang: Lang, home: &str) -> String {
    let words = Words::new(lang);
    let mut html = Html::new();
    let title = words.get("not-found-title");
    head(&mut html, lang, &title);
    lang_nav(&mut html, words, &LangLinks::Query, Some(home));
    html.raw("<main>")
        .element("h1", &[], &title)
        .element("p", &[], &words.get("not-found-text"))
        .raw("</main>");
    footer(&mut html, words);
    html.finish()
}

#[cfg(test)]
mod tests;
