use super::*;
use crate::i18n::Messages;
use undersign_tally::bundle::BreakdownRow;

const HOSTILE: &str = "<script>alert('x')</script><img src=//evil.example/x.png>\"&";

fn message_ids(lang: Lang) -> Vec<String> {
    let source = match lang {
        Lang::En => include_str!("../locales/en.ftl"),
        Lang::Be => include_str!("../locales/be.ftl"),
        Lang::Ru => include_str!("../locales/ru.ftl"),
    };
    source
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
        .filter_map(|l| l.split_once(" =").map(|(id, _)| id.trim().to_owned()))
        .collect()
}

fn row(code: Option<u16>, label: &str, count: u64) -> BreakdownRow {
    BreakdownRow {
        code,
        label: label.into(),
        count,
    }
}

fn sample(title: &str) -> PetitionPage {
    PetitionPage {
        id: "ab".repeat(32),
        title: title.into(),
        text: format!("Line one.\n{HOSTILE}\nАпошні радок."),
        state: State::Open,
        count: 100,
        breakdown: vec![
            SlotBreakdown {
                slot: 0,
                name: "status".into(),
                rows: vec![
                    row(None, "undisclosed", 10),
                    row(Some(1), "current", 66),
                    row(Some(2), HOSTILE, 24),
                ],
            },
            SlotBreakdown {
                slot: 1,
                name: format!("ministry {HOSTILE}"),
                rows: vec![row(None, "undisclosed", 99), row(Some(0), "unset", 1)],
            },
        ],
        groups: vec![
            Group {
                mask: 0,
                codes: [0; 4],
                count: 10,
                anonymity_set: Some(1000),
            },
            Group {
                mask: 1,
                codes: [2, 0, 0, 0],
                count: 24,
                anonymity_set: Some(240),
            },
            Group {
                mask: 3,
                codes: [1, 0, 0, 0],
                count: 66,
                anonymity_set: Some(20),
            },
        ],
        accepted: CheckpointWindow {
            min: 2,
            max: Some(5),
        },
        double_count_bound: DoubleCountBound {
            members: 3,
            first: Some(2),
            last: Some(5),
        },
        roots: vec![RootCount {
            checkpoint: 5,
            root: format!("0x{}", "12".repeat(32)),
            count: 100,
        }],
        registrar_key: "cd".repeat(32),
        verifying_key_hash: "ef".repeat(32),
        verifying_key_pinned: false,
        ceremony: Some(Ceremony {
            phase1: vec!["01".repeat(32), "02".repeat(32)],
            phase2: vec!["03".repeat(32)],
            beacon: Some(("ab".repeat(8), 24)),
        }),
        publication: Publication::Collector {
            publications: 3,
            every_seconds: 3600,
            min: 20,
        },
        downloads: vec![Download {
            kind: DownloadKind::Bundle,
            href: format!("/v1/petitions/{}/bundle", "ab".repeat(32)),
            file_name: Some("bundle.jsonl".into()),
        }],
        audit_command: format!("undersign audit bundle.jsonl --registrar-key {HOSTILE}"),
    }
}

/// Every `href="..."` and `src="..."` value in `html`.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        let mut rest = html;
        while let Some(at) = rest.find(attr) {
            rest = &rest[at + attr.len()..];
            let end = rest.find('"').unwrap_or(rest.len());
            out.push(rest[..end].to_owned());
        }
    }
    out
}

#[test]
fn every_language_loads_and_has_every_message() {
    let english = message_ids(Lang::En);
    assert!(english.len() > 50, "{english:?}");
    for lang in LANGS {
        let messages = Messages::load(lang).unwrap();
        let ids = message_ids(lang);
        assert_eq!(ids, english, "{lang}: the same messages in the same order");
        for id in &ids {
            assert!(messages.has(id), "{lang} lacks {id}");
        }
    }
}

#[test]
fn plural_forms_follow_each_language() {
    let count = |lang, n| Words::new(lang).with("count-label", &[("count", Arg::Num(n))]);
    assert_eq!(count(Lang::En, 1), "verified signature");
    assert_eq!(count(Lang::En, 2), "verified signatures");
    assert_eq!(count(Lang::Ru, 1), "проверенная подпись");
    assert_eq!(count(Lang::Ru, 3), "проверенные подписи");
    assert_eq!(count(Lang::Ru, 11), "проверенных подписей");
    assert_eq!(count(Lang::Ru, 21), "проверенная подпись");
    assert_eq!(count(Lang::Be, 2), "правераныя подпісы");
    assert_eq!(count(Lang::Be, 5), "правераных подпісаў");
    assert_eq!(every_text(Words::new(Lang::En), 3600), "hour");
    assert_eq!(every_text(Words::new(Lang::En), 5400), "90 minutes");
    assert_eq!(every_text(Words::new(Lang::Ru), 7200), "2 часа");
    assert_eq!(every_text(Words::new(Lang::Be), 86_400 * 5), "5 дзён");
    // A message missing everywhere shows its id rather than nothing.
    assert_eq!(
        Words::new(Lang::Be).get("no-such-message"),
        "no-such-message"
    );
}

#[test]
fn numbers_and_shares_are_written_per_language() {
    assert_eq!(percent_text(66, 100, Lang::En), "66.0%");
    assert_eq!(percent_text(2, 3, Lang::Ru), "66,7%");
    assert_eq!(percent_text(0, 0, Lang::En), "0.0%");
    assert_eq!(width_class(1, 100_000), "fill w1");
    assert_eq!(width_class(0, 10), "fill w0");
    assert_eq!(width_class(10, 10), "fill w100");
    assert_eq!(width_class(2, 3), "fill w67");
}

#[test]
fn text_from_files_is_escaped_everywhere() {
    let title = format!("Stop {HOSTILE}");
    let page = sample(&title);
    for lang in LANGS {
        let html = render_petition(&page, lang, &LangLinks::Query, Some("/"));
        assert!(!html.contains("<script"), "{lang}");
        assert!(!html.contains("<img"), "{lang}");
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        // The title appears as text in <title> and <h1>.
        assert!(html.contains(
            "<h1 id=\"title\" dir=\"auto\">Stop &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
        ));
        assert!(html.contains("<title>Stop &lt;script&gt;"));
    }
    let index = render_index(
        &[IndexEntry {
            id: "ab".repeat(32),
            title: title.clone(),
            count: 7,
            closed: false,
        }],
        Lang::En,
    );
    assert!(!index.contains("<script"));
    assert!(index.contains("Stop &lt;script&gt;"));
}

#[test]
fn the_page_loads_nothing_and_links_nowhere_else() {
    let page = sample("Open letter");
    for lang in LANGS {
        for html in [
            render_petition(&page, lang, &LangLinks::Files, None),
            render_petition(&page, lang, &LangLinks::Query, Some("/")),
            render_index(&[], lang),
            render_not_found(lang, "/"),
        ] {
            for link in links(&html) {
                assert!(
                    !link.contains("//") && !link.contains(':') || link == "data:,",
                    "{lang}: {link} may leave this host"
                );
            }
            assert!(!html.contains("<script"));
            assert!(
                !html.contains(" style=\""),
                "no style attributes: the CSP forbids them"
            );
            assert_eq!(html.matches("<style>").count(), 1);
            // The policy travels in a <meta> element too (escaped inside its attribute).
            let policy = format!("style-src {};", style_source());
            assert!(html.contains(&*html::escape(&policy)), "{lang}");
        }
    }
}

#[test]
fn the_style_hash_is_the_hash_of_the_style_element() {
    let html = render_petition(&sample("x"), Lang::En, &LangLinks::Query, None);
    let start = html.find("<style>").unwrap() + "<style>".len();
    let end = html.find("</style>").unwrap();
    let css = &html[start..end];
    let digest = Sha256::digest(css.as_bytes());
    let expected = format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    );
    assert_eq!(style_source(), expected);
    assert!(content_security_policy().starts_with("default-src 'none'; style-src 'sha256-"));
    assert!(content_security_policy().contains("frame-ancestors 'none'"));
    // sha256("abc") in base64, the encoder's known answer.
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"abc")),
        "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
    );
}

#[test]
fn the_numbers_are_in_tables_with_bars_and_words() {
    let page = sample("Open letter");
    let html = render_petition(&page, Lang::En, &LangLinks::Query, Some("/"));
    assert!(html.contains("<span id=\"total\">100</span>"));
    assert!(html.contains("<table class=\"breakdown\" data-slot=\"0\">"));
    assert!(html.contains(
        "<tr data-code=\"1\"><th scope=\"row\" dir=\"auto\">current</th><td class=\"n count\">66</td><td class=\"n\">66.0%</td>"
    ));
    assert!(html.contains(
        "<th scope=\"row\" dir=\"auto\">not disclosed</th><td class=\"n count\">10</td>"
    ));
    assert!(html.contains("<span class=\"fill w66\"></span>"));
    assert!(html.contains(
        "Up to 3 may be counted twice: 3 members were removed between checkpoints 2 and 5"
    ));
    assert!(html.contains("Published 3 times so far."));
    assert!(html.contains("at most once every hour, and only when at least 20 are waiting"));
    assert!(html.contains("<td class=\"n anonymity\">240</td>"));
    assert!(html.contains(">status: current, ministry "), "{html}");
    assert!(html.contains("Not pinned"));
    assert!(html.contains("href=\"?lang=be\""));
    assert!(html.contains(&format!("<li>{}</li>", "02".repeat(32))));
    assert!(html.contains("hashed 2^24 times"));
    let be = render_petition(&page, Lang::Be, &LangLinks::Files, None);
    assert!(be.contains("<html lang=\"be\">"));
    assert!(be.contains("href=\"index.ru.html\""));
    assert!(be.contains("66,0%"));
    assert!(be.contains("Апублікавана 3 разы."));
}

#[test]
fn many_combinations_keep_the_page_small() {
    let mut page = sample("Open letter");
    let names: Vec<String> = (0..4).map(|s| format!("slot name {s}")).collect();
    page.breakdown = (0..4)
        .map(|s| SlotBreakdown {
            slot: s,
            name: names[s].clone(),
            rows: (1..=20)
                .map(|c| row(Some(c), &format!("a fairly long label {c}"), 5_000))
                .collect(),
        })
        .collect();
    page.count = 100_000;
    page.groups = (0..10_000u16)
        .map(|i| Group {
            mask: 15,
            codes: [1 + i % 20, 1 + i / 20 % 20, 1 + i / 400 % 20, 1],
            count: 10,
            anonymity_set: None,
        })
        .collect();
    for lang in LANGS {
        let html = render_petition(&page, lang, &LangLinks::Query, Some("/"));
        assert!(html.len() < 100_000, "{lang}: {} bytes", html.len());
        assert_eq!(html.matches("data-mask=").count(), MAX_GROUP_ROWS);
    }
    let html = render_petition(&page, Lang::En, &LangLinks::Query, None);
    assert!(html.contains("and 9900 more combinations"));
}

#[test]
fn the_verify_page_has_one_script_from_the_site_and_escapes_everything() {
    let title = format!("Stop {HOSTILE}");
    let mut page = sample(&title);
    page.registrar_key = format!("k{HOSTILE}");
    let files = VerifyPageFiles {
        bundle: "bundle.jsonl".into(),
        report: "audit.json".into(),
        worker: WORKER_FILE.into(),
        script: VERIFY_SCRIPT_FILE.into(),
        tally_page: "index.en.html".into(),
    };
    for lang in LANGS {
        let html = render_verify(&page, lang, &files);
        assert_eq!(html.matches("<script").count(), 1, "{lang}");
        assert!(html.contains("<script type=\"module\" src=\"undersign-verify.js\"></script>"));
        assert!(!html.contains("<img"), "{lang}");
        assert!(html.contains("Stop &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(
            html.contains(&*html::escape(&verify_meta_policy())),
            "{lang}"
        );
        assert!(!html.contains(" style=\""));
        for link in links(&html) {
            assert!(
                !link.contains("//") && !link.contains(':') || link == "data:,",
                "{lang}: {link} may leave this host"
            );
        }
        // Every published number has a row the script fills.
        for slot in &page.breakdown {
            for row in &slot.rows {
                let code = row.code.map_or("none".to_owned(), |c| c.to_string());
                assert!(html.contains(&format!(
                    "<tr data-slot=\"{}\" data-code=\"{code}\">",
                    slot.slot
                )));
            }
        }
    }
    assert!(verify_content_security_policy().starts_with(
        "default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; style-src"
    ));
    assert!(verify_content_security_policy().ends_with("frame-ancestors 'none'"));
    // The tally page links to it only when asked, and stays script-free.
    let plain = render_petition(&page, Lang::Be, &LangLinks::Files, None);
    assert!(!plain.contains("verify.be.html"));
    let linked = render_petition_with(&page, Lang::Be, &LangLinks::Files, None, true);
    assert!(linked.contains("<a href=\"verify.be.html\">"));
    assert!(!linked.contains("<script"));
}
